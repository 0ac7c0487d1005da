-- How many rows each reason refused, per table, across all loads kept.
SELECT table_name, split_part(reason, ':', 1) AS reason, count(*) AS rows
FROM rejected_rows
GROUP BY table_name, split_part(reason, ':', 1)
ORDER BY rows DESC

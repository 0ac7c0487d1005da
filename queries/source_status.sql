-- Per configured source (by the name its loads record): its newest load and the rows
-- it holds now in the contract's tables. A source never loaded has no row.
WITH wanted AS (
    SELECT unnest($sources::VARCHAR[]) AS source
), newest AS (
    SELECT source, max(load_id) AS load_id
    FROM load_log
    WHERE source IN (SELECT source FROM wanted)
    GROUP BY source
), held AS (
    SELECT source, count(*) AS rows_held
    FROM (
        SELECT source FROM cost_events
        UNION ALL SELECT source FROM revenue_events
        UNION ALL SELECT source FROM token_balances
        UNION ALL SELECT source FROM affiliate_events
    )
    WHERE source IN (SELECT source FROM wanted)
    GROUP BY source
)
SELECT l.source, l.finished AS last_load, l.status, l.rows_read, l.rows_written,
       l.rows_rejected, l.error, coalesce(h.rows_held, 0) AS rows_held
FROM newest n
JOIN load_log l USING (load_id)
LEFT JOIN held h ON h.source = l.source
ORDER BY l.source

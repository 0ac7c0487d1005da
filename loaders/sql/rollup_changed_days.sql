-- The days whose marks (rollup_marks.sql) moved since the last refresh: they are rolled up
-- again, and every other day is kept.
CREATE OR REPLACE TEMP TABLE rollup_changed_days AS
SELECT coalesce(n.day, o.day) AS day
FROM rollup_marks_now n FULL OUTER JOIN rollup_day_marks o USING (day)
WHERE n.day IS NULL OR o.day IS NULL
   OR n.cost_lines <> o.cost_lines OR n.cost_hash <> o.cost_hash
   OR n.revenue_lines <> o.revenue_lines OR n.revenue_hash <> o.revenue_hash;

-- local_span.sql from the rollups' day marks (loaders/sql/rollup_marks.sql): each UTC day's
-- first and last counted cost and revenue instants, kept by every publish, so the span is
-- a row a day rather than every event's instant. The same two values as that file (held
-- equal by tests/test_rollups.py).
WITH bounds AS (
    SELECT min(first_cost_ts) AS lo, max(last_cost_ts) AS hi FROM rollup_day_marks
    UNION ALL
    SELECT min(first_revenue_ts), max(last_revenue_ts) FROM rollup_day_marks
)
SELECT (min(lo) AT TIME ZONE 'UTC') AT TIME ZONE $tz AS first_local,
       (max(hi) AT TIME ZONE 'UTC') AT TIME ZONE $tz AS last_local
FROM bounds

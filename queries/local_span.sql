-- The first and last local instants with data (counted cost or revenue), in $tz: the pickers'
-- default (latest day with data) and the first month of the business (month-1 targets).
WITH bounds AS (
    SELECT min(ts) AS lo, max(ts) AS hi FROM cost_events WHERE counted
    UNION ALL
    SELECT min(ts), max(ts) FROM revenue_events
)
SELECT timezone($tz, min(lo) AT TIME ZONE 'UTC') AS first_local,
       timezone($tz, max(hi) AT TIME ZONE 'UTC') AS last_local
FROM bounds

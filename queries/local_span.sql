-- The first and last local instants with data (counted cost or revenue), in $tz: the pickers'
-- default (latest day with data) and the first month of the business (month-1 targets).
WITH bounds AS (
    SELECT min(ts) AS lo, max(ts) AS hi FROM cost_events WHERE counted
    UNION ALL
    SELECT min(ts), max(ts) FROM revenue_events
)
SELECT (min(lo) AT TIME ZONE 'UTC') AT TIME ZONE $tz AS first_local,
       (max(hi) AT TIME ZONE 'UTC') AT TIME ZONE $tz AS last_local
FROM bounds

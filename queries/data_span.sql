-- The first and last instants (UTC) of any cost or revenue event: pickers list the periods
-- between them, and a 7-day payment window is complete only when the data reaches its end.
SELECT min(ts) AS first_ts, max(ts) AS last_ts
FROM (
    SELECT min(ts) AS ts FROM cost_events UNION ALL SELECT max(ts) FROM cost_events
    UNION ALL
    SELECT min(ts) FROM revenue_events UNION ALL SELECT max(ts) FROM revenue_events
)

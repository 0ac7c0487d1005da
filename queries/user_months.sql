-- The calendar months (reporting timezone $tz) in which one user has a cost or revenue event,
-- newest first, as 'YYYY-MM'.
SELECT DISTINCT strftime((ts AT TIME ZONE 'UTC') AT TIME ZONE $tz, '%Y-%m') AS month
FROM (
    SELECT ts FROM cost_events WHERE user_id = $user
    UNION ALL
    SELECT ts FROM revenue_events WHERE user_id = $user
)
ORDER BY month DESC

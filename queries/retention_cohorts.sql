-- Retention cohorts: users by the local month of their first activity (first counted cost
-- event) and by how many months later they were active again. Events before $end (UTC) only;
-- $tz is the reporting timezone. months_since 0 is the cohort's size.
WITH act AS (
    SELECT DISTINCT user_id,
           CAST(date_trunc('month', (ts AT TIME ZONE 'UTC') AT TIME ZONE $tz) AS DATE) AS month
    FROM cost_events
    WHERE counted AND ts < $end
), first AS (
    SELECT user_id, min(month) AS cohort FROM act GROUP BY user_id
)
SELECT first.cohort,
       datediff('month', first.cohort, act.month)::INTEGER AS months_since,
       count(*)::BIGINT AS users
FROM act JOIN first USING (user_id)
GROUP BY first.cohort, act.month
ORDER BY cohort, months_since

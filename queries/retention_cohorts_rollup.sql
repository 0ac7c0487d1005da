-- retention_cohorts.sql in UTC, read from the month rollups (queries/rollups.py): a row of
-- rollup_cost_months is a user with a counted cost line in that UTC month, so a cohort is a
-- user's first such month. The same rows as retention_cohorts.sql with $tz = 'UTC' and an
-- $end at a UTC month start (tests/test_rollups.py); $end_month is that month.
WITH act AS (
    SELECT user_key, month FROM rollup_cost_months WHERE month < $end_month
), first AS (
    SELECT user_key, min(month) AS cohort FROM act GROUP BY user_key
)
SELECT first.cohort,
       datediff('month', first.cohort, act.month)::INTEGER AS months_since,
       count(*)::BIGINT AS users
FROM act JOIN first USING (user_key)
GROUP BY first.cohort, act.month
ORDER BY cohort, months_since

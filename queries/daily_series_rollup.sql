-- daily_series.sql in UTC, read from rollup_mtd_days (each user-day's month-to-date sums,
-- kept by every publish): a UTC day is a rollup day, so no raw line and no window is read.
-- The same rows as daily_series.sql with $tz = 'UTC' (tests/test_rollups.py); other zones
-- read the raw lines (their days cut UTC days in two). $day_from/$day_to: the UTC days from the first day's month start to the
-- last day; $first_day, $last_day, $target_micro as there. Money here is micro-dollars.
WITH per_day AS (         -- each user-day with its month-to-date sums (UTC months)
    SELECT day, CAST(date_trunc('month', day) AS DATE) AS month, cost_micro AS cost,
           revenue_micro AS revenue, requests AS n_cost, mtd_cost_micro AS cum_cost,
           mtd_revenue_micro AS cum_revenue, mtd_requests AS cum_n
    FROM rollup_mtd_days
    WHERE day >= $day_from AND day < $day_to
), changes AS (           -- status after the day minus status before it (the sums less the day)
    SELECT day, month,
           sum(CAST(cum_n > 0 AS INTEGER) - CAST(cum_n - n_cost > 0 AS INTEGER)) AS d_base,
           sum(CAST(cum_n > 0 AND cum_revenue - cum_cost >= $target_micro AS INTEGER)
               - CAST(cum_n - n_cost > 0
                      AND (cum_revenue - revenue) - (cum_cost - cost) >= $target_micro
                      AS INTEGER)) AS d_target
    FROM per_day
    GROUP BY day, month
), totals AS (
    SELECT day,
           count(*) FILTER (WHERE n_cost > 0) AS active_users,
           count(*) FILTER (WHERE n_cost > 0 AND revenue > 0) AS paying_users,
           CAST(sum(cost) AS BIGINT) AS cost_micro,
           CAST(sum(revenue) AS BIGINT) AS revenue_micro
    FROM per_day
    GROUP BY day
), calendar AS (
    SELECT CAST(d AS DATE) AS day
    FROM (SELECT unnest(generate_series(
              CAST(date_trunc('month', CAST($first_day AS DATE)) AS TIMESTAMP),
              CAST(CAST($last_day AS DATE) AS TIMESTAMP), INTERVAL 1 DAY)) AS d)
), filled AS (
    SELECT calendar.day,
           sum(coalesce(changes.d_base, 0)) OVER m AS mtd_users,
           sum(coalesce(changes.d_target, 0)) OVER m AS users_at_target
    FROM calendar LEFT JOIN changes ON changes.day = calendar.day
    WINDOW m AS (PARTITION BY date_trunc('month', calendar.day) ORDER BY calendar.day
                 ROWS UNBOUNDED PRECEDING)
)
SELECT filled.day,
       coalesce(totals.active_users, 0)::BIGINT AS active_users,
       coalesce(totals.paying_users, 0)::BIGINT AS paying_users,
       coalesce(totals.cost_micro, 0)::BIGINT AS cost_micro,
       coalesce(totals.revenue_micro, 0)::BIGINT AS revenue_micro,
       filled.mtd_users::BIGINT AS mtd_users,
       filled.users_at_target::BIGINT AS users_at_target
FROM filled LEFT JOIN totals ON totals.day = filled.day
WHERE filled.day >= CAST($first_day AS DATE)
ORDER BY filled.day

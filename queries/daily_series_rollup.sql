-- daily_series.sql in UTC, read from the per-user-day rollups (queries/rollups.py): a UTC
-- day is a rollup day, so no raw line is read. The same rows as daily_series.sql with
-- $tz = 'UTC' (tests/test_rollups.py); other zones read the raw lines (their days cut UTC
-- days in two). $day_from/$day_to: the UTC days from the first day's month start to the
-- last day; $first_day, $last_day, $target_micro as there. Money here is micro-dollars.
WITH ev AS (
    SELECT user_key AS user_id, day, cost_micro AS cost, CAST(0 AS BIGINT) AS revenue,
           requests AS n_cost
    FROM rollup_cost_days
    WHERE day >= $day_from AND day < $day_to
    UNION ALL
    SELECT user_key, day, CAST(0 AS BIGINT), revenue_micro, 0
    FROM rollup_revenue_days
    WHERE day >= $day_from AND day < $day_to
), per_day AS (
    SELECT user_id, day, date_trunc('month', day) AS month,
           sum(cost) AS cost, sum(revenue) AS revenue, sum(n_cost) AS n_cost
    FROM ev
    GROUP BY user_id, day
), running AS (          -- each user's month-to-date sums at the end of each of its days
    SELECT day, month, n_cost, cost, revenue,
           sum(n_cost) OVER w AS cum_n, sum(cost) OVER w AS cum_cost,
           sum(revenue) OVER w AS cum_revenue
    FROM per_day
    WINDOW w AS (PARTITION BY user_id, month ORDER BY day ROWS UNBOUNDED PRECEDING)
), changes AS (           -- status after the day minus status before it (the sums less the day)
    SELECT day, month,
           sum(CAST(cum_n > 0 AS INTEGER) - CAST(cum_n - n_cost > 0 AS INTEGER)) AS d_base,
           sum(CAST(cum_n > 0
                    AND cum_revenue - cum_cost >= $target_micro AS INTEGER)
               - CAST(cum_n - n_cost > 0
                      AND (cum_revenue - revenue) - (cum_cost - cost) >= $target_micro AS INTEGER)) AS d_target
    FROM running
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

-- One row per local day in [$first_day, $last_day]: active users, counted cost, revenue and
-- paying users of the day, plus users at target month to date at the end of each day.
-- $tz: reporting timezone; $mtd_start/$end: UTC bounds from the start of the first day's month
-- to the end of the last day; $target_micro: the policy's profit target in micro-dollars.
--
-- Users at target month to date are counted without a users x days grid: a user's status
-- (in the base: has a counted cost this month; at target: also MTD profit >= target) only
-- changes on a day with one of its events, so each such day contributes +1/-1 changes, and
-- a running sum of the changes within the month gives every day's count. The status before
-- a day is read from the same row (the running sums less the day's own), so one window pass
-- over the user-days does it.
WITH ev AS (
    SELECT user_id, CAST((ts AT TIME ZONE 'UTC') AT TIME ZONE $tz AS DATE) AS day,
           cost_usd AS cost, CAST(0 AS DECIMAL(18, 6)) AS revenue, 1 AS n_cost
    FROM cost_events
    WHERE counted AND ts >= $mtd_start AND ts < $end
    UNION ALL
    SELECT user_id, CAST((ts AT TIME ZONE 'UTC') AT TIME ZONE $tz AS DATE) AS day,
           CAST(0 AS DECIMAL(18, 6)) AS cost, amount_usd AS revenue, 0 AS n_cost
    FROM revenue_events
    WHERE ts >= $mtd_start AND ts < $end
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
                    AND (cum_revenue - cum_cost) * 1000000 >= $target_micro AS INTEGER)
               - CAST(cum_n - n_cost > 0
                      AND ((cum_revenue - revenue) - (cum_cost - cost)) * 1000000
                          >= $target_micro AS INTEGER)) AS d_target
    FROM running
    GROUP BY day, month
), totals AS (
    SELECT day,
           count(*) FILTER (WHERE n_cost > 0) AS active_users,
           count(*) FILTER (WHERE n_cost > 0 AND revenue > 0) AS paying_users,
           CAST(sum(cost) * 1000000 AS BIGINT) AS cost_micro,
           CAST(sum(revenue) * 1000000 AS BIGINT) AS revenue_micro
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

-- user_totals.sql read from the rollups (queries/rollups.py): per user with at least one
-- counted cost in the window, counted cost, all revenue and counted requests; the same rows
-- in the same order (tests/test_rollups.py).
WITH c AS (  -- exactly one UTC month ($one_month): its month rollup, a row per user
    SELECT user_key, cost_micro AS cost, requests FROM rollup_cost_months
    WHERE $one_month AND month = $month_from
    UNION ALL
    SELECT user_key, sum(cost_micro) AS cost, sum(requests) AS requests
    FROM (SELECT user_key, cost_micro, requests FROM rollup_cost_months
          WHERE month >= $month_from AND month < $month_to
          UNION ALL
          SELECT user_key, cost_micro, requests FROM rollup_cost_days
          WHERE (day >= $day_from AND day < $month_from)
             OR (day >= $month_to AND day < $day_to)
          UNION ALL
          SELECT u.user_key, CAST(c.cost_usd * 1000000 AS BIGINT), 1
          FROM cost_events c JOIN rollup_users u USING (user_id)
          WHERE $edges AND c.counted AND ((c.ts >= $start AND c.ts < $a_end)
                               OR (c.ts >= $b_start AND c.ts < $end))) AS lines
    WHERE NOT $one_month
    GROUP BY user_key
), r AS (
    SELECT user_key, revenue_micro AS revenue FROM rollup_revenue_months
    WHERE $one_month AND month = $month_from
    UNION ALL
    SELECT user_key, sum(revenue_micro) AS revenue
    FROM (SELECT user_key, revenue_micro FROM rollup_revenue_months
          WHERE month >= $month_from AND month < $month_to
          UNION ALL
          SELECT user_key, revenue_micro FROM rollup_revenue_days
          WHERE (day >= $day_from AND day < $month_from)
             OR (day >= $month_to AND day < $day_to)
          UNION ALL
          SELECT u.user_key, CAST(CAST(r.amount_usd AS DECIMAL(38, 6)) * 1000000 AS BIGINT)
          FROM revenue_events r JOIN rollup_users u USING (user_id)
          WHERE $edges AND ((r.ts >= $start AND r.ts < $a_end)
                             OR (r.ts >= $b_start AND r.ts < $end)))
         AS lines
    WHERE NOT $one_month
    GROUP BY user_key
)
SELECT u.user_id,
       c.cost::BIGINT AS cost_micro,
       coalesce(r.revenue, 0)::BIGINT AS revenue_micro,
       c.requests::BIGINT AS requests
FROM c
JOIN rollup_users u USING (user_key)
LEFT JOIN r USING (user_key)
ORDER BY u.user_id

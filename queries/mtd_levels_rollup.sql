-- Month-to-date positions counted by level, read from the per-user-day rollups
-- (queries/rollups.py): every user with a counted cost in the window, its counted cost and
-- all its revenue in micro-dollars, grouped by `level_rank(cost, revenue)`, the temporary
-- macro enforcement/level_sql.py writes from the policy (the rule stays there). The same
-- positions as mtd_positions.sql, which the raw path counts in numpy.
-- $target, $cutoff: the policy's profit target and cutoff in micro-dollars (over the cutoff
-- unpaid: counted cost above it and revenue <= 0, the Daily page's and the alerts' rule).
WITH c AS (  -- exactly one UTC month ($one_month): its month rollup, a row per user
    SELECT user_key, cost_micro AS cost FROM rollup_cost_months
    WHERE $one_month AND month = $month_from
    UNION ALL
    SELECT user_key, sum(cost_micro) AS cost
    FROM (SELECT user_key, cost_micro FROM rollup_cost_months
          WHERE month >= $month_from AND month < $month_to
          UNION ALL
          SELECT user_key, cost_micro FROM rollup_cost_days
          WHERE (day >= $day_from AND day < $month_from)
             OR (day >= $month_to AND day < $day_to)
          UNION ALL
          SELECT u.user_key, CAST(c.cost_usd * 1000000 AS BIGINT)
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
), positions AS (
    SELECT c.cost::BIGINT AS cost, coalesce(r.revenue, 0)::BIGINT AS revenue
    FROM c LEFT JOIN r USING (user_key)
)
SELECT level_rank(cost, revenue) AS rank, count(*) AS users,
       count(*) FILTER (WHERE revenue - cost >= $target) AS at_target,
       count(*) FILTER (WHERE cost > $cutoff AND revenue <= 0) AS over_cutoff_unpaid
FROM positions
GROUP BY 1

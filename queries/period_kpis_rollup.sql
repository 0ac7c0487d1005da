-- period_kpis.sql read from the per-user-day rollups (queries/rollups.py): the same columns
-- and the same figures, held equal by tests/test_rollups.py. A window's whole UTC months and
-- other whole days come from the rollups, its partial days' edges ([$start, $a_end) and [$b_start, $end)) from
-- the raw lines; "before the period" and the first premium and tokens lines are the users'
-- firsts in rollup_users.
WITH cost AS (              -- active users: at least one counted cost event in the period
    -- exactly one UTC month ($one_month): its month rollup, a row per user, as it is
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
), rev_user AS (            -- every revenue line in the period, refunds included (negative)
    SELECT user_key, revenue_micro AS revenue, tokens_micro AS tokens_revenue,
           premium_micro AS premium_revenue, affiliate_micro AS affiliate_revenue,
           data_micro AS data_revenue, other_micro AS other_revenue, token_lines
    FROM rollup_revenue_months
    WHERE $one_month AND month = $month_from
    UNION ALL
    SELECT user_key, sum(revenue) AS revenue, sum(tokens) AS tokens_revenue,
           sum(premium) AS premium_revenue, sum(affiliate) AS affiliate_revenue,
           sum(data) AS data_revenue, sum(other) AS other_revenue,
           sum(token_lines) AS token_lines
    FROM (SELECT user_key, revenue_micro AS revenue, tokens_micro AS tokens,
                 premium_micro AS premium, affiliate_micro AS affiliate, data_micro AS data,
                 other_micro AS other, token_lines
          FROM rollup_revenue_months
          WHERE month >= $month_from AND month < $month_to
          UNION ALL
          SELECT user_key, revenue_micro, tokens_micro, premium_micro, affiliate_micro,
                 data_micro, other_micro, token_lines
          FROM rollup_revenue_days
          WHERE (day >= $day_from AND day < $month_from)
             OR (day >= $month_to AND day < $day_to)
          UNION ALL
          SELECT u.user_key, m,
                 CASE WHEN stream = 'tokens' THEN m ELSE 0 END,
                 CASE WHEN stream = 'premium' THEN m ELSE 0 END,
                 CASE WHEN stream = 'affiliate' THEN m ELSE 0 END,
                 CASE WHEN stream = 'data' THEN m ELSE 0 END,
                 CASE WHEN stream = 'other' THEN m ELSE 0 END,
                 CASE WHEN stream = 'tokens' AND m > 0 THEN 1 ELSE 0 END
          FROM (SELECT user_id, stream, CAST(CAST(amount_usd AS DECIMAL(38, 6)) * 1000000 AS BIGINT) AS m
                FROM revenue_events
                WHERE $edges AND ((ts >= $start AND ts < $a_end)
                                  OR (ts >= $b_start AND ts < $end))) AS r
          JOIN rollup_users u USING (user_id)) AS lines
    WHERE NOT $one_month
    GROUP BY user_key
), users AS (               -- an active user is new exactly when it has no event before
    SELECT cost.user_key, cost.cost, rev_user.revenue, rev_user.tokens_revenue,
           rev_user.token_lines,
           NOT (coalesce(u.first_cost_ts < $start, false)
                OR coalesce(u.first_revenue_ts < $start, false)) AS is_new,
           u.first_premium_ts AS premium_ts, u.first_tokens_ts AS tokens_ts
    FROM cost
    JOIN rollup_users u USING (user_key)
    LEFT JOIN rev_user USING (user_key)
), per_user AS (
    SELECT count(*) AS active_users,
           count(*) FILTER (WHERE is_new) AS new_users,
           coalesce(sum(cost), 0) AS cost,
           count(*) FILTER (WHERE revenue > 0) AS paying_users,
           count(*) FILTER (WHERE tokens_revenue > 0) AS token_buyers,
           coalesce(sum(token_lines), 0) AS token_purchases,
           count(*) FILTER (WHERE premium_ts >= $start AND premium_ts < $end
                              AND tokens_ts < premium_ts) AS premium_upgrades,
           count(*) FILTER (WHERE tokens_ts < $end
                              AND (premium_ts IS NULL OR premium_ts >= $start))
               AS premium_upgrade_base
    FROM users
), totals AS (
    SELECT coalesce(sum(revenue), 0) AS revenue,
           coalesce(sum(tokens_revenue), 0) AS tokens,
           coalesce(sum(premium_revenue), 0) AS premium,
           coalesce(sum(affiliate_revenue), 0) AS affiliate,
           coalesce(sum(data_revenue), 0) AS data,
           coalesce(sum(other_revenue), 0) AS other
    FROM rev_user
)
SELECT per_user.active_users::BIGINT AS active_users,
       per_user.new_users::BIGINT AS new_users,
       per_user.cost::BIGINT AS cost_micro,
       totals.revenue::BIGINT AS revenue_micro,
       totals.tokens::BIGINT AS tokens_micro,
       totals.premium::BIGINT AS premium_micro,
       totals.affiliate::BIGINT AS affiliate_micro,
       totals.data::BIGINT AS data_micro,
       totals.other::BIGINT AS other_micro,
       per_user.paying_users::BIGINT AS paying_users,
       per_user.token_buyers::BIGINT AS token_buyers,
       per_user.token_purchases::BIGINT AS token_purchases,
       per_user.premium_upgrades::BIGINT AS premium_upgrades,
       per_user.premium_upgrade_base::BIGINT AS premium_upgrade_base
FROM per_user CROSS JOIN totals

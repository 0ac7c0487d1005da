-- One period's headline counts and sums (kpis.md "Per period"), token purchases and premium
-- upgrades of its active users (kpis.md "Affiliates, token habits and upgrades"): one read
-- of the period's active users for all of them.
-- $start, $end: the period's bounds as UTC instants (start inclusive, end exclusive), so the
-- filter is on the stored column and DuckDB can prune; the caller converts local bounds.
-- Money leaves as BIGINT micro-dollars: a DataFrame would turn DECIMAL into float.
WITH cost AS (              -- active users: at least one counted cost event in the period
    SELECT user_id, sum(cost_usd) AS cost
    FROM cost_events
    WHERE counted AND ts >= $start AND ts < $end
    GROUP BY user_id
), rev_user AS (            -- every revenue line in the period, refunds included (negative)
    SELECT user_id,
           sum(amount_usd) AS revenue,
           coalesce(sum(amount_usd) FILTER (WHERE stream = 'tokens'), 0) AS tokens_revenue,
           coalesce(sum(amount_usd) FILTER (WHERE stream = 'premium'), 0) AS premium_revenue,
           coalesce(sum(amount_usd) FILTER (WHERE stream = 'affiliate'), 0) AS affiliate_revenue,
           coalesce(sum(amount_usd) FILTER (WHERE stream = 'data'), 0) AS data_revenue,
           coalesce(sum(amount_usd) FILTER (WHERE stream = 'other'), 0) AS other_revenue,
           count(*) FILTER (WHERE stream = 'tokens' AND amount_usd > 0) AS token_lines
    FROM revenue_events
    WHERE ts >= $start AND ts < $end
    GROUP BY user_id
), earlier AS (             -- anyone with a counted cost or a revenue event before the period
    SELECT user_id FROM cost_events WHERE counted AND ts < $start
    UNION
    SELECT user_id FROM revenue_events WHERE ts < $start
), first_premium AS (       -- in all loaded data: the first positive premium line
    SELECT user_id, min(ts) AS ts FROM revenue_events
    WHERE stream = 'premium' AND amount_usd > 0 GROUP BY user_id
), first_tokens AS (        -- and the first positive tokens line
    SELECT user_id, min(ts) AS ts FROM revenue_events
    WHERE stream = 'tokens' AND amount_usd > 0 GROUP BY user_id
), users AS (               -- an active user is new exactly when it has no event before
    SELECT cost.user_id, cost.cost, rev_user.revenue, rev_user.tokens_revenue,
           rev_user.token_lines, earlier.user_id IS NULL AS is_new,
           first_premium.ts AS premium_ts, first_tokens.ts AS tokens_ts
    FROM cost
    LEFT JOIN rev_user USING (user_id)
    LEFT JOIN earlier USING (user_id)
    LEFT JOIN first_premium USING (user_id)
    LEFT JOIN first_tokens USING (user_id)
), per_user AS (
    SELECT count(*) AS active_users,
           count(*) FILTER (WHERE is_new) AS new_users,
           coalesce(sum(cost), 0) AS cost,
           count(*) FILTER (WHERE revenue > 0) AS paying_users,
           count(*) FILTER (WHERE tokens_revenue > 0) AS token_buyers,
           -- token purchases: positive tokens lines in the period, of active users
           coalesce(sum(token_lines), 0) AS token_purchases,
           -- an upgrade: the first premium line falls in the period, after a tokens line
           count(*) FILTER (WHERE premium_ts >= $start AND premium_ts < $end
                              AND tokens_ts < premium_ts) AS premium_upgrades,
           -- its base: a tokens line before the end, no premium line before the start
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
       CAST(per_user.cost * 1000000 AS BIGINT) AS cost_micro,
       CAST(totals.revenue * 1000000 AS BIGINT) AS revenue_micro,
       CAST(totals.tokens * 1000000 AS BIGINT) AS tokens_micro,
       CAST(totals.premium * 1000000 AS BIGINT) AS premium_micro,
       CAST(totals.affiliate * 1000000 AS BIGINT) AS affiliate_micro,
       CAST(totals.data * 1000000 AS BIGINT) AS data_micro,
       CAST(totals.other * 1000000 AS BIGINT) AS other_micro,
       per_user.paying_users::BIGINT AS paying_users,
       per_user.token_buyers::BIGINT AS token_buyers,
       per_user.token_purchases::BIGINT AS token_purchases,
       per_user.premium_upgrades::BIGINT AS premium_upgrades,
       per_user.premium_upgrade_base::BIGINT AS premium_upgrade_base
FROM per_user CROSS JOIN totals

-- The user-level profit table of one week (Weekly page, weekly report).
-- One row per user with a counted cost event or a revenue event in [$start, $end).
-- Money is integer micro-dollars (exact; DuckDB's DataFrames would turn DECIMAL into floats).
-- mtd_* : month to date at the end of the week, i.e. [$mtd_start, $end), where $mtd_start is
-- the start of the calendar month (reporting timezone) that holds the week's last day.
WITH week_cost AS (
    SELECT user_id, count(*) AS requests, sum(cost_usd) AS cost
    FROM cost_events
    WHERE counted AND ts >= $start AND ts < $end
    GROUP BY user_id
), week_revenue AS (
    SELECT user_id,
           sum(amount_usd) AS revenue,
           sum(amount_usd) FILTER (WHERE stream = 'tokens') AS tokens_revenue,
           count(*) FILTER (WHERE amount_usd > 0) AS payments,
           string_agg(DISTINCT partner, ', ' ORDER BY partner) AS partners
    FROM revenue_events
    WHERE ts >= $start AND ts < $end
    GROUP BY user_id
), week_users AS (
    SELECT user_id FROM week_cost
    UNION
    SELECT user_id FROM week_revenue
), mtd_cost AS (
    SELECT user_id, sum(cost_usd) AS cost
    FROM cost_events
    WHERE counted AND ts >= $mtd_start AND ts < $end AND user_id IN (SELECT user_id FROM week_users)
    GROUP BY user_id
), mtd_revenue AS (
    SELECT user_id, sum(amount_usd) AS revenue
    FROM revenue_events
    WHERE ts >= $mtd_start AND ts < $end AND user_id IN (SELECT user_id FROM week_users)
    GROUP BY user_id
), balance AS (
    SELECT user_id, arg_max(balance, as_of) AS token_balance
    FROM token_balances
    WHERE as_of < $end AND user_id IN (SELECT user_id FROM week_users)
    GROUP BY user_id
)
SELECT
    u.user_id,
    coalesce(wc.requests, 0)::BIGINT                              AS requests,
    CAST(coalesce(wc.cost, 0) * 1000000 AS BIGINT)                AS cost_micro,
    CAST(coalesce(wr.revenue, 0) * 1000000 AS BIGINT)             AS revenue_micro,
    CAST((coalesce(wr.revenue, 0) - coalesce(wc.cost, 0)) * 1000000 AS BIGINT) AS profit_micro,
    CAST(coalesce(wr.tokens_revenue, 0) * 1000000 AS BIGINT)      AS tokens_revenue_micro,
    coalesce(wr.payments, 0)::BIGINT                              AS payments,
    coalesce(wr.partners, '')                                     AS partners,
    CAST(coalesce(mc.cost, 0) * 1000000 AS BIGINT)                AS mtd_cost_micro,
    CAST(coalesce(mr.revenue, 0) * 1000000 AS BIGINT)             AS mtd_revenue_micro,
    CAST((coalesce(mr.revenue, 0) - coalesce(mc.cost, 0)) * 1000000 AS BIGINT) AS mtd_profit_micro,
    b.token_balance
FROM week_users u
LEFT JOIN week_cost wc USING (user_id)
LEFT JOIN week_revenue wr USING (user_id)
LEFT JOIN mtd_cost mc USING (user_id)
LEFT JOIN mtd_revenue mr USING (user_id)
LEFT JOIN balance b USING (user_id)
ORDER BY profit_micro, u.user_id

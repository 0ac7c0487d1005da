-- weekly_users.sql in UTC, from rollup_mtd_days (each user-day with a counted cost or a
-- revenue line, its sums and the month to date at its end, kept by every publish): the same
-- rows as that file with $tz = 'UTC' (tests/test_rollups.py); other zones read the raw lines
-- there. A week user has a rollup day in the week, and their month to date at the week's end
-- is that of their last such day in the Sunday's month (none there: nothing yet this month).
-- The week's payments and partners are read from the raw revenue lines. $start, $end and
-- $mtd_start are UTC midnights. Money is integer micro-dollars.
WITH days AS (
    SELECT user_key,
           sum(requests)::BIGINT      AS requests,
           sum(cost_micro)::BIGINT    AS cost_micro,
           sum(revenue_micro)::BIGINT AS revenue_micro,
           coalesce(arg_max(mtd_cost_micro, day) FILTER (WHERE day >= CAST($mtd_start AS DATE)),
                    0)::BIGINT AS mtd_cost_micro,
           coalesce(arg_max(mtd_revenue_micro, day)
                    FILTER (WHERE day >= CAST($mtd_start AS DATE)), 0)::BIGINT AS mtd_revenue_micro
    FROM rollup_mtd_days
    WHERE day >= CAST($start AS DATE) AND day < CAST($end AS DATE)
    GROUP BY user_key
), week_revenue AS (
    SELECT user_id,
           sum(amount_usd) FILTER (WHERE stream = 'tokens') AS tokens_revenue,
           count(*) FILTER (WHERE amount_usd > 0) AS payments,
           -- that file's string_agg(DISTINCT … ORDER BY …), 3.5× quicker ('' for none)
           array_to_string(list_sort(list_distinct(list(partner))), ', ') AS partners
    FROM revenue_events
    WHERE ts >= $start AND ts < $end
    GROUP BY user_id
), balance AS (
    SELECT user_id, arg_max(balance, as_of) AS token_balance
    FROM token_balances
    WHERE as_of < $end
    GROUP BY user_id
)
SELECT
    u.user_id,
    d.requests,
    d.cost_micro,
    d.revenue_micro,
    d.revenue_micro - d.cost_micro                                AS profit_micro,
    CAST(coalesce(wr.tokens_revenue, 0) * 1000000 AS BIGINT)      AS tokens_revenue_micro,
    coalesce(wr.payments, 0)::BIGINT                              AS payments,
    coalesce(wr.partners, '')                                     AS partners,
    d.mtd_cost_micro,
    d.mtd_revenue_micro,
    d.mtd_revenue_micro - d.mtd_cost_micro                        AS mtd_profit_micro,
    b.token_balance
FROM days d
JOIN rollup_users u USING (user_key)
LEFT JOIN week_revenue wr USING (user_id)
LEFT JOIN balance b USING (user_id)
ORDER BY profit_micro, u.user_id

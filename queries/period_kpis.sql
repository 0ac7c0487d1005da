-- One period's headline counts and sums (kpis.md "Per period").
-- $start, $end: the period's bounds as UTC instants (start inclusive, end exclusive), so the
-- filter is on the stored column and DuckDB can prune; the caller converts local bounds.
-- Money leaves as BIGINT micro-dollars: a DataFrame would turn DECIMAL into float.
WITH cost AS (              -- active users: at least one counted cost event in the period
    SELECT user_id, sum(cost_usd) AS cost
    FROM cost_events
    WHERE counted AND ts >= $start AND ts < $end
    GROUP BY user_id
), rev AS (                 -- every revenue line in the period, refunds included (negative)
    SELECT user_id, stream, amount_usd
    FROM revenue_events
    WHERE ts >= $start AND ts < $end
), rev_user AS (
    SELECT user_id,
           sum(amount_usd) AS revenue,
           coalesce(sum(amount_usd) FILTER (WHERE stream = 'tokens'), 0) AS tokens_revenue
    FROM rev
    GROUP BY user_id
), earlier AS (             -- anyone with a counted cost or a revenue event before the period
    SELECT user_id FROM cost_events WHERE counted AND ts < $start
    UNION
    SELECT user_id FROM revenue_events WHERE ts < $start
)
SELECT
    (SELECT count(*) FROM cost)::BIGINT AS active_users,
    -- an active user has an event in the period, so its earliest event is in the period
    -- exactly when it has none before the period
    (SELECT count(*) FROM cost c
      WHERE NOT EXISTS (SELECT 1 FROM earlier e WHERE e.user_id = c.user_id))::BIGINT AS new_users,
    (SELECT CAST(coalesce(sum(cost), 0) * 1000000 AS BIGINT) FROM cost) AS cost_micro,
    (SELECT CAST(coalesce(sum(amount_usd), 0) * 1000000 AS BIGINT) FROM rev) AS revenue_micro,
    (SELECT CAST(coalesce(sum(amount_usd) FILTER (WHERE stream = 'tokens'), 0) * 1000000 AS BIGINT)
       FROM rev) AS tokens_micro,
    (SELECT CAST(coalesce(sum(amount_usd) FILTER (WHERE stream = 'premium'), 0) * 1000000 AS BIGINT)
       FROM rev) AS premium_micro,
    (SELECT CAST(coalesce(sum(amount_usd) FILTER (WHERE stream = 'affiliate'), 0) * 1000000 AS BIGINT)
       FROM rev) AS affiliate_micro,
    (SELECT CAST(coalesce(sum(amount_usd) FILTER (WHERE stream = 'data'), 0) * 1000000 AS BIGINT)
       FROM rev) AS data_micro,
    (SELECT CAST(coalesce(sum(amount_usd) FILTER (WHERE stream = 'other'), 0) * 1000000 AS BIGINT)
       FROM rev) AS other_micro,
    (SELECT count(*) FROM cost JOIN rev_user USING (user_id)
      WHERE rev_user.revenue > 0)::BIGINT AS paying_users,
    (SELECT count(*) FROM cost JOIN rev_user USING (user_id)
      WHERE rev_user.tokens_revenue > 0)::BIGINT AS token_buyers

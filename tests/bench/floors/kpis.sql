-- The KPI floor: one hand-written query over the raw tables for a period's headline figures
-- (what a minimal DuckDB program would run), compared with `python -m queries kpis`.
-- $start, $end: the period; $mtd_start: its month's start. Thresholds in micro-dollars.
WITH period_cost AS (
    SELECT user_id, sum(cost_usd) AS cost FROM cost_events
    WHERE counted AND ts >= $start AND ts < $end GROUP BY user_id
), period_rev AS (
    SELECT user_id, sum(amount_usd) AS revenue,
           sum(amount_usd) FILTER (WHERE stream = 'tokens') AS tokens
    FROM revenue_events WHERE ts >= $start AND ts < $end GROUP BY user_id
), mtd AS (
    SELECT c.user_id, CAST(c.cost * 1000000 AS BIGINT) AS cost,
           CAST(coalesce(r.revenue, 0) * 1000000 AS BIGINT) AS revenue
    FROM (SELECT user_id, sum(cost_usd) AS cost FROM cost_events
          WHERE counted AND ts >= $mtd_start AND ts < $end GROUP BY user_id) c
    LEFT JOIN (SELECT user_id, sum(amount_usd) AS revenue FROM revenue_events
               WHERE ts >= $mtd_start AND ts < $end GROUP BY user_id) r USING (user_id)
), levels AS (
    SELECT revenue - cost >= $target AS at_target,
           CASE WHEN cost > $cutoff AND revenue - cost < $target THEN 'payment_required'
                WHEN cost <= $free_tier OR revenue - cost > $band_normal
                     THEN CASE WHEN cost > $restriction AND revenue - cost < $target
                               THEN 'reduced_quality' ELSE 'normal' END
                WHEN revenue - cost > $band_reduced THEN 'reduced_quality'
                WHEN revenue - cost > $band_basic THEN 'basic_only'
                ELSE 'affiliate_gated' END AS level
    FROM mtd
)
SELECT (SELECT count(*) FROM period_cost) AS active_users,
       (SELECT CAST(sum(cost) * 1000000 AS BIGINT) FROM period_cost) AS cost_micro,
       (SELECT CAST(sum(revenue) * 1000000 AS BIGINT) FROM period_rev) AS revenue_micro,
       (SELECT count(*) FROM period_cost JOIN period_rev USING (user_id)
        WHERE revenue > 0) AS paying_users,
       (SELECT count(*) FROM period_cost JOIN period_rev USING (user_id)
        WHERE tokens > 0) AS token_buyers,
       (SELECT count(*) FROM levels) AS mtd_users,
       (SELECT count(*) FILTER (WHERE at_target) FROM levels) AS users_at_target,
       (SELECT count(*) FILTER (WHERE level = 'normal') FROM levels) AS normal,
       (SELECT count(*) FILTER (WHERE level = 'reduced_quality') FROM levels) AS reduced_quality,
       (SELECT count(*) FILTER (WHERE level = 'basic_only') FROM levels) AS basic_only,
       (SELECT count(*) FILTER (WHERE level = 'affiliate_gated') FROM levels) AS affiliate_gated,
       (SELECT count(*) FILTER (WHERE level = 'payment_required') FROM levels)
           AS payment_required

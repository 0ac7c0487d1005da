-- Premium upgrades among the period's active users (kpis.md):
-- premium_upgrades: the first positive `premium` line in all loaded data falls in the
--   period, and a positive `tokens` line came strictly before that premium line;
-- premium_upgrade_base: a positive `tokens` line before the period's end and no positive
--   `premium` line before its start (the denominator of premium_upgrade_pct).
WITH active AS (
    SELECT DISTINCT user_id FROM cost_events WHERE counted AND ts >= $start AND ts < $end
), first_premium AS (
    SELECT user_id, min(ts) AS ts FROM revenue_events
    WHERE stream = 'premium' AND amount_usd > 0 GROUP BY user_id
), first_tokens AS (
    SELECT user_id, min(ts) AS ts FROM revenue_events
    WHERE stream = 'tokens' AND amount_usd > 0 GROUP BY user_id
)
SELECT
    count(*) FILTER (WHERE p.ts >= $start AND p.ts < $end AND t.ts < p.ts)::BIGINT
        AS premium_upgrades,
    count(*) FILTER (WHERE t.ts < $end AND (p.ts IS NULL OR p.ts >= $start))::BIGINT
        AS premium_upgrade_base
FROM active a
LEFT JOIN first_premium p ON p.user_id = a.user_id
LEFT JOIN first_tokens t ON t.user_id = a.user_id

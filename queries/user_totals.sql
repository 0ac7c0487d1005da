-- Per user with at least one counted cost event in [$start, $end) (UTC bounds): counted cost,
-- all revenue in the same window (every stream, refunds included) and counted requests.
-- Month to date at the end of a period is this with $start at the month's start; it feeds
-- users_at_target, users_by_level (through enforcement.level_of) and profit per user.
WITH c AS (
    SELECT user_id, sum(cost_usd) AS cost, count(*) AS requests
    FROM cost_events
    WHERE counted AND ts >= $start AND ts < $end
    GROUP BY user_id
), r AS (
    SELECT user_id, sum(amount_usd) AS revenue
    FROM revenue_events
    WHERE ts >= $start AND ts < $end
    GROUP BY user_id
)
SELECT c.user_id,
       CAST(c.cost * 1000000 AS BIGINT) AS cost_micro,
       CAST(coalesce(r.revenue, 0) * 1000000 AS BIGINT) AS revenue_micro,
       c.requests::BIGINT AS requests
FROM c LEFT JOIN r USING (user_id)
ORDER BY c.user_id

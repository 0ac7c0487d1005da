-- Every user's month-to-date position in [$start, $end) (UTC bounds): counted cost and all
-- revenue, as micro-dollars, for each user with a counted cost event in the window. No user
-- id and no order: the KPI layer only counts positions (levels, users at target), in numpy.
-- The same users and sums as user_totals.sql.
WITH c AS (
    SELECT user_id, sum(cost_usd) AS cost
    FROM cost_events
    WHERE counted AND ts >= $start AND ts < $end
    GROUP BY user_id
), r AS (
    SELECT user_id, sum(amount_usd) AS revenue
    FROM revenue_events
    WHERE ts >= $start AND ts < $end
    GROUP BY user_id
)
SELECT CAST(c.cost * 1000000 AS BIGINT) AS cost_micro,
       CAST(coalesce(r.revenue, 0) * 1000000 AS BIGINT) AS revenue_micro
FROM c LEFT JOIN r USING (user_id)

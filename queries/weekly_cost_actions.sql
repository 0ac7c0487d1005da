-- Top cost drivers by action: counted cost per action in [$start, $end) against the week
-- before, [$prev_start, $start), and the users with a counted line of the action in the
-- week (counted apart, over the week's lines alone: counting them beside the sums grouped
-- both weeks' lines by user). Money in micro-dollars.
WITH sums AS (
    SELECT
        action,
        CAST(coalesce(sum(cost_usd) FILTER (WHERE ts >= $start), 0) * 1000000 AS BIGINT) AS cost_micro,
        CAST(coalesce(sum(cost_usd) FILTER (WHERE ts < $start), 0) * 1000000 AS BIGINT)  AS prev_cost_micro,
        count(*) FILTER (WHERE ts >= $start)::BIGINT                                     AS events,
        count(*) FILTER (WHERE ts < $start)::BIGINT                                      AS prev_events
    FROM cost_events
    WHERE counted AND ts >= $prev_start AND ts < $end
    GROUP BY action
), users AS (
    SELECT action, count(DISTINCT user_id)::BIGINT AS users
    FROM cost_events
    WHERE counted AND ts >= $start AND ts < $end
    GROUP BY action
)
SELECT s.action, s.cost_micro, s.prev_cost_micro, s.events, s.prev_events,
       coalesce(u.users, 0)::BIGINT AS users
FROM sums s
LEFT JOIN users u USING (action)
ORDER BY s.cost_micro DESC, s.action

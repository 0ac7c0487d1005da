-- Top cost drivers by action: counted cost per action in [$start, $end) against the week
-- before, [$prev_start, $start). Money in micro-dollars.
SELECT
    action,
    CAST(coalesce(sum(cost_usd) FILTER (WHERE ts >= $start), 0) * 1000000 AS BIGINT) AS cost_micro,
    CAST(coalesce(sum(cost_usd) FILTER (WHERE ts < $start), 0) * 1000000 AS BIGINT)  AS prev_cost_micro,
    count(*) FILTER (WHERE ts >= $start)::BIGINT                                     AS events,
    count(*) FILTER (WHERE ts < $start)::BIGINT                                      AS prev_events,
    count(DISTINCT user_id) FILTER (WHERE ts >= $start)::BIGINT                      AS users
FROM cost_events
WHERE counted AND ts >= $prev_start AND ts < $end
GROUP BY action
ORDER BY cost_micro DESC, action

-- Counted cost in a period per action and per category (null category reads `unknown`).
-- $start, $end: UTC bounds of the period. Money as BIGINT micro-dollars.
SELECT 'action' AS dimension, action AS key,
       CAST(sum(cost_usd) * 1000000 AS BIGINT) AS cost_micro
FROM cost_events
WHERE counted AND ts >= $start AND ts < $end
GROUP BY action
UNION ALL
SELECT 'category' AS dimension, coalesce(category, 'unknown') AS key,
       CAST(sum(cost_usd) * 1000000 AS BIGINT) AS cost_micro
FROM cost_events
WHERE counted AND ts >= $start AND ts < $end
GROUP BY coalesce(category, 'unknown')
ORDER BY dimension, cost_micro DESC, key

-- cost_breakdown.sql read from the per-day rollup of counted cost by action and category
-- (queries/rollups.py): whole UTC days from the rollup, partial days from the raw lines.
WITH lines AS (
    SELECT action, category, cost_micro FROM rollup_breakdown_days
    WHERE day >= $day_from AND day < $day_to
    UNION ALL
    SELECT action, category, CAST(cost_usd * 1000000 AS BIGINT) FROM cost_events
    WHERE $edges AND counted
      AND ((ts >= $start AND ts < $a_end) OR (ts >= $b_start AND ts < $end))
)
SELECT 'action' AS dimension, action AS key, sum(cost_micro)::BIGINT AS cost_micro
FROM lines
GROUP BY action
UNION ALL
SELECT 'category' AS dimension, coalesce(category, 'unknown') AS key,
       sum(cost_micro)::BIGINT AS cost_micro
FROM lines
GROUP BY coalesce(category, 'unknown')
ORDER BY dimension, cost_micro DESC, key

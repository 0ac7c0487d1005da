-- weekly_cost_categories.sql in UTC, from rollup_breakdown_days (counted cost per UTC day,
-- action and category): the same rows as that file with $tz = 'UTC' (tests/test_rollups.py).
-- $start, $end and $prev_start are UTC midnights. Money in micro-dollars.
WITH per_category AS (
    SELECT
        coalesce(category, 'unknown') AS category,
        coalesce(sum(cost_micro) FILTER (WHERE day >= CAST($start AS DATE)), 0)::BIGINT AS cost_micro,
        coalesce(sum(cost_micro) FILTER (WHERE day < CAST($start AS DATE)), 0)::BIGINT  AS prev_cost_micro
    FROM rollup_breakdown_days
    WHERE day >= CAST($prev_start AS DATE) AND day < CAST($end AS DATE)
    GROUP BY coalesce(category, 'unknown')
)
SELECT category, cost_micro, prev_cost_micro, cost_micro - prev_cost_micro AS change_micro
FROM per_category
ORDER BY change_micro DESC, category

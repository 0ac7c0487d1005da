-- Cost growth by category: counted cost per category (a null category reads `unknown`) in
-- [$start, $end) against the week before, [$prev_start, $start), and the growth between
-- them, largest growth first. Money in micro-dollars.
WITH per_category AS (
    SELECT
        coalesce(category, 'unknown') AS category,
        coalesce(sum(cost_usd) FILTER (WHERE ts >= $start), 0) AS cost,
        coalesce(sum(cost_usd) FILTER (WHERE ts < $start), 0)  AS prev_cost
    FROM cost_events
    WHERE counted AND ts >= $prev_start AND ts < $end
    GROUP BY coalesce(category, 'unknown')
)
SELECT
    category,
    CAST(cost * 1000000 AS BIGINT)               AS cost_micro,
    CAST(prev_cost * 1000000 AS BIGINT)          AS prev_cost_micro,
    CAST((cost - prev_cost) * 1000000 AS BIGINT) AS change_micro
FROM per_category
ORDER BY change_micro DESC, category

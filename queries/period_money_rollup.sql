-- period_money.sql read from the rollups (queries/rollups.py): whole UTC months and days
-- from them, the partial days' edges ([$start, $a_end) and [$b_start, $end)) from the raw
-- lines; the same two sums, held equal by tests/test_rollups.py. Micro-dollars.
SELECT
    ((SELECT coalesce(sum(cost_micro), 0) FROM rollup_cost_months
      WHERE month >= $month_from AND month < $month_to)
     + (SELECT coalesce(sum(cost_micro), 0) FROM rollup_cost_days
        WHERE (day >= $day_from AND day < $month_from) OR (day >= $month_to AND day < $day_to))
     + (SELECT CAST(coalesce(sum(cost_usd), 0) * 1000000 AS BIGINT) FROM cost_events
        WHERE $edges AND counted
          AND ((ts >= $start AND ts < $a_end) OR (ts >= $b_start AND ts < $end))))::BIGINT
        AS cost_micro,
    ((SELECT coalesce(sum(revenue_micro), 0) FROM rollup_revenue_months
      WHERE month >= $month_from AND month < $month_to)
     + (SELECT coalesce(sum(revenue_micro), 0) FROM rollup_revenue_days
        WHERE (day >= $day_from AND day < $month_from) OR (day >= $month_to AND day < $day_to))
     + (SELECT CAST(coalesce(sum(amount_usd), 0) * 1000000 AS BIGINT) FROM revenue_events
        WHERE $edges AND ((ts >= $start AND ts < $a_end) OR (ts >= $b_start AND ts < $end))))::BIGINT
        AS revenue_micro

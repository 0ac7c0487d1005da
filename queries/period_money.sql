-- A window's counted cost and revenue: period_kpis.sql's cost_micro and revenue_micro
-- (every counted cost line; every revenue line, refunds negative) without its per-user
-- figures, for the verdict's and the margin alert's month-to-date profit.
-- $start, $end: UTC instants (start inclusive, end exclusive). Micro-dollars.
SELECT
    CAST(coalesce((SELECT sum(cost_usd) FROM cost_events
                   WHERE counted AND ts >= $start AND ts < $end), 0) * 1000000 AS BIGINT)
        AS cost_micro,
    CAST(coalesce((SELECT sum(amount_usd) FROM revenue_events
                   WHERE ts >= $start AND ts < $end), 0) * 1000000 AS BIGINT)
        AS revenue_micro

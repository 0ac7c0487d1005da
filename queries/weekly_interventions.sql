-- Intervention effectiveness. A user "crosses" a threshold ($warning_micro, $cutoff_micro)
-- at the counted cost event that takes their month-to-date counted cost (calendar month in
-- the reporting timezone $tz, events in (ts, event_id) order) from at most the threshold to
-- strictly above it (the rules compare with `>`). A crossing counts for the week when its
-- instant is in [$start, $end); a user counts once per threshold (their first crossing in
-- the week). They "paid" when their `tokens` + `premium` revenue (what the upsell and the
-- cutoff ask for; refunds netted) in [crossed_at, crossed_at + 7 days) sums to more than 0.
-- window_complete: the loaded data reaches the end of that window (else it may still pay).
-- $scan_start is the start of the month holding the week's Monday and $mtd_start that of its
-- Sunday (both local midnights in UTC, from the KPI layer), so month-to-date sums start from
-- zero at each month start. Only users with a counted cost in the week can cross in it, and
-- only those whose counted cost over the whole scan passes the lower threshold (costs are
-- >= 0 by the contract, so no month-to-date sum of theirs exceeds that total): only their
-- month is summed in order (at 1,000,000 users, 3% of them). Money in micro-dollars.
WITH week_users AS (
    SELECT user_id
    FROM cost_events
    WHERE counted AND ts >= $scan_start AND ts < $end
    GROUP BY user_id
    HAVING max(ts) >= $start
       AND CAST(sum(cost_usd) * 1000000 AS BIGINT)
           > least($warning_micro::BIGINT, $cutoff_micro::BIGINT)
), scoped AS (
    SELECT user_id, ts, event_id, cost_usd,
           ts >= $mtd_start AS sundays_month  -- a week spans at most two calendar months
    FROM cost_events
    WHERE counted AND ts >= $scan_start AND ts < $end
      AND user_id IN (SELECT user_id FROM week_users)
), running AS (
    SELECT user_id, ts, cost_usd,
           CAST(sum(cost_usd) OVER (PARTITION BY user_id, sundays_month ORDER BY ts, event_id
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                * 1000000 AS BIGINT) AS mtd_after
    FROM scoped
), thresholds(threshold, ord, limit_micro) AS (
    VALUES ('warning', 1, $warning_micro::BIGINT), ('cutoff', 2, $cutoff_micro::BIGINT)
), crossings AS (
    SELECT t.threshold, t.ord, r.user_id, min(r.ts) AS crossed_at
    FROM running r
    JOIN thresholds t
      ON r.mtd_after > t.limit_micro
     AND r.mtd_after - CAST(r.cost_usd * 1000000 AS BIGINT) <= t.limit_micro
    WHERE r.ts >= $start
    GROUP BY t.threshold, t.ord, r.user_id
), data_end AS (
    SELECT greatest((SELECT max(ts) FROM cost_events), (SELECT max(ts) FROM revenue_events)) AS ts
)
SELECT
    c.threshold,
    c.user_id,
    c.crossed_at,
    CAST(coalesce(sum(r.amount_usd), 0) * 1000000 AS BIGINT)         AS paid_micro,
    coalesce(sum(r.amount_usd), 0) > 0                              AS paid,
    (SELECT ts FROM data_end) >= c.crossed_at + INTERVAL 7 DAY       AS window_complete
FROM crossings c
LEFT JOIN revenue_events r
  ON r.user_id = c.user_id
 AND r.stream IN ('tokens', 'premium')
 AND r.ts >= c.crossed_at
 AND r.ts < c.crossed_at + INTERVAL 7 DAY
GROUP BY c.threshold, c.ord, c.user_id, c.crossed_at
ORDER BY c.ord, c.crossed_at, c.user_id

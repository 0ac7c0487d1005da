-- weekly_interventions.sql in UTC, from rollup_mtd_days (each user-day's month-to-date
-- counted cost at the day's end, kept by every publish): the same rows as that file with
-- $tz = 'UTC' (tests/test_rollups.py); other zones read the raw lines there. A UTC month is
-- a rollup month, and month-to-date costs only grow (costs are >= 0 by the contract), so a
-- user crosses a limit on one day of a month at most: the day whose own cost takes the sum
-- from at most the limit to above it. Only those days' lines are read and summed in order,
-- from the day's month to date before it: the crossing is the first instant whose sum
-- through it (lines at one instant summed together) is above the limit, the instant of
-- that file's crossing line, as the sums only grow; lines at one instant need no order by
-- id, which is not read (1.18 s → 0.75 s at 1,000,000 users). $start/$end are UTC
-- midnights. Micro-dollars.
WITH thresholds(threshold, ord, limit_micro) AS (
    VALUES ('warning', 1, $warning_micro::BIGINT), ('cutoff', 2, $cutoff_micro::BIGINT)
), crossing_days AS (
    SELECT t.threshold, t.ord, t.limit_micro, u.user_id, m.day,
           m.mtd_cost_micro - m.cost_micro AS mtd_before
    FROM rollup_mtd_days m
    JOIN thresholds t
      ON m.mtd_cost_micro > t.limit_micro AND m.mtd_cost_micro - m.cost_micro <= t.limit_micro
    JOIN rollup_users u USING (user_key)
    WHERE m.day >= CAST($start AS DATE) AND m.day < CAST($end AS DATE)
), running AS (
    SELECT c.user_id, CAST(c.ts AS DATE) AS day, c.ts,
           CAST(sum(c.cost_usd) OVER (PARTITION BY c.user_id, CAST(c.ts AS DATE)
                                      ORDER BY c.ts
                                      RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                * 1000000 AS BIGINT) AS day_after
    FROM cost_events c
    SEMI JOIN (SELECT DISTINCT user_id, day FROM crossing_days) d
      ON d.user_id = c.user_id AND d.day = CAST(c.ts AS DATE)
    WHERE c.counted AND c.ts >= $start AND c.ts < $end
), crossings AS (
    SELECT d.threshold, d.ord, d.user_id, min(r.ts) AS crossed_at
    FROM crossing_days d
    JOIN running r
      ON r.user_id = d.user_id AND r.day = d.day
     AND d.mtd_before + r.day_after > d.limit_micro
    GROUP BY d.threshold, d.ord, d.user_id
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

-- Estimate accuracy per UTC day of the actual and action, for the actuals in [$start, $end)
-- (Weekly sums a week's days; the loader's rollup_accuracy_days keeps every day's, read
-- by weekly_estimate_accuracy_rollup.sql in UTC). Only the users in part $part of $parts by
-- their phone's last two characters (1 and 0: everyone; the loader pairs a month in parts;
-- functions Spark knows as well, so the file transpiles).
-- The original service wrote an estimate (event_type = the action) before serving and an
-- `<action>_completed` line, the actual, after it. The loader pairs them by the rule of
-- loaders/sql/pair_estimates.sql (same user and action, the actual at or after the estimate
-- and at most two minutes later, before that user's next estimate) and counts only the
-- actual. The same rule finds the pairs here; an estimate with two actuals is compared with
-- the first. Lines the loader pairs (`pairing`) are paired among themselves, as the loader
-- does; a source that gave `counted` itself (the demo, contract files) said which
-- estimates an actual replaced (counted = false), and the rule finds that actual among
-- the source's own `_completed` lines.
-- estimates_alone: the pairing estimates in [$start, $end) with no actual, per UTC day of
-- the estimate; they count as the cost. (A source that gave `counted` does not say which
-- of its counted lines are estimates.)
-- An actual pairs with an estimate up to two minutes before it, so the lines read start two
-- minutes before $start (an estimate's next estimate, which ends its window, only matters
-- when it comes before the actual, so it is among them). Money in micro-dollars.
WITH est AS (
    SELECT event_id, user_id, ts, action, cost_usd, pairing,
           lead(ts) OVER (PARTITION BY user_id, pairing ORDER BY ts, event_id) AS next_ts
    FROM cost_events
    WHERE (pairing OR NOT counted)
      AND coalesce(event_type, '') NOT LIKE '%\_completed' ESCAPE '\'
      AND action <> 'error_handling'
      AND ts >= $start - INTERVAL 2 MINUTE AND ts < $end
      AND ($parts = 1 OR (ascii(right(user_id, 1)) * 7 + ascii(right(user_id, 2))) % $parts = $part)
), done AS (
    SELECT event_id, user_id, ts, action, cost_usd, pairing
    FROM cost_events
    WHERE event_type LIKE '%\_completed' ESCAPE '\'
      AND ts >= $start - INTERVAL 2 MINUTE AND ts < $end
      AND ($parts = 1 OR (ascii(right(user_id, 1)) * 7 + ascii(right(user_id, 2))) % $parts = $part)
), matched AS (
    SELECT e.action, e.cost_usd AS estimated, d.cost_usd AS actual, d.ts AS actual_ts,
           row_number() OVER (PARTITION BY e.event_id ORDER BY d.ts, d.event_id) AS nth
    FROM est e
    JOIN done d
      ON d.user_id = e.user_id AND d.action = e.action AND d.pairing = e.pairing
     AND d.ts >= e.ts AND d.ts <= e.ts + INTERVAL 2 MINUTE
     AND (e.next_ts IS NULL OR d.ts < e.next_ts)
), paired AS (
    SELECT CAST(actual_ts AS DATE) AS day, action,
           count(*)                                                   AS pairs,
           CAST(sum(estimated) * 1000000 AS BIGINT)                   AS estimated_micro,
           CAST(sum(actual) * 1000000 AS BIGINT)                      AS actual_micro,
           CAST(sum(abs(estimated - actual)) * 1000000 AS BIGINT)     AS abs_error_micro
    FROM matched
    WHERE nth = 1 AND actual_ts >= $start
    GROUP BY 1, 2
), alone AS (
    -- est's pairing rows from $start, read again without its window (est used twice was
    -- materialised: 4 s at 1,000,000 users)
    SELECT CAST(ts AS DATE) AS day, action, count(*) AS estimates_alone
    FROM cost_events
    WHERE pairing AND counted
      AND coalesce(event_type, '') NOT LIKE '%\_completed' ESCAPE '\'
      AND action <> 'error_handling'
      AND ts >= $start AND ts < $end
      AND ($parts = 1 OR (ascii(right(user_id, 1)) * 7 + ascii(right(user_id, 2))) % $parts = $part)
    GROUP BY 1, 2
)
SELECT coalesce(p.day, a.day) AS day, coalesce(p.action, a.action) AS action,
       coalesce(p.pairs, 0)::BIGINT AS pairs, coalesce(p.estimated_micro, 0) AS estimated_micro,
       coalesce(p.actual_micro, 0) AS actual_micro,
       coalesce(p.abs_error_micro, 0) AS abs_error_micro,
       coalesce(a.estimates_alone, 0)::BIGINT AS estimates_alone
FROM paired p
FULL OUTER JOIN alone a ON a.day = p.day AND a.action = p.action

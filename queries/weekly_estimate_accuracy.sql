-- Estimate accuracy per action, for the week's actuals in [$start, $end).
-- The original service wrote an estimate (event_type = the action) before serving and an
-- `<action>_completed` line, the actual, after it. The loader pairs them by the rule of
-- loaders/sql/pair_estimates.sql (same user and action, the actual at or after the estimate
-- and at most two minutes later, before that user's next estimate) and counts only the
-- actual. The same rule finds the pairs here; an estimate with two actuals is compared with
-- the first. Lines the loader pairs (`pairing`) are paired among themselves, as the loader
-- does; a source that gave `counted` itself (the demo, contract files) said which
-- estimates an actual replaced (counted = false), and the rule finds that actual among
-- the source's own `_completed` lines.
-- estimates_alone: the week's pairing estimates with no actual; they count as the cost. (A
-- source that gave `counted` does not say which of its counted lines are estimates.)
-- Money in micro-dollars.
WITH est AS (
    SELECT event_id, user_id, ts, action, cost_usd, counted, pairing,
           lead(ts) OVER (PARTITION BY user_id, pairing ORDER BY ts, event_id) AS next_ts
    FROM cost_events
    WHERE (pairing OR NOT counted)
      AND coalesce(event_type, '') NOT LIKE '%\_completed' ESCAPE '\'
      AND action <> 'error_handling'
      -- an estimate up to two minutes before the week pairs with an actual in it; the last
      -- estimate before $end loses its next one, which is at or after $end (no actual of the
      -- week is after it, so the pairs do not change)
      AND ts >= $start - INTERVAL 2 MINUTE AND ts < $end
), done AS (
    SELECT event_id, user_id, ts, action, cost_usd, pairing
    FROM cost_events
    WHERE event_type LIKE '%\_completed' ESCAPE '\'
      AND ts >= $start - INTERVAL 2 MINUTE AND ts < $end
), matched AS (
    SELECT e.action, e.cost_usd AS estimated, d.cost_usd AS actual, d.ts AS actual_ts,
           row_number() OVER (PARTITION BY e.event_id ORDER BY d.ts, d.event_id) AS nth
    FROM est e
    JOIN done d
      ON d.user_id = e.user_id AND d.action = e.action AND d.pairing = e.pairing
     AND d.ts >= e.ts AND d.ts <= e.ts + INTERVAL 2 MINUTE
     AND (e.next_ts IS NULL OR d.ts < e.next_ts)
), paired AS (
    SELECT action,
           count(*)                     AS pairs,
           sum(estimated)               AS estimated,
           sum(actual)                  AS actual,
           sum(abs(estimated - actual)) AS abs_error
    FROM matched
    WHERE nth = 1 AND actual_ts >= $start
    GROUP BY action
), alone AS (
    -- est's pairing rows of the week, read again without its window (est used twice was
    -- materialised: 4 s at 1,000,000 users)
    SELECT action, count(*) AS estimates_alone
    FROM cost_events
    WHERE pairing AND counted
      AND coalesce(event_type, '') NOT LIKE '%\_completed' ESCAPE '\'
      AND action <> 'error_handling'
      AND ts >= $start AND ts < $end
    GROUP BY action
)
SELECT
    coalesce(p.action, a.action)                        AS action,
    coalesce(p.pairs, 0)::BIGINT                        AS pairs,
    CAST(coalesce(p.estimated, 0) * 1000000 AS BIGINT)  AS estimated_micro,
    CAST(coalesce(p.actual, 0) * 1000000 AS BIGINT)     AS actual_micro,
    CAST(coalesce(p.abs_error, 0) * 1000000 AS BIGINT)  AS abs_error_micro,
    coalesce(a.estimates_alone, 0)::BIGINT              AS estimates_alone
FROM paired p
FULL OUTER JOIN alone a ON a.action = p.action
ORDER BY actual_micro DESC, action

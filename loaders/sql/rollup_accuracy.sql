-- Estimate accuracy per UTC day of the actual and action, for the changed days in
-- [$lo, $hi) and the users whose phone hashes to $part of $parts (loaders/rollups.py runs
-- each part of each run of days, so no part spills): the pairs of
-- queries/weekly_estimate_accuracy.sql (the same rule, held equal to it by the tests).
-- An actual pairs with an estimate up to two minutes before it, so the lines read start two
-- minutes before $lo (an estimate's next estimate, which ends its window, only matters
-- when it comes before the actual, so it is among them). Rows go to rollup_accuracy_parts.
INSERT INTO rollup_accuracy_parts
WITH lines AS (
    SELECT event_id, user_id, ts, action, cost_usd, counted, pairing,
           coalesce(event_type, '') LIKE '%\_completed' ESCAPE '\' AS is_actual
    FROM cost_events
    WHERE ts >= $lo - INTERVAL 2 MINUTE AND ts < $hi
      AND hash(user_id) % $parts = $part
), est AS (
    SELECT event_id, user_id, ts, action, cost_usd, pairing,
           lead(ts) OVER (PARTITION BY user_id, pairing ORDER BY ts, event_id) AS next_ts
    FROM lines
    WHERE (pairing OR NOT counted) AND NOT is_actual AND action <> 'error_handling'
), done AS (
    SELECT event_id, user_id, ts, action, cost_usd, pairing FROM lines WHERE is_actual
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
    WHERE nth = 1 AND actual_ts >= $lo
    GROUP BY 1, 2
), alone AS (
    SELECT CAST(ts AS DATE) AS day, action, count(*) AS estimates_alone
    FROM lines
    WHERE pairing AND counted AND NOT is_actual AND action <> 'error_handling' AND ts >= $lo
    GROUP BY 1, 2
)
SELECT coalesce(p.day, a.day), coalesce(p.action, a.action), coalesce(p.pairs, 0),
       coalesce(p.estimated_micro, 0), coalesce(p.actual_micro, 0),
       coalesce(p.abs_error_micro, 0), coalesce(a.estimates_alone, 0)
FROM paired p
FULL OUTER JOIN alone a ON a.day = p.day AND a.action = p.action;

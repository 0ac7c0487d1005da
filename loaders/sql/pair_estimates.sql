-- The original service wrote an estimate (event_type = the action) before serving and
-- `<action>_completed` after. An estimate followed, for the same user and action, by a
-- completion within two minutes and before that user's next estimate is the same
-- request, so it does not count. Recomputed for the users a load touched, so a pair
-- split across two loads comes out as in one load.
-- The runtime (runtime.md) names the request on both lines (`request_id`): its request
-- line is replaced exactly by a completion of the same user and request id, whenever
-- that came, and those lines take no part in the two-minute rule.
-- Returns the UTC day of each line it changed (the rollups roll those days up again).
UPDATE cost_events AS t
SET counted = NOT p.replaced
FROM (
    WITH est AS (
        SELECT event_id, user_id, ts, action,
               lead(ts) OVER (PARTITION BY user_id ORDER BY ts, event_id) AS next_ts
        FROM cost_events
        WHERE pairing
          AND request_id IS NULL
          AND user_id IN (SELECT user_id FROM _touched_users)
          AND coalesce(event_type, '') NOT LIKE '%\_completed' ESCAPE '\'
          AND action <> 'error_handling'
    ), done AS (
        SELECT user_id, ts, action
        FROM cost_events
        WHERE pairing
          AND request_id IS NULL
          AND user_id IN (SELECT user_id FROM _touched_users)
          AND event_type LIKE '%\_completed' ESCAPE '\'
    ), runtime_done AS (
        SELECT DISTINCT user_id, request_id
        FROM cost_events
        WHERE pairing
          AND request_id IS NOT NULL
          AND user_id IN (SELECT user_id FROM _touched_users)
          AND event_type LIKE '%\_completed' ESCAPE '\'
    )
    SELECT e.event_id,
           EXISTS (
               SELECT 1 FROM done d
               WHERE d.user_id = e.user_id AND d.action = e.action
                 AND d.ts >= e.ts AND d.ts <= e.ts + INTERVAL 2 MINUTE
                 AND (e.next_ts IS NULL OR d.ts < e.next_ts)
           ) AS replaced
    FROM est e
    UNION ALL
    SELECT c.event_id, r.request_id IS NOT NULL AS replaced
    FROM cost_events c
    LEFT JOIN runtime_done r ON r.user_id = c.user_id AND r.request_id = c.request_id
    WHERE c.pairing
      AND c.request_id IS NOT NULL
      AND c.user_id IN (SELECT user_id FROM _touched_users)
      AND coalesce(c.event_type, '') NOT LIKE '%\_completed' ESCAPE '\'
) AS p
WHERE t.event_id = p.event_id AND t.counted IS DISTINCT FROM (NOT p.replaced)
RETURNING CAST(t.ts AS DATE) AS day

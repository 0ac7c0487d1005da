-- The replay's requests in a database loaded before `cost_events` had the runtime's
-- columns (requested_cost_usd, request_id): counted cost events in [$start, $end) (UTC instants of the policy
-- timezone's month boundaries). Money as integer micro-dollars, instants as epoch
-- micro-seconds, so nothing passes through a float. Unordered: History sorts in numpy,
-- several times faster than ORDER BY on strings here.
SELECT event_id,
       user_id,
       date_diff('microsecond', TIMESTAMP '1970-01-01', ts) AS ts_us,
       action,
       CAST(cost_usd * 1000000 AS BIGINT) AS cost_micro
FROM cost_events
WHERE counted
  AND ts >= $start
  AND ts < $end

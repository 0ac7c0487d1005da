-- The replay's requests in [$start, $end) (UTC instants of the policy timezone's month
-- boundaries). A request the runtime decided carries `requested_cost_usd`, its cost at
-- full service: that is its est_cost, whether it was served, refused or completed (its
-- completion line, paired by request_id, only measures the cost and is no request).
-- Any other counted cost line is a request at its counted cost, as before (runtime.md).
-- Money as integer micro-dollars, instants as epoch micro-seconds, so nothing passes
-- through a float. Unordered: History sorts in numpy, several times faster than ORDER BY
-- on strings here.
SELECT event_id,
       user_id,
       date_diff('microsecond', TIMESTAMP '1970-01-01', ts)            AS ts_us,
       action,
       CAST(coalesce(requested_cost_usd, cost_usd) * 1000000 AS BIGINT) AS cost_micro
FROM cost_events
WHERE (requested_cost_usd IS NOT NULL OR (counted AND request_id IS NULL))
  AND ts >= $start
  AND ts < $end

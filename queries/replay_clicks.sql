-- The replay's affiliate clicks (kind 'click' only) in [$start, $end).
SELECT event_id,
       user_id,
       date_diff('microsecond', TIMESTAMP '1970-01-01', ts) AS ts_us
FROM affiliate_events
WHERE kind = 'click'
  AND ts >= $start
  AND ts < $end

-- The replay's revenue events (every stream, refunds included) in [$start, $end).
SELECT event_id,
       user_id,
       date_diff('microsecond', TIMESTAMP '1970-01-01', ts) AS ts_us,
       stream,
       CAST(CAST(amount_usd AS DECIMAL(38, 6)) * 1000000 AS BIGINT) AS amount_micro,
       tokens
FROM revenue_events
WHERE ts >= $start
  AND ts < $end

-- The replay floor: an unsorted read of the month's requests, revenue and clicks (the rows
-- the replay reads, as replay_requests/replay_revenue/replay_clicks select them), as one
-- result into Arrow. No sort, no user codes, no decisions.
SELECT 0 AS kind, event_id, user_id, ts,
       CAST(coalesce(requested_cost_usd, cost_usd) * 1000000 AS BIGINT) AS micro
FROM cost_events
WHERE (requested_cost_usd IS NOT NULL OR (counted AND request_id IS NULL))
  AND ts >= $start AND ts < $end
UNION ALL
SELECT 1, event_id, user_id, ts, CAST(amount_usd * 1000000 AS BIGINT)
FROM revenue_events WHERE ts >= $start AND ts < $end
UNION ALL
SELECT 2, event_id, user_id, ts, 0
FROM affiliate_events WHERE kind = 'click' AND ts >= $start AND ts < $end

-- Token purchases: revenue lines of stream `tokens` with a positive amount in the period,
-- of the period's active users (at least one counted cost event in it).
SELECT count(*)::BIGINT AS token_purchases
FROM revenue_events
WHERE stream = 'tokens' AND amount_usd > 0 AND ts >= $start AND ts < $end
  AND user_id IN (SELECT user_id FROM cost_events
                  WHERE counted AND ts >= $start AND ts < $end)

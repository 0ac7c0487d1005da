-- What the chatbot's runtime recorded for its requests in [$start, $end), for the
-- What-if baseline "history as recorded": the cost incurred as counted (a completion's
-- measured cost where it replaced the decision's), the decision's reason and the tokens
-- it spent. Empty for history the runtime did not write.
WITH done AS (
    SELECT user_id, request_id, sum(cost_usd) AS cost_usd
    FROM cost_events
    WHERE request_id IS NOT NULL
      AND requested_cost_usd IS NULL
      AND counted
    GROUP BY user_id, request_id
)
SELECT c.event_id,
       CAST(CASE WHEN c.counted OR d.cost_usd IS NULL THEN c.cost_usd ELSE d.cost_usd END
            * 1000000 AS BIGINT)                                           AS recorded_cost_micro,
       c.decision_reason                                                   AS recorded_reason,
       TRY_CAST(json_extract_string(c.details, '$.tokens_spent') AS BIGINT) AS recorded_tokens
FROM cost_events c
LEFT JOIN done d ON d.user_id = c.user_id AND d.request_id = c.request_id
WHERE c.requested_cost_usd IS NOT NULL
  AND c.ts >= $start
  AND c.ts < $end

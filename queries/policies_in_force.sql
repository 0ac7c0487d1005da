-- Which policy decided the runtime's requests in [$start, $end): one row per policy id
-- (`<name>@<12 hex>`, enforcement.policy.policy_id) with the span it was in force and how
-- many requests it decided, earliest first. Empty for history the runtime did not write
-- (run it only where `runtime_columns` finds the runtime's columns).
SELECT policy_id,
       split_part(policy_id, '@', 1)                 AS policy_name,
       min(ts)                                       AS first_decision,
       max(ts)                                       AS last_decision,
       count(*)                                      AS requests,
       count(*) FILTER (WHERE decision_served)       AS served
FROM cost_events
WHERE requested_cost_usd IS NOT NULL
  AND policy_id IS NOT NULL
  AND ts >= $start
  AND ts < $end
GROUP BY policy_id
ORDER BY first_decision, policy_id

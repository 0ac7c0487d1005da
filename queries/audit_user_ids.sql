-- Every user the database knows, for the auditor's `python -m dashboard.audit find-ref`.
SELECT DISTINCT user_id FROM cost_events
UNION SELECT DISTINCT user_id FROM revenue_events
UNION SELECT DISTINCT user_id FROM token_balances
UNION SELECT DISTINCT user_id FROM affiliate_events

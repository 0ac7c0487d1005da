-- Every user the data knows (costs, revenue, balances): what a keyed reference in a link is
-- matched against, so the phone itself never travels in a URL.
SELECT user_id FROM cost_events
UNION
SELECT user_id FROM revenue_events
UNION
SELECT user_id FROM token_balances

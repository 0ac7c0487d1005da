-- What is loaded: rows, first and last instant (UTC) and distinct users per contract table.
SELECT 'cost_events' AS table_name, count(*) AS rows, min(ts) AS first_ts, max(ts) AS last_ts,
       count(DISTINCT user_id) AS users
FROM cost_events
UNION ALL
SELECT 'revenue_events', count(*), min(ts), max(ts), count(DISTINCT user_id) FROM revenue_events
UNION ALL
SELECT 'token_balances', count(*), min(as_of), max(as_of), count(DISTINCT user_id)
FROM token_balances
UNION ALL
SELECT 'affiliate_events', count(*), min(ts), max(ts), count(DISTINCT user_id)
FROM affiliate_events

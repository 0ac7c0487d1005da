-- What is loaded: rows, first and last instant (UTC) and distinct users per contract table.
SELECT 'cost_events' AS table_name, count(*) AS rows, strftime(min(ts), '%Y-%m-%d %H:%M') AS first_ts,
       strftime(max(ts), '%Y-%m-%d %H:%M') AS last_ts,
       count(DISTINCT user_id) AS users
FROM cost_events
UNION ALL
SELECT 'revenue_events', count(*), strftime(min(ts), '%Y-%m-%d %H:%M'),
       strftime(max(ts), '%Y-%m-%d %H:%M'), count(DISTINCT user_id) FROM revenue_events
UNION ALL
SELECT 'token_balances', count(*), strftime(min(as_of), '%Y-%m-%d %H:%M'),
       strftime(max(as_of), '%Y-%m-%d %H:%M'), count(DISTINCT user_id)
FROM token_balances
UNION ALL
SELECT 'affiliate_events', count(*), strftime(min(ts), '%Y-%m-%d %H:%M'),
       strftime(max(ts), '%Y-%m-%d %H:%M'), count(DISTINCT user_id)
FROM affiliate_events

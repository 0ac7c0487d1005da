-- Find users by the last digits of their phone ($digits: digits only, bound, never formatted).
-- `ends_with` rather than LIKE, so no character of the input acts as a wildcard.
WITH ids AS (
    SELECT user_id, min(ts) AS first_ts, max(ts) AS last_ts FROM cost_events
    WHERE ends_with(user_id, $digits) GROUP BY user_id
    UNION ALL
    SELECT user_id, min(ts), max(ts) FROM revenue_events
    WHERE ends_with(user_id, $digits) GROUP BY user_id
    UNION ALL
    SELECT user_id, min(as_of), max(as_of) FROM token_balances
    WHERE ends_with(user_id, $digits) GROUP BY user_id
)
SELECT user_id,
       (min(first_ts) AT TIME ZONE 'UTC') AT TIME ZONE $tz AS first_seen,
       (max(last_ts) AT TIME ZONE 'UTC') AT TIME ZONE $tz AS last_seen
FROM ids
GROUP BY user_id
ORDER BY last_seen DESC, user_id
LIMIT $limit

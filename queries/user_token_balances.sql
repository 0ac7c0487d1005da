-- One user's token balance snapshots, oldest first, with the reporting-timezone time.
SELECT as_of, (as_of AT TIME ZONE 'UTC') AT TIME ZONE $tz AS as_of_local, balance
FROM token_balances
WHERE user_id = $user
ORDER BY as_of

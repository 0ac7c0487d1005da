-- How many of the runtime's cost_events columns this database has (2 once loaded by a
-- version that knows them; 0 in a database written before), so the replay reads it.
-- DESCRIBE reads the relation a query would (the read-only connection's view).
SELECT count(*) AS n
FROM (DESCRIBE cost_events)
WHERE column_name IN ('requested_cost_usd', 'request_id')

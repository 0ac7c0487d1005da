-- How many of the runtime's cost_events columns this database has (2 once loaded by a
-- version that knows them; 0 in a database written before), so the replay reads it.
SELECT count(*) AS n
FROM duckdb_columns()
WHERE table_name = 'cost_events'
  AND column_name IN ('requested_cost_usd', 'request_id')

-- The lines of the days that changed (rollup_changed_days.sql found them), for rollup_refresh.sql:
-- the counted cost lines and every revenue line of those days, copied once (each is read
-- four times, and a day's load changes a day or two of a month's 90 M lines).
CREATE OR REPLACE TEMP TABLE rollup_cost_lines AS
SELECT c.user_id, c.ts, c.cost_usd, c.action, c.category
FROM cost_events c SEMI JOIN rollup_changed_days d ON CAST(c.ts AS DATE) = d.day
WHERE c.counted;

CREATE OR REPLACE TEMP TABLE rollup_revenue_lines AS
SELECT r.user_id, r.ts, r.stream, r.amount_usd
FROM revenue_events r SEMI JOIN rollup_changed_days d ON CAST(r.ts AS DATE) = d.day;

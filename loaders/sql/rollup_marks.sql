-- Each UTC day's raw lines as a count and a sum of row hashes over every column a rollup or
-- a first depends on: a day whose mark moved (a line added, removed, re-paired or corrected)
-- is rolled up again; the others are kept. One scan of each table. Each day also keeps its
-- first and last counted cost and revenue instants: the data's span (local_span_rollup.sql)
-- is then read from a row a day, not from the events' instants (1.6 s cold at 1,000,000 users).
CREATE OR REPLACE TEMP TABLE rollup_marks_now AS
WITH c AS (
    SELECT CAST(ts AS DATE) AS day, count(*) AS lines,
           sum(hash(event_id, user_id, ts, cost_usd, counted, action, category,
                    event_type, pairing)) AS h,
           min(ts) FILTER (WHERE counted) AS lo, max(ts) FILTER (WHERE counted) AS hi
    FROM cost_events GROUP BY 1
), r AS (
    SELECT CAST(ts AS DATE) AS day, count(*) AS lines,
           sum(hash(event_id, user_id, ts, stream, amount_usd)) AS h, min(ts) AS lo, max(ts) AS hi
    FROM revenue_events GROUP BY 1
)
SELECT coalesce(c.day, r.day) AS day,
       coalesce(c.lines, 0) AS cost_lines, coalesce(c.h, 0)::HUGEINT AS cost_hash,
       coalesce(r.lines, 0) AS revenue_lines, coalesce(r.h, 0)::HUGEINT AS revenue_hash,
       c.lo AS first_cost_ts, c.hi AS last_cost_ts, r.lo AS first_revenue_ts,
       r.hi AS last_revenue_ts
FROM c FULL OUTER JOIN r USING (day);

CREATE OR REPLACE TEMP TABLE rollup_changed_days AS
SELECT coalesce(n.day, o.day) AS day
FROM rollup_marks_now n FULL OUTER JOIN rollup_day_marks o USING (day)
WHERE n.day IS NULL OR o.day IS NULL
   OR n.cost_lines <> o.cost_lines OR n.cost_hash <> o.cost_hash
   OR n.revenue_lines <> o.revenue_lines OR n.revenue_hash <> o.revenue_hash;

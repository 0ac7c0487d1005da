-- Each UTC day's raw lines in [$lo, $hi) as a count and a sum of row hashes over every
-- column a rollup or a first depends on: a day whose mark moved (a line added, removed,
-- re-paired or corrected) is rolled up again; the others are kept. Every day's when
-- $every_day; else only the days of rollup_suspect_days.sql (a publish that named the days
-- it wrote). Each day also keeps its first and last counted cost and revenue instants: the
-- data's span (local_span_rollup.sql) is then read from a row a day, not from the events'
-- instants (1.6 s cold at 1,000,000 users).
INSERT INTO rollup_marks_now
WITH c AS (
    SELECT CAST(ts AS DATE) AS day, count(*) AS lines,
           sum(hash(event_id, user_id, ts, cost_usd, counted, action, category,
                    event_type, pairing)) AS h,
           min(ts) FILTER (WHERE counted) AS lo, max(ts) FILTER (WHERE counted) AS hi
    FROM cost_events
    WHERE ts >= $lo AND ts < $hi
      AND ($every_day OR CAST(ts AS DATE) IN (SELECT day FROM rollup_suspect_days))
    GROUP BY 1
), r AS (
    SELECT CAST(ts AS DATE) AS day, count(*) AS lines,
           sum(hash(event_id, user_id, ts, stream, amount_usd)) AS h, min(ts) AS lo, max(ts) AS hi
    FROM revenue_events
    WHERE ts >= $lo AND ts < $hi
      AND ($every_day OR CAST(ts AS DATE) IN (SELECT day FROM rollup_suspect_days))
    GROUP BY 1
)
SELECT coalesce(c.day, r.day) AS day,
       coalesce(c.lines, 0) AS cost_lines, coalesce(c.h, 0)::HUGEINT AS cost_hash,
       coalesce(r.lines, 0) AS revenue_lines, coalesce(r.h, 0)::HUGEINT AS revenue_hash,
       c.lo AS first_cost_ts, c.hi AS last_cost_ts, r.lo AS first_revenue_ts,
       r.hi AS last_revenue_ts
FROM c FULL OUTER JOIN r USING (day)

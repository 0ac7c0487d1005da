-- replay_events.sql for a database loaded before `cost_events` had the runtime's columns
-- (requested_cost_usd, request_id): every counted cost line is a request, nothing was
-- recorded, so the recorded columns are left out (as columns of nulls they were 1 GB of
-- Arrow buffers at 1,000,000 users).
WITH ev AS NOT MATERIALIZED (   -- read again per use: materialised, it spilled
    SELECT 0 AS kind, event_id, user_id, ts, action AS name,
           CAST(cost_usd * 1000000 AS BIGINT) AS micro, CAST(NULL AS INTEGER) AS tokens
    FROM cost_events
    WHERE counted
      AND ts >= $start
      AND ts < $end
    UNION ALL
    SELECT 1, event_id, user_id, ts, stream, CAST(CAST(amount_usd AS DECIMAL(38, 6)) * 1000000 AS BIGINT), tokens
    FROM revenue_events
    WHERE ts >= $start
      AND ts < $end
    UNION ALL
    SELECT 2, event_id, user_id, ts, NULL, 0, NULL
    FROM affiliate_events
    WHERE kind = 'click'
      AND ts >= $start
      AND ts < $end
), users AS (
    SELECT user_id, CAST(row_number() OVER (ORDER BY user_id) - 1 AS INTEGER) AS code
    FROM (SELECT DISTINCT user_id FROM ev) AS u
), names AS (               -- actions, streams and reasons: a few texts, as small codes
    SELECT name, CAST(row_number() OVER (ORDER BY name) - 1 AS INTEGER) AS name_code
    FROM (SELECT DISTINCT name FROM ev) AS n
    WHERE name IS NOT NULL
)
SELECT kind, code, ts_us, name, micro, tokens, text, event_id
FROM (
    SELECT CAST(ev.kind AS TINYINT) AS kind,
           users.code,
           date_diff('microsecond', TIMESTAMP '1970-01-01', ev.ts) AS ts_us,
           names.name_code AS name,
           ev.micro,
           ev.tokens,
           CAST(NULL AS VARCHAR) AS text,
           CASE WHEN $exact_order THEN ev.event_id END AS event_id
    FROM ev
    JOIN users ON users.user_id = ev.user_id
    LEFT JOIN names ON names.name = ev.name
    UNION ALL           -- each user code's user_id, as a row of kind 3 (ts 0: its first)
    SELECT CAST(3 AS TINYINT), code, CAST(0 AS BIGINT), NULL, 0, NULL, user_id, NULL
    FROM users
    UNION ALL           -- each name code's text, as a row of kind 4
    SELECT CAST(4 AS TINYINT), name_code, CAST(0 AS BIGINT), NULL, 0, NULL, name, NULL
    FROM names
) AS rows

-- The replay's whole history of [$start, $end) in one read (DuckDB's fast path): requests
-- (kind 0), revenue (kind 1) and affiliate clicks (kind 2), each row with its user's code
-- (0.. in user_id order), so the replay gets integer columns and never holds an id as a
-- Python object. Unordered: `enforcement/event_order.py` sorts by user code and instant in
-- linear time (an ORDER BY here was a third of the replay at 1,000,000 users). Event ids
-- come only when $exact_order asks (to settle two requests at one instant). The rows are
-- those of replay_requests / replay_revenue / replay_clicks, and a request the runtime
-- decided carries what it recorded (replay_recorded's columns). Each code's user id comes
-- as a row of kind 3 whose text is the user_id; each name code's text as a row of kind 4.
WITH done AS (              -- completions of the runtime's decided requests
    SELECT user_id, request_id, sum(cost_usd) AS cost_usd
    FROM cost_events
    WHERE request_id IS NOT NULL
      AND requested_cost_usd IS NULL
      AND counted
    GROUP BY user_id, request_id
), ev AS NOT MATERIALIZED (   -- read again per use: materialised, it spilled
    SELECT 0 AS kind, c.event_id, c.user_id, c.ts, c.action AS name,
           CAST(coalesce(c.requested_cost_usd, c.cost_usd) * 1000000 AS BIGINT) AS micro,
           CAST(NULL AS INTEGER) AS tokens,
           CAST(CASE WHEN c.requested_cost_usd IS NULL THEN NULL
                     WHEN c.counted OR d.cost_usd IS NULL THEN c.cost_usd
                     ELSE d.cost_usd END * 1000000 AS BIGINT) AS recorded_cost_micro,
           CASE WHEN c.requested_cost_usd IS NOT NULL THEN c.decision_reason END
               AS recorded_reason,
           CASE WHEN c.requested_cost_usd IS NOT NULL
                THEN TRY_CAST(json_extract_string(c.details, '$.tokens_spent') AS BIGINT)
           END AS recorded_tokens
    FROM cost_events c
    LEFT JOIN done d ON d.user_id = c.user_id AND d.request_id = c.request_id
                    AND c.requested_cost_usd IS NOT NULL
    WHERE (c.requested_cost_usd IS NOT NULL OR (c.counted AND c.request_id IS NULL))
      AND c.ts >= $start
      AND c.ts < $end
    UNION ALL
    SELECT 1, event_id, user_id, ts, stream, CAST(CAST(amount_usd AS DECIMAL(38, 6)) * 1000000 AS BIGINT), tokens,
           NULL, NULL, NULL
    FROM revenue_events
    WHERE ts >= $start
      AND ts < $end
    UNION ALL
    SELECT 2, event_id, user_id, ts, NULL, 0, NULL, NULL, NULL, NULL
    FROM affiliate_events
    WHERE kind = 'click'
      AND ts >= $start
      AND ts < $end
), users AS (
    SELECT user_id, CAST(row_number() OVER (ORDER BY user_id) - 1 AS INTEGER) AS code
    FROM (SELECT DISTINCT user_id FROM ev) AS u
), names AS (               -- actions, streams and reasons: a few texts, as small codes
    SELECT name, CAST(row_number() OVER (ORDER BY name) - 1 AS INTEGER) AS name_code
    FROM (SELECT name FROM ev UNION SELECT recorded_reason FROM ev) AS n
    WHERE name IS NOT NULL
)
SELECT kind, code, ts_us, name, micro, tokens, recorded_cost_micro, recorded_reason,
       recorded_tokens, text, event_id
FROM (
    SELECT CAST(ev.kind AS TINYINT) AS kind,
           users.code,
           date_diff('microsecond', TIMESTAMP '1970-01-01', ev.ts) AS ts_us,
           names.name_code AS name,
           ev.micro,
           ev.tokens,
           ev.recorded_cost_micro,
           reasons.name_code AS recorded_reason,
           ev.recorded_tokens,
           CAST(NULL AS VARCHAR) AS text,
           CASE WHEN $exact_order THEN ev.event_id END AS event_id
    FROM ev
    JOIN users ON users.user_id = ev.user_id
    LEFT JOIN names ON names.name = ev.name
    LEFT JOIN names AS reasons ON reasons.name = ev.recorded_reason
    UNION ALL           -- each user code's user_id, as a row of kind 3 (ts 0: its first)
    SELECT CAST(3 AS TINYINT), code, CAST(0 AS BIGINT), NULL, 0, NULL, NULL, NULL, NULL, user_id,
           NULL
    FROM users
    UNION ALL           -- each name code's text, as a row of kind 4
    SELECT CAST(4 AS TINYINT), name_code, CAST(0 AS BIGINT), NULL, 0, NULL, NULL, NULL, NULL, name,
           NULL
    FROM names
) AS rows

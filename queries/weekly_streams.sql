-- Revenue stream performance: each of the five streams in [$start, $end) against the week
-- before, [$prev_start, $start). Refunds are included (negative), as in `revenue_usd`.
-- payers: users whose sum in that stream over the week is positive. Money in micro-dollars.
WITH streams(stream, ord) AS (
    VALUES ('tokens', 1), ('premium', 2), ('affiliate', 3), ('data', 4), ('other', 5)
), per_user AS (
    SELECT stream, user_id, ts >= $start AS this_week,
           sum(amount_usd) AS amount,
           count(*) FILTER (WHERE amount_usd > 0) AS payments,
           sum(amount_usd) FILTER (WHERE amount_usd < 0) AS refunds
    FROM revenue_events
    WHERE ts >= $prev_start AND ts < $end
    GROUP BY stream, user_id, ts >= $start
), per_stream AS (
    SELECT stream,
           sum(amount) FILTER (WHERE this_week)                      AS revenue,
           sum(amount) FILTER (WHERE NOT this_week)                  AS prev_revenue,
           count(*) FILTER (WHERE this_week AND amount > 0)          AS payers,
           count(*) FILTER (WHERE NOT this_week AND amount > 0)      AS prev_payers,
           sum(payments) FILTER (WHERE this_week)                    AS payments,
           sum(refunds) FILTER (WHERE this_week)                     AS refunds
    FROM per_user
    GROUP BY stream
)
SELECT
    s.stream,
    CAST(coalesce(p.revenue, 0) * 1000000 AS BIGINT)       AS revenue_micro,
    CAST(coalesce(p.prev_revenue, 0) * 1000000 AS BIGINT)  AS prev_revenue_micro,
    coalesce(p.payers, 0)::BIGINT                          AS payers,
    coalesce(p.prev_payers, 0)::BIGINT                     AS prev_payers,
    coalesce(p.payments, 0)::BIGINT                        AS payments,
    CAST(coalesce(p.refunds, 0) * 1000000 AS BIGINT)       AS refunds_micro
FROM streams s
LEFT JOIN per_stream p USING (stream)
ORDER BY s.ord

-- One user's events in [$start, $end): counted and uncounted cost lines and revenue, in the
-- order the month-to-date sums take them (ts, then revenue before cost at the same instant,
-- as the replay does, then event_id). ts_local is in the reporting timezone $tz.
SELECT
    event_id,
    ts,
    (ts AT TIME ZONE 'UTC') AT TIME ZONE $tz     AS ts_local,
    'cost'                                   AS kind,
    action                                   AS name,
    event_type,
    category,
    counted,
    CAST(cost_usd * 1000000 AS BIGINT)       AS cost_micro,
    0::BIGINT                                AS revenue_micro,
    NULL::VARCHAR                            AS partner,
    NULL::INTEGER                            AS tokens,
    2                                        AS ord
FROM cost_events
WHERE user_id = $user AND ts >= $start AND ts < $end
UNION ALL
SELECT
    event_id, ts, (ts AT TIME ZONE 'UTC') AT TIME ZONE $tz, 'revenue', stream, NULL, NULL, true,
    0::BIGINT, CAST(CAST(amount_usd AS DECIMAL(38, 6)) * 1000000 AS BIGINT), partner, tokens, 1
FROM revenue_events
WHERE user_id = $user AND ts >= $start AND ts < $end
ORDER BY ts, ord, event_id

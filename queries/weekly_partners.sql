-- Revenue per stream and partner (affiliate partner, premium plan, ...) in [$start, $end)
-- against the week before, [$prev_start, $start). Partner is the source's text, unchanged
-- ('' where none): exports must keep it as text. Money in micro-dollars.
SELECT
    stream,
    coalesce(partner, '')                                                           AS partner,
    CAST(coalesce(sum(amount_usd) FILTER (WHERE ts >= $start), 0) * 1000000 AS BIGINT) AS revenue_micro,
    CAST(coalesce(sum(amount_usd) FILTER (WHERE ts < $start), 0) * 1000000 AS BIGINT)  AS prev_revenue_micro,
    count(DISTINCT user_id) FILTER (WHERE ts >= $start)::BIGINT                     AS users
FROM revenue_events
WHERE ts >= $prev_start AND ts < $end
GROUP BY stream, coalesce(partner, '')
ORDER BY revenue_micro DESC, stream, partner

-- Staged revenue (VARCHAR) to contract rows with the first reason a row is refused.
WITH s AS (
    SELECT
        *,
        money(amount_usd) AS _amount,
        money_reason(amount_usd, 'amount', true) AS _amount_reason,
        instant(ts) AS _ts,
        lower(coalesce(tidy(stream), '')) AS _stream
    FROM _staged_revenue_events
), n AS (
    SELECT
        *,
        coalesce(
            id_reason(event_id),
            phone_reason(user_id),
            instant_reason(ts, _ts),
            CASE
                WHEN _amount_reason IS NOT NULL THEN _amount_reason
                WHEN _stream NOT IN ('tokens', 'premium', 'affiliate', 'data', 'other')
                    THEN 'unknown stream: ' || coalesce(stream, '')
                WHEN nullif(tidy(tokens), '') IS NOT NULL AND whole(tokens) IS NULL
                    THEN 'tokens is not a whole number: ' || tidy(tokens)
            END,
            json_reason(details)) AS _reason
    FROM s
)
SELECT
    _seq,
    _reason,
    CASE WHEN _reason IS NOT NULL THEN coalesce(_raw, to_json(struct_pack(
        event_id, user_id, ts, stream, amount_usd, tokens, partner, details
    ))::VARCHAR) END AS _raw_record,
    tidy(event_id) AS event_id,
    phone(user_id) AS user_id,
    _ts AS ts,
    _stream AS stream,
    _amount AS amount_usd,
    CASE WHEN _reason IS NULL THEN whole(tokens) END AS tokens,
    nullif(partner, '') AS partner,
    CASE WHEN _reason IS NULL THEN nullif(tidy(details), '')::JSON END AS details
FROM n

-- Staged revenue (VARCHAR) to contract rows with the first reason a row is refused.
WITH s AS (
    SELECT
        rowid AS _seq,
        *,
        trim(coalesce(user_id, '')) AS _user_raw,
        regexp_replace(lower(trim(coalesce(user_id, ''))), '^(whatsapp|tel|sms):', '') AS _user_body,
        TRY_CAST(trim(ts) AS TIMESTAMPTZ)::TIMESTAMP AS _ts,
        TRY_CAST(trim(amount_usd) AS DECIMAL(18, 6)) AS _amount,
        TRY_CAST(trim(tokens) AS DECIMAL(38, 6)) AS _tokens,
        lower(trim(coalesce(stream, ''))) AS _stream
    FROM _stage_revenue_events
), n AS (
    SELECT
        *,
        CASE
            WHEN nullif(trim(event_id), '') IS NULL THEN 'missing event_id'
            WHEN _user_raw = '' THEN 'missing user'
            WHEN NOT regexp_full_match(_user_body, '[+]?[0-9 ().-]*[0-9][0-9 ().-]*')
                THEN 'user is not a phone number: ' || _user_raw
            WHEN nullif(trim(ts), '') IS NULL THEN 'missing timestamp'
            WHEN _ts IS NULL THEN 'timestamp does not parse: ' || trim(ts)
            WHEN nullif(trim(amount_usd), '') IS NULL THEN 'missing amount'
            WHEN _amount IS NULL THEN 'amount is not a number: ' || trim(amount_usd)
            WHEN _stream NOT IN ('tokens', 'premium', 'affiliate', 'data', 'other')
                THEN 'unknown stream: ' || coalesce(stream, '')
            WHEN nullif(trim(tokens), '') IS NOT NULL
                 AND (_tokens IS NULL OR _tokens <> floor(_tokens)
                      OR abs(_tokens) > 2147483647)
                THEN 'tokens is not a whole number: ' || trim(tokens)
            WHEN nullif(trim(details), '') IS NOT NULL AND NOT json_valid(details)
                THEN 'details is not JSON'
        END AS _reason
    FROM s
)
SELECT
    _seq,
    _reason,
    CASE WHEN _reason IS NOT NULL THEN coalesce(_raw, to_json(struct_pack(event_id, user_id, ts, stream, amount_usd, tokens,
                                       partner, details))::VARCHAR)
        END AS _raw_record,
    trim(event_id) AS event_id,
    '+' || regexp_replace(_user_body, '[^0-9]', '', 'g') AS user_id,
    _ts AS ts,
    _stream AS stream,
    _amount AS amount_usd,
    CASE WHEN _reason IS NULL THEN _tokens::INTEGER END AS tokens,
    nullif(partner, '') AS partner,
    CASE WHEN _reason IS NULL THEN nullif(trim(details), '')::JSON END AS details
FROM n

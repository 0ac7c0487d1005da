-- Staged token balances (VARCHAR) to contract rows with the first reason a row is refused.
WITH s AS (
    SELECT
        rowid AS _seq,
        *,
        trim(coalesce(user_id, '')) AS _user_raw,
        regexp_replace(lower(trim(coalesce(user_id, ''))), '^(whatsapp|tel|sms):', '') AS _user_body,
        TRY_CAST(trim(as_of) AS TIMESTAMPTZ)::TIMESTAMP AS _as_of,
        TRY_CAST(trim(balance) AS DECIMAL(38, 6)) AS _balance
    FROM _stage_token_balances
), n AS (
    SELECT
        *,
        CASE
            WHEN _user_raw = '' THEN 'missing user'
            WHEN NOT regexp_full_match(_user_body, '[+]?[0-9 ().-]*[0-9][0-9 ().-]*')
                THEN 'user is not a phone number: ' || _user_raw
            WHEN nullif(trim(as_of), '') IS NULL THEN 'missing timestamp'
            WHEN _as_of IS NULL THEN 'timestamp does not parse: ' || trim(as_of)
            WHEN nullif(trim(balance), '') IS NULL THEN 'missing balance'
            WHEN _balance IS NULL OR _balance <> floor(_balance) OR abs(_balance) > 2147483647
                THEN 'balance is not a whole number: ' || trim(balance)
        END AS _reason
    FROM s
)
SELECT
    _seq,
    _reason,
    CASE WHEN _reason IS NOT NULL THEN coalesce(_raw, to_json(struct_pack(user_id, as_of, balance))::VARCHAR)
        END AS _raw_record,
    -- token balances have no event id: a snapshot is identified by user and instant
    '+' || regexp_replace(_user_body, '[^0-9]', '', 'g') || '@' || coalesce(_as_of::VARCHAR, '')
        AS event_id,
    '+' || regexp_replace(_user_body, '[^0-9]', '', 'g') AS user_id,
    _as_of AS as_of,
    CASE WHEN _reason IS NULL THEN _balance::INTEGER END AS balance
FROM n

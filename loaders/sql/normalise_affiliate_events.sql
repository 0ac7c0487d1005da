-- Staged affiliate events (VARCHAR) to contract rows with the first reason a row is refused.
WITH s AS (
    SELECT
        rowid AS _seq,
        *,
        trim(coalesce(user_id, '')) AS _user_raw,
        regexp_replace(lower(trim(coalesce(user_id, ''))), '^(whatsapp|tel|sms):', '') AS _user_body,
        TRY_CAST(trim(ts) AS TIMESTAMPTZ)::TIMESTAMP AS _ts,
        lower(trim(coalesce(kind, ''))) AS _kind
    FROM _stage_affiliate_events
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
            WHEN _kind NOT IN ('shown', 'click', 'conversion')
                THEN 'unknown affiliate kind: ' || coalesce(kind, '')
        END AS _reason
    FROM s
)
SELECT
    _seq,
    _reason,
    CASE WHEN _reason IS NOT NULL THEN coalesce(_raw, to_json(struct_pack(event_id, user_id, ts, partner, kind))::VARCHAR)
        END AS _raw_record,
    trim(event_id) AS event_id,
    '+' || regexp_replace(_user_body, '[^0-9]', '', 'g') AS user_id,
    _ts AS ts,
    nullif(partner, '') AS partner,
    _kind AS kind
FROM n

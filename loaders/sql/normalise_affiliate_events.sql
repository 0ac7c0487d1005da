-- Staged affiliate events (VARCHAR) to contract rows with the first reason a row is refused.
WITH s AS (
    SELECT *, instant(ts) AS _ts FROM _staged_affiliate_events
), n AS (
    SELECT
        *,
        lower(coalesce(tidy(kind), '')) AS _kind,
        coalesce(
            id_reason(event_id),
            phone_reason(user_id),
            instant_reason(ts, _ts),
            CASE WHEN _kind NOT IN ('shown', 'click', 'conversion')  -- (the alias above)
                 THEN 'unknown affiliate kind: ' || coalesce(kind, '') END) AS _reason
    FROM s
)
SELECT
    _seq,
    _reason,
    CASE WHEN _reason IS NOT NULL THEN coalesce(_raw, to_json(struct_pack(
        event_id, user_id, ts, partner, kind))::VARCHAR) END AS _raw_record,
    tidy(event_id) AS event_id,
    phone(user_id) AS user_id,
    _ts AS ts,
    nullif(partner, '') AS partner,
    _kind AS kind
FROM n

-- Staged cost lines (all VARCHAR, as the source sent them) to contract rows, with the
-- first reason a row cannot be loaded (NULL when it can). Reads _stage_cost_events.
WITH s AS (
    SELECT
        rowid AS _seq,
        *,
        trim(coalesce(user_id, '')) AS _user_raw,
        regexp_replace(lower(trim(coalesce(user_id, ''))), '^(whatsapp|tel|sms):', '') AS _user_body,
        TRY_CAST(trim(ts) AS TIMESTAMPTZ)::TIMESTAMP AS _ts,
        TRY_CAST(trim(cost_usd) AS DECIMAL(18, 6)) AS _cost,
        regexp_replace(
            lower(trim(coalesce(nullif(trim(action), ''), nullif(trim(event_type), ''), ''))),
            '_completed$', '') AS _action_raw
    FROM _stage_cost_events
), n AS (
    SELECT
        *,
        CASE _action_raw WHEN 'meal_plan_generation' THEN 'meal_plan' ELSE _action_raw END AS _action,
        CASE WHEN trim(coalesce(counted, '')) = '' THEN NULL
             ELSE TRY_CAST(trim(counted) AS BOOLEAN) END AS _counted,
        CASE WHEN nullif(trim(details), '') IS NULL THEN NULL
             WHEN json_valid(details) THEN details END AS _details,
        CASE
            WHEN nullif(trim(event_id), '') IS NULL THEN 'missing event_id'
            WHEN _user_raw = '' THEN 'missing user'
            WHEN NOT regexp_full_match(_user_body, '[+]?[0-9 ().-]*[0-9][0-9 ().-]*')
                THEN 'user is not a phone number: ' || _user_raw
            WHEN nullif(trim(ts), '') IS NULL THEN 'missing timestamp'
            WHEN _ts IS NULL THEN 'timestamp does not parse: ' || trim(ts)
            WHEN nullif(trim(cost_usd), '') IS NULL THEN 'missing cost'
            WHEN _cost IS NULL THEN 'cost is not a number: ' || trim(cost_usd)
            WHEN _cost < 0 THEN 'negative cost: ' || trim(cost_usd)
            WHEN _action_raw = '' THEN 'missing action'
            WHEN trim(coalesce(counted, '')) <> '' AND TRY_CAST(trim(counted) AS BOOLEAN) IS NULL
                THEN 'counted is not a boolean: ' || trim(counted)
            WHEN nullif(trim(details), '') IS NOT NULL AND NOT json_valid(details)
                THEN 'details is not JSON'
        END AS _reason
    FROM s
)
SELECT
    _seq,
    _reason,
    CASE WHEN _reason IS NOT NULL THEN coalesce(_raw, to_json(struct_pack(event_id, user_id, ts, action, event_type, cost_usd,
                                       counted, category, details))::VARCHAR)
        END AS _raw_record,
    trim(event_id) AS event_id,
    '+' || regexp_replace(_user_body, '[^0-9]', '', 'g') AS user_id,
    _ts AS ts,
    _action AS action,
    event_type,
    _cost AS cost_usd,
    coalesce(_counted, true) AS counted,
    CASE
        WHEN nullif(trim(category), '') IS NULL THEN NULL
        WHEN lower(trim(category)) IN ('ai', 'messaging', 'database', 'lambda', 'api_gateway',
                                       'external_api', 'other') THEN lower(trim(category))
        ELSE 'other'
    END AS category,
    _details::JSON AS details,
    _counted IS NULL AS pairing
FROM n

-- Staged cost lines (all VARCHAR, as the source sent them) to contract rows, with the
-- first reason a row cannot be loaded (NULL when it can). Reads _staged_cost_events;
-- the shared rules (phone, instant, ...) are the macros of macros.sql. `_ts_typed` and
-- `_cost_typed` are a typed Parquet file's own values where they are certain to equal what
-- the rules make of the text (loaders/pipeline.py, TYPED_COLUMNS), else NULL: the text is
-- parsed only where they are NULL. Every reason comes from the text; a typed instant (in
-- the accepted range by construction) and a typed cost of zero or more have none.
WITH s AS (
    SELECT
        *,
        coalesce(_cost_typed, money(cost_usd)) AS _cost,
        TRY_CAST(nullif(_details_t, '') AS JSON) AS _details,
        CASE WHEN _cost_typed IS NULL OR _cost_typed < 0
             THEN money_reason(cost_usd, 'cost', false) END AS _cost_reason,
        coalesce(_ts_typed, instant(ts)) AS _ts,
        -- a completion line names its request's action: `meal_plan_completed` -> `meal_plan`
        -- (a suffix test, not a regexp_replace: a third of the time at 2 M lines)
        CASE WHEN suffix(_action_text, '_completed')
             THEN left(_action_text, length(_action_text) - 10)
             ELSE _action_text END AS _action_raw,
        CASE WHEN coalesce(_counted_t, '') = '' THEN NULL
             ELSE TRY_CAST(_counted_t AS BOOLEAN) END AS _counted,
        -- what the runtime records with a decision (null for every other source)
        TRY_CAST(_requested_t AS DECIMAL(18, 6)) AS _requested,
        CASE WHEN coalesce(_served_t, '') = '' THEN NULL
             ELSE TRY_CAST(_served_t AS BOOLEAN) END AS _served
    FROM (SELECT *,
                 lower(coalesce(nullif(_action_t, ''), nullif(tidy(event_type), ''), ''))
                     AS _action_text
          FROM (SELECT *,
                       -- each text trimmed once (tidy: macros.sql)
                       tidy(event_id) AS _event_id, tidy(action) AS _action_t,
                       tidy(counted) AS _counted_t, tidy(category) AS _category_t,
                       tidy(details) AS _details_t, tidy(requested_cost_usd) AS _requested_t,
                       tidy(decision_served) AS _served_t
                FROM _staged_cost_events))
), n AS (
    SELECT
        *,
        coalesce(
            id_reason(_event_id),
            phone_reason(user_id),
            CASE WHEN _ts_typed IS NULL THEN instant_reason(ts, _ts) END,
            CASE
                WHEN _cost_reason IS NOT NULL THEN _cost_reason
                WHEN _action_raw = '' THEN 'missing action'
                WHEN coalesce(_counted_t, '') <> '' AND _counted IS NULL
                    THEN 'counted is not a boolean: ' || _counted_t
                WHEN nullif(_requested_t, '') IS NOT NULL AND _requested IS NULL
                    THEN 'requested cost is not a number: ' || _requested_t
                WHEN _requested < 0 THEN 'negative requested cost: ' || _requested_t
                WHEN coalesce(_served_t, '') <> '' AND _served IS NULL
                    THEN 'decision_served is not a boolean: ' || _served_t
            END,
            CASE WHEN nullif(_details_t, '') IS NOT NULL AND _details IS NULL THEN 'details is not JSON' END) AS _reason
    FROM s
)
SELECT
    _seq,
    _reason,
    CASE WHEN _reason IS NOT NULL THEN coalesce(_raw, to_json(struct_pack(
        event_id, user_id, ts, action, event_type, cost_usd, counted, category, details
    ))::VARCHAR) END AS _raw_record,
    _event_id AS event_id,
    phone(user_id) AS user_id,
    _ts AS ts,
    -- the seed's own example names the meal plan action `meal_plan_generation`
    CASE _action_raw WHEN 'meal_plan_generation' THEN 'meal_plan' ELSE _action_raw END AS action,
    event_type,
    _cost AS cost_usd,
    coalesce(_counted, true) AS counted,
    CASE
        WHEN _category_t IN ('ai', 'messaging', 'database', 'lambda', 'api_gateway',
                             'external_api', 'other') THEN _category_t  -- (as written: no lower)
        WHEN nullif(_category_t, '') IS NULL THEN NULL
        WHEN lower(_category_t) IN ('ai', 'messaging', 'database', 'lambda', 'api_gateway',
                                    'external_api', 'other') THEN lower(_category_t)
        ELSE 'other'
    END AS category,
    _details AS details,  -- (a refused row keeps its record, not this)
    _counted IS NULL AS pairing,
    _requested AS requested_cost_usd,
    _served AS decision_served,
    nullif(tidy(decision_level), '') AS decision_level,
    nullif(tidy(decision_reason), '') AS decision_reason,
    nullif(tidy(policy_id), '') AS policy_id,
    nullif(tidy(request_id), '') AS request_id
FROM n

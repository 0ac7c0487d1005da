-- The rules every contract table shares, written once: a phone, an instant, the first
-- reason a value cannot be loaded. Created as temporary macros for each load.

-- The phone without its channel prefix: `whatsapp:+1 234-567-890` -> `+1 234-567-890`.
CREATE OR REPLACE TEMP MACRO phone_body(u) AS
    regexp_replace(lower(trim(coalesce(u, ''))), '^(whatsapp|tel|sms):', '');

-- E.164: `+` and digits only.
CREATE OR REPLACE TEMP MACRO phone(u) AS
    '+' || regexp_replace(phone_body(u), '[^0-9]', '', 'g');

CREATE OR REPLACE TEMP MACRO phone_reason(u) AS
    CASE
        WHEN trim(coalesce(u, '')) = '' THEN 'missing user'
        WHEN NOT regexp_full_match(phone_body(u), '[+]?[0-9 ().-]*[0-9][0-9 ().-]*')
            THEN 'user is not a phone number: ' || trim(u)
    END;

-- An instant in UTC: naive text is UTC, an offset is converted.
CREATE OR REPLACE TEMP MACRO instant(t) AS TRY_CAST(trim(t) AS TIMESTAMPTZ)::TIMESTAMP;

-- Only instants a real event can have: [earliest, latest) from the settings, set as
-- the variables instant_earliest / instant_latest before these macros run (no infinity,
-- no year 12000, which would load and then break every page).
CREATE OR REPLACE TEMP MACRO instant_reason(t) AS
    CASE
        WHEN nullif(trim(t), '') IS NULL THEN 'missing timestamp'
        WHEN instant(t) IS NULL THEN 'timestamp does not parse: ' || trim(t)
        WHEN NOT (instant(t) >= getvariable('instant_earliest')
                  AND instant(t) < getvariable('instant_latest'))
            THEN 'timestamp out of range: ' || trim(t) || ' (accepted: '
                 || strftime(getvariable('instant_earliest'), '%Y-%m-%d') || ' to before '
                 || strftime(getvariable('instant_latest'), '%Y-%m-%d') || ')'
    END;

CREATE OR REPLACE TEMP MACRO id_reason(i) AS
    CASE WHEN nullif(trim(i), '') IS NULL THEN 'missing event_id' END;

-- A whole number within INTEGER, given as text ('120', '120.0'); NULL otherwise.
CREATE OR REPLACE TEMP MACRO whole(x) AS
    CASE WHEN TRY_CAST(trim(x) AS DECIMAL(38, 6)) = floor(TRY_CAST(trim(x) AS DECIMAL(38, 6)))
              AND abs(TRY_CAST(trim(x) AS DECIMAL(38, 6))) <= 2147483647
         THEN TRY_CAST(trim(x) AS DECIMAL(38, 6))::INTEGER END;

CREATE OR REPLACE TEMP MACRO json_reason(d) AS
    CASE WHEN nullif(trim(d), '') IS NOT NULL AND NOT json_valid(d) THEN 'details is not JSON' END;

-- The rules every contract table shares, written once: a phone, an instant, the first
-- reason a value cannot be loaded. Created as temporary macros for each load.
--
-- Fast paths: a value already written the way an export writes it (`+15551234567`,
-- `2026-03-01 09:19:40.800534`, `0.010000`) is decided by one regular expression; any
-- other value takes the full rules (the `*_full` macros), so every verdict is theirs
-- (tests/test_loader_macros.py holds each fast path equal to its full rule). At 2 M cost
-- lines the full rules alone took 5.6 s.

-- trim(x) (DuckDB's: spaces and the other Unicode space separators), without copying a value
-- that has nothing to trim: printable ASCII at both ends and only ASCII in between (a
-- string's bytes equal its characters). Most values are like that, and trim copies every
-- one: at 9 M cost lines trim was 40% of the normalising SQL's time. `x` is a column (a
-- macro's argument is pasted in wherever it is named).
CREATE OR REPLACE TEMP MACRO tidy(x) AS
    CASE WHEN ascii(x) BETWEEN 33 AND 126 AND NOT suffix(x, ' ') AND strlen(x) = length(x)
         THEN x ELSE trim(x) END;

-- The phone without its channel prefix: `whatsapp:+1 234-567-890` -> `+1 234-567-890`.
CREATE OR REPLACE TEMP MACRO phone_body(u) AS
    regexp_replace(lower(trim(coalesce(u, ''))), '^(whatsapp|tel|sms):', '');

-- A phone already in E.164 (the fast path of phone and phone_reason).
CREATE OR REPLACE TEMP MACRO is_e164(u) AS regexp_full_match(u, '[+][0-9]+');

-- E.164: `+` and digits only.
CREATE OR REPLACE TEMP MACRO phone_full(u) AS
    '+' || regexp_replace(phone_body(u), '[^0-9]', '', 'g');

CREATE OR REPLACE TEMP MACRO phone(u) AS CASE WHEN is_e164(u) THEN u ELSE phone_full(u) END;

CREATE OR REPLACE TEMP MACRO phone_reason_full(u) AS
    CASE
        WHEN trim(coalesce(u, '')) = '' THEN 'missing user'
        WHEN NOT regexp_full_match(phone_body(u), '[+]?[0-9 ().-]*[0-9][0-9 ().-]*')
            THEN 'user is not a phone number: ' || trim(u)
    END;

CREATE OR REPLACE TEMP MACRO phone_reason(u) AS
    CASE WHEN is_e164(u) THEN NULL ELSE phone_reason_full(u) END;

-- An instant in UTC: naive text is UTC, an offset is converted.
CREATE OR REPLACE TEMP MACRO instant_full(t) AS TRY_CAST(trim(t) AS TIMESTAMPTZ)::TIMESTAMP;

-- Naive ISO text, the common case, parses as a TIMESTAMP directly.
CREATE OR REPLACE TEMP MACRO instant(t) AS
    CASE WHEN regexp_full_match(
                  t, '[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?')
         THEN TRY_CAST(t AS TIMESTAMP) ELSE instant_full(t) END;

-- Only instants a real event can have: [earliest, latest) from the settings, set as
-- the variables instant_earliest / instant_latest before these macros run (no infinity,
-- no year 12000, which would load and then break every page). `parsed` is instant(t),
-- computed once by the caller (a macro argument is pasted in wherever it is named).
CREATE OR REPLACE TEMP MACRO instant_reason(t, parsed) AS
    CASE
        WHEN nullif(tidy(t), '') IS NULL THEN 'missing timestamp'
        WHEN parsed IS NULL THEN 'timestamp does not parse: ' || trim(t)
        WHEN NOT (parsed >= getvariable('instant_earliest')
                  AND parsed < getvariable('instant_latest'))
            THEN 'timestamp out of range: ' || trim(t) || ' (accepted: '
                 || strftime(getvariable('instant_earliest'), '%Y-%m-%d') || ' to before '
                 || strftime(getvariable('instant_latest'), '%Y-%m-%d') || ')'
    END;

CREATE OR REPLACE TEMP MACRO id_reason(i) AS
    CASE WHEN nullif(tidy(i), '') IS NULL THEN 'missing event_id' END;

-- Numbers as an export writes them: plain decimals (`0.08`, `-5`, `12.500000`), never an
-- exponent, `inf`, `nan`, `+5`, `.5` or `1_000`, which Python or DuckDB would also take.
CREATE OR REPLACE TEMP MACRO plain_decimal(x) AS
    regexp_full_match(trim(coalesce(x, '')), '-?[0-9]+([.][0-9]+)?');

-- Digits before the point, leading zeros aside (DECIMAL(18, 6) holds 12).
CREATE OR REPLACE TEMP MACRO int_digits(x) AS
    length(regexp_extract(trim(x), '^-?0*([0-9]+)', 1));

-- The first reason a money value cannot be loaded exactly as DECIMAL(18, 6), else NULL.
-- `what` names the column in the reason; `signed` allows refunds (negative amounts).
-- Places past the sixth are refused unless they are zeros: nothing is rounded.
CREATE OR REPLACE TEMP MACRO money_reason_full(x, what, signed) AS
    CASE
        WHEN nullif(trim(x), '') IS NULL THEN 'missing ' || what
        WHEN NOT plain_decimal(x) AND TRY_CAST(trim(x) AS DOUBLE) IS NOT NULL
            THEN what || ' is not a plain decimal: ' || trim(x)
        WHEN NOT plain_decimal(x) THEN what || ' is not a number: ' || trim(x)
        WHEN NOT signed AND starts_with(trim(x), '-') AND regexp_matches(trim(x), '[1-9]')
            THEN 'negative ' || what || ': ' || trim(x)
        WHEN NOT regexp_full_match(trim(x), '-?[0-9]+([.][0-9]{1,6}0*)?')
            THEN what || ' has more than 6 decimal places: ' || trim(x)
        WHEN int_digits(x) > 12
            THEN what || ' out of range: ' || trim(x) || ' (at most 999999999999.999999)'
    END;

-- Money as an export writes it: at most 12 digits, at most 6 places (zeros may follow).
CREATE OR REPLACE TEMP MACRO is_plain_money(x) AS
    regexp_full_match(x, '[0-9]{1,12}([.][0-9]{1,6}0*)?');

CREATE OR REPLACE TEMP MACRO money_reason(x, what, signed) AS
    CASE WHEN is_plain_money(x) THEN NULL ELSE money_reason_full(x, what, signed) END;

-- The exact value of money that passed money_reason.
CREATE OR REPLACE TEMP MACRO money_full(x) AS
    CASE WHEN plain_decimal(x) AND int_digits(x) <= 12
         THEN TRY_CAST(trim(x) AS DECIMAL(18, 6)) END;

CREATE OR REPLACE TEMP MACRO money(x) AS
    CASE WHEN is_plain_money(x) THEN TRY_CAST(x AS DECIMAL(18, 6)) ELSE money_full(x) END;

-- A whole number within INTEGER, written plainly ('120', '120.0'); NULL otherwise.
CREATE OR REPLACE TEMP MACRO whole(x) AS
    CASE WHEN regexp_full_match(trim(coalesce(x, '')), '-?[0-9]+([.]0*)?')
              AND int_digits(x) <= 10
              AND abs(TRY_CAST(trim(x) AS DECIMAL(38, 6))) <= 2147483647
         THEN TRY_CAST(trim(x) AS DECIMAL(38, 6))::INTEGER END;

CREATE OR REPLACE TEMP MACRO json_reason(d) AS
    CASE WHEN nullif(tidy(d), '') IS NOT NULL AND NOT json_valid(d) THEN 'details is not JSON' END;

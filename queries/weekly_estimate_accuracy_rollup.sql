-- weekly_estimate_accuracy.sql in UTC, from rollup_accuracy_days (the same rows, per UTC
-- day of the actual and action, kept by every publish with that file's own text): other
-- zones read the raw lines there (their days cut UTC days in two). $start/$end are UTC
-- midnights. Money in micro-dollars.
SELECT day, action, pairs, estimated_micro, actual_micro, abs_error_micro, estimates_alone
FROM rollup_accuracy_days
WHERE day >= CAST($start AS DATE) AND day < CAST($end AS DATE)

-- weekly_estimate_accuracy.sql in UTC, from rollup_accuracy_days (the same pairs per UTC
-- day of the actual and action, kept by every publish): the same rows as that file with
-- $tz = 'UTC' (tests/test_rollups.py); other zones read the raw lines there (their days cut
-- UTC days in two). $start/$end are UTC midnights. Money in micro-dollars.
SELECT action,
       sum(pairs)::BIGINT           AS pairs,
       sum(estimated_micro)::BIGINT AS estimated_micro,
       sum(actual_micro)::BIGINT    AS actual_micro,
       sum(abs_error_micro)::BIGINT AS abs_error_micro,
       sum(estimates_alone)::BIGINT AS estimates_alone
FROM rollup_accuracy_days
WHERE day >= CAST($start AS DATE) AND day < CAST($end AS DATE)
GROUP BY action
ORDER BY actual_micro DESC, action

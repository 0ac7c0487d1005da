-- weekly_cost_actions.sql in UTC, from the rollups: the same rows as that file with
-- $tz = 'UTC' (tests/test_rollups.py). Cost and lines per action from rollup_breakdown_days
-- (whole UTC days); the week's users of each action from rollup_cost_days' action bits, one
-- OR over each user's days of the week (rollup_actions names the bits). An action without a
-- bit (past the 63rd) has NULL users: the caller then reads the raw lines. $start, $end and
-- $prev_start are UTC midnights. Money in micro-dollars.
WITH sums AS (
    SELECT
        action,
        coalesce(sum(cost_micro) FILTER (WHERE day >= CAST($start AS DATE)), 0)::BIGINT AS cost_micro,
        coalesce(sum(cost_micro) FILTER (WHERE day < CAST($start AS DATE)), 0)::BIGINT AS prev_cost_micro,
        coalesce(sum(lines) FILTER (WHERE day >= CAST($start AS DATE)), 0)::BIGINT     AS events,
        coalesce(sum(lines) FILTER (WHERE day < CAST($start AS DATE)), 0)::BIGINT      AS prev_events
    FROM rollup_breakdown_days
    WHERE day >= CAST($prev_start AS DATE) AND day < CAST($end AS DATE)
    GROUP BY action
), masks AS (
    SELECT bit_or(actions) AS mask
    FROM rollup_cost_days
    WHERE day >= CAST($start AS DATE) AND day < CAST($end AS DATE)
    GROUP BY user_key
), users AS (
    SELECT a.action,
           CASE WHEN a.bit IS NOT NULL
                THEN count(*) FILTER (WHERE (m.mask >> a.bit) & 1 = 1) END::BIGINT AS users
    FROM rollup_actions a CROSS JOIN masks m
    GROUP BY a.action, a.bit
)
SELECT s.action, s.cost_micro, s.prev_cost_micro, s.events, s.prev_events,
       CASE WHEN s.events = 0 THEN 0 ELSE u.users END::BIGINT AS users
FROM sums s
LEFT JOIN users u USING (action)
ORDER BY s.cost_micro DESC, s.action

-- Month retention: users active (a counted cost event) in the previous month, and how many of
-- them are active in this month. UTC bounds: [$prev_start, $start) and [$start, $end).
WITH prev AS (
    SELECT DISTINCT user_id FROM cost_events
    WHERE counted AND ts >= $prev_start AND ts < $start
), cur AS (
    SELECT DISTINCT user_id FROM cost_events
    WHERE counted AND ts >= $start AND ts < $end
)
SELECT (SELECT count(*) FROM prev)::BIGINT AS previous_users,
       (SELECT count(*) FROM prev WHERE user_id IN (SELECT user_id FROM cur))::BIGINT AS retained

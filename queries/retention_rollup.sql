-- retention.sql read from the per-user-day rollups (queries/rollups.py): users active in the
-- previous month (window prev_) and how many of them are active in this month (window cur_).
WITH prev AS (
    SELECT DISTINCT user_key
    FROM (SELECT user_key FROM rollup_cost_months
          WHERE month >= $prev_month_from AND month < $prev_month_to
          UNION ALL
          SELECT user_key FROM rollup_cost_days
          WHERE (day >= $prev_day_from AND day < $prev_month_from)
             OR (day >= $prev_month_to AND day < $prev_day_to)
          UNION ALL
          SELECT u.user_key FROM cost_events c JOIN rollup_users u USING (user_id)
          WHERE $prev_edges AND c.counted AND ((c.ts >= $prev_start AND c.ts < $prev_a_end)
                               OR (c.ts >= $prev_b_start AND c.ts < $prev_end))) AS lines
), cur AS (
    SELECT DISTINCT user_key
    FROM (SELECT user_key FROM rollup_cost_months
          WHERE month >= $cur_month_from AND month < $cur_month_to
          UNION ALL
          SELECT user_key FROM rollup_cost_days
          WHERE (day >= $cur_day_from AND day < $cur_month_from)
             OR (day >= $cur_month_to AND day < $cur_day_to)
          UNION ALL
          SELECT u.user_key FROM cost_events c JOIN rollup_users u USING (user_id)
          WHERE $cur_edges AND c.counted AND ((c.ts >= $cur_start AND c.ts < $cur_a_end)
                               OR (c.ts >= $cur_b_start AND c.ts < $cur_end))) AS lines
)
SELECT (SELECT count(*) FROM prev)::BIGINT AS previous_users,
       (SELECT count(*) FROM prev WHERE user_key IN (SELECT user_key FROM cur))::BIGINT
           AS retained

-- Whether any cost line in [$start, $end) was written by the chatbot's runtime (a decided
-- request or a completion): without one, the replay reads the plain variant of its history
-- (replay_events_unrecorded.sql), which skips the join with completions.
SELECT count(*) AS n
FROM (SELECT 1 AS one
      FROM cost_events
      WHERE (requested_cost_usd IS NOT NULL OR request_id IS NOT NULL)
        AND ts >= $start
        AND ts < $end
      LIMIT 1) AS runtime

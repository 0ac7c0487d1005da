-- The time of the data shown: the newest successful load and the newest event.
SELECT
    (SELECT strftime(max(finished), '%Y-%m-%d %H:%M') FROM load_log WHERE status = 'ok')
        AS last_load,
    (SELECT strftime(max(ts), '%Y-%m-%d %H:%M') FROM cost_events) AS last_event

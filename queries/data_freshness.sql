-- The time of the data shown: the newest successful load and the newest event.
SELECT
    (SELECT max(finished) FROM load_log WHERE status = 'ok') AS last_load,
    (SELECT max(ts) FROM cost_events) AS last_event

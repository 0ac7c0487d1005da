-- Each source's newest load and its newest successful one: what the "action needed" list
-- reads to name failed and stale loads, and the alerts' load_failed rule (one alert per
-- source whose newest load failed, the load's id as its value).
WITH newest AS (
    SELECT source, max(load_id) AS load_id FROM load_log GROUP BY source
), ok AS (
    SELECT source, max(finished) AS last_ok FROM load_log WHERE status = 'ok' GROUP BY source
)
SELECT l.source, l.load_id, l.started, l.status, l.finished, l.error, ok.last_ok
FROM newest n
JOIN load_log l ON l.load_id = n.load_id
LEFT JOIN ok ON ok.source = l.source
ORDER BY l.source

-- The newest load of every source in the load log, whatever its status: the alerts'
-- load_failed rule fires for each source whose newest load failed.
SELECT l.source, l.load_id, l.started, l.finished, l.status, l.error
FROM load_log l
JOIN (SELECT source, max(load_id) AS load_id FROM load_log GROUP BY source) n
    USING (source, load_id)
ORDER BY l.source

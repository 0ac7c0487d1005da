-- The newest loads first: what each read, wrote and refused, and why one failed.
SELECT load_id, source, started, finished, rows_read, rows_written, rows_rejected, status, error
FROM load_log
ORDER BY load_id DESC
LIMIT $limit

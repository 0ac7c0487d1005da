-- Refused rows with their reasons, newest load first.
SELECT load_id, source, table_name, reason, raw_record
FROM rejected_rows
ORDER BY load_id DESC, reason
LIMIT $limit

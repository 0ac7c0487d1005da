-- Event ids the demo's fast path wrote more than once (it must be 0: ids are stable and unique).
SELECT (SELECT count(*) - count(DISTINCT event_id) FROM cost_events)
     + (SELECT count(*) - count(DISTINCT event_id) FROM revenue_events)
     + (SELECT count(*) - count(DISTINCT event_id) FROM affiliate_events)

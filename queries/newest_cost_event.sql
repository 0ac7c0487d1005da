-- The instant (naive UTC) of the newest cost event loaded, counted or not: the alerts'
-- data_stale rule measures from it. NULL when none is loaded.
SELECT max(ts) AS newest FROM cost_events

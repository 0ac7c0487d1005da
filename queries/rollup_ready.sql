-- Whether the per-user-day rollups (loaders/sql/rollup_tables.sql) match the raw tables:
-- every publish refreshes them, so they do unless another program wrote the raw tables.
SELECT coalesce((SELECT cost_rows = (SELECT count(*) FROM cost_events)
                        AND revenue_rows = (SELECT count(*) FROM revenue_events)
                 FROM rollup_state), false) AS ready

-- Whether the per-user-day rollups (loaders/sql/rollup_tables.sql) match the raw tables:
-- every publish refreshes them, so they do unless another program wrote the raw tables.
-- $version: the layout this code reads (rollups of an older layout are rebuilt by a load).
SELECT coalesce((SELECT cost_rows = (SELECT count(*) FROM cost_events)
                        AND revenue_rows = (SELECT count(*) FROM revenue_events)
                        AND version = $version
                 FROM rollup_state), false) AS ready

-- Per-user-day rollups of the contract's event tables, kept by every publish (loaders/rollups.py)
-- so that the KPI layer reads ~20 M integer-keyed rows at 1,000,000 users instead of ~90 M
-- raw lines. Not part of the contract: derived, rebuilt from the raw tables at will, and only
-- read where rollup_state says they match the raw tables (queries/rollup_ready.sql).
-- Days are UTC days of the stored `ts`; money is BIGINT micro-dollars (exact).

CREATE TABLE IF NOT EXISTS rollup_users (  -- integer keys, append-only; firsts over all data
    user_key         INTEGER NOT NULL,
    user_id          VARCHAR NOT NULL,
    first_cost_ts    TIMESTAMP,            -- the first counted cost line
    first_revenue_ts TIMESTAMP,            -- the first revenue line of any sign
    first_premium_ts TIMESTAMP,            -- the first positive premium line
    first_tokens_ts  TIMESTAMP             -- the first positive tokens line
);

CREATE TABLE IF NOT EXISTS rollup_actions (  -- a bit per action, append-only, as users' keys
    action VARCHAR NOT NULL,
    bit    INTEGER               -- 0..62 in order of arrival; NULL past the 63rd action
);

CREATE TABLE IF NOT EXISTS rollup_cost_days (  -- counted cost lines per user and UTC day
    day        DATE NOT NULL,
    user_key   INTEGER NOT NULL,
    cost_micro BIGINT NOT NULL,
    requests   INTEGER NOT NULL,
    first_ts   TIMESTAMP NOT NULL,
    actions    BIGINT NOT NULL       -- the day's actions: bit `rollup_actions.bit` of each set
);

CREATE TABLE IF NOT EXISTS rollup_revenue_days (  -- revenue lines per user and UTC day
    day              DATE NOT NULL,
    user_key         INTEGER NOT NULL,
    revenue_micro    BIGINT NOT NULL,
    tokens_micro     BIGINT NOT NULL,
    premium_micro    BIGINT NOT NULL,
    affiliate_micro  BIGINT NOT NULL,
    data_micro       BIGINT NOT NULL,
    other_micro      BIGINT NOT NULL,
    token_lines      INTEGER NOT NULL,     -- positive tokens lines
    first_ts         TIMESTAMP NOT NULL,
    first_premium_ts TIMESTAMP,
    first_tokens_ts  TIMESTAMP
);

CREATE TABLE IF NOT EXISTS rollup_breakdown_days (  -- counted cost per UTC day, action, category
    day        DATE NOT NULL,
    action     VARCHAR NOT NULL,
    category   VARCHAR,
    cost_micro BIGINT NOT NULL,
    lines      BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_accuracy_days (  -- estimate accuracy per UTC day and action
    day             DATE NOT NULL,         -- the actual's day (estimates_alone: the estimate's)
    action          VARCHAR NOT NULL,
    pairs           BIGINT NOT NULL,       -- queries/weekly_estimate_accuracy.sql's pairs
    estimated_micro BIGINT NOT NULL,
    actual_micro    BIGINT NOT NULL,
    abs_error_micro BIGINT NOT NULL,
    estimates_alone BIGINT NOT NULL        -- pairing estimates without an actual (they count)
);

CREATE TABLE IF NOT EXISTS rollup_day_marks (  -- what each day's raw lines looked like when rolled up
    day           DATE NOT NULL,
    cost_lines    BIGINT NOT NULL,
    cost_hash     HUGEINT NOT NULL,
    revenue_lines BIGINT NOT NULL,
    revenue_hash  HUGEINT NOT NULL,
    first_cost_ts    TIMESTAMP,  -- the day's first and last counted cost line (NULL: none)
    last_cost_ts     TIMESTAMP,
    first_revenue_ts TIMESTAMP,  -- the day's first and last revenue line
    last_revenue_ts  TIMESTAMP
);

CREATE TABLE IF NOT EXISTS rollup_state (  -- one row: the raw tables' row counts the rollups match
    cost_rows    BIGINT NOT NULL,
    revenue_rows BIGINT NOT NULL,
    version      INTEGER NOT NULL          -- the rollups' layout (queries/rollups.py VERSION)
);

-- The same per user and UTC calendar month (`month` is its first day): a month's KPIs in UTC
-- read a million rows at 1,000,000 users, not every user-day.
CREATE TABLE IF NOT EXISTS rollup_cost_months (
    month      DATE NOT NULL,
    user_key   INTEGER NOT NULL,
    cost_micro BIGINT NOT NULL,
    requests   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_revenue_months (
    month           DATE NOT NULL,
    user_key        INTEGER NOT NULL,
    revenue_micro   BIGINT NOT NULL,
    tokens_micro    BIGINT NOT NULL,
    premium_micro   BIGINT NOT NULL,
    affiliate_micro BIGINT NOT NULL,
    data_micro      BIGINT NOT NULL,
    other_micro     BIGINT NOT NULL,
    token_lines     INTEGER NOT NULL
);

-- Per user and UTC day with any line: the day's counted cost, revenue and counted requests
-- and the user's month-to-date sums at the end of the day (from the UTC month's start), so
-- the daily series in UTC needs no window over a million users' days.
CREATE TABLE IF NOT EXISTS rollup_mtd_days (
    day               DATE NOT NULL,
    user_key          INTEGER NOT NULL,
    cost_micro        BIGINT NOT NULL,
    revenue_micro     BIGINT NOT NULL,
    requests          INTEGER NOT NULL,
    mtd_cost_micro    BIGINT NOT NULL,
    mtd_revenue_micro BIGINT NOT NULL,
    mtd_requests      INTEGER NOT NULL
);

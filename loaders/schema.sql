-- The data contract (../shared/spec/data-contract.md): every loader writes these tables,
-- every query reads only these. Money is DECIMAL(18,6). Extra columns (load_id,
-- pairing) are additions the contract allows.

CREATE TABLE IF NOT EXISTS cost_events (
    event_id   VARCHAR NOT NULL,          -- unique: the loading path upserts by it
    user_id    VARCHAR NOT NULL,
    ts         TIMESTAMP NOT NULL,        -- UTC
    action     VARCHAR NOT NULL,
    event_type VARCHAR,
    cost_usd   DECIMAL(18, 6) NOT NULL CHECK (cost_usd >= 0),
    counted    BOOLEAN NOT NULL,
    category   VARCHAR,
    details    JSON,
    source     VARCHAR NOT NULL,
    load_id    BIGINT,
    pairing    BOOLEAN NOT NULL DEFAULT false, -- counted is derived by estimate/actual pairing
    -- What the chatbot's runtime records with each decision (../shared/spec/runtime.md);
    -- null where the source did not record it (all history of the original service).
    requested_cost_usd DECIMAL(18, 6),    -- the request's estimated cost at full service
    decision_served    BOOLEAN,
    decision_level     VARCHAR,
    decision_reason    VARCHAR,
    policy_id          VARCHAR,           -- `<policy name>@<12 hex of its content's sha256>`
    request_id         VARCHAR            -- pairs a runtime request with its completion
);

-- A database written before those columns existed gains them on its next load.
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS requested_cost_usd DECIMAL(18, 6);
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS decision_served BOOLEAN;
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS decision_level VARCHAR;
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS decision_reason VARCHAR;
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS policy_id VARCHAR;
ALTER TABLE cost_events ADD COLUMN IF NOT EXISTS request_id VARCHAR;

CREATE TABLE IF NOT EXISTS revenue_events (
    event_id   VARCHAR NOT NULL,
    user_id    VARCHAR NOT NULL,
    ts         TIMESTAMP NOT NULL,
    stream     VARCHAR NOT NULL,
    amount_usd DECIMAL(18, 6) NOT NULL,
    tokens     INTEGER,
    partner    VARCHAR,
    details    JSON,
    source     VARCHAR NOT NULL,
    load_id    BIGINT
);

CREATE TABLE IF NOT EXISTS token_balances (
    user_id VARCHAR NOT NULL,
    as_of   TIMESTAMP NOT NULL,
    balance INTEGER NOT NULL,
    source  VARCHAR NOT NULL,
    load_id BIGINT
);

CREATE TABLE IF NOT EXISTS affiliate_events (
    event_id VARCHAR NOT NULL,
    user_id  VARCHAR NOT NULL,
    ts       TIMESTAMP NOT NULL,
    partner  VARCHAR,
    kind     VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    load_id  BIGINT
);

CREATE TABLE IF NOT EXISTS load_log (
    load_id       BIGINT NOT NULL,
    source        VARCHAR NOT NULL,
    started       TIMESTAMP NOT NULL,
    finished      TIMESTAMP,
    rows_read     BIGINT NOT NULL DEFAULT 0,
    rows_written  BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    status        VARCHAR NOT NULL,        -- ok | failed
    error         VARCHAR,
    watermark     VARCHAR                  -- a source's resume point for incremental loads
);

CREATE TABLE IF NOT EXISTS rejected_rows (
    load_id    BIGINT NOT NULL,
    source     VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    raw_record VARCHAR NOT NULL,
    reason     VARCHAR NOT NULL
);

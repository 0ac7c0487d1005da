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
    pairing    BOOLEAN NOT NULL DEFAULT false  -- counted is derived by estimate/actual pairing
);

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

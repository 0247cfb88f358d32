-- Nonces of signed app requests: each works once per app. A row is kept until its request's
-- timestamp is stale (expires_at, Unix seconds: the timestamp plus the 5-minute skew) and a
-- further 5 minutes of slack for replicas whose clocks differ, then purged.
-- (PostgreSQL: migrations/postgres/0005, the same table.)
CREATE TABLE app_nonces (
    app_id     TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, nonce)
);
CREATE INDEX app_nonces_by_expiry ON app_nonces (expires_at);

-- Wallet challenges and session tokens in the database, so every replica knows them: a device
-- that signs in through one replica is signed in on all, and a revocation holds on all.
-- The same tables as migrations/sqlite/0007 (0002 is the approvals' execution lease).

-- Outstanding challenge nonces: each works once, for its key, until expires_at (Unix seconds).
-- `id` orders a key's nonces oldest first (a key keeps at most a few dozen).
CREATE TABLE wallet_nonces (
    id         BIGSERIAL PRIMARY KEY,
    nonce      TEXT NOT NULL UNIQUE,
    key_id     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX wallet_nonces_by_key ON wallet_nonces (key_id, id);
CREATE INDEX wallet_nonces_by_expiry ON wallet_nonces (expires_at);

-- Live session tokens, by the SHA-256 of the token (the token itself is a bearer secret and
-- is never stored). `id` orders a key's tokens oldest first.
CREATE TABLE wallet_sessions (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    approver_id TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX wallet_sessions_by_key ON wallet_sessions (key_id, id);
CREATE INDEX wallet_sessions_by_expiry ON wallet_sessions (expires_at);

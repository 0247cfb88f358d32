-- Countersign schema, PostgreSQL dialect: the same tables, columns and rules as
-- migrations/sqlite after its 0005, so one set of queries runs on both. Times are Unix
-- seconds unless named *_ms or `at` (text). Integers are BIGINT (the store reads i64).
-- Ids are compared and sorted byte by byte (UUIDv7 text sorts by creation): COLLATE "C".

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE approvals (
    id             TEXT COLLATE "C" PRIMARY KEY,
    app_id         TEXT NOT NULL,
    grant_id       TEXT NOT NULL,
    policy_id      TEXT NOT NULL,
    quorum         BIGINT NOT NULL,
    status         TEXT NOT NULL,
    statement      TEXT NOT NULL,             -- the statement's JSON, as signed over
    request_digest TEXT NOT NULL,
    body           BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    response       TEXT,                      -- UpstreamResponse JSON once succeeded
    failure        TEXT,                      -- ExecutionFailure JSON once execution_failed
    requirement    TEXT NOT NULL DEFAULT '[]', -- JSON [RequiredGate]
    matched        TEXT NOT NULL DEFAULT '[]', -- JSON [PolicyMatch]
    method         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_status_expiry ON approvals (status, expires_at);

-- Which approvers a policy named when the approval was created (a snapshot).
CREATE TABLE approval_approvers (
    approval_id TEXT COLLATE "C" NOT NULL REFERENCES approvals (id),
    approver_id TEXT NOT NULL,
    PRIMARY KEY (approval_id, approver_id)
);
CREATE INDEX approval_approvers_by_approver ON approval_approvers (approver_id, approval_id);

CREATE TABLE decisions (
    -- The order decisions arrived in, as SQLite's implicit rowid gives it there.
    rowid        BIGSERIAL NOT NULL,
    approval_id  TEXT COLLATE "C" NOT NULL REFERENCES approvals (id),
    approver_id  TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    verdict      TEXT NOT NULL,
    comment      TEXT,
    decided_at   BIGINT NOT NULL,
    signed       TEXT NOT NULL,               -- the signed decision's JSON
    signature    TEXT NOT NULL,
    withdrawn_at BIGINT,
    PRIMARY KEY (approval_id, approver_id)
);
CREATE UNIQUE INDEX decisions_by_key ON decisions (approval_id, key_id);

CREATE TABLE devices (
    key_id      TEXT PRIMARY KEY,
    approver_id TEXT NOT NULL,
    public_key  TEXT NOT NULL UNIQUE,
    device_name TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE pairing_codes (
    code_hash   TEXT PRIMARY KEY,             -- SHA-256 of the code; the code itself is never stored
    approver_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    key_id      TEXT
);

CREATE TABLE grant_revocations (
    grant_id   TEXT PRIMARY KEY,
    revoked_at BIGINT NOT NULL
);

CREATE TABLE audit (
    seq         BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    approval_id TEXT COLLATE "C",
    actor       TEXT NOT NULL,
    data        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_by_approval ON audit (approval_id);

-- The audit log is append-only in the database itself, whoever connects.
CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_is_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_is_not_truncated BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

-- Rule matches counted for `at_most` limits (kept across restarts).
CREATE TABLE rule_hits (
    policy_id TEXT NOT NULL,
    rule_id   TEXT NOT NULL,
    app_id    TEXT NOT NULL,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX rule_hits_by_rule ON rule_hits (policy_id, rule_id, app_id, at_ms);

-- Pending approvals per app, kept exact by triggers (read in every new approval's
-- transaction for `max_pending_per_app`).
CREATE TABLE app_pending (
    app_id  TEXT PRIMARY KEY,
    pending BIGINT NOT NULL
);

CREATE FUNCTION app_pending_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'pending' THEN
        INSERT INTO app_pending (app_id, pending) VALUES (NEW.app_id, 1)
            ON CONFLICT (app_id) DO UPDATE SET pending = app_pending.pending + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER app_pending_insert AFTER INSERT ON approvals
    FOR EACH ROW EXECUTE FUNCTION app_pending_insert();

CREATE FUNCTION app_pending_leave() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'pending' AND NEW.status <> 'pending' THEN
        UPDATE app_pending SET pending = pending - 1 WHERE app_id = OLD.app_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER app_pending_leave AFTER UPDATE OF status ON approvals
    FOR EACH ROW EXECUTE FUNCTION app_pending_leave();

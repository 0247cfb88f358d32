-- Countersign schema, SQLite dialect. Times are Unix seconds unless named *_text.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE approvals (
    id             TEXT PRIMARY KEY,          -- UUIDv7, so ids sort by creation
    app_id         TEXT NOT NULL,
    grant_id       TEXT NOT NULL,
    policy_id      TEXT NOT NULL,
    quorum         INTEGER NOT NULL,
    status         TEXT NOT NULL,
    statement      TEXT NOT NULL,             -- the statement's JSON, as signed over
    request_digest TEXT NOT NULL,
    body           BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    response       TEXT,                      -- UpstreamResponse JSON once succeeded
    failure        TEXT                       -- ExecutionFailure JSON once execution_failed
);
CREATE INDEX approvals_pending_expiry ON approvals (expires_at) WHERE status = 'pending';
CREATE INDEX approvals_status ON approvals (status);

-- Which approvers a policy named when the approval was created (a snapshot).
CREATE TABLE approval_approvers (
    approval_id TEXT NOT NULL REFERENCES approvals (id),
    approver_id TEXT NOT NULL,
    PRIMARY KEY (approval_id, approver_id)
);
CREATE INDEX approval_approvers_by_approver ON approval_approvers (approver_id, approval_id);

CREATE TABLE decisions (
    approval_id TEXT NOT NULL REFERENCES approvals (id),
    approver_id TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    comment     TEXT,
    decided_at  INTEGER NOT NULL,
    signed      TEXT NOT NULL,                -- the signed decision's JSON
    signature   TEXT NOT NULL,
    PRIMARY KEY (approval_id, approver_id)
);
CREATE UNIQUE INDEX decisions_by_key ON decisions (approval_id, key_id);

CREATE TABLE devices (
    key_id      TEXT PRIMARY KEY,
    approver_id TEXT NOT NULL,
    public_key  TEXT NOT NULL UNIQUE,
    device_name TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE pairing_codes (
    code_hash   TEXT PRIMARY KEY,             -- SHA-256 of the code; the code itself is never stored
    approver_id TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    key_id      TEXT
);

CREATE TABLE grant_revocations (
    grant_id   TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);

CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    approval_id TEXT,
    actor       TEXT NOT NULL,
    data        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_by_approval ON audit (approval_id);

CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Gates: what each approval needs (by policy and gate, with who was eligible when it was
-- created) and which rules decided it; decisions withdrawn when a device is revoked; rule
-- matches counted for `at_most` limits (kept across restarts).
ALTER TABLE approvals ADD COLUMN requirement TEXT NOT NULL DEFAULT '[]';  -- JSON [RequiredGate]
ALTER TABLE approvals ADD COLUMN matched TEXT NOT NULL DEFAULT '[]';      -- JSON [PolicyMatch]
ALTER TABLE decisions ADD COLUMN withdrawn_at INTEGER;

CREATE TABLE rule_hits (
    policy_id TEXT NOT NULL,
    rule_id   TEXT NOT NULL,
    app_id    TEXT NOT NULL,
    at_ms     INTEGER NOT NULL
);
CREATE INDEX rule_hits_by_rule ON rule_hits (policy_id, rule_id, app_id, at_ms);

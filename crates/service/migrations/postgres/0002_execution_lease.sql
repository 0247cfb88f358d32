-- Executions carry a lease renewed by the replica running them: when it lapses, any replica
-- settles the approval as `execution_failed` (outcome unknown), never re-sending.
ALTER TABLE approvals ADD COLUMN lease_owner TEXT;
ALTER TABLE approvals ADD COLUMN lease_until_ms BIGINT;

-- The expiry queries (status = 'pending' ordered or bounded by expires_at) were planned on
-- approvals_status and scanned every pending row; one composite index serves them and the
-- status filters.
DROP INDEX approvals_pending_expiry;
DROP INDEX approvals_status;
CREATE INDEX approvals_status_expiry ON approvals (status, expires_at);

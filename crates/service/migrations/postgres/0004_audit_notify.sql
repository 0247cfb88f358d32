-- Every statement that appends to the audit log notifies the replicas (delivered at commit,
-- once per transaction), whoever writes: the service, or an admin command run elsewhere. A
-- wake-up only: replicas read the log from their cursor.
CREATE FUNCTION audit_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('countersign_audit_appended', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_appended AFTER INSERT ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_appended();

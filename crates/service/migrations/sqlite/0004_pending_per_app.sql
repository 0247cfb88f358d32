-- The pending cap per app is checked in every new approval's transaction: a counter per app,
-- kept exact by triggers, makes that one row read instead of a scan of the pending approvals.
-- (Approvals past their window that the expiry task has not recorded yet still count, for
-- the moment until it does.)
CREATE TABLE app_pending (
    app_id  TEXT PRIMARY KEY,
    pending INTEGER NOT NULL
);
INSERT INTO app_pending (app_id, pending)
    SELECT app_id, COUNT(*) FROM approvals WHERE status = 'pending' GROUP BY app_id;

CREATE TRIGGER app_pending_insert AFTER INSERT ON approvals WHEN NEW.status = 'pending'
BEGIN
    INSERT INTO app_pending (app_id, pending) VALUES (NEW.app_id, 1)
        ON CONFLICT (app_id) DO UPDATE SET pending = pending + 1;
END;
CREATE TRIGGER app_pending_leave AFTER UPDATE OF status ON approvals
    WHEN OLD.status = 'pending' AND NEW.status <> 'pending'
BEGIN
    UPDATE app_pending SET pending = pending - 1 WHERE app_id = OLD.app_id;
END;

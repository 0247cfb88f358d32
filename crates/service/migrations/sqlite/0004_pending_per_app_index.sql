-- The pending cap per app counts an app's pending approvals in every new approval's
-- transaction: a covering index makes that a range scan bounded by the cap.
CREATE INDEX approvals_app_pending ON approvals (app_id, status, expires_at);

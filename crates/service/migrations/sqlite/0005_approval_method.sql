-- The method of each approval as a column, so the history of approved requests an approver
-- compares a new one with is selected in SQL both backends share (not by a JSON function).
ALTER TABLE approvals ADD COLUMN method TEXT NOT NULL DEFAULT '';
UPDATE approvals SET method = json_extract(statement, '$.method');

ALTER TABLE people DROP COLUMN locale;
DROP TABLE sso_attempts;
ALTER TABLE survey_tokens DROP COLUMN used;
DROP TABLE browser_sessions;

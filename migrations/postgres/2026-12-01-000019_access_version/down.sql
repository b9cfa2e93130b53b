ALTER TABLE accounts DROP COLUMN access_version;

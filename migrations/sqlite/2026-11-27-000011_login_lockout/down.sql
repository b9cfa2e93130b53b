ALTER TABLE accounts DROP COLUMN locked_until;
ALTER TABLE accounts DROP COLUMN failed_logins;

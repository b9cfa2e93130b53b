-- Login lock-out: consecutive failed sign-ins per account and, after too many, a time before
-- which the account cannot sign in with a password.
ALTER TABLE accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TIMESTAMP;

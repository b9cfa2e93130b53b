-- An account's access version: removing a role, suspending the account or signing out
-- everywhere moves it on, and access tokens issued at an older version are refused at once.
ALTER TABLE accounts ADD COLUMN access_version INTEGER NOT NULL DEFAULT 0;

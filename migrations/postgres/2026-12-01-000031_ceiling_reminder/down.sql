ALTER TABLE events DROP COLUMN ceiling_reminded_at;

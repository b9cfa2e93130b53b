ALTER TABLE federation_members DROP COLUMN check_error;
ALTER TABLE federation_members DROP COLUMN checked_at;
ALTER TABLE federation_members DROP COLUMN synced_at;
ALTER TABLE federation_members DROP COLUMN held_serial;

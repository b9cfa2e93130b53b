-- What each member last reported of itself to its steward, checked over a signed call: the
-- manifest serial it holds and when it last synced the directory, so the steward's admins see
-- a member left behind. Nothing about people.
ALTER TABLE federation_members ADD COLUMN held_serial BIGINT;
ALTER TABLE federation_members ADD COLUMN synced_at TIMESTAMP;
ALTER TABLE federation_members ADD COLUMN checked_at TIMESTAMP;
ALTER TABLE federation_members ADD COLUMN check_error TEXT;

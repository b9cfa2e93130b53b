-- Federation operations. A job lease names the process holding it and when that process last
-- said it was alive, so a lease left by a process that is gone is taken over at once.
ALTER TABLE job_leases ADD COLUMN heartbeat_at TIMESTAMP;
-- A member keeps the outcome of its last manifest refresh, so a steward it can no longer trust
-- shows in its status rather than only in its logs.
ALTER TABLE federation_settings ADD COLUMN refreshed_at TIMESTAMP;
ALTER TABLE federation_settings ADD COLUMN refresh_error TEXT;
-- A steward keeps the last manifest each of its retired keys signed (the transition manifest that
-- lists the key rotated in), so a member offline during the rotation can follow it to the new key.
CREATE TABLE federation_bridges (
    kid TEXT PRIMARY KEY NOT NULL,
    serial BIGINT NOT NULL,
    token TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

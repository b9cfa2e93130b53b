DROP TABLE federation_bridges;
ALTER TABLE federation_settings DROP COLUMN refresh_error;
ALTER TABLE federation_settings DROP COLUMN refreshed_at;
ALTER TABLE job_leases DROP COLUMN heartbeat_at;

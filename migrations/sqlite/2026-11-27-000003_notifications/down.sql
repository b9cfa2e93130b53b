ALTER TABLE peer_supporters DROP COLUMN training_reminder_for;
ALTER TABLE follow_ups DROP COLUMN reminded_at;
DROP TABLE job_leases;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE outbox;

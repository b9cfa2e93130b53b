DROP TABLE handoffs;
ALTER TABLE programs DROP COLUMN intake_webhook_id;
ALTER TABLE programs DROP COLUMN intake_phone;
ALTER TABLE programs DROP COLUMN intake_email;

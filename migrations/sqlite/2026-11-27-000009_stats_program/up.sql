ALTER TABLE request_stats ADD COLUMN program_id TEXT;

ALTER TABLE request_stats DROP COLUMN program_id;

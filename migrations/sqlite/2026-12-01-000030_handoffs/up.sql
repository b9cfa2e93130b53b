-- Hand-off to professional help: escalating to a tier-3 program tells the program's intake
-- (email, text, or a signed webhook, set per program) and records when it acknowledged. What
-- the person agreed to share (a first name, a way to reach them) waits here only until the
-- program acknowledges, then is erased; the row goes with the case.
ALTER TABLE programs ADD COLUMN intake_email TEXT;
ALTER TABLE programs ADD COLUMN intake_phone TEXT;
ALTER TABLE programs ADD COLUMN intake_webhook_id TEXT;
CREATE TABLE handoffs (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES support_requests (id) ON DELETE CASCADE,
    program_id TEXT NOT NULL REFERENCES programs (id),
    code_hash TEXT NOT NULL UNIQUE,
    shared_name TEXT,
    shared_contact TEXT,
    created_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP
);

-- The on-call rota: a weekly pattern of shifts in the rota's time zone, with overrides for a
-- holiday or a swap. Position 1 is paged first, then 2, …, then the program lead.
CREATE TABLE on_call_settings (
    id INTEGER PRIMARY KEY NOT NULL,
    time_zone TEXT NOT NULL,
    escalate_after_minutes INTEGER NOT NULL,
    lead_person_id TEXT REFERENCES people (id) ON DELETE SET NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE on_call_shifts (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    weekday TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE on_call_overrides (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL
);
CREATE INDEX on_call_overrides_ends ON on_call_overrides (ends_at);

-- Who was paged for an alert, and the digest of the one-tap acknowledgement code they got.
CREATE TABLE alert_pages (
    id TEXT PRIMARY KEY NOT NULL,
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    person_id TEXT,
    code_hash TEXT NOT NULL,
    paged_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX alert_pages_code ON alert_pages (code_hash);
ALTER TABLE alerts ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN next_step_at TIMESTAMP;
ALTER TABLE alerts ADD COLUMN acknowledged_at TIMESTAMP;

-- Urgent outreach (disclosure participants) has its own clock: reached within the program's
-- hours (default 4), or the on-call is alerted, once.
ALTER TABLE programs ADD COLUMN urgent_outreach_hours INTEGER NOT NULL DEFAULT 4;
ALTER TABLE outreach ADD COLUMN contact_due_at TIMESTAMP;
ALTER TABLE outreach ADD COLUMN breached_at TIMESTAMP;

-- Follow-up for all: outreach declined or never answered is gently renewed on the peer support
-- program's schedule (days after the first outreach), unless the person said "don't contact me
-- again about this event" — kept, and honoured, for as long as who was involved is.
ALTER TABLE programs ADD COLUMN recontact_days TEXT NOT NULL DEFAULT '[14,90]';
ALTER TABLE outreach ADD COLUMN recontacts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE outreach_opt_outs (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, person_id)
);

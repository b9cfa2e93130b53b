-- The support lifecycle: de-identified events, who was involved, milestones, outreach, support
-- requests with their clocks and history, offers, encounters, follow-ups, alerts, idempotency
-- keys, the hash-chained audit log, and the de-identified counts kept after retention.
-- No table has a narrative or free-text field.

ALTER TABLE institution ADD COLUMN on_call_email TEXT;
ALTER TABLE programs ADD COLUMN ack_target_minutes INTEGER NOT NULL DEFAULT 30;
ALTER TABLE programs ADD COLUMN first_contact_target_hours INTEGER NOT NULL DEFAULT 24;
ALTER TABLE peer_supporters ADD COLUMN monthly_hours_cap INTEGER NOT NULL DEFAULT 10;
ALTER TABLE peer_supporters ADD COLUMN last_assigned_at TIMESTAMP;

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    category TEXT NOT NULL,
    month TEXT NOT NULL,
    department TEXT,
    severity_band TEXT NOT NULL,
    disclosure_in_progress BOOLEAN NOT NULL,
    external_ref TEXT,
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX events_external_ref ON events (source, external_ref);

CREATE TABLE involvements (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX involvements_event_person ON involvements (event_id, person_id);
CREATE INDEX involvements_person ON involvements (person_id);

CREATE TABLE milestones (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    month TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE outreach (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    milestone_id TEXT REFERENCES milestones (id) ON DELETE CASCADE,
    urgent BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    request_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX outreach_person ON outreach (person_id);
CREATE INDEX outreach_event ON outreach (event_id);

CREATE TABLE support_requests (
    id TEXT PRIMARY KEY NOT NULL,
    requester_id TEXT REFERENCES people (id) ON DELETE SET NULL,
    origin TEXT NOT NULL,
    outreach_id TEXT,
    event_id TEXT REFERENCES events (id) ON DELETE SET NULL,
    referred_by TEXT,
    program_id TEXT REFERENCES programs (id),
    urgency TEXT NOT NULL,
    peer_profession TEXT,
    specialty_preference TEXT NOT NULL,
    language TEXT,
    language_required BOOLEAN NOT NULL,
    modality TEXT NOT NULL,
    peer_origin TEXT NOT NULL,
    coordinator_access TEXT NOT NULL,
    preferred_name TEXT,
    state TEXT NOT NULL,
    supporter_id TEXT REFERENCES peer_supporters (id) ON DELETE SET NULL,
    offered_to TEXT REFERENCES peer_supporters (id) ON DELETE SET NULL,
    offer_expires_at TIMESTAMP,
    ack_due_at TIMESTAMP NOT NULL,
    contact_due_at TIMESTAMP NOT NULL,
    ack_breached_at TIMESTAMP,
    contact_breached_at TIMESTAMP,
    acknowledged_at TIMESTAMP,
    first_contact_at TIMESTAMP,
    closed_at TIMESTAMP,
    escalated_to TEXT REFERENCES programs (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX support_requests_requester ON support_requests (requester_id);
CREATE INDEX support_requests_supporter ON support_requests (supporter_id);
CREATE INDEX support_requests_state ON support_requests (state);

CREATE TABLE request_transitions (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES support_requests (id) ON DELETE CASCADE,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX request_transitions_request ON request_transitions (request_id);

CREATE TABLE offer_declines (
    request_id TEXT NOT NULL REFERENCES support_requests (id) ON DELETE CASCADE,
    supporter_id TEXT NOT NULL REFERENCES peer_supporters (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, supporter_id)
);

CREATE TABLE encounters (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES support_requests (id) ON DELETE CASCADE,
    supporter_id TEXT REFERENCES peer_supporters (id) ON DELETE SET NULL,
    occurred_on DATE NOT NULL,
    duration_band TEXT NOT NULL,
    modality TEXT NOT NULL,
    tier INTEGER NOT NULL,
    referral_program_id TEXT REFERENCES programs (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX encounters_request ON encounters (request_id);
CREATE INDEX encounters_supporter ON encounters (supporter_id);

CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES support_requests (id) ON DELETE CASCADE,
    supporter_id TEXT REFERENCES peer_supporters (id) ON DELETE SET NULL,
    due_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    completed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX follow_ups_supporter_due ON follow_ups (supporter_id, due_at);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    request_id TEXT REFERENCES support_requests (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE request_stats (
    id TEXT PRIMARY KEY NOT NULL,
    opened_month TEXT NOT NULL,
    closed_month TEXT,
    origin TEXT NOT NULL,
    urgency TEXT NOT NULL,
    requester_profession TEXT,
    event_category TEXT,
    final_state TEXT NOT NULL,
    escalated BOOLEAN NOT NULL,
    minutes_to_ack INTEGER,
    minutes_to_first_contact INTEGER,
    encounters INTEGER NOT NULL,
    ack_breached BOOLEAN NOT NULL,
    contact_breached BOOLEAN NOT NULL
);

-- Someone an incident report names by a staff id the node does not know yet (a new starter,
-- an agency nurse the identity system has not sent): kept as pending, with the same retention
-- as who was involved, and resolved into an involvement and outreach when the roster brings them.
CREATE TABLE pending_involvements (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    staff_id TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (event_id, staff_id)
);
CREATE INDEX pending_involvements_staff ON pending_involvements (staff_id);

-- Federation calls already answered, until they expire: replay protection shared by every
-- replica of the node on one database (each also keeps its own in memory, checked first).
CREATE TABLE federation_seen_calls (
    call_id TEXT PRIMARY KEY NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX federation_seen_calls_expiry ON federation_seen_calls (expires_at);

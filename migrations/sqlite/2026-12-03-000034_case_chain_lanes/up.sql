-- The chain of case entries runs in eight lanes, each a hash chain with a head of its own: a
-- writer appends to the first lane no other transaction holds (on PostgreSQL; SQLite has one
-- writer at a time and always writes lane 1). The main chain keeps one lane; both tables get
-- the column so one code path reads and writes either. Entries written before stay in lane 1.
ALTER TABLE audit_log ADD COLUMN lane INTEGER NOT NULL DEFAULT 1;

CREATE TABLE case_chain_new (
    lane INTEGER NOT NULL DEFAULT 1,
    seq BIGINT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (lane, seq)
);
INSERT INTO case_chain_new (lane, seq, at, actor, action, record_type, record_id, prev_hash, hash)
    SELECT 1, seq, at, actor, action, record_type, record_id, prev_hash, hash FROM case_chain;
DROP TABLE case_chain;
ALTER TABLE case_chain_new RENAME TO case_chain;

CREATE TABLE case_chain_head_new (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id BETWEEN 1 AND 8),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO case_chain_head_new (id, seq, hash) SELECT id, seq, hash FROM case_chain_head;
INSERT INTO case_chain_head_new (id, seq, hash) VALUES
    (2, 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    (3, 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    (4, 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    (5, 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    (6, 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    (7, 0, '0000000000000000000000000000000000000000000000000000000000000000'),
    (8, 0, '0000000000000000000000000000000000000000000000000000000000000000');
DROP TABLE case_chain_head;
ALTER TABLE case_chain_head_new RENAME TO case_chain_head;

CREATE TABLE case_audit_new (
    chain TEXT NOT NULL,
    lane INTEGER NOT NULL DEFAULT 1,
    seq BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (chain, lane, seq)
);
INSERT INTO case_audit_new (chain, lane, seq, request_id, at)
    SELECT chain, 1, seq, request_id, at FROM case_audit;
DROP TABLE case_audit;
ALTER TABLE case_audit_new RENAME TO case_audit;
CREATE INDEX case_audit_request ON case_audit (request_id);

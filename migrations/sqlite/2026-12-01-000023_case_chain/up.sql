-- Entries about support cases get a hash chain of their own. In one chain their places among
-- the entries that name people outright (sign-ins, account changes) would say who acted on a
-- case near when, even after the purge erased every other link; between two tables nothing
-- records the interleaving (not even a rowid). Entries written before this migration stay
-- where they are, so the main chain still verifies.
CREATE TABLE case_chain (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE case_chain_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO case_chain_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- A case's true id and moments now point into either chain.
CREATE TABLE case_audit_new (
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (chain, seq)
);
INSERT INTO case_audit_new (chain, seq, request_id, at)
    SELECT 'main', seq, request_id, at FROM case_audit;
DROP TABLE case_audit;
ALTER TABLE case_audit_new RENAME TO case_audit;
CREATE INDEX case_audit_request ON case_audit (request_id);

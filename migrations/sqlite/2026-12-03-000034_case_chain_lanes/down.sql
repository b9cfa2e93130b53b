-- Only a node whose lanes 2 to 8 are still empty can go back: their entries would not fit.
CREATE TABLE case_audit_old (
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (chain, seq)
);
INSERT INTO case_audit_old (chain, seq, request_id, at)
    SELECT chain, seq, request_id, at FROM case_audit;
DROP TABLE case_audit;
ALTER TABLE case_audit_old RENAME TO case_audit;
CREATE INDEX case_audit_request ON case_audit (request_id);

CREATE TABLE case_chain_head_old (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO case_chain_head_old (id, seq, hash) SELECT id, seq, hash FROM case_chain_head WHERE id = 1;
DROP TABLE case_chain_head;
ALTER TABLE case_chain_head_old RENAME TO case_chain_head;

CREATE TABLE case_chain_old (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO case_chain_old (seq, at, actor, action, record_type, record_id, prev_hash, hash)
    SELECT seq, at, actor, action, record_type, record_id, prev_hash, hash FROM case_chain WHERE lane = 1;
DROP TABLE case_chain;
ALTER TABLE case_chain_old RENAME TO case_chain;

ALTER TABLE audit_log DROP COLUMN lane;

CREATE TABLE case_audit_old (
    seq BIGINT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
INSERT INTO case_audit_old (seq, request_id, at)
    SELECT seq, request_id, at FROM case_audit WHERE chain = 'main';
DROP TABLE case_audit;
ALTER TABLE case_audit_old RENAME TO case_audit;
CREATE INDEX case_audit_request ON case_audit (request_id);
DROP TABLE case_chain_head;
DROP TABLE case_chain;

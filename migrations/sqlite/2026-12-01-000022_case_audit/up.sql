-- Entries of the audit chain about a support case carry the case under an alias and only the
-- month they were written in, so once the case is purged neither its id (whose first bits are
-- its creation time) nor the moment of each entry can tie it to a person's own sign-ins. While
-- the case lives, the true id and the moment of each entry are kept here, outside the chain,
-- and erased with the case.
CREATE TABLE case_audit (
    seq BIGINT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX case_audit_request ON case_audit (request_id);

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
ALTER TABLE case_audit ADD COLUMN chain TEXT NOT NULL DEFAULT 'main';
ALTER TABLE case_audit ALTER COLUMN chain DROP DEFAULT;
ALTER TABLE case_audit DROP CONSTRAINT case_audit_pkey;
ALTER TABLE case_audit ADD PRIMARY KEY (chain, seq);

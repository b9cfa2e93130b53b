-- The chain of case entries runs in eight lanes, each a hash chain with a head of its own: a
-- writer appends to the first lane no other transaction holds, so writers to different cases no
-- longer queue for one head until each commits. The main chain keeps one lane; both tables get
-- the column so one code path reads and writes either. Entries written before stay in lane 1.
ALTER TABLE audit_log ADD COLUMN lane INTEGER NOT NULL DEFAULT 1;

ALTER TABLE case_chain ADD COLUMN lane INTEGER NOT NULL DEFAULT 1;
ALTER TABLE case_chain DROP CONSTRAINT case_chain_pkey;
ALTER TABLE case_chain ADD PRIMARY KEY (lane, seq);

ALTER TABLE case_chain_head DROP CONSTRAINT case_chain_head_id_check;
ALTER TABLE case_chain_head ADD CONSTRAINT case_chain_head_id_check CHECK (id BETWEEN 1 AND 8);
INSERT INTO case_chain_head (id, seq, hash)
    SELECT lane, 0, '0000000000000000000000000000000000000000000000000000000000000000'
    FROM generate_series(2, 8) AS lane;

ALTER TABLE case_audit ADD COLUMN lane INTEGER NOT NULL DEFAULT 1;
ALTER TABLE case_audit DROP CONSTRAINT case_audit_pkey;
ALTER TABLE case_audit ADD PRIMARY KEY (chain, lane, seq);

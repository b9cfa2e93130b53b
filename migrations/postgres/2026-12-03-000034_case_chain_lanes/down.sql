-- Only a node whose lanes 2 to 8 are still empty can go back: their entries would not fit.
DELETE FROM case_chain_head WHERE id > 1 AND seq = 0;
ALTER TABLE case_chain_head DROP CONSTRAINT case_chain_head_id_check;
ALTER TABLE case_chain_head ADD CONSTRAINT case_chain_head_id_check CHECK (id = 1);
ALTER TABLE case_audit DROP CONSTRAINT case_audit_pkey;
ALTER TABLE case_audit ADD PRIMARY KEY (chain, seq);
ALTER TABLE case_audit DROP COLUMN lane;
ALTER TABLE case_chain DROP CONSTRAINT case_chain_pkey;
ALTER TABLE case_chain ADD PRIMARY KEY (seq);
ALTER TABLE case_chain DROP COLUMN lane;
ALTER TABLE audit_log DROP COLUMN lane;

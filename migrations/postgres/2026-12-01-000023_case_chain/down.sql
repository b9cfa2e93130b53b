DELETE FROM case_audit WHERE chain <> 'main';
ALTER TABLE case_audit DROP CONSTRAINT case_audit_pkey;
ALTER TABLE case_audit DROP COLUMN chain;
ALTER TABLE case_audit ADD PRIMARY KEY (seq);
DROP TABLE case_chain_head;
DROP TABLE case_chain;

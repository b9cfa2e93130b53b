-- Audit entries about a support case name their actors by a pseudonym per case. The mapping
-- lives here, outside the hash chain, and is erased when the case is purged: the chain still
-- verifies, and nothing links a person to the case any more.
CREATE TABLE case_pseudonyms (
    request_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    PRIMARY KEY (request_id, actor)
);

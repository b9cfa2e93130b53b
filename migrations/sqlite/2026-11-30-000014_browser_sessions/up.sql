-- Browser sessions for the node's own pages. The cookie holds a random token; only its digest
-- is stored, so a copy of the database cannot be used to sign in.
CREATE TABLE browser_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    idle_seconds INTEGER NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX browser_sessions_token ON browser_sessions (token_hash);
CREATE INDEX browser_sessions_account ON browser_sessions (account_id);

-- Single sign-on in progress: what the browser's return from the identity provider must match
-- (state, by digest), and what only this node knows (the nonce, the PKCE verifier). Single use,
-- ten minutes.
CREATE TABLE sso_attempts (
    state_hash TEXT PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- A used survey link is kept (flagged) until it expires, so its page can say "already answered"
-- rather than "not valid". It still names neither the case nor the person.
ALTER TABLE survey_tokens ADD COLUMN used BOOLEAN NOT NULL DEFAULT FALSE;

-- The language a person reads the pages, emails and text messages in (a shipped language's tag);
-- none means the browser's, then the institution's default.
ALTER TABLE people ADD COLUMN locale TEXT;

-- Passwordless sign-in by email link: single use, short-lived, stored only as a digest.
CREATE TABLE sign_in_links (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sign_in_links_token ON sign_in_links (token_hash);

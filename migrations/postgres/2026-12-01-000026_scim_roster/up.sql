-- The staff roster from the hospital's identity system (SCIM 2.0): a person may have no email
-- (reached by phone, pager, or through their manager), may be deactivated (history kept, no
-- contact), and is linked to the identity system's User resource.
ALTER TABLE people ALTER COLUMN email DROP NOT NULL;
ALTER TABLE people ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE people ADD COLUMN pager TEXT;

-- The identity system's view of a person: only the attributes the node declares in its SCIM
-- schema are kept (`resource`, JSON), and the person's own columns are derived from them.
CREATE TABLE scim_users (
    person_id TEXT PRIMARY KEY NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    -- userName is not case-sensitive (RFC 7643 §4.1.1): unique in lower case.
    user_name_key TEXT NOT NULL UNIQUE,
    external_id TEXT,
    resource TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The staff roster from the hospital's identity system (SCIM 2.0): a person may have no email
-- (reached by phone, pager, or through their manager), may be deactivated (history kept, no
-- contact), and is linked to the identity system's User resource. SQLite cannot drop NOT NULL
-- in place, so `people` is rebuilt with foreign keys off: with them on, dropping the old table
-- would cascade into every table that references it.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE people_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    staff_id TEXT UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT UNIQUE,
    profession TEXT NOT NULL,
    specialty TEXT,
    department TEXT,
    experience_band TEXT NOT NULL,
    languages TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    locale TEXT,
    phone TEXT,
    text_messages BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    pager TEXT
);
INSERT INTO people_rebuilt (id, staff_id, display_name, email, profession, specialty, department,
    experience_band, languages, created_at, updated_at, locale, phone, text_messages)
SELECT id, staff_id, display_name, email, profession, specialty, department, experience_band,
    languages, created_at, updated_at, locale, phone, text_messages FROM people;
DROP TABLE people;
ALTER TABLE people_rebuilt RENAME TO people;

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
COMMIT;
PRAGMA foreign_keys = ON;

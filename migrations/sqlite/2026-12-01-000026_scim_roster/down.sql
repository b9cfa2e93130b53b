PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE scim_users;
CREATE TABLE people_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    staff_id TEXT UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    profession TEXT NOT NULL,
    specialty TEXT,
    department TEXT,
    experience_band TEXT NOT NULL,
    languages TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    locale TEXT,
    phone TEXT,
    text_messages BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO people_rebuilt SELECT id, staff_id, display_name, email, profession, specialty,
    department, experience_band, languages, created_at, updated_at, locale, phone, text_messages
    FROM people WHERE email IS NOT NULL;
DROP TABLE people;
ALTER TABLE people_rebuilt RENAME TO people;
COMMIT;
PRAGMA foreign_keys = ON;

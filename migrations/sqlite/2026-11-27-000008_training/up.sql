-- Training: courses, sessions and completion records (which keep peer supporters' "trained"
-- status current), and the trainer directory, listed only with consent and only the fields each
-- trainer chose to publish.
CREATE TABLE training_courses (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    validity_months INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE training_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    course_id TEXT NOT NULL REFERENCES training_courses (id) ON DELETE CASCADE,
    starts_on DATE NOT NULL,
    format TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE training_completions (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    course_id TEXT NOT NULL REFERENCES training_courses (id) ON DELETE CASCADE,
    session_id TEXT REFERENCES training_sessions (id) ON DELETE SET NULL,
    completed_on DATE NOT NULL,
    expires_on DATE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX training_completions_person ON training_completions (person_id);

CREATE TABLE trainers (
    id TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    credentials TEXT,
    organization TEXT,
    topics TEXT NOT NULL,
    formats TEXT NOT NULL,
    regions TEXT NOT NULL,
    contact TEXT,
    published_fields TEXT NOT NULL,
    consented BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

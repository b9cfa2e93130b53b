-- The resource library: toolkits, guidance cards, policy templates, articles, video links and
-- training material, shared locally or with the federation.
CREATE TABLE resources (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT,
    link TEXT,
    tags TEXT NOT NULL,
    audience TEXT NOT NULL,
    jurisdiction TEXT,
    licence TEXT NOT NULL,
    sharing TEXT NOT NULL,
    built_in TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX resources_built_in ON resources (built_in);

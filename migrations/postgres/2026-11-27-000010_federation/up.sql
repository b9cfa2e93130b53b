-- Federation: this node's place in a federation (steward or member), the steward's member list,
-- the manifest held or issued, the change feed this node publishes, the directory cached from
-- other members with a cursor per origin, one-time candidate handles, introductions in both
-- directions, and the network metrics a steward pulls.

CREATE TABLE federation_settings (
    id INTEGER PRIMARY KEY NOT NULL,
    mode TEXT NOT NULL,
    steward_id TEXT,
    steward_url TEXT,
    steward_keys TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE federation_members (
    node_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    keys TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    joined_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE federation_manifests (
    id INTEGER PRIMARY KEY NOT NULL,
    serial BIGINT NOT NULL,
    token TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    stored_at TIMESTAMP NOT NULL
);

CREATE TABLE federation_feed_head (
    id INTEGER PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL
);
INSERT INTO federation_feed_head (id, seq) VALUES (1, 0);

CREATE TABLE federation_feed (
    seq BIGINT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    payload TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX federation_feed_item ON federation_feed (kind, item_id);

CREATE TABLE federation_directory (
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    payload TEXT NOT NULL,
    synced_at TIMESTAMP NOT NULL,
    PRIMARY KEY (origin, kind, item_id)
);

CREATE TABLE federation_cursors (
    origin TEXT PRIMARY KEY NOT NULL,
    cursor BIGINT NOT NULL,
    synced_at TIMESTAMP,
    failures INTEGER NOT NULL,
    last_error TEXT
);

CREATE TABLE federation_handles (
    handle_hash TEXT PRIMARY KEY NOT NULL,
    supporter_id TEXT NOT NULL,
    requester_node TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE federation_introductions (
    id TEXT PRIMARY KEY NOT NULL,
    direction TEXT NOT NULL,
    request_id TEXT,
    peer_node TEXT NOT NULL,
    supporter_id TEXT,
    first_name TEXT,
    contact TEXT,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    responded_at TIMESTAMP
);
CREATE INDEX federation_introductions_request ON federation_introductions (request_id);

CREATE TABLE federation_metrics (
    member TEXT NOT NULL,
    period TEXT NOT NULL,
    payload TEXT NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    PRIMARY KEY (member, period)
);

-- Each supporter's minutes of a month, kept in stripes: an encounter adds to the stripe of the
-- database thread that records it (core/src/requests/workload.rs), and matching sums them. One
-- row per supporter and month was held by each encounter until it committed (on PostgreSQL; on
-- SQLite, with one writer at a time, the stripe is all the same). SQLite cannot change a primary
-- key, so the table is made again, its columns in PostgreSQL's order.
CREATE TABLE supporter_minutes_striped (
    supporter_id TEXT NOT NULL REFERENCES peer_supporters (id) ON DELETE CASCADE,
    month DATE NOT NULL,
    minutes BIGINT NOT NULL,
    stripe SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (supporter_id, month, stripe)
);
INSERT INTO supporter_minutes_striped (supporter_id, month, minutes, stripe)
SELECT supporter_id, month, minutes, 0 FROM supporter_minutes;
DROP TABLE supporter_minutes;
ALTER TABLE supporter_minutes_striped RENAME TO supporter_minutes;

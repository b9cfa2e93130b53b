-- One row per supporter and month again: each key's stripes summed.
CREATE TABLE supporter_minutes_whole (
    supporter_id TEXT NOT NULL REFERENCES peer_supporters (id) ON DELETE CASCADE,
    month DATE NOT NULL,
    minutes BIGINT NOT NULL,
    PRIMARY KEY (supporter_id, month)
);
INSERT INTO supporter_minutes_whole (supporter_id, month, minutes)
SELECT supporter_id, month, SUM(minutes) FROM supporter_minutes GROUP BY supporter_id, month;
DROP TABLE supporter_minutes;
ALTER TABLE supporter_minutes_whole RENAME TO supporter_minutes;

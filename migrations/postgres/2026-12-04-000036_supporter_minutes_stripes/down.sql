-- One row per supporter and month again: each key's stripes summed into its lowest.
UPDATE supporter_minutes m SET minutes = (
    SELECT SUM(t.minutes) FROM supporter_minutes t
    WHERE t.supporter_id = m.supporter_id AND t.month = m.month
)
WHERE m.stripe = (
    SELECT MIN(t.stripe) FROM supporter_minutes t
    WHERE t.supporter_id = m.supporter_id AND t.month = m.month
);
DELETE FROM supporter_minutes m
WHERE m.stripe > (
    SELECT MIN(t.stripe) FROM supporter_minutes t
    WHERE t.supporter_id = m.supporter_id AND t.month = m.month
);
ALTER TABLE supporter_minutes DROP CONSTRAINT supporter_minutes_pkey;
ALTER TABLE supporter_minutes DROP COLUMN stripe;
ALTER TABLE supporter_minutes ADD PRIMARY KEY (supporter_id, month);

-- Each supporter's minutes of a month, kept in stripes: an encounter adds to the stripe of the
-- database thread that records it (core/src/requests/workload.rs), and matching sums them. One
-- row per supporter and month was held by each encounter until it committed, so the encounters
-- of one supporter recorded at once waited for each other, and with them the connections they
-- held.
ALTER TABLE supporter_minutes ADD COLUMN stripe SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE supporter_minutes DROP CONSTRAINT supporter_minutes_pkey;
ALTER TABLE supporter_minutes ADD PRIMARY KEY (supporter_id, month, stripe);

-- Coordinators are reminded a month before an open event reaches the ceiling of its legal life
-- (maintenance.event_involvement_years), once, so a claim still open is not forgotten unseen.
ALTER TABLE events ADD COLUMN ceiling_reminded_at TIMESTAMP;

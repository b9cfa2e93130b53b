-- Who was involved in an event is kept for the event's legal life: until a coordinator closes
-- the event, or a ceiling (`maintenance.event_involvement_years`, default 7) passes, so a
-- lawsuit or a deposition years later renews outreach to everyone involved. Who asked for
-- support is not kept that long (retention removes it as before).
ALTER TABLE events ADD COLUMN closed_at TIMESTAMP;

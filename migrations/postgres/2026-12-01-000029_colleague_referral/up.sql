-- "I'm worried about a colleague": any member may ask the program to reach out to a colleague.
-- The outreach says it came from a colleague's concern, and names the referrer only if they
-- chose (their display name, as they allowed it to be shown).
ALTER TABLE outreach ADD COLUMN from_colleague BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE outreach ADD COLUMN referrer_name TEXT;

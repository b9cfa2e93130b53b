-- Event categories a program treats as urgent: everyone involved in such an event gets urgent
-- outreach (its own clock, by text where chosen), as disclosure participants do.
ALTER TABLE programs ADD COLUMN urgent_categories TEXT NOT NULL DEFAULT '[]';
-- The outside peer's case, counts only: when the peer first talked with the requester, how
-- many conversations, and when it ended. Kept on both sides (the supporter's node records;
-- the requester's node learns first contact and the end through signed signals).
ALTER TABLE federation_introductions ADD COLUMN first_contact_at TIMESTAMP;
ALTER TABLE federation_introductions ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE federation_introductions ADD COLUMN encounters INTEGER NOT NULL DEFAULT 0;
-- A follow-up with the requester themselves: the program checks in with a person supported by
-- a peer at another institution (no local supporter to do it).
ALTER TABLE follow_ups ADD COLUMN with_requester BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE follow_ups DROP COLUMN with_requester;
ALTER TABLE federation_introductions DROP COLUMN encounters;
ALTER TABLE federation_introductions DROP COLUMN closed_at;
ALTER TABLE federation_introductions DROP COLUMN first_contact_at;
ALTER TABLE programs DROP COLUMN urgent_categories;

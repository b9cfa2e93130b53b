-- Text messages (SMS and pagers): a phone number, in E.164 form, kept only for staff who gave
-- it, and whether they want offers and alerts by text.
ALTER TABLE people ADD COLUMN phone TEXT;
ALTER TABLE people ADD COLUMN text_messages BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE people DROP COLUMN text_messages;
ALTER TABLE people DROP COLUMN phone;

ALTER TABLE outreach DROP COLUMN referrer_name;
ALTER TABLE outreach DROP COLUMN from_colleague;

DROP TABLE outreach_opt_outs;
ALTER TABLE outreach DROP COLUMN recontacts;
ALTER TABLE programs DROP COLUMN recontact_days;

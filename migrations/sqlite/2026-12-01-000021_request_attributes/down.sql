ALTER TABLE support_requests DROP COLUMN event_category;
ALTER TABLE support_requests DROP COLUMN requester_profession;

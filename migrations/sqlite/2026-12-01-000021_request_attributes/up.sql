-- What metrics count a request by, as it was when the request was made: the requester's
-- profession and the category of the event it followed. Counting by the current profile let
-- anyone who could change a profile learn, by comparing metrics before and after, how many
-- requests that one person made.
ALTER TABLE support_requests ADD COLUMN requester_profession TEXT;
ALTER TABLE support_requests ADD COLUMN event_category TEXT;
UPDATE support_requests SET requester_profession =
    (SELECT profession FROM people WHERE people.id = support_requests.requester_id);
UPDATE support_requests SET event_category =
    (SELECT category FROM events WHERE events.id = support_requests.event_id);

DROP INDEX support_requests_offered;
DROP INDEX support_requests_held;

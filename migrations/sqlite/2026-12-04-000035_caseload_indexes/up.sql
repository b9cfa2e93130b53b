-- The caseload counts matching reads for every new request and every sweep (`CANDIDATES` in
-- core/src/requests/matchmaking.rs): over the cases open now, not over every case there has been.
CREATE INDEX support_requests_held ON support_requests (supporter_id)
    WHERE state IN ('accepted', 'in_contact', 'follow_up');
CREATE INDEX support_requests_offered ON support_requests (offered_to)
    WHERE state = 'offered';

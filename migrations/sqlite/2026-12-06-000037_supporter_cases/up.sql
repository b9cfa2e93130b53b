-- Each supporter's cases held and offers waiting, kept as running counts for matching, which
-- reads them for every new request (core/src/requests/matchmaking.rs); they follow the requests
-- by trigger, so no write of a request can leave them wrong. PostgreSQL keeps them in stripes,
-- one per session; SQLite, with one writer at a time, in one (0), the same table for both.
CREATE TABLE supporter_cases (
    supporter_id TEXT NOT NULL,
    stripe INTEGER NOT NULL,
    cases BIGINT NOT NULL,
    PRIMARY KEY (supporter_id, stripe)
);

CREATE TRIGGER support_requests_cases_in AFTER INSERT ON support_requests
WHEN (CASE WHEN NEW.state IN ('accepted', 'in_contact', 'follow_up') THEN NEW.supporter_id
      WHEN NEW.state = 'offered' THEN NEW.offered_to END) IS NOT NULL
BEGIN
    INSERT INTO supporter_cases (supporter_id, stripe, cases)
    VALUES (CASE WHEN NEW.state = 'offered' THEN NEW.offered_to ELSE NEW.supporter_id END, 0, 1)
    ON CONFLICT (supporter_id, stripe) DO UPDATE SET cases = cases + 1;
END;

CREATE TRIGGER support_requests_cases_out AFTER DELETE ON support_requests
WHEN (CASE WHEN OLD.state IN ('accepted', 'in_contact', 'follow_up') THEN OLD.supporter_id
      WHEN OLD.state = 'offered' THEN OLD.offered_to END) IS NOT NULL
BEGIN
    INSERT INTO supporter_cases (supporter_id, stripe, cases)
    VALUES (CASE WHEN OLD.state = 'offered' THEN OLD.offered_to ELSE OLD.supporter_id END, 0, -1)
    ON CONFLICT (supporter_id, stripe) DO UPDATE SET cases = cases - 1;
END;

CREATE TRIGGER support_requests_cases_moved
AFTER UPDATE OF state, supporter_id, offered_to ON support_requests
WHEN (CASE WHEN OLD.state IN ('accepted', 'in_contact', 'follow_up') THEN OLD.supporter_id
      WHEN OLD.state = 'offered' THEN OLD.offered_to END)
  IS NOT (CASE WHEN NEW.state IN ('accepted', 'in_contact', 'follow_up') THEN NEW.supporter_id
      WHEN NEW.state = 'offered' THEN NEW.offered_to END)
BEGIN
    INSERT INTO supporter_cases (supporter_id, stripe, cases)
    SELECT CASE WHEN OLD.state = 'offered' THEN OLD.offered_to ELSE OLD.supporter_id END, 0, -1
    WHERE OLD.state IN ('accepted', 'in_contact', 'follow_up', 'offered')
      AND (CASE WHEN OLD.state = 'offered' THEN OLD.offered_to ELSE OLD.supporter_id END) IS NOT NULL
    ON CONFLICT (supporter_id, stripe) DO UPDATE SET cases = cases - 1;
    INSERT INTO supporter_cases (supporter_id, stripe, cases)
    SELECT CASE WHEN NEW.state = 'offered' THEN NEW.offered_to ELSE NEW.supporter_id END, 0, 1
    WHERE NEW.state IN ('accepted', 'in_contact', 'follow_up', 'offered')
      AND (CASE WHEN NEW.state = 'offered' THEN NEW.offered_to ELSE NEW.supporter_id END) IS NOT NULL
    ON CONFLICT (supporter_id, stripe) DO UPDATE SET cases = cases + 1;
END;

INSERT INTO supporter_cases (supporter_id, stripe, cases)
SELECT who, -1, COUNT(*) FROM (
    SELECT CASE WHEN state IN ('accepted', 'in_contact', 'follow_up') THEN supporter_id
           WHEN state = 'offered' THEN offered_to END AS who
    FROM support_requests
)
WHERE who IS NOT NULL
GROUP BY who;

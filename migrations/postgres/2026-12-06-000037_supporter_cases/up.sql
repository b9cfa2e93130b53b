-- Each supporter's cases held and offers waiting, kept as running counts for matching, which
-- reads them for every new request: counting the requests themselves read every open case of
-- every supporter each time (core/src/requests/matchmaking.rs). The counts follow the requests
-- by trigger, so no write of a request, whatever made it (a use case, a sweep, retention, a
-- supporter's removal), can leave them wrong.
--
-- They are kept in stripes, summed when read. A session takes a stripe of its own the first
-- time it changes a count, by holding an advisory lock for as long as it lives, so no two
-- sessions ever write the same row: a new request never waits for another's commit, and two
-- transactions that change the same supporters in opposite orders cannot deadlock. A stripe is
-- a session's for as long as it lives (or two, if the transaction that first took one rolled
-- back); the rows the counts began from, before any session, are stripe -1.
CREATE TABLE supporter_cases (
    supporter_id TEXT NOT NULL,
    stripe INTEGER NOT NULL,
    cases BIGINT NOT NULL,
    PRIMARY KEY (supporter_id, stripe)
);

-- Whose count a request is in: the supporter holding it, or the one it is offered to.
CREATE FUNCTION supporter_cases_of(state TEXT, supporter_id TEXT, offered_to TEXT)
RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN state IN ('accepted', 'in_contact', 'follow_up') THEN supporter_id
        WHEN state = 'offered' THEN offered_to
    END
$$;

CREATE FUNCTION supporter_cases_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was TEXT;
    now_in TEXT;
    mine INTEGER;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        was := supporter_cases_of(OLD.state, OLD.supporter_id, OLD.offered_to);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        now_in := supporter_cases_of(NEW.state, NEW.supporter_id, NEW.offered_to);
    END IF;
    IF was IS NOT DISTINCT FROM now_in THEN
        RETURN NULL;
    END IF;
    -- The session's stripe; the setting is lost if the transaction that set it rolls back,
    -- and the lock kept, so a session may come to hold a second: still its own.
    mine := NULLIF(current_setting('alongside.cases_stripe', true), '')::INTEGER;
    IF mine IS NULL THEN
        FOR k IN 0..100000 LOOP
            IF pg_try_advisory_lock(22022, k) THEN
                mine := k;
                EXIT;
            END IF;
        END LOOP;
        PERFORM set_config('alongside.cases_stripe', mine::TEXT, false);
    END IF;
    IF was IS NOT NULL THEN
        INSERT INTO supporter_cases (supporter_id, stripe, cases) VALUES (was, mine, -1)
        ON CONFLICT (supporter_id, stripe) DO UPDATE SET cases = supporter_cases.cases - 1;
    END IF;
    IF now_in IS NOT NULL THEN
        INSERT INTO supporter_cases (supporter_id, stripe, cases) VALUES (now_in, mine, 1)
        ON CONFLICT (supporter_id, stripe) DO UPDATE SET cases = supporter_cases.cases + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER support_requests_cases
AFTER INSERT OR DELETE OR UPDATE OF state, supporter_id, offered_to ON support_requests
FOR EACH ROW EXECUTE FUNCTION supporter_cases_follow();

INSERT INTO supporter_cases (supporter_id, stripe, cases)
SELECT who, -1, COUNT(*) FROM (
    SELECT supporter_cases_of(state, supporter_id, offered_to) AS who FROM support_requests
) r
WHERE who IS NOT NULL
GROUP BY who;

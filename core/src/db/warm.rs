//! A new PostgreSQL connection runs the statements of the busiest paths once before it serves.
//!
//! A backend's first run of a statement reads the catalogue (tables, indexes, statistics,
//! functions) into its own caches and plans it: 2–3 ms for matching's statement on a fresh
//! connection against 0.6 ms after, and up to 12 ms each while eight fresh connections did it
//! at once in the first second of the load bench (docs/performance.md). Here that is paid at
//! start, and by a connection opened later (one replaced after a failure or its time in the
//! pool), before its first loan.
//!
//! Each runs [`RUNS`] times: PostgreSQL plans a prepared statement again, for the values bound,
//! at each of its first five runs, and makes the plan it may keep for all values at the sixth.
//! Run once, a hot statement was planned again at the next five loans of each connection, the
//! first writes after a start (docs/performance.md).
//!
//! The statements are run by the functions the use cases run them with, so a statement changed
//! there is warmed as changed. The reads (and the main audit chain's append, whose one head row
//! every writer of that chain waits for) run in a transaction that is read only: reads find
//! nothing (every id is the nil id), and a write fails as it starts, after PostgreSQL has parsed
//! and planned it. The case writes run to their end, in a transaction always rolled back, on
//! stand-ins it writes first (a person, a program, a supporter and an accepted request, all with
//! the nil id): a backend's first run of a write also plans each foreign key's check and
//! compiles the supporters' counts' trigger, 2–3.5 ms on the load bench's fresh connections
//! (docs/performance.md), which a write failing as it starts never reaches. Nothing of either
//! stays; the case writes hold only rows of their own and one of the case chain's lanes, which
//! other writers skip. Each statement runs in a savepoint of its own, so one's failure leaves
//! the next to run.

use diesel::Connection;
use diesel::connection::SimpleConnection;

use super::DbConnection;
use crate::error::CoreError;

type Warmer = fn(&mut DbConnection) -> Result<(), CoreError>;

/// The busiest paths' reads: a signed-in person's token check and reads, a request's reads, a
/// person's own requests, and the main audit chain's append (which fails as it starts, read
/// only). Not the library's and the programs' first pages: they are remembered, and read from
/// the database only after a change.
const READS: [(&str, Warmer); 6] = [
    ("token check", crate::standing::warm),
    ("person", crate::people::warm),
    ("request reads", crate::requests::warm_reads),
    ("my requests", crate::requests::warm_mine),
    ("case pseudonyms", crate::audit::warm_reads),
    ("main audit chain", crate::audit::warm_main),
];

/// The busiest case writes, run to their end on the stand-ins: a new request, its offer and its
/// message, a supporter's first encounter and the next, and the case chain's append.
const WRITES: [(&str, Warmer); 7] = [
    ("new request", crate::requests::warm_new),
    ("new request offered", crate::requests::warm_offered),
    ("request history", crate::requests::warm_transition),
    (
        "first encounter",
        crate::requests::care::warm_first_encounter,
    ),
    ("encounter", crate::requests::care::warm_encounter),
    ("message queued", crate::notify::outbox::warm),
    ("case audit chain", crate::audit::warm_case),
];

/// The rows the case writes refer to, made in the warm-up's transaction and rolled back with
/// it: what each write's foreign keys ask for, with the nil id the warm-up's statements use.
const STAND_INS: &str = "\
    INSERT INTO people (id, display_name, email, profession, experience_band, languages, \
        created_at, updated_at) \
    VALUES ('00000000-0000-0000-0000-000000000000', 'warm-up', 'warm-up@alongside.invalid', \
        'other', 'unknown', '[]', now(), now()); \
    INSERT INTO programs (id, name, kind, tier, audience, hours, contact, privileged, \
        follow_up_days, active, created_at, updated_at) \
    VALUES ('00000000-0000-0000-0000-000000000000', 'warm-up', 'peer_support', 2, '[]', '', '', \
        false, '[]', false, now(), now()); \
    INSERT INTO peer_supporters (id, person_id, lived_experience, time_zone, availability, \
        caseload_cap, outside_matching_opt_in, active, created_at, updated_at) \
    VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000', \
        false, 'UTC', '[]', 1, false, false, now(), now()); \
    INSERT INTO support_requests (id, requester_id, origin, urgency, specialty_preference, \
        language_required, modality, peer_origin, coordinator_access, state, supporter_id, \
        ack_due_at, contact_due_at, created_at, updated_at) \
    VALUES ('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000', \
        'self', 'routine', 'any', false, 'phone', 'any_department', 'status_only', 'accepted', \
        '00000000-0000-0000-0000-000000000000', now(), now(), now(), now())";

/// Warms `conn` (PostgreSQL; SQLite parses in process, from a schema it already holds, and is
/// left alone). Returns the statements that failed otherwise than expected, by name, with why:
/// none, unless one is broken, which the use case itself will then report.
pub(crate) fn connection(
    conn: &mut DbConnection,
) -> Result<Vec<(&'static str, String)>, CoreError> {
    if !matches!(conn, DbConnection::Pg(_)) {
        return Ok(Vec::new());
    }
    let mut unexpected = Vec::new();
    rolled_back(conn, |tx| {
        tx.batch_execute("SET TRANSACTION READ ONLY")?;
        run_each(tx, &READS, refused_as_read_only, &mut unexpected);
        Ok(())
    })?;
    rolled_back(conn, |tx| {
        if let Err(e) = tx.batch_execute(STAND_INS) {
            // Without them every write would fail at its first foreign key.
            unexpected.push(("stand-ins", e.to_string()));
            return Ok(());
        }
        run_each(tx, &WRITES, |_| false, &mut unexpected);
        Ok(())
    })?;
    Ok(unexpected)
}

/// Runs each of `warmers` [`RUNS`] times, each run in a savepoint of its own. A failure that
/// is not `expected` goes to `unexpected`, and that warmer's further runs are left.
fn run_each(
    tx: &mut DbConnection,
    warmers: &[(&'static str, Warmer)],
    expected: impl Fn(&CoreError) -> bool,
    unexpected: &mut Vec<(&'static str, String)>,
) {
    for &(name, warm) in warmers {
        for _ in 0..RUNS {
            match tx.transaction(warm) {
                Err(e) if !expected(&e) => {
                    unexpected.push((name, e.to_string()));
                    break;
                }
                _ => {}
            }
        }
    }
}

/// How a write fails in the reads' transaction, as it starts: expected there.
fn refused_as_read_only(e: &CoreError) -> bool {
    matches!(e, CoreError::Internal(why) if why.contains("read-only transaction"))
}

/// Runs `work` in a transaction that is always rolled back, whatever ran.
fn rolled_back(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<(), CoreError>,
) -> Result<(), CoreError> {
    let outcome = conn.transaction::<(), CoreError, _>(|tx| {
        work(tx)?;
        Err(CoreError::internal(ROLLED_BACK))
    });
    match outcome {
        Err(CoreError::Internal(why)) if why == ROLLED_BACK => Ok(()),
        Err(e) => Err(e),
        Ok(()) => Ok(()),
    }
}

const ROLLED_BACK: &str = "warm-up rolled back";

/// Runs of each statement: PostgreSQL's five plans for the values bound, and the sixth, which
/// makes the plan for any values (`plan_cache_mode = auto`, its default).
const RUNS: usize = 6;

#[cfg(test)]
mod tests {
    use diesel::sql_types::{BigInt, Text};
    use diesel::{QueryableByName, RunQueryDsl};

    use crate::db::testing::TestDatabase;
    use crate::db::{Db, DbConnection, DbSettings, run_migrations};

    #[derive(QueryableByName, PartialEq, Debug)]
    struct Text1 {
        #[diesel(sql_type = Text)]
        t: String,
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// Every table's row count and both audit chains' heads.
    fn everything(conn: &mut DbConnection) -> String {
        diesel::sql_query(
            "SELECT (SELECT string_agg(table_name || '=' || (xpath('/row/c/text()', \
             query_to_xml(format('SELECT count(*) AS c FROM %I', table_name), false, true, '')))[1]::text, \
             ',' ORDER BY table_name) FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE') \
             || (SELECT string_agg(id || ':' || seq || ':' || hash, ',' ORDER BY id) FROM audit_head) \
             || (SELECT string_agg(id || ':' || seq || ':' || hash, ',' ORDER BY id) FROM case_chain_head) \
             AS t",
        )
        .get_result::<Text1>(conn)
        .unwrap()
        .t
    }

    fn kept(conn: &mut DbConnection, starting: &str) -> i64 {
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '{starting}%'"
        ))
        .get_result::<Count>(conn)
        .unwrap()
        .n
    }

    /// The supporters' counts' stripes this session holds (migration 000037).
    fn stripes_held(conn: &mut DbConnection) -> i64 {
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' \
             AND classid = 22022 AND pid = pg_backend_pid()",
        )
        .get_result::<Count>(conn)
        .unwrap()
        .n
    }

    /// The fewest times any statement starting so was planned on this connection, for the
    /// values bound or for any.
    fn planned(conn: &mut DbConnection, starting: &str) -> i64 {
        diesel::sql_query(format!(
            "SELECT COALESCE(MIN(custom_plans + generic_plans), 0) AS n \
             FROM pg_prepared_statements WHERE statement LIKE '{starting}%'"
        ))
        .get_result::<Count>(conn)
        .unwrap()
        .n
    }

    /// On PostgreSQL each hot statement runs as expected (a read finds nothing, a main chain's
    /// append fails as it starts, a case write runs to its end and is rolled back), nothing is
    /// written, and the statements stay prepared on the connection; the
    /// pool warms every connection it holds. SQLite is left alone.
    #[test]
    fn warming_plans_the_busiest_statements_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(dir.path()).unwrap();
        let mut settings = DbSettings::new(database.url.clone());
        settings.pool_size = 3;
        let db = Db::connect(&settings).unwrap();
        run_migrations(&mut db.get().unwrap()).unwrap();
        if !database.is_postgres() {
            assert_eq!(db.warm().unwrap(), 0);
            return;
        }
        let mut conn = db.get().unwrap();
        let before = everything(&mut conn);
        let failed = super::connection(&mut conn).unwrap();
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(everything(&mut conn), before, "the warm-up wrote something");
        // The offer ran to its end, past its foreign keys' checks: the supporters' counts'
        // trigger took this session's stripe (a lock kept by the session, not the transaction).
        assert_eq!(stripes_held(&mut conn), 1, "the case writes did not run");
        for statement in [
            "SELECT s.id, s.person_id",
            "SELECT \"case_pseudonyms\"",
            "SELECT \"support_requests\".\"id\"%WHERE (\"support_requests\".\"requester_id\" = $1) ORDER BY",
            "SELECT \"people\".\"id\", \"people\".\"display_name\"",
            "WITH RECURSIVE w1 AS (INSERT INTO \"support_requests\"",
            "WITH RECURSIVE w1 AS (INSERT INTO \"support_requests\"%w3 AS (INSERT INTO \"outbox\"",
            "INSERT INTO \"request_transitions\"",
            "WITH RECURSIVE w1 AS (INSERT INTO \"encounters\"%w2 AS (INSERT INTO supporter_minutes",
            "WITH RECURSIVE w1 AS (INSERT INTO \"encounters\"%INSERT INTO follow_ups (id, due_at",
            "WITH RECURSIVE head",
        ] {
            assert!(kept(&mut conn, statement) > 0, "not prepared: {statement}");
            // Past PostgreSQL's first five plans for the values bound: a use case's first
            // runs on this connection find the plan made.
            assert!(
                planned(&mut conn, statement) >= super::RUNS as i64,
                "planned fewer than {} times: {statement}",
                super::RUNS
            );
        }
        drop(conn);
        assert_eq!(db.warm().unwrap(), 3);
        assert_eq!(everything(&mut db.get().unwrap()), before);
    }
}

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
//! there is warmed as changed, in a transaction that is read only and always rolled back: reads
//! find nothing (every id is the nil id), and a write fails as it starts, after PostgreSQL has
//! parsed and planned it and diesel has kept it prepared. Each runs in a savepoint of its own,
//! so one write's failure leaves the next to run.

use diesel::Connection;
use diesel::connection::SimpleConnection;

use super::DbConnection;
use crate::error::CoreError;

type Warmer = fn(&mut DbConnection) -> Result<(), CoreError>;

/// The busiest paths' statements: a signed-in person's token check and reads, a new request,
/// its offer and its message, a supporter's encounter, and the audit chains' reads and appends.
/// Not yet: the lists (a person's requests, the library, programs), whose statements are built
/// inside their use cases.
const HOT: [(&str, Warmer); 11] = [
    ("token check", crate::standing::warm),
    ("person", crate::people::warm),
    ("request reads", crate::requests::warm_reads),
    ("case pseudonyms", crate::audit::warm_reads),
    ("new request", crate::requests::warm_new),
    ("new request offered", crate::requests::warm_offered),
    ("request history", crate::requests::warm_transition),
    ("encounter", crate::requests::care::warm_encounter),
    ("message queued", crate::notify::outbox::warm),
    ("main audit chain", crate::audit::warm_main),
    ("case audit chain", crate::audit::warm_case),
];

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
    let outcome = conn.transaction::<(), CoreError, _>(|tx| {
        tx.batch_execute("SET TRANSACTION READ ONLY")?;
        for (name, warm) in HOT {
            for _ in 0..RUNS {
                match tx.transaction(warm) {
                    Ok(()) => {}
                    Err(CoreError::Internal(why)) if why.contains("read-only transaction") => {}
                    Err(e) => {
                        unexpected.push((name, e.to_string()));
                        break;
                    }
                }
            }
        }
        // Whatever ran, nothing of it stays.
        Err(CoreError::internal(ROLLED_BACK))
    });
    match outcome {
        Err(CoreError::Internal(why)) if why == ROLLED_BACK => Ok(unexpected),
        Err(e) => Err(e),
        Ok(()) => Ok(unexpected),
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

    /// On PostgreSQL each hot statement runs as expected (a read finds nothing, a write fails as
    /// it starts), nothing is written, and the statements stay prepared on the connection; the
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
        for statement in [
            "SELECT s.id, s.person_id",
            "SELECT \"case_pseudonyms\"",
            "SELECT \"people\".\"id\", \"people\".\"display_name\"",
            "WITH RECURSIVE w1 AS (INSERT INTO \"support_requests\"",
            "WITH RECURSIVE w1 AS (INSERT INTO \"support_requests\"%w3 AS (INSERT INTO \"outbox\"",
            "INSERT INTO \"request_transitions\"",
            "WITH RECURSIVE w1 AS (INSERT INTO \"encounters\"%w2 AS (INSERT INTO supporter_minutes",
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

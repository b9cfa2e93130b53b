//! Transactions begun late (PostgreSQL): a use case that reads first and leaves its writes to
//! its last statement (inserts held with `Writes::finish_by_commit`, audit entries) needs no
//! `BEGIN` and `COMMIT` around that statement when it is the only one that writes: PostgreSQL
//! runs a statement alone as a transaction of its own, all or nothing. That is two waits on the
//! database fewer for the use case, and the audit lane it appends to is held only while the
//! statement runs, not until a `COMMIT` arrives from the node.
//!
//! The reads see what they would inside a transaction: under PostgreSQL's default isolation
//! (read committed) each statement sees what was committed when it started, in a transaction or
//! not. A read that locks (`FOR UPDATE`) would not hold its lock, so it counts as a write.
//!
//! A use case that must write before its end calls [`begin_now`] first (`Writes::finish` does);
//! from there on it runs in a transaction as any other. A write started before that is a
//! mistake: the connection's [`Watch`] sees it and the call fails (`CoreError::Internal`), so a
//! test of the path finds it. The watch is installed only in builds with debug assertions, as
//! every test run is: it writes out each statement's SQL to read it (5% of a release node's
//! instructions under the mixed load), and which statements a use case runs is fixed by its
//! code, so the tests of its paths find the mistake.

use std::cell::Cell;

use diesel::Connection;
use diesel::connection::{Instrumentation, InstrumentationEvent, TransactionManager};

use super::DbConnection;
use crate::error::CoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not in a transaction begun late (or on SQLite): nothing to watch, nothing to begin.
    Off,
    /// No `BEGIN` sent: every statement must be a plain read. `wrote_early`: one was not, and
    /// the call fails at its end.
    Reading { wrote_early: bool },
    /// `BEGIN` sent: the work's end commits it (or rolls it back, after an early write).
    Begun { wrote_early: bool },
    /// The last statement, sent alone (the audit's append with what was held).
    Last,
}

const READING: State = State::Reading { wrote_early: false };

thread_local! {
    /// The state of the transaction begun late running on this (database) thread.
    static STATE: Cell<State> = const { Cell::new(State::Off) };
}

/// Runs `work` on a PostgreSQL connection with no transaction begun: the work's reads run
/// alone, its last statement too when it is the only write ([`last_alone`]), and if it began a
/// transaction on the way ([`begin_now`]) it is committed here, or rolled back when the work
/// failed. On SQLite, `work` must be called inside a transaction instead (`Db`'s job).
pub(crate) fn run<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, CoreError>,
) -> Result<T, CoreError> {
    /// Back to `Off` when dropped, also on a panic, so a later call on the same thread never
    /// finds a stale state.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            STATE.with(|s| s.set(State::Off));
        }
    }
    STATE.with(|s| s.set(READING));
    let reset = Reset;
    let result = work(conn);
    let state = STATE.with(Cell::get);
    drop(reset);
    let (begun, wrote_early) = match state {
        State::Reading { wrote_early } => (false, wrote_early),
        State::Begun { wrote_early } => (true, wrote_early),
        State::Off | State::Last => (false, false),
    };
    let result = match result {
        Ok(_) if wrote_early => Err(CoreError::internal(
            "a statement wrote before its transaction began (db::late::begin_now)",
        )),
        result => result,
    };
    if !begun {
        return result;
    }
    type Tm = <DbConnection as Connection>::TransactionManager;
    match result {
        Ok(value) => {
            Tm::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Tm::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Begins the transaction begun late, if one is running on this thread and has not begun: call
/// before any statement that writes, or that must hold a lock. Elsewhere it does nothing.
pub(crate) fn begin_now(conn: &mut DbConnection) -> Result<(), CoreError> {
    let State::Reading { wrote_early } = STATE.with(Cell::get) else {
        return Ok(());
    };
    <DbConnection as Connection>::TransactionManager::begin_transaction(conn)?;
    STATE.with(|s| s.set(State::Begun { wrote_early }));
    Ok(())
}

/// Whether a transaction begun late is still reading, so its last statement may go alone.
pub(crate) fn reading() -> bool {
    STATE.with(Cell::get) == READING
}

/// What follows is the transaction's last statement, sent alone: its writes are no mistake.
pub(crate) fn last_alone() {
    STATE.with(|s| {
        if s.get() == READING {
            s.set(State::Last);
        }
    });
}

/// Watches a PostgreSQL connection's statements for a write while a transaction begun late is
/// still reading (installed on every PostgreSQL connection by `db::establish`).
pub(crate) struct Watch;

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            // Only while reading: every other statement costs a thread-local read, nothing more.
            if STATE.with(Cell::get) == READING && writes(&sql_of(query)) {
                STATE.with(|s| s.set(State::Reading { wrote_early: true }));
                tracing::error!(
                    "a statement wrote before its transaction began; the call will fail"
                );
            }
        }
    }
}

/// What diesel shows of a statement before its values: its SQL.
const BINDS: &str = " -- binds: ";

/// A statement's SQL, without formatting its values (diesel shows them after [`BINDS`]).
fn sql_of(query: &dyn std::fmt::Display) -> String {
    struct UpToBinds(String);
    impl std::fmt::Write for UpToBinds {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            match s.find(BINDS) {
                Some(end) => {
                    self.0.push_str(&s[..end]);
                    // Stops the formatting: the values are not needed.
                    Err(std::fmt::Error)
                }
                None => {
                    self.0.push_str(s);
                    Ok(())
                }
            }
        }
    }
    let mut sql = UpToBinds(String::new());
    // The error is the stop above.
    let _ = std::fmt::write(&mut sql, format_args!("{query}"));
    sql.0
}

/// Whether a statement's SQL may write or lock: any of the words that do so.
fn writes(sql: &str) -> bool {
    const WRITING: [&str; 9] = [
        "INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "COPY", "CALL", "LOCK", "SHARE",
    ];
    // Most words are ruled out by their length and first letter before any comparison: the
    // candidates' statement alone has some two hundred.
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| (4..=8).contains(&word.len()))
        .any(|word| {
            let first = word.as_bytes()[0].to_ascii_uppercase();
            WRITING.iter().any(|w| {
                w.len() == word.len() && w.as_bytes()[0] == first && word.eq_ignore_ascii_case(w)
            })
        })
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;

    use super::writes;
    use crate::db::testing::TestDatabase;
    use crate::db::together::Writes;
    use crate::db::together::tests::queue;
    use crate::db::{Db, DbConnection, DbSettings, run_migrations};
    use crate::error::CoreError;

    fn count(conn: &mut DbConnection, table: &str) -> i64 {
        crate::db::together::tests::count(conn, &format!("SELECT count(*) AS n FROM {table}"))
    }

    /// Whether statements run as transactions of their own (PostgreSQL): two in a row get two
    /// transaction ids, where two in one transaction share it. On SQLite, always false: every
    /// call here runs in a transaction.
    fn alone(conn: &mut DbConnection) -> Result<bool, CoreError> {
        if !matches!(conn, DbConnection::Pg(_)) {
            return Ok(false);
        }
        let first = crate::db::together::tests::count(conn, "SELECT txid_current() AS n");
        Ok(first != crate::db::together::tests::count(conn, "SELECT txid_current() AS n"))
    }

    /// Reads run alone and the held rows go with the audit entry, alone (PostgreSQL); a write
    /// before the end begins a transaction, which a failure rolls back; and a write that did
    /// not begin one makes the call fail.
    #[tokio::test]
    async fn a_transaction_begun_late_begins_only_when_it_writes_before_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(dir.path()).unwrap();
        // One connection: each call finds what the one before left on it.
        let mut settings = DbSettings::new(database.url.clone());
        settings.pool_size = 1;
        let db = Db::connect(&settings).unwrap();
        run_migrations(&mut db.get().unwrap()).unwrap();
        let pg = database.is_postgres();
        let audited = count(&mut db.get().unwrap(), "audit_log");

        // Reads, then the last statement.
        let (read_alone, last_alone) = db
            .transaction_begun_late(|conn| {
                count(conn, "outbox");
                let read_alone = alone(conn)?;
                let mut writes = Writes::new();
                queue(conn, &mut writes, "a")?;
                queue(conn, &mut writes, "b")?;
                crate::audit::append(conn, "test", "test", "test", uuid::Uuid::nil())?;
                writes.finish_by_commit(conn)?;
                // Still reading: the held rows are not written yet on PostgreSQL.
                let last_alone = super::reading();
                Ok((read_alone, last_alone))
            })
            .await
            .unwrap();
        assert_eq!((read_alone, last_alone), (pg, pg));
        let mut conn = db.get().unwrap();
        assert_eq!(count(&mut conn, "outbox"), 2);
        assert_eq!(count(&mut conn, "audit_log"), audited + 1);
        drop(conn);

        // A write before the end begins the transaction: the work's failure rolls it back.
        let failed = db
            .transaction_begun_late(|conn| {
                let mut writes = Writes::new();
                queue(conn, &mut writes, "c")?;
                writes.finish(conn)?;
                assert!(!alone(conn)?, "the write did not begin a transaction");
                assert!(!super::reading());
                Err::<(), _>(CoreError::Conflict("changed my mind".into()))
            })
            .await;
        assert!(matches!(failed, Err(CoreError::Conflict(_))), "{failed:?}");
        assert_eq!(count(&mut db.get().unwrap(), "outbox"), 2);

        // ... and its success commits it, with the end's statements.
        db.transaction_begun_late(|conn| {
            let mut writes = Writes::new();
            queue(conn, &mut writes, "d")?;
            writes.finish(conn)?;
            crate::audit::append(conn, "test", "test", "test", uuid::Uuid::nil())?;
            Ok(())
        })
        .await
        .unwrap();
        let mut conn = db.get().unwrap();
        assert_eq!(count(&mut conn, "outbox"), 3);
        assert_eq!(count(&mut conn, "audit_log"), audited + 2);
        drop(conn);

        // A write that did not begin it: seen, and the call fails (on SQLite it is in the
        // transaction, as every write there).
        let wrong = db
            .transaction_begun_late(|conn| {
                diesel::sql_query(
                    "UPDATE outbox SET attempts = attempts WHERE idempotency_key = 'a'",
                )
                .execute(conn)?;
                Ok(())
            })
            .await;
        if pg {
            assert!(matches!(wrong, Err(CoreError::Internal(_))), "{wrong:?}");
        } else {
            assert!(wrong.is_ok(), "{wrong:?}");
        }

        // Nothing of a call is left behind for the next one on the same connection.
        let fine = db
            .run(|conn| {
                let mut writes = Writes::new();
                queue(conn, &mut writes, "e")?;
                writes.finish(conn)?;
                Ok(super::reading())
            })
            .await
            .unwrap();
        assert!(!fine);
        assert_eq!(count(&mut db.get().unwrap(), "outbox"), 4);
    }

    /// The SQL is taken without the values, which could hold any word.
    #[test]
    fn a_statements_sql_is_read_without_its_values() {
        use crate::schema::outbox;
        use diesel::prelude::*;
        let query = outbox::table
            .filter(outbox::topic.eq("UPDATE everything"))
            .select(outbox::id);
        let shown = diesel::debug_query::<diesel::pg::Pg, _>(&query);
        let sql = super::sql_of(&shown);
        assert!(
            sql.starts_with("SELECT \"outbox\".\"id\" FROM \"outbox\""),
            "{sql}"
        );
        assert!(!sql.contains("everything"), "{sql}");
        assert!(!writes(&sql));
    }

    #[test]
    fn statements_that_write_or_lock_are_told_from_reads() {
        for read in [
            r#"SELECT "support_requests"."updated_at" FROM "support_requests" WHERE "id" = $1"#,
            "WITH c AS (SELECT insert_count FROM t) SELECT * FROM c",
        ] {
            assert!(!writes(read), "{read}");
        }
        for write in [
            r#"INSERT INTO "outbox" ("id") VALUES ($1)"#,
            r#"update "accounts" set "disabled" = $1"#,
            "WITH w1 AS (DELETE FROM x RETURNING id) SELECT * FROM w1",
            "SELECT id FROM head WHERE id = 1 FOR UPDATE",
            "SELECT id FROM head WHERE id = 1 FOR KEY SHARE",
            "merge into t using s on t.id = s.id when matched then do nothing",
            "TRUNCATE outbox",
            "copy t from stdin",
            "CALL tidy()",
            "lock table t",
        ] {
            assert!(writes(write), "{write}");
        }
    }
}

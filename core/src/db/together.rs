//! Inserts written together: rows a use case writes one after another, that nothing reads or
//! refers to before the last of them is written, go to PostgreSQL as one statement (each insert
//! but the last a data-modifying `WITH` part), so the use case waits on the database once, not
//! once a row. Each wait costs the database thread and a PostgreSQL backend a wake-up, and under
//! load those wake-ups are the write tail (docs/performance.md). PostgreSQL checks the foreign
//! keys at the statement's end, so a row may refer to another of the same statement.
//!
//! Rows nothing refers to before the transaction ends can go further: with the audit chain's
//! append, the transaction's last statement ([`Writes::finish_by_commit`]).
//!
//! SQLite runs in process, where a statement costs no wait: each insert is written at once.

use std::cell::RefCell;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

use super::DbConnection;
use crate::error::CoreError;

/// The inserts held for one statement, until [`Writes::finish`] writes them. What they write
/// must not be read, or referred to by another statement, before then. Dropped unwritten, they
/// are lost: only when the use case failed on the way, and its transaction rolls back anyway.
#[must_use = "held inserts are written only by `finish`"]
#[derive(Default)]
pub struct Writes {
    held: Held,
}

impl Writes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `insert` (PostgreSQL) or writes it now (SQLite). It owns its values.
    pub fn insert<Q>(&mut self, conn: &mut DbConnection, insert: Q) -> Result<(), CoreError>
    where
        Q: QueryFragment<Pg> + QueryFragment<Sqlite> + QueryId + 'static,
        Q: ExecuteDsl<SqliteConnection, Sqlite>,
    {
        match conn {
            DbConnection::Sqlite(c) => {
                ExecuteDsl::execute(insert, c)?;
            }
            DbConnection::Pg(_) => self.held.push(Box::new(insert)),
        }
        Ok(())
    }

    /// Holds `insert`, a statement PostgreSQL alone can run (one that binds arrays, say): for
    /// a use case that writes the same rows on SQLite otherwise. On SQLite it is refused, not
    /// dropped, so rows are never lost to a wrong call.
    pub fn hold_pg<Q>(&mut self, conn: &DbConnection, insert: Q) -> Result<(), CoreError>
    where
        Q: QueryFragment<Pg> + 'static,
    {
        match conn {
            DbConnection::Pg(_) => {
                self.held.push(Box::new(insert));
                Ok(())
            }
            DbConnection::Sqlite(_) => Err(CoreError::internal(
                "a PostgreSQL statement held for a SQLite connection",
            )),
        }
    }

    /// Writes what is held, in one statement; in a transaction begun late that has only read
    /// so far, it begins first (`late::begin_now`): a write before the end.
    pub fn finish(mut self, conn: &mut DbConnection) -> Result<(), CoreError> {
        if !self.held.is_empty() {
            super::late::begin_now(conn)?;
        }
        write_held(conn, std::mem::take(&mut self.held))
    }

    /// Leaves what is held to the transaction's last statement, when the transaction has one
    /// (`Db::transaction`, whose audit entries are appended last), else writes it now. Only for
    /// rows that nothing in the transaction reads, or refers to, after this.
    pub fn finish_by_commit(mut self, conn: &mut DbConnection) -> Result<(), CoreError> {
        let left = BY_COMMIT.with(|b| match b.borrow_mut().as_mut() {
            Some(waiting) => {
                waiting.append(&mut self.held);
                true
            }
            None => false,
        });
        if left { Ok(()) } else { self.finish(conn) }
    }
}

/// Held inserts, in order.
pub(crate) type Held = Vec<Box<dyn QueryFragment<Pg>>>;

thread_local! {
    /// What the transaction running on this (blocking) thread leaves to its last statement,
    /// while one that has such a statement runs.
    static BY_COMMIT: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Runs `work` (a transaction's work, on its thread) taking what it leaves to its last
/// statement: returned with its value, for that statement to write ([`Before`]), or dropped
/// with the transaction when `work` fails. Not nested.
pub(crate) fn by_commit<T, E>(work: impl FnOnce() -> Result<T, E>) -> Result<(T, Held), E> {
    /// Takes the buffer away when dropped, also on a panic, so a later transaction on the same
    /// thread never finds a stale one.
    struct Open;
    impl Drop for Open {
        fn drop(&mut self) {
            BY_COMMIT.with(|b| b.borrow_mut().take());
        }
    }
    BY_COMMIT.with(|b| *b.borrow_mut() = Some(Vec::new()));
    let open = Open;
    let value = work()?;
    let held = BY_COMMIT
        .with(|b| b.borrow_mut().take())
        .unwrap_or_default();
    drop(open);
    Ok((value, held))
}

/// Writes `held` now, in one statement, if there is anything (what a transaction left to its
/// last statement, when it had none after all).
pub(crate) fn write_held(conn: &mut DbConnection, held: Held) -> Result<(), CoreError> {
    match conn {
        DbConnection::Pg(c) => write_held_pg(c, held),
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// [`write_held`] on a PostgreSQL connection.
pub(crate) fn write_held_pg(conn: &mut PgConnection, held: Held) -> Result<(), CoreError> {
    if !held.is_empty() {
        Together(held).execute(conn)?;
    }
    Ok(())
}

/// `WITH RECURSIVE w1 AS (first), …, rest`: held inserts put in front of a statement of its own
/// `WITH RECURSIVE` list, whose text after those words is `rest`.
pub(crate) struct Before<'a, Q> {
    pub(crate) held: &'a [Box<dyn QueryFragment<Pg>>],
    pub(crate) rest: Q,
}

impl<Q> QueryId for Before<'_, Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Before<'_, Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH RECURSIVE ");
        for (n, part) in self.held.iter().enumerate() {
            out.push_sql(&format!("w{} AS (", n + 1));
            part.walk_ast(out.reborrow())?;
            out.push_sql("), ");
        }
        self.rest.walk_ast(out.reborrow())
    }
}

impl<Q, C> RunQueryDsl<C> for Before<'_, Q> {}

/// `WITH w1 AS (first), w2 AS (second) last`: one statement for all.
struct Together(Held);

impl QueryId for Together {
    type QueryId = ();
    // Not one type for every combination: diesel then keys the prepared statement by its text,
    // the same for each run of one use case's path.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Together {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let Some((last, parts)) = self.0.split_last() else {
            return Err(diesel::result::Error::QueryBuilderError(
                "no inserts to write together".into(),
            ));
        };
        for (n, part) in parts.iter().enumerate() {
            out.push_sql(if n == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("w{} AS (", n + 1));
            part.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        if !parts.is_empty() {
            out.push_sql(" ");
        }
        last.walk_ast(out.reborrow())
    }
}

impl<C> RunQueryDsl<C> for Together {}

#[cfg(test)]
pub(crate) mod tests {
    use diesel::sql_types::BigInt;
    use diesel::{Connection, QueryableByName, RunQueryDsl};

    use super::Writes;
    use crate::db::testing::TestDatabase;
    use crate::db::{DbConnection, establish, run_migrations};
    use crate::error::CoreError;
    use crate::notify::outbox::{Channel, Erase, enqueue_with};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// The one number `sql` answers (`... AS n`).
    pub(crate) fn count(conn: &mut DbConnection, sql: &str) -> i64 {
        diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
    }

    /// Statements kept prepared on `conn` (PostgreSQL) whose text is `like`.
    fn prepared(conn: &mut DbConnection, like: &str) -> i64 {
        count(
            conn,
            &format!(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '{like}'"
            ),
        )
    }

    fn tx_is_pg(conn: &DbConnection) -> bool {
        matches!(conn, DbConnection::Pg(_))
    }

    /// A message held in `writes`, under `key`.
    pub(crate) fn queue(
        conn: &mut DbConnection,
        writes: &mut Writes,
        key: &str,
    ) -> Result<(), CoreError> {
        enqueue_with(
            conn,
            writes,
            Channel::Email,
            "test",
            "someone@example.org",
            key,
            "{}",
            Erase::Never,
        )
    }

    /// Held rows are all written by `finish`, on PostgreSQL in one statement; a row already
    /// there by its key is skipped as before; and when one part fails, nothing of the others
    /// stays.
    #[test]
    fn held_inserts_are_written_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(dir.path()).unwrap();
        let mut conn = establish(&database.url, 1000).unwrap();
        run_migrations(&mut conn).unwrap();

        let mut writes = Writes::new();
        for key in ["a", "b", "a"] {
            queue(&mut conn, &mut writes, key).unwrap();
        }
        writes.finish(&mut conn).unwrap();
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM outbox"), 2);
        if database.is_postgres() {
            let one = r#"WITH w1 AS (INSERT INTO "outbox"%w2 AS (%"#;
            assert_eq!(
                prepared(&mut conn, one),
                1,
                "the rows were not one statement"
            );
        }

        // Outside a transaction that appends audit entries last, left to the commit is now.
        let mut writes = Writes::new();
        queue(&mut conn, &mut writes, "d").unwrap();
        writes.finish_by_commit(&mut conn).unwrap();
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM outbox"), 3);

        // Inside one, they go with the audit chain's append, its last statement.
        let audited = count(&mut conn, "SELECT count(*) AS n FROM audit_log");
        conn.transaction::<(), CoreError, _>(|tx| {
            crate::audit::deferred(tx, |tx| {
                let mut writes = Writes::new();
                queue(tx, &mut writes, "e")?;
                queue(tx, &mut writes, "f")?;
                crate::audit::append(tx, "test", "test", "test", uuid::Uuid::nil())?;
                writes.finish_by_commit(tx)?;
                // Not written yet on PostgreSQL: nothing may read them before the end.
                let now = count(tx, "SELECT count(*) AS n FROM outbox");
                assert_eq!(now, if tx_is_pg(tx) { 3 } else { 5 });
                Ok(())
            })
        })
        .unwrap();
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM outbox"), 5);
        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM audit_log"),
            audited + 1
        );
        if database.is_postgres() {
            let with_chain =
                r#"WITH RECURSIVE w1 AS (INSERT INTO "outbox"%w2 AS (%head AS MATERIALIZED%"#;
            assert_eq!(
                prepared(&mut conn, with_chain),
                1,
                "the rows did not go with the chain's statement"
            );
        }

        // A history entry for a request that does not exist breaks its foreign key.
        let failed = conn.transaction::<(), CoreError, _>(|tx| {
            let mut writes = Writes::new();
            queue(tx, &mut writes, "c")?;
            let now = crate::time::now();
            let nobody = crate::requests::blank(now);
            crate::requests::record_transition_with(
                tx,
                &mut writes,
                &nobody,
                crate::vocab::RequestState::Offered,
                "test",
                now,
            )?;
            writes.finish(tx)
        });
        assert!(failed.is_err());
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM outbox"), 5);
        assert_eq!(
            count(&mut conn, "SELECT count(*) AS n FROM request_transitions"),
            0
        );
    }
}

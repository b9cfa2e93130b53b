//! Storage: one query code path over SQLite (embedded default) and PostgreSQL (production).
//!
//! `DbConnection` is a diesel `MultiConnection`; the backend is chosen from the URL scheme here,
//! not by diesel's trial-and-error `establish`, so a bad PostgreSQL URL reports PostgreSQL's own
//! error instead of a confusing SQLite one.

mod breaker;
pub(crate) mod fixed;
pub(crate) mod late;
pub(crate) mod memo;
mod migrate;
mod pool;
pub mod testing;
pub(crate) mod threads;
pub(crate) mod together;
mod transport;
pub mod types;
mod warm;

pub use migrate::{MigrationReport, run_migrations};
pub use pool::{
    ConnectionManager, DEFAULT_POOL_SIZE, DEFAULT_QUEUE_TIMEOUT, DEFAULT_SQLITE_CACHE_KIB, Db,
    DbSettings,
};
pub use transport::{LOOPBACK_TLS_ADVICE, loopback_tls_advice, tls_left_to_default_on_loopback};
pub use types::{Id, Json, Stamp, UuidText};

use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use crate::error::CoreError;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the connection's own backend (`&mut SqliteConnection` or
/// `&mut PgConnection`) instead of through diesel's `MultiConnection`, which writes a statement's
/// SQL text out again on every run, to bind its values, even when the statement is prepared and
/// cached: 4% of the node's CPU time serving a 20-row list (docs/performance.md). For the
/// queries read most; `$body` must compile for both backends.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Pg($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, CoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite://") || url.starts_with("file:") || !url.contains("://") {
            Ok(Self::Sqlite)
        } else {
            Err(CoreError::bad_input(
                "database_url",
                "unsupported scheme: use sqlite://PATH or postgres://USER@HOST/DB",
            ))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The SQLite path part of a URL (`sqlite://x.db`, `sqlite:x.db` or a bare path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Opens one connection to the backend the URL names, with SQLite tuned for a server:
/// WAL so readers never block the writer, foreign keys enforced, and a busy timeout so
/// concurrent writers wait instead of failing.
pub fn establish(url: &str, busy_timeout_ms: u32) -> Result<DbConnection, CoreError> {
    match Backend::from_url(url)? {
        Backend::Postgres => {
            // OpenSSL (libpq's TLS) set up, once, without its clean-up at the process's exit:
            // that clean-up frees what a connection closing on another thread at the same
            // moment frees too. A command ending while its pool shut down crashed that way
            // ("double free or corruption", seen once in CI on PostgreSQL).
            openssl_sys::init();
            PgConnection::establish(url)
                .map(|mut c| {
                    // The watch writes out every statement's SQL while a transaction begun late
                    // reads (5% of the node's instructions under the mixed load): a check for
                    // the tests, which run with debug assertions, not for every release call.
                    if cfg!(debug_assertions) {
                        c.set_instrumentation(late::Watch);
                    }
                    DbConnection::Pg(c)
                })
                .map_err(|e| CoreError::internal(format!("cannot connect to PostgreSQL: {e}")))
        }
        Backend::Sqlite => {
            let path = sqlite_path(url);
            let mut conn = SqliteConnection::establish(path).map_err(|e| {
                CoreError::internal(format!("cannot open SQLite database {path}: {e}"))
            })?;
            for pragma in [
                format!("PRAGMA busy_timeout = {busy_timeout_ms}"),
                "PRAGMA journal_mode = WAL".to_owned(),
                "PRAGMA synchronous = NORMAL".to_owned(),
                "PRAGMA foreign_keys = ON".to_owned(),
            ] {
                diesel::sql_query(pragma).execute(&mut conn).map_err(|e| {
                    CoreError::internal(format!("cannot configure SQLite database {path}: {e}"))
                })?;
            }
            Ok(DbConnection::Sqlite(conn))
        }
    }
}

/// Sets an SQLite connection's page cache to `kib` KiB (at least 64); nothing on PostgreSQL.
pub(crate) fn limit_sqlite_cache(conn: &mut DbConnection, kib: u32) -> Result<(), CoreError> {
    if let DbConnection::Sqlite(conn) = conn {
        // A negative cache_size is in KiB rather than pages.
        diesel::sql_query(format!("PRAGMA cache_size = -{}", kib.max(64)))
            .execute(conn)
            .map_err(|e| CoreError::internal(format!("cannot set SQLite's cache size: {e}")))?;
    }
    Ok(())
}

/// On SQLite, takes the write lock at the start of a transaction. A transaction that reads and
/// then writes would otherwise fail with "database is locked" when another connection wrote in
/// between (SQLite cannot upgrade a stale read snapshot, and does not wait in that case). A
/// statement that writes nothing still takes the lock, waiting up to the busy timeout.
/// PostgreSQL needs nothing: its row locks and MVCC handle it.
pub fn take_write_lock(conn: &mut DbConnection) -> Result<(), CoreError> {
    if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query("UPDATE __diesel_schema_migrations SET version = version WHERE 1 = 0")
            .execute(c)
            .map_err(CoreError::from)?;
    }
    Ok(())
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            Self::Pg(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// A trivial round trip, for readiness checks.
    pub fn ping(&mut self) -> Result<(), CoreError> {
        let result = match self {
            Self::Pg(c) => diesel::sql_query("SELECT 1").execute(c),
            Self::Sqlite(c) => diesel::sql_query("SELECT 1").execute(c),
        };
        result.map(|_| ()).map_err(CoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }

    /// SQLite is built as `.cargo/config.toml` says: with the query planner stability
    /// guarantee (without it, every statement with a bound LIMIT is parsed and planned again
    /// each time it runs, which cost 30% of the node's CPU on a 20-row list), without a mutex
    /// per connection call and without the global memory count.
    #[test]
    fn sqlite_is_built_for_the_node() {
        let Ok(super::DbConnection::Sqlite(mut conn)) = super::establish(":memory:", 100) else {
            panic!("an in-memory SQLite database opens");
        };
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
            .load(&mut conn)
            .unwrap();
        let options: Vec<&str> = options.iter().map(|o| o.compile_options.as_str()).collect();
        for wanted in ["ENABLE_QPSG", "THREADSAFE=2", "DEFAULT_MEMSTATUS=0"] {
            assert!(
                options.contains(&wanted),
                "SQLite built without {wanted}: {options:?}"
            );
        }
    }

    #[derive(diesel::QueryableByName)]
    struct CacheSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        cache_size: i64,
    }

    /// Every pooled SQLite connection gets the configured page cache (negative: KiB), and a
    /// value below the floor is raised to it.
    #[test]
    fn pooled_sqlite_connections_get_the_configured_cache() {
        for (kib, expected) in [(300, -300), (10, -64)] {
            let mut settings = super::DbSettings::new(":memory:");
            settings.pool_size = 2;
            settings.sqlite_cache_kib = kib;
            let db = super::Db::connect(&settings).unwrap();
            let (mut first, mut second) = (db.get().unwrap(), db.get().unwrap());
            for conn in [&mut first, &mut second] {
                let conn: &mut super::DbConnection = conn;
                let super::DbConnection::Sqlite(conn) = conn else {
                    panic!("an SQLite connection");
                };
                let size: Vec<CacheSize> =
                    diesel::sql_query("PRAGMA cache_size").load(conn).unwrap();
                assert_eq!(size[0].cache_size, expected);
            }
        }
    }

    /// A call runs on the pool's own threads, whichever runtime it came from.
    #[tokio::test]
    async fn database_calls_run_on_the_pools_threads() {
        let db = super::Db::connect(&super::DbSettings::new(":memory:")).unwrap();
        let name = db
            .run(|_| Ok(std::thread::current().name().map(str::to_owned)))
            .await
            .unwrap();
        assert!(name.is_some_and(|n| n.starts_with("alongside-db-")));
    }
}

//! A connection pool, and the one way use cases touch the database: `Db::run`, which moves the
//! blocking diesel work onto tokio's blocking threads so it never stalls the async executor.

use std::sync::Arc;
use std::time::Duration;

use super::{Backend, DbConnection, establish};
use crate::error::CoreError;

#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub pool_size: u32,
    pub busy_timeout_ms: u32,
    pub connect_timeout: Duration,
}

impl DbSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 8,
            busy_timeout_ms: 5_000,
            connect_timeout: Duration::from_secs(3),
        }
    }
}

pub struct ConnectionManager {
    url: String,
    busy_timeout_ms: u32,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = CoreError;

    fn connect(&self) -> Result<DbConnection, CoreError> {
        establish(&self.url, self.busy_timeout_ms)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), CoreError> {
        conn.ping()
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// A cheap-to-clone handle on the pool.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnectionManager>,
    backend: Backend,
    /// SQLite has one writer at a time. Writers of this process wait for their turn here, in
    /// order and without a thread, rather than in SQLite's busy handler, which sleeps in steps
    /// of up to 100 ms and so turns a short queue into long tail latency.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Reads waiting to be written to the audit log together (see `audit::log_reads`).
    pub(crate) read_log: Arc<crate::audit::ReadLog>,
    /// One permit per pooled connection: database work waits here, asynchronously and in
    /// order, rather than on a blocking thread inside the pool. That keeps the blocking
    /// threads (and the memory each one holds) to the pool's size under any load.
    slots: Arc<tokio::sync::Semaphore>,
    /// Refuses calls at once for a moment after the database was found down.
    breaker: Arc<super::breaker::Breaker>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Connections open and idle now, for monitoring.
    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }
    /// Opens the pool and checks one connection, reporting the backend's own error if it fails.
    pub fn connect(settings: &DbSettings) -> Result<Self, CoreError> {
        let backend = Backend::from_url(&settings.url)?;
        // Surface the real connection error before r2d2 wraps it in a generic timeout.
        drop(establish(&settings.url, settings.busy_timeout_ms)?);
        let manager = ConnectionManager {
            url: settings.url.clone(),
            busy_timeout_ms: settings.busy_timeout_ms,
        };
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size.max(1))
            .connection_timeout(settings.connect_timeout)
            .build(manager)?;
        Ok(Self {
            pool,
            backend,
            writer: Arc::default(),
            read_log: Arc::default(),
            breaker: Arc::default(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                settings.pool_size.max(1) as usize
            )),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Borrows a connection on the current thread. For CLI commands and tests; async code uses
    /// [`Db::run`].
    pub fn get(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, CoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking database work on a blocking thread.
    pub async fn run<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_in_turn(None, work).await
    }

    /// `turn`, the SQLite writer's place, is released on the blocking thread the moment the work
    /// ends: were it released when the caller's task next runs, every write would also hold the
    /// lock for however long the busy executor takes to get back to it.
    async fn run_in_turn<T, F>(
        &self,
        turn: Option<tokio::sync::OwnedMutexGuard<()>>,
        work: F,
    ) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        // While the database is known to be down, refuse before queueing for a connection.
        let admission = self.breaker.admit()?;
        // Moved into the blocking task: released when the work ends, even if the caller has
        // gone away in the meantime.
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CoreError::internal("database pool closed"))?;
        // The database may have gone while this call waited for its slot.
        let admission = if admission.is_probe() {
            admission
        } else {
            self.breaker.admit()?
        };
        let breaker = self.breaker.clone();
        let pool = self.pool.clone();
        // A span per database call, a child of the request's, on the blocking thread.
        let span = tracing::debug_span!(parent: tracing::Span::current(), "db", backend = self.backend.name());
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let _entered = span.enter();
            let started = std::time::Instant::now();
            let result = pool
                .get()
                .map_err(CoreError::from)
                .and_then(|mut conn| work(&mut conn));
            drop(turn);
            breaker.record(&result);
            drop(admission);
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match &result {
                Ok(_) => tracing::debug!(ms, "db call"),
                Err(e) => tracing::debug!(ms, code = e.code().as_str(), "db call failed"),
            }
            result
        })
        .await
        .map_err(|e| CoreError::internal(format!("database task failed: {e}")))?
    }

    /// Like [`Db::run`], inside one transaction that only reads: it sees one snapshot and, on
    /// SQLite, does not take the single write lock, so reads run beside writes.
    pub async fn read_transaction<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        self.run(move |conn| conn.transaction(work)).await
    }

    /// Like [`Db::run`], for work that writes (and opens its own transaction): on SQLite it
    /// waits for this process's other writers first.
    pub async fn write<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        let turn = match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        self.run_in_turn(turn, work).await
    }

    /// Like [`Db::run`], inside one transaction that may write. Audit entries appended inside
    /// it are written last, just before the commit (`audit::deferred`).
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        self.write(move |conn| {
            conn.transaction(|tx| {
                super::take_write_lock(tx)?;
                crate::audit::deferred(tx, work)
            })
        })
        .await
    }
}

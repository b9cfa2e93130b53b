//! A connection pool, and the one way use cases touch the database: `Db::run`, which moves the
//! blocking diesel work onto the pool's own threads so it never stalls the async executor.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::{Backend, DbConnection, establish};
use crate::error::CoreError;

#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub pool_size: u32,
    pub busy_timeout_ms: u32,
    /// Each SQLite connection's page cache, in KiB (PostgreSQL ignores it). Every pooled
    /// connection keeps its own, so the pool holds up to `pool_size` times this.
    pub sqlite_cache_kib: u32,
    pub connect_timeout: Duration,
    /// How long a call waits for a free connection before it is turned away as
    /// [`CoreError::Busy`]: under overload, a prompt "try again" instead of an ever longer queue.
    pub queue_timeout: Duration,
}

/// The default for [`DbSettings::sqlite_cache_kib`]. SQLite's own default is 2,000 KiB per
/// connection; the operating system caches the file anyway, so a smaller cache per connection
/// bounds the pool's caches (4 MiB for 8, not 15.6) as the database grows, for little time
/// (docs/performance.md: no difference on the load bench's small database).
pub const DEFAULT_SQLITE_CACHE_KIB: u32 = 512;

/// The default for [`DbSettings::pool_size`]: for a 2-processor machine that runs a node and
/// its PostgreSQL together. More connections take turns on the same processors and lengthen the
/// slowest writes: new requests' p99 at 1,000/s was 10.4–20.8 ms with 8, 7.7–12.6 with 5 and
/// 7.3–10.8 with 4 on one such machine, 15.4–19.6 with 8 against 8.4–11.7 with 4 on another.
/// Fewer leave reads waiting for a connection while the processors have room: on that second
/// machine reads were served at 0.76–0.77 of the bare stack's rate with 4 and 0.90–0.91 with 5,
/// whose writes (8.4–12.1 ms) were within the noise of 4's in the same runs
/// (docs/performance.md, "Five database connections").
pub const DEFAULT_POOL_SIZE: u32 = 5;

/// The default for [`DbSettings::queue_timeout`].
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(1);

impl DbSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: DEFAULT_POOL_SIZE,
            busy_timeout_ms: 5_000,
            sqlite_cache_kib: DEFAULT_SQLITE_CACHE_KIB,
            connect_timeout: Duration::from_secs(3),
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
        }
    }
}

pub struct ConnectionManager {
    url: String,
    busy_timeout_ms: u32,
    sqlite_cache_kib: u32,
    /// Bumped whenever a connection is found lost (see `Db::checkout`).
    generation: Arc<AtomicU64>,
    /// Set by [`Db::warm`]: a connection opened from then on is warmed before its first loan.
    warm: Arc<AtomicBool>,
}

/// A connection idle for longer than this is checked with `SELECT 1` before use: the database
/// may have restarted in a quiet moment. A connection in steady use is not, which saves a round
/// trip on every call (PostgreSQL read throughput +16–37% on the 2-core machine,
/// docs/performance.md). If one breaks in use, that call fails as UNAVAILABLE, the connection
/// is dropped, and every other pooled connection is checked before its next use (the database
/// probably restarted, taking them all).
const CHECK_IF_IDLE_FOR: Duration = Duration::from_secs(2);

/// A pooled connection and what the pool needs to know about it.
pub struct PooledDb {
    conn: DbConnection,
    last_used: std::time::Instant,
    /// The pool's generation when this connection last worked.
    generation: u64,
    /// The connection was found gone; the pool drops it instead of lending it again.
    lost: bool,
}

impl std::ops::Deref for PooledDb {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PooledDb {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl PooledDb {
    /// Runs `work`; a connection-level failure (UNAVAILABLE) marks the connection lost.
    fn run<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        let result = work(&mut self.conn);
        self.last_used = std::time::Instant::now();
        if matches!(result, Err(CoreError::Unavailable { .. })) {
            self.lost = true;
        }
        result
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PooledDb;
    type Error = CoreError;

    fn connect(&self) -> Result<PooledDb, CoreError> {
        // Read before connecting: a loss reported meanwhile may predate this connection, and
        // an extra check is harmless.
        let generation = self.generation.load(Ordering::Acquire);
        let mut conn = establish(&self.url, self.busy_timeout_ms)?;
        super::limit_sqlite_cache(&mut conn, self.sqlite_cache_kib)?;
        if self.warm.load(Ordering::Acquire) {
            warm(&mut conn);
        }
        Ok(PooledDb {
            conn,
            last_used: std::time::Instant::now(),
            generation,
            lost: false,
        })
    }

    fn is_valid(&self, conn: &mut PooledDb) -> Result<(), CoreError> {
        conn.conn.ping()
    }

    fn has_broken(&self, conn: &mut PooledDb) -> bool {
        conn.lost
    }
}

/// Warms a connection (`warm`); what fails there is the use case's to report, so it is only
/// logged here.
fn warm(conn: &mut DbConnection) -> usize {
    match super::warm::connection(conn) {
        Ok(failed) => {
            for (statement, error) in &failed {
                tracing::warn!(statement, error, "a warm-up statement failed");
            }
            1
        }
        Err(e) => {
            tracing::warn!(
                code = e.code().as_str(),
                "cannot warm a database connection"
            );
            0
        }
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
    /// Recent answers to "does this access token still stand" (see `standing`).
    pub(crate) standings: Arc<crate::standing::Standings>,
    /// Recent answers to "which language did this person choose" (see `people::own_locale`).
    pub(crate) locales: Arc<crate::recent::Recent<Option<String>>>,
    /// One permit per pooled connection: database work waits here, asynchronously and in
    /// order, rather than on a thread inside the pool, so a call handed to `threads` finds a
    /// thread free.
    slots: Arc<tokio::sync::Semaphore>,
    /// The threads the work runs on, one per slot (see `threads`).
    threads: super::threads::DbThreads,
    /// Refuses calls at once for a moment after the database was found down.
    breaker: Arc<super::breaker::Breaker>,
    /// Bumped when a connection is found lost, so the others are checked before next use.
    generation: Arc<AtomicU64>,
    /// Shared with the pool's manager: see [`Db::warm`].
    warm: Arc<AtomicBool>,
    queue_timeout: Duration,
    /// Calls turned away as busy since start, for monitoring.
    shed: Arc<AtomicU64>,
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

    /// Calls turned away since start because no connection came free within the queue
    /// timeout, for monitoring.
    pub fn shed_calls(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    /// Opens the pool and checks one connection, reporting the backend's own error if it fails.
    pub fn connect(settings: &DbSettings) -> Result<Self, CoreError> {
        let backend = Backend::from_url(&settings.url)?;
        // Surface the real connection error before r2d2 wraps it in a generic timeout.
        drop(establish(&settings.url, settings.busy_timeout_ms)?);
        let generation = Arc::new(AtomicU64::new(0));
        let warm = Arc::new(AtomicBool::new(false));
        let manager = ConnectionManager {
            url: settings.url.clone(),
            busy_timeout_ms: settings.busy_timeout_ms,
            sqlite_cache_kib: settings.sqlite_cache_kib,
            generation: generation.clone(),
            warm: warm.clone(),
        };
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size.max(1))
            .connection_timeout(settings.connect_timeout)
            // Checked in `checkout` only when idle for a while, not on every loan.
            .test_on_check_out(false)
            .build(manager)?;
        Ok(Self {
            pool,
            backend,
            writer: Arc::default(),
            read_log: Arc::default(),
            standings: Arc::default(),
            locales: Arc::default(),
            breaker: Arc::default(),
            generation,
            warm,
            queue_timeout: settings.queue_timeout,
            shed: Arc::default(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                settings.pool_size.max(1) as usize
            )),
            threads: super::threads::DbThreads::start(settings.pool_size.max(1) as usize)?,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Borrows a connection on the current thread. For CLI commands and tests; async code uses
    /// [`Db::run`].
    pub fn get(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, CoreError> {
        self.checkout()
    }

    /// Runs the busiest paths' statements once on every pooled connection (PostgreSQL; see
    /// `warm`), and from now on on each connection the pool opens, before its first loan, so
    /// that no request pays for a fresh connection's first plans. For start-up, after the
    /// migrations (the statements need their tables) and before the node serves: it holds every
    /// connection while it runs, on the calling thread. Returns how many it warmed.
    pub fn warm(&self) -> Result<usize, CoreError> {
        self.warm.store(true, Ordering::Release);
        if self.backend != Backend::Postgres {
            return Ok(0);
        }
        let mut held = Vec::with_capacity(self.pool.max_size() as usize);
        for _ in 0..self.pool.max_size() {
            held.push(self.checkout()?);
        }
        Ok(held.iter_mut().map(|c| warm(&mut c.conn)).sum())
    }

    /// A connection from the pool; one idle for a while is checked first, and one that fails
    /// the check is dropped and another taken (a new one, once the idle ones are used up).
    fn checkout(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, CoreError> {
        // Each failed check drops a connection, so this ends within pool size + 1 tries.
        for _ in 0..=self.pool.max_size() {
            let mut conn = self.pool.get()?;
            let generation = self.generation.load(Ordering::Acquire);
            if conn.generation == generation && conn.last_used.elapsed() < CHECK_IF_IDLE_FOR {
                return Ok(conn);
            }
            match conn.conn.ping() {
                Ok(()) => {
                    conn.last_used = std::time::Instant::now();
                    conn.generation = generation;
                    return Ok(conn);
                }
                Err(_) => {
                    // Whatever ended this one probably ended the others too.
                    conn.lost = true;
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
            }
        }
        Err(CoreError::unavailable(
            "no database connection: every pooled connection failed its check",
        ))
    }

    /// Runs `read` on a database thread, remembered under `name` by `key` when there is one
    /// (`memo::remembered_by`). A value still fresh is answered here, with no database thread
    /// and no connection. Without a key, `read` runs as [`Db::run`] runs it.
    pub(crate) async fn run_remembered<T, F>(
        &self,
        name: &'static str,
        key: Option<String>,
        read: F,
    ) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Clone + Send + Sync + 'static,
    {
        if let Some(value) = key
            .as_deref()
            .and_then(|k| self.threads.memos.fresh(name, k))
        {
            return Ok(value);
        }
        self.run(move |conn| match key {
            Some(key) => super::memo::remembered_by(name, key, || read(conn)),
            None => read(conn),
        })
        .await
    }

    /// Runs blocking database work on one of the database threads.
    pub async fn run<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = tokio::time::Instant::now() + self.queue_timeout;
        self.run_in_turn(deadline, None, work).await
    }

    /// The call's turn did not come by its deadline: it is turned away, not started.
    fn shed(&self) -> CoreError {
        self.shed.fetch_add(1, Ordering::Relaxed);
        CoreError::Busy {
            detail: format!(
                "waited {} ms for a database connection",
                self.queue_timeout.as_millis()
            ),
        }
    }

    /// `turn`, the SQLite writer's place, is released on the database thread the moment the work
    /// ends: were it released when the caller's task next runs, every write would also hold the
    /// lock for however long the busy executor takes to get back to it.
    async fn run_in_turn<T, F>(
        &self,
        deadline: tokio::time::Instant,
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
        let slot = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| self.shed())?
            .map_err(|_| CoreError::internal("database pool closed"))?;
        // The database may have gone while this call waited for its slot.
        let admission = if admission.is_probe() {
            admission
        } else {
            self.breaker.admit()?
        };
        let breaker = self.breaker.clone();
        let db = self.clone();
        // A span per database call, a child of the request's, on the database thread.
        let span = tracing::debug_span!(parent: tracing::Span::current(), "db", backend = self.backend.name());
        self.threads
            .run(move || {
                let _slot = slot;
                let _entered = span.enter();
                let started = std::time::Instant::now();
                let mut lost_in_use = false;
                let result = db.checkout().and_then(|mut conn| {
                    let result = conn.run(work);
                    if conn.lost {
                        lost_in_use = true;
                        db.generation.fetch_add(1, Ordering::AcqRel);
                    }
                    result
                });
                drop(turn);
                // One connection lost in use says the database went away at some point, not that
                // it is down now: the next checkout, which checks the others, tells.
                if !lost_in_use {
                    breaker.record(&result);
                }
                drop(admission);
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                match &result {
                    Ok(_) => tracing::debug!(ms, "db call"),
                    Err(e) => tracing::debug!(ms, code = e.code().as_str(), "db call failed"),
                }
                result
            })
            .await?
    }

    /// Like [`Db::run`], for several reads that belong together. On SQLite they run in one
    /// transaction, which sees one snapshot and does not take the single write lock, so reads
    /// run beside writes. On PostgreSQL each statement sees the data committed when it starts,
    /// inside a transaction (`READ COMMITTED`, the default) or not, so `BEGIN` and `COMMIT`
    /// would only add two round trips: 32,000 a minute at the load bench's 1,000/s mixed.
    pub async fn read_transaction<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        self.run(move |conn| match conn {
            DbConnection::Pg(_) => work(conn),
            DbConnection::Sqlite(_) => conn.transaction(work),
        })
        .await
    }

    /// Like [`Db::run`], for work that writes (and opens its own transaction): on SQLite it
    /// waits for this process's other writers first.
    pub async fn write<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        // One deadline for both waits: for the writer's turn and then for a connection.
        let deadline = tokio::time::Instant::now() + self.queue_timeout;
        let turn = match self.backend {
            Backend::Sqlite => Some(
                tokio::time::timeout_at(deadline, self.writer.clone().lock_owned())
                    .await
                    .map_err(|_| self.shed())?,
            ),
            Backend::Postgres => None,
        };
        self.run_in_turn(deadline, turn, work).await
    }

    /// Like [`Db::run`], inside one transaction that may write. Audit entries appended inside
    /// it are written last, just before the commit (`audit::deferred`); the webhook endpoints
    /// are read at most once (`notify::webhooks::remembering`); what it changes of the values
    /// the database threads remember is read again after it ends (`memo`).
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        self.write(move |conn| {
            super::memo::around_transaction(|| {
                conn.transaction(|tx| {
                    super::take_write_lock(tx)?;
                    crate::notify::webhooks::remembering(|| crate::audit::deferred(tx, work))
                })
            })
        })
        .await
    }

    /// Like [`Db::transaction`], for a use case that reads first and leaves its writes to its
    /// last statement: on PostgreSQL the transaction begins only when needed (`db::late`), so
    /// when that statement is the only write it goes alone, with no `BEGIN` or `COMMIT`. A
    /// write before the end must call `late::begin_now` first (`Writes::finish` does); one that
    /// does not makes the call fail. On SQLite, the same as [`Db::transaction`].
    pub async fn transaction_begun_late<T, F>(&self, work: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        if self.backend == Backend::Sqlite {
            return self.transaction(work).await;
        }
        self.write(move |conn| {
            super::memo::around_transaction(|| {
                super::late::run(conn, |conn| {
                    crate::notify::webhooks::remembering(|| crate::audit::deferred(conn, work))
                })
            })
        })
        .await
    }
}

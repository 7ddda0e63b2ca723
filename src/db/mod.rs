//! The only module that knows two database backends exist.
//!
//! PostgreSQL runs natively async (tokio-postgres); SQLite runs its sync
//! connection on tokio's blocking pool through diesel-async's
//! `SyncConnectionWrapper`. Query functions are written once with
//! [`with_conn!`], which expands the body once per backend.

pub mod accounts;
pub mod alumni;
pub mod communities;
pub mod federation;
pub mod invites;
pub mod lists;
pub mod media;
pub mod memberships;
pub mod models;
pub mod moderation;
pub mod notifications;
pub mod oauth;
pub mod oidc;
pub mod orgs;
pub mod polls;
pub mod reports;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod social;
pub mod stats;
pub mod statuses;
pub mod timelines;

use std::ops::{Deref, DerefMut};
use std::path::Path;

use diesel::SqliteConnection;
use diesel::connection::SimpleConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use diesel::result::Error as DbError;
pub type DbResult<T> = Result<T, DbError>;

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Cheap to clone; lives in the application state.
#[derive(Clone)]
pub enum DbPool {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteConn>),
}

/// A pooled connection or one borrowed from an enclosing transaction, so
/// query functions taking `&mut DbConn<'_>` compose inside transactions.
pub enum DbConn<'a> {
    Postgres(Handle<'a, Object<AsyncPgConnection>>),
    Sqlite(Handle<'a, Object<SqliteConn>>),
}

pub enum Handle<'a, P: DerefMut> {
    Pooled(Box<P>, HoldGuard),
    Borrowed(&'a mut P::Target),
}

/// Debug builds note which tasks hold a pooled connection: a task that takes
/// a second one while holding the first is how a pool starves (N such tasks
/// wait for each other until the acquire timeout). It is reported with a
/// backtrace, and with `TSUNAGU_NESTED_CONNECTIONS=panic` (the test suite)
/// it panics, so a test finds the place.
pub struct HoldGuard(#[cfg(debug_assertions)] Holder);

/// A task, or the thread of a `block_on` (which runs outside any task).
#[cfg(debug_assertions)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Holder {
    Task(tokio::task::Id),
    Thread(std::thread::ThreadId),
}

#[cfg(debug_assertions)]
static HELD: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<Holder, usize>>> =
    std::sync::LazyLock::new(Default::default);

impl HoldGuard {
    #[cfg(debug_assertions)]
    fn enter() -> HoldGuard {
        let id = tokio::task::try_id()
            .map_or_else(|| Holder::Thread(std::thread::current().id()), Holder::Task);
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        let n = held.entry(id).or_default();
        if *n > 0 {
            let trace = std::backtrace::Backtrace::force_capture();
            if std::env::var("TSUNAGU_NESTED_CONNECTIONS").as_deref() == Ok("panic") {
                drop(held);
                panic!("a task took a second database connection while holding one:\n{trace}");
            }
            tracing::error!(%trace, "a task took a second database connection while holding one");
        }
        *n += 1;
        HoldGuard(id)
    }

    #[cfg(not(debug_assertions))]
    fn enter() -> HoldGuard {
        HoldGuard()
    }
}

#[cfg(debug_assertions)]
impl Drop for HoldGuard {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.0) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.0);
            }
        }
    }
}

impl<P: DerefMut> Deref for Handle<'_, P> {
    type Target = P::Target;
    fn deref(&self) -> &P::Target {
        match self {
            Handle::Pooled(o, _) => o,
            Handle::Borrowed(c) => c,
        }
    }
}
impl<P: DerefMut> DerefMut for Handle<'_, P> {
    fn deref_mut(&mut self) -> &mut P::Target {
        match self {
            Handle::Pooled(o, _) => o,
            Handle::Borrowed(c) => c,
        }
    }
}
impl<'a> From<&'a mut AsyncPgConnection> for DbConn<'a> {
    fn from(c: &'a mut AsyncPgConnection) -> Self {
        DbConn::Postgres(Handle::Borrowed(c))
    }
}
impl<'a> From<&'a mut SqliteConn> for DbConn<'a> {
    fn from(c: &'a mut SqliteConn) -> Self {
        DbConn::Sqlite(Handle::Borrowed(c))
    }
}

/// Lets `transaction` require that the closure's future is `Send`.
pub trait AsyncFunc<T, R>:
    AsyncFnOnce(T) -> R + FnOnce(T) -> <Self as AsyncFunc<T, R>>::Fut
{
    type Fut: Future<Output = R>;
}
impl<F, T, Fut, R> AsyncFunc<T, R> for F
where
    F: AsyncFnOnce(T) -> R + FnOnce(T) -> Fut,
    Fut: Future<Output = R>,
{
    type Fut = Fut;
}

/// Write a query body once; it is expanded and type-checked once per backend.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres(h) => {
                let $c: &mut ::diesel_async::AsyncPgConnection = &mut *h;
                $body
            }
            $crate::db::DbConn::Sqlite(h) => {
                let $c: &mut $crate::db::SqliteConn = &mut *h;
                $body
            }
        }
    };
}

/// Runs SQL statements as written (benchmark data sets, operators' one-off
/// scripts); the caller writes SQL that suits the backend at hand.
pub async fn execute_script(conn: &mut DbConn<'_>, sql: &str) -> DbResult<()> {
    use diesel_async::SimpleAsyncConnection;
    with_conn!(conn, |c| c.batch_execute(sql).await)
}

impl DbConn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Postgres(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// A transaction on either backend; on SQLite it is `BEGIN IMMEDIATE`, because
    /// a deferred read-then-write transaction fails with "database is locked"
    /// under concurrency, busy_timeout notwithstanding.
    pub async fn transaction<R, E, F>(&mut self, f: F) -> Result<R, E>
    where
        for<'r, 's> F: AsyncFnOnce(&'r mut DbConn<'s>) -> Result<R, E>
            + AsyncFunc<&'r mut DbConn<'s>, Result<R, E>, Fut: Send>
            + Send,
        E: From<DbError> + Send,
        R: Send,
    {
        match self {
            DbConn::Postgres(h) => {
                let c: &mut AsyncPgConnection = h;
                c.transaction(async move |tx| f(&mut DbConn::from(tx)).await)
                    .await
            }
            DbConn::Sqlite(h) => {
                let c: &mut SqliteConn = h;
                c.immediate_transaction(async move |tx| f(&mut DbConn::from(tx)).await)
                    .await
            }
        }
    }

    /// Cheap liveness probe for `/health`.
    pub async fn ping(&mut self) -> DbResult<()> {
        with_conn!(self, |c| diesel::sql_query("SELECT 1")
            .execute(c)
            .await
            .map(|_| ()))
    }
}

/// Which backend a database URL names, or a message saying what is accepted.
pub fn backend_of(url: &str) -> Result<Backend, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite:") {
        if sqlite_path(url).is_empty() {
            return Err("the sqlite URL names no file (use sqlite://data/tsunagu.db or sqlite:///abs/path.db)".into());
        }
        Ok(Backend::Sqlite)
    } else {
        Err("must start with sqlite:// or postgres://".into())
    }
}

/// Per-connection pragmas; WAL and busy_timeout matter for concurrent writers.
/// `busy_timeout` first: the other pragmas may need a lock, and a new pooled
/// connection opened while another writes must wait for it, not fail with
/// "database is locked" (seen as rare 500s under load, and in CI).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Each PostgreSQL session: no JIT. Its threshold is a cost estimate, and
/// the directory's correlated probes over a large org estimate high enough
/// to compile expressions on every request (measured: +180 ms on a 50,000
/// member text search answering in 240 ms without it); short transactional
/// queries never win it back.
const PG_SESSION: &str = "SET jit = off; SET plan_cache_mode = force_custom_plan";

/// `sqlite://data/x.db` is relative, `sqlite:///abs/x.db` absolute.
fn sqlite_path(url: &str) -> String {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
        .to_owned()
}

fn migration_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("database migration failed: {e}")
}

/// Why no connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    /// Every connection stayed busy for the whole acquire timeout (or a new
    /// one could not be made in it): the caller should answer "try later".
    #[error("every database connection is busy")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl<E: std::fmt::Display> From<deadpool::managed::PoolError<E>> for AcquireError {
    fn from(e: deadpool::managed::PoolError<E>) -> Self {
        match e {
            deadpool::managed::PoolError::Timeout(_) => AcquireError::Busy,
            other => AcquireError::Failed(anyhow::anyhow!("database connection: {other}")),
        }
    }
}

impl DbPool {
    /// Build the pool for the backend the URL names and run that backend's
    /// embedded migrations first. Returns the pool and the names of the
    /// migrations it applied. Waiting for a connection, and making one, each
    /// take at most `acquire_timeout`.
    pub async fn connect(
        url: &str,
        max_size: usize,
        acquire_timeout: std::time::Duration,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let backend = backend_of(url).map_err(|e| anyhow::anyhow!("database.url: {e}"))?;
        match backend {
            Backend::Postgres => {
                let mut cfg = ManagerConfig::<AsyncPgConnection>::default();
                cfg.custom_setup = Box::new(|url| {
                    let url = url.to_owned();
                    Box::pin(async move {
                        use diesel_async::{AsyncConnection, SimpleAsyncConnection};
                        let mut c = AsyncPgConnection::establish(&url).await?;
                        c.batch_execute(PG_SESSION)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(c)
                    })
                });
                let mgr =
                    AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, cfg);
                let pool = Pool::builder(mgr)
                    .max_size(max_size)
                    .wait_timeout(Some(acquire_timeout))
                    .create_timeout(Some(acquire_timeout))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()?;
                let conn = pool.get().await.map_err(|e| {
                    anyhow::anyhow!("cannot connect to PostgreSQL at database.url: {e}")
                })?;
                let mut harness = diesel_async::AsyncMigrationHarness::new(conn);
                let applied = harness
                    .run_pending_migrations(PG_MIGRATIONS)
                    .map_err(migration_error)?
                    .into_iter()
                    .map(|v| v.to_string())
                    .collect();
                Ok((DbPool::Postgres(pool), applied))
            }
            Backend::Sqlite => {
                let path = sqlite_path(url);
                if let Some(dir) = Path::new(&path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        anyhow::anyhow!(
                            "cannot create the directory {} for database.url: {e}",
                            dir.display()
                        )
                    })?;
                }
                let p = path.clone();
                let applied =
                    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
                        use diesel::Connection;
                        let mut c = SqliteConnection::establish(&p)?;
                        c.batch_execute(SQLITE_PRAGMAS)?;
                        Ok(c.run_pending_migrations(SQLITE_MIGRATIONS)
                            .map_err(migration_error)?
                            .into_iter()
                            .map(|v| v.to_string())
                            .collect())
                    })
                    .await??;

                let mut cfg = ManagerConfig::<SqliteConn>::default();
                cfg.custom_setup = Box::new(|url| {
                    let url = url.to_owned();
                    Box::pin(async move {
                        use diesel_async::SimpleAsyncConnection;
                        let mut c = SqliteConn::establish(&url).await?;
                        c.batch_execute(SQLITE_PRAGMAS)
                            .await
                            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(c)
                    })
                });
                let mgr = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, cfg);
                let pool = Pool::builder(mgr)
                    .max_size(max_size)
                    .wait_timeout(Some(acquire_timeout))
                    .create_timeout(Some(acquire_timeout))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()?;
                Ok((DbPool::Sqlite(pool), applied))
            }
        }
    }

    pub async fn get(&self) -> Result<DbConn<'static>, AcquireError> {
        Ok(match self {
            DbPool::Postgres(p) => {
                let hold = HoldGuard::enter();
                DbConn::Postgres(Handle::Pooled(Box::new(p.get().await?), hold))
            }
            DbPool::Sqlite(p) => {
                let hold = HoldGuard::enter();
                DbConn::Sqlite(Handle::Pooled(Box::new(p.get().await?), hold))
            }
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbPool::Postgres(_) => Backend::Postgres,
            DbPool::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// True when the error is a unique-constraint violation (same kind on both backends).
pub fn is_unique_violation(e: &DbError) -> bool {
    matches!(
        e,
        DbError::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Calls `on(channel)` for every NOTIFY on `channels` (PostgreSQL), so that
/// work committed on any node wakes the workers of this one. Reconnects after
/// a lost connection and reports the gap as a wake-up on every channel (a
/// notification may have been missed). None on SQLite: one node, whose
/// in-process signal suffices.
pub fn listen(
    url: &str,
    channels: &'static [&'static str],
    on: impl Fn(&str) + Send + Sync + 'static,
) -> Option<tokio::task::JoinHandle<()>> {
    if backend_of(url).ok()? != Backend::Postgres {
        return None;
    }
    let url = url.to_owned();
    Some(tokio::spawn(async move {
        let mut first = true;
        loop {
            if !first {
                channels.iter().for_each(|c| on(c));
            }
            first = false;
            if let Err(e) = listen_once(&url, channels, &on).await {
                tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }))
}

async fn listen_once(
    url: &str,
    channels: &[&str],
    on: &(impl Fn(&str) + Send + Sync),
) -> anyhow::Result<()> {
    use futures_util::StreamExt;
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Polling the message stream drives the connection, the LISTEN included.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if tx.send(Ok(n.channel().to_owned())).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
    });
    let sql: String = channels.iter().map(|c| format!("LISTEN {c};")).collect();
    let listening = client.batch_execute(&sql).await;
    let result = match listening {
        Err(e) => Err(e.into()),
        Ok(()) => loop {
            match rx.recv().await {
                Some(Ok(channel)) => on(&channel),
                Some(Err(e)) => break Err(e.into()),
                None => break Err(anyhow::anyhow!("the connection closed")),
            }
        },
    };
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel_async::SimpleAsyncConnection;

    /// A connection opened while another holds the write lock waits for it
    /// (busy_timeout applies to the set-up pragmas too) instead of failing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_new_sqlite_connection_waits_for_a_writer() {
        let dir = std::env::temp_dir().join(format!("tsunagu-lock-{}", std::process::id()));
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let (pool, _) = DbPool::connect(&url, 4, std::time::Duration::from_secs(10))
            .await
            .unwrap();
        let mut writer = pool.get().await.unwrap();
        let DbConn::Sqlite(w) = &mut writer else {
            unreachable!()
        };
        // Exclusive locking mode: even readers wait (as while SQLite removes
        // the WAL when a connection closes).
        w.batch_execute(
            "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; CREATE TABLE lock_probe (x INTEGER)",
        )
        .await
        .unwrap();
        let opening = tokio::spawn({
            let pool = pool.clone();
            async move { pool.get().await.map(|_| ()) }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        w.batch_execute("COMMIT; PRAGMA locking_mode = NORMAL; SELECT 1 FROM lock_probe")
            .await
            .unwrap();
        opening.await.unwrap().expect("the new connection waited");
        let _ = std::fs::remove_dir_all(dir);
    }
}

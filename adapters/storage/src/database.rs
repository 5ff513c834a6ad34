//! Which database obliged runs on, how to connect to it, and its migrations. SQLite is the
//! embedded default (one file, created on first start); PostgreSQL is chosen by a
//! `postgres://` URL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Runs the same code against whichever pool `$database` holds: `$body` is compiled once per
/// database, with `$pool` bound to that database's pool. This is how code outside this crate
/// (webhook subscriptions, read models, tests) reaches a pool: the SQL is written once and
/// sqlx checks it against each driver.
#[macro_export]
macro_rules! with_pool {
    ($database:expr, $pool:ident => $body:expr) => {
        match $database {
            $crate::Database::Sqlite($pool) => $body,
            $crate::Database::Postgres($pool) => $body,
        }
    };
}

/// Creates a new SQLite file readable and writable by its owner only (0600): it holds sealed
/// personal data and the token hashes. SQLite gives its `-wal` and `-shm` files the database
/// file's mode. An existing file keeps the mode it has, so a deployment that chose another one
/// keeps it; in-memory databases have no file.
fn create_private(path: &std::path::Path) -> Result<(), DatabaseError> {
    if path.as_os_str().is_empty() || path == std::path::Path::new(":memory:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(DatabaseError::Create {
            path: path.display().to_string(),
            source: error,
        }),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot create the database file {path}: {source}")]
    Create {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unsupported database url {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// Whether `error` says the database cannot serve right now — it is unreachable, starting up,
/// shutting down, or cut the connection off (a restart, a failover) — rather than that the
/// request or the data is at fault. Callers answer it with "unavailable, retry shortly"
/// (HTTP 503) and workers simply try again.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's SQLSTATE classes: 08 connection exception; 57P01 admin shutdown (a
        // fast or smart stop ends every session with it), 57P02 crash shutdown, 57P03 cannot
        // connect now (starting up or shutting down); 53300 too many connections.
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

/// A connection pool to one of the two supported databases.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Database {
    /// Connects to `url`: `sqlite://PATH` (the file is created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, DatabaseError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(DatabaseError::Connect)?;
            create_private(options.get_filename())?;
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged command survives power loss, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(DatabaseError::Connect)?;
            Ok(Self::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(DatabaseError::Connect)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .map_err(DatabaseError::Connect)?;
            Ok(Self::Postgres(pool))
        } else {
            Err(DatabaseError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Applies every migration not yet applied. Safe to run on every start.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        match self {
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .map_err(DatabaseError::Migrate)
    }

    pub fn kind(&self) -> StoreKind {
        match self {
            Self::Sqlite(_) => StoreKind::Sqlite,
            Self::Postgres(_) => StoreKind::Postgres,
        }
    }

    /// Answers whether the database can be reached right now.
    pub async fn ping(&self) -> Result<(), DatabaseError> {
        match self {
            Self::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
            Self::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// A database error that carries nothing but a SQLSTATE, as PostgreSQL sends them, for tests
/// of how errors are classified.
#[cfg(test)]
pub(crate) mod sqlstate {
    use std::borrow::Cow;

    #[derive(Debug)]
    struct Sqlstate(&'static str);

    impl std::fmt::Display for Sqlstate {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(formatter, "SQLSTATE {}", self.0)
        }
    }

    impl std::error::Error for Sqlstate {}

    impl sqlx::error::DatabaseError for Sqlstate {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    pub(crate) fn error(code: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(Sqlstate(code)))
    }
}

#[cfg(test)]
mod tests {
    use super::is_unavailable;
    use super::sqlstate::error as database;

    #[test]
    fn a_database_that_is_away_or_going_away_is_unavailable() {
        // What a fast shutdown sends every session, what a starting server answers, a refused
        // or dropped connection, and a pool that could not get a connection in time.
        for error in [
            database("57P01"),
            database("57P02"),
            database("57P03"),
            database("53300"),
            database("08006"),
            database("08001"),
            sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
            sqlx::Error::Io(std::io::ErrorKind::UnexpectedEof.into()),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            assert!(is_unavailable(&error), "{error:?}");
        }
    }

    #[test]
    fn faults_of_the_request_or_the_data_are_not() {
        // A unique violation, a missing table, a syntax error, SQLite's constraint code, and
        // a row that does not decode.
        for error in [
            database("23505"),
            database("42P01"),
            database("42601"),
            database("1555"),
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("position".into()),
        ] {
            assert!(!is_unavailable(&error), "{error:?}");
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_sqlite_store_and_its_wal_are_readable_by_the_owner_only() {
        use std::os::unix::fs::PermissionsExt;

        let folder = std::env::temp_dir().join(format!("obliged-mode-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("obliged.db");
        let database = super::Database::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        // Migrating writes, so SQLite creates the -wal and -shm files.
        database.migrate().await.unwrap();
        for file in ["obliged.db", "obliged.db-wal", "obliged.db-shm"] {
            let mode = std::fs::metadata(folder.join(file))
                .unwrap_or_else(|error| panic!("{file}: {error}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file} has mode {:o}", mode & 0o777);
        }
        database.close().await;
        std::fs::remove_dir_all(&folder).unwrap();
    }
}

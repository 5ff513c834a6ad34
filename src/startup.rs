//! Start-up and shutdown: connect and migrate the database, load the master key, serve an
//! [`App`] with its workers until a shutdown signal, and close the pool on the way out. The
//! wall clock enters here ([`SystemClock`]) and nowhere else.

use std::path::Path;

use anyhow::Context;
use jiff::Timestamp;
use obliged_domain::Clock;
use obliged_storage::{Database, MasterKey};
use tokio::net::TcpListener;

use crate::app::App;

/// The wall clock, the production implementation of the domain's clock port.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The default embedded store, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://obliged-data/obliged.db";
/// The default master key file, beside the default store.
pub const DEFAULT_MASTER_KEY_FILE: &str = "obliged-data/master.key";

/// Connects to `url` and applies pending migrations. For SQLite, the file's folder is created.
pub async fn connect(url: &str) -> anyhow::Result<Database> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the folder {}", parent.display()))?;
        }
    }
    let database = Database::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))?;
    database.migrate().await.context("migrating the database")?;
    Ok(database)
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The existing master key, for commands that only read: they must not create a new key where
/// a misconfigured path points at nothing.
pub fn read_master_key(path: &Path) -> anyhow::Result<MasterKey> {
    MasterKey::load(path).with_context(|| format!("reading the master key from {}", path.display()))
}

/// The master key, created on first start.
pub fn load_master_key(path: &Path) -> anyhow::Result<MasterKey> {
    MasterKey::load_or_create(path)
        .with_context(|| format!("loading the master key from {}", path.display()))
}

/// Serves HTTP on `listener` with the background workers beside it until `shutdown`, then
/// stops the workers and closes the database.
pub async fn serve(
    listener: TcpListener,
    app: App,
    nats: Option<obliged_nats::NatsSettings>,
    clock_interval: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let database = app.database.clone();
    let workers = crate::workers::spawn(&app, nats, clock_interval);
    let stopping = app.shutdown.clone();
    let limits = obliged_http::ServerLimits::default();
    let served = obliged_http::serve_router(
        listener,
        app.router(limits),
        app.shutdown.clone(),
        limits,
        shutdown,
    )
    .await
    .context("serving HTTP");
    // Whether the server stopped on a signal or an error, the workers stop too.
    stopping.send_replace(true);
    for worker in workers {
        let _ = worker.await;
    }
    database.close().await;
    served?;
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://user:secret@localhost/db"),
            "postgres://user:***@localhost/db"
        );
        assert_eq!(redact("postgres://localhost/db"), "postgres://localhost/db");
        assert_eq!(redact(DEFAULT_DB), DEFAULT_DB);
    }

    const DEFAULT_DB: &str = super::DEFAULT_DATABASE_URL;
}

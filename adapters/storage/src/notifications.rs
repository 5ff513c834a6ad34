//! Wake-ups from PostgreSQL: `LISTEN` on the channel the sequencer notifies once per ledger batch.
//! Notifications carry no data; readers always read the ledger. SQLite has no notifications:
//! its readers poll.
//!
//! Appends deliberately send no notification: a transaction that sends NOTIFY takes a
//! cluster-wide lock at commit, which would serialize every command.

use sqlx::postgres::PgListener;

use crate::database::Database;

pub(crate) const LEDGER_CHANNEL: &str = "obliged_ledger";

pub struct Notifications(PgListener);

impl Notifications {
    /// Listens on PostgreSQL; `None` on SQLite.
    pub async fn connect(database: &Database) -> Result<Option<Self>, sqlx::Error> {
        let Database::Postgres(pool) = database else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(LEDGER_CHANNEL).await?;
        Ok(Some(Self(listener)))
    }

    /// Waits until some sequencer extends the ledger. An error means the connection was lost;
    /// connect again.
    pub async fn ledger_moved(&mut self) -> Result<(), sqlx::Error> {
        self.0.recv().await.map(drop)
    }
}

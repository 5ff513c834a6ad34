//! Wake-ups from PostgreSQL: `LISTEN` on the channel the events trigger notifies (something was
//! appended) and the one the sequencer notifies (the ledger moved). Notifications carry no data;
//! readers always read the database. SQLite has no notifications: its readers poll.

use sqlx::postgres::PgListener;

use crate::database::Database;

const EVENTS_CHANNEL: &str = "obliged_events";
const LEDGER_CHANNEL: &str = "obliged_ledger";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// Some transaction appended events.
    EventsAppended,
    /// Some sequencer extended the ledger.
    LedgerMoved,
}

pub struct Notifications(PgListener);

impl Notifications {
    /// Listens on PostgreSQL; `None` on SQLite.
    pub async fn connect(database: &Database) -> Result<Option<Self>, sqlx::Error> {
        let Database::Postgres(pool) = database else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener
            .listen_all([EVENTS_CHANNEL, LEDGER_CHANNEL])
            .await?;
        Ok(Some(Self(listener)))
    }

    /// The next wake-up. An error means the connection was lost; connect again.
    pub async fn recv(&mut self) -> Result<Wakeup, sqlx::Error> {
        let notification = self.0.recv().await?;
        Ok(if notification.channel() == EVENTS_CHANNEL {
            Wakeup::EventsAppended
        } else {
            Wakeup::LedgerMoved
        })
    }
}

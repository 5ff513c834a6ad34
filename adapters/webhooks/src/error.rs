//! The one error type of the webhooks adapter: what a caller did wrong (a bad URL, an unknown
//! subscription, a position past the ledger's head) and what failed underneath (the database,
//! the ledger, rendering an entry). A receiver that answers badly is not an error here: it is an
//! attempt's outcome, recorded on the subscription.

use obliged_storage::{EntryError, LedgerError};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("invalid webhook url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("this token already has {limit} active subscriptions; remove one first")]
    TooManySubscriptions { limit: usize },
    #[error("invalid event type {0:?}: use an event name such as ContactLogged")]
    InvalidEventType(String),
    #[error("invalid webhook secret: {0}")]
    InvalidSecret(&'static str),
    #[error("max attempts must be between 1 and {max}, not {given}")]
    InvalidMaxAttempts { given: u32, max: u32 },
    #[error("invalid webhook settings: {0}")]
    InvalidSettings(String),
    #[error(
        "position {position} is not in the ledger: redeliver from 1 up to {next} (the next entry)"
    )]
    PositionOutOfRange { position: u64, next: u64 },
    #[error("webhook subscription {0} not found")]
    NotFound(Uuid),
    #[error("webhook subscription {0} was removed")]
    Removed(Uuid),
    #[error(
        "ledger entry {expected} is missing (the next entry read was {found:?}); \
         the ledger is broken, run its verification"
    )]
    LedgerGap { expected: u64, found: Option<u64> },
    #[error("stored webhook subscription {id} is damaged: {problem}")]
    CorruptRow { id: String, problem: String },
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
    #[error("cannot render ledger entry {position}: {source}")]
    Render {
        position: u64,
        #[source]
        source: EntryError,
    },
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for WebhookError {
    fn from(error: sqlx::Error) -> Self {
        // Connection trouble is worth telling apart: the worker retries it on its next tick and
        // an HTTP layer answers it with 503 rather than 500.
        if obliged_storage::is_unavailable(&error) {
            Self::Unavailable(error)
        } else {
            Self::Database(error)
        }
    }
}

impl From<LedgerError> for WebhookError {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::Database(error) => error.into(),
        }
    }
}

//! The one error type of the NATS publisher. Every variant is something an operator can act on;
//! the running publisher logs them and tries again, so none of them loses an entry.

use async_nats::jetstream::context::{CreateStreamError, PublishError};
use obliged_storage::{EntryError, LedgerError};

#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("invalid NATS settings: {0}")]
    InvalidSettings(String),
    // The URL is left out on purpose: it may carry credentials. The binary names the server.
    #[error("cannot connect to NATS: {0}")]
    Connect(#[from] async_nats::ConnectError),
    #[error("cannot open or create the JetStream stream {stream}: {source}")]
    Stream {
        stream: String,
        #[source]
        source: CreateStreamError,
    },
    #[error(
        "the existing JetStream stream {stream} captures {subjects:?}, which does not cover \
         {expected}: it would not receive what obliged publishes"
    )]
    StreamSubjects {
        stream: String,
        subjects: Vec<String>,
        expected: String,
    },
    #[error("publishing ledger position {position} failed: {source}")]
    Publish {
        position: u64,
        #[source]
        source: PublishError,
    },
    #[error("ledger position {position} cannot be published: {reason}")]
    Unpublishable { position: u64, reason: String },
    #[error(
        "the ledger has no entry {expected} (the next is {found}): publishing stops here rather \
         than skip it; `verify` the ledger"
    )]
    LedgerGap { expected: u64, found: u64 },
    #[error("cannot read the ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("cannot read or store the checkpoint {name}: {source}")]
    Checkpoint {
        name: String,
        #[source]
        source: sqlx::Error,
    },
}

impl NatsError {
    pub(crate) fn unpublishable(position: u64, error: EntryError) -> Self {
        Self::Unpublishable {
            position,
            reason: error.to_string(),
        }
    }
}

//! NATS JetStream publisher: every ledger entry once, deduplicated by position.
//!
//! [`NatsPublisher`] reads the ledger after its checkpoint and publishes each entry, redacted
//! (sealed personal data reads `[sealed]`), to `<prefix>.<complaint_id>.<EventType>` with
//! `Nats-Msg-Id` = its ledger position, then stores the checkpoint once JetStream has
//! acknowledged. The binary builds [`NatsSettings`], calls [`NatsPublisher::connect`] and runs
//! [`NatsPublisher::run`] beside the server; tests drive [`NatsPublisher::tick`].

mod error;
mod publisher;
mod settings;

pub use error::NatsError;
pub use publisher::{NatsPublisher, NatsStatus};
pub use settings::{
    NatsSettings, DEFAULT_BATCH, DEFAULT_DUPLICATE_WINDOW, DEFAULT_IN_FLIGHT,
    DEFAULT_POLL_INTERVAL, DEFAULT_REQUEST_TIMEOUT, DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX,
};

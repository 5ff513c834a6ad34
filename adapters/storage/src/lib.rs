//! Storage for obliged: the connection to the embedded SQLite file or to PostgreSQL, the
//! project's own migrations, the complaint event store (cqrs-es `PersistedEventStore` over
//! sqlite-es or postgres-es, `new_event_store` only), the sealing of personal data, API tokens,
//! the [`Engine`] that runs commands against them, and accountability reports read from the
//! ledger.
//!
//! Nothing here reads the environment: the binary hands over typed settings.

mod checkpoints;
mod database;
mod engine;
mod event_store;
mod ledger;
mod notifications;
mod projections;
mod read_models;
mod reports;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod vault;

pub use checkpoints::Checkpoints;
pub use database::{is_unavailable, Database, DatabaseError, StoreKind};
pub use engine::{
    entry_json, AppendedEvent, CommandOutcome, CommandRequest, Disclosure, Engine, EngineError,
    Opener, RecordedEvent, RETRY_ATTEMPTS,
};
pub use event_store::ComplaintStore;
pub use ledger::{
    entry_hash, Ledger, LedgerEntry, LedgerError, Verification, GENESIS_HASH, SEQUENCE_BATCH,
};
pub use notifications::Notifications;
pub use projections::{from_micros, micros, ProjectionError, Projector, COMPLAINTS_PROJECTOR};
pub use read_models::{
    ComplaintFilter, ComplaintListItem, DuePromise, DueRungRow, OwnerCounters, QueueItem,
    ReadModels, FLAGS,
};
pub use reports::{accountability_report, ReportError, REPORT_PAGE};
pub use tokens::{ApiToken, IssuedToken, Role, TokenError, Tokens};
pub use vault::{MasterKey, Vault, VaultError};

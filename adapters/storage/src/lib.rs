//! The log of obliged: the connection to the embedded SQLite file or to PostgreSQL and every
//! migration, the complaint event store (cqrs-es `PersistedEventStore` over sqlite-es or
//! postgres-es, `new_event_store` only), the [`Engine`] (the command path and nothing else),
//! the sequencer and hash-chained [`Ledger`], [`entries`](LedgerReader) (the one place that
//! turns a ledger entry into what a reader or integration may see), the vault that seals
//! personal data, API tokens, console accounts and sessions, consumers' checkpoints and wake-ups, and (feature `testing`) a
//! fresh store per test.
//!
//! Nothing here reads the environment or the wall clock: the binary hands over typed settings
//! and a clock.

mod accounts;
mod checkpoints;
mod database;
mod engine;
mod entries;
mod event_store;
mod ledger;
mod notifications;
mod streams;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod vault;

pub use accounts::{
    constant_time_eq, Account, AccountError, Accounts, NewSession, Session, SessionSettings,
    LANGUAGES, MIN_PASSWORD_CHARS,
};
pub use checkpoints::Checkpoints;
pub use database::{is_unavailable, Database, DatabaseError, StoreKind};
pub use engine::{
    AppendedEvent, CommandOutcome, CommandRequest, Engine, EngineError, RecordedEvent,
    RETRY_ATTEMPTS,
};
pub use entries::{entry_json, Disclosure, EntryError, LedgerReader, Opener};
pub use event_store::ComplaintStore;
pub use ledger::{
    entry_hash, Ledger, LedgerEntry, LedgerError, Verification, GENESIS_HASH, SEQUENCE_BATCH,
};
pub use notifications::Notifications;
pub use streams::{StreamLimits, StreamRefusal, StreamTicket, Streams, CHECK_INTERVAL};
pub use tokens::{ApiToken, IssuedToken, Role, TokenError, Tokens};
pub use vault::{is_sealed_secret, MasterKey, Rewrapped, Vault, VaultError};

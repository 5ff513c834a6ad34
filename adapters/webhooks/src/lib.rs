//! Webhooks: signed, ordered, at-least-once delivery of ledger entries to subscribers.
//!
//! A subscription names a URL, the event types it wants (none named: all), a secret and how
//! many attempts an entry gets. For each subscription the worker walks the ledger in position
//! order and POSTs every wanted entry, rendered as integrations see it with personal data
//! redacted (`entry_json` with `Disclosure::Redacted`), signed with the subscription's secret
//! (see [`signature`]). A 2xx answer moves the subscription on; any other outcome is retried
//! with exponential backoff and jitter, and after the last attempt the entry is dead-lettered
//! and the subscription moves on, so order holds and nothing is dropped unrecorded.
//!
//! Module map: `webhooks.rs` is the API ([`Webhooks`]), `worker.rs` the delivery step, its claim
//! and the loop, `delivery.rs` the HTTP request, `egress.rs` where it may go, [`signature`] the wire format, `store.rs` the
//! tables, `subscription.rs` the value types, `settings.rs` the settings and retry schedule.

mod delivery;
mod egress;
mod error;
mod settings;
pub mod signature;
mod store;
mod subscription;
mod webhooks;
mod worker;

pub use egress::{EgressPolicy, EgressRefused};
pub use error::WebhookError;
pub use settings::{WebhookSettings, MAX_ATTEMPTS_LIMIT};
pub use subscription::{
    CreatedSubscription, DeadLetter, NewSubscription, Start, Subscription, SubscriptionOwner,
    SubscriptionStatus, WebhookSecret,
};
pub use webhooks::Webhooks;
pub use worker::{Attempt, AttemptOutcome, TickReport};

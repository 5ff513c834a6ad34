//! [`Webhooks`]: the one handle callers hold. It manages subscriptions (subscribe, list, status,
//! remove, redeliver, dead letters) and, through `worker.rs`, delivers. Cheap to clone; every
//! clone shares one HTTP client and one wake-up signal for `run`.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use obliged_domain::Clock;
use obliged_storage::{Ledger, LedgerReader, Tokens};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::error::WebhookError;
use crate::settings::{WebhookSettings, MAX_ATTEMPTS_LIMIT};
use crate::store::{self, Record};
use crate::subscription::{
    parse_event_types, parse_url, CreatedSubscription, DeadLetter, NewSubscription, Start,
    Subscription, SubscriptionStatus, WebhookSecret,
};

/// Subscriptions and their delivery. Share one per process (clones share everything).
#[derive(Clone)]
pub struct Webhooks(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    /// The ledger followed; subscriptions and their cursors live in its database, beside it.
    pub reader: LedgerReader,
    pub clock: Arc<dyn Clock>,
    pub settings: WebhookSettings,
    pub lease: SignedDuration,
    pub client: crate::delivery::Deliverer,
    /// Whether the tokens that made subscriptions are still active.
    pub tokens: Tokens,
    /// Tells a running worker in this process that a subscription changed (created, rewound)
    /// so it need not wait for its next poll.
    pub wake: Notify,
}

impl Webhooks {
    /// Subscriptions to the ledger `reader` reads, kept in that ledger's database.
    pub fn new(
        reader: LedgerReader,
        clock: Arc<dyn Clock>,
        settings: WebhookSettings,
    ) -> Result<Self, WebhookError> {
        settings.validate()?;
        let lease = SignedDuration::try_from(settings.lease)
            .map_err(|error| WebhookError::InvalidSettings(error.to_string()))?;
        let client = crate::delivery::client(settings.request_timeout, &settings.egress)?;
        Ok(Self(Arc::new(Inner {
            tokens: Tokens::new(reader.database().clone(), clock.clone()),
            reader,
            clock,
            settings,
            lease,
            client,
            wake: Notify::new(),
        })))
    }

    pub fn settings(&self) -> &WebhookSettings {
        &self.0.settings
    }

    pub(crate) fn ledger(&self) -> &Ledger {
        self.0.reader.ledger()
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.0.clock.now()
    }

    /// Creates a subscription. The secret (given or generated) is in the answer and is never
    /// shown again.
    pub async fn subscribe(
        &self,
        request: NewSubscription,
    ) -> Result<CreatedSubscription, WebhookError> {
        let url = parse_url(&request.url)?;
        self.0
            .settings
            .egress
            .check_url(&url)
            .map_err(|refused| WebhookError::InvalidUrl {
                url: request.url.clone(),
                reason: refused.to_string(),
            })?;
        let event_types = parse_event_types(request.event_types)?;
        let secret = match request.secret {
            Some(raw) => WebhookSecret::parse(&raw)?,
            None => WebhookSecret::generate(),
        };
        let max_attempts = request
            .max_attempts
            .unwrap_or(self.0.settings.default_max_attempts);
        if max_attempts == 0 || max_attempts > MAX_ATTEMPTS_LIMIT {
            return Err(WebhookError::InvalidMaxAttempts {
                given: max_attempts,
                max: MAX_ATTEMPTS_LIMIT,
            });
        }
        if let Some(owner) = &request.owner {
            let limit = self.0.settings.max_subscriptions_per_token;
            if store::active_count_of(self.0.reader.database(), owner.token_id).await?
                >= limit as u64
            {
                return Err(WebhookError::TooManySubscriptions { limit });
            }
        }
        let head = self.ledger().refresh_head().await?;
        let done_with = match request.start {
            Start::Next => head,
            Start::Beginning => 0,
            Start::At(position) => Self::done_before(position, head)?,
        };
        let subscription = Subscription {
            id: Uuid::now_v7(),
            // The normalized form is what requests go to, so it is what is stored and shown.
            url: url.to_string(),
            event_types,
            max_attempts,
            created_at: self.now(),
            removed_at: None,
            owner: request.owner,
        };
        let stored = self
            .0
            .reader
            .seal_secret(&secret_context(subscription.id), secret.expose());
        store::insert(self.0.reader.database(), &subscription, &stored, done_with).await?;
        self.0.wake.notify_one();
        Ok(CreatedSubscription {
            subscription,
            secret,
        })
    }

    /// Seals every signing secret still stored in clear (subscriptions made before secrets
    /// were sealed) under the master key; returns how many it sealed. Run when the worker
    /// starts; a secret in clear keeps working until then.
    pub async fn seal_stored_secrets(&self) -> Result<u64, WebhookError> {
        let database = self.0.reader.database();
        let mut sealed = 0;
        for (id, stored) in store::secrets(database).await? {
            if obliged_storage::is_sealed_secret(&stored) {
                continue;
            }
            let sealed_secret = self.0.reader.seal_secret(&stored_context(&id)?, &stored);
            if store::replace_secret(database, &id, &stored, &sealed_secret).await? {
                sealed += 1;
            }
        }
        Ok(sealed)
    }

    /// Seals every signing secret again under the master key of `new` (a key rotation),
    /// returning how many it sealed again and how many already were. Safe to interrupt and
    /// run again: a secret that opens under `new` is left as it is.
    pub async fn reseal_secrets_under(
        &self,
        new: &obliged_storage::Vault,
    ) -> Result<(u64, u64), WebhookError> {
        let database = self.0.reader.database();
        let (mut resealed, mut already) = (0, 0);
        for (id, stored) in store::secrets(database).await? {
            let context = stored_context(&id)?;
            if obliged_storage::is_sealed_secret(&stored)
                && new.open_secret(&context, &stored).is_ok()
            {
                already += 1;
                continue;
            }
            let secret = self.0.reader.open_secret(&context, &stored).map_err(|_| {
                WebhookError::CorruptRow {
                    id: id.clone(),
                    problem: "the secret opens under neither master key".to_owned(),
                }
            })?;
            if store::replace_secret(database, &id, &stored, &new.seal_secret(&context, &secret))
                .await?
            {
                resealed += 1;
            }
        }
        Ok((resealed, already))
    }

    /// The position a subscription is done with when it is to continue at `position`.
    fn done_before(position: u64, head: u64) -> Result<u64, WebhookError> {
        if position == 0 || position > head + 1 {
            return Err(WebhookError::PositionOutOfRange {
                position,
                next: head + 1,
            });
        }
        Ok(position - 1)
    }

    /// Every subscription with its status, removed ones included (their dead letters remain).
    pub async fn list(&self) -> Result<Vec<SubscriptionStatus>, WebhookError> {
        let head = self.ledger().refresh_head().await?;
        let records = store::all(self.0.reader.database()).await?;
        let revoked = self.revoked_owners(&records).await?;
        Ok(records
            .into_iter()
            .map(|record| status(record, head, &revoked))
            .collect())
    }

    /// The owners' tokens among `records` that are revoked: their subscriptions deliver
    /// nothing.
    pub(crate) async fn revoked_owners(
        &self,
        records: &[Record],
    ) -> Result<Vec<Uuid>, WebhookError> {
        let mut owners: Vec<Uuid> = records
            .iter()
            .filter_map(|record| record.subscription.owner.as_ref())
            .map(|owner| owner.token_id)
            .collect();
        owners.sort();
        owners.dedup();
        self.0
            .tokens
            .revoked_among(&owners)
            .await
            .map_err(|error| match error {
                obliged_storage::TokenError::Database(error) => WebhookError::from(error),
                other => WebhookError::CorruptRow {
                    id: "api_tokens".to_owned(),
                    problem: other.to_string(),
                },
            })
    }

    pub async fn get(&self, id: Uuid) -> Result<Subscription, WebhookError> {
        Ok(self.record(id).await?.subscription)
    }

    pub async fn status(&self, id: Uuid) -> Result<SubscriptionStatus, WebhookError> {
        let head = self.ledger().refresh_head().await?;
        let record = self.record(id).await?;
        let revoked = self.revoked_owners(std::slice::from_ref(&record)).await?;
        Ok(status(record, head, &revoked))
    }

    async fn record(&self, id: Uuid) -> Result<Record, WebhookError> {
        store::one(self.0.reader.database(), id)
            .await?
            .ok_or(WebhookError::NotFound(id))
    }

    /// Deactivates a subscription: nothing more is delivered, and an attempt in flight records
    /// nothing. The subscription and its dead letters stay readable. Returns whether it was
    /// active (removing twice is not an error).
    pub async fn remove(&self, id: Uuid) -> Result<bool, WebhookError> {
        if store::remove(self.0.reader.database(), id, self.now()).await? {
            return Ok(true);
        }
        self.record(id).await.map(|_| false)
    }

    /// Sets a subscription back so that delivery restarts at `position` (inclusive), due at
    /// once, with a fresh attempt count. An attempt in flight records nothing. Entries are
    /// delivered again even if they were delivered or dead-lettered before.
    pub async fn redeliver_from(&self, id: Uuid, position: u64) -> Result<(), WebhookError> {
        let record = self.record(id).await?;
        if !record.subscription.is_active() {
            return Err(WebhookError::Removed(id));
        }
        let head = self.ledger().refresh_head().await?;
        let done_with = Self::done_before(position, head)?;
        if !store::rewind(self.0.reader.database(), id, done_with).await? {
            // Removed between the read and the update.
            return Err(WebhookError::Removed(id));
        }
        self.0.wake.notify_one();
        Ok(())
    }

    /// The subscription's dead letters, oldest first.
    pub async fn dead_letters(&self, id: Uuid) -> Result<Vec<DeadLetter>, WebhookError> {
        self.record(id).await?;
        store::dead_letters(self.0.reader.database(), id).await
    }
}

fn status(record: Record, head: u64, revoked_owners: &[Uuid]) -> SubscriptionStatus {
    let delivery = record.delivery;
    let stopped = record
        .subscription
        .owner
        .as_ref()
        .filter(|owner| record.subscription.is_active() && revoked_owners.contains(&owner.token_id))
        .map(|owner| format!("the token that made it ({}) was revoked", owner.name));
    SubscriptionStatus {
        stopped,
        subscription: record.subscription,
        position: delivery.position,
        head,
        lag: head.saturating_sub(delivery.position),
        attempts: delivery.attempts,
        next_attempt_at: delivery.next_attempt_at,
        last_error: delivery.last_error,
        last_error_at: delivery.last_error_at,
        last_delivered_at: delivery.last_delivered_at,
        dead_letters: record.dead_letters,
        claimed_until: record.lease_until,
    }
}

/// What a subscription's sealed secret is bound to: it opens for that subscription only.
pub(crate) fn secret_context(id: Uuid) -> String {
    format!("webhook-secret:{id}")
}

/// [`secret_context`] of a subscription row's id.
fn stored_context(id: &str) -> Result<String, WebhookError> {
    let id = Uuid::parse_str(id).map_err(|_| WebhookError::CorruptRow {
        id: id.to_owned(),
        problem: "id is not a UUID".to_owned(),
    })?;
    Ok(secret_context(id))
}

//! The delivery worker: which subscriptions are due, the claim that keeps two workers off one
//! subscription, one delivery step, and the loop that runs steps as work appears.
//!
//! **Order and at-least-once.** A subscription moves through the ledger one entry at a time:
//! its position advances only after the entry was delivered (a 2xx answer), skipped by the
//! event-type filter, or dead-lettered. A crash between a delivery and recording it means the
//! entry is sent again, never that it is skipped.
//!
//! **Claims.** A step first claims its subscription: one conditional `UPDATE` that sets
//! `lease_until` and bumps `version`, and succeeds only if the row still has the version the
//! worker read and no unexpired claim. The step then renders and sends the entry outside any
//! transaction, and records the outcome with another `UPDATE … WHERE version = <claimed>`
//! (with the dead letter, if any, in the same transaction), which also releases the claim.
//! So, across processes on one PostgreSQL and across concurrent ticks in one process alike,
//! at most one worker delivers a subscription at a time, and a worker whose subscription was
//! changed under it (rewound, removed, or taken over after its claim expired) records nothing.
//!
//! Why not `SELECT … FOR UPDATE SKIP LOCKED` held across the request: a row lock gives the
//! transaction a transaction id, and an open transaction id holds back the ledger's xid8 fence
//! for every reader of the instance for as long as the receiver takes to answer; it would also
//! tie a pooled connection to each slow receiver. The price of the lease is that a worker that
//! dies mid-delivery leaves its subscription waiting until the lease expires, and that the
//! instances' clocks must agree to well within the lease.

use std::collections::{HashMap, HashSet};

use futures_util::future::join_all;
use jiff::{SignedDuration, Timestamp};
use obliged_storage::{entry_json, Database, Disclosure, LedgerEntry};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::delivery::{self, Request};
use crate::error::WebhookError;
use crate::store::{self, Delivery, NewDeadLetter, Record};
use crate::webhooks::Webhooks;

/// What one [`Webhooks::tick`] did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// The ledger's head when the tick looked.
    pub head: u64,
    /// One per subscription that made a delivery attempt, in subscription order.
    pub attempts: Vec<Attempt>,
    /// Entries passed over because a subscription's filter does not want them.
    pub skipped: u64,
    /// Subscriptions that were due but that another worker claimed or changed first.
    pub contended: Vec<Uuid>,
    /// Subscriptions whose step failed on the database or the ledger; they are tried again
    /// on the next tick.
    pub errors: Vec<(Uuid, WebhookError)>,
    /// The earliest time a subscription that is waiting now becomes due (a retry, or the end
    /// of another worker's claim). `None` if none is waiting.
    pub next_due_at: Option<Timestamp>,
}

impl TickReport {
    pub fn delivered(&self) -> usize {
        self.attempts
            .iter()
            .filter(|attempt| matches!(attempt.outcome, AttemptOutcome::Delivered { .. }))
            .count()
    }
}

/// One delivery attempt of one entry to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub subscription: Uuid,
    pub position: u64,
    pub event_type: String,
    /// 1 for the first attempt on this entry.
    pub number: u32,
    pub outcome: AttemptOutcome,
    /// False if the subscription was changed while the request was in flight (rewound,
    /// removed, or taken over after this worker's claim expired): the outcome was not recorded.
    pub recorded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered with this 2xx status.
    Delivered { status: u16 },
    /// The attempt failed; the entry is tried again at `next_attempt_at`.
    Failed {
        error: String,
        next_attempt_at: Timestamp,
    },
    /// The attempt failed and was the last one allowed: the entry is dead-lettered and the
    /// subscription moves on.
    DeadLettered { error: String },
}

/// What one step did for one subscription.
#[derive(Default)]
struct StepReport {
    skipped: u64,
    contended: bool,
    attempt: Option<Attempt>,
}

/// The work the database shows at one moment.
struct Plan {
    head: u64,
    due: Vec<Record>,
    next_due_at: Option<Timestamp>,
}

/// A step on one claimed subscription: the row as read, the ledger head it goes up to, the
/// lease its claim holds until, the claim, and what the step did.
struct Step<'a> {
    record: &'a Record,
    head: u64,
    lease_until: Timestamp,
    claim: Claim,
    report: StepReport,
}

/// A claimed subscription: the row version the claim holds and the progress last written.
struct Claim {
    id: Uuid,
    version: i64,
    delivery: Delivery,
}

impl Claim {
    /// Writes the progress the claim holds and gives the claim up. `None` if it was lost
    /// meanwhile (nothing is written then).
    async fn release(&self, database: &Database) -> Result<Option<i64>, WebhookError> {
        store::record(database, self.id, self.version, &self.delivery, None, None).await
    }
}

fn later(at: Timestamp, by: SignedDuration) -> Timestamp {
    at.saturating_add(by).unwrap_or(Timestamp::MAX)
}

impl Webhooks {
    /// Makes at most one delivery attempt per active subscription that is due at `clock.now()`,
    /// all at once, and waits for them. Entries a subscription's filter does not want are
    /// passed over (and its position advanced) without counting as attempts.
    pub async fn tick(&self) -> Result<TickReport, WebhookError> {
        let plan = self.plan().await?;
        let steps = plan.due.into_iter().map(|record| {
            let id = record.subscription.id;
            async move { (id, self.step(record, plan.head).await) }
        });
        let mut report = TickReport {
            head: plan.head,
            next_due_at: plan.next_due_at,
            ..TickReport::default()
        };
        for (id, result) in join_all(steps).await {
            match result {
                Ok(step) => {
                    report.skipped += step.skipped;
                    if step.contended {
                        report.contended.push(id);
                    }
                    if let Some(attempt) = step.attempt {
                        if let AttemptOutcome::Failed {
                            next_attempt_at, ..
                        } = &attempt.outcome
                        {
                            report.next_due_at = Some(
                                report
                                    .next_due_at
                                    .map_or(*next_attempt_at, |at| at.min(*next_attempt_at)),
                            );
                        }
                        report.attempts.push(attempt);
                    }
                }
                Err(error) => {
                    tracing::warn!(subscription = %id, %error, "webhook delivery step failed");
                    report.errors.push((id, error));
                }
            }
        }
        Ok(report)
    }

    /// Delivers until `shutdown` turns true (or its sender goes away): a step starts for each
    /// subscription as soon as it is due, independently of the others, so a slow receiver
    /// holds up only its own subscription. It wakes when this process sequences new entries,
    /// when a step ends, at the next retry time, when a subscription is created or rewound in
    /// this process, and otherwise every `poll_interval` (for entries sequenced by other
    /// instances and for expired claims). On shutdown it lets steps in flight finish (each is
    /// bounded by the request timeout), so their outcomes are recorded and claims released.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        match self.seal_stored_secrets().await {
            Ok(0) => {}
            Ok(sealed) => tracing::info!(sealed, "sealed webhook secrets stored in clear"),
            Err(error) => tracing::warn!(%error, "could not seal webhook secrets stored in clear"),
        }
        let mut head = self.ledger().subscribe();
        let mut steps = Steps::default();
        let poll = self.0.settings.poll_interval;
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            let mut wait = poll;
            match self.plan().await {
                Ok(plan) => {
                    for record in plan.due {
                        let id = record.subscription.id;
                        if !steps.may_start(id) {
                            continue;
                        }
                        let webhooks = self.clone();
                        let task = steps
                            .running
                            .spawn(async move { webhooks.step(record, plan.head).await });
                        steps.tasks.insert(task.id(), id);
                    }
                    if let Some(at) = plan.next_due_at {
                        let until = at.duration_since(self.now());
                        wait = wait.min(std::time::Duration::try_from(until).unwrap_or_default());
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "webhooks could not read their work; trying again");
                }
            }
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                _ = head.changed() => {}
                _ = self.0.wake.notified() => {}
                Some(done) = steps.running.join_next_with_id(), if !steps.running.is_empty() => {
                    steps.finished(done, poll);
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
        while let Some(done) = steps.running.join_next_with_id().await {
            steps.finished(done, poll);
        }
    }

    /// The active subscriptions that are due now: behind the head, not waiting for a retry,
    /// and not claimed (or claimed by a worker whose claim has expired).
    async fn plan(&self) -> Result<Plan, WebhookError> {
        let head = self.ledger().refresh_head().await?;
        let now = self.now();
        let mut plan = Plan {
            head,
            due: Vec::new(),
            next_due_at: None,
        };
        let active = store::active(self.0.reader.database()).await?;
        // A subscription whose token was revoked (by any instance) delivers nothing.
        let revoked = self.revoked_owners(&active).await?;
        for record in active {
            if record.delivery.position >= head {
                continue;
            }
            if record
                .subscription
                .owner
                .as_ref()
                .is_some_and(|owner| revoked.contains(&owner.token_id))
            {
                continue;
            }
            let waiting_until = [record.lease_until, record.delivery.next_attempt_at]
                .into_iter()
                .flatten()
                .filter(|at| *at > now)
                .max();
            match waiting_until {
                Some(at) => {
                    plan.next_due_at = Some(plan.next_due_at.map_or(at, |next| next.min(at)));
                }
                None => plan.due.push(record),
            }
        }
        Ok(plan)
    }

    /// Claims `record`'s subscription and makes at most one delivery attempt.
    async fn step(&self, record: Record, head: u64) -> Result<StepReport, WebhookError> {
        let id = record.subscription.id;
        let lease_until = later(self.now(), self.0.lease);
        let Some(version) =
            store::claim(self.0.reader.database(), id, record.version, lease_until).await?
        else {
            return Ok(StepReport {
                contended: true,
                ..StepReport::default()
            });
        };
        let mut step = Step {
            record: &record,
            head,
            lease_until,
            claim: Claim {
                id,
                version,
                delivery: record.delivery.clone(),
            },
            report: StepReport::default(),
        };
        let result = self.step_claimed(&mut step).await;
        if result.is_err() {
            // Give the claim back so the next tick can try again at once; if even this fails
            // the claim simply expires.
            let _ = step.claim.release(self.0.reader.database()).await;
        }
        result.map(|()| step.report)
    }

    async fn step_claimed(&self, step: &mut Step<'_>) -> Result<(), WebhookError> {
        let Some(entry) = self.next_wanted(step).await? else {
            // Everything up to the head was passed over: record that and release the claim.
            let released = step.claim.release(self.0.reader.database()).await?;
            step.report.contended = released.is_none();
            return Ok(());
        };

        let mut opener = self.0.reader.opener(Disclosure::Redacted);
        let body =
            entry_json(&entry, &mut opener)
                .await
                .map_err(|source| WebhookError::Render {
                    position: entry.position,
                    source,
                })?;
        let body = serde_json::to_vec(&body).expect("a JSON value serializes");
        let subscription = &step.record.subscription;
        let secret = self
            .0
            .reader
            .open_secret(
                &crate::webhooks::secret_context(subscription.id),
                step.record.secret.expose(),
            )
            .map_err(|_| WebhookError::CorruptRow {
                id: subscription.id.to_string(),
                problem: "the secret does not open with this master key".to_owned(),
            })?;
        let sent = delivery::send(
            &self.0.client,
            Request {
                url: &step.record.target,
                subscription: &subscription.id.to_string(),
                secret: &secret,
                position: entry.position,
                event_type: &entry.event_type,
                body,
                unix_seconds: self.now().as_second(),
            },
        )
        .await;

        // Scheduled from when the answer came (or the request gave up), not from when it left.
        let finished = self.now();
        let number = step.claim.delivery.attempts + 1;
        let mut delivery = step.claim.delivery.clone();
        let mut dead_letter = None;
        let outcome = match sent {
            Ok(status) => {
                delivery.position = entry.position;
                delivery.attempts = 0;
                delivery.next_attempt_at = None;
                delivery.last_delivered_at = Some(finished);
                AttemptOutcome::Delivered { status }
            }
            Err(error) => {
                delivery.last_error = Some(error.clone());
                delivery.last_error_at = Some(finished);
                if number >= subscription.max_attempts {
                    delivery.position = entry.position;
                    delivery.attempts = 0;
                    delivery.next_attempt_at = None;
                    dead_letter = Some(NewDeadLetter {
                        position: entry.position,
                        event_type: &entry.event_type,
                        attempts: number,
                        last_error: delivery.last_error.as_deref().unwrap_or_default(),
                        at: finished,
                    });
                    AttemptOutcome::DeadLettered { error }
                } else {
                    let next_attempt_at = later(finished, self.0.settings.backoff(number));
                    delivery.attempts = number;
                    delivery.next_attempt_at = Some(next_attempt_at);
                    AttemptOutcome::Failed {
                        error,
                        next_attempt_at,
                    }
                }
            }
        };
        let recorded = store::record(
            self.0.reader.database(),
            step.claim.id,
            step.claim.version,
            &delivery,
            None,
            dead_letter,
        )
        .await?;
        if recorded.is_none() {
            tracing::info!(
                subscription = %step.claim.id,
                position = entry.position,
                "the subscription changed during a delivery attempt; its outcome is not recorded"
            );
        }
        step.report.attempt = Some(Attempt {
            subscription: step.claim.id,
            position: entry.position,
            event_type: entry.event_type,
            number,
            outcome,
            recorded: recorded.is_some(),
        });
        Ok(())
    }

    /// The first entry after the claim's position that the subscription wants, advancing the
    /// claim's position past the entries it does not want (and writing that progress, claim
    /// kept, each time a whole batch is passed over). `None` once the head is reached, or if
    /// the claim was lost meanwhile (then `report.contended` is set).
    async fn next_wanted(&self, step: &mut Step<'_>) -> Result<Option<LedgerEntry>, WebhookError> {
        // A subscription without a filter wants the very next entry: reading more would
        // fetch payloads only to throw them away.
        let batch = if step.record.subscription.event_types.is_empty() {
            1
        } else {
            self.0.settings.scan_batch
        };
        loop {
            let entries = self
                .ledger()
                .entries_after(step.claim.delivery.position, batch)
                .await?;
            // `entries_after` leaves out entries whose event is missing. That cannot happen in
            // a sound ledger; if it does, stop here rather than skip an entry unnoticed.
            let expected = step.claim.delivery.position + 1;
            for (offset, entry) in entries.iter().enumerate() {
                if entry.position != expected + offset as u64 {
                    return Err(WebhookError::LedgerGap {
                        expected: expected + offset as u64,
                        found: Some(entry.position),
                    });
                }
            }
            let Some(last) = entries.last().map(|entry| entry.position) else {
                if step.claim.delivery.position < step.head {
                    return Err(WebhookError::LedgerGap {
                        expected,
                        found: None,
                    });
                }
                return Ok(None);
            };
            let wanted = entries
                .iter()
                .position(|entry| step.record.subscription.wants(&entry.event_type));
            let passed_over = wanted.unwrap_or(entries.len());
            if passed_over > 0 {
                step.report.skipped += passed_over as u64;
                // Attempts count failures on the entry after the position; a new entry starts
                // afresh.
                step.claim.delivery.position = expected + passed_over as u64 - 1;
                step.claim.delivery.attempts = 0;
                step.claim.delivery.next_attempt_at = None;
            }
            if let Some(index) = wanted {
                return Ok(entries.into_iter().nth(index));
            }
            if entries.len() < batch || last >= step.head {
                return Ok(None);
            }
            match store::record(
                self.0.reader.database(),
                step.claim.id,
                step.claim.version,
                &step.claim.delivery,
                Some(step.lease_until),
                None,
            )
            .await?
            {
                Some(version) => step.claim.version = version,
                None => {
                    step.report.contended = true;
                    return Ok(None);
                }
            }
        }
    }
}

/// The steps `run` has started, by subscription.
#[derive(Default)]
struct Steps {
    running: JoinSet<Result<StepReport, WebhookError>>,
    tasks: HashMap<tokio::task::Id, Uuid>,
    busy: HashSet<Uuid>,
    /// Subscriptions whose last step failed (database, broken ledger), left alone until then:
    /// a step that fails at once would otherwise be started again at once, forever.
    resting: HashMap<Uuid, tokio::time::Instant>,
}

impl Steps {
    fn may_start(&mut self, id: Uuid) -> bool {
        if let Some(until) = self.resting.get(&id) {
            if *until > tokio::time::Instant::now() {
                return false;
            }
            self.resting.remove(&id);
        }
        self.busy.insert(id)
    }

    fn finished(
        &mut self,
        done: Result<(tokio::task::Id, Result<StepReport, WebhookError>), tokio::task::JoinError>,
        rest: std::time::Duration,
    ) {
        let (task, result) = match done {
            Ok((task, result)) => (task, Some(result)),
            Err(error) => (error.id(), None),
        };
        let Some(id) = self.tasks.remove(&task) else {
            return;
        };
        self.busy.remove(&id);
        match result {
            Some(Ok(step)) => {
                if let Some(attempt) = step.attempt {
                    tracing::debug!(subscription = %id, ?attempt, "webhook delivery attempt");
                }
                return;
            }
            Some(Err(error)) => {
                tracing::warn!(subscription = %id, %error, "webhook delivery step failed");
            }
            None => tracing::error!(subscription = %id, "webhook delivery step panicked"),
        }
        self.resting.insert(id, tokio::time::Instant::now() + rest);
    }
}

//! The publisher: a catch-up consumer of the ledger that sends every entry, in position order,
//! to a JetStream stream, and remembers how far it got in the `checkpoints` table.
//!
//! Delivery is at least once and never skips. The checkpoint moves only past entries whose
//! publish JetStream has acknowledged, so a crash, a restart, or a failed publish means sending
//! some entries again; each carries its position as `Nats-Msg-Id`, and JetStream drops a repeat
//! that arrives within the stream's duplicate window. (Later repeats are stored twice: consumers
//! that must be exact keep the last position they handled.)
//!
//! Publishes are pipelined: up to `in_flight` are on the wire at once and their acks are awaited
//! in position order. Pipelining alone could reorder the stream when one publish is lost and the
//! next one is not (a dropped connection, a leader change), so within a step every publish after
//! the first also carries `Nats-Expected-Last-Msg-Id` = the position before it: JetStream refuses
//! an entry whose predecessor is not the last thing it stored, and every later entry of the step
//! fails the same way. The first entry of a step needs no such header: everything up to the
//! checkpoint was acknowledged before the step began. JetStream checks a message id against the
//! duplicate window before it checks the expected last id, so re-sent entries that the stream
//! already holds come back as duplicates, not as refusals. `Nats-Expected-Stream` makes sure no
//! other stream that happens to capture the subject stores the entry instead.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::{PublishAckFuture, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream, Context};
use obliged_storage::{entry_json, Checkpoints, Disclosure, Ledger, LedgerReader};
use tokio::sync::{watch, Mutex};

use crate::error::NatsError;
use crate::settings::{pattern_covers, NatsSettings};

/// The first pause after a failed step; it doubles up to [`MAX_BACKOFF`] while failures repeat.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a step that is under way when shutdown comes may take to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What one step has had acknowledged so far, without a gap.
struct Confirmed {
    up_to: u64,
    /// Entries JetStream already held (re-sent after a restart or a failure).
    duplicates: usize,
}

/// How far the publisher has got.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NatsStatus {
    pub stream: String,
    /// The last position JetStream acknowledged (and every one before it).
    pub checkpoint: u64,
    /// The ledger's last position.
    pub head: u64,
    /// Entries in the ledger not yet acknowledged by JetStream: `head - checkpoint`.
    pub lag: u64,
}

/// Publishes the ledger to one JetStream stream. Run one per deployment: a second publisher on
/// the same database and stream only sends duplicates that JetStream drops, and may set the
/// shared checkpoint back (which costs re-sends, never gaps).
pub struct NatsPublisher {
    settings: NatsSettings,
    checkpoint_name: String,
    jetstream: Context,
    reader: LedgerReader,
    ledger: Arc<Ledger>,
    checkpoints: Checkpoints,
    /// Whether the stream is known to exist and capture our subjects. Cleared when a publish
    /// finds no stream (an operator deleted it), so the next step creates it again.
    stream_ready: AtomicBool,
    /// One step at a time: two overlapping steps would publish the same entries twice and could
    /// move the checkpoint backwards.
    step: Mutex<()>,
}

impl NatsPublisher {
    /// Connects to NATS and opens the stream, creating it if it is missing. Fails on settings
    /// that cannot work, an unreachable server, or an existing stream that would not receive our
    /// subjects, so that a misconfiguration shows at start-up.
    /// Entries come from `reader` (redacted); the checkpoint is kept in `checkpoints`.
    pub async fn connect(
        settings: NatsSettings,
        reader: LedgerReader,
        checkpoints: Checkpoints,
    ) -> Result<Self, NatsError> {
        settings.validate()?;
        let client = async_nats::ConnectOptions::new()
            .name("obliged")
            .connect(settings.url.as_str())
            .await?;
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(settings.request_timeout)
            .build(client);
        let publisher = Self {
            checkpoint_name: settings.checkpoint_name(),
            settings,
            jetstream,
            ledger: reader.ledger().clone(),
            reader,
            checkpoints,
            stream_ready: AtomicBool::new(false),
            step: Mutex::new(()),
        };
        publisher.ensure_stream().await?;
        Ok(publisher)
    }

    pub fn settings(&self) -> &NatsSettings {
        &self.settings
    }

    /// The name under which the checkpoint is stored (`nats:<stream>`).
    pub fn checkpoint_name(&self) -> &str {
        &self.checkpoint_name
    }

    /// The checkpoint, the ledger head, and the difference.
    pub async fn status(&self) -> Result<NatsStatus, NatsError> {
        // Checkpoint first: the head only grows, so the lag read this way is never negative.
        let checkpoint = self.checkpoint().await?;
        let head = self.ledger.head_position().await?;
        Ok(NatsStatus {
            stream: self.settings.stream.clone(),
            checkpoint,
            head,
            lag: head.saturating_sub(checkpoint),
        })
    }

    /// Publishes up to `limit` entries after the checkpoint, awaits their acks in order, and
    /// stores the checkpoint at the last entry acknowledged without a gap before it. Returns by
    /// how many entries the checkpoint moved (re-sent entries JetStream already had count too);
    /// on an error, whatever was acknowledged before the failure is still checkpointed.
    pub async fn tick(&self, limit: usize) -> Result<usize, NatsError> {
        let _step = self.step.lock().await;
        self.ensure_stream().await?;
        let checkpoint = self.checkpoint().await?;
        let entries = self.ledger.entries_after(checkpoint, limit).await?;
        if entries.is_empty() {
            return Ok(0);
        }

        let mut opener = self.reader.opener(Disclosure::Redacted);
        let mut in_flight: VecDeque<(u64, PublishAckFuture)> = VecDeque::new();
        let mut confirmed = Confirmed {
            up_to: checkpoint,
            duplicates: 0,
        };
        let mut failure = None;
        // Set when an ack failed: nothing still in flight can count after that.
        let mut ack_failed = false;
        for (offset, entry) in entries.iter().enumerate() {
            let position = entry.position;
            let expected = checkpoint + 1 + offset as u64;
            if position != expected {
                // `entries_after` leaves out an entry whose event row is missing; stepping over
                // it would lose it for every consumer, so stop before it.
                failure = Some(NatsError::LedgerGap {
                    expected,
                    found: position,
                });
                break;
            }
            if in_flight.len() >= self.settings.in_flight {
                let (position, ack) = in_flight.pop_front().expect("the window is not empty");
                if let Err(error) = self.confirm(&mut confirmed, position, ack).await {
                    failure = Some(error);
                    ack_failed = true;
                    break;
                }
            }
            let Some(subject) = self
                .settings
                .subject(&entry.complaint_id, &entry.event_type)
            else {
                failure = Some(NatsError::Unpublishable {
                    position,
                    reason: format!(
                        "complaint {:?} and event type {:?} do not make a subject",
                        entry.complaint_id, entry.event_type
                    ),
                });
                break;
            };
            let body = match entry_json(entry, &mut opener).await {
                Ok(body) => body.to_string().into_bytes(),
                Err(error) => {
                    failure = Some(NatsError::unpublishable(position, error));
                    break;
                }
            };
            let mut message = PublishMessage::build()
                .payload(body.into())
                .message_id(position.to_string())
                .expected_stream(&self.settings.stream);
            if offset > 0 {
                message = message.expected_last_message_id((position - 1).to_string());
            }
            match self.jetstream.send_publish(subject, message).await {
                Ok(ack) => in_flight.push_back((position, ack)),
                Err(source) => {
                    failure = Some(self.publish_failed(position, source));
                    break;
                }
            }
        }
        // The remaining acks, in position order, up to the first that fails: an entry counts
        // only when every entry before it made it too. What is still in flight after a failed
        // ack is left to the client; the chained expected-last-id makes it refusals or
        // duplicates anyway. A failure before sending (a gap, a body that cannot be rendered)
        // comes after everything in flight, so those acks are still collected.
        if !ack_failed {
            while let Some((position, ack)) = in_flight.pop_front() {
                if let Err(error) = self.confirm(&mut confirmed, position, ack).await {
                    // Earlier in position order than any failure before sending.
                    failure = Some(error);
                    break;
                }
            }
        }

        if confirmed.up_to > checkpoint {
            self.checkpoints
                .set(&self.checkpoint_name, confirmed.up_to)
                .await
                .map_err(|source| NatsError::Checkpoint {
                    name: self.checkpoint_name.clone(),
                    source,
                })?;
            tracing::debug!(
                stream = %self.settings.stream,
                from = checkpoint + 1,
                to = confirmed.up_to,
                duplicates = confirmed.duplicates,
                "published ledger entries to JetStream"
            );
        }
        match failure {
            Some(error) => Err(error),
            None => Ok((confirmed.up_to - checkpoint) as usize),
        }
    }

    /// Publishes until caught up, then waits for the ledger head to move (or the poll interval,
    /// for commands run by other processes) and does it again, until `shutdown` turns true or
    /// its sender goes away. Failures are logged and retried with a growing pause; it never
    /// gives up on its own.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut head = self.ledger.subscribe();
        let mut backoff = FIRST_BACKOFF;
        tracing::info!(stream = %self.settings.stream, "publishing the ledger to NATS JetStream");
        loop {
            if *shutdown.borrow_and_update() {
                break;
            }
            // Seen before reading, so that a head that moves during the step wakes the wait.
            head.borrow_and_update();
            let step = self.tick(self.settings.batch);
            tokio::pin!(step);
            let outcome = loop {
                tokio::select! {
                    outcome = &mut step => break Some(outcome),
                    changed = shutdown.changed() => {
                        if changed.is_err() || *shutdown.borrow_and_update() {
                            // Let the step store the checkpoint of what JetStream already
                            // acknowledged, but do not hold the shutdown up on a stuck server:
                            // a step cut short only means sending its entries again next time.
                            let _ = tokio::time::timeout(SHUTDOWN_GRACE, &mut step).await;
                            break None;
                        }
                    }
                }
            };
            let Some(outcome) = outcome else {
                break;
            };
            let (pause, wake_on_new_entries) = match outcome {
                Ok(published) => {
                    backoff = FIRST_BACKOFF;
                    if published >= self.settings.batch {
                        // A full step: there is probably more right behind it.
                        continue;
                    }
                    (self.settings.poll_interval, true)
                }
                Err(error) => {
                    tracing::warn!(
                        %error,
                        stream = %self.settings.stream,
                        retry_in_ms = backoff.as_millis() as u64,
                        "publishing to NATS JetStream failed; retrying"
                    );
                    let pause = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    // After a failure only the pause ends the wait: new entries must not turn
                    // the backoff into a tight retry loop.
                    (pause, false)
                }
            };
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                changed = head.changed(), if wake_on_new_entries => {
                    if changed.is_err() {
                        // Cannot happen while we hold the ledger; never spin if it does.
                        tokio::time::sleep(pause).await;
                    }
                }
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(stream = %self.settings.stream, "stopped publishing to NATS JetStream");
    }

    async fn checkpoint(&self) -> Result<u64, NatsError> {
        self.checkpoints
            .get(&self.checkpoint_name)
            .await
            .map_err(|source| NatsError::Checkpoint {
                name: self.checkpoint_name.clone(),
                source,
            })
    }

    /// Opens the stream, creating it with our subjects and duplicate window if it is missing.
    /// An existing stream's configuration belongs to whoever made it; it is checked, not changed.
    async fn ensure_stream(&self) -> Result<(), NatsError> {
        if self.stream_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let stream = self
            .jetstream
            .get_or_create_stream(stream::Config {
                name: self.settings.stream.clone(),
                subjects: vec![self.settings.stream_subjects()],
                duplicate_window: self.settings.duplicate_window,
                ..Default::default()
            })
            .await
            .map_err(|source| NatsError::Stream {
                stream: self.settings.stream.clone(),
                source,
            })?;
        let config = &stream.cached_info().config;
        if !config
            .subjects
            .iter()
            .any(|pattern| pattern_covers(pattern, &self.settings.subject_prefix))
        {
            return Err(NatsError::StreamSubjects {
                stream: self.settings.stream.clone(),
                subjects: config.subjects.clone(),
                expected: self.settings.stream_subjects(),
            });
        }
        if config.duplicate_window < self.settings.duplicate_window {
            tracing::warn!(
                stream = %self.settings.stream,
                configured_ms = config.duplicate_window.as_millis() as u64,
                wanted_ms = self.settings.duplicate_window.as_millis() as u64,
                "the existing stream's duplicate window is shorter than configured: entries \
                 re-sent after a restart may be stored twice"
            );
        }
        self.stream_ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Waits for the ack of `position`, the entry after `confirmed.up_to`.
    async fn confirm(
        &self,
        confirmed: &mut Confirmed,
        position: u64,
        ack: PublishAckFuture,
    ) -> Result<(), NatsError> {
        match ack.await {
            Ok(ack) => {
                confirmed.up_to = position;
                confirmed.duplicates += usize::from(ack.duplicate);
                Ok(())
            }
            Err(source) => Err(self.publish_failed(position, source)),
        }
    }

    fn publish_failed(
        &self,
        position: u64,
        source: async_nats::jetstream::context::PublishError,
    ) -> NatsError {
        if source.kind() == PublishErrorKind::StreamNotFound {
            self.stream_ready.store(false, Ordering::Release);
        }
        NatsError::Publish { position, source }
    }
}

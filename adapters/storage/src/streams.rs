//! The live event streams of one process, served from one reader of the ledger.
//!
//! Every open stream used to poll the ledger itself, once a second and on every wake-up: a
//! thousand idle streams were a thousand queries a second, and a burst of new streams starved
//! the pool for everyone. Now one task per process ([`Streams`]) reads each new entry once and
//! fans it out on a broadcast channel; an idle stream costs a parked task and a socket. A
//! stream reads the ledger itself only to catch up (from its `Last-Event-ID`, or over a gap
//! when it fell behind the channel), then follows the channel.
//!
//! The same task ends streams whose token is revoked: every half second, and before it
//! publishes new entries, it asks the database which of the open streams' tokens are no longer
//! active, so a revocation made by any instance ends every stream of that token on every
//! instance within a second, and no entry sequenced after the revocation reaches them from the
//! channel.
//!
//! Streams are capped per token and in total; past a cap a request is refused at once (429 for
//! a token's own cap, 503 when the process is full), with `Retry-After`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::{LedgerEntry, LedgerReader, Tokens};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// How often the revocation of open streams' tokens is checked, and how often the reader looks
/// at the ledger when nothing woke it.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// Entries the channel holds for a slow stream before it must catch up from the ledger.
const CHANNEL_CAPACITY: usize = 1_024;
/// Entries the reader takes from the ledger at a time.
const READ_BATCH: usize = 500;

/// How many streams may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Per token: one integration cannot take every stream of the process.
    pub per_token: usize,
    /// In this process.
    pub total: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            per_token: 16,
            total: 2_000,
        }
    }
}

/// Why a stream could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRefusal {
    /// The token already holds its limit of open streams.
    TokenFull { limit: usize },
    /// The process holds its limit of open streams.
    ProcessFull { limit: usize },
}

/// The streams of one process. Cheap to clone.
#[derive(Clone)]
pub struct Streams(Arc<Hub>);

struct Hub {
    reader: LedgerReader,
    tokens: Tokens,
    limits: StreamLimits,
    entries: broadcast::Sender<Arc<LedgerEntry>>,
    /// The last position sent on `entries` (everything after it will be), or `None` while the
    /// reader is not publishing. A stream that caught up to this position can follow the
    /// channel without missing anything.
    published: watch::Sender<Option<u64>>,
    revoked: watch::Sender<Arc<HashSet<Uuid>>>,
    /// The last position sequenced before a revocation check that completed: an entry up to
    /// here may go to any stream whose token is not in `revoked`. A stream catching up from the
    /// ledger delivers nothing past it (nor past what it knew when it opened), so an entry
    /// sequenced after a revocation never reaches the revoked token's streams.
    vetted: watch::Sender<u64>,
    /// Open streams per token.
    open: Mutex<HashMap<Uuid, usize>>,
    started: OnceLock<()>,
}

/// A place among the open streams; dropping it (the stream ended) frees the place.
pub struct StreamTicket {
    hub: Arc<Hub>,
    token: Uuid,
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().expect("the open-streams lock");
        if let Some(count) = open.get_mut(&self.token) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.token);
            }
        }
    }
}

impl Streams {
    pub fn new(reader: LedgerReader, tokens: Tokens, limits: StreamLimits) -> Self {
        Self(Arc::new(Hub {
            reader,
            tokens,
            limits,
            entries: broadcast::channel(CHANNEL_CAPACITY).0,
            published: watch::Sender::new(None),
            revoked: watch::Sender::new(Arc::new(HashSet::new())),
            vetted: watch::Sender::new(0),
            open: Mutex::new(HashMap::new()),
            started: OnceLock::new(),
        }))
    }

    /// Takes a place for a stream of `token`, starting the process's reader on first use (it
    /// stops when `shutdown` turns true).
    pub fn open(
        &self,
        token: Uuid,
        shutdown: &watch::Sender<bool>,
    ) -> Result<StreamTicket, StreamRefusal> {
        {
            let mut open = self.0.open.lock().expect("the open-streams lock");
            let total: usize = open.values().sum();
            if total >= self.0.limits.total {
                return Err(StreamRefusal::ProcessFull {
                    limit: self.0.limits.total,
                });
            }
            let count = open.entry(token).or_insert(0);
            if *count >= self.0.limits.per_token {
                return Err(StreamRefusal::TokenFull {
                    limit: self.0.limits.per_token,
                });
            }
            *count += 1;
        }
        self.0.started.get_or_init(|| {
            tokio::spawn(run(self.0.clone(), shutdown.subscribe()));
        });
        Ok(StreamTicket {
            hub: self.0.clone(),
            token,
        })
    }

    /// New ledger entries from now on, for a consumer that vets its readers itself (the web
    /// console's live pages, which send no entry but re-read what their session may see).
    /// Starts the process's reader on first use, like [`Streams::open`]; takes no place among
    /// the streams.
    pub fn follow(&self, shutdown: &watch::Sender<bool>) -> broadcast::Receiver<Arc<LedgerEntry>> {
        let receiver = self.0.entries.subscribe();
        self.0.started.get_or_init(|| {
            tokio::spawn(run(self.0.clone(), shutdown.subscribe()));
        });
        receiver
    }

    /// New ledger entries as the reader publishes them.
    pub fn entries(&self) -> broadcast::Receiver<Arc<LedgerEntry>> {
        self.0.entries.subscribe()
    }

    /// The last position published on the channel (see `Hub::published`).
    pub fn published(&self) -> watch::Receiver<Option<u64>> {
        self.0.published.subscribe()
    }

    /// How far entries are vetted against revocations (see `Hub::vetted`).
    pub fn vetted(&self) -> watch::Receiver<u64> {
        self.0.vetted.subscribe()
    }

    /// The tokens of open streams found revoked.
    pub fn revoked(&self) -> watch::Receiver<Arc<HashSet<Uuid>>> {
        self.0.revoked.subscribe()
    }
}

/// The process's reader: publishes every new entry once, and checks revocations.
async fn run(hub: Arc<Hub>, mut shutdown: watch::Receiver<bool>) {
    let mut head = hub.reader.ledger().subscribe();
    let mut published: Option<u64> = None;
    let mut ticker = tokio::time::interval(CHECK_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Revocations are checked at most once per interval, however often the ledger moves.
    let mut last_check: Option<tokio::time::Instant> = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(error) = publish(&hub, &mut published).await {
            tracing::warn!(%error, "reading the ledger for the event streams");
        }
        if last_check.is_none_or(|at| at.elapsed() >= CHECK_INTERVAL) {
            last_check = Some(tokio::time::Instant::now());
            match hub.reader.ledger().head_position().await {
                Ok(head) => {
                    if check_revocations(&hub).await {
                        hub.vetted.send_if_modified(|vetted| raise(vetted, head));
                    }
                }
                Err(error) => tracing::warn!(%error, "reading the ledger head for the streams"),
            }
        }
        tokio::select! {
            _ = head.changed() => {}
            _ = ticker.tick() => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Publishes the entries after the last one published. The first call starts at the head:
/// streams catch up from the ledger themselves.
async fn publish(hub: &Hub, published: &mut Option<u64>) -> Result<(), String> {
    if hub.entries.receiver_count() == 0 {
        // Nobody follows: nothing to read. A stream that opens later catches up by itself and
        // waits until publishing starts again before it follows the channel.
        *published = None;
        hub.published.send_replace(None);
        return Ok(());
    }
    let ledger = hub.reader.ledger();
    let after = match *published {
        Some(after) => after,
        None => {
            let head = ledger
                .head_position()
                .await
                .map_err(|error| error.to_string())?;
            *published = Some(head);
            hub.published.send_replace(Some(head));
            head
        }
    };
    let mut after = after;
    loop {
        let entries = hub
            .reader
            .entries_after(after, READ_BATCH)
            .await
            .map_err(|error| error.to_string())?;
        let Some(last) = entries.last() else {
            return Ok(());
        };
        let last_position = last.position;
        // Revocations first: a stream whose token was revoked before these entries were
        // sequenced learns it before it can receive them.
        if !check_revocations(hub).await {
            // Unchecked entries are not published; the next round tries again.
            return Err("the revocation check failed".to_owned());
        }
        hub.vetted
            .send_if_modified(|vetted| raise(vetted, last_position));
        for entry in entries {
            // No receiver is fine: nobody is streaming right now.
            let _ = hub.entries.send(Arc::new(entry));
        }
        after = last_position;
        *published = Some(after);
        hub.published.send_replace(Some(after));
    }
}

/// Moves `vetted` up to `to`; whether it moved.
fn raise(vetted: &mut u64, to: u64) -> bool {
    if to > *vetted {
        *vetted = to;
        true
    } else {
        false
    }
}

/// Marks the tokens of open streams that are no longer active; whether the check completed.
async fn check_revocations(hub: &Hub) -> bool {
    let tokens: Vec<Uuid> = {
        let open = hub.open.lock().expect("the open-streams lock");
        open.keys().copied().collect()
    };
    let known = hub.revoked.borrow().clone();
    let unknown: Vec<Uuid> = tokens
        .into_iter()
        .filter(|token| !known.contains(token))
        .collect();
    match hub.tokens.revoked_among(&unknown).await {
        Ok(revoked) => {
            if !revoked.is_empty() {
                hub.revoked.send_modify(|set| {
                    let mut grown = (**set).clone();
                    grown.extend(revoked);
                    *set = Arc::new(grown);
                });
            }
            true
        }
        Err(error) => {
            tracing::warn!(%error, "checking the tokens of open streams");
            false
        }
    }
}

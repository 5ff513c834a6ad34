//! The ledger: every committed event, once, at a dense position 1, 2, 3, … in global commit
//! order, each entry hashing the previous entry's hash, its position and the stored bytes of its
//! event. Auditors verify the chain; integrations resume from positions.
//!
//! One sequencer at a time appends to it (an advisory lock on PostgreSQL, an immediate
//! transaction on SQLite), reading events in global order: on PostgreSQL behind the xid8 fence
//! (only transactions older than the oldest one still running), on SQLite by the number the
//! append transaction assigned. Personal data stays sealed in the hashed bytes, so destroying a
//! key never breaks the chain.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use obliged_domain::Clock;
use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::sync::{watch, Mutex};

use crate::database::Database;
use crate::with_pool;

/// The advisory lock key of the sequencer ("obliged" in ASCII).
const SEQUENCER_LOCK: i64 = 0x006f_626c_6967_6564;
/// The hash that precedes position 1.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// How many events one sequencer step takes at most.
pub const SEQUENCE_BATCH: usize = 2_000;
/// How many of the positions this process sequenced last it remembers for commands waiting on
/// them (a few steps' worth).
const RECENT_POSITIONS: usize = 16_384;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// One ledger entry with the stored bytes of its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub position: u64,
    pub complaint_id: String,
    pub sequence: u64,
    pub event_type: String,
    pub event_version: String,
    /// The event payload exactly as stored (JSON text).
    pub payload: String,
    /// The event metadata exactly as stored (JSON text).
    pub metadata: String,
    pub hash: String,
}

/// The result of recomputing the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every entry from 1 to `entries` is present and hashes correctly; `head` is the last hash.
    Verified {
        entries: u64,
        head: String,
        unsequenced: u64,
    },
    /// The first position at which the chain does not hold, and why.
    Broken { position: u64, problem: String },
}

/// The hash of one entry: length-prefixed fields so that no two inputs collide by concatenation.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    previous: &str,
    position: u64,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: u64,
    event_type: &str,
    event_version: &str,
    payload: &str,
    metadata: &str,
) -> String {
    let mut hasher = Sha256::new();
    let position = position.to_string();
    let sequence = sequence.to_string();
    for field in [
        previous,
        &position,
        aggregate_type,
        aggregate_id,
        &sequence,
        event_type,
        event_version,
        payload,
        metadata,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An event read in global order, not yet in the ledger.
struct Pending {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    source_tx: i64,
    source_seq: i64,
}

fn pending(row: &impl SqlRow) -> Pending {
    Pending {
        aggregate_type: row.text(0),
        aggregate_id: row.text(1),
        sequence: row.int(2),
        event_type: row.text(3),
        event_version: row.text(4),
        payload: row.text(5),
        metadata: row.text(6),
        source_tx: row.int(7),
        source_seq: row.int(8),
    }
}

/// Reading columns the same way from either database's rows.
trait SqlRow {
    fn text(&self, index: usize) -> String;
    fn int(&self, index: usize) -> i64;
}

impl SqlRow for sqlx::sqlite::SqliteRow {
    fn text(&self, index: usize) -> String {
        self.get(index)
    }
    fn int(&self, index: usize) -> i64 {
        self.get(index)
    }
}

impl SqlRow for sqlx::postgres::PgRow {
    fn text(&self, index: usize) -> String {
        self.get(index)
    }
    fn int(&self, index: usize) -> i64 {
        self.get(index)
    }
}

/// The ledger of one database. Share one per process.
pub struct Ledger {
    database: Database,
    /// When each step happened (`sequenced_at`): the same clock as the commands'.
    clock: Arc<dyn Clock>,
    /// Serializes this process's sequencer steps; other processes are kept out by the database.
    sequencer: Mutex<()>,
    head: watch::Sender<u64>,
    /// Counts this process's committed appends: a command waiting for its position behind an
    /// older append still in flight looks again as soon as that one commits.
    appended: watch::Sender<u64>,
    /// The positions this process's sequencer gave most recently, so that a command waiting for
    /// its event's position learns it without a query (and without holding the sequencer).
    recent: std::sync::Mutex<Recent>,
}

/// A bounded map from (complaint, sequence) to ledger position, oldest forgotten first.
#[derive(Default)]
struct Recent {
    positions: HashMap<(String, i64), u64>,
    order: VecDeque<(String, i64)>,
}

impl Recent {
    fn record(&mut self, complaint_id: &str, sequence: i64, position: u64) {
        let key = (complaint_id.to_owned(), sequence);
        if self.positions.insert(key.clone(), position).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > RECENT_POSITIONS {
            if let Some(oldest) = self.order.pop_front() {
                self.positions.remove(&oldest);
            }
        }
    }
}

const HEAD: &str =
    "SELECT position, hash, source_tx, source_seq FROM ledger ORDER BY position DESC LIMIT 1";
const INSERT: &str = "INSERT INTO ledger (position, aggregate_type, aggregate_id, sequence, \
     source_tx, source_seq, hash, sequenced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
// The batch in one statement (arrays, unnested server-side), with the step's one NOTIFY.
const PG_INSERT_MANY: &str = "WITH appended AS (INSERT INTO ledger (position, aggregate_type, \
     aggregate_id, sequence, source_tx, source_seq, hash, sequenced_at) \
     SELECT position, aggregate_type, aggregate_id, sequence, source_tx, source_seq, hash, $8 \
     FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], \
     $7::text[]) AS batch(position, aggregate_type, aggregate_id, sequence, source_tx, \
     source_seq, hash)) SELECT pg_notify($9, '')";
// The output columns are renamed so that ORDER BY reads the indexed xid8 column, not the cast
// (which would make PostgreSQL sort the whole table).
const PG_PENDING: &str = "SELECT aggregate_type, aggregate_id, sequence, event_type, \
     event_version, payload::text, metadata::text, tx_id::text::bigint AS source_tx, \
     seq AS source_seq FROM events \
     WHERE (tx_id, seq) > ($1::text::xid8, $2) \
       AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
     ORDER BY events.tx_id, events.seq LIMIT $3";
const SQLITE_PENDING: &str = "SELECT aggregate_type, aggregate_id, sequence, event_type, \
     event_version, payload, metadata, 0, global_seq FROM events \
     WHERE global_seq > $1 ORDER BY global_seq LIMIT $2";

impl Ledger {
    pub fn new(database: Database, clock: Arc<dyn Clock>) -> Self {
        Self {
            database,
            clock,
            sequencer: Mutex::new(()),
            head: watch::Sender::new(0),
            appended: watch::Sender::new(0),
            recent: std::sync::Mutex::new(Recent::default()),
        }
    }

    /// The database this ledger lives in.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Follows the ledger's head position as this process learns of it.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Reads the head from the database and tells subscribers if it moved (another process may
    /// have sequenced).
    pub async fn refresh_head(&self) -> Result<u64, LedgerError> {
        let head = self.head_position().await?;
        self.publish_head(head);
        Ok(head)
    }

    fn publish_head(&self, head: u64) {
        self.head.send_if_modified(|known| {
            if head > *known {
                *known = head;
                true
            } else {
                false
            }
        });
    }

    pub async fn head_position(&self) -> Result<u64, LedgerError> {
        let position: Option<i64> = with_pool!(&self.database, pool => {
            sqlx::query_scalar("SELECT max(position) FROM ledger")
                .fetch_one(pool)
                .await?
        });
        Ok(position.unwrap_or(0) as u64)
    }

    /// Appends up to `limit` events that are committed but not yet in the ledger. Returns how
    /// many it appended.
    pub async fn sequence(&self, limit: usize) -> Result<usize, LedgerError> {
        let _guard = self.sequencer.lock().await;
        self.sequence_locked(limit).await
    }

    async fn sequence_locked(&self, limit: usize) -> Result<usize, LedgerError> {
        let sequenced_at = self.clock.now().to_string();
        let step = match &self.database {
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // The step's commit does not wait for its WAL flush: a step reads only durable
                // events in a fixed order, so one lost in a crash is redone with the same
                // positions and hashes, and any durable commit after it (a checkpoint, the next
                // append) flushes it first. ARCHITECTURE.md, Decisions.
                sqlx::query(
                    "SELECT pg_advisory_xact_lock($1), \
                     set_config('synchronous_commit', 'off', true)",
                )
                .bind(SEQUENCER_LOCK)
                .execute(&mut *tx)
                .await?;
                let head: Option<(i64, String, i64, i64)> =
                    sqlx::query_as(HEAD).fetch_optional(&mut *tx).await?;
                let (position, hash, source_tx, source_seq) =
                    head.unwrap_or((0, GENESIS_HASH.to_owned(), 0, 0));
                let rows = sqlx::query(PG_PENDING)
                    .bind(source_tx.to_string())
                    .bind(source_seq)
                    .bind(limit as i64)
                    .fetch_all(&mut *tx)
                    .await?;
                let step = Step::after(position, &hash, &rows);
                if !step.events.is_empty() {
                    let events = &step.events;
                    sqlx::query(PG_INSERT_MANY)
                        .bind(
                            step.chained
                                .iter()
                                .map(|(position, _)| *position)
                                .collect::<Vec<_>>(),
                        )
                        .bind(column(events, |event| event.aggregate_type.clone()))
                        .bind(column(events, |event| event.aggregate_id.clone()))
                        .bind(column(events, |event| event.sequence))
                        .bind(column(events, |event| event.source_tx))
                        .bind(column(events, |event| event.source_seq))
                        .bind(
                            step.chained
                                .iter()
                                .map(|(_, hash)| hash.clone())
                                .collect::<Vec<_>>(),
                        )
                        .bind(&sequenced_at)
                        .bind(crate::notifications::LEDGER_CHANNEL)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                step
            }
            Database::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let head: Option<(i64, String, i64, i64)> =
                    sqlx::query_as(HEAD).fetch_optional(&mut *tx).await?;
                let (position, hash, _, source_seq) =
                    head.unwrap_or((0, GENESIS_HASH.to_owned(), 0, 0));
                let rows = sqlx::query(SQLITE_PENDING)
                    .bind(source_seq)
                    .bind(limit as i64)
                    .fetch_all(&mut *tx)
                    .await?;
                let step = Step::after(position, &hash, &rows);
                // SQLite runs in-process: one prepared statement per row costs little.
                for (event, (position, hash)) in step.events.iter().zip(&step.chained) {
                    sqlx::query(INSERT)
                        .bind(position)
                        .bind(&event.aggregate_type)
                        .bind(&event.aggregate_id)
                        .bind(event.sequence)
                        .bind(event.source_tx)
                        .bind(event.source_seq)
                        .bind(hash)
                        .bind(&sequenced_at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                step
            }
        };
        self.remember(&step.events, &step.chained);
        if !step.events.is_empty() {
            self.publish_head(step.next as u64);
        }
        Ok(step.events.len())
    }

    /// Tells commands waiting in [`Ledger::ensure_sequenced`] that an append of this process
    /// committed, so that what it held back behind the fence may be sequenced now.
    pub fn note_appended(&self) {
        self.appended
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Notes the positions of a committed step's entries for [`Ledger::ensure_sequenced`].
    fn remember(&self, events: &[Pending], chained: &[(i64, String)]) {
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (event, (position, _)) in events.iter().zip(chained) {
            recent.record(&event.aggregate_id, event.sequence, *position as u64);
        }
    }

    /// The position of an event this process sequenced recently.
    fn recently_sequenced(&self, complaint_id: &str, sequence: u64) -> Option<u64> {
        let recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        recent
            .positions
            .get(&(complaint_id.to_owned(), sequence as i64))
            .copied()
    }

    /// The ledger position of a complaint's event, sequencing whatever is pending until it is
    /// there. `None` if it is not there after a bounded number of steps (for example while an
    /// older transaction on PostgreSQL is still open and holds the fence back).
    pub async fn ensure_sequenced(
        &self,
        complaint_id: &str,
        sequence: u64,
    ) -> Result<Option<u64>, LedgerError> {
        let mut head = self.subscribe();
        let mut appended = self.appended.subscribe();
        for _ in 0..200 {
            if let Some(position) = self.recently_sequenced(complaint_id, sequence) {
                return Ok(Some(position));
            }
            {
                let _guard = self.sequencer.lock().await;
                // Whoever held the sequencer before may have sequenced this event.
                if let Some(position) = self.recently_sequenced(complaint_id, sequence) {
                    return Ok(Some(position));
                }
                let stepped = self.sequence_locked(SEQUENCE_BATCH).await?;
                if let Some(position) = self.recently_sequenced(complaint_id, sequence) {
                    return Ok(Some(position));
                }
                // Not in this step: another process may have sequenced the event (or it is
                // still behind an older transaction).
                if let Some(position) = self.position_of(complaint_id, sequence).await? {
                    return Ok(Some(position));
                }
                if stepped > 0 {
                    continue;
                }
            }
            // Nothing could be sequenced: an older append is still in flight. Wait for the head
            // to move, for an append of this process to commit, or a moment for an append of
            // another process to.
            tokio::select! {
                _ = head.changed() => {}
                _ = appended.changed() => {}
                () = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
            }
        }
        Ok(None)
    }

    pub async fn position_of(
        &self,
        complaint_id: &str,
        sequence: u64,
    ) -> Result<Option<u64>, LedgerError> {
        const QUERY: &str = "SELECT position FROM ledger \
             WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 AND sequence = $2";
        let position: Option<i64> = with_pool!(&self.database, pool => {
            sqlx::query_scalar(QUERY)
                .bind(complaint_id)
                .bind(sequence as i64)
                .fetch_optional(pool)
                .await?
        });
        Ok(position.map(|position| position as u64))
    }

    /// The ledger entries of one complaint's events, in sequence order: `(sequence, position,
    /// hash)`. Events not yet sequenced have no entry.
    pub async fn entries_of(
        &self,
        complaint_id: &str,
    ) -> Result<Vec<(u64, u64, String)>, LedgerError> {
        const QUERY: &str = "SELECT sequence, position, hash FROM ledger \
             WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 ORDER BY sequence";
        let rows: Vec<(i64, i64, String)> = with_pool!(&self.database, pool => {
            sqlx::query_as(QUERY)
                .bind(complaint_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(sequence, position, hash)| (sequence as u64, position as u64, hash))
            .collect())
    }

    /// Up to `limit` entries after position `after`, in order, with their events' stored bytes.
    pub async fn entries_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        let rows = self.joined_after(after, limit).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(LedgerEntry {
                    position: row.position,
                    complaint_id: row.aggregate_id,
                    sequence: row.sequence,
                    event_type: row.event_type?,
                    event_version: row.event_version?,
                    payload: row.payload?,
                    metadata: row.metadata?,
                    hash: row.hash,
                })
            })
            .collect())
    }

    async fn joined_after(&self, after: u64, limit: usize) -> Result<Vec<Joined>, LedgerError> {
        const SQLITE: &str = "SELECT l.position, l.aggregate_type, l.aggregate_id, l.sequence, \
             l.hash, e.event_type, e.event_version, e.payload, e.metadata \
             FROM ledger l LEFT JOIN events e ON e.aggregate_type = l.aggregate_type \
             AND e.aggregate_id = l.aggregate_id AND e.sequence = l.sequence \
             WHERE l.position > $1 ORDER BY l.position LIMIT $2";
        const POSTGRES: &str = "SELECT l.position, l.aggregate_type, l.aggregate_id, l.sequence, \
             l.hash, e.event_type, e.event_version, e.payload::text, e.metadata::text \
             FROM ledger l LEFT JOIN events e ON e.aggregate_type = l.aggregate_type \
             AND e.aggregate_id = l.aggregate_id AND e.sequence = l.sequence \
             WHERE l.position > $1 ORDER BY l.position LIMIT $2";
        type Row = (
            i64,
            String,
            String,
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let query = match &self.database {
            Database::Sqlite(_) => SQLITE,
            Database::Postgres(_) => POSTGRES,
        };
        let rows: Vec<Row> = with_pool!(&self.database, pool => {
            sqlx::query_as(query)
                .bind(after as i64)
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(
                    position,
                    aggregate_type,
                    aggregate_id,
                    sequence,
                    hash,
                    ty,
                    version,
                    payload,
                    metadata,
                )| {
                    Joined {
                        position: position as u64,
                        aggregate_type,
                        aggregate_id,
                        sequence: sequence as u64,
                        hash,
                        event_type: ty,
                        event_version: version,
                        payload,
                        metadata,
                    }
                },
            )
            .collect())
    }

    /// Recomputes the whole chain from position 1 and reports the first position where it does
    /// not hold: a missing entry, a missing event, or bytes that no longer hash as recorded.
    pub async fn verify(&self) -> Result<Verification, LedgerError> {
        const CHUNK: usize = 5_000;
        let mut previous = GENESIS_HASH.to_owned();
        let mut expected = 1u64;
        loop {
            let rows = self.joined_after(expected - 1, CHUNK).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if row.position != expected {
                    return Ok(Verification::Broken {
                        position: expected,
                        problem: format!(
                            "ledger entry {expected} is missing (next entry is {})",
                            row.position
                        ),
                    });
                }
                let (Some(event_type), Some(event_version), Some(payload), Some(metadata)) = (
                    &row.event_type,
                    &row.event_version,
                    &row.payload,
                    &row.metadata,
                ) else {
                    return Ok(Verification::Broken {
                        position: expected,
                        problem: format!(
                            "event {} #{} of entry {expected} is missing from the events table",
                            row.aggregate_id, row.sequence
                        ),
                    });
                };
                let hash = entry_hash(
                    &previous,
                    row.position,
                    &row.aggregate_type,
                    &row.aggregate_id,
                    row.sequence,
                    event_type,
                    event_version,
                    payload,
                    metadata,
                );
                if hash != row.hash {
                    return Ok(Verification::Broken {
                        position: expected,
                        problem: format!(
                            "entry {expected} does not hash as recorded: its event {} #{} or the \
                             entry itself was altered",
                            row.aggregate_id, row.sequence
                        ),
                    });
                }
                previous = hash;
                expected += 1;
            }
        }
        let entries = expected - 1;
        let total_events: i64 = with_pool!(&self.database, pool => {
            sqlx::query_scalar("SELECT count(*) FROM events")
                .fetch_one(pool)
                .await?
        });
        Ok(Verification::Verified {
            entries,
            head: previous,
            unsequenced: (total_events as u64).saturating_sub(entries),
        })
    }
}

struct Joined {
    position: u64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: u64,
    hash: String,
    event_type: Option<String>,
    event_version: Option<String>,
    payload: Option<String>,
    metadata: Option<String>,
}

/// One sequencing step: the pending events it read after the head, in order, and the entries
/// they become.
struct Step {
    events: Vec<Pending>,
    /// The position and hash of each event's entry.
    chained: Vec<(i64, String)>,
    /// The head position once the step is committed.
    next: i64,
}

impl Step {
    /// The pending events of `rows` chained after the head entry at `position` with `hash`.
    fn after(position: i64, hash: &str, rows: &[impl SqlRow]) -> Self {
        let events: Vec<Pending> = rows.iter().map(pending).collect();
        let chained = chain(hash, position, &events);
        let next = position + events.len() as i64;
        Self {
            events,
            chained,
            next,
        }
    }
}

/// One field of every event, as an array to unnest server-side.
fn column<T>(events: &[Pending], field: impl Fn(&Pending) -> T) -> Vec<T> {
    events.iter().map(field).collect()
}

/// Positions and hashes for `events` appended after `position` whose hash is `previous`.
fn chain(previous: &str, position: i64, events: &[Pending]) -> Vec<(i64, String)> {
    let mut previous = previous.to_owned();
    events
        .iter()
        .zip(position + 1..)
        .map(|(event, position)| {
            previous = hash_of(&previous, position, event);
            (position, previous.clone())
        })
        .collect()
}

fn hash_of(previous: &str, position: i64, event: &Pending) -> String {
    entry_hash(
        previous,
        position as u64,
        &event.aggregate_type,
        &event.aggregate_id,
        event.sequence as u64,
        &event.event_type,
        &event.event_version,
        &event.payload,
        &event.metadata,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_every_field_and_the_previous_hash() {
        let genesis = GENESIS_HASH;
        let base = entry_hash(genesis, 1, "Complaint", "a", 1, "T", "1.0", "{}", "{}");
        assert_eq!(base.len(), 64);
        let variants = [
            entry_hash("x", 1, "Complaint", "a", 1, "T", "1.0", "{}", "{}"),
            entry_hash(genesis, 2, "Complaint", "a", 1, "T", "1.0", "{}", "{}"),
            entry_hash(genesis, 1, "Complaint", "b", 1, "T", "1.0", "{}", "{}"),
            entry_hash(genesis, 1, "Complaint", "a", 2, "T", "1.0", "{}", "{}"),
            entry_hash(genesis, 1, "Complaint", "a", 1, "U", "1.0", "{}", "{}"),
            entry_hash(genesis, 1, "Complaint", "a", 1, "T", "1.1", "{}", "{}"),
            entry_hash(genesis, 1, "Complaint", "a", 1, "T", "1.0", "{ }", "{}"),
            entry_hash(genesis, 1, "Complaint", "a", 1, "T", "1.0", "{}", "{ }"),
            // Moving bytes between fields changes the hash too (length prefixes).
            entry_hash(genesis, 1, "Complaint", "a", 1, "T1", ".0", "{}", "{}"),
        ];
        for variant in variants {
            assert_ne!(variant, base);
        }
    }
}

//! The projector: a catch-up consumer of the ledger that keeps the read models (complaint list,
//! work queues, open-promise index, owner counters) in step with it. Each step reads a batch of
//! ledger entries after its checkpoint, folds every touched complaint's state, replaces that
//! complaint's rows with [`ComplaintRows::of`] its state, and moves the checkpoint, all in one
//! transaction: a crash anywhere only means the batch is projected again.

use std::collections::HashMap;
use std::sync::Arc;

use cqrs_es::Aggregate;
use jiff::Timestamp;
use obliged_domain::{Complaint, ComplaintEvent, ComplaintRows};
use tokio::sync::Mutex;

use crate::database::Database;
use crate::ledger::{Ledger, LedgerError, SEQUENCE_BATCH};

/// The name (and checkpoint) of the projector that maintains every read model.
pub const COMPLAINTS_PROJECTOR: &str = "complaints";
/// Complaint states kept between steps, so the live tail does not reload histories.
const CACHE_LIMIT: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("stored event {complaint_id} #{sequence} does not decode: {source}")]
    Decode {
        complaint_id: String,
        sequence: u64,
        #[source]
        source: serde_json::Error,
    },
    #[error("unknown projector {0:?}; the projectors are: complaints")]
    UnknownProjector(String),
    #[error("projection interrupted on purpose")]
    Interrupted,
}

/// Microseconds since the Unix epoch: how read models store times.
pub fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

pub fn from_micros(value: i64) -> Timestamp {
    Timestamp::from_microsecond(value).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A complaint's state as of one of its sequences.
#[derive(Clone)]
struct Folded {
    sequence: u64,
    complaint: Complaint,
}

pub struct Projector {
    database: Database,
    ledger: Arc<Ledger>,
    cache: Mutex<HashMap<String, Folded>>,
    /// One step at a time in this process; other processes are kept out by the checkpoint row.
    step_lock: Mutex<()>,
}

/// Repeats a block once per database, with `$tx` an open transaction of that database.
macro_rules! in_transaction {
    ($database:expr, $tx:ident => $body:block) => {
        match $database {
            Database::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                $body
            }
            Database::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                $body
            }
        }
    };
}

impl Projector {
    pub fn new(database: Database, ledger: Arc<Ledger>) -> Self {
        Self {
            database,
            ledger,
            cache: Mutex::new(HashMap::new()),
            step_lock: Mutex::new(()),
        }
    }

    pub fn names() -> &'static [&'static str] {
        &[COMPLAINTS_PROJECTOR]
    }

    pub async fn checkpoint(&self) -> Result<u64, ProjectionError> {
        Ok(crate::Checkpoints::new(self.database.clone())
            .get(COMPLAINTS_PROJECTOR)
            .await?)
    }

    /// Projects up to `limit` ledger entries after the checkpoint; returns how many.
    pub async fn step(&self, limit: usize) -> Result<usize, ProjectionError> {
        self.step_inner(limit, None).await
    }

    /// Like [`step`](Self::step), but fails after writing the rows of `complaints` complaints,
    /// before committing: what a crash in the middle of a batch leaves behind.
    #[doc(hidden)]
    pub async fn step_interrupted(
        &self,
        limit: usize,
        complaints: usize,
    ) -> Result<usize, ProjectionError> {
        self.step_inner(limit, Some(complaints)).await
    }

    /// Steps until the read models have caught up with the ledger as it is now.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        while self.step(SEQUENCE_BATCH).await? > 0 {}
        self.checkpoint().await
    }

    /// Steps until the read models include ledger position `position`, sequencing pending events
    /// if need be. Returns whether they got there within `attempts` steps.
    pub async fn reach(&self, position: u64, attempts: usize) -> Result<bool, ProjectionError> {
        for _ in 0..attempts {
            if self.checkpoint().await? >= position {
                return Ok(true);
            }
            if self.step(SEQUENCE_BATCH).await? == 0
                && self.ledger.sequence(SEQUENCE_BATCH).await? == 0
            {
                // Nothing to do yet: the position is not committed, or an older append holds
                // the PostgreSQL fence back for a moment.
                tokio::task::yield_now().await;
            }
        }
        Ok(self.checkpoint().await? >= position)
    }

    /// Empties the read models and projects the whole ledger again from position 0.
    pub async fn rebuild(&self) -> Result<u64, ProjectionError> {
        {
            let _guard = self.step_lock.lock().await;
            self.cache.lock().await.clear();
            let updated_at = Timestamp::now().to_string();
            in_transaction!(&self.database, tx => {
                for table in ["rm_complaints", "rm_work_items", "rm_open_promises", "rm_owner_counts"] {
                    sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
                }
                sqlx::query(UPSERT_CHECKPOINT)
                    .bind(COMPLAINTS_PROJECTOR)
                    .bind(0i64)
                    .bind(&updated_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            });
        }
        self.catch_up().await
    }

    async fn step_inner(
        &self,
        limit: usize,
        interrupt_after: Option<usize>,
    ) -> Result<usize, ProjectionError> {
        let _guard = self.step_lock.lock().await;
        let checkpoint = self.checkpoint().await?;
        let entries = self.ledger.entries_after(checkpoint, limit).await?;
        let Some(last) = entries.last() else {
            return Ok(0);
        };
        let last_position = last.position;

        // Fold every touched complaint up to the batch's end, in ledger order.
        let mut touched: Vec<String> = Vec::new();
        let mut states: HashMap<String, Folded> = HashMap::new();
        let mut positions: HashMap<String, u64> = HashMap::new();
        for entry in &entries {
            let event: ComplaintEvent =
                serde_json::from_str(&entry.payload).map_err(|source| ProjectionError::Decode {
                    complaint_id: entry.complaint_id.clone(),
                    sequence: entry.sequence,
                    source,
                })?;
            if !states.contains_key(&entry.complaint_id) {
                let folded = self
                    .state_before(&entry.complaint_id, entry.sequence)
                    .await?;
                states.insert(entry.complaint_id.clone(), folded);
                touched.push(entry.complaint_id.clone());
            }
            let folded = states.get_mut(&entry.complaint_id).expect("inserted above");
            if folded.sequence + 1 != entry.sequence {
                *folded = self
                    .state_before(&entry.complaint_id, entry.sequence)
                    .await?;
            }
            folded.complaint.apply(event);
            folded.sequence = entry.sequence;
            positions.insert(entry.complaint_id.clone(), entry.position);
        }

        let updated_at = Timestamp::now().to_string();
        // SQLite's immediate transaction already excludes other writers; PostgreSQL locks the
        // checkpoint row, so two projectors never write the same batch.
        let lock_checkpoint = match &self.database {
            Database::Sqlite(_) => "SELECT position FROM checkpoints WHERE name = $1",
            Database::Postgres(_) => "SELECT position FROM checkpoints WHERE name = $1 FOR UPDATE",
        };
        let written = in_transaction!(&self.database, tx => {
            sqlx::query(ENSURE_CHECKPOINT)
                .bind(COMPLAINTS_PROJECTOR)
                .bind(&updated_at)
                .execute(&mut *tx)
                .await?;
            let current: i64 = sqlx::query_scalar(lock_checkpoint)
                .bind(COMPLAINTS_PROJECTOR)
                .fetch_one(&mut *tx)
                .await?;
            if current as u64 != checkpoint {
                // Another projector moved on meanwhile; what was folded here may be stale.
                drop(tx);
                self.cache.lock().await.clear();
                return Ok(0);
            }
            for (index, complaint_id) in touched.iter().enumerate() {
                if interrupt_after == Some(index) {
                    return Err(ProjectionError::Interrupted);
                }
                let rows = ComplaintRows::of(&states[complaint_id].complaint);
                let position = positions[complaint_id] as i64;
                for table in ["rm_complaints", "rm_work_items", "rm_open_promises", "rm_owner_counts"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE complaint_id = $1"))
                        .bind(complaint_id)
                        .execute(&mut *tx)
                        .await?;
                }
                let summary = &rows.summary;
                let escalations = summary
                    .escalations
                    .iter()
                    .map(|target| format!(",{target}"))
                    .collect::<String>()
                    + ",";
                sqlx::query(INSERT_COMPLAINT)
                    .bind(complaint_id)
                    .bind(summary.status.as_str())
                    .bind(summary.owner.as_deref())
                    .bind(summary.channel.as_deref())
                    .bind(summary.category.as_deref())
                    .bind(summary.customer_reference.as_deref())
                    .bind(summary.filed_at.map(micros))
                    .bind(summary.sensitive)
                    .bind(summary.non_negotiable)
                    .bind(&escalations)
                    .bind(summary.next_due_at.map(micros))
                    .bind(i64::from(summary.open_promises))
                    .bind(i64::from(summary.open_obligations))
                    .bind(i64::from(summary.open_follow_ups))
                    .bind(position)
                    .execute(&mut *tx)
                    .await?;
                for item in &rows.work_items {
                    sqlx::query(INSERT_WORK_ITEM)
                        .bind(complaint_id)
                        .bind(item.kind)
                        .bind(&item.item_id)
                        .bind(&item.owner)
                        .bind(micros(item.due_at))
                        .execute(&mut *tx)
                        .await?;
                }
                for promise in &rows.open_promises {
                    sqlx::query(INSERT_OPEN_PROMISE)
                        .bind(complaint_id)
                        .bind(&promise.promise_id)
                        .bind(&promise.promiser)
                        .bind(&promise.owner)
                        .bind(&promise.kind)
                        .bind(micros(promise.due_at))
                        .bind(promise.status)
                        .execute(&mut *tx)
                        .await?;
                }
                for counts in &rows.contributions {
                    sqlx::query(INSERT_OWNER_COUNTS)
                        .bind(complaint_id)
                        .bind(&counts.owner)
                        .bind(i64::from(counts.open_complaints))
                        .bind(i64::from(counts.open_promises))
                        .bind(i64::from(counts.promises_kept_on_time))
                        .bind(i64::from(counts.promises_kept_late))
                        .bind(i64::from(counts.promises_broken))
                        .bind(i64::from(counts.promises_withdrawn))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            sqlx::query(UPSERT_CHECKPOINT)
                .bind(COMPLAINTS_PROJECTOR)
                .bind(last_position as i64)
                .bind(&updated_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            entries.len()
        });

        let mut cache = self.cache.lock().await;
        if cache.len() + states.len() > CACHE_LIMIT {
            cache.clear();
        }
        for (complaint_id, folded) in states {
            cache.insert(complaint_id, folded);
        }
        Ok(written)
    }

    /// The complaint's state just before `sequence`: from the cache when it is exactly there,
    /// otherwise folded from the stored events.
    async fn state_before(
        &self,
        complaint_id: &str,
        sequence: u64,
    ) -> Result<Folded, ProjectionError> {
        if let Some(folded) = self.cache.lock().await.get(complaint_id) {
            if folded.sequence + 1 == sequence {
                return Ok(folded.clone());
            }
        }
        const QUERY: &str = "SELECT sequence, payload FROM events \
             WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 AND sequence < $2 \
             ORDER BY sequence";
        const PG_QUERY: &str = "SELECT sequence, payload::text FROM events \
             WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 AND sequence < $2 \
             ORDER BY sequence";
        let rows: Vec<(i64, String)> = match &self.database {
            Database::Sqlite(pool) => {
                sqlx::query_as(QUERY)
                    .bind(complaint_id)
                    .bind(sequence as i64)
                    .fetch_all(pool)
                    .await?
            }
            Database::Postgres(pool) => {
                sqlx::query_as(PG_QUERY)
                    .bind(complaint_id)
                    .bind(sequence as i64)
                    .fetch_all(pool)
                    .await?
            }
        };
        let mut folded = Folded {
            sequence: 0,
            complaint: Complaint::default(),
        };
        for (stored_sequence, payload) in rows {
            let event: ComplaintEvent =
                serde_json::from_str(&payload).map_err(|source| ProjectionError::Decode {
                    complaint_id: complaint_id.to_owned(),
                    sequence: stored_sequence as u64,
                    source,
                })?;
            folded.complaint.apply(event);
            folded.sequence = stored_sequence as u64;
        }
        Ok(folded)
    }
}

const ENSURE_CHECKPOINT: &str = "INSERT INTO checkpoints (name, position, updated_at) \
     VALUES ($1, 0, $2) ON CONFLICT (name) DO NOTHING";
const UPSERT_CHECKPOINT: &str = "INSERT INTO checkpoints (name, position, updated_at) \
     VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET position = excluded.position, \
     updated_at = excluded.updated_at";
const INSERT_COMPLAINT: &str = "INSERT INTO rm_complaints (complaint_id, status, owner, channel, \
     category, customer_reference, filed_at, sensitive, non_negotiable, escalations, next_due_at, \
     open_promises, open_obligations, open_follow_ups, position) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
const INSERT_WORK_ITEM: &str = "INSERT INTO rm_work_items (complaint_id, kind, item_id, owner, \
     due_at) VALUES ($1, $2, $3, $4, $5)";
const INSERT_OPEN_PROMISE: &str = "INSERT INTO rm_open_promises (complaint_id, promise_id, \
     promiser, owner, kind, due_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const INSERT_OWNER_COUNTS: &str = "INSERT INTO rm_owner_counts (complaint_id, owner, \
     open_complaints, open_promises, promises_kept_on_time, promises_kept_late, \
     promises_broken, promises_withdrawn) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

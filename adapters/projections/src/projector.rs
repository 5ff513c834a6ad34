//! The projector: a catch-up consumer of the ledger that keeps the read models (complaint list,
//! work queues, open-promise index, owner counters) in step with it. Each step reads a batch of
//! ledger entries after its checkpoint, folds every touched complaint's state, replaces that
//! complaint's rows with [`ComplaintRows::of`] its state, and moves the checkpoint, all in one
//! transaction: a crash anywhere only means the batch is projected again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cqrs_es::Aggregate;
use jiff::Timestamp;
use obliged_domain::{Complaint, ComplaintEvent, ComplaintRows};
use tokio::sync::Mutex;

use obliged_domain::Clock;
use obliged_storage::{Checkpoints, Database, Ledger, LedgerError, SEQUENCE_BATCH};

/// The name (and checkpoint) of the projector that maintains every read model.
pub const COMPLAINTS_PROJECTOR: &str = "complaints";
/// Complaint states kept between steps, so the live tail does not reload histories.
const CACHE_LIMIT: usize = 50_000;
/// Complaints whose earlier events one statement reads when their states are not cached.
const PRELOAD_CHUNK: usize = 500;

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
    clock: Arc<dyn Clock>,
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
    /// A projector of `ledger` into read models in the ledger's own database (so that rows and
    /// checkpoint commit together), stamping its checkpoint with `clock`.
    pub fn new(ledger: Arc<Ledger>, clock: Arc<dyn Clock>) -> Self {
        Self {
            database: ledger.database().clone(),
            ledger,
            clock,
            cache: Mutex::new(HashMap::new()),
            step_lock: Mutex::new(()),
        }
    }

    pub fn names() -> &'static [&'static str] {
        &[COMPLAINTS_PROJECTOR]
    }

    pub async fn checkpoint(&self) -> Result<u64, ProjectionError> {
        Ok(Checkpoints::new(self.database.clone(), self.clock.clone())
            .get(COMPLAINTS_PROJECTOR)
            .await?)
    }

    /// Projects up to `limit` ledger entries after the checkpoint; returns how many.
    pub async fn step(&self, limit: usize) -> Result<usize, ProjectionError> {
        self.step_inner(limit, false).await
    }

    /// Like [`step`](Self::step), but fails after writing the batch's rows, before moving the
    /// checkpoint and committing: what a crash in the middle of a batch leaves behind.
    #[doc(hidden)]
    pub async fn step_interrupted(&self, limit: usize) -> Result<usize, ProjectionError> {
        self.step_inner(limit, true).await
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
            let updated_at = self.clock.now().to_string();
            in_transaction!(&self.database, tx => {
                for table in READ_MODEL_TABLES {
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

    async fn step_inner(&self, limit: usize, interrupt: bool) -> Result<usize, ProjectionError> {
        let _guard = self.step_lock.lock().await;
        let checkpoint = self.checkpoint().await?;
        let entries = self.ledger.entries_after(checkpoint, limit).await?;
        let Some(last) = entries.last() else {
            return Ok(0);
        };
        let last_position = last.position;

        // Fold every touched complaint up to the batch's end, in ledger order, starting from its
        // state just before its first entry in the batch.
        let mut touched: Vec<(String, u64)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for entry in &entries {
            if seen.insert(&entry.complaint_id) {
                touched.push((entry.complaint_id.clone(), entry.sequence));
            }
        }
        let mut states = self.states_before(&touched).await?;
        let touched: Vec<String> = touched.into_iter().map(|(id, _)| id).collect();
        let mut positions: HashMap<String, u64> = HashMap::new();
        for entry in &entries {
            let event = decode(&entry.complaint_id, entry.sequence, &entry.payload)?;
            let folded = states
                .get_mut(&entry.complaint_id)
                .expect("every touched complaint has a state");
            if folded.sequence + 1 != entry.sequence {
                *folded = self
                    .state_before(&entry.complaint_id, entry.sequence)
                    .await?;
            }
            folded.complaint.apply(event);
            folded.sequence = entry.sequence;
            positions.insert(entry.complaint_id.clone(), entry.position);
        }

        let batch: Vec<(String, i64, ComplaintRows)> = touched
            .iter()
            .map(|complaint_id| {
                (
                    complaint_id.clone(),
                    positions[complaint_id] as i64,
                    ComplaintRows::of(&states[complaint_id].complaint),
                )
            })
            .collect();
        let updated_at = self.clock.now().to_string();
        let written = match &self.database {
            Database::Sqlite(pool) => {
                // The immediate transaction excludes other writers for the whole step.
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                if !claim_checkpoint(&mut tx, checkpoint, &updated_at, "").await? {
                    drop(tx);
                    self.cache.lock().await.clear();
                    return Ok(0);
                }
                for (complaint_id, position, rows) in &batch {
                    write_sqlite(&mut tx, complaint_id, *position, rows).await?;
                }
                if interrupt {
                    return Err(ProjectionError::Interrupted);
                }
                store_checkpoint(&mut *tx, last_position, &updated_at).await?;
                tx.commit().await?;
                entries.len()
            }
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // Locking the checkpoint row keeps two instances from writing the same batch.
                if !claim_checkpoint(&mut tx, checkpoint, &updated_at, " FOR UPDATE").await? {
                    drop(tx);
                    self.cache.lock().await.clear();
                    return Ok(0);
                }
                write_postgres(&mut tx, &batch).await?;
                if interrupt {
                    return Err(ProjectionError::Interrupted);
                }
                store_checkpoint(&mut *tx, last_position, &updated_at).await?;
                tx.commit().await?;
                entries.len()
            }
        };

        let mut cache = self.cache.lock().await;
        if cache.len() + states.len() > CACHE_LIMIT {
            cache.clear();
        }
        for (complaint_id, folded) in states {
            cache.insert(complaint_id, folded);
        }
        Ok(written)
    }

    /// The states of many complaints, each just before its sequence: from the cache where it is
    /// exactly there, the others folded from their stored events, read for up to
    /// [`PRELOAD_CHUNK`] complaints per statement. One query per complaint made a rebuild of
    /// histories interleaved across more complaints than the cache holds read one complaint at
    /// a time (3,800 events/s in `obliged-bench`).
    async fn states_before(
        &self,
        wanted: &[(String, u64)],
    ) -> Result<HashMap<String, Folded>, ProjectionError> {
        let mut states = HashMap::with_capacity(wanted.len());
        let mut missing: Vec<(&str, i64)> = Vec::new();
        {
            let cache = self.cache.lock().await;
            for (complaint_id, sequence) in wanted {
                let cached = cache
                    .get(complaint_id)
                    .filter(|folded| folded.sequence + 1 == *sequence);
                match cached {
                    Some(folded) => {
                        states.insert(complaint_id.clone(), folded.clone());
                    }
                    None => {
                        states.insert(
                            complaint_id.clone(),
                            Folded {
                                sequence: 0,
                                complaint: Complaint::default(),
                            },
                        );
                        if *sequence > 1 {
                            missing.push((complaint_id, *sequence as i64));
                        }
                    }
                }
            }
        }
        for chunk in missing.chunks(PRELOAD_CHUNK) {
            // CROSS JOIN keeps the list outside: SQLite's planner would otherwise scan
            // every complaint's events for each entry of the list.
            const SQLITE: &str = "SELECT e.aggregate_id, e.sequence, e.payload \
                 FROM json_each($1) AS w CROSS JOIN events e ON e.aggregate_type = 'Complaint' \
                 AND e.aggregate_id = json_extract(w.value, '$[0]') \
                 AND e.sequence < json_extract(w.value, '$[1]') \
                 ORDER BY e.aggregate_id, e.sequence";
            const POSTGRES: &str = "SELECT e.aggregate_id, e.sequence, e.payload::text \
                 FROM UNNEST($1::text[], $2::bigint[]) AS w(id, before) \
                 JOIN events e ON e.aggregate_type = 'Complaint' AND e.aggregate_id = w.id \
                 AND e.sequence < w.before ORDER BY e.aggregate_id, e.sequence";
            let rows: Vec<(String, i64, String)> = match &self.database {
                Database::Sqlite(pool) => {
                    let pairs = serde_json::Value::from(
                        chunk
                            .iter()
                            .map(|(id, before)| serde_json::json!([id, before]))
                            .collect::<Vec<_>>(),
                    );
                    sqlx::query_as(SQLITE)
                        .bind(pairs.to_string())
                        .fetch_all(pool)
                        .await?
                }
                Database::Postgres(pool) => {
                    sqlx::query_as(POSTGRES)
                        .bind(chunk.iter().map(|(id, _)| *id).collect::<Vec<_>>())
                        .bind(chunk.iter().map(|(_, before)| *before).collect::<Vec<_>>())
                        .fetch_all(pool)
                        .await?
                }
            };
            for (complaint_id, stored_sequence, payload) in rows {
                let event = decode(&complaint_id, stored_sequence as u64, &payload)?;
                let folded = states
                    .get_mut(&complaint_id)
                    .expect("the query returns only the complaints asked for");
                folded.complaint.apply(event);
                folded.sequence = stored_sequence as u64;
            }
        }
        Ok(states)
    }

    /// The complaint's state just before `sequence`: from the cache when it is exactly there,
    /// otherwise folded from the stored events.
    async fn state_before(
        &self,
        complaint_id: &str,
        sequence: u64,
    ) -> Result<Folded, ProjectionError> {
        let mut states = self
            .states_before(&[(complaint_id.to_owned(), sequence)])
            .await?;
        Ok(states
            .remove(complaint_id)
            .expect("every complaint asked for has a state"))
    }
}

/// Makes sure the checkpoint row exists, locks it (`lock` is ` FOR UPDATE` on PostgreSQL) and
/// answers whether it still says `expected`.
async fn claim_checkpoint<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    expected: u64,
    updated_at: &str,
    lock: &str,
) -> Result<bool, sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query(ENSURE_CHECKPOINT)
        .bind(COMPLAINTS_PROJECTOR)
        .bind(updated_at)
        .execute(&mut **tx)
        .await?;
    let sql = format!("SELECT position FROM checkpoints WHERE name = $1{lock}");
    let (current,): (i64,) = sqlx::query_as(&sql)
        .bind(COMPLAINTS_PROJECTOR)
        .fetch_one(&mut **tx)
        .await?;
    Ok(current as u64 == expected)
}

async fn store_checkpoint<'c, E, DB>(
    executor: E,
    position: u64,
    updated_at: &str,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(UPSERT_CHECKPOINT)
        .bind(COMPLAINTS_PROJECTOR)
        .bind(position as i64)
        .bind(updated_at)
        .execute(executor)
        .await
        .map(drop)
}

const READ_MODEL_TABLES: [&str; 5] = [
    "rm_complaints",
    "rm_work_items",
    "rm_open_promises",
    "rm_owner_counts",
    "rm_due_rungs",
];

fn escalations(rows: &ComplaintRows) -> String {
    rows.summary
        .escalations
        .iter()
        .map(|target| format!(",{target}"))
        .collect::<String>()
        + ","
}

/// Replaces one complaint's rows, statement by statement (cheap on in-process SQLite).
async fn write_sqlite(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    complaint_id: &str,
    position: i64,
    rows: &ComplaintRows,
) -> Result<(), sqlx::Error> {
    for table in READ_MODEL_TABLES {
        sqlx::query(&format!("DELETE FROM {table} WHERE complaint_id = $1"))
            .bind(complaint_id)
            .execute(&mut **tx)
            .await?;
    }
    let summary = &rows.summary;
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
        .bind(escalations(rows))
        .bind(summary.next_due_at.map(micros))
        .bind(i64::from(summary.open_promises))
        .bind(i64::from(summary.open_obligations))
        .bind(i64::from(summary.open_follow_ups))
        .bind(position)
        .execute(&mut **tx)
        .await?;
    for item in &rows.work_items {
        sqlx::query(INSERT_WORK_ITEM)
            .bind(complaint_id)
            .bind(item.kind)
            .bind(&item.item_id)
            .bind(&item.owner)
            .bind(micros(item.due_at))
            .execute(&mut **tx)
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
            .execute(&mut **tx)
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
            .execute(&mut **tx)
            .await?;
    }
    for due in &rows.due_rungs {
        sqlx::query(INSERT_DUE_RUNG)
            .bind(complaint_id)
            .bind(&due.subject)
            .bind(i64::from(due.rung))
            .bind(micros(due.due_at))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Replaces the rows of every complaint in the batch with one statement per table: a network
/// round trip per row would cap catch-up at a few thousand events a second.
async fn write_postgres(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    batch: &[(String, i64, ComplaintRows)],
) -> Result<(), sqlx::Error> {
    let ids: Vec<&str> = batch.iter().map(|(id, _, _)| id.as_str()).collect();
    for table in READ_MODEL_TABLES {
        sqlx::query(&format!("DELETE FROM {table} WHERE complaint_id = ANY($1)"))
            .bind(&ids)
            .execute(&mut **tx)
            .await?;
    }
    let summaries: Vec<_> = batch.iter().map(|(_, _, rows)| &rows.summary).collect();
    sqlx::query(
        "INSERT INTO rm_complaints (complaint_id, status, owner, channel, category, \
         customer_reference, filed_at, sensitive, non_negotiable, escalations, next_due_at, \
         open_promises, open_obligations, open_follow_ups, position) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
         $6::text[], $7::bigint[], $8::boolean[], $9::boolean[], $10::text[], $11::bigint[], \
         $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[])",
    )
    .bind(&ids)
    .bind(
        summaries
            .iter()
            .map(|s| s.status.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| s.owner.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| s.channel.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| s.category.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| s.customer_reference.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| s.filed_at.map(micros))
            .collect::<Vec<_>>(),
    )
    .bind(summaries.iter().map(|s| s.sensitive).collect::<Vec<_>>())
    .bind(
        summaries
            .iter()
            .map(|s| s.non_negotiable)
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|(_, _, rows)| escalations(rows))
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| s.next_due_at.map(micros))
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| i64::from(s.open_promises))
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| i64::from(s.open_obligations))
            .collect::<Vec<_>>(),
    )
    .bind(
        summaries
            .iter()
            .map(|s| i64::from(s.open_follow_ups))
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|(_, position, _)| *position)
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;

    let items: Vec<(&str, &obliged_domain::WorkItem)> = batch
        .iter()
        .flat_map(|(id, _, rows)| rows.work_items.iter().map(move |item| (id.as_str(), item)))
        .collect();
    sqlx::query(
        "INSERT INTO rm_work_items (complaint_id, kind, item_id, owner, due_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])",
    )
    .bind(items.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(items.iter().map(|(_, item)| item.kind).collect::<Vec<_>>())
    .bind(
        items
            .iter()
            .map(|(_, item)| item.item_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        items
            .iter()
            .map(|(_, item)| item.owner.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        items
            .iter()
            .map(|(_, item)| micros(item.due_at))
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;

    let promises: Vec<(&str, &obliged_domain::OpenPromise)> = batch
        .iter()
        .flat_map(|(id, _, rows)| {
            rows.open_promises
                .iter()
                .map(move |promise| (id.as_str(), promise))
        })
        .collect();
    sqlx::query(
        "INSERT INTO rm_open_promises (complaint_id, promise_id, promiser, owner, kind, due_at, \
         status) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
         $5::text[], $6::bigint[], $7::text[])",
    )
    .bind(promises.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(
        promises
            .iter()
            .map(|(_, p)| p.promise_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        promises
            .iter()
            .map(|(_, p)| p.promiser.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        promises
            .iter()
            .map(|(_, p)| p.owner.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        promises
            .iter()
            .map(|(_, p)| p.kind.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        promises
            .iter()
            .map(|(_, p)| micros(p.due_at))
            .collect::<Vec<_>>(),
    )
    .bind(promises.iter().map(|(_, p)| p.status).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;

    let counts: Vec<(&str, &obliged_domain::OwnerContribution)> = batch
        .iter()
        .flat_map(|(id, _, rows)| {
            rows.contributions
                .iter()
                .map(move |counts| (id.as_str(), counts))
        })
        .collect();
    sqlx::query(
        "INSERT INTO rm_owner_counts (complaint_id, owner, open_complaints, open_promises, \
         promises_kept_on_time, promises_kept_late, promises_broken, promises_withdrawn) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], \
         $6::bigint[], $7::bigint[], $8::bigint[])",
    )
    .bind(counts.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(
        counts
            .iter()
            .map(|(_, c)| c.owner.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        counts
            .iter()
            .map(|(_, c)| i64::from(c.open_complaints))
            .collect::<Vec<_>>(),
    )
    .bind(
        counts
            .iter()
            .map(|(_, c)| i64::from(c.open_promises))
            .collect::<Vec<_>>(),
    )
    .bind(
        counts
            .iter()
            .map(|(_, c)| i64::from(c.promises_kept_on_time))
            .collect::<Vec<_>>(),
    )
    .bind(
        counts
            .iter()
            .map(|(_, c)| i64::from(c.promises_kept_late))
            .collect::<Vec<_>>(),
    )
    .bind(
        counts
            .iter()
            .map(|(_, c)| i64::from(c.promises_broken))
            .collect::<Vec<_>>(),
    )
    .bind(
        counts
            .iter()
            .map(|(_, c)| i64::from(c.promises_withdrawn))
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;

    let due: Vec<(&str, &obliged_domain::DueRung)> = batch
        .iter()
        .flat_map(|(id, _, rows)| rows.due_rungs.iter().map(move |due| (id.as_str(), due)))
        .collect();
    sqlx::query(
        "INSERT INTO rm_due_rungs (complaint_id, subject, rung, due_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[])",
    )
    .bind(due.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(
        due.iter()
            .map(|(_, d)| d.subject.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        due.iter()
            .map(|(_, d)| i64::from(d.rung))
            .collect::<Vec<_>>(),
    )
    .bind(
        due.iter()
            .map(|(_, d)| micros(d.due_at))
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
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
const INSERT_DUE_RUNG: &str = "INSERT INTO rm_due_rungs (complaint_id, subject, rung, due_at) \
     VALUES ($1, $2, $3, $4)";
const INSERT_OWNER_COUNTS: &str = "INSERT INTO rm_owner_counts (complaint_id, owner, \
     open_complaints, open_promises, promises_kept_on_time, promises_kept_late, \
     promises_broken, promises_withdrawn) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// A stored event's payload, or the error that names it.
fn decode(
    complaint_id: &str,
    sequence: u64,
    payload: &str,
) -> Result<ComplaintEvent, ProjectionError> {
    serde_json::from_str(payload).map_err(|source| ProjectionError::Decode {
        complaint_id: complaint_id.to_owned(),
        sequence,
        source,
    })
}

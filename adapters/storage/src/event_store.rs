//! The complaint event store: commits through cqrs-es's `PersistedEventStore` in event-store
//! mode over the sqlite-es or postgres-es repository (so optimistic concurrency is the
//! framework's); histories are read from the same `events` rows directly, deserialized from the
//! stored text into events. Snapshot and aggregate stores are never used: in cqrs-es 0.5.0
//! they apply each new event twice and store a wrong snapshot.
//!
//! The repository is wrapped by [`Stamped`], which gives every event its own `event_id`
//! (UUID v7) in the metadata: cqrs-es shares one metadata map across the events of a command.

use std::collections::HashMap;

use cqrs_es::persist::{
    EventStoreAggregateContext, PersistedEventRepository, PersistedEventStore, PersistenceError,
    ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use obliged_domain::{Complaint, ComplaintError};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use uuid::Uuid;

use crate::database::Database;
use crate::with_pool;

/// Metadata key of the per-event identifier.
pub const EVENT_ID: &str = "event_id";

/// A repository that stamps each event with a fresh `event_id` before it is written.
pub struct Stamped<R>(R);

impl<R: PersistedEventRepository> PersistedEventRepository for Stamped<R> {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.0.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.0
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.0.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let stamped: Vec<SerializedEvent> = events
            .iter()
            .cloned()
            .map(|mut event| {
                if let Value::Object(metadata) = &mut event.metadata {
                    metadata.insert(
                        EVENT_ID.to_owned(),
                        Value::String(Uuid::now_v7().to_string()),
                    );
                }
                event
            })
            .collect();
        self.0.persist::<A>(&stamped, snapshot_update).await
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.0.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.0.stream_all_events::<A>().await
    }
}

type Context = EventStoreAggregateContext<Complaint>;
type Envelopes = Vec<EventEnvelope<Complaint>>;
type StoreResult<T> = Result<T, AggregateError<ComplaintError>>;

/// The event store of complaints on either database.
pub struct ComplaintStore {
    database: Database,
    store: Store,
}

enum Store {
    Sqlite(PersistedEventStore<Stamped<SqliteEventRepository>, Complaint>),
    Postgres(PersistedEventStore<Stamped<PostgresEventRepository>, Complaint>),
}

impl ComplaintStore {
    pub fn new(database: &Database) -> Self {
        let store = match database {
            Database::Sqlite(pool) => Store::Sqlite(PersistedEventStore::new_event_store(Stamped(
                SqliteEventRepository::new(pool.clone()),
            ))),
            Database::Postgres(pool) => Store::Postgres(PersistedEventStore::new_event_store(
                Stamped(PostgresEventRepository::new(pool.clone())),
            )),
        };
        Self {
            database: database.clone(),
            store,
        }
    }

    /// Every event of one complaint, in sequence order.
    ///
    /// Read here rather than through the repository: the repositories decode each payload and
    /// metadata into a `serde_json::Value` tree and cqrs-es then converts the tree; reading the
    /// stored text and deserializing it straight into events does the same work at about half
    /// the cost, which is most of the cost of loading a long history. The rows are the ones the
    /// repository would read (same table, same order), and there are no upcasters to apply.
    pub async fn load_events(&self, complaint_id: &str) -> StoreResult<Envelopes> {
        const SQLITE: &str = "SELECT sequence, payload, metadata FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence";
        const POSTGRES: &str = "SELECT sequence, payload::text, metadata::text FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence";
        let rows: Vec<(i64, String, String)> =
            self.complaint_rows(SQLITE, POSTGRES, complaint_id).await?;
        rows.into_iter()
            .map(|(sequence, payload, metadata)| {
                envelope(complaint_id, sequence, &payload, &metadata)
            })
            .collect()
    }

    /// Every event of one complaint, in sequence order, without metadata: what folding the
    /// current state needs.
    pub async fn load_payloads(
        &self,
        complaint_id: &str,
    ) -> StoreResult<Vec<obliged_domain::ComplaintEvent>> {
        const SQLITE: &str = "SELECT payload FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence";
        const POSTGRES: &str = "SELECT payload::text FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence";
        let rows: Vec<(String,)> = self.complaint_rows(SQLITE, POSTGRES, complaint_id).await?;
        rows.iter().map(|(payload,)| deserialize(payload)).collect()
    }

    /// The complaint's `sealing_keys` row (`None`: no row; `Some(None)`: key destroyed) and
    /// every event, in one statement: a command needs both, and this is its first read.
    pub async fn load_with_key(
        &self,
        complaint_id: &str,
    ) -> StoreResult<(Option<Option<Vec<u8>>>, Envelopes)> {
        const SQLITE: &str = "SELECT 0 AS part, wrapped_key, 0 AS sequence, NULL AS payload, \
             NULL AS metadata FROM sealing_keys WHERE subject = $2 \
             UNION ALL SELECT 1, NULL, sequence, payload, metadata FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY part, sequence";
        const POSTGRES: &str = "SELECT 0::bigint AS part, wrapped_key, 0::bigint AS sequence, \
             NULL::text AS payload, NULL::text AS metadata FROM sealing_keys WHERE subject = $2 \
             UNION ALL SELECT 1, NULL, sequence, payload::text, metadata::text FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY part, sequence";
        type Row = (i64, Option<Vec<u8>>, i64, Option<String>, Option<String>);
        let rows: Vec<Row> = self.complaint_rows(SQLITE, POSTGRES, complaint_id).await?;
        let mut key = None;
        let mut events = Vec::with_capacity(rows.len());
        for (part, wrapped, sequence, payload, metadata) in rows {
            if part == 0 {
                key = Some(wrapped);
            } else {
                events.push(envelope(
                    complaint_id,
                    sequence,
                    payload.as_deref().unwrap_or_default(),
                    metadata.as_deref().unwrap_or_default(),
                )?);
            }
        }
        Ok((key, events))
    }

    /// The rows of one complaint's query, in the dialect of the store: `sqlite` or `postgres`,
    /// each taking the aggregate type as `$1` and the complaint id as `$2`.
    async fn complaint_rows<T>(
        &self,
        sqlite: &'static str,
        postgres: &'static str,
        complaint_id: &str,
    ) -> StoreResult<Vec<T>>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let sql = match &self.database {
            Database::Sqlite(_) => sqlite,
            Database::Postgres(_) => postgres,
        };
        with_pool!(&self.database, pool => {
            sqlx::query_as(sql)
                .bind(Complaint::TYPE)
                .bind(complaint_id)
                .fetch_all(pool)
                .await
                .map_err(unexpected)
        })
    }

    /// Appends `events` after `context.current_sequence`; a concurrent append to the same
    /// complaint makes this fail with `AggregateConflict` and write nothing.
    pub async fn commit(
        &self,
        events: Vec<obliged_domain::ComplaintEvent>,
        context: Context,
        metadata: HashMap<String, String>,
    ) -> StoreResult<Envelopes> {
        match &self.store {
            Store::Sqlite(store) => store.commit(events, context, metadata).await,
            Store::Postgres(store) => store.commit(events, context, metadata).await,
        }
    }
}

fn unexpected(error: sqlx::Error) -> AggregateError<ComplaintError> {
    AggregateError::UnexpectedError(Box::new(error))
}

/// One stored event as the engine reads it.
fn envelope(
    complaint_id: &str,
    sequence: i64,
    payload: &str,
    metadata: &str,
) -> StoreResult<EventEnvelope<Complaint>> {
    Ok(EventEnvelope {
        aggregate_id: complaint_id.to_owned(),
        sequence: sequence as usize,
        payload: deserialize(payload)?,
        metadata: deserialize(metadata)?,
    })
}

fn deserialize<T: serde::de::DeserializeOwned>(stored: &str) -> StoreResult<T> {
    serde_json::from_str(stored)
        .map_err(|error| AggregateError::DeserializationError(Box::new(error)))
}

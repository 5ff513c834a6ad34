//! The complaint event store: cqrs-es's `PersistedEventStore` in event-store mode over the
//! sqlite-es or postgres-es repository. Snapshot and aggregate stores are never used: in
//! cqrs-es 0.5.0 they apply each new event twice and store a wrong snapshot.
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
pub enum ComplaintStore {
    Sqlite(PersistedEventStore<Stamped<SqliteEventRepository>, Complaint>),
    Postgres(PersistedEventStore<Stamped<PostgresEventRepository>, Complaint>),
}

impl ComplaintStore {
    pub fn new(database: &Database) -> Self {
        match database {
            Database::Sqlite(pool) => Self::Sqlite(PersistedEventStore::new_event_store(Stamped(
                SqliteEventRepository::new(pool.clone()),
            ))),
            Database::Postgres(pool) => Self::Postgres(PersistedEventStore::new_event_store(
                Stamped(PostgresEventRepository::new(pool.clone())),
            )),
        }
    }

    /// Every event of one complaint, in sequence order.
    pub async fn load_events(&self, complaint_id: &str) -> StoreResult<Envelopes> {
        match self {
            Self::Sqlite(store) => store.load_events(complaint_id).await,
            Self::Postgres(store) => store.load_events(complaint_id).await,
        }
    }

    /// Appends `events` after `context.current_sequence`; a concurrent append to the same
    /// complaint makes this fail with `AggregateConflict` and write nothing.
    pub async fn commit(
        &self,
        events: Vec<obliged_domain::ComplaintEvent>,
        context: Context,
        metadata: HashMap<String, String>,
    ) -> StoreResult<Envelopes> {
        match self {
            Self::Sqlite(store) => store.commit(events, context, metadata).await,
            Self::Postgres(store) => store.commit(events, context, metadata).await,
        }
    }
}

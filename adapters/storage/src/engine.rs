//! The command engine: the one path every command takes. It seals personal data, loads the
//! complaint, recognises a repeated command by its idempotency key, lets the aggregate decide,
//! appends the events with their metadata, and retries a bounded number of times when another
//! command on the same complaint won the race. Reads (state, history, state as of a moment) are
//! folded straight from the complaint's events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::EventStoreAggregateContext;
use cqrs_es::{Aggregate, AggregateError, EventEnvelope};
use jiff::Timestamp;
use obliged_domain::{
    Complaint, ComplaintCommand, ComplaintError, ComplaintServices, IssuedCommand, PlainText,
    StaffId,
};
use rand::Rng;
use serde_json::Value;
use uuid::Uuid;

use crate::database::Database;
use crate::entries::{open_sealed, Disclosure, LedgerReader};
use crate::event_store::{ComplaintStore, EVENT_ID};
use crate::ledger::Ledger;
use crate::vault::{KeyState, MasterKey, Vault, VaultError};

/// How many times a command is tried when concurrent commands on the same complaint conflict.
pub const RETRY_ATTEMPTS: usize = 12;

/// Namespace of complaint ids derived from an idempotency key (UUID v5).
const COMPLAINT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f62_6c69_6765_6400_8000_636f_6d70_6c61);
/// Namespace of command ids derived from an actor and an idempotency key (UUID v5).
const COMMAND_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f62_6c69_6765_6400_8000_636f_6d6d_616e);

/// The id recorded as a command's `command_id`: derived from the actor and the client's
/// `Idempotency-Key` (so that it is unique per command, however clients choose keys, and the
/// key itself is not shown to integrations), or fresh without a key.
fn command_id(actor: &StaffId, idempotency_key: Option<&str>) -> String {
    match idempotency_key {
        Some(key) => {
            Uuid::new_v5(&COMMAND_ID_NAMESPACE, format!("{actor}\n{key}").as_bytes()).to_string()
        }
        None => Uuid::now_v7().to_string(),
    }
}

mod meta {
    pub const COMMAND_ID: &str = "command_id";
    pub const COMMAND: &str = "command";
    pub const ACTOR: &str = "actor";
    /// The alias the actor used towards the customer in this command, when they used one.
    pub const ALIAS: &str = "alias";
    pub const CORRELATION_ID: &str = "correlation_id";
    pub const RECORDED_AT: &str = "recorded_at";
    pub const REQUEST_FINGERPRINT: &str = "request_fingerprint";
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("complaint {0} not found")]
    NotFound(Uuid),
    #[error(transparent)]
    Rejected(#[from] ComplaintError),
    #[error("the complaint kept changing under this command; gave up after {attempts} attempts")]
    Conflict { attempts: usize },
    #[error("idempotency key {key:?} was already used for a different command")]
    IdempotencyKeyReused { key: String },
    #[error("the personal data of complaint {0} was erased")]
    Erased(Uuid),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<VaultError> for EngineError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Database(error) => database_error(error),
            other => Self::Internal(other.to_string()),
        }
    }
}

fn database_error(error: sqlx::Error) -> EngineError {
    if crate::database::is_unavailable(&error) {
        EngineError::Unavailable(error.to_string())
    } else {
        EngineError::Internal(error.to_string())
    }
}

fn store_error(error: AggregateError<ComplaintError>) -> EngineError {
    match error {
        AggregateError::UserError(error) => EngineError::Rejected(error),
        AggregateError::AggregateConflict => EngineError::Conflict { attempts: 1 },
        AggregateError::DatabaseConnectionError(error) => {
            EngineError::Unavailable(error.to_string())
        }
        AggregateError::DeserializationError(error) => EngineError::Internal(error.to_string()),
        AggregateError::UnexpectedError(error) => match error.downcast::<sqlx::Error>() {
            Ok(error) => database_error(*error),
            Err(error) => EngineError::Internal(error.to_string()),
        },
    }
}

/// A command as it arrives from a person or a service, before sealing.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    pub actor: StaffId,
    pub command: ComplaintCommand<PlainText>,
    /// The client's `Idempotency-Key`: a repeat with the same key appends nothing.
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<String>,
}

/// One event appended by a command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppendedEvent {
    pub sequence: u64,
    #[serde(rename = "type")]
    pub event_type: String,
}

impl AppendedEvent {
    fn of(envelope: &EventEnvelope<Complaint>) -> Self {
        Self {
            sequence: envelope.sequence as u64,
            event_type: envelope.payload.name().to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    pub complaint_id: Uuid,
    /// The ledger position of the command's last event, once sequenced. Readers can wait for
    /// read models to reach it (read your writes). `None` if sequencing did not finish in time;
    /// the events are committed all the same.
    pub position: Option<u64>,
    pub command_id: String,
    pub events: Vec<AppendedEvent>,
    /// True when the command had already been applied and nothing new was appended.
    pub replayed: bool,
}

/// One stored event, as shown to readers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordedEvent {
    pub sequence: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: String,
    pub event_id: Option<String>,
    pub command_id: Option<String>,
    pub correlation_id: Option<String>,
    pub actor: Option<String>,
    pub recorded_at: Option<String>,
    pub payload: Value,
}

struct Inner {
    store: ComplaintStore,
    ledger: Arc<Ledger>,
    vault: Vault,
    services: ComplaintServices,
}

/// Runs commands and answers reads. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Engine(Arc<Inner>);

impl Engine {
    pub fn new(database: &Database, master_key: &MasterKey, services: ComplaintServices) -> Self {
        Self(Arc::new(Inner {
            store: ComplaintStore::new(database),
            ledger: Arc::new(Ledger::new(database.clone(), services.clock.clone())),
            vault: Vault::new(database.clone(), master_key, services.clock.clone()),
            services,
        }))
    }

    pub fn vault(&self) -> &Vault {
        &self.0.vault
    }

    /// A reader of this engine's ledger, for consumers: it reads entries and opens or redacts
    /// them, and cannot run a command.
    pub fn reader(&self) -> LedgerReader {
        LedgerReader::new(self.0.ledger.clone(), self.0.vault.clone())
    }

    /// The current time on the engine's clock.
    pub fn now(&self) -> Timestamp {
        self.0.services.clock.now()
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.0.ledger
    }

    /// The policy commands are decided under (its calendar and teams also shape reports).
    pub fn policy(&self) -> &obliged_domain::Policy {
        &self.0.services.policy
    }

    /// The ledger position of a committed event. Sequencing failures are logged, not returned:
    /// the command is committed whatever happens here.
    async fn position(&self, complaint_id: &str, sequence: u64) -> Option<u64> {
        match self.0.ledger.ensure_sequenced(complaint_id, sequence).await {
            Ok(position) => position,
            Err(error) => {
                tracing::warn!(%error, complaint_id, sequence, "could not sequence a committed event");
                None
            }
        }
    }

    /// Files a new complaint. Its id is fresh, or derived from the actor and idempotency key so
    /// that a repeated filing lands on the same complaint and appends nothing.
    pub async fn file(&self, request: CommandRequest) -> Result<CommandOutcome, EngineError> {
        if !matches!(request.command, ComplaintCommand::FileComplaint { .. }) {
            return Err(EngineError::Internal(format!(
                "file() takes FileComplaint, not {}",
                request.command.name()
            )));
        }
        let complaint_id = match &request.idempotency_key {
            Some(key) => Uuid::new_v5(
                &COMPLAINT_ID_NAMESPACE,
                format!("{}\n{key}", request.actor).as_bytes(),
            ),
            None => Uuid::now_v7(),
        };
        in_own_task(self.clone().run(complaint_id, request, true)).await
    }

    /// Runs a command on an existing complaint.
    pub async fn execute(
        &self,
        complaint_id: Uuid,
        request: CommandRequest,
    ) -> Result<CommandOutcome, EngineError> {
        in_own_task(self.clone().run(complaint_id, request, false)).await
    }

    async fn run(
        self,
        complaint_id: Uuid,
        request: CommandRequest,
        create_key: bool,
    ) -> Result<CommandOutcome, EngineError> {
        let aggregate_id = complaint_id.to_string();
        // A command on an existing complaint reads its key and its history in one statement.
        let (key_state, mut loaded) = if create_key {
            (self.0.vault.create_key(complaint_id).await?, None)
        } else {
            let (row, history) = self
                .0
                .store
                .load_with_key(&aggregate_id)
                .await
                .map_err(store_error)?;
            (self.0.vault.key_from_row(complaint_id, row)?, Some(history))
        };
        let key = match key_state {
            KeyState::Active(key) => key,
            KeyState::Missing => return Err(EngineError::NotFound(complaint_id)),
            KeyState::Destroyed => return Err(EngineError::Erased(complaint_id)),
        };
        let request_json = serde_json::to_vec(&request.command)
            .map_err(|error| EngineError::Internal(error.to_string()))?;
        let fingerprint = key.fingerprint(&request_json);
        let command_name = request.command.name();
        let sealed = request
            .command
            .try_map_text(|text| Ok::<_, EngineError>(key.seal(&text)))?;
        let command_id = command_id(&request.actor, request.idempotency_key.as_deref());

        for attempt in 1..=RETRY_ATTEMPTS {
            let history = match loaded.take() {
                Some(history) => history,
                None => self
                    .0
                    .store
                    .load_events(&aggregate_id)
                    .await
                    .map_err(store_error)?,
            };
            if let Some(key) = &request.idempotency_key {
                if let Some(mut outcome) = replayed(
                    complaint_id,
                    [command_id.as_str(), key.as_str()],
                    &request.actor,
                    &fingerprint,
                    &history,
                )? {
                    // A retry learns the position of what the first attempt appended.
                    if let Some(last) = outcome.events.last() {
                        outcome.position = self.position(&aggregate_id, last.sequence).await;
                    }
                    return Ok(outcome);
                }
            }
            let mut context = EventStoreAggregateContext {
                aggregate_id: aggregate_id.clone(),
                aggregate: Complaint::default(),
                current_sequence: 0,
                current_snapshot: None,
            };
            for envelope in history {
                context.current_sequence = envelope.sequence;
                context.aggregate.apply(envelope.payload);
            }
            let sink = EventSink::default();
            context
                .aggregate
                .handle(
                    IssuedCommand {
                        actor: request.actor.clone(),
                        command: sealed.clone(),
                    },
                    &self.0.services,
                    &sink,
                )
                .await?;
            let events = sink.collect().await;
            let mut metadata = HashMap::from([
                (meta::COMMAND_ID.to_owned(), command_id.clone()),
                (meta::COMMAND.to_owned(), command_name.to_owned()),
                (meta::ACTOR.to_owned(), request.actor.to_string()),
                (
                    meta::CORRELATION_ID.to_owned(),
                    request
                        .correlation_id
                        .clone()
                        .unwrap_or_else(|| command_id.clone()),
                ),
                (
                    meta::RECORDED_AT.to_owned(),
                    self.0.services.clock.now().to_string(),
                ),
                (meta::REQUEST_FINGERPRINT.to_owned(), fingerprint.clone()),
            ]);
            if let Some(alias) = sealed.alias() {
                metadata.insert(meta::ALIAS.to_owned(), alias.to_string());
            }
            match self.0.store.commit(events, context, metadata).await {
                Ok(committed) => {
                    self.0.ledger.note_appended();
                    let position = match committed.last() {
                        Some(last) => self.position(&aggregate_id, last.sequence as u64).await,
                        None => None,
                    };
                    return Ok(CommandOutcome {
                        complaint_id,
                        position,
                        command_id,
                        events: committed.iter().map(AppendedEvent::of).collect(),
                        replayed: false,
                    });
                }
                Err(AggregateError::AggregateConflict) if attempt < RETRY_ATTEMPTS => {
                    // Another command on this complaint committed first: decide again on the
                    // new state after a short, jittered pause so the racers spread out.
                    let pause = rand::thread_rng().gen_range(0..=attempt as u64 * 2);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                Err(AggregateError::AggregateConflict) => {
                    return Err(EngineError::Conflict {
                        attempts: RETRY_ATTEMPTS,
                    })
                }
                Err(error) => return Err(store_error(error)),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// The complaint as rebuilt from all its events, or from those recorded up to `as_of`.
    pub async fn complaint(
        &self,
        complaint_id: Uuid,
        as_of: Option<Timestamp>,
    ) -> Result<Complaint, EngineError> {
        let mut complaint = Complaint::default();
        match as_of {
            // The current state needs the events only, not their metadata.
            None => {
                let events = self
                    .0
                    .store
                    .load_payloads(&complaint_id.to_string())
                    .await
                    .map_err(store_error)?;
                for event in events {
                    complaint.apply(event);
                }
            }
            Some(as_of) => {
                for envelope in self.load(complaint_id).await? {
                    if recorded_at(&envelope).is_some_and(|at| at <= as_of) {
                        complaint.apply(envelope.payload);
                    }
                }
            }
        }
        if complaint.status == obliged_domain::Status::NotFiled {
            return Err(EngineError::NotFound(complaint_id));
        }
        Ok(complaint)
    }

    /// The complaint as it stood after each of `sequences` (in the order given), from one read
    /// of its events: what an auditor steps through and compares. A sequence beyond the last
    /// event gives the current state; 0 gives the complaint before it was filed.
    pub async fn complaint_after(
        &self,
        complaint_id: Uuid,
        sequences: &[u64],
    ) -> Result<Vec<Complaint>, EngineError> {
        let history = self.load(complaint_id).await?;
        let mut order: Vec<usize> = (0..sequences.len()).collect();
        order.sort_by_key(|&index| sequences[index]);
        let mut states = vec![Complaint::default(); sequences.len()];
        let mut complaint = Complaint::default();
        let mut events = history.into_iter().peekable();
        for index in order {
            while let Some(envelope) =
                events.next_if(|envelope| envelope.sequence as u64 <= sequences[index])
            {
                complaint.apply(envelope.payload);
            }
            states[index] = complaint.clone();
        }
        Ok(states)
    }

    /// Every event of a complaint in order, with metadata, personal data opened or redacted.
    pub async fn history(
        &self,
        complaint_id: Uuid,
        disclosure: Disclosure,
    ) -> Result<Vec<RecordedEvent>, EngineError> {
        let history = self.load(complaint_id).await?;
        let key = match disclosure {
            Disclosure::Full => Some(self.0.vault.key(complaint_id).await?),
            Disclosure::Redacted => None,
        };
        history
            .iter()
            .map(|envelope| {
                let mut payload = serde_json::to_value(&envelope.payload)
                    .map_err(|error| EngineError::Internal(error.to_string()))?;
                open_sealed(&mut payload, key.as_ref());
                let text = |name: &str| envelope.metadata.get(name).cloned();
                Ok(RecordedEvent {
                    sequence: envelope.sequence as u64,
                    event_type: envelope.payload.name().to_owned(),
                    version: obliged_domain::EVENT_VERSION.to_owned(),
                    event_id: text(EVENT_ID),
                    command_id: text(meta::COMMAND_ID),
                    correlation_id: text(meta::CORRELATION_ID),
                    actor: text(meta::ACTOR),
                    recorded_at: text(meta::RECORDED_AT),
                    payload,
                })
            })
            .collect()
    }

    async fn load(&self, complaint_id: Uuid) -> Result<Vec<EventEnvelope<Complaint>>, EngineError> {
        let history = self
            .0
            .store
            .load_events(&complaint_id.to_string())
            .await
            .map_err(store_error)?;
        if history.is_empty() {
            return Err(EngineError::NotFound(complaint_id));
        }
        Ok(history)
    }
}

/// Runs a command in a task of its own, so that a caller that goes away (a client that
/// disconnects) cannot cancel it between the decision and the append.
async fn in_own_task(
    command: impl std::future::Future<Output = Result<CommandOutcome, EngineError>> + Send + 'static,
) -> Result<CommandOutcome, EngineError> {
    tokio::spawn(command)
        .await
        .map_err(|error| EngineError::Internal(format!("command task failed: {error}")))?
}

fn recorded_at(envelope: &EventEnvelope<Complaint>) -> Option<Timestamp> {
    envelope.metadata.get(meta::RECORDED_AT)?.parse().ok()
}

/// If the command with one of `command_ids` (the derived id, then the client's key) was
/// already applied by `actor`, what it appended.
/// The ids are the derived one and, for events recorded before ids were derived, the key
/// itself, so that a retry across an upgrade still appends once.
fn replayed(
    complaint_id: Uuid,
    command_ids: [&str; 2],
    actor: &StaffId,
    fingerprint: &str,
    history: &[EventEnvelope<Complaint>],
) -> Result<Option<CommandOutcome>, EngineError> {
    let earlier: Vec<&EventEnvelope<Complaint>> = history
        .iter()
        .filter(|envelope| {
            envelope
                .metadata
                .get(meta::COMMAND_ID)
                .is_some_and(|recorded| command_ids.contains(&recorded.as_str()))
                && envelope.metadata.get(meta::ACTOR).map(String::as_str) == Some(actor.as_str())
        })
        .collect();
    let Some(first) = earlier.first() else {
        return Ok(None);
    };
    if first
        .metadata
        .get(meta::REQUEST_FINGERPRINT)
        .map(String::as_str)
        != Some(fingerprint)
    {
        return Err(EngineError::IdempotencyKeyReused {
            key: command_ids[1].to_owned(),
        });
    }
    Ok(Some(CommandOutcome {
        complaint_id,
        position: None,
        command_id: first
            .metadata
            .get(meta::COMMAND_ID)
            .cloned()
            .unwrap_or_default(),
        events: earlier
            .iter()
            .map(|envelope| AppendedEvent::of(envelope))
            .collect(),
        replayed: true,
    }))
}

#[cfg(test)]
mod tests {
    use cqrs_es::AggregateError;

    use super::{store_error, EngineError};
    use crate::database::sqlstate;

    #[test]
    fn a_session_cut_off_under_a_command_is_unavailable_not_internal() {
        // postgres-es and sqlite-es pass every database error but a key violation on as an
        // unexpected error; a fast shutdown of PostgreSQL ends sessions with 57P01.
        let cut_off = AggregateError::UnexpectedError(Box::new(sqlstate::error("57P01")));
        assert!(matches!(store_error(cut_off), EngineError::Unavailable(_)));
        let missing_table = AggregateError::UnexpectedError(Box::new(sqlstate::error("42P01")));
        assert!(matches!(
            store_error(missing_table),
            EngineError::Internal(_)
        ));
        let refused = AggregateError::<obliged_domain::ComplaintError>::DatabaseConnectionError(
            Box::new(sqlx::Error::PoolTimedOut),
        );
        assert!(matches!(store_error(refused), EngineError::Unavailable(_)));
    }
}

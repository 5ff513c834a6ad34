//! The harness of the publisher tests: a fresh store per test (a temporary SQLite file, or a new
//! PostgreSQL database dropped afterwards), a JetStream stream and subject prefix of its own
//! (deleted afterwards), an engine with a fixed clock to append real events, and a consumer that
//! reads the stream the way an integration would.
//!
//! The NATS server and PostgreSQL are real. When one is unreachable the test prints SKIPPED and
//! passes, unless `CI=true`, where it fails.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::context::{CreateStreamError, CreateStreamErrorKind};
use async_nats::jetstream::{self, stream, Context, ErrorCode};
use futures_util::StreamExt;
use obliged_domain::{
    Category, Channel, ComplaintCommand, ComplaintServices, Customer, CustomerReference, Direction,
    FixedClock, PlainText, Policy, StaffAlias, StaffId,
};
use obliged_nats::{NatsError, NatsPublisher, NatsSettings};
use obliged_storage::{Checkpoints, CommandRequest, Engine, MasterKey, SEQUENCE_BATCH};
use serde_json::Value;
use uuid::Uuid;

pub mod proxy;

pub(crate) use obliged_storage::for_each_store;
pub use obliged_storage::testing::{in_ci, Backend, TestStore};

pub const CUSTOMER_NAME: &str = "Margaretha Vlieland";
pub const CUSTOMER_EMAIL: &str = "m.vlieland@example.org";
pub const CUSTOMER_PHONE: &str = "+31 20 555 0199";
pub const DESCRIPTION: &str = "Charged twice for the November invoice";

/// The longest a test waits for anything: a message, the sequencer, a worker to stop.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Says why the test does not run, or fails when it must run (CI).
fn skip(what: &str, error: impl std::fmt::Display) {
    if in_ci() {
        panic!("{what} (CI=true): {error}");
    }
    eprintln!("SKIPPED: {what}: {error}");
}

pub fn nats_url() -> String {
    std::env::var("OBLIGED_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// Runs `work` to completion on a runtime of its own: `Drop` is not async.
fn block_on_thread<F>(work: impl FnOnce() -> F + Send + 'static)
where
    F: std::future::Future<Output = ()>,
{
    let _ = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work());
    })
    .join();
}

/// A stream name and subject prefix that belong to one test; the stream (and any other stream
/// named by [`TestNats::another_stream`]) is deleted afterwards, whether the test passed or not.
pub struct TestNats {
    pub jetstream: Context,
    pub stream: String,
    pub prefix: String,
    others: std::sync::Mutex<Vec<String>>,
}

impl TestNats {
    pub async fn connect() -> Option<Self> {
        let url = nats_url();
        let client = match async_nats::connect(url.as_str()).await {
            Ok(client) => client,
            Err(error) => {
                skip(&format!("NATS unreachable at {url}"), error);
                return None;
            }
        };
        let id = Uuid::new_v4().simple().to_string();
        Some(Self {
            jetstream: jetstream::new(client),
            stream: format!("OBLIGED_TEST_{}", id.to_uppercase()),
            prefix: format!("obliged-test.{id}"),
            others: std::sync::Mutex::default(),
        })
    }

    /// One more stream name of this test's own, cleaned up with the first.
    pub fn another_stream(&self, suffix: &str) -> String {
        let name = format!("{}_{suffix}", self.stream);
        self.others.lock().expect("names").push(name.clone());
        name
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        let jetstream = self.jetstream.clone();
        let mut streams = std::mem::take(&mut *self.others.lock().expect("names"));
        streams.push(self.stream.clone());
        // A stream may not exist (a test that failed early): nothing to clean up then.
        block_on_thread(move || async move {
            for stream in streams {
                let _ = jetstream.delete_stream(&stream).await;
            }
        });
    }
}

/// Everything one test needs. Fields drop in order: the stream goes before the store.
pub struct Fixture {
    pub nats: TestNats,
    pub engine: Engine,
    /// The checkpoints the publisher keeps, on the test's clock.
    pub checkpoints: Checkpoints,
    pub store: TestStore,
    pub settings: NatsSettings,
}

impl Fixture {
    pub async fn start(backend: Backend) -> Option<Self> {
        let nats = TestNats::connect().await?;
        let store = TestStore::create(backend).await?;
        let clock = FixedClock::new("2026-03-02T09:00:00Z".parse().expect("timestamp"));
        let checkpoints = Checkpoints::new(store.database.clone(), Arc::new(clock.clone()));
        let engine = Engine::new(
            &store.database,
            &MasterKey::generate(),
            ComplaintServices::new(Arc::new(clock), Policy::default()),
        );
        let settings = NatsSettings {
            stream: nats.stream.clone(),
            subject_prefix: nats.prefix.clone(),
            duplicate_window: Duration::from_secs(5 * 60),
            // Small windows, so that a few events already span several of them.
            in_flight: 3,
            ..NatsSettings::new(nats_url())
        };
        Some(Self {
            nats,
            engine,
            checkpoints,
            store,
            settings,
        })
    }

    /// A publisher on the test's stream, connected as the binary would connect it.
    pub async fn publisher(&self) -> NatsPublisher {
        self.publisher_with(self.settings.clone())
            .await
            .expect("connect the publisher")
    }

    /// A publisher with other settings, or why it could not connect.
    pub async fn publisher_with(&self, settings: NatsSettings) -> Result<NatsPublisher, NatsError> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let connected = NatsPublisher::connect(
                settings.clone(),
                self.engine.reader(),
                self.checkpoints.clone(),
            )
            .await;
            match connected {
                Err(NatsError::Stream { source, .. })
                    if is_server_store_race(&source) && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => return other,
            }
        }
    }

    /// Creates a stream the way an operator would.
    pub async fn create_stream(&self, config: stream::Config) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match self.nats.jetstream.create_stream(config.clone()).await {
                Ok(_) => return,
                Err(error)
                    if is_server_store_race(&error) && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("create the stream {}: {error}", config.name),
            }
        }
    }

    /// Files a complaint for the test customer; returns its id.
    pub async fn file(&self) -> Uuid {
        let outcome = self
            .engine
            .file(request(ComplaintCommand::FileComplaint {
                customer: Customer {
                    reference: CustomerReference::parse("CUST-1042").expect("reference"),
                    name: text(CUSTOMER_NAME),
                    email: Some(text(CUSTOMER_EMAIL)),
                    phone: Some(text(CUSTOMER_PHONE)),
                },
                channel: Channel::Phone,
                category: Category::parse("billing").expect("category"),
                description: text(DESCRIPTION),
            }))
            .await
            .expect("file a complaint");
        outcome.complaint_id
    }

    /// Logs an inbound contact that asks for something (a contact and an obligation).
    pub async fn contact(&self, complaint_id: Uuid, summary: &str) {
        self.contact_correlated(complaint_id, summary, None).await
    }

    /// Logs an inbound contact that asks for something, made by alice under `alias`.
    pub async fn contact_as(&self, complaint_id: Uuid, summary: &str, alias: &str) {
        self.engine
            .execute(
                complaint_id,
                request(ComplaintCommand::LogContact {
                    direction: Direction::Inbound,
                    channel: Channel::Phone,
                    summary: text(summary),
                    request: true,
                    alias: Some(StaffAlias::parse(alias).expect("alias")),
                }),
            )
            .await
            .expect("log a contact under an alias");
    }

    /// The same, under a correlation id of the caller's choosing (it is stored in clear, in the
    /// metadata, so it also makes an entry as large as a test needs).
    pub async fn contact_correlated(
        &self,
        complaint_id: Uuid,
        summary: &str,
        correlation_id: Option<String>,
    ) {
        let mut request = request(ComplaintCommand::LogContact {
            direction: Direction::Inbound,
            channel: Channel::Chat,
            summary: text(summary),
            request: true,
            alias: None,
        });
        request.correlation_id = correlation_id;
        self.engine
            .execute(complaint_id, request)
            .await
            .expect("log a contact");
    }

    /// The ledger head once every committed event is in the ledger. Each command sequences its
    /// own events before it returns, unless an unrelated transaction on the PostgreSQL server
    /// held the fence back; then this finishes the job (bounded).
    pub async fn settled_head(&self) -> u64 {
        let ledger = self.engine.ledger();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            ledger.sequence(SEQUENCE_BATCH).await.expect("sequence");
            let head = ledger.head_position().await.expect("head");
            if head == self.event_count().await {
                return head;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the ledger did not catch up with the events table"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn event_count(&self) -> u64 {
        let count = obliged_storage::testing::event_count(&self.store.database, None).await;
        count as u64
    }

    /// A consumer of the whole stream from its first message, as an integration would create
    /// it. The stream must exist (a publisher has connected).
    pub async fn consumer(&self) -> PullConsumer {
        self.consumer_of(None).await
    }

    /// A consumer of the subjects matching `filter` only.
    pub async fn consumer_of(&self, filter: Option<String>) -> PullConsumer {
        self.nats
            .jetstream
            .get_stream(&self.nats.stream)
            .await
            .expect("the stream exists")
            .create_consumer(pull::Config {
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::None,
                filter_subject: filter.unwrap_or_default(),
                inactive_threshold: Duration::from_secs(5 * 60),
                ..Default::default()
            })
            .await
            .expect("create a consumer")
    }

    /// How many messages the stream holds.
    pub async fn stream_messages(&self) -> u64 {
        let mut stream = self
            .nats
            .jetstream
            .get_stream(&self.nats.stream)
            .await
            .expect("the stream exists");
        stream.info().await.expect("stream info").state.messages
    }
}

/// nats-server 2.9 now and then fails to create a stream's files ("error creating store for
/// stream") while it is removing another stream's files: these tests create and delete many
/// streams at once. It is a refusal to create, never a lost or reordered message, and the
/// publisher's `run` retries it like any failure; the tests retry exactly this refusal, bounded,
/// and nothing else.
pub fn is_server_store_race(error: &CreateStreamError) -> bool {
    matches!(
        error.kind(),
        CreateStreamErrorKind::JetStream(error) if error.error_code() == ErrorCode::STREAM_CREATE
    )
}

fn text(raw: &str) -> PlainText {
    PlainText::parse(raw).expect("text")
}

fn request(command: ComplaintCommand<PlainText>) -> CommandRequest {
    CommandRequest {
        actor: StaffId::parse("alice").expect("staff id"),
        command,
        idempotency_key: None,
        correlation_id: None,
    }
}

/// One message as a consumer received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    /// The `Nats-Msg-Id` header, which the publisher sets to the ledger position.
    pub message_id: u64,
    pub body: Value,
    pub raw_body: String,
}

impl Received {
    fn from(message: &async_nats::Message) -> Self {
        let message_id = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("Nats-Msg-Id"))
            .map(|value| value.as_str().parse().expect("Nats-Msg-Id is a position"))
            .unwrap_or_else(|| panic!("message on {} has no Nats-Msg-Id", message.subject));
        let raw_body = String::from_utf8(message.payload.to_vec()).expect("utf-8 body");
        Self {
            subject: message.subject.to_string(),
            message_id,
            body: serde_json::from_str(&raw_body).expect("JSON body"),
            raw_body,
        }
    }
}

/// Everything the consumer has not received yet, without waiting for more: each fetch returns
/// what the stream holds right now, and an empty fetch means there is nothing left.
pub async fn drain(consumer: &PullConsumer) -> Vec<Received> {
    let mut received = Vec::new();
    loop {
        let before = received.len();
        let mut batch =
            tokio::time::timeout(PATIENCE, consumer.fetch().max_messages(100).messages())
                .await
                .expect("fetch in time")
                .expect("fetch");
        while let Some(message) = tokio::time::timeout(PATIENCE, batch.next())
            .await
            .expect("message in time")
        {
            received.push(Received::from(&message.expect("message")));
        }
        if received.len() == before {
            return received;
        }
    }
}

/// Exactly `count` messages, waiting for them to arrive (bounded).
pub async fn receive(consumer: &PullConsumer, count: usize) -> Vec<Received> {
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while received.len() < count {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(
            !remaining.is_zero(),
            "received {} of {count} messages",
            received.len()
        );
        let mut batch = consumer
            .batch()
            .max_messages(count - received.len())
            .expires(remaining.min(Duration::from_secs(5)))
            .messages()
            .await
            .expect("pull");
        while let Some(message) = batch.next().await {
            received.push(Received::from(&message.expect("message")));
        }
    }
    received
}

/// The ledger entries by position, to compare messages with.
pub async fn ledger_entries(engine: &Engine) -> BTreeMap<u64, obliged_storage::LedgerEntry> {
    engine
        .ledger()
        .entries_after(0, 100_000)
        .await
        .expect("ledger entries")
        .into_iter()
        .map(|entry| (entry.position, entry))
        .collect()
}

//! The harness of the webhook tests: a fresh store per test (a temporary SQLite file, or a new
//! PostgreSQL database dropped afterwards), an engine and webhooks on a clock the test moves by
//! hand, commands that append real events, and a real HTTP receiver on 127.0.0.1:0 that fails
//! as scripted and records everything it is sent.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use obliged_domain::{
    Category, Channel, ComplaintCommand, ComplaintServices, Customer, CustomerReference, Direction,
    FixedClock, PlainText, Policy, StaffAlias, StaffId,
};
use obliged_storage::{CommandRequest, Database, Engine, LedgerEntry, MasterKey};
use obliged_webhooks::{
    CreatedSubscription, EgressPolicy, NewSubscription, Start, SubscriptionStatus, WebhookSettings,
    Webhooks,
};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

pub(crate) use obliged_storage::for_each_store;
pub use obliged_storage::testing::{Backend, TestStore};

/// Personal data that must never reach a webhook body.
pub const CUSTOMER_NAME: &str = "Ada Lovelace-Byron";
pub const DESCRIPTION: &str = "Charged twice for the March invoice";

/// The moment every test starts at.
pub fn t0() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().expect("timestamp")
}

/// Settings for tests: 1 s doubling to a 10 min cap, ±20% jitter, and receivers on loopback
/// allowed (the test receivers listen there; the default policy refuses it).
pub fn settings() -> WebhookSettings {
    WebhookSettings {
        request_timeout: Duration::from_secs(5),
        backoff_base: Duration::from_secs(1),
        backoff_cap: Duration::from_secs(600),
        jitter: 0.2,
        default_max_attempts: 8,
        lease: Duration::from_secs(120),
        poll_interval: Duration::from_millis(200),
        scan_batch: 500,
        egress: EgressPolicy::allowing(&["127.0.0.0/8", "::1", "localhost"])
            .expect("loopback networks"),
        max_subscriptions_per_token: 10,
    }
}

/// An engine and webhooks on a fresh store, with a clock the test moves by hand.
pub struct Harness {
    pub engine: Engine,
    pub webhooks: Webhooks,
    pub clock: FixedClock,
    master_key: MasterKey,
    // Dropped last: the database is dropped after the pools that use it.
    pub store: TestStore,
}

impl Harness {
    pub async fn start(backend: Backend, settings: WebhookSettings) -> Option<Self> {
        let store = TestStore::create(backend).await?;
        let clock = FixedClock::new(t0());
        let master_key = MasterKey::generate();
        let (engine, webhooks) =
            instance(&store.database, &master_key, &clock, settings).expect("webhooks");
        Some(Self {
            engine,
            webhooks,
            clock,
            master_key,
            store,
        })
    }

    /// Webhooks of another process on the same database: its own pool, engine and ledger.
    pub async fn another_instance(&self, settings: WebhookSettings) -> Webhooks {
        let database = Database::connect(&self.store.url)
            .await
            .expect("connect again");
        instance(&database, &self.master_key, &self.clock, settings)
            .expect("webhooks")
            .1
    }

    pub fn now(&self) -> Timestamp {
        obliged_domain::Clock::now(&self.clock)
    }

    /// Files a complaint (one `ComplaintFiled` entry) and returns its id.
    pub async fn file(&self) -> Uuid {
        let outcome = self
            .engine
            .file(request(ComplaintCommand::FileComplaint {
                customer: Customer {
                    reference: CustomerReference::parse("CUST-1042").unwrap(),
                    name: PlainText::parse(CUSTOMER_NAME).unwrap(),
                    email: None,
                    phone: None,
                },
                channel: Channel::Phone,
                category: Category::parse("billing").unwrap(),
                description: PlainText::parse(DESCRIPTION).unwrap(),
            }))
            .await
            .expect("file");
        assert!(outcome.position.is_some(), "sequenced before file returns");
        outcome.complaint_id
    }

    /// Logs a contact: inbound with a request gives `ContactLogged` and `ObligationOpened`;
    /// outbound gives `ContactLogged` and discharges open obligations.
    pub async fn contact(&self, complaint: Uuid, direction: Direction, asks: bool) {
        let outcome = self
            .engine
            .execute(
                complaint,
                request(ComplaintCommand::LogContact {
                    direction,
                    channel: Channel::Email,
                    summary: PlainText::parse("About the refund").unwrap(),
                    request: asks,
                    alias: None,
                }),
            )
            .await
            .expect("log contact");
        assert!(
            outcome.position.is_some(),
            "sequenced before execute returns"
        );
    }

    /// Logs an inbound request made by alice under `alias` (`ContactLogged`, `ObligationOpened`).
    pub async fn contact_as(&self, complaint: Uuid, alias: &str) {
        self.engine
            .execute(
                complaint,
                request(ComplaintCommand::LogContact {
                    direction: Direction::Inbound,
                    channel: Channel::Phone,
                    summary: PlainText::parse("Called back about the refund").unwrap(),
                    request: true,
                    alias: Some(StaffAlias::parse(alias).unwrap()),
                }),
            )
            .await
            .expect("log contact under an alias");
    }

    /// Every ledger entry, in order.
    pub async fn ledger(&self) -> Vec<LedgerEntry> {
        self.engine
            .ledger()
            .entries_after(0, 10_000)
            .await
            .expect("ledger")
    }

    pub async fn head(&self) -> u64 {
        self.engine.ledger().head_position().await.expect("head")
    }

    pub async fn subscribe(
        &self,
        url: &str,
        event_types: &[&str],
        max_attempts: Option<u32>,
    ) -> CreatedSubscription {
        self.webhooks
            .subscribe(NewSubscription {
                url: url.to_owned(),
                event_types: event_types.iter().map(|name| (*name).to_owned()).collect(),
                secret: None,
                max_attempts,
                start: Start::Beginning,
                owner: None,
            })
            .await
            .expect("subscribe")
    }

    pub async fn status(&self, id: Uuid) -> SubscriptionStatus {
        self.webhooks.status(id).await.expect("status")
    }

    /// Ticks until every subscription has caught up with the head, moving the clock to the
    /// next retry whenever a tick has nothing due. Bounded, so a worker that stops making
    /// progress fails the test instead of hanging it.
    pub async fn deliver_everything(&self) {
        for _ in 0..200 {
            let report = self.webhooks.tick().await.expect("tick");
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            let statuses = self.webhooks.list().await.expect("list");
            if statuses
                .iter()
                .filter(|status| status.subscription.is_active())
                .all(|status| status.lag == 0)
            {
                return;
            }
            if report.attempts.is_empty() && report.skipped == 0 {
                let next = report.next_due_at.expect("something is waiting");
                self.clock.set(next);
            }
        }
        panic!("delivery did not catch up within 200 ticks");
    }
}

fn instance(
    database: &Database,
    master_key: &MasterKey,
    clock: &FixedClock,
    settings: WebhookSettings,
) -> Result<(Engine, Webhooks), obliged_webhooks::WebhookError> {
    let clock: Arc<dyn obliged_domain::Clock> = Arc::new(clock.clone());
    let engine = Engine::new(
        database,
        master_key,
        ComplaintServices::new(clock.clone(), Policy::default()),
    );
    let webhooks = Webhooks::new(engine.reader(), clock, settings)?;
    Ok((engine, webhooks))
}

fn request(command: ComplaintCommand<PlainText>) -> CommandRequest {
    CommandRequest {
        actor: StaffId::parse("alice").unwrap(),
        command,
        idempotency_key: None,
        correlation_id: None,
    }
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub answered: StatusCode,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("ASCII header")
    }

    pub fn position(&self) -> u64 {
        self.header("obliged-position").parse().expect("a position")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn accepted(&self) -> bool {
        self.answered.is_success()
    }

    /// Checks the signature the way a receiver would, with HMAC-SHA256 computed here rather
    /// than by the crate under test. Returns the signed timestamp.
    #[track_caller]
    pub fn verify(&self, secret: &str) -> i64 {
        let header = self.header("obliged-signature");
        assert!(
            self.signature_matches(secret),
            "signature {header:?} does not verify with {secret:?}"
        );
        let t = header.split(',').next().unwrap();
        t.strip_prefix("t=").unwrap().parse().expect("unix seconds")
    }

    /// Whether the `Obliged-Signature` header is `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
    pub fn signature_matches(&self, secret: &str) -> bool {
        let header = self.header("obliged-signature");
        let Some((t, v1)) = header.split_once(',') else {
            return false;
        };
        let (Some(t), Some(v1)) = (t.strip_prefix("t="), v1.strip_prefix("v1=")) else {
            return false;
        };
        if t.parse::<i64>().is_err() {
            return false;
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(&self.body);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        v1 == expected
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
pub enum Script {
    /// 500 for the first `n` requests, then 200.
    FailFirst(usize),
    /// 500 always.
    AlwaysFail,
}

struct ReceiverState {
    script: Script,
    count: AtomicUsize,
    requests: Mutex<Vec<Received>>,
    arrivals: watch::Sender<usize>,
    /// If set, the first request waits for this before it is answered.
    hold_first: Mutex<Option<oneshot::Receiver<()>>>,
}

/// A real HTTP server on 127.0.0.1:0 that answers as scripted and records every request.
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(script: Script) -> Self {
        Self::start_with(script, None).await
    }

    /// A receiver whose first request is answered only once the returned sender fires (or is
    /// dropped).
    pub async fn holding_first(script: Script) -> (Self, oneshot::Sender<()>) {
        let (release, hold) = oneshot::channel();
        (Self::start_with(script, Some(hold)).await, release)
    }

    async fn start_with(script: Script, hold_first: Option<oneshot::Receiver<()>>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Self::serve(listener, script, hold_first)
    }

    fn serve(
        listener: tokio::net::TcpListener,
        script: Script,
        hold_first: Option<oneshot::Receiver<()>>,
    ) -> Self {
        let state = Arc::new(ReceiverState {
            script,
            count: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            arrivals: watch::Sender::new(0),
            hold_first: Mutex::new(hold_first),
        });
        let url = format!("http://{}/hooks/obliged", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/hooks/obliged", post(receive))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        Self { url, state, server }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// Waits until `n` requests have arrived. Bounded: the receiver is local, so a long wait
    /// means the worker is not sending, and the test fails.
    pub async fn wait_for(&self, n: usize) {
        let mut arrivals = self.state.arrivals.subscribe();
        tokio::time::timeout(
            Duration::from_secs(20),
            arrivals.wait_for(|count| *count >= n),
        )
        .await
        .unwrap_or_else(|_| panic!("waited 20 s for {n} requests, got {}", self.count()))
        .expect("receiver alive");
    }
}

/// The address of a receiver that is down: its port is bound, so nothing else can take it, but
/// nothing listens on it, so every connection is refused until [`DownReceiver::start`].
pub struct DownReceiver {
    socket: tokio::net::TcpSocket,
    pub url: String,
}

impl DownReceiver {
    pub fn reserve() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("bind a port");
        let url = format!("http://{}/hooks/obliged", socket.local_addr().unwrap());
        Self { socket, url }
    }

    /// The receiver comes up on the same address.
    pub fn start(self, script: Script) -> Receiver {
        let listener = self.socket.listen(1024).expect("listen");
        let receiver = Receiver::serve(listener, script, None);
        assert_eq!(receiver.url, self.url);
        receiver
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let number = state.count.fetch_add(1, Ordering::SeqCst);
    let answered = match state.script {
        Script::FailFirst(n) if number >= n => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    state.requests.lock().unwrap().push(Received {
        headers,
        body,
        answered,
    });
    state.arrivals.send_modify(|count| *count += 1);
    let hold = state.hold_first.lock().unwrap().take();
    if let Some(hold) = hold {
        let _ = hold.await;
    }
    answered
}

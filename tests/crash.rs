//! Crashes and outages of the real binary under a sustained load of concurrent clients.
//!
//! On both stores, in every run: `obliged serve` is killed with SIGKILL in the middle of the
//! load and started again on the same database. The heavy variant stops and starts the
//! PostgreSQL server itself while the load runs, so it runs only with `OBLIGED_HEAVY=1`
//! (`tests/heavy/run.sh`) and otherwise reports itself skipped.
//!
//! Either way, afterwards: every acknowledged command's events are in its complaint's history,
//! exactly as acknowledged; sending the unacknowledged commands (and the acknowledged ones)
//! again under their idempotency keys applies each at most once; the background sequencer and
//! projector pick up what the dead process left behind without any command nudging them;
//! `obliged audit verify` passes; and the read models equal a full rebuild.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::support::server::{Installation, Server, STARTUP_PATIENCE};
use crate::support::{
    for_each_store, new_complaint, promise_id, read_model_rows, scalar, Backend, TestStore,
};

for_each_store!(a_server_killed_under_load_loses_nothing_it_acknowledged);

/// Concurrent clients, each working through complaints of its own.
const CLIENTS: usize = 6;
/// The server is killed once this many commands were acknowledged…
const KILL_AFTER: usize = 120;
/// …or after this much load, whichever comes first.
const LOAD_AT_MOST: Duration = Duration::from_secs(3);
/// Events committed but not in the ledger.
const UNSEQUENCED: &str = "SELECT (SELECT count(*) FROM events) - (SELECT count(*) FROM ledger)";
/// The longest a test waits for the server to settle (workers catching up).
const PATIENCE: Duration = Duration::from_secs(60);

/// One command as a client sends it.
#[derive(Debug, Clone)]
struct Sent {
    key: String,
    /// The complaint it is for; `None` for a filing.
    complaint: Option<String>,
    body: Value,
}

impl Sent {
    fn path(&self) -> String {
        match &self.complaint {
            None => "/api/complaints".to_owned(),
            Some(id) => format!("/api/complaints/{id}/commands"),
        }
    }
}

/// What a 2xx answer said: the complaint, and the events (sequence, type) of the command.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    complaint: String,
    /// The command's id as recorded in its events' metadata (derived from the key).
    command_id: String,
    events: Vec<(u64, String)>,
    replayed: bool,
    /// The ledger position the answer named for the command's last event.
    position: Option<u64>,
}

enum Answer {
    Ack(Ack),
    /// 503 with `Retry-After` and the `unavailable` problem.
    Unavailable,
    /// Any other answer.
    Unexpected(String),
    /// No answer: the connection failed or broke off.
    Lost(String),
}

/// The HTTP API of one running server, as one caller.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(server: &Server, token: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base: server.base.clone(),
            token: token.to_owned(),
        }
    }

    async fn send(&self, sent: &Sent) -> Answer {
        let path = sent.path();
        let response = match self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("idempotency-key", &sent.key)
            .json(&sent.body)
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => return Answer::Lost(error.to_string()),
        };
        let status = response.status();
        let retry_after = response.headers().contains_key("retry-after");
        let body: Value = match response.json().await {
            Ok(body) => body,
            Err(error) => return Answer::Lost(format!("the body of an HTTP {status}: {error}")),
        };
        if status.is_success() {
            return Answer::Ack(Ack {
                complaint: body["id"].as_str().expect("id").to_owned(),
                command_id: body["command_id"].as_str().expect("command_id").to_owned(),
                events: events(&body["events"]),
                replayed: body["replayed"].as_bool().expect("replayed"),
                position: body["position"].as_u64(),
            });
        }
        if status == StatusCode::SERVICE_UNAVAILABLE && retry_after && body["type"] == "unavailable"
        {
            return Answer::Unavailable;
        }
        Answer::Unexpected(format!(
            "POST {path} (key {}) answered {status} (Retry-After: {retry_after}): {body}",
            sent.key
        ))
    }

    async fn get(&self, path: &str) -> (StatusCode, bool, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let status = response.status();
        let retry_after = response.headers().contains_key("retry-after");
        let body = response.json().await.unwrap_or(Value::Null);
        (status, retry_after, body)
    }

    /// Waits until the ledger holds all `committed` events and every projector has caught up
    /// with it. Reads only `/api/projections`, which sequences and projects nothing itself:
    /// whatever moves is the background workers' doing.
    async fn settled(&self, committed: u64) {
        let deadline = Instant::now() + PATIENCE;
        let mut last = Value::Null;
        while Instant::now() < deadline {
            let (status, _, body) = self.get("/api/projections").await;
            if status == StatusCode::OK
                && body["head"].as_u64() == Some(committed)
                && body["consumers"]
                    .as_array()
                    .expect("consumers")
                    .iter()
                    .filter(|consumer| consumer["kind"] == "projector")
                    .all(|consumer| consumer["lag"] == 0)
            {
                return;
            }
            last = body;
            // Condition polling: the workers wake on their own (at least once a second).
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the background workers did not sequence and project all {committed} events within \
             {PATIENCE:?}: {last}"
        );
    }

    /// Every event of the given complaints, grouped by the command (its recorded id) that
    /// appended it, as (sequence, type) in order.
    async fn events_by_command(
        &self,
        complaints: &BTreeSet<String>,
    ) -> BTreeMap<String, Vec<(u64, String)>> {
        let mut by_command: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
        for complaint in complaints {
            let (status, _, body) = self
                .get(&format!("/api/complaints/{complaint}/history"))
                .await;
            assert_eq!(status, StatusCode::OK, "history of {complaint}: {body}");
            for event in body["events"].as_array().expect("events") {
                by_command
                    .entry(event["command_id"].as_str().expect("command_id").to_owned())
                    .or_default()
                    .push((
                        event["sequence"].as_u64().expect("sequence"),
                        event["type"].as_str().expect("type").to_owned(),
                    ));
            }
        }
        by_command
    }
}

fn events(list: &Value) -> Vec<(u64, String)> {
    list.as_array()
        .expect("events")
        .iter()
        .map(|event| {
            (
                event["sequence"].as_u64().expect("sequence"),
                event["type"].as_str().expect("type").to_owned(),
            )
        })
        .collect()
}

/// What the clients do when the server answers 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Patience {
    /// The server is healthy throughout until it is killed: a 503 is a failure, and so is a
    /// lost answer before the kill.
    UntilKilled,
    /// The database goes away for a while: send the same command again (same key) until it is
    /// acknowledged, up to the deadline.
    RetryUnavailable { deadline: Instant },
}

/// What one client saw.
#[derive(Debug, Default)]
struct ClientLog {
    acknowledged: Vec<(Sent, Ack)>,
    /// The command whose answer never came (the server died under it).
    lost: Option<Sent>,
    unexpected: Vec<String>,
}

/// Concurrent clients, each filing complaints and working through the same commands on each.
struct Load {
    api: Api,
    patience: Patience,
    /// Acknowledged commands so far, over all clients.
    acknowledged: watch::Sender<usize>,
    /// 503 answers so far, over all clients.
    unavailable: watch::Sender<usize>,
    /// Set just before the test kills the server: lost answers are expected from then on.
    killing: watch::Sender<bool>,
    /// Set when the clients are to finish the command in hand and stop.
    stop: watch::Sender<bool>,
}

impl Load {
    fn new(api: Api, patience: Patience) -> Arc<Self> {
        Arc::new(Self {
            api,
            patience,
            acknowledged: watch::Sender::new(0),
            unavailable: watch::Sender::new(0),
            killing: watch::Sender::new(false),
            stop: watch::Sender::new(false),
        })
    }

    fn start(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<ClientLog>> {
        (0..CLIENTS)
            .map(|client| tokio::spawn(self.clone().client(client)))
            .collect()
    }

    /// Waits until at least `count` commands have been acknowledged in all.
    async fn acknowledged(&self, count: usize) {
        let mut acknowledged = self.acknowledged.subscribe();
        acknowledged
            .wait_for(|acknowledged| *acknowledged >= count)
            .await
            .expect("the load is alive");
    }

    /// The same, bounded: if the clients stop making progress, they are stopped and the test
    /// fails with what they saw.
    async fn until_acknowledged(
        &self,
        count: usize,
        clients: Vec<tokio::task::JoinHandle<ClientLog>>,
    ) -> Vec<tokio::task::JoinHandle<ClientLog>> {
        if tokio::time::timeout(PATIENCE, self.acknowledged(count))
            .await
            .is_err()
        {
            self.stop.send_replace(true);
            finish(clients).await;
            panic!(
                "only {} of {count} commands acknowledged within {PATIENCE:?}",
                *self.acknowledged.borrow()
            );
        }
        clients
    }

    async fn client(self: Arc<Self>, client: usize) -> ClientLog {
        let mut log = ClientLog::default();
        for number in 0.. {
            let filing = Sent {
                key: format!("c{client}-n{number}-0"),
                complaint: None,
                body: new_complaint(),
            };
            let Some(filed) = self.deliver(&filing, &mut log).await else {
                break;
            };
            for (step, body) in script(client).into_iter().enumerate() {
                let sent = Sent {
                    key: format!("c{client}-n{number}-{}", step + 1),
                    complaint: Some(filed.complaint.clone()),
                    body,
                };
                if *self.stop.borrow() || self.deliver(&sent, &mut log).await.is_none() {
                    return log;
                }
            }
            if *self.stop.borrow() {
                break;
            }
        }
        log
    }

    /// Sends one command until it has an answer to act on; `None` ends the client.
    async fn deliver(&self, sent: &Sent, log: &mut ClientLog) -> Option<Ack> {
        loop {
            match self.api.send(sent).await {
                Answer::Ack(ack) => {
                    log.acknowledged.push((sent.clone(), ack.clone()));
                    self.acknowledged.send_modify(|count| *count += 1);
                    return Some(ack);
                }
                Answer::Lost(error) => {
                    if *self.killing.borrow() {
                        log.lost = Some(sent.clone());
                    } else {
                        log.unexpected.push(format!(
                            "no answer to {} {}: {error}",
                            sent.key,
                            sent.path()
                        ));
                    }
                    return None;
                }
                Answer::Unavailable => {
                    self.unavailable.send_modify(|count| *count += 1);
                    match self.patience {
                        Patience::RetryUnavailable { deadline } if Instant::now() < deadline => {}
                        _ => {
                            log.unexpected
                                .push(format!("503 for {} {}", sent.key, sent.path()));
                            return None;
                        }
                    }
                }
                Answer::Unexpected(what) => {
                    log.unexpected.push(what);
                    return None;
                }
            }
        }
    }
}

/// The commands each client sends on each complaint it files, in order.
fn script(client: usize) -> Vec<Value> {
    let promise = promise_id(1);
    vec![
        json!({"type":"LogContact","direction":"inbound","channel":"phone",
               "summary":"Asks for a callback","request":true}),
        json!({"type":"AssignOwner","owner":format!("agent-{client}")}),
        json!({"type":"MakePromise","promise_id":promise,"kind":"callback",
               "description":"Call back with the refund date","due_at":"2099-01-01T10:00:00Z"}),
        json!({"type":"KeepPromise","promise_id":promise,"evidence":"Called back"}),
        json!({"type":"LogContact","direction":"outbound","channel":"email",
               "summary":"Confirmed the refund by mail"}),
    ]
}

/// Every client's log, once all have ended; fails on anything unexpected.
async fn finish(clients: Vec<tokio::task::JoinHandle<ClientLog>>) -> Vec<ClientLog> {
    let logs: Vec<ClientLog> = join_all(clients)
        .await
        .into_iter()
        .map(|log| log.expect("client task"))
        .collect();
    let unexpected: Vec<&String> = logs.iter().flat_map(|log| &log.unexpected).collect();
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:#?}");
    logs
}

/// Sends `sent` once more and insists on an acknowledgement.
async fn resend(api: &Api, sent: &Sent) -> Ack {
    match api.send(sent).await {
        Answer::Ack(ack) => ack,
        Answer::Unavailable => panic!("{} sent again: 503", sent.key),
        Answer::Unexpected(what) => panic!("{} sent again: {what}", sent.key),
        Answer::Lost(error) => panic!("{} sent again: no answer: {error}", sent.key),
    }
}

/// The checks after the crash or outage, once the server runs again on the same database:
/// the background workers settle, every acknowledged command is in the history exactly as
/// acknowledged, sending every command again applies nothing twice, `audit verify` passes on
/// the stopped installation, and the read models equal a rebuild.
async fn nothing_acknowledged_is_lost(
    store: &TestStore,
    installation: &Installation,
    mut server: Server,
    api: &Api,
    logs: Vec<ClientLog>,
) {
    // The background workers alone sequence and project what is in the events table, including
    // events a dead process committed but never sequenced.
    let committed = scalar(&store.database, "SELECT count(*) FROM events").await as u64;
    api.settled(committed).await;

    let acknowledged: Vec<&(Sent, Ack)> = logs.iter().flat_map(|log| &log.acknowledged).collect();
    let lost: Vec<&Sent> = logs.iter().filter_map(|log| log.lost.as_ref()).collect();
    let mut complaints: BTreeSet<String> = acknowledged
        .iter()
        .map(|(_, ack)| ack.complaint.clone())
        .collect();
    let stored = api.events_by_command(&complaints).await;
    for (sent, ack) in &acknowledged {
        assert_eq!(
            stored.get(&ack.command_id),
            Some(&ack.events),
            "the events of acknowledged command {} ({})",
            sent.key,
            sent.body
        );
    }
    // A position named in an answer still names the same event: sequencing is deterministic,
    // so a sequencer step lost with the database is redone with the same positions.
    for (sent, ack) in &acknowledged {
        let (Some(position), Some((sequence, _))) = (ack.position, ack.events.last()) else {
            continue;
        };
        let same = scalar(
            &store.database,
            &format!(
                "SELECT count(*) FROM ledger WHERE position = {position} \
                 AND aggregate_id = '{}' AND sequence = {sequence}",
                ack.complaint
            ),
        )
        .await;
        assert_eq!(
            same, 1,
            "acknowledged command {} was answered with position {position}, which the ledger \
             now gives to another event",
            sent.key
        );
    }

    // Unacknowledged commands are sent again with the same key: each is applied at most once,
    // whether or not it was committed before the crash. Acknowledged ones are replayed.
    let mut expected: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for sent in &lost {
        let ack = resend(api, sent).await;
        complaints.insert(ack.complaint.clone());
        expected.insert(ack.command_id, ack.events);
    }
    // One client per log, each sending its commands again in its own order.
    join_all(logs.iter().map(|log| async move {
        for (sent, ack) in &log.acknowledged {
            let again = resend(api, sent).await;
            assert!(
                again.replayed
                    && again.events == ack.events
                    && again.complaint == ack.complaint
                    && again.command_id == ack.command_id
                    // A replay names the same position (when both answers could name one).
                    && (again.position.is_none()
                        || ack.position.is_none()
                        || again.position == ack.position),
                "{} sent again: {again:?}, first acknowledged as {ack:?}",
                sent.key
            );
        }
    }))
    .await;
    for (_, ack) in &acknowledged {
        expected.insert(ack.command_id.clone(), ack.events.clone());
    }
    let stored = api.events_by_command(&complaints).await;
    assert_eq!(
        stored, expected,
        "every command's events exactly once, and nothing else"
    );
    let total: usize = expected.values().map(Vec::len).sum();
    let committed = scalar(&store.database, "SELECT count(*) FROM events").await as u64;
    assert_eq!(committed, total as u64, "no events beyond the commands'");
    api.settled(committed).await;

    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    drop(server);

    let verified = installation.run(&["audit", "verify"]);
    assert!(
        verified.contains(&format!("all {committed} ledger entries verify")),
        "{verified}"
    );
    assert!(!verified.contains("not yet sequenced"), "{verified}");

    let projected = read_model_rows(&store.database).await;
    assert!(
        projected.contains(&format!("-- {} rows", complaints.len())),
        "one list row per complaint: {projected:?}"
    );
    let rebuilt = installation.run(&["projections", "rebuild"]);
    assert!(
        rebuilt.contains(&format!("up to ledger position {committed}")),
        "{rebuilt}"
    );
    assert_eq!(
        read_model_rows(&store.database).await,
        projected,
        "the read models the workers kept equal a rebuild from position 0"
    );
}

async fn a_server_killed_under_load_loses_nothing_it_acknowledged(backend: Backend) {
    let Some(store) = TestStore::create(backend).await else {
        return;
    };
    let installation = Installation::new(&store.url);
    let token = installation.token("agent", "alice");
    let mut server = installation.serve().await;

    let load = Load::new(Api::new(&server, &token), Patience::UntilKilled);
    let started = Instant::now();
    let clients = load.start();
    let _ = tokio::time::timeout(LOAD_AT_MOST, load.acknowledged(KILL_AFTER)).await;
    // Kill at a moment when some events are committed but not yet sequenced, if one comes
    // within a second: the restarted server's background sequencer must pick those up.
    let watch_until = Instant::now() + Duration::from_secs(1);
    while scalar(&store.database, UNSEQUENCED).await == 0 && Instant::now() < watch_until {}
    load.killing.send_replace(true);
    server.kill();
    let load_time = started.elapsed();
    let logs = finish(clients).await;
    let acknowledged: usize = logs.iter().map(|log| log.acknowledged.len()).sum();
    let in_flight = logs.iter().filter(|log| log.lost.is_some()).count();
    assert!(
        acknowledged >= 20,
        "the load got going before the kill: {acknowledged} acknowledged"
    );
    let committed = scalar(&store.database, "SELECT count(*) FROM events").await;
    let sequenced = scalar(&store.database, "SELECT count(*) FROM ledger").await;
    eprintln!(
        "killed after {load_time:?} of load: {acknowledged} commands acknowledged, {in_flight} \
         in flight; {committed} events committed, {sequenced} of them sequenced"
    );

    let server = installation.serve().await;
    let api = Api::new(&server, &token);
    nothing_acknowledged_is_lost(&store, &installation, server, &api, logs).await;
}

/// Whether the heavy variants run (`OBLIGED_HEAVY=1`, as `tests/heavy/run.sh` sets it).
fn heavy() -> bool {
    std::env::var("OBLIGED_HEAVY").is_ok_and(|value| value == "1")
}

/// The PostgreSQL cluster that the test databases live on, stopped and started with
/// `pg_ctlcluster` (root). `OBLIGED_HEAVY_PG_CLUSTER` names it as "VERSION NAME"; the default
/// is the `main` cluster of the first version in /etc/postgresql.
struct Cluster {
    version: String,
    name: String,
}

impl Cluster {
    fn from_env() -> Self {
        let named = std::env::var("OBLIGED_HEAVY_PG_CLUSTER").unwrap_or_else(|_| {
            let mut versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
                .expect("/etc/postgresql (set OBLIGED_HEAVY_PG_CLUSTER)")
                .map(|entry| {
                    entry
                        .expect("entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            versions.sort();
            format!("{} main", versions.first().expect("a PostgreSQL version"))
        });
        let (version, name) = named
            .split_once(' ')
            .expect("OBLIGED_HEAVY_PG_CLUSTER is \"VERSION NAME\"");
        Self {
            version: version.to_owned(),
            name: name.trim().to_owned(),
        }
    }

    fn control(&self, action: &[&str]) -> bool {
        Command::new("pg_ctlcluster")
            .arg("--skip-systemctl-redirect")
            .args([&self.version, &self.name])
            .args(action)
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Stops the cluster: `fast` cuts open sessions off and writes a checkpoint; `immediate`
    /// kills the server as a crash would, and the next start recovers from the WAL. It starts
    /// again when the outage ends or is dropped, so a failing test leaves PostgreSQL running.
    fn stop(&self, mode: &str) -> Outage<'_> {
        assert!(
            self.control(&["stop", "-m", mode]),
            "pg_ctlcluster {} {} stop",
            self.version,
            self.name
        );
        Outage {
            cluster: self,
            over: false,
        }
    }
}

struct Outage<'a> {
    cluster: &'a Cluster,
    over: bool,
}

impl Outage<'_> {
    fn end(mut self) {
        self.over = true;
        assert!(
            self.cluster.control(&["start"]),
            "pg_ctlcluster {} {} start",
            self.cluster.version,
            self.cluster.name
        );
    }
}

impl Drop for Outage<'_> {
    fn drop(&mut self) {
        if !self.over {
            self.cluster.control(&["start"]);
        }
    }
}

/// Heavy: PostgreSQL stops (fast shutdown, every session cut off) and starts again while
/// clients keep sending commands. The server stays up, answers 503 with `Retry-After` to
/// commands and reads alike while the database is away, recovers by itself, and loses nothing
/// it acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heavy_postgres_stopped_and_started_under_load() {
    postgres_away_under_load("fast").await;
}

/// Heavy: PostgreSQL crashes (immediate shutdown: no checkpoint, and whatever was committed
/// without waiting for its WAL flush, as the sequencer's steps are, may be gone) and recovers
/// while clients keep sending commands. Besides everything the fast stop checks, every ledger
/// position named in an answer still names the same event after recovery.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heavy_postgres_crashed_under_load() {
    postgres_away_under_load("immediate").await;
}

async fn postgres_away_under_load(mode: &str) {
    if !heavy() {
        eprintln!(
            "SKIPPED: stops and starts the PostgreSQL server; runs only with OBLIGED_HEAVY=1 \
             (tests/heavy/run.sh)"
        );
        return;
    }
    let cluster = Cluster::from_env();
    let store = TestStore::create(Backend::Postgres)
        .await
        .expect("PostgreSQL is required with OBLIGED_HEAVY=1");
    let installation = Installation::new(&store.url);
    let token = installation.token("agent", "alice");
    let admin_token = installation.token("admin", "root");
    let mut server = installation.serve().await;
    let api = Api::new(&server, &token);
    let admin = Api::new(&server, &admin_token);

    let load = Load::new(
        api.clone(),
        Patience::RetryUnavailable {
            deadline: Instant::now() + Duration::from_secs(120),
        },
    );
    let clients = load.start();
    let clients = load.until_acknowledged(40, clients).await;
    // A complaint of its own to read while the database is away.
    let probe = Sent {
        key: "probe".into(),
        complaint: None,
        body: new_complaint(),
    };
    let probe_ack = resend(&api, &probe).await;

    let started = Instant::now();
    let outage = cluster.stop(mode);
    let unavailable_before = *load.unavailable.borrow();
    // Reads of every kind answer 503 with Retry-After, not 500, and the process stays up.
    let reads = [
        "/healthz".to_owned(),
        format!("/api/complaints/{}", probe_ack.complaint),
        format!("/api/complaints/{}/history", probe_ack.complaint),
        "/api/complaints".to_owned(),
        "/api/queues/agent-0".to_owned(),
        "/api/counters".to_owned(),
        "/api/projections".to_owned(),
        "/api/events?after=0".to_owned(),
        "/api/webhooks".to_owned(),
    ];
    let answers = join_all(reads.iter().map(|path| admin.get(path))).await;
    for (path, (status, retry_after, body)) in reads.iter().zip(answers) {
        assert!(
            status == StatusCode::SERVICE_UNAVAILABLE
                && retry_after
                && body["type"] == "unavailable",
            "GET {path} while PostgreSQL is down: {status}, Retry-After {retry_after}: {body}"
        );
    }
    // Commands too: the clients see 503s and keep trying.
    let mut unavailable = load.unavailable.subscribe();
    tokio::time::timeout(
        PATIENCE,
        unavailable.wait_for(|count| *count > unavailable_before),
    )
    .await
    .expect("a command answered 503 while PostgreSQL was down")
    .expect("the load is alive");
    assert!(server.is_running(), "the server survives the outage");
    outage.end();
    let outage_time = started.elapsed();

    server.wait_healthy(STARTUP_PATIENCE).await;
    let recovered_at = *load.acknowledged.borrow();
    let clients = load.until_acknowledged(recovered_at + 40, clients).await;
    load.stop.send_replace(true);
    let mut logs = finish(clients).await;
    assert!(server.is_running(), "the server survived the outage");
    eprintln!(
        "PostgreSQL was away for {outage_time:?}; {} commands acknowledged, {} answers were 503",
        logs.iter().map(|log| log.acknowledged.len()).sum::<usize>(),
        *load.unavailable.borrow()
    );
    logs.push(ClientLog {
        acknowledged: vec![(probe, probe_ack)],
        ..ClientLog::default()
    });
    nothing_acknowledged_is_lost(&store, &installation, server, &api, logs).await;
}

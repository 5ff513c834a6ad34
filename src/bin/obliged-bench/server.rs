//! The server under load: the benchmark binary starts itself as `obliged serve` (the same code,
//! in a process of its own, so its memory is its own), and a load client in this process sends
//! it a mixed workload over loopback.
//!
//! - **HTTP mix.** 16 clients each repeat: file a complaint, assign it, log an inbound contact,
//!   make a promise, read the complaint, log a reply, read the owner's queue, read the history
//!   (5 commands, 3 reads). Requests/s and p50/p99 latency over HTTP; the ceiling is the same
//!   operations called in-process on the engine and read models, with the same background
//!   workers running: what HTTP, JSON and authentication add. Any error fails the target.
//! - **Peak memory.** The server is started on a database holding half of, then all of
//!   `events` committed events (complaint lives of 10 events written in bulk, not yet
//!   sequenced), sequences and projects them all, then serves a quarter of the HTTP mix's
//!   requests; its peak resident set (`VmHWM`) is read from `/proc`. The ceiling is the same on
//!   an empty database.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use obliged::app::App;
use obliged::startup::SystemClock;
use obliged_domain::{
    Channel, ComplaintCommand, Direction, Owner, PlainText, Policy, PromiseId, PromiseKind,
};
use obliged_storage::{Checkpoints, Database, Disclosure, Ledger, MasterKey, Role, Tokens};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::{filing, percentile, request, Figure, Fresh, CLIENTS};

/// One in-process operation of the mix.
type Step = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// Requests in one round of the mix.
const ROUND: usize = 8;

/// `obliged serve` on `url`, listening on a free loopback port (printed on stdout).
pub async fn run_child(url: &str, key: &Path) -> anyhow::Result<()> {
    let key = key.to_string_lossy();
    let cli = obliged::cli::Cli::try_parse_from([
        "obliged",
        "--database-url",
        url,
        "--master-key-file",
        &key,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--clock-interval",
        "3600",
    ])?;
    obliged::cli::run(cli).await
}

/// A server process started from this binary.
struct Server {
    child: tokio::process::Child,
    base: String,
}

impl Server {
    async fn start(fresh: &Fresh) -> anyhow::Result<Self> {
        let scratch = fresh.scratch();
        std::fs::create_dir_all(&scratch)?;
        let key: PathBuf = scratch.join("master.key");
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--serve")
            .arg(&fresh.url)
            .arg("--serve-key")
            .arg(&key)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting the server process")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(address) = line.strip_prefix("listening on ") {
                    return anyhow::Ok(address.trim().to_owned());
                }
            }
            anyhow::bail!("the server exited before listening")
        })
        .await
        .context("the server did not start within two minutes")??;
        Ok(Self { child, base })
    }

    /// The process's peak resident set so far, in MiB.
    fn peak_mib(&self) -> anyhow::Result<f64> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .context("reading /proc (peak memory is measured on Linux)")?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")?;
        Ok(kib / 1024.0)
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// What one run of the mix measured.
struct MixRun {
    requests: usize,
    errors: usize,
    first_error: Option<String>,
    seconds: f64,
    /// Sorted, in milliseconds.
    latencies: Vec<f64>,
}

impl MixRun {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

pub async fn http_mix(
    store: &str,
    postgres_url: &str,
    requests: usize,
) -> anyhow::Result<Vec<Figure>> {
    let rounds = requests.div_ceil(ROUND).max(CLIENTS);
    eprintln!(
        "[{store}] HTTP mix: {} requests by {CLIENTS} clients (in-process first)",
        rounds * ROUND
    );
    let fresh = Fresh::new(store, postgres_url).await?;
    let direct = in_process(&fresh.database, rounds).await;
    fresh.drop().await;
    let direct = direct?;

    let fresh = Fresh::new(store, postgres_url).await?;
    let over_http = async {
        let token = token(&fresh.database).await?;
        let server = Server::start(&fresh).await?;
        let run = mix(&server.base, &token, rounds).await;
        server.stop().await;
        run
    }
    .await;
    fresh.drop().await;
    let http = over_http?;

    let value = http.per_second();
    let ceiling = direct.per_second();
    let error_note = http
        .first_error
        .as_deref()
        .map_or(String::new(), |error| format!("; first error: {error}"));
    Ok(vec![
        Figure::new(store, "HTTP mix, 16 clients", value, "req/s")
            .beside(ceiling, value / ceiling)
            .note(format!(
                "{} requests (5 commands : 3 reads), {} errors{error_note}; ceiling: the same \
                 operations in-process on the engine and read models",
                http.requests, http.errors
            ))
            .target("zero errors", http.errors == 0 && direct.errors == 0),
        latency_figure(store, "p50", &http, &direct, 0.5),
        latency_figure(store, "p99", &http, &direct, 0.99),
    ])
}

fn latency_figure(store: &str, label: &str, http: &MixRun, direct: &MixRun, p: f64) -> Figure {
    let value = percentile(&http.latencies, p);
    let ceiling = percentile(&direct.latencies, p);
    Figure::new(store, format!("HTTP mix latency {label}"), value, "ms")
        .beside(ceiling, ceiling / value)
        .note(format!(
            "per request, all kinds, {CLIENTS} clients; ceiling: the in-process {label}"
        ))
}

async fn token(database: &Database) -> anyhow::Result<String> {
    Ok(Tokens::new(database.clone(), Arc::new(SystemClock))
        .create("bench-agent", Role::Agent)
        .await?
        .secret)
}

/// The mix over HTTP: `rounds` rounds shared by 16 clients.
async fn mix(base: &str, token: &str, rounds: usize) -> anyhow::Result<MixRun> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .timeout(Duration::from_secs(60))
        .build()?;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for worker in 0..CLIENTS {
        let client = client.clone();
        let base = base.to_owned();
        let token = format!("Bearer {token}");
        tasks.spawn(async move {
            let mut log = Log::default();
            let owner = format!("agent-{worker}");
            for round in (worker..rounds).step_by(CLIENTS) {
                let send = |method: reqwest::Method, path: String, body: Option<Value>| {
                    let mut builder = client
                        .request(method, format!("{base}{path}"))
                        .header("authorization", &token);
                    if let Some(body) = body {
                        builder = builder.json(&body);
                    }
                    builder.send()
                };
                let started = Instant::now();
                let filed = send(reqwest::Method::POST, "/api/complaints".into(), Some(new_complaint(round))).await;
                let id = match filed {
                    Ok(response) if response.status().is_success() => {
                        log.took(started);
                        let body: Value = response.json().await.unwrap_or_default();
                        body["id"].as_str().unwrap_or_default().to_owned()
                    }
                    Ok(response) => {
                        log.failed(started, format!("filing answered {}", response.status()));
                        continue;
                    }
                    Err(error) => {
                        log.failed(started, format!("filing: {error}"));
                        continue;
                    }
                };
                let commands = format!("/api/complaints/{id}/commands");
                let steps: [(reqwest::Method, String, Option<Value>); 7] = [
                    (reqwest::Method::POST, commands.clone(), Some(json!({"type": "AssignOwner", "owner": owner}))),
                    (reqwest::Method::POST, commands.clone(), Some(json!({"type": "LogContact", "direction": "inbound", "channel": "phone", "summary": "Asks when the refund arrives", "request": false}))),
                    (reqwest::Method::POST, commands.clone(), Some(json!({"type": "MakePromise", "promise_id": Uuid::now_v7(), "kind": "callback", "description": "Call back with the refund date", "due_at": "2099-01-01T10:00:00Z"}))),
                    (reqwest::Method::GET, format!("/api/complaints/{id}"), None),
                    (reqwest::Method::POST, commands.clone(), Some(json!({"type": "LogContact", "direction": "outbound", "channel": "email", "summary": "Confirmed the refund date by mail"}))),
                    (reqwest::Method::GET, format!("/api/queues/{owner}"), None),
                    (reqwest::Method::GET, format!("/api/complaints/{id}/history"), None),
                ];
                for (method, path, body) in steps {
                    let started = Instant::now();
                    match send(method, path.clone(), body).await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            log.took(started);
                        }
                        Ok(response) => {
                            log.failed(started, format!("{path} answered {}", response.status()))
                        }
                        Err(error) => log.failed(started, format!("{path}: {error}")),
                    }
                }
            }
            log
        });
    }
    finish(tasks, started).await
}

/// The same operations in-process, on the engine and read models of a full obliged (workers
/// included), by 16 tasks.
async fn in_process(database: &Database, rounds: usize) -> anyhow::Result<MixRun> {
    let app = App::new(
        database,
        &MasterKey::generate(),
        Policy::default(),
        Arc::new(SystemClock),
    );
    let workers = obliged::workers::spawn(&app, None, Duration::from_secs(3600));
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for worker in 0..CLIENTS {
        let engine = app.engine.clone();
        let read_models = app.read_models.clone();
        tasks.spawn(async move {
            let mut log = Log::default();
            let owner = format!("agent-{worker}");
            for round in (worker..rounds).step_by(CLIENTS) {
                let started = Instant::now();
                let id = match engine.file(request(filing(round))).await {
                    Ok(outcome) => {
                        log.took(started);
                        outcome.complaint_id
                    }
                    Err(error) => {
                        log.failed(started, error.to_string());
                        continue;
                    }
                };
                let command = |command: ComplaintCommand<PlainText>| {
                    let engine = engine.clone();
                    async move {
                        engine
                            .execute(id, request(command))
                            .await
                            .map(drop)
                            .map_err(|error| error.to_string())
                    }
                };
                let text = |text: &str| PlainText::parse(text).expect("valid");
                let steps: Vec<Step> = vec![
                    Box::pin(command(ComplaintCommand::AssignOwner {
                        owner: Owner::parse(&owner).expect("valid"),
                    })),
                    Box::pin(command(ComplaintCommand::LogContact {
                        direction: Direction::Inbound,
                        channel: Channel::Phone,
                        summary: text("Asks when the refund arrives"),
                        request: false,
                        alias: None,
                    })),
                    Box::pin(command(ComplaintCommand::MakePromise {
                        promise_id: PromiseId::new(Uuid::now_v7()),
                        kind: PromiseKind::Callback,
                        description: text("Call back with the refund date"),
                        due_at: "2099-01-01T10:00:00Z".parse().expect("valid"),
                        concerns: None,
                    })),
                    Box::pin({
                        let engine = engine.clone();
                        async move {
                            engine
                                .complaint(id, None)
                                .await
                                .map(|complaint| drop(serde_json::to_vec(&complaint.status)))
                                .map_err(|error| error.to_string())
                        }
                    }),
                    Box::pin(command(ComplaintCommand::LogContact {
                        direction: Direction::Outbound,
                        channel: Channel::Email,
                        summary: text("Confirmed the refund date by mail"),
                        request: false,
                        alias: None,
                    })),
                    Box::pin({
                        let read_models = read_models.clone();
                        let owner = owner.clone();
                        let now = engine.now();
                        async move {
                            read_models
                                .queue(&owner, now, 100)
                                .await
                                .map(|items| drop(serde_json::to_vec(&items)))
                                .map_err(|error| error.to_string())
                        }
                    }),
                    Box::pin({
                        let engine = engine.clone();
                        async move {
                            engine
                                .history(id, Disclosure::Full)
                                .await
                                .map(|events| drop(serde_json::to_vec(&events)))
                                .map_err(|error| error.to_string())
                        }
                    }),
                ];
                for step in steps {
                    let started = Instant::now();
                    match step.await {
                        Ok(()) => log.took(started),
                        Err(error) => log.failed(started, error),
                    }
                }
            }
            log
        });
    }
    let run = finish(tasks, started).await;
    app.shutdown.send_replace(true);
    for worker in workers {
        let _ = worker.await;
    }
    run
}

#[derive(Default)]
struct Log {
    latencies: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
}

impl Log {
    fn took(&mut self, started: Instant) {
        self.latencies
            .push(started.elapsed().as_secs_f64() * 1000.0);
    }

    fn failed(&mut self, started: Instant, error: String) {
        self.took(started);
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }
}

async fn finish(mut tasks: JoinSet<Log>, started: Instant) -> anyhow::Result<MixRun> {
    let mut run = MixRun {
        requests: 0,
        errors: 0,
        first_error: None,
        seconds: 0.0,
        latencies: Vec::new(),
    };
    while let Some(log) = tasks.join_next().await {
        let log = log?;
        run.errors += log.errors;
        if run.first_error.is_none() {
            run.first_error = log.first_error;
        }
        run.latencies.extend(log.latencies);
    }
    run.seconds = started.elapsed().as_secs_f64();
    run.requests = run.latencies.len();
    run.latencies.sort_by(f64::total_cmp);
    anyhow::ensure!(run.requests > 0, "the mix sent nothing");
    Ok(run)
}

fn new_complaint(number: usize) -> Value {
    json!({
        "customer": {
            "reference": format!("CUST-{number}"),
            "name": "Jane Doe",
            "email": "jane.doe@example.org",
        },
        "channel": "phone",
        "category": "billing",
        "description": "Charged twice for the November invoice",
    })
}

pub async fn peak_memory(
    store: &str,
    postgres_url: &str,
    events: usize,
    requests: usize,
) -> anyhow::Result<Vec<Figure>> {
    let rounds = (requests / 4).div_ceil(ROUND).max(CLIENTS);
    let (empty, _) = peak_with(store, postgres_url, 0, rounds).await?;
    let mut figures = Vec::new();
    for size in [events / 2, events] {
        let (peak, (stored, seconds)) = peak_with(store, postgres_url, size, rounds).await?;
        let name = format!("server peak memory, {stored} events stored");
        figures.push(
            Figure::new(store, name, peak, "MiB")
                .beside(empty, empty / peak)
                .note(format!(
                "peak resident set (VmHWM) after sequencing and projecting all {stored} events \
                 ({:.0} events/s from start) and serving {} mixed requests; ceiling: the same \
                 server on an empty database",
                stored as f64 / seconds,
                rounds * ROUND
            )),
        );
    }
    Ok(figures)
}

/// The server's peak memory on a database holding about `events` events, once it has caught up
/// with them and served `rounds` rounds of the mix; and how many events it caught up with, in
/// how many seconds.
async fn peak_with(
    store: &str,
    postgres_url: &str,
    events: usize,
    rounds: usize,
) -> anyhow::Result<(f64, (usize, f64))> {
    let fresh = Fresh::new(store, postgres_url).await?;
    let measured = async {
        let stored = if events > 0 {
            eprintln!("[{store}] memory: writing {events} events");
            crate::stream::seed_lives(&fresh.database, events.div_ceil(10)).await?
        } else {
            0
        };
        let token = token(&fresh.database).await?;
        eprintln!("[{store}] memory: server catching up with {stored} events");
        let started = Instant::now();
        let server = Server::start(&fresh).await?;
        let outcome = async {
            caught_up(&fresh.database, stored as u64).await?;
            let seconds = started.elapsed().as_secs_f64();
            let run = mix(&server.base, &token, rounds).await?;
            anyhow::ensure!(
                run.errors == 0,
                "the mix failed: {}",
                run.first_error.unwrap_or_default()
            );
            anyhow::Ok((server.peak_mib()?, (stored, seconds)))
        }
        .await;
        server.stop().await;
        outcome
    }
    .await;
    fresh.drop().await;
    measured
}

/// Waits until the ledger holds `events` entries and the projector has reached them.
pub async fn caught_up(database: &Database, events: u64) -> anyhow::Result<()> {
    let ledger = Ledger::new(database.clone(), Arc::new(SystemClock));
    let checkpoints = Checkpoints::new(database.clone(), Arc::new(SystemClock));
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let head = ledger.head_position().await?;
        let projected = checkpoints
            .all()
            .await?
            .into_iter()
            .find(|(name, _)| name == obliged_projections::COMPLAINTS_PROJECTOR)
            .map_or(0, |(_, position)| position);
        if head >= events && projected >= head {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server did not catch up within an hour ({head} sequenced, {projected} projected)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

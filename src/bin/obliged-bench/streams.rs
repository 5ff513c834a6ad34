//! Idle live streams: what many open `GET /api/events/stream` connections cost everyone else.
//! The server runs in this process (`obliged::startup::serve`, workers included) on a fresh
//! database; 16 clients send ordinary requests over loopback (read the counters, list
//! complaints, log a contact), first with no stream open (the ceiling), then with `streams`
//! streams open and idle. Beside the latency, the process's CPU time over a few idle seconds,
//! with and without the streams: an idle stream should cost close to nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use obliged::app::App;
use obliged::startup::SystemClock;
use obliged_domain::Policy;
use obliged_storage::StreamLimits;
use obliged_storage::{MasterKey, Role};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::{percentile, Figure, Fresh, CLIENTS};

/// How long the CPU time of an idle server is measured.
const IDLE_WINDOW: Duration = Duration::from_secs(5);

/// The p99 of ordinary requests and the idle CPU, with `streams` idle streams and with none.
pub async fn idle_streams(
    store: &str,
    postgres_url: &str,
    streams: usize,
    requests: usize,
) -> anyhow::Result<Vec<Figure>> {
    eprintln!("[{store}] streams: {requests} ordinary requests beside {streams} idle streams");
    let fresh = Fresh::new(store, postgres_url).await?;
    let measured = measure(store, &fresh, streams, requests).await;
    fresh.drop().await;
    measured
}

async fn measure(
    store: &str,
    fresh: &Fresh,
    streams: usize,
    requests: usize,
) -> anyhow::Result<Vec<Figure>> {
    let mut app = App::new(
        &fresh.database,
        &MasterKey::generate(),
        Policy::default(),
        Arc::new(SystemClock),
    );
    app.stream_limits = StreamLimits {
        per_token: streams,
        total: streams + CLIENTS,
    };
    let agent = app.tokens.create("bench-agent", Role::Agent).await?.secret;
    let feed = app
        .tokens
        .create("bench-feed", Role::Integration)
        .await?
        .secret;
    let server = InProcess::start(app).await?;
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()?;
    // One complaint per client, so that the commands do not contend with each other.
    let mut complaints = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        complaints.push(file(&client, &base, &agent).await?);
    }

    let (none_p99, none_errors) = mix(&client, &base, &agent, &complaints, requests).await;
    let none_cpu = idle_cpu().await;

    // Streams on connections of their own, held open (and idle) until the end.
    let stream_client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let mut open = Vec::with_capacity(streams);
    for _ in 0..streams {
        let response = stream_client
            .get(format!("{base}/api/events/stream?after=0"))
            .bearer_auth(&feed)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "a stream was refused: {}",
            response.status()
        );
        open.push(response);
    }
    let (streams_p99, streams_errors) = mix(&client, &base, &agent, &complaints, requests).await;
    let streams_cpu = idle_cpu().await;
    drop(open);

    server.stop().await?;
    anyhow::ensure!(
        none_errors == 0 && streams_errors == 0,
        "the mix had errors: {none_errors} without streams, {streams_errors} with"
    );
    Ok(vec![
        Figure::new(
            store,
            format!("p99 of requests, {streams} idle streams"),
            streams_p99,
            "ms",
        )
        .beside(none_p99, none_p99 / streams_p99)
        .note(format!(
            "{requests} requests (counters, list, log a contact) by {CLIENTS} clients over \
             loopback with {streams} event streams open and idle; ceiling: the same requests \
             with no stream open"
        )),
        // No ratio: both are near zero, in ticks of 10 ms, and a ratio of two near-zero
        // numbers says nothing. The figure without streams is in the note.
        Figure::new(
            store,
            format!("CPU of the idle server, {streams} streams"),
            streams_cpu,
            "cores",
        )
        .note(format!(
            "CPU time of this process (server and idle clients) per second of wall time over \
             {} s with {streams} idle streams (none open: {none_cpu:.3} cores); /proc ticks of \
             10 ms, so 0 means under 0.002 cores",
            IDLE_WINDOW.as_secs()
        )),
    ])
}

/// `obliged serve` in this process (`obliged::startup::serve`: the console around the API,
/// workers included) on a free loopback port.
pub struct InProcess {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl InProcess {
    pub async fn start(app: App) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(obliged::startup::serve(
            listener,
            app,
            None,
            Duration::from_secs(3600),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Self { base, stop, task })
    }

    /// Stops the server and its workers, and waits for them.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

/// Files one complaint for the mix's commands.
async fn file(client: &reqwest::Client, base: &str, agent: &str) -> anyhow::Result<String> {
    let filed: serde_json::Value = client
        .post(format!("{base}/api/complaints"))
        .bearer_auth(agent)
        .json(&json!({
            "customer": {"reference": "CUST-STREAMS", "name": "Jane Doe"},
            "channel": "phone", "category": "billing", "description": "Charged twice"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(filed["id"].as_str().unwrap_or_default().to_owned())
}

/// `requests` ordinary requests by 16 clients; the p99 latency in ms and the number of errors.
async fn mix(
    client: &reqwest::Client,
    base: &str,
    agent: &str,
    complaints: &[String],
    requests: usize,
) -> (f64, usize) {
    let mut tasks = JoinSet::new();
    for (worker, complaint) in complaints.iter().enumerate().take(CLIENTS) {
        let (client, base, agent, complaint) = (
            client.clone(),
            base.to_owned(),
            agent.to_owned(),
            complaint.clone(),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            for round in (worker..requests).step_by(CLIENTS) {
                let request = match round % 3 {
                    0 => client.get(format!("{base}/api/counters")),
                    1 => client.get(format!("{base}/api/complaints?limit=20")),
                    _ => client
                        .post(format!("{base}/api/complaints/{complaint}/commands"))
                        .json(&json!({"type":"LogContact","direction":"inbound",
                                      "channel":"phone","summary":"Calls again","request":false})),
                };
                let started = Instant::now();
                match request.bearer_auth(&agent).send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(Ok((mut measured, failed))) = tasks.join_next().await {
        latencies.append(&mut measured);
        errors += failed;
    }
    latencies.sort_by(f64::total_cmp);
    if latencies.is_empty() {
        return (f64::NAN, errors.max(1));
    }
    (percentile(&latencies, 0.99), errors)
}

/// This process's CPU time per second of wall time over [`IDLE_WINDOW`], from
/// `/proc/self/stat` (user and system clock ticks; 100 per second on Linux).
async fn idle_cpu() -> f64 {
    let ticks = || -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let after_name = stat.rsplit_once(") ")?.1;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let user: f64 = fields.get(11)?.parse().ok()?;
        let system: f64 = fields.get(12)?.parse().ok()?;
        Some(user + system)
    };
    let (Some(before), started) = (ticks(), Instant::now()) else {
        return f64::NAN;
    };
    tokio::time::sleep(IDLE_WINDOW).await;
    match ticks() {
        Some(after) => (after - before) / 100.0 / started.elapsed().as_secs_f64(),
        None => f64::NAN,
    }
}

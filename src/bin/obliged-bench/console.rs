//! The web console over HTTP, beside the JSON API answering for the same data in the same run.
//! The server runs in this process (`obliged::startup::serve`: the console around the API,
//! workers included) on a fresh database, on a free loopback port; one client signed in with a
//! session cookie reads the console, another with a bearer token reads the API.
//!
//! - **Complaint page.** `GET /complaints/{id}` of a complaint given `events` events through
//!   the engine; the ceiling is what a JSON client reads for the same screen:
//!   `GET /api/complaints/{id}` then `GET /api/complaints/{id}/history`. Page and API are read
//!   in turn, `reads` times each.
//! - **My work.** `GET /my-work` of a person owing `items` promises (five per complaint); the
//!   ceiling is `GET /api/queues/{person}?limit=items`, once the projector has caught up.
//! - **Live update.** With `GET /complaints/{id}/live` open on the long complaint, `commands`
//!   contacts are logged one at a time through the API; the latency is from the command's
//!   response to the `timeline` event that shows it. The ceiling is the same from the
//!   command's response to its entry on the API's own `GET /api/events/stream`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use obliged::app::App;
use obliged::startup::SystemClock;
use obliged_domain::{ComplaintCommand, PlainText, Policy, PromiseId, PromiseKind, StaffId};
use obliged_storage::{CommandRequest, Ledger, MasterKey, Role};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::streams::InProcess;
use crate::{percentile, Figure, Fresh, Sizes};

/// The console account whose work is read (and who makes the promises).
const PERSON: &str = "bench-worker";
/// Promises per complaint in My work.
const PROMISES_PER_COMPLAINT: usize = 5;
/// Unmeasured requests of each kind before the timed ones.
const WARM_UP: usize = 5;
/// How long one live update may take before the run fails.
const LIVE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn console(
    store: &str,
    postgres_url: &str,
    sizes: &Sizes,
) -> anyhow::Result<Vec<Figure>> {
    eprintln!(
        "[{store}] console: a page of {} events, my work of {} items, {} live updates",
        sizes.console_events, sizes.work_items, sizes.live_commands
    );
    let fresh = Fresh::new(store, postgres_url).await?;
    let measured = measure(store, &fresh, sizes).await;
    fresh.drop().await;
    measured
}

async fn measure(store: &str, fresh: &Fresh, sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let app = App::new(
        &fresh.database,
        &MasterKey::generate(),
        Policy::default(),
        Arc::new(SystemClock),
    );
    let agent = app.tokens.create("bench-agent", Role::Agent).await?.secret;
    let feed = app
        .tokens
        .create("bench-feed", Role::Integration)
        .await?
        .secret;
    let account = app
        .accounts
        .add(PERSON, Role::Agent, "a long benchmark password")
        .await?;
    let session = app.accounts.start_session(&account).await?.secret;
    let engine = app.engine.clone();
    let ledger = app.ledger.clone();
    let server = InProcess::start(app).await?;
    let measured = async {
        let (id, events) = crate::load::long_history(&engine, sizes.console_events).await?;
        make_work(&engine, sizes.work_items).await?;
        crate::server::caught_up(&fresh.database, ledger.head_position().await?).await?;
        let clients = Clients::new(&server.base, &session, &agent, &feed)?;
        let mut figures = complaint_page(store, &clients, id, events, sizes.console_reads).await?;
        figures.extend(my_work(store, &clients, sizes.work_items, sizes.console_reads).await?);
        figures.extend(live(store, &clients, &ledger, id, events, sizes.live_commands).await?);
        anyhow::Ok(figures)
    }
    .await;
    server.stop().await?;
    measured
}

/// Promises by [`PERSON`], [`PROMISES_PER_COMPLAINT`] per complaint, `items` in all (rounded
/// up to whole complaints).
async fn make_work(engine: &obliged_storage::Engine, items: usize) -> anyhow::Result<()> {
    let complaints = items.div_ceil(PROMISES_PER_COMPLAINT);
    crate::file_complaints(engine, complaints, move |engine, id| async move {
        // Due times spread over about a year, from the complaint id's random bits.
        let first = (id.as_u128() % 8_000) as i64;
        for promise in 0..PROMISES_PER_COMPLAINT {
            let due_at = "2099-01-01T10:00:00Z".parse::<jiff::Timestamp>()?
                + jiff::SignedDuration::from_hours(first + promise as i64);
            let command = ComplaintCommand::MakePromise {
                promise_id: PromiseId::new(Uuid::now_v7()),
                kind: PromiseKind::Callback,
                description: PlainText::parse("Call back with the refund date")?,
                due_at,
                concerns: None,
            };
            engine
                .execute(
                    id,
                    CommandRequest {
                        actor: StaffId::parse(PERSON)?,
                        command,
                        idempotency_key: None,
                        correlation_id: None,
                    },
                )
                .await?;
        }
        anyhow::Ok(())
    })
    .await?;
    Ok(())
}

/// The console's client (session cookie, redirects not followed: a sign-in page is an error)
/// and the API's (bearer tokens).
struct Clients {
    base: String,
    cookie: String,
    agent: String,
    feed: String,
    http: reqwest::Client,
    /// For the live streams, on connections of their own.
    streams: reqwest::Client,
}

impl Clients {
    fn new(base: &str, session: &str, agent: &str, feed: &str) -> anyhow::Result<Self> {
        Ok(Self {
            base: base.to_owned(),
            cookie: format!("obliged_session={session}"),
            agent: agent.to_owned(),
            feed: feed.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()?,
            streams: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()?,
        })
    }

    /// A console page, signed in; its body.
    async fn page(&self, path: &str) -> anyhow::Result<String> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == reqwest::StatusCode::OK,
            "{path} answered {}",
            response.status()
        );
        Ok(response.text().await?)
    }

    /// An API read with the agent's token; its body.
    async fn api(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.agent)
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("reading {path}"))?
            .json()
            .await?)
    }

    /// Logs an outbound contact through the API; the ledger position of its last event.
    async fn log_contact(&self, id: Uuid, summary: &str) -> anyhow::Result<u64> {
        let outcome: Value = self
            .http
            .post(format!("{}/api/complaints/{id}/commands", self.base))
            .bearer_auth(&self.agent)
            .json(
                &json!({"type": "LogContact", "direction": "outbound", "channel": "email",
                          "summary": summary, "request": false}),
            )
            .send()
            .await?
            .error_for_status()
            .context("logging a contact")?
            .json()
            .await?;
        outcome["position"]
            .as_u64()
            .context("the command's response has no position")
    }
}

/// Times `reads` rounds of `page` and `api` in turn (which goes first alternates); both sorted,
/// in ms.
async fn side_by_side<P, PF, A, AF>(
    reads: usize,
    page: P,
    api: A,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)>
where
    P: Fn() -> PF,
    PF: std::future::Future<Output = anyhow::Result<()>>,
    A: Fn() -> AF,
    AF: std::future::Future<Output = anyhow::Result<()>>,
{
    for _ in 0..WARM_UP {
        page().await?;
        api().await?;
    }
    let mut pages = Vec::with_capacity(reads);
    let mut apis = Vec::with_capacity(reads);
    for round in 0..reads {
        for first in [round % 2 == 0, round % 2 != 0] {
            let started = Instant::now();
            if first {
                page().await?;
                pages.push(started.elapsed().as_secs_f64() * 1000.0);
            } else {
                api().await?;
                apis.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    pages.sort_by(f64::total_cmp);
    apis.sort_by(f64::total_cmp);
    Ok((pages, apis))
}

async fn complaint_page(
    store: &str,
    clients: &Clients,
    id: Uuid,
    events: usize,
    reads: usize,
) -> anyhow::Result<Vec<Figure>> {
    let path = format!("/complaints/{id}");
    let body = clients.page(&path).await?;
    anyhow::ensure!(
        body.contains(&format!("data-events=\"{events}\"")),
        "the complaint page does not show {events} events"
    );
    let history = clients
        .api(&format!("/api/complaints/{id}/history"))
        .await?;
    anyhow::ensure!(
        history["events"].as_array().map(Vec::len) == Some(events),
        "the API's history does not hold {events} events"
    );
    let (pages, apis) = side_by_side(
        reads,
        || async { clients.page(&path).await.map(drop) },
        || async {
            clients.api(&format!("/api/complaints/{id}")).await?;
            clients
                .api(&format!("/api/complaints/{id}/history"))
                .await
                .map(drop)
        },
    )
    .await?;
    let figure = |label: &str, p: f64| {
        let (page, api) = (percentile(&pages, p), percentile(&apis, p));
        Figure::new(
            store,
            format!("complaint page, {events} events, {label}"),
            page,
            "ms",
        )
        .beside(api, api / page)
        .note(format!(
            "GET /complaints/{{id}} signed in (state, whole history as a timeline, forms), \
             {reads} reads, {:.2}x the JSON; ceiling: the JSON a client reads for the same \
             screen, GET /api/complaints/{{id}} then /history ({label})",
            page / api
        ))
    };
    let p50 = figure("p50", 0.5);
    let p99 = figure("p99", 0.99);
    let met = |figure: &Figure| figure.value <= 1.5 * figure.ceiling.unwrap_or(0.0);
    Ok(vec![
        p50.clone().target("<= 1.5x JSON", met(&p50)),
        p99.clone()
            .target("<= 1.5x JSON, < 50 ms", met(&p99) && p99.value < 50.0),
    ])
}

async fn my_work(
    store: &str,
    clients: &Clients,
    items: usize,
    reads: usize,
) -> anyhow::Result<Vec<Figure>> {
    let queue = format!("/api/queues/{PERSON}?limit={items}");
    let body = clients.page("/my-work").await?;
    let shown = body.matches("data-kind=\"promise\"").count();
    anyhow::ensure!(shown == items, "my work shows {shown} of {items} promises");
    let listed = clients.api(&queue).await?["items"]
        .as_array()
        .map_or(0, Vec::len);
    anyhow::ensure!(listed == items, "the queue lists {listed} of {items} items");
    let (pages, apis) = side_by_side(
        reads,
        || async { clients.page("/my-work").await.map(drop) },
        || async { clients.api(&queue).await.map(drop) },
    )
    .await?;
    Ok(["p50", "p99"]
        .into_iter()
        .zip([0.5, 0.99])
        .map(|(label, p)| {
            let (page, api) = (percentile(&pages, p), percentile(&apis, p));
            let met = page <= 1.5 * api && (label != "p99" || page < 50.0);
            let target = if label == "p99" {
                "<= 1.5x JSON, < 50 ms"
            } else {
                "<= 1.5x JSON"
            };
            Figure::new(
                store,
                format!("my work, {items} items, {label}"),
                page,
                "ms",
            )
            .beside(api, api / page)
            .note(format!(
                "GET /my-work signed in, {items} promises owed across {} complaints, \
                     {reads} reads, {:.2}x the JSON; ceiling: GET /api/queues/{{person}}\
                     ?limit={items} ({label})",
                items.div_ceil(PROMISES_PER_COMPLAINT),
                page / api
            ))
            .target(target, met)
        })
        .collect())
}

/// One server-sent event and when the chunk that completed it arrived.
struct SseEvent {
    name: String,
    id: Option<u64>,
    data: String,
    at: Instant,
}

/// Sends `request` for a stream and parses its events as they arrive, each stamped with its
/// arrival.
async fn open_stream(
    request: reqwest::RequestBuilder,
) -> anyhow::Result<mpsc::UnboundedReceiver<SseEvent>> {
    let mut response = request.send().await?;
    anyhow::ensure!(
        response.status() == reqwest::StatusCode::OK,
        "a stream answered {}",
        response.status()
    );
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buffer: Vec<u8> = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let at = Instant::now();
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.windows(2).position(|pair| pair == b"\n\n") {
                let block: Vec<u8> = buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    name: String::new(),
                    id: None,
                    data: String::new(),
                    at,
                };
                for line in String::from_utf8_lossy(&block).lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event.name = name.trim().to_owned();
                    } else if let Some(id) = line.strip_prefix("id:") {
                        event.id = id.trim().parse().ok();
                    } else if let Some(data) = line.strip_prefix("data:") {
                        if !event.data.is_empty() {
                            event.data.push('\n');
                        }
                        event.data.push_str(data.strip_prefix(' ').unwrap_or(data));
                    }
                }
                if sender.send(event).is_err() {
                    return;
                }
            }
        }
    });
    Ok(receiver)
}

/// Waits for the first event `wanted` accepts; when it arrived.
async fn arrival(
    events: &mut mpsc::UnboundedReceiver<SseEvent>,
    wanted: impl Fn(&SseEvent) -> bool,
) -> anyhow::Result<Instant> {
    let deadline = tokio::time::Instant::now() + LIVE_TIMEOUT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .context("no live update within 10 s")?
            .context("the stream ended")?;
        if wanted(&event) {
            return Ok(event.at);
        }
    }
}

/// Logs `commands` contacts on complaint `id` one at a time, each once `stream` has shown the
/// one before; from each command's response to the event `shows(event, summary, position)`
/// accepts, sorted, in ms (0 when the event arrived first), after an unmeasured warm-up; and
/// how many arrived before their command's response.
async fn follow(
    clients: &Clients,
    id: Uuid,
    stream: &mut mpsc::UnboundedReceiver<SseEvent>,
    commands: usize,
    tag: &str,
    shows: impl Fn(&SseEvent, &str, u64) -> bool,
) -> anyhow::Result<(Vec<f64>, usize)> {
    let mut latencies = Vec::with_capacity(commands);
    let mut early = 0;
    for index in 0..commands + WARM_UP {
        // Zero-padded, so that no summary is a prefix of another.
        let summary = format!("{tag} probe {index:06}");
        let position = clients.log_contact(id, &summary).await?;
        let committed = Instant::now();
        let at = arrival(stream, |event| shows(event, &summary, position)).await?;
        if index >= WARM_UP {
            early += usize::from(at < committed);
            latencies.push(at.saturating_duration_since(committed).as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(f64::total_cmp);
    Ok((latencies, early))
}

async fn live(
    store: &str,
    clients: &Clients,
    ledger: &Ledger,
    id: Uuid,
    events: usize,
    commands: usize,
) -> anyhow::Result<Vec<Figure>> {
    let mut page = open_stream(
        clients
            .streams
            .get(format!("{}/complaints/{id}/live", clients.base))
            .header("cookie", &clients.cookie),
    )
    .await?;
    let (console, console_early) = follow(
        clients,
        id,
        &mut page,
        commands,
        "page",
        |event, summary, _| event.name == "timeline" && event.data.contains(summary),
    )
    .await?;
    drop(page);

    // From the head: the stream does not replay the ledger first.
    let head = ledger.head_position().await?;
    let mut feed = open_stream(
        clients
            .streams
            .get(format!("{}/api/events/stream?after={head}", clients.base))
            .bearer_auth(&clients.feed),
    )
    .await?;
    let (api, api_early) = follow(
        clients,
        id,
        &mut feed,
        commands,
        "feed",
        |event, _, position| event.id.is_some_and(|id| id >= position),
    )
    .await?;
    drop(feed);

    // No ceiling column: the stream's entry arrives within a millisecond of the command's
    // response, often before it (counted as 0), and a ratio to about zero says nothing. Its
    // figures are in the note.
    let figure = |label: &str, p: f64| {
        Figure::new(
            store,
            format!("live page update latency {label}"),
            percentile(&console, p),
            "ms",
        )
        .note(format!(
            "from a command's response (POST /api/complaints/{{id}}/commands) to the `timeline` \
             event showing it on GET /complaints/{{id}}/live, on the complaint of {events}+ \
             events, {commands} commands one at a time ({console_early} arrived before the \
             response, counted 0); the same to the entry on GET /api/events/stream: {:.2} ms \
             ({label}), {api_early} of {commands} before the response",
            percentile(&api, p)
        ))
    };
    let p99 = figure("p99", 0.99);
    let met = p99.value < 250.0;
    Ok(vec![figure("p50", 0.5), p99.target("< 250 ms", met)])
}

//! `obliged-bench`: measures obliged on both stores, each figure beside a ceiling measured in
//! the same run on the same pool, so that ratios hold on a noisy machine. Prints a table and can
//! write JSON.
//!
//! Run in release mode: `cargo run --release --bin obliged-bench -- --help`.

mod clock;
mod commands;
mod console;
mod load;
mod report;
mod server;
mod stream;
mod streams;

use std::future::Future;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use obliged_domain::{
    Category, Channel, ComplaintCommand, Customer, CustomerReference, PlainText, StaffId,
};
use obliged_storage::{with_pool, CommandRequest, Database, Engine};
use sqlx::Row;
use tokio::task::JoinSet;
use uuid::Uuid;

pub use report::Figure;

/// Benchmarks of obliged: command throughput against raw SQL, HTTP end to end, loading a long
/// complaint, the event stream (append, sequencing, catch-up, commit-to-feed latency), the
/// promise clock (due scan, tick), the server's peak memory with many stored events and the web
/// console against the JSON API. Every figure is measured beside a ceiling in the same run.
#[derive(Debug, Parser)]
#[command(name = "obliged-bench")]
struct Args {
    /// PostgreSQL server to create the benchmark databases on (each dropped afterwards).
    #[arg(
        long,
        env = "OBLIGED_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Which stores to measure.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    stores: Vec<String>,
    /// Which groups of figures to measure: `commands` (throughput at each client count against
    /// raw SQL), `http` (a mixed workload over loopback against the engine in-process), `load`
    /// (a complaint of many events), `stream` (append, sequencing, catch-up of contiguous and of
    /// interleaved histories, latency), `streams` (ordinary requests and idle CPU beside many
    /// idle event streams), `clock` (due scan, tick), `memory` (server peak memory with many
    /// stored events), `console` (the web console's complaint page, My work and live updates
    /// against the JSON API's answers).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "commands,http,load,stream,streams,clock,memory,console"
    )]
    sections: Vec<String>,
    /// Small sizes everywhere, for a smoke run in seconds (figures are not meaningful).
    #[arg(long)]
    quick: bool,
    /// Concurrent clients in the command-throughput benchmark.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Commands per client count in the throughput benchmark (and as many raw SQL rounds).
    #[arg(long)]
    commands: Option<usize>,
    /// Requests of the HTTP mixed workload (by 16 clients).
    #[arg(long)]
    http_requests: Option<usize>,
    /// Events of the complaint the load benchmark reads.
    #[arg(long)]
    load_events: Option<usize>,
    /// Events stored before the server's peak memory is measured.
    #[arg(long)]
    memory_events: Option<usize>,
    /// Rows appended in the append benchmark (by 16 concurrent clients).
    #[arg(long)]
    appends: Option<usize>,
    /// Complaints in the projection benchmark (10 events each).
    #[arg(long)]
    complaints: Option<usize>,
    /// Complaints in the interleaved projection benchmark (10 events each, written round-robin).
    #[arg(long)]
    interleaved: Option<usize>,
    /// Commands timed in the latency benchmark.
    #[arg(long)]
    latency_commands: Option<usize>,
    /// Running ladders in the largest due-scan table (also measured at a tenth and a hundredth).
    #[arg(long)]
    open_ladders: Option<usize>,
    /// Rungs one scheduler tick reaches in the tick benchmark.
    #[arg(long)]
    tick_rungs: Option<usize>,
    /// Idle event streams held open in the streams benchmark.
    #[arg(long)]
    idle_streams: Option<usize>,
    /// Events of the complaint whose console page is read (and followed live).
    #[arg(long)]
    console_events: Option<usize>,
    /// Promises owed by the person whose My work is read.
    #[arg(long)]
    work_items: Option<usize>,
    /// Reads of each console page and of its JSON counterpart.
    #[arg(long)]
    console_reads: Option<usize>,
    /// Commands timed in the console's live-update benchmark (and as many on the event stream).
    #[arg(long)]
    live_commands: Option<usize>,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Internal: run as the server under test on this database (the memory and HTTP benchmarks
    /// start the benchmark binary itself in this mode).
    #[arg(long, hide = true, value_name = "URL")]
    serve: Option<String>,
    /// Internal: the master key file of `--serve`.
    #[arg(long, hide = true, value_name = "PATH")]
    serve_key: Option<PathBuf>,
}

/// The sizes a run uses: the flags given, else the defaults (or the quick ones).
#[derive(Debug, Clone)]
pub struct Sizes {
    pub commands: usize,
    pub http_requests: usize,
    pub load_events: usize,
    pub memory_events: usize,
    pub appends: usize,
    pub complaints: usize,
    pub interleaved: usize,
    pub latency_commands: usize,
    pub open_ladders: usize,
    pub tick_rungs: usize,
    pub idle_streams: usize,
    pub console_events: usize,
    pub work_items: usize,
    pub console_reads: usize,
    pub live_commands: usize,
}

impl Sizes {
    fn of(args: &Args) -> Self {
        let pick = |given: Option<usize>, full: usize, quick: usize| {
            given.unwrap_or(if args.quick { quick } else { full })
        };
        Self {
            commands: pick(args.commands, 3_000, 64),
            http_requests: pick(args.http_requests, 8_000, 160),
            load_events: pick(args.load_events, 1_000, 200),
            memory_events: pick(args.memory_events, 1_000_000, 5_000),
            appends: pick(args.appends, 8_000, 160),
            complaints: pick(args.complaints, 10_000, 50),
            interleaved: pick(args.interleaved, 60_000, 50),
            latency_commands: pick(args.latency_commands, 500, 20),
            open_ladders: pick(args.open_ladders, 1_000_000, 5_000),
            tick_rungs: pick(args.tick_rungs, 1_000, 20),
            idle_streams: pick(args.idle_streams, 2_000, 20),
            console_events: pick(args.console_events, 1_000, 100),
            work_items: pick(args.work_items, 500, 20),
            console_reads: pick(args.console_reads, 500, 10),
            live_commands: pick(args.live_commands, 200, 10),
        }
    }
}

pub const CLIENTS: usize = 16;
const SECTIONS: [&str; 8] = [
    "commands", "http", "load", "stream", "streams", "clock", "memory", "console",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(url) = &args.serve {
        let key = args
            .serve_key
            .clone()
            .context("--serve needs --serve-key")?;
        return server::run_child(url, &key).await;
    }
    if let Some(unknown) = args
        .sections
        .iter()
        .find(|section| !SECTIONS.contains(&section.as_str()))
    {
        anyhow::bail!("unknown section {unknown:?}; use {}", SECTIONS.join(", "));
    }
    if let Some(unknown) = args
        .stores
        .iter()
        .find(|store| !matches!(store.as_str(), "sqlite" | "postgres"))
    {
        anyhow::bail!("unknown store {unknown:?}; use sqlite or postgres");
    }
    anyhow::ensure!(
        !args.clients.is_empty() && !args.clients.contains(&0),
        "--clients takes counts of at least 1"
    );
    let sizes = Sizes::of(&args);
    let mut figures = Vec::new();
    for store in &args.stores {
        figures.extend(measure(store, &args, &sizes).await?);
    }
    report::print_table(&figures);
    if let Some(path) = &args.json {
        let document = serde_json::json!({
            "machine": report::machine(),
            "quick": args.quick,
            "sizes": format!("{sizes:?}"),
            "figures": figures,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&document)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

async fn measure(store: &str, args: &Args, sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let wanted = |section: &str| args.sections.iter().any(|wanted| wanted == section);
    let url = &args.postgres_url;
    let mut figures = Vec::new();
    if wanted("commands") {
        figures.extend(commands::throughput(store, url, &args.clients, sizes.commands).await?);
    }
    if wanted("http") {
        figures.extend(server::http_mix(store, url, sizes.http_requests).await?);
    }
    if wanted("load") {
        figures.extend(load::long_complaint(store, url, sizes.load_events).await?);
    }
    if wanted("stream") {
        let fresh = Fresh::new(store, url).await?;
        let measured = stream::all(store, &fresh.database, sizes).await;
        fresh.drop().await;
        figures.extend(measured?);
        figures.extend(stream::interleaved_catch_up(store, url, sizes.interleaved).await?);
    }
    if wanted("streams") {
        figures.extend(
            streams::idle_streams(store, url, sizes.idle_streams, sizes.http_requests / 2).await?,
        );
    }
    if wanted("clock") {
        figures.extend(clock::due_scan(store, url, sizes.open_ladders).await?);
        let fresh = Fresh::new(store, url).await?;
        let measured = clock::tick(store, &fresh.database, sizes.tick_rungs).await;
        fresh.drop().await;
        figures.extend(measured?);
    }
    if wanted("memory") {
        figures.extend(
            server::peak_memory(store, url, sizes.memory_events, sizes.http_requests).await?,
        );
    }
    if wanted("console") {
        figures.extend(console::console(store, url, sizes).await?);
    }
    Ok(figures)
}

/// A fresh, migrated database of one store, dropped (or deleted) by [`Fresh::drop`].
pub struct Fresh {
    pub database: Database,
    /// Its URL, for a server process started on it.
    pub url: String,
    /// Where the SQLite file lives, or the PostgreSQL database's name and admin connection.
    place: Place,
}

enum Place {
    Folder(PathBuf),
    Postgres { admin: Database, name: String },
}

impl Fresh {
    pub async fn new(store: &str, postgres_url: &str) -> anyhow::Result<Self> {
        match store {
            "sqlite" => {
                let folder = std::env::temp_dir().join(format!("obliged-bench-{}", Uuid::now_v7()));
                std::fs::create_dir_all(&folder)?;
                let url = format!("sqlite://{}", folder.join("bench.db").display());
                let database = Database::connect(&url).await?;
                database.migrate().await?;
                Ok(Self {
                    database,
                    url,
                    place: Place::Folder(folder),
                })
            }
            _ => {
                let admin = Database::connect(postgres_url)
                    .await
                    .with_context(|| format!("connecting to {postgres_url}"))?;
                let name = format!("obliged_bench_{}", Uuid::now_v7().simple());
                if let Database::Postgres(pool) = &admin {
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(pool)
                        .await?;
                }
                let base = postgres_url
                    .rsplit_once('/')
                    .map_or(postgres_url, |(head, _)| head);
                let url = format!("{base}/{name}");
                let database = Database::connect(&url).await?;
                database.migrate().await?;
                Ok(Self {
                    database,
                    url,
                    place: Place::Postgres { admin, name },
                })
            }
        }
    }

    /// The directory for files beside the database (a master key).
    pub fn scratch(&self) -> PathBuf {
        match &self.place {
            Place::Folder(folder) => folder.clone(),
            Place::Postgres { name, .. } => std::env::temp_dir().join(name),
        }
    }

    pub async fn drop(self) {
        self.database.close().await;
        match self.place {
            Place::Folder(folder) => {
                let _ = std::fs::remove_dir_all(folder);
            }
            Place::Postgres { admin, name } => {
                let _ = std::fs::remove_dir_all(std::env::temp_dir().join(&name));
                if let Database::Postgres(pool) = &admin {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(pool)
                        .await;
                }
                admin.close().await;
            }
        }
    }
}

/// Runs one SQL statement without results on either store.
pub async fn execute(database: &Database, sql: &str) -> anyhow::Result<()> {
    with_pool!(database, pool => sqlx::query(sql).execute(pool).await.map(drop)?);
    Ok(())
}

/// A JSON column of a row as each store gives it back: PostgreSQL decodes `json` itself,
/// SQLite holds text that is parsed here.
pub trait JsonColumn {
    fn json(&self, index: usize) -> anyhow::Result<serde_json::Value>;
}

impl JsonColumn for sqlx::postgres::PgRow {
    fn json(&self, index: usize) -> anyhow::Result<serde_json::Value> {
        Ok(self.get(index))
    }
}

impl JsonColumn for sqlx::sqlite::SqliteRow {
    fn json(&self, index: usize) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_str(self.get(index))?)
    }
}

/// The value at fraction `p` of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// A command by the benchmark's actor.
pub fn request(command: ComplaintCommand<PlainText>) -> CommandRequest {
    CommandRequest {
        actor: StaffId::parse("bench").expect("valid"),
        command,
        idempotency_key: None,
        correlation_id: None,
    }
}

/// Files `count` complaints through `engine`, 16 at a time, runs `then` on each right after it
/// is filed, and returns what `then` gave, in the order of the complaints' numbers.
pub async fn file_complaints<T, F, Fut>(
    engine: &Engine,
    count: usize,
    then: F,
) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(Engine, Uuid) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    for worker in 0..16usize {
        let engine = engine.clone();
        let then = then.clone();
        tasks.spawn(async move {
            let mut done = Vec::new();
            for number in (worker..count).step_by(16) {
                let id = engine.file(request(filing(number))).await?.complaint_id;
                done.push((number, then(engine.clone(), id).await?));
            }
            anyhow::Ok(done)
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    all.sort_by_key(|(number, _)| *number);
    Ok(all.into_iter().map(|(_, result)| result).collect())
}

/// A new complaint with the customer's personal data (sealed on the way in).
pub fn filing(number: usize) -> ComplaintCommand<PlainText> {
    ComplaintCommand::FileComplaint {
        customer: Customer {
            reference: CustomerReference::parse(&format!("CUST-{number}")).expect("valid"),
            name: PlainText::parse("Jane Doe").expect("valid"),
            email: Some(PlainText::parse("jane.doe@example.org").expect("valid")),
            phone: None,
        },
        channel: Channel::Phone,
        category: Category::parse("billing").expect("valid"),
        description: PlainText::parse("Charged twice for the November invoice").expect("valid"),
    }
}

//! `obliged-bench`: measures the event stream and the promise clock on both stores, each figure
//! beside a ceiling measured in the same run on the same pool, so that ratios hold on a noisy
//! machine.
//!
//! Run in release mode: `cargo run --release --bin obliged-bench -- --help`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use jiff::Timestamp;
use obliged_domain::{
    Category, Channel, ComplaintCommand, ComplaintEvent, ComplaintServices, Customer,
    CustomerReference, Direction, Owner, PlainText, Policy, PromiseId, PromiseKind, SealedText,
    StaffId,
};
use obliged_storage::{
    CommandRequest, Database, Engine, Ledger, MasterKey, Projector, SEQUENCE_BATCH,
};
use serde_json::json;
use uuid::Uuid;

/// Benchmarks of obliged's event stream: append with global ordering against plain inserts,
/// sequencing into the hash-chained ledger, projection catch-up, and commit-to-feed latency.
#[derive(Debug, Parser)]
struct Args {
    /// PostgreSQL server to create the benchmark database on (dropped afterwards).
    #[arg(
        long,
        env = "OBLIGED_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Which stores to measure.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    stores: Vec<String>,
    /// Rows appended in the append benchmark (by 16 concurrent clients).
    #[arg(long, default_value_t = 8_000)]
    appends: usize,
    /// Complaints in the projection benchmark (10 events each).
    #[arg(long, default_value_t = 10_000)]
    complaints: usize,
    /// Commands timed in the latency benchmark.
    #[arg(long, default_value_t = 500)]
    latency_commands: usize,
    /// Running ladders in the largest due-scan table (also measured at a tenth and a hundredth).
    #[arg(long, default_value_t = 1_000_000)]
    open_ladders: usize,
    /// Rungs one scheduler tick reaches in the tick benchmark.
    #[arg(long, default_value_t = 1_000)]
    tick_rungs: usize,
    /// Which groups of figures to measure: `stream` (append, sequencing, catch-up, latency) and
    /// `clock` (the due scan and a scheduler tick).
    #[arg(long, value_delimiter = ',', default_value = "stream,clock")]
    sections: Vec<String>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

const CLIENTS: usize = 16;

#[derive(Debug, Clone, serde::Serialize)]
struct Figure {
    store: String,
    name: String,
    value: f64,
    unit: String,
    ceiling: Option<f64>,
    ratio: Option<f64>,
    note: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(unknown) = args
        .sections
        .iter()
        .find(|section| !matches!(section.as_str(), "stream" | "clock"))
    {
        anyhow::bail!("unknown section {unknown:?}; use stream or clock");
    }
    let mut figures = Vec::new();
    for store in &args.stores {
        let (database, cleanup) = match store.as_str() {
            "sqlite" => sqlite_database().await?,
            "postgres" => postgres_database(&args.postgres_url).await?,
            other => anyhow::bail!("unknown store {other:?}; use sqlite or postgres"),
        };
        let result = measure(store, &database, &args).await;
        database.close().await;
        cleanup.await;
        figures.extend(result?);
    }
    print_table(&figures);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&figures)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// A fresh, migrated store of the kind named, with its cleanup.
async fn fresh_database(store: &str, postgres_url: &str) -> anyhow::Result<(Database, Cleanup)> {
    match store {
        "sqlite" => sqlite_database().await,
        _ => postgres_database(postgres_url).await,
    }
}

type Cleanup = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

async fn sqlite_database() -> anyhow::Result<(Database, Cleanup)> {
    let directory = std::env::temp_dir().join(format!("obliged-bench-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&directory)?;
    let url = format!("sqlite://{}", directory.join("bench.db").display());
    let database = Database::connect(&url).await?;
    database.migrate().await?;
    let cleanup: Cleanup = Box::pin(async move {
        let _ = std::fs::remove_dir_all(directory);
    });
    Ok((database, cleanup))
}

async fn postgres_database(admin_url: &str) -> anyhow::Result<(Database, Cleanup)> {
    let admin = Database::connect(admin_url)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    let name = format!("obliged_bench_{}", Uuid::now_v7().simple());
    if let Database::Postgres(pool) = &admin {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(pool)
            .await?;
    }
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url, |(head, _)| head);
    let database = Database::connect(&format!("{base}/{name}")).await?;
    database.migrate().await?;
    let cleanup: Cleanup = Box::pin(async move {
        if let Database::Postgres(pool) = &admin {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(pool)
                .await;
        }
        admin.close().await;
    });
    Ok((database, cleanup))
}

async fn measure(store: &str, database: &Database, args: &Args) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    if args.sections.iter().any(|section| section == "clock") {
        figures.extend(clock::due_scan(store, &args.postgres_url, args.open_ladders).await?);
        figures.extend(clock::tick(store, database, args.tick_rungs).await?);
    }
    if !args.sections.iter().any(|section| section == "stream") {
        return Ok(figures);
    }
    eprintln!(
        "[{store}] append: {} rows by {CLIENTS} clients",
        args.appends
    );
    figures.extend(append(store, database, args.appends).await?);
    eprintln!("[{store}] projection: {} complaints", args.complaints);
    figures.extend(projection(store, database, args.complaints).await?);
    eprintln!(
        "[{store}] commit-to-feed latency: {} commands",
        args.latency_commands
    );
    figures.extend(latency(store, database, args.latency_commands).await?);
    Ok(figures)
}

fn payload(index: usize) -> String {
    json!({"ContactLogged": {"contact_no": index, "direction": "outbound", "channel": "email",
        "summary": {"sealed": "QmVuY2htYXJrIHBheWxvYWQgb2YgcmVhbGlzdGljIHNpemUgZm9yIGFuIGV2ZW50"},
        "request": false, "staff": "bench", "alias": null, "at": "2026-01-01T00:00:00Z"}})
    .to_string()
}

/// Appends by 16 clients, one row per transaction: into a plain table (the ceiling), then into
/// `events`, which carries the global-order mechanism (xid8 + identity + NOTIFY trigger on
/// PostgreSQL, the position trigger on SQLite).
async fn append(store: &str, database: &Database, rows: usize) -> anyhow::Result<Vec<Figure>> {
    let create_plain = match database {
        Database::Sqlite(_) => {
            "CREATE TABLE bench_plain (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             sequence integer NOT NULL, event_type text NOT NULL, event_version text NOT NULL, \
             payload text NOT NULL, metadata text NOT NULL, \
             PRIMARY KEY (aggregate_type, aggregate_id, sequence)) STRICT"
        }
        Database::Postgres(_) => {
            "CREATE TABLE bench_plain (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             sequence bigint NOT NULL, event_type text NOT NULL, event_version text NOT NULL, \
             payload json NOT NULL, metadata json NOT NULL, \
             PRIMARY KEY (aggregate_type, aggregate_id, sequence))"
        }
    };
    execute(database, create_plain).await?;
    let plain = timed_inserts(database, "bench_plain", rows).await?;
    let ordered = timed_inserts(database, "events", rows).await?;
    let ceiling = rows as f64 / plain.as_secs_f64();
    let value = rows as f64 / ordered.as_secs_f64();
    let mut figures = vec![Figure {
        store: store.into(),
        name: "append with global order".into(),
        value,
        unit: "rows/s".into(),
        ceiling: Some(ceiling),
        ratio: Some(value / ceiling),
        note: format!("{rows} single-row transactions by {CLIENTS} clients; ceiling: same rows into a plain table"),
    }];
    if let Database::Postgres(pool) = database {
        // The alternative to the xid8 fence: a single counter row taken in every append.
        sqlx::query(
            "CREATE TABLE bench_counted (LIKE bench_plain INCLUDING ALL, position bigint NOT NULL)",
        )
        .execute(pool)
        .await?;
        sqlx::query("CREATE TABLE bench_counter (value bigint NOT NULL)")
            .execute(pool)
            .await?;
        sqlx::query("INSERT INTO bench_counter VALUES (0)")
            .execute(pool)
            .await?;
        let counted = timed_counter_appends(pool, rows).await?;
        let value = rows as f64 / counted.as_secs_f64();
        figures.push(Figure {
            store: store.into(),
            name: "append with a counter row".into(),
            value,
            unit: "rows/s".into(),
            ceiling: Some(ceiling),
            ratio: Some(value / ceiling),
            note: "the rejected alternative: UPDATE a single counter row in each append".into(),
        });
    }
    Ok(figures)
}

async fn timed_counter_appends(pool: &sqlx::PgPool, rows: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let pool = pool.clone();
        clients.push(tokio::spawn(async move {
            let aggregate = format!("bench-{client}");
            for index in (client..rows).step_by(CLIENTS) {
                let mut tx = pool.begin().await?;
                let (position,): (i64,) =
                    sqlx::query_as("UPDATE bench_counter SET value = value + 1 RETURNING value")
                        .fetch_one(&mut *tx)
                        .await?;
                sqlx::query(
                    "INSERT INTO bench_counted (aggregate_type, aggregate_id, sequence, \
                     event_type, event_version, payload, metadata, position) \
                     VALUES ('Complaint', $1, $2, 'ContactLogged', '1.0', $3::json, $4::json, $5)",
                )
                .bind(&aggregate)
                .bind((index / CLIENTS + 1) as i64)
                .bind(payload(index))
                .bind(r#"{"actor":"bench"}"#)
                .bind(position)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            Ok::<_, sqlx::Error>(())
        }));
    }
    for client in clients {
        client.await??;
    }
    Ok(started.elapsed())
}

async fn execute(database: &Database, sql: &str) -> anyhow::Result<()> {
    match database {
        Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop)?,
        Database::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop)?,
    }
    Ok(())
}

async fn timed_inserts(database: &Database, table: &str, rows: usize) -> anyhow::Result<Duration> {
    let cast = match database {
        Database::Sqlite(_) => "",
        Database::Postgres(_) => "::json",
    };
    let sql = Arc::new(format!(
        "INSERT INTO {table} (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata) VALUES ('Complaint', $1, $2, 'ContactLogged', '1.0', $3{cast}, $4{cast})"
    ));
    let started = Instant::now();
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let database = database.clone();
        let sql = sql.clone();
        clients.push(tokio::spawn(async move {
            let aggregate = format!("bench-{client}");
            for index in (client..rows).step_by(CLIENTS) {
                let sequence = (index / CLIENTS + 1) as i64;
                let body = payload(index);
                let metadata = r#"{"actor":"bench"}"#;
                match &database {
                    Database::Sqlite(pool) => sqlx::query(&sql)
                        .bind(&aggregate)
                        .bind(sequence)
                        .bind(&body)
                        .bind(metadata)
                        .execute(pool)
                        .await
                        .map(drop)?,
                    Database::Postgres(pool) => sqlx::query(&sql)
                        .bind(&aggregate)
                        .bind(sequence)
                        .bind(&body)
                        .bind(metadata)
                        .execute(pool)
                        .await
                        .map(drop)?,
                }
            }
            Ok::<_, sqlx::Error>(())
        }));
    }
    for client in clients {
        client.await??;
    }
    Ok(started.elapsed())
}

/// The events of one complaint's typical life: filed, assigned, contacts, a promise kept.
fn life(at: Timestamp) -> Vec<ComplaintEvent> {
    let sealed =
        || SealedText::from_stored("c2VhbGVkIGZyZWUgdGV4dCBvZiBhIHR5cGljYWwgbGVuZ3Ro".into());
    let staff = StaffId::parse("alice").expect("valid");
    let promise_id = PromiseId::new(Uuid::now_v7());
    let mut events = vec![
        ComplaintEvent::ComplaintFiled {
            customer: Customer {
                reference: CustomerReference::parse("CUST-1").expect("valid"),
                name: sealed(),
                email: Some(sealed()),
                phone: None,
            },
            channel: Channel::Phone,
            category: Category::parse("billing").expect("valid"),
            description: sealed(),
            filed_by: staff.clone(),
            at,
        },
        ComplaintEvent::OwnerAssigned {
            owner: Owner::Person(staff.clone()),
            previous: None,
            triage_due_at: None,
            by: staff.clone(),
            at,
        },
        ComplaintEvent::PromiseMade {
            promise_id,
            kind: PromiseKind::Callback,
            description: sealed(),
            due_at: at + jiff::SignedDuration::from_hours(24),
            promiser: staff.clone(),
            concerns: None,
            at,
        },
    ];
    for contact_no in 1..=6 {
        events.push(ComplaintEvent::ContactLogged {
            contact_no,
            direction: Direction::Outbound,
            channel: Channel::Email,
            summary: sealed(),
            request: false,
            staff: staff.clone(),
            alias: None,
            at,
        });
    }
    events.push(ComplaintEvent::PromiseKept {
        promise_id,
        evidence: sealed(),
        on_time: true,
        by: staff,
        at,
    });
    events
}

/// Loads `complaints` lives with multi-row inserts, sequences them, then rebuilds the read
/// models from position 0. The ceiling for catch-up is reading the same ledger entries.
async fn projection(
    store: &str,
    database: &Database,
    complaints: usize,
) -> anyhow::Result<Vec<Figure>> {
    let at: Timestamp = "2026-01-01T00:00:00Z".parse()?;
    let mut rows: Vec<(String, i64, String, String)> = Vec::new();
    for _ in 0..complaints {
        let id = Uuid::now_v7().to_string();
        for (index, event) in life(at).into_iter().enumerate() {
            rows.push((
                id.clone(),
                index as i64 + 1,
                event.name().to_owned(),
                serde_json::to_string(&event)?,
            ));
        }
    }
    let total = rows.len();
    for chunk in rows.chunks(500) {
        let cast = if matches!(database, Database::Postgres(_)) {
            "::json"
        } else {
            ""
        };
        let values: Vec<String> = (0..chunk.len())
            .map(|index| {
                let base = index * 4;
                format!(
                    "('Complaint', ${}, ${}, ${}, '1.0', ${}{cast}, '{{\"actor\":\"bench\"}}'{cast})",
                    base + 1,
                    base + 2,
                    base + 3,
                    base + 4
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) VALUES {}",
            values.join(", ")
        );
        match database {
            Database::Sqlite(pool) => {
                let mut query = sqlx::query(&sql);
                for row in chunk {
                    query = query.bind(&row.0).bind(row.1).bind(&row.2).bind(&row.3);
                }
                query.execute(pool).await?;
            }
            Database::Postgres(pool) => {
                let mut query = sqlx::query(&sql);
                for row in chunk {
                    query = query.bind(&row.0).bind(row.1).bind(&row.2).bind(&row.3);
                }
                query.execute(pool).await?;
            }
        }
    }
    let ledger = Arc::new(Ledger::new(database.clone()));
    // The append benchmark left rows in `events` too; sequence everything.
    let started = Instant::now();
    let mut sequenced = 0;
    loop {
        let step = ledger.sequence(SEQUENCE_BATCH).await?;
        if step == 0 {
            break;
        }
        sequenced += step;
    }
    let sequencing = started.elapsed();

    let head = ledger.head_position().await?;
    let started = Instant::now();
    let mut after = 0;
    while after < head {
        let entries = ledger.entries_after(after, SEQUENCE_BATCH).await?;
        after = entries.last().map_or(head, |entry| entry.position);
    }
    let read_ceiling = head as f64 / started.elapsed().as_secs_f64();

    let projector = Projector::new(database.clone(), ledger.clone());
    let started = Instant::now();
    let reached = projector.rebuild().await?;
    let catch_up = started.elapsed();
    anyhow::ensure!(reached == head, "projection stopped at {reached} of {head}");
    let value = head as f64 / catch_up.as_secs_f64();
    Ok(vec![
        Figure {
            store: store.into(),
            name: "sequencing into the ledger".into(),
            value: sequenced as f64 / sequencing.as_secs_f64(),
            unit: "events/s".into(),
            ceiling: None,
            ratio: None,
            note: format!("{sequenced} events, hash chain included"),
        },
        Figure {
            store: store.into(),
            name: "projection catch-up".into(),
            value,
            unit: "events/s".into(),
            ceiling: Some(read_ceiling),
            ratio: Some(value / read_ceiling),
            note: format!(
                "rebuild of {head} ledger entries ({total} from {complaints} complaint lives); \
                 ceiling: reading the same entries"
            ),
        },
    ])
}

/// Commands issued one at a time while a consumer follows the ledger as SSE clients do; the
/// latency is from issuing the command to the consumer holding its event.
async fn latency(store: &str, database: &Database, commands: usize) -> anyhow::Result<Vec<Figure>> {
    let clock = Arc::new(obliged::startup::SystemClock);
    let engine = Engine::new(
        database,
        &MasterKey::generate(),
        ComplaintServices::new(clock, Policy::default()),
    );
    let actor = StaffId::parse("bench").expect("valid");
    let filed = engine
        .file(CommandRequest {
            actor: actor.clone(),
            command: ComplaintCommand::FileComplaint {
                customer: Customer {
                    reference: CustomerReference::parse("CUST-LAT").expect("valid"),
                    name: PlainText::parse("Latency").expect("valid"),
                    email: None,
                    phone: None,
                },
                channel: Channel::Phone,
                category: Category::parse("billing").expect("valid"),
                description: PlainText::parse("latency run").expect("valid"),
            },
            idempotency_key: None,
            correlation_id: None,
        })
        .await?;
    let ledger = engine.ledger().clone();
    let start_after = ledger.head_position().await?;
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let consumer = {
        let ledger = ledger.clone();
        tokio::spawn(async move {
            let mut head = ledger.subscribe();
            let mut after = start_after;
            let mut received = 0;
            while received < commands {
                let entries = ledger.entries_after(after, 100).await.expect("feed");
                if entries.is_empty() {
                    let _ = tokio::time::timeout(Duration::from_millis(500), head.changed()).await;
                    continue;
                }
                for entry in entries {
                    after = entry.position;
                    received += 1;
                    let _ = seen_tx.send((entry.position, Instant::now()));
                }
            }
        })
    };
    let mut sent = Vec::with_capacity(commands);
    for index in 0..commands {
        let issued = Instant::now();
        let outcome = engine
            .execute(
                filed.complaint_id,
                CommandRequest {
                    actor: actor.clone(),
                    command: ComplaintCommand::LogContact {
                        direction: Direction::Outbound,
                        channel: Channel::Email,
                        summary: PlainText::parse(&format!("update {index}")).expect("valid"),
                        request: false,
                        alias: None,
                    },
                    idempotency_key: None,
                    correlation_id: None,
                },
            )
            .await?;
        let position = outcome.position.context("the command was sequenced")?;
        sent.push((position, issued));
    }
    consumer.await?;
    let mut seen = std::collections::HashMap::new();
    while let Ok((position, at)) = seen_rx.try_recv() {
        seen.insert(position, at);
    }
    let mut latencies: Vec<f64> = sent
        .iter()
        .filter_map(|(position, issued)| {
            seen.get(position)
                .map(|at| at.duration_since(*issued).as_secs_f64() * 1000.0)
        })
        .collect();
    anyhow::ensure!(latencies.len() == commands, "the consumer missed events");
    latencies.sort_by(f64::total_cmp);
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    Ok(vec![
        Figure {
            store: store.into(),
            name: "command to feed latency p50".into(),
            value: percentile(0.50),
            unit: "ms".into(),
            ceiling: None,
            ratio: None,
            note: format!("{commands} sequential commands; includes the command itself"),
        },
        Figure {
            store: store.into(),
            name: "command to feed latency p99".into(),
            value: percentile(0.99),
            unit: "ms".into(),
            ceiling: Some(100.0),
            ratio: Some(percentile(0.99) / 100.0),
            note: "target: p99 under 100 ms (ratio to the target)".into(),
        },
    ])
}

fn print_table(figures: &[Figure]) {
    println!(
        "{:<9} {:<30} {:>14} {:<9} {:>14} {:>7}",
        "store", "figure", "value", "unit", "ceiling", "ratio"
    );
    for figure in figures {
        println!(
            "{:<9} {:<30} {:>14.1} {:<9} {:>14} {:>7}",
            figure.store,
            figure.name,
            figure.value,
            figure.unit,
            figure
                .ceiling
                .map_or("-".to_owned(), |ceiling| format!("{ceiling:.1}")),
            figure
                .ratio
                .map_or("-".to_owned(), |ratio| format!("{:.0}%", ratio * 100.0)),
        );
    }
}

/// A command by the benchmark's actor.
fn request(command: ComplaintCommand<PlainText>) -> CommandRequest {
    CommandRequest {
        actor: StaffId::parse("bench").expect("valid"),
        command,
        idempotency_key: None,
        correlation_id: None,
    }
}

/// A new complaint with the customer's personal data (sealed on the way in).
fn filing(number: usize) -> ComplaintCommand<PlainText> {
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

/// The promise clock: the due scan among many running ladders (the query every scheduler tick
/// starts with) and one scheduler tick that reaches many rungs.
///
/// - **Due scan.** `rm_due_rungs` is filled in bulk, as the projector writes it (one row per
///   running ladder: its next rung), most rows due over the coming year and 1,000 due now; then
///   `ReadModels::due_rungs(now, 1000)` is timed at each size. The ceiling is the same query on
///   the smallest table, so a flat cost shows as a ratio near 100%.
/// - **Tick.** Twice the rungs' number of complaints each get a promise through the engine under
///   a one-rung ladder. Once they are due, half of the rungs are reached by `ReachRung` commands
///   straight through the engine, 16 at a time (the ceiling), and the other half by one
///   `Scheduler::tick` (scan, reach in parallel per complaint, project).
mod clock {
    use std::sync::Arc;
    use std::time::Instant;

    use jiff::{SignedDuration, Timestamp};
    use obliged::scheduler::Scheduler;
    use obliged_domain::{
        ComplaintCommand, ComplaintServices, FixedClock, Offset, Owner, PlainText, Policy,
        PromiseId, PromiseKind, Recipient, RungSpec, Subject, SubjectKind,
    };
    use obliged_storage::{Database, Engine, MasterKey, Projector, ReadModels};
    use tokio::task::JoinSet;
    use uuid::Uuid;

    use super::{filing, fresh_database, request, Figure};

    /// Rungs due now in each due-scan table, and what the scheduler reads per pass.
    const DUE_NOW: u32 = 1_000;
    const REPETITIONS: usize = 41;

    fn percentile(sorted: &[f64], p: f64) -> f64 {
        sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
    }

    pub async fn due_scan(
        store: &str,
        postgres_url: &str,
        largest: usize,
    ) -> anyhow::Result<Vec<Figure>> {
        let mut sizes = vec![
            (largest / 100).max(2_000),
            (largest / 10).max(2_000),
            largest,
        ];
        sizes.dedup();
        let now: Timestamp = "2026-06-01T09:00:00Z".parse()?;
        let mut timings = Vec::new();
        for &size in &sizes {
            eprintln!("[{store}] due scan: {size} running ladders");
            let (database, cleanup) = fresh_database(store, postgres_url).await?;
            let measured = async {
                seed_due_rungs(&database, size, now).await?;
                let read_models = ReadModels::new(database.clone());
                let due = read_models.due_rungs(now, DUE_NOW).await?;
                anyhow::ensure!(due.len() == DUE_NOW as usize, "found {} due", due.len());
                let mut times = Vec::with_capacity(REPETITIONS);
                for _ in 0..REPETITIONS {
                    let started = Instant::now();
                    let due = read_models.due_rungs(now, DUE_NOW).await?;
                    times.push(started.elapsed().as_secs_f64() * 1000.0);
                    std::hint::black_box(due);
                }
                times.sort_by(f64::total_cmp);
                anyhow::Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
            }
            .await;
            database.close().await;
            cleanup.await;
            let (median, p99) = measured?;
            timings.push((size, median, p99));
        }
        let (smallest, ceiling, _) = timings[0];
        Ok(timings
            .into_iter()
            .map(|(size, median, p99)| Figure {
                store: store.to_owned(),
                name: format!("due scan: {DUE_NOW} due among {size}"),
                value: median,
                unit: "ms".into(),
                ceiling: Some(ceiling),
                ratio: Some(ceiling / median),
                note: format!(
                    "median of {REPETITIONS} (p99 {p99:.2} ms); ceiling: the same scan among \
                     {smallest} (100% = flat); target under 10 ms"
                ),
            })
            .collect())
    }

    pub async fn tick(
        store: &str,
        database: &Database,
        rungs: usize,
    ) -> anyhow::Result<Vec<Figure>> {
        let start: Timestamp = "2026-06-01T09:00:00Z".parse()?;
        let clock = FixedClock::new(start);
        let mut policy = Policy::default();
        policy.ladders.insert(
            SubjectKind::Promise,
            vec![RungSpec {
                name: "breach".to_owned(),
                offset: Offset::ZERO,
                remind: vec![Recipient::Owner],
                mark_broken: true,
                escalate: None,
            }],
        );
        let engine = Engine::new(
            database,
            &MasterKey::generate(),
            ComplaintServices::new(Arc::new(clock.clone()), policy),
        );
        eprintln!("[{store}] tick: {} complaints with a promise", rungs * 2);
        let due_at = start + SignedDuration::from_hours(1);
        let complaints = seed_promises(&engine, rungs * 2, due_at).await?;
        let projector = Arc::new(Projector::new(database.clone(), engine.ledger().clone()));
        projector.catch_up().await?;
        clock.set(due_at + SignedDuration::from_mins(1));

        let (direct, scheduled) = complaints.split_at(rungs);
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for chunk in direct.chunks(direct.len().div_ceil(16).max(1)) {
            let engine = engine.clone();
            let chunk = chunk.to_vec();
            tasks.spawn(async move {
                for (complaint, promise_id) in chunk {
                    let command = ComplaintCommand::ReachRung {
                        subject: Subject::Promise { promise_id },
                        rung: 1,
                    };
                    engine.execute(complaint, request(command)).await?;
                }
                anyhow::Ok(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        let direct_seconds = started.elapsed().as_secs_f64();
        projector.catch_up().await?;

        let scheduler = Scheduler::new(
            engine.clone(),
            projector.clone(),
            ReadModels::new(database.clone()),
        );
        let started = Instant::now();
        let tick = scheduler.tick().await?;
        let tick_seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            tick.reached.len() == scheduled.len() && tick.failed == 0,
            "the tick reached {} of {} due rungs ({} failed)",
            tick.reached.len(),
            scheduled.len(),
            tick.failed
        );
        Ok(vec![Figure {
            store: store.to_owned(),
            name: format!("tick reaching {rungs} rungs"),
            value: tick_seconds * 1000.0,
            unit: "ms".into(),
            ceiling: Some(direct_seconds * 1000.0),
            ratio: Some(direct_seconds / tick_seconds),
            note: format!(
                "{:.0} rungs/s in {} passes; ceiling: the same number of ReachRung commands \
                 straight through the engine, 16 at a time",
                rungs as f64 / tick_seconds,
                tick.passes
            ),
        }])
    }

    /// `count` complaints, each owned and with one callback promise due at `due_at`.
    async fn seed_promises(
        engine: &Engine,
        count: usize,
        due_at: Timestamp,
    ) -> anyhow::Result<Vec<(Uuid, PromiseId)>> {
        let mut tasks = JoinSet::new();
        for worker in 0..16usize {
            let engine = engine.clone();
            tasks.spawn(async move {
                let mut made = Vec::new();
                for number in (worker..count).step_by(16) {
                    let complaint = engine.file(request(filing(number))).await?.complaint_id;
                    let assign = ComplaintCommand::AssignOwner {
                        owner: Owner::parse("bench")?,
                    };
                    engine.execute(complaint, request(assign)).await?;
                    let promise_id = PromiseId::new(Uuid::now_v7());
                    let promise = ComplaintCommand::MakePromise {
                        promise_id,
                        kind: PromiseKind::Callback,
                        description: PlainText::parse("Call back about the refund")?,
                        due_at,
                        concerns: None,
                    };
                    engine.execute(complaint, request(promise)).await?;
                    made.push((complaint, promise_id));
                }
                anyhow::Ok(made)
            });
        }
        let mut all = Vec::with_capacity(count);
        while let Some(made) = tasks.join_next().await {
            all.extend(made??);
        }
        all.sort();
        Ok(all)
    }

    /// `size` rows of the due scan in the projector's format (times in epoch microseconds):
    /// `DUE_NOW` due in the hour before `now`, the rest scattered over the year after it.
    async fn seed_due_rungs(
        database: &Database,
        size: usize,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        let now_micros = obliged_storage::micros(now);
        let hour = 3_600_000_000i64;
        let year = 365 * 24 * hour;
        let due = i64::from(DUE_NOW);
        let series = match database {
            Database::Sqlite(_) => format!(
                "(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s \
                 WHERE n + 1 < {size}) SELECT n FROM s)"
            ),
            Database::Postgres(_) => {
                format!("generate_series(0::bigint, {}::bigint) AS s(n)", size - 1)
            }
        };
        let sql = format!(
            "INSERT INTO rm_due_rungs (complaint_id, subject, rung, due_at) \
             SELECT 'c' || n, 'promise:' || n, 1, \
             CASE WHEN n < {due} THEN {now_micros} - {hour} + n \
             ELSE {now_micros} + 1 + ((n * 7919) % {year}) END FROM {series}"
        );
        match database {
            Database::Sqlite(pool) => {
                sqlx::query(&sql).execute(pool).await?;
                sqlx::query("ANALYZE").execute(pool).await?;
            }
            Database::Postgres(pool) => {
                sqlx::query(&sql).execute(pool).await?;
                sqlx::query("ANALYZE rm_due_rungs").execute(pool).await?;
            }
        }
        Ok(())
    }
}

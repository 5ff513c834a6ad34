//! Command throughput at several client counts, against the ceiling of the same reads and
//! inserts done by plain SQL through the same pool.
//!
//! For each client count, on a fresh database: complaints are filed through the engine (each
//! client gets complaints of its own, so no two clients race on one complaint), and the
//! tables a command touches are copied into plain tables without triggers. Then:
//!
//! - **ceiling**: per command, the statements the engine's path needs, by plain SQL: read the
//!   complaint's sealing key, read all its events, then insert one event and its ledger row
//!   in one transaction (position from an in-process counter, hash computed as the ledger
//!   does): the fewest round trips and commits those statements can take;
//! - **engine**: `Engine::execute(LogContact)`: seal, load and fold, decide, append, and wait
//!   for the event's ledger position (read your writes), which is what a client is answered.
//!
//! Both sides run the same number of commands over the same complaints, so histories are the
//! same length on both.

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use obliged::startup::SystemClock;
use obliged_domain::{Channel, ComplaintCommand, ComplaintServices, Direction, PlainText, Policy};
use obliged_storage::{entry_hash, with_pool, Database, Engine, MasterKey, GENESIS_HASH};
use sqlx::Row;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::{execute, file_complaints, request, Figure, Fresh, JsonColumn};

pub async fn throughput(
    store: &str,
    postgres_url: &str,
    clients: &[usize],
    commands: usize,
) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for &count in clients {
        eprintln!("[{store}] command throughput: {commands} commands by {count} clients");
        let fresh = Fresh::new(store, postgres_url).await?;
        let measured = one(store, &fresh.database, count, commands).await;
        fresh.drop().await;
        figures.push(measured?);
    }
    Ok(figures)
}

async fn one(
    store: &str,
    database: &Database,
    clients: usize,
    commands: usize,
) -> anyhow::Result<Figure> {
    let engine = Engine::new(
        database,
        &MasterKey::generate(),
        ComplaintServices::new(Arc::new(SystemClock), Policy::default()),
    );
    // A multiple of the client count, so that command i's complaint belongs to its client.
    let complaint_count = clients * 4.max(64usize.div_ceil(clients));
    let complaints = Arc::new(file(&engine, complaint_count).await?);
    copy_into_plain_tables(database).await?;

    let raw = Arc::new(Raw::new(database).await?);
    let ceiling_time = run_clients(clients, commands, {
        let complaints = complaints.clone();
        move |index| {
            let raw = raw.clone();
            let complaint = complaints[index % complaints.len()];
            async move { raw.command(complaint, index).await }
        }
    })
    .await?;

    let engine_time = run_clients(clients, commands, {
        let complaints = complaints.clone();
        move |index| {
            let engine = engine.clone();
            let complaint = complaints[index % complaints.len()];
            async move {
                let outcome = engine.execute(complaint, request(contact(index))).await?;
                outcome
                    .position
                    .context("the command's event got no ledger position")?;
                anyhow::Ok(())
            }
        }
    })
    .await?;

    let value = commands as f64 / engine_time.as_secs_f64();
    let ceiling = commands as f64 / ceiling_time.as_secs_f64();
    let plural = if clients == 1 { "" } else { "s" };
    let figure = Figure::new(
        store,
        format!("commands/s, {clients} client{plural}"),
        value,
        "cmd/s",
    )
    .beside(ceiling, value / ceiling)
    .note(format!(
        "{commands} LogContact commands over {complaint_count} complaints, each answered \
             with its ledger position; ceiling: the same key read and history read, then the event \
             and its ledger row inserted in one transaction, by plain SQL on the same pool"
    ));
    Ok(match (store, clients) {
        ("postgres", 16) => {
            let met = value / ceiling >= 0.8;
            figure.target("ratio >= 80%", met)
        }
        ("sqlite", 16) => {
            let met = value / ceiling >= 0.7;
            figure.target("ratio >= 70%", met)
        }
        _ => figure,
    })
}

fn contact(index: usize) -> ComplaintCommand<PlainText> {
    ComplaintCommand::LogContact {
        direction: Direction::Outbound,
        channel: Channel::Email,
        summary: PlainText::parse(&format!(
            "Emailed the customer the corrected invoice and the refund date ({index})"
        ))
        .expect("valid"),
        request: false,
        alias: None,
    }
}

/// Files `count` complaints through the engine, 16 at a time, and gives each its first reply
/// (which meets the acknowledgement deadline), so that every timed command appends one event.
async fn file(engine: &Engine, count: usize) -> anyhow::Result<Vec<Uuid>> {
    file_complaints(engine, count, |engine, id| async move {
        engine.execute(id, request(contact(0))).await?;
        anyhow::Ok(id)
    })
    .await
}

/// Runs `commands` calls of `command(index)` by `clients` concurrent clients (client c takes
/// the indexes c, c + clients, …) and returns the wall time.
async fn run_clients<F, Fut>(
    clients: usize,
    commands: usize,
    command: F,
) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for client in 0..clients {
        let command = command.clone();
        tasks.spawn(async move {
            for index in (client..commands).step_by(clients) {
                command(index).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(started.elapsed())
}

/// Plain copies (no triggers, no global-order columns) of the tables a command touches, with
/// the rows the engine wrote while filing.
async fn copy_into_plain_tables(database: &Database) -> anyhow::Result<()> {
    let (integer, json, bytes) = match database {
        Database::Sqlite(_) => ("integer", "text", "blob"),
        Database::Postgres(_) => ("bigint", "json", "bytea"),
    };
    for statement in [
        format!(
            "CREATE TABLE bench_events (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             sequence {integer} NOT NULL, event_type text NOT NULL, event_version text NOT NULL, \
             payload {json} NOT NULL, metadata {json} NOT NULL, \
             PRIMARY KEY (aggregate_type, aggregate_id, sequence))"
        ),
        format!("CREATE TABLE bench_keys (subject text PRIMARY KEY, wrapped_key {bytes})"),
        format!(
            "CREATE TABLE bench_ledger (position {integer} PRIMARY KEY, aggregate_type text NOT NULL, \
             aggregate_id text NOT NULL, sequence {integer} NOT NULL, source_tx {integer} NOT NULL, \
             source_seq {integer} NOT NULL, hash text NOT NULL, sequenced_at text NOT NULL, \
             UNIQUE (aggregate_type, aggregate_id, sequence))"
        ),
        "INSERT INTO bench_events SELECT aggregate_type, aggregate_id, sequence, event_type, \
         event_version, payload, metadata FROM events"
            .to_owned(),
        "INSERT INTO bench_keys SELECT subject, wrapped_key FROM sealing_keys".to_owned(),
        "INSERT INTO bench_ledger SELECT position, aggregate_type, aggregate_id, sequence, \
         source_tx, source_seq, hash, sequenced_at FROM ledger"
            .to_owned(),
        "ANALYZE".to_owned(),
    ] {
        execute(database, &statement).await?;
    }
    Ok(())
}

/// The plain-SQL side of the comparison.
struct Raw {
    database: Database,
    next_position: AtomicI64,
}

const KEY: &str = "SELECT wrapped_key FROM bench_keys WHERE subject = $1";
const HISTORY: &str = "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, \
     payload, metadata FROM bench_events WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 \
     ORDER BY sequence";
const INSERT_EVENT: &str = "INSERT INTO bench_events (aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload, metadata) VALUES ('Complaint', $1, $2, 'ContactLogged', \
     '1.0', $3, $4)";
const PG_INSERT_EVENT: &str = "INSERT INTO bench_events (aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload, metadata) VALUES ('Complaint', $1, $2, 'ContactLogged', \
     '1.0', $3::json, $4::json)";
const INSERT_LEDGER: &str = "INSERT INTO bench_ledger (position, aggregate_type, aggregate_id, \
     sequence, source_tx, source_seq, hash, sequenced_at) \
     VALUES ($1, 'Complaint', $2, $3, 0, $1, $4, $5)";

impl Raw {
    async fn new(database: &Database) -> anyhow::Result<Self> {
        let head: Option<i64> = with_pool!(database, pool => {
            sqlx::query_scalar("SELECT max(position) FROM bench_ledger")
                .fetch_one(pool)
                .await?
        });
        Ok(Self {
            database: database.clone(),
            next_position: AtomicI64::new(head.unwrap_or(0) + 1),
        })
    }

    async fn command(&self, complaint: Uuid, index: usize) -> anyhow::Result<()> {
        let id = complaint.to_string();
        let payload = serde_json::json!({"ContactLogged": {
            "contact_no": index, "direction": "outbound", "channel": "email",
            "summary": {"sealed": "v1.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BBQkNERUZHSElKS0xNTk9Q"},
            "request": false, "staff": "bench", "alias": null, "at": jiff::Timestamp::now()}})
        .to_string();
        let metadata = serde_json::json!({
            "command_id": Uuid::now_v7().to_string(), "command": "LogContact", "actor": "bench",
            "correlation_id": Uuid::now_v7().to_string(), "recorded_at": jiff::Timestamp::now(),
            "request_fingerprint": "0f3c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
            "event_id": Uuid::now_v7().to_string()})
        .to_string();
        let position = self.next_position.fetch_add(1, Ordering::Relaxed);
        let now = jiff::Timestamp::now().to_string();
        let insert_event = match &self.database {
            Database::Postgres(_) => PG_INSERT_EVENT,
            Database::Sqlite(_) => INSERT_EVENT,
        };
        with_pool!(&self.database, pool => {
            let key: Option<(Option<Vec<u8>>,)> =
                sqlx::query_as(KEY).bind(&id).fetch_optional(pool).await?;
            key.context("no key")?;
            let rows = sqlx::query(HISTORY).bind(&id).fetch_all(pool).await?;
            let mut last = 0i64;
            for row in &rows {
                last = row.get(2);
                std::hint::black_box((row.json(5)?, row.json(6)?));
            }
            let sequence = last + 1;
            let hash = entry_hash(
                GENESIS_HASH,
                position as u64,
                "Complaint",
                &id,
                sequence as u64,
                "ContactLogged",
                "1.0",
                &payload,
                &metadata,
            );
            let mut tx = pool.begin().await?;
            sqlx::query(insert_event)
                .bind(&id)
                .bind(sequence)
                .bind(&payload)
                .bind(&metadata)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_LEDGER)
                .bind(position)
                .bind(&id)
                .bind(sequence)
                .bind(&hash)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}

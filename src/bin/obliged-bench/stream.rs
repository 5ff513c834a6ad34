//! The event stream: appends with global ordering against plain inserts, sequencing into the
//! hash-chained ledger, projection catch-up against reading the same entries, and the latency
//! from issuing a command to a feed consumer holding its event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use jiff::Timestamp;
use obliged::startup::SystemClock;
use obliged_domain::{
    Category, Channel, ComplaintCommand, ComplaintEvent, ComplaintServices, Customer,
    CustomerReference, Direction, Owner, PlainText, Policy, PromiseId, PromiseKind, SealedText,
    StaffId,
};
use obliged_projections::Projector;
use obliged_storage::{
    with_pool, CommandRequest, Database, Engine, Ledger, MasterKey, SEQUENCE_BATCH,
};
use serde_json::json;
use uuid::Uuid;

use crate::{execute, Figure, Sizes, CLIENTS};

/// Append, sequencing, catch-up and commit-to-feed latency, on one fresh database.
pub async fn all(store: &str, database: &Database, sizes: &Sizes) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    eprintln!(
        "[{store}] append: {} rows by {CLIENTS} clients",
        sizes.appends
    );
    figures.extend(append(store, database, sizes.appends).await?);
    eprintln!("[{store}] projection: {} complaints", sizes.complaints);
    figures.extend(projection(store, database, sizes.complaints).await?);
    eprintln!(
        "[{store}] commit-to-feed latency: {} commands",
        sizes.latency_commands
    );
    figures.extend(latency(store, database, sizes.latency_commands).await?);
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
    let mut figures = vec![
        Figure::new(store, "append with global order", value, "rows/s")
            .beside(ceiling, value / ceiling)
            .note(format!(
            "{rows} single-row transactions by {CLIENTS} clients; ceiling: same rows into a plain \
             table"
        )),
    ];
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
        figures.push(
            Figure::new(store, "append with a counter row", value, "rows/s")
                .beside(ceiling, value / ceiling)
                .note("the rejected alternative: UPDATE a single counter row in each append"),
        );
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
                with_pool!(&database, pool => sqlx::query(&sql)
                    .bind(&aggregate)
                    .bind(sequence)
                    .bind(&body)
                    .bind(metadata)
                    .execute(pool)
                    .await
                    .map(drop)?);
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
pub fn life(at: Timestamp, promise_id: PromiseId) -> Vec<ComplaintEvent> {
    let sealed =
        || SealedText::from_stored("c2VhbGVkIGZyZWUgdGV4dCBvZiBhIHR5cGljYWwgbGVuZ3Ro".into());
    let staff = StaffId::parse("alice").expect("valid");
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

/// Events per complaint life.
pub const LIFE: usize = 10;

/// Writes `complaints` complaint lives (10 events each) straight into `events` with multi-row
/// inserts, as committed but not yet sequenced, one complaint's life after another. Returns
/// the number of events written.
pub async fn seed_lives(database: &Database, complaints: usize) -> anyhow::Result<usize> {
    let ids: Vec<Uuid> = (0..complaints).map(|_| Uuid::now_v7()).collect();
    let order = ids
        .iter()
        .flat_map(|id| (0..LIFE).map(move |index| (*id, index)));
    insert_lives(database, order).await
}

/// As [`seed_lives`], but interleaved as a busy system writes them: every complaint's first
/// event, then every complaint's second, and so on, so that between two events of one complaint
/// come those of all the others.
pub async fn seed_interleaved_lives(
    database: &Database,
    complaints: usize,
) -> anyhow::Result<usize> {
    let ids: Vec<Uuid> = (0..complaints).map(|_| Uuid::now_v7()).collect();
    let order = (0..LIFE).flat_map(|index| ids.iter().map(move |id| (*id, index)));
    insert_lives(database, order).await
}

/// Inserts event `index` of complaint `id`'s life for each pair, in the order given, 500 rows
/// per statement.
async fn insert_lives(
    database: &Database,
    order: impl Iterator<Item = (Uuid, usize)>,
) -> anyhow::Result<usize> {
    const ROWS_PER_INSERT: usize = 500;
    let at: Timestamp = "2026-01-01T00:00:00Z".parse()?;
    let cast = if matches!(database, Database::Postgres(_)) {
        "::json"
    } else {
        ""
    };
    let mut total = 0;
    let mut order = order.peekable();
    while order.peek().is_some() {
        let mut rows: Vec<(String, i64, &'static str, String)> = Vec::new();
        for (id, index) in order.by_ref().take(ROWS_PER_INSERT) {
            // The promise id is derived from the complaint's, so every event of one life
            // speaks of the same promise whichever order they are written in.
            let promise_id = PromiseId::new(Uuid::new_v5(&id, b"promise"));
            let event = life(at, promise_id).swap_remove(index);
            rows.push((
                id.to_string(),
                index as i64 + 1,
                event.name(),
                serde_json::to_string(&event)?,
            ));
        }
        total += rows.len();
        let values: Vec<String> = (0..rows.len())
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
        with_pool!(database, pool => {
            let mut query = sqlx::query(&sql);
            for row in &rows {
                query = query.bind(&row.0).bind(row.1).bind(row.2).bind(&row.3);
            }
            query.execute(pool).await?;
        });
    }
    Ok(total)
}

/// Loads `complaints` lives with multi-row inserts, sequences them, then rebuilds the read
/// models from position 0. The ceiling for catch-up is reading the same ledger entries.
async fn projection(
    store: &str,
    database: &Database,
    complaints: usize,
) -> anyhow::Result<Vec<Figure>> {
    let total = seed_lives(database, complaints).await?;
    let ledger = Arc::new(Ledger::new(database.clone(), Arc::new(SystemClock)));
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

    let (head, value, read_ceiling) = rebuild_against_reading(&ledger).await?;
    let catch_up = Figure::new(store, "projection catch-up", value, "events/s")
        .beside(read_ceiling, value / read_ceiling)
        .note(format!(
            "rebuild of {head} ledger entries ({total} from {complaints} complaint lives); \
             ceiling: reading the same entries"
        ));
    // DESIGN.md sets the catch-up target for the production store.
    let catch_up = if store == "postgres" {
        catch_up.target(">= 50,000 events/s", value >= 50_000.0)
    } else {
        catch_up
    };
    Ok(vec![
        Figure::new(
            store,
            "sequencing into the ledger",
            sequenced as f64 / sequencing.as_secs_f64(),
            "events/s",
        )
        .note(format!("{sequenced} events, hash chain included")),
        catch_up,
    ])
}

/// Rebuilds the read models from position 0 after reading the whole ledger once: the head, the
/// rebuild's events/s and the reading's events/s (its ceiling).
async fn rebuild_against_reading(ledger: &Arc<Ledger>) -> anyhow::Result<(u64, f64, f64)> {
    let head = ledger.head_position().await?;
    let started = Instant::now();
    let mut after = 0;
    while after < head {
        let entries = ledger.entries_after(after, SEQUENCE_BATCH).await?;
        after = entries.last().map_or(head, |entry| entry.position);
    }
    let read_ceiling = head as f64 / started.elapsed().as_secs_f64();

    let projector = Projector::new(ledger.clone(), Arc::new(SystemClock));
    let started = Instant::now();
    let reached = projector.rebuild().await?;
    let rebuild = started.elapsed();
    anyhow::ensure!(reached == head, "projection stopped at {reached} of {head}");
    Ok((head, head as f64 / rebuild.as_secs_f64(), read_ceiling))
}

/// Catch-up over complaint lives interleaved as a busy system writes them (every complaint's
/// first event, then every complaint's second, …), on a fresh database: between two events of
/// one complaint come those of all the others, so the projector cannot keep every state.
pub async fn interleaved_catch_up(
    store: &str,
    postgres_url: &str,
    complaints: usize,
) -> anyhow::Result<Vec<Figure>> {
    eprintln!("[{store}] projection: {complaints} complaint lives, interleaved");
    let fresh = crate::Fresh::new(store, postgres_url).await?;
    let measured = async {
        let total = seed_interleaved_lives(&fresh.database, complaints).await?;
        let ledger = Arc::new(Ledger::new(fresh.database.clone(), Arc::new(SystemClock)));
        while ledger.sequence(SEQUENCE_BATCH).await? > 0 {}
        let (head, value, read_ceiling) = rebuild_against_reading(&ledger).await?;
        anyhow::ensure!(head == total as u64, "sequenced {head} of {total}");
        let name = format!("projection catch-up, {complaints} lives interleaved");
        let figure = Figure::new(store, name, value, "events/s")
            .beside(read_ceiling, value / read_ceiling)
            .note(format!(
                "rebuild of {head} ledger entries, the lives' events interleaved across all \
                 {complaints} complaints; ceiling: reading the same entries"
            ));
        anyhow::Ok(if store == "postgres" {
            figure.target(">= 50,000 events/s", value >= 50_000.0)
        } else {
            figure
        })
    }
    .await;
    fresh.drop().await;
    Ok(vec![measured?])
}

/// Commands issued one at a time while a consumer follows the ledger as SSE clients do; the
/// latency is from issuing the command to the consumer holding its event.
async fn latency(store: &str, database: &Database, commands: usize) -> anyhow::Result<Vec<Figure>> {
    let clock = Arc::new(SystemClock);
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
        Figure::new(store, "command to feed latency p50", percentile(0.50), "ms").note(format!(
            "{commands} sequential commands; includes the command itself"
        )),
        Figure::new(store, "command to feed latency p99", percentile(0.99), "ms")
            .beside(100.0, percentile(0.99) / 100.0)
            .note("ceiling: the 100 ms target (ratio = share of it used)")
            .target("< 100 ms", percentile(0.99) < 100.0),
    ])
}

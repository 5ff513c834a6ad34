//! Loading a complaint with a long history: one complaint is given `events` events through the
//! engine (filing, then contacts), and `Engine::complaint` (read every event, deserialize, fold)
//! is timed. The ceiling is the same SELECT of the same payloads by plain SQL on the same pool,
//! each decoded as JSON.

use std::sync::Arc;
use std::time::Instant;

use obliged::startup::SystemClock;
use obliged_domain::{Channel, ComplaintCommand, ComplaintServices, Direction, PlainText, Policy};
use obliged_storage::{with_pool, Database, Disclosure, Engine, MasterKey};
use uuid::Uuid;

use crate::{filing, percentile, request, Figure, Fresh, JsonColumn};

const REPETITIONS: usize = 41;
const HISTORY: &str = "SELECT payload FROM events \
     WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 ORDER BY sequence";

pub async fn long_complaint(
    store: &str,
    postgres_url: &str,
    events: usize,
) -> anyhow::Result<Vec<Figure>> {
    eprintln!("[{store}] load: a complaint of {events} events");
    let fresh = Fresh::new(store, postgres_url).await?;
    let measured = measure(store, &fresh.database, events).await;
    fresh.drop().await;
    measured
}

async fn measure(store: &str, database: &Database, events: usize) -> anyhow::Result<Vec<Figure>> {
    let engine = Engine::new(
        database,
        &MasterKey::generate(),
        ComplaintServices::new(Arc::new(SystemClock), Policy::default()),
    );
    let (id, count) = long_history(&engine, events).await?;
    let history = engine.history(id, Disclosure::Redacted).await?;
    anyhow::ensure!(
        history.len() == count,
        "{} events of {count}",
        history.len()
    );

    let key = id.to_string();
    let mut raw = Vec::with_capacity(REPETITIONS);
    let mut folded = Vec::with_capacity(REPETITIONS);
    for _ in 0..REPETITIONS {
        let started = Instant::now();
        let rows = raw_history(database, &key).await?;
        raw.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(rows == count, "read {rows} of {count} rows");

        let started = Instant::now();
        let complaint = engine.complaint(id, None).await?;
        folded.push(started.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(complaint);
    }
    raw.sort_by(f64::total_cmp);
    folded.sort_by(f64::total_cmp);
    let value = percentile(&folded, 0.5);
    let ceiling = percentile(&raw, 0.5);
    let name = format!("load a complaint of {count} events");
    Ok(vec![Figure::new(store, name, value, "ms")
        .beside(ceiling, ceiling / value)
        .note(format!(
            "median of {REPETITIONS} (p99 {:.2} ms) of Engine::complaint: read, deserialize, \
             fold; ceiling: the same SELECT by plain SQL, payloads decoded as JSON (median, p99 \
             {:.2} ms)",
            percentile(&folded, 0.99),
            percentile(&raw, 0.99)
        ))
        .target("< 5 ms", value < 5.0)])
}

/// Files one complaint through `engine` and logs contacts on it until it holds at least
/// `events` events; its id and how many events it holds.
pub async fn long_history(engine: &Engine, events: usize) -> anyhow::Result<(Uuid, usize)> {
    let filed = engine.file(request(filing(1))).await?;
    let id = filed.complaint_id;
    let mut count = filed.events.len();
    while count < events {
        let contact = ComplaintCommand::LogContact {
            direction: if count % 2 == 0 {
                Direction::Outbound
            } else {
                Direction::Inbound
            },
            channel: Channel::Email,
            summary: PlainText::parse(&format!("Exchange {count} about the double charge"))?,
            request: false,
            alias: None,
        };
        count += engine.execute(id, request(contact)).await?.events.len();
    }
    Ok((id, count))
}

/// Reads what folding the current state reads (every payload, in order), decoded as JSON.
async fn raw_history(database: &Database, id: &str) -> anyhow::Result<usize> {
    let mut read = 0;
    with_pool!(database, pool => {
        for row in sqlx::query(HISTORY).bind(id).fetch_all(pool).await? {
            std::hint::black_box(row.json(0)?);
            read += 1;
        }
    });
    Ok(read)
}

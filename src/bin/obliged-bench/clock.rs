//! The promise clock: the due scan among many running ladders (the query every scheduler tick
//! starts with) and one scheduler tick that reaches many rungs.
//!
//! - **Due scan.** `rm_due_rungs` is filled in bulk, as the projector writes it (one row per
//!   running ladder: its next rung), most rows due over the coming year and 1,000 due now; then
//!   `ReadModels::due_rungs(now, 1000)` is timed at each size. The ceiling is the same query on
//!   the smallest table, so a flat cost shows as a ratio near 100%.
//! - **Tick.** Twice the rungs' number of complaints each get a promise through the engine under
//!   a one-rung ladder. Once they are due, half of the rungs are reached by `ReachRung` commands
//!   straight through the engine, 16 at a time (the ceiling), and the other half by one
//!   `Scheduler::tick` (scan, reach in parallel per complaint, project).

use std::sync::Arc;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use obliged::scheduler::Scheduler;
use obliged_domain::{
    ComplaintCommand, ComplaintServices, FixedClock, Offset, Owner, PlainText, Policy, PromiseId,
    PromiseKind, Recipient, RungSpec, Subject, SubjectKind,
};
use obliged_projections::{Projector, ReadModels};
use obliged_storage::{Database, Engine, MasterKey};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::{execute, file_complaints, percentile, request, Figure, Fresh};

/// Rungs due now in each due-scan table, and what the scheduler reads per pass.
const DUE_NOW: u32 = 1_000;
const REPETITIONS: usize = 41;

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
        let fresh = Fresh::new(store, postgres_url).await?;
        let database = fresh.database.clone();
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
        fresh.drop().await;
        let (median, p99) = measured?;
        timings.push((size, median, p99));
    }
    let (smallest, ceiling, _) = timings[0];
    Ok(timings
        .into_iter()
        .map(|(size, median, p99)| {
            Figure::new(
                store,
                format!("due scan: {DUE_NOW} due among {size}"),
                median,
                "ms",
            )
            .beside(ceiling, ceiling / median)
            .note(format!(
                "median of {REPETITIONS} (p99 {p99:.2} ms); ceiling: the same scan among \
                 {smallest} (100% = flat)"
            ))
            .target("< 10 ms", median < 10.0)
        })
        .collect())
}

pub async fn tick(store: &str, database: &Database, rungs: usize) -> anyhow::Result<Vec<Figure>> {
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
    let projector = Arc::new(Projector::new(
        engine.ledger().clone(),
        Arc::new(clock.clone()),
    ));
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
    let name = format!("tick reaching {rungs} rungs");
    Ok(vec![Figure::new(store, name, tick_seconds * 1000.0, "ms")
        .beside(direct_seconds * 1000.0, direct_seconds / tick_seconds)
        .note(format!(
            "{:.0} rungs/s in {} passes; ceiling: the same number of ReachRung commands \
             straight through the engine, 16 at a time",
            rungs as f64 / tick_seconds,
            tick.passes
        ))])
}

/// `count` complaints, each owned and with one callback promise due at `due_at`.
async fn seed_promises(
    engine: &Engine,
    count: usize,
    due_at: Timestamp,
) -> anyhow::Result<Vec<(Uuid, PromiseId)>> {
    let mut made = file_complaints(engine, count, move |engine, complaint| async move {
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
        anyhow::Ok((complaint, promise_id))
    })
    .await?;
    made.sort();
    Ok(made)
}

/// `size` rows of the due scan in the projector's format (times in epoch microseconds):
/// `DUE_NOW` due in the hour before `now`, the rest scattered over the year after it.
async fn seed_due_rungs(database: &Database, size: usize, now: Timestamp) -> anyhow::Result<()> {
    let now_micros = obliged_projections::micros(now);
    let hour = 3_600_000_000i64;
    let year = 365 * 24 * hour;
    let due = i64::from(DUE_NOW);
    let (series, analyze) = match database {
        Database::Sqlite(_) => (
            format!(
                "(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s \
                 WHERE n + 1 < {size}) SELECT n FROM s)"
            ),
            "ANALYZE",
        ),
        Database::Postgres(_) => (
            format!("generate_series(0::bigint, {}::bigint) AS s(n)", size - 1),
            "ANALYZE rm_due_rungs",
        ),
    };
    let sql = format!(
        "INSERT INTO rm_due_rungs (complaint_id, subject, rung, due_at) \
         SELECT 'c' || n, 'promise:' || n, 1, \
         CASE WHEN n < {due} THEN {now_micros} - {hour} + n \
         ELSE {now_micros} + 1 + ((n * 7919) % {year}) END FROM {series}"
    );
    execute(database, &sql).await?;
    execute(database, analyze).await
}

//! Background workers that run beside the HTTP server and stop with it: the ledger sequencer,
//! the projector, the promise clock's scheduler, webhook delivery, the NATS publisher (with
//! `--nats-url`), and (on PostgreSQL)
//! the listener that hears other instances extend the ledger. Every worker also wakes on a
//! timer, so a lost notification only costs latency.

use std::future::Future;
use std::time::Duration;

use obliged_nats::{NatsPublisher, NatsSettings};
use obliged_storage::{Notifications, StoreKind, SEQUENCE_BATCH};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::scheduler::Scheduler;

/// How often an idle worker looks for work nobody told it about.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How long a worker waits after an error before trying again.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Starts every worker (and the NATS publisher when `nats` is set); they finish once
/// `app.shutdown` turns true.
pub fn spawn(
    app: &App,
    nats: Option<NatsSettings>,
    clock_interval: Duration,
) -> Vec<JoinHandle<()>> {
    let mut handles = vec![
        tokio::spawn(sequencer(app.clone(), app.shutdown.subscribe())),
        tokio::spawn(projector(app.clone(), app.shutdown.subscribe())),
        tokio::spawn(scheduler(
            app.clone(),
            clock_interval,
            app.shutdown.subscribe(),
        )),
        tokio::spawn(app.webhooks.clone().run(app.shutdown.subscribe())),
    ];
    if let Some(settings) = nats {
        handles.push(tokio::spawn(nats_publisher(
            app.clone(),
            settings,
            app.shutdown.subscribe(),
        )));
    }
    if app.database.kind() == StoreKind::Postgres {
        handles.push(tokio::spawn(listener(
            app.clone(),
            app.shutdown.subscribe(),
        )));
    }
    handles
}

fn stopped(shutdown: &mut watch::Receiver<bool>) -> bool {
    *shutdown.borrow_and_update()
}

/// Sequences events that no command sequenced: commands sequence their own events before they
/// answer, so this only finds the events of a process that died between commit and sequencing.
async fn sequencer(app: App, shutdown: watch::Receiver<bool>) {
    let ledger = app.ledger.clone();
    step_loop(
        "sequencer",
        || ledger.sequence(SEQUENCE_BATCH),
        None,
        shutdown,
    )
    .await;
}

/// Keeps the read models up with the ledger.
async fn projector(app: App, shutdown: watch::Receiver<bool>) {
    let head = app.ledger.subscribe();
    step_loop(
        "projector",
        || app.projector.step(SEQUENCE_BATCH),
        Some(head),
        shutdown,
    )
    .await;
}

/// Runs `step` until shutdown: again at once while it finds work, after [`IDLE_POLL`] (or as
/// soon as the ledger head in `wake` moves) when it finds none, after [`ERROR_BACKOFF`] when it
/// fails.
async fn step_loop<F, E>(
    name: &str,
    step: impl Fn() -> F,
    mut wake: Option<watch::Receiver<u64>>,
    mut shutdown: watch::Receiver<bool>,
) where
    F: Future<Output = Result<usize, E>>,
    E: std::fmt::Display,
{
    while !stopped(&mut shutdown) {
        let pause = match step().await {
            Ok(0) => IDLE_POLL,
            Ok(_) => continue,
            Err(error) => {
                tracing::warn!(%error, "{name} step failed");
                ERROR_BACKOFF
            }
        };
        tokio::select! {
            _ = moved(&mut wake) => {}
            _ = shutdown.changed() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Waits until the head in `wake` moves (or its sender is gone); forever without one.
async fn moved(wake: &mut Option<watch::Receiver<u64>>) {
    match wake {
        Some(head) => {
            let _ = head.changed().await;
        }
        None => std::future::pending().await,
    }
}

/// Ticks the promise clock every `interval`: reminders, breaches and escalations as they fall
/// due. Several instances may tick against one database; each rung is still reached once.
async fn scheduler(app: App, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    let scheduler = Scheduler::new(
        app.engine.clone(),
        app.projector.clone(),
        app.read_models.clone(),
    );
    while !stopped(&mut shutdown) {
        let pause = match scheduler.tick().await {
            Ok(tick) => {
                if !tick.reached.is_empty() || tick.failed > 0 {
                    tracing::info!(
                        reached = tick.reached.len(),
                        skipped = tick.skipped,
                        failed = tick.failed,
                        "promise clock tick"
                    );
                }
                interval
            }
            Err(error) => {
                tracing::warn!(%error, "promise clock tick failed");
                ERROR_BACKOFF.max(interval.min(Duration::from_secs(5)))
            }
        };
        tokio::select! {
            _ = shutdown.changed() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Connects to NATS, retrying while it is unreachable (obliged runs without it meanwhile and
/// publishes from its checkpoint once it is back), then publishes until shutdown.
async fn nats_publisher(app: App, settings: NatsSettings, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(250);
    while !stopped(&mut shutdown) {
        match NatsPublisher::connect(
            settings.clone(),
            app.reader.clone(),
            app.checkpoints.clone(),
        )
        .await
        {
            Ok(publisher) => return publisher.run(shutdown).await,
            Err(error) => {
                tracing::warn!(%error, stream = %settings.stream, "cannot reach NATS; retrying");
                tokio::select! {
                    _ = shutdown.changed() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Hears other instances extend the ledger, so this one's streams and projector wake at once.
async fn listener(app: App, mut shutdown: watch::Receiver<bool>) {
    while !stopped(&mut shutdown) {
        let mut notifications = match Notifications::connect(&app.database).await {
            Ok(Some(notifications)) => notifications,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot LISTEN; retrying");
                // While the database is away, a shutdown must not wait out the pause.
                tokio::select! {
                    _ = shutdown.changed() => return,
                    () = tokio::time::sleep(ERROR_BACKOFF) => continue,
                }
            }
        };
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                moved = notifications.ledger_moved() => match moved {
                    Ok(()) => {
                        if let Err(error) = app.ledger.refresh_head().await {
                            tracing::warn!(%error, "reading the ledger head");
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "LISTEN connection lost; reconnecting");
                        break;
                    }
                },
            }
        }
    }
}

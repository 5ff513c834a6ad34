//! Live pages: server-sent events that carry the re-rendered parts of a page when the ledger
//! moves. An open complaint page receives its header, timeline and what is owed after every
//! event of that complaint; My work receives its list when the read models have caught up with
//! a change and the list differs from what the page shows.
//!
//! A stream sends no ledger entry itself: it re-reads, as the signed-in person, what their page
//! shows. It ends when its session ends (sign-out, expiry, a disabled account, a password
//! reset): [`LiveSessions`] asks the database every [`CHECK_INTERVAL`] which of the open
//! streams' sessions have ended, in one query for all of them.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use obliged_storage::{Accounts, CHECK_INTERVAL};
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

use crate::complaint::{self, HeaderPart, OwedPart, TimelinePart};
use crate::lists;
use crate::session::{Can, Staff};
use crate::ConsoleState;

/// How long My work waits for the read models to include a change before it re-reads anyway.
const CATCH_UP_ATTEMPTS: usize = 20;

/// The sessions of the open live streams of this process, and which of them have ended.
#[derive(Clone)]
pub struct LiveSessions(Arc<Inner>);

struct Inner {
    accounts: Accounts,
    shutdown: Arc<watch::Sender<bool>>,
    /// Open streams per session id.
    open: Mutex<HashMap<String, usize>>,
    ended: watch::Sender<Arc<HashSet<String>>>,
    started: OnceLock<()>,
}

/// A place among the live streams; dropping it (the stream ended) frees it.
pub struct LiveTicket {
    inner: Arc<Inner>,
    session: String,
}

impl Drop for LiveTicket {
    fn drop(&mut self) {
        let mut open = self.inner.open.lock().expect("the live-sessions lock");
        if let Some(count) = open.get_mut(&self.session) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.session);
            }
        }
    }
}

impl LiveSessions {
    pub fn new(accounts: Accounts, shutdown: Arc<watch::Sender<bool>>) -> Self {
        Self(Arc::new(Inner {
            accounts,
            shutdown,
            open: Mutex::new(HashMap::new()),
            ended: watch::Sender::new(Arc::new(HashSet::new())),
            started: OnceLock::new(),
        }))
    }

    pub(crate) fn open(&self, session: &str) -> LiveTicket {
        *self
            .0
            .open
            .lock()
            .expect("the live-sessions lock")
            .entry(session.to_owned())
            .or_insert(0) += 1;
        self.0.started.get_or_init(|| {
            tokio::spawn(watch_sessions(self.0.clone()));
        });
        LiveTicket {
            inner: self.0.clone(),
            session: session.to_owned(),
        }
    }

    pub(crate) fn ended(&self) -> watch::Receiver<Arc<HashSet<String>>> {
        self.0.ended.subscribe()
    }
}

async fn watch_sessions(inner: Arc<Inner>) {
    let mut shutdown = inner.shutdown.subscribe();
    let mut ticker = tokio::time::interval(CHECK_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let sessions: Vec<String> = {
            let open = inner.open.lock().expect("the live-sessions lock");
            open.keys().cloned().collect()
        };
        let known = inner.ended.borrow().clone();
        let unknown: Vec<String> = sessions
            .into_iter()
            .filter(|session| !known.contains(session))
            .collect();
        match inner.accounts.ended_among(&unknown).await {
            Ok(ended) if !ended.is_empty() => inner.ended.send_modify(|set| {
                let mut grown = (**set).clone();
                grown.extend(ended);
                *set = Arc::new(grown);
            }),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "checking the sessions of live pages"),
        }
    }
}

/// What a live stream sends: named events with HTML.
type Update = Vec<(&'static str, String)>;

/// Runs `render` whenever the ledger moves (coalescing bursts), sending what it returns, until
/// the session ends, the client goes or the server stops.
fn live_stream<F, Fut>(
    state: &ConsoleState,
    session: String,
    mut render: F,
) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnMut(Vec<Arc<obliged_storage::LedgerEntry>>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<Update>> + Send,
{
    let (sender, receiver) = mpsc::channel::<Event>(16);
    let mut entries = state.streams.follow(&state.shutdown);
    let ticket = state.live.open(&session);
    let mut ended = state.live.ended();
    let mut shutdown = state.shutdown.subscribe();
    tokio::spawn(async move {
        let _ticket = ticket;
        loop {
            let first = tokio::select! {
                entry = entries.recv() => entry,
                _ = ended.changed() => {
                    if ended.borrow().contains(&session) {
                        let _ = sender
                            .send(Event::default().event("ended").data("ended"))
                            .await;
                        return;
                    }
                    continue;
                }
                _ = shutdown.changed() => return,
                () = sender.closed() => return,
            };
            let mut batch = Vec::new();
            match first {
                Ok(entry) => batch.push(entry),
                // Fell behind: re-render all the same, from the store.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
            while let Ok(entry) = entries.try_recv() {
                batch.push(entry);
            }
            if let Some(update) = render(batch).await {
                for (name, html) in update {
                    if sender
                        .send(Event::default().event(name).data(html))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    })
}

fn sse(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The live parts of complaint `id`'s page.
pub async fn complaint(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = staff.require(Can::Read) {
        return refused;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    let wanted = id.to_string();
    let session = staff.session.id.clone();
    let render_state = state.clone();
    let staff = Arc::new(staff);
    let stream = live_stream(&state, session, move |batch| {
        let state = render_state.clone();
        let staff = staff.clone();
        let wanted = wanted.clone();
        async move {
            let mine: Vec<_> = batch
                .iter()
                .filter(|entry| entry.complaint_id == wanted)
                .collect();
            if mine.is_empty() && !batch.is_empty() {
                return None;
            }
            let (_, view) = complaint::load(&state, &staff, id).await.ok()?;
            let t = &staff.tr;
            let mut update: Update = Vec::new();
            let parts = [
                ("header", HeaderPart { t, v: &view }.render()),
                ("timeline", TimelinePart { t, v: &view }.render()),
                ("owed", OwedPart { t, v: &view }.render()),
            ];
            for (name, rendered) in parts {
                update.push((name, rendered.ok()?));
            }
            if let Some(last) = mine.last() {
                let actor = serde_json::from_str::<serde_json::Value>(&last.metadata)
                    .ok()
                    .and_then(|metadata| metadata["actor"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                update.push((
                    "notice",
                    crate::view::escape(&t.ta(
                        "live-changed",
                        &[("event", t.event(&last.event_type)), ("actor", actor)],
                    )),
                ));
            }
            Some(update)
        }
    });
    sse(stream)
}

/// My work, live: the list, sent when it changed.
pub async fn my_work(State(state): State<ConsoleState>, staff: Staff) -> Response {
    if let Err(refused) = staff.require(Can::Read) {
        return refused;
    }
    let session = staff.session.id.clone();
    let render_state = state.clone();
    let staff = Arc::new(staff);
    let shown = Arc::new(Mutex::new(None::<String>));
    let stream = live_stream(&state, session, move |batch| {
        let state = render_state.clone();
        let staff = staff.clone();
        let shown = shown.clone();
        async move {
            if let Some(last) = batch.last() {
                // The list is read from the read models: let them include the change first.
                let _ = state
                    .projector
                    .reach(last.position, CATCH_UP_ATTEMPTS)
                    .await;
            }
            let items = lists::work_items(&state, &staff).await.ok()?;
            let html = items.render().ok()?;
            let mut shown = shown.lock().expect("the shown-list lock");
            if shown.as_deref() == Some(html.as_str()) {
                return None;
            }
            *shown = Some(html.clone());
            Some(vec![("work", html)])
        }
    });
    sse(stream)
}

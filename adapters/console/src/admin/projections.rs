//! The ledger's readers: each projection (`Projector::names`) and publisher (every other
//! checkpoint) with its position, the ledger's head and the lag between them, as the API's
//! `/api/projections` counts them. The page is right when loaded; while it is open, a live
//! stream re-reads the table when the ledger moves and sends it when it changed, at most once
//! per [`THROTTLE`], and keeps re-reading at that pace while something lags, since a
//! projection catches up a moment after the entry that moved the head.

use std::collections::hash_map::DefaultHasher;
use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use obliged_projections::Projector;
use tokio::sync::{broadcast, mpsc};

use super::{chrome, unavailable, NavLink, Part};
use crate::i18n::Tr;
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section};
use crate::ConsoleState;

/// The least time between two reads of the table by one live page.
pub const THROTTLE: Duration = Duration::from_secs(1);

pub struct ConsumerRow {
    pub name: String,
    /// `projector` or `publisher`.
    pub kind: &'static str,
    pub kind_label: String,
    pub position: u64,
    pub lag: u64,
}

/// The table: the ledger's head and every reader.
pub struct Consumers {
    pub head: u64,
    pub rows: Vec<ConsumerRow>,
}

impl Consumers {
    fn lagging(&self) -> bool {
        self.rows.iter().any(|row| row.lag > 0)
    }
}

/// The part of the page the live stream replaces.
#[derive(Template)]
#[template(path = "partials/admin_consumers.html")]
pub struct ConsumersPart<'a> {
    pub t: &'a Tr,
    pub x: &'a Consumers,
}

#[derive(Template)]
#[template(path = "admin_projections.html")]
struct ProjectionsPage {
    t: Tr,
    c: Chrome,
    nav: Vec<NavLink>,
    x: Consumers,
    /// What the page shows, for the live stream to tell a change from it.
    shown: u64,
}

/// Every reader and its lag, read now.
async fn consumers(state: &ConsoleState, t: &Tr) -> Result<Consumers, String> {
    let head = state
        .engine
        .ledger()
        .head_position()
        .await
        .map_err(|error| error.to_string())?;
    let checkpoints = state
        .checkpoints
        .all()
        .await
        .map_err(|error| error.to_string())?;
    let position_of = |name: &str| {
        checkpoints
            .iter()
            .find(|(checkpoint, _)| checkpoint == name)
            .map_or(0, |(_, position)| *position)
    };
    let row = |name: &str, kind: &'static str, position: u64| ConsumerRow {
        name: name.to_owned(),
        kind,
        kind_label: t.t(&format!("admin-kind-{kind}")),
        position,
        lag: head.saturating_sub(position),
    };
    let mut rows: Vec<ConsumerRow> = Projector::names()
        .iter()
        .map(|name| row(name, "projector", position_of(name)))
        .collect();
    rows.extend(
        checkpoints
            .iter()
            .filter(|(name, _)| !Projector::names().contains(&name.as_str()))
            .map(|(name, position)| row(name, "publisher", *position)),
    );
    Ok(Consumers { head, rows })
}

/// The table as HTML, and a fingerprint of it.
fn rendered(t: &Tr, x: &Consumers) -> Option<(String, u64)> {
    let html = ConsumersPart { t, x }.render().ok()?;
    let print = fingerprint(&html);
    Some((html, print))
}

fn fingerprint(html: &str) -> u64 {
    // SipHash with fixed keys: the same table gives the same number in every process.
    let mut hasher = DefaultHasher::new();
    html.hash(&mut hasher);
    hasher.finish()
}

/// `/admin/projections`.
pub async fn page(State(state): State<ConsoleState>, staff: Staff) -> Response {
    if let Err(refused) = staff.require(Can::Administer) {
        return refused;
    }
    let t = staff.tr.clone();
    let x = match consumers(&state, &t).await {
        Ok(x) => x,
        Err(error) => return unavailable(&staff, &error),
    };
    let shown = rendered(&t, &x).map_or(0, |(_, print)| print);
    let chrome = chrome(&staff, Part::Projections, t.t("admin-projections"));
    let page = ProjectionsPage {
        c: chrome.c,
        nav: chrome.nav,
        t,
        x,
        shown,
    };
    view::render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    shown: u64,
}

/// `/admin/projections/live`: the table, sent when it differs from what the page shows. Ends
/// with the session, like every live page.
pub async fn live(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<Shown>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::Administer) {
        return refused;
    }
    let mut shown = query.map(|Query(query)| query.shown).unwrap_or_default();
    let session = staff.session.id.clone();
    let t = staff.tr.clone();
    let ticket = state.live.open(&session);
    let mut ended = state.live.ended();
    let mut entries = state.streams.follow(&state.shutdown);
    let mut shutdown = state.shutdown.subscribe();
    let (sender, receiver) = mpsc::channel::<Event>(4);
    tokio::spawn(async move {
        let _ticket = ticket;
        let mut ticker = tokio::time::interval(THROTTLE);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Read once at the start: something may have moved since the page was read.
        let mut dirty = true;
        let mut lagging = false;
        loop {
            tokio::select! {
                entry = entries.recv() => match entry {
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => dirty = true,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = ticker.tick() => {
                    if !(dirty || lagging) {
                        continue;
                    }
                    dirty = false;
                    let Ok(x) = consumers(&state, &t).await else {
                        // Try again on the next tick.
                        dirty = true;
                        continue;
                    };
                    lagging = x.lagging();
                    let Some((html, print)) = rendered(&t, &x) else { continue };
                    if print != shown {
                        shown = print;
                        if sender.send(Event::default().event("consumers").data(html)).await.is_err() {
                            return;
                        }
                    }
                }
                _ = ended.changed() => {
                    if ended.borrow().contains(&session) {
                        let _ = sender.send(Event::default().event("ended").data("ended")).await;
                        return;
                    }
                }
                _ = shutdown.changed() => return,
                () = sender.closed() => return,
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

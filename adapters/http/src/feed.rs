//! The integration feed: ledger entries in position order, as pages (`GET /api/events`) or as
//! Server-Sent Events (`GET /api/events/stream`, `id:` = position, resumable with
//! `Last-Event-ID`). Personal data is opened only for roles that may see it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::Stream;
use obliged_storage::{LedgerEntry, Opener};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use crate::auth::{Action, Caller};
use crate::error::{ApiError, Problem};
use crate::openapi::{EventsPage, StreamEvent};
use crate::AppState;

/// The most entries one page returns.
pub const MAX_PAGE: usize = 1_000;
const DEFAULT_PAGE: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Start after this ledger position (0: the beginning).
    #[param(value_type = Option<u64>, minimum = 0, default = 0)]
    after: Option<String>,
    /// How many entries to return.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, default = 100)]
    limit: Option<String>,
}

/// The query of the stream: where to start when there is no `Last-Event-ID`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Start after this ledger position when no Last-Event-ID is sent.
    #[param(value_type = Option<u64>, minimum = 0, default = 0)]
    after: Option<String>,
}

/// The `Last-Event-ID` header of a resuming stream client.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct LastEventId {
    /// Resume after this position (the `id` of the last event received); wins over `after`.
    #[param(rename = "Last-Event-ID", value_type = u64, required = false, minimum = 0)]
    last_event_id: Option<u64>,
}

fn number(name: &str, raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    crate::reads::parse_number(name, raw)
}

/// An entry as integrations see it.
pub async fn entry_json(entry: &LedgerEntry, opener: &mut Opener) -> Result<Value, ApiError> {
    Ok(obliged_storage::entry_json(entry, opener).await?)
}

#[utoipa::path(
    get,
    path = "/api/events",
    summary = "ledger entries after a position, in order (roles integration, auditor, admin); \
        personal data reads `[sealed]` for the integration role",
    params(FeedQuery),
    responses(
        (status = 200, description = "a page of entries", body = EventsPage),
        (status = 400, description = "invalid-query", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::Stream)?;
    let Query(query) =
        query.map_err(|error| ApiError::bad_request("invalid-query", error.body_text()))?;
    let after = number("after", query.after.as_deref())?.unwrap_or(0);
    let limit = number("limit", query.limit.as_deref())?.unwrap_or(DEFAULT_PAGE as u64);
    if limit == 0 || limit > MAX_PAGE as u64 {
        return Err(ApiError::bad_request(
            "invalid-query",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let ledger = state.engine.ledger();
    let entries = ledger
        .entries_after(after, limit as usize)
        .await
        .map_err(|error| ApiError::Unavailable {
            detail: error.to_string(),
        })?;
    let mut opener = state.engine.opener(caller.disclosure());
    let mut events = Vec::with_capacity(entries.len());
    for entry in &entries {
        events.push(entry_json(entry, &mut opener).await?);
    }
    let next_after = entries.last().map_or(after, |entry| entry.position);
    let head = ledger
        .head_position()
        .await
        .map_err(|error| ApiError::Unavailable {
            detail: error.to_string(),
        })?;
    Ok(Json(json!({"events": events, "next_after": next_after, "head": head})).into_response())
}

#[utoipa::path(
    get,
    path = "/api/events/stream",
    summary = "Server-Sent Events: one event per ledger entry, id = position, event = type, data \
        = the entry as in /api/events; resume with Last-Event-ID (roles integration, auditor, \
        admin). The stream stays open until the client or the server stops it.",
    params(StreamQuery, LastEventId),
    responses(
        (status = 200, description = "the stream: one event per ledger entry", content_type = "text/event-stream", body = StreamEvent),
        (status = 400, description = "invalid-query: `after` or Last-Event-ID is not a position",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.require(Action::Stream)?;
    let Query(query) =
        query.map_err(|error| ApiError::bad_request("invalid-query", error.body_text()))?;
    let last_event_id = headers
        .get("last-event-id")
        .map(|value| value.to_str().unwrap_or("not text"));
    // Both are checked, whichever is used: a malformed `after` is refused even when a
    // Last-Event-ID makes it moot.
    let after = number("after", query.after.as_deref())?;
    let after = match number("Last-Event-ID", last_event_id)? {
        Some(resume) => resume,
        None => after.unwrap_or(0),
    };
    let cursor = Cursor {
        after,
        buffer: VecDeque::new(),
        head: state.engine.ledger().subscribe(),
        shutdown: state.shutdown.subscribe(),
        opener: state.engine.opener(caller.disclosure()),
        state,
    };
    let events = futures_util::stream::unfold(cursor, |mut cursor| async move {
        let event = cursor.next().await?;
        Some((Ok(event), cursor))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The reading position of one SSE client.
struct Cursor {
    after: u64,
    buffer: VecDeque<Event>,
    head: tokio::sync::watch::Receiver<u64>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    opener: Opener,
    state: AppState,
}

impl Cursor {
    /// The next event, waiting for one if need be; `None` when the server shuts down.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            if let Some(event) = self.buffer.pop_front() {
                return Some(event);
            }
            match self
                .state
                .engine
                .ledger()
                .entries_after(self.after, 200)
                .await
            {
                Ok(entries) if !entries.is_empty() => {
                    for entry in entries {
                        match entry_json(&entry, &mut self.opener).await {
                            Ok(data) => self.buffer.push_back(
                                Event::default()
                                    .id(entry.position.to_string())
                                    .event(entry.event_type.clone())
                                    .data(data.to_string()),
                            ),
                            Err(error) => {
                                tracing::warn!(?error, position = entry.position, "feed entry");
                                return None;
                            }
                        }
                        self.after = entry.position;
                    }
                }
                Ok(_) => self.wait().await,
                Err(error) => {
                    tracing::warn!(%error, "reading the ledger for a stream");
                    self.wait().await;
                }
            }
        }
    }

    /// Until the ledger moves, the server stops, or a second passes (another process may have
    /// sequenced without this one hearing of it).
    async fn wait(&mut self) {
        tokio::select! {
            _ = self.head.changed() => {}
            _ = self.shutdown.changed() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

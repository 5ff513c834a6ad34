//! The integration feed: ledger entries in position order, as pages (`GET /api/events`) or as
//! Server-Sent Events (`GET /api/events/stream`, `id:` = position, resumable with
//! `Last-Event-ID`). Personal data is opened only for roles that may see it. Streams follow the
//! process's one reader of the ledger (`streams.rs`) and end when their token is revoked.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::Stream;
use obliged_storage::{LedgerEntry, LedgerReader, Opener};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::{Action, Caller};
use crate::error::{ApiError, Problem};
use crate::openapi::{EventsPage, StreamEvent};
use crate::AppState;
use obliged_storage::{StreamRefusal, StreamTicket};

/// The most entries one page returns.
pub const MAX_PAGE: usize = 1_000;
const DEFAULT_PAGE: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Start after this ledger position (0: the beginning).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64, default = 0)]
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
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64, default = 0)]
    after: Option<String>,
}

/// The `Last-Event-ID` header of a resuming stream client.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct LastEventId {
    /// Resume after this position (the `id` of the last event received); wins over `after`.
    #[param(rename = "Last-Event-ID", value_type = u64, required = false, minimum = 0,
        maximum = 9223372036854775807_u64)]
    last_event_id: Option<u64>,
}

/// A position or a count in the query: at most 2^63 − 1 (see `reads::parse_position`).
fn number(name: &str, raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    crate::reads::parse_position(name, raw)
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
    let ledger = state.reader.ledger();
    let entries = ledger
        .entries_after(after, limit as usize)
        .await
        .map_err(|error| ApiError::Unavailable {
            detail: error.to_string(),
        })?;
    let mut opener = state.reader.opener(caller.disclosure());
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
        (status = 429, description = "too-many-streams: this token holds its limit of open \
            streams; Retry-After says when to try again", body = Problem,
            content_type = "application/problem+json"),
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
    let ticket =
        state
            .streams
            .open(caller.0.id, &state.shutdown)
            .map_err(|refusal| match refusal {
                StreamRefusal::TokenFull { limit } => ApiError::TooManyStreams { limit },
                StreamRefusal::ProcessFull { limit } => ApiError::StreamsFull { limit },
            })?;
    // The token was just authenticated: what the ledger holds now may go to it.
    let allowed_through = state
        .reader
        .ledger()
        .head_position()
        .await
        .map_err(|error| ApiError::Unavailable {
            detail: error.to_string(),
        })?;
    let cursor = Cursor {
        after,
        allowed_through,
        vetted: state.streams.vetted(),
        catching_up: true,
        buffer: VecDeque::new(),
        entries: state.streams.entries(),
        published: state.streams.published(),
        revoked: state.streams.revoked(),
        token: caller.0.id,
        shutdown: state.shutdown.subscribe(),
        opener: state.reader.opener(caller.disclosure()),
        reader: state.reader.clone(),
        _ticket: ticket,
    };
    let events = futures_util::stream::unfold(cursor, |mut cursor| async move {
        let event = cursor.next().await?;
        Some((Ok(event), cursor))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The reading position of one SSE client. It reads the ledger itself only while catching up
/// (from where the client resumes, or over a gap after falling behind the channel); otherwise
/// it follows the process's one reader (`streams.rs`).
struct Cursor {
    after: u64,
    /// The ledger's head when the stream opened, right after its token was authenticated.
    allowed_through: u64,
    /// How far entries are vetted against revocations; catching up goes no further than this
    /// or `allowed_through`.
    vetted: watch::Receiver<u64>,
    catching_up: bool,
    buffer: VecDeque<Event>,
    entries: broadcast::Receiver<Arc<LedgerEntry>>,
    published: watch::Receiver<Option<u64>>,
    revoked: watch::Receiver<Arc<HashSet<Uuid>>>,
    token: Uuid,
    shutdown: watch::Receiver<bool>,
    opener: Opener,
    reader: LedgerReader,
    /// Holds the stream's place among the open streams until it ends.
    _ticket: StreamTicket,
}

impl Cursor {
    /// The next event, waiting for one if need be; `None` when the server shuts down or the
    /// token is revoked.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.shutdown.borrow() || self.revoked.borrow().contains(&self.token) {
                return None;
            }
            if let Some(event) = self.buffer.pop_front() {
                return Some(event);
            }
            if self.catching_up {
                match self.reader.entries_after(self.after, 200).await {
                    // Caught up with the ledger. The channel carries what comes next once the
                    // process's reader publishes from at most here; until it does (it starts,
                    // or restarts after a moment with no streams), wait for it.
                    Ok(entries) if entries.is_empty() => {
                        let published = *self.published.borrow_and_update();
                        match published {
                            Some(_) => self.catching_up = false,
                            None => self.wait_for_publishing().await,
                        }
                    }
                    Ok(entries) => {
                        let limit = self.allowed_through.max(*self.vetted.borrow_and_update());
                        for entry in entries.iter().take_while(|entry| entry.position <= limit) {
                            self.push(entry).await?;
                        }
                        if self.buffer.is_empty() {
                            // Everything read was sequenced after the last revocation check.
                            self.wait_for_vetting().await;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "reading the ledger for a stream");
                        self.pause().await;
                    }
                }
                continue;
            }
            tokio::select! {
                received = self.entries.recv() => match received {
                    Ok(entry) if entry.position <= self.after => {}
                    Ok(entry) if entry.position == self.after + 1 => self.push(&entry).await?,
                    // A gap (entries published before this stream followed the channel): read
                    // it from the ledger, this entry included.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => self.catching_up = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.revoked.changed() => {}
                _ = self.shutdown.changed() => {}
            }
        }
    }

    /// Renders `entry` for this reader into the buffer; `None` ends the stream (an entry that
    /// cannot be rendered must not be skipped silently).
    async fn push(&mut self, entry: &LedgerEntry) -> Option<()> {
        match entry_json(entry, &mut self.opener).await {
            Ok(data) => {
                self.buffer.push_back(
                    Event::default()
                        .id(entry.position.to_string())
                        .event(entry.event_type.clone())
                        .data(data.to_string()),
                );
                self.after = entry.position;
                Some(())
            }
            Err(error) => {
                tracing::warn!(?error, position = entry.position, "feed entry");
                None
            }
        }
    }

    /// Until entries are vetted further (or the server stops, or the token is revoked).
    async fn wait_for_vetting(&mut self) {
        tokio::select! {
            _ = self.vetted.changed() => {}
            _ = self.revoked.changed() => {}
            _ = self.shutdown.changed() => {}
        }
    }

    /// Until the process's reader publishes (then catching up once more closes any gap).
    async fn wait_for_publishing(&mut self) {
        tokio::select! {
            _ = self.published.changed() => {}
            _ = self.revoked.changed() => {}
            _ = self.shutdown.changed() => {}
        }
    }

    /// After a failed read: a second, or less if the server stops or the token is revoked.
    async fn pause(&mut self) {
        tokio::select! {
            _ = self.revoked.changed() => {}
            _ = self.shutdown.changed() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

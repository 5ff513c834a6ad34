//! The HTTP API of obliged (axum): routes, authentication by bearer token and role, decoding of
//! commands, and problem+json errors. Handlers do no business logic: they decode, check the
//! role, and hand the command to the storage [`Engine`](obliged_storage::Engine).
//!
//! [`serve`] takes an already-bound listener and a shutdown future, so tests can bind port 0;
//! [`ServerLimits`] bound how long a client may take to send a request.

mod auth;
mod decode;
mod error;
mod feed;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod headers;
mod reads;
mod reports;
mod server;
mod streams;
mod strict_json;
mod view;
mod webhooks;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use obliged_domain::ComplaintCommand;
use obliged_projections::{Projector, ReadModels};
use obliged_storage::{
    Checkpoints, CommandOutcome, CommandRequest, Database, Engine, LedgerReader, Tokens,
};
use serde::Deserialize;
use serde_json::json;
use tower_http::trace::TraceLayer;
use uuid::Uuid;

pub use auth::{Action, Caller};
pub use decode::BODY_LIMIT;
pub use error::ApiError;
pub use server::{serve, serve_with, ServerLimits};
pub use streams::{StreamLimits, Streams};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The command path.
    pub engine: Engine,
    /// The ledger as consumers read it (feed, stream, reports).
    pub reader: LedgerReader,
    pub projector: std::sync::Arc<Projector>,
    pub read_models: ReadModels,
    pub checkpoints: Checkpoints,
    /// The process's live event streams, served from one reader of the ledger.
    pub streams: Streams,
    pub webhooks: obliged_webhooks::Webhooks,
    pub tokens: Tokens,
    pub database: Database,
    /// Becomes `true` when the server starts shutting down, so that streams end.
    pub shutdown: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

/// The OpenAPI description of this API, served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The API with the default [`ServerLimits`].
pub fn router(state: AppState) -> Router {
    router_with(state, ServerLimits::default())
}

/// The API; every request must be answered within `limits.request_timeout`.
pub fn router_with(state: AppState, limits: ServerLimits) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/complaints", post(file_complaint).get(reads::list))
        .route("/api/queues/{owner}", get(reads::queue))
        .route("/api/counters", get(reads::counters))
        .route("/api/projections", get(reads::projections))
        .route("/api/reports/accountability", get(reports::accountability))
        .route(
            "/api/webhooks",
            post(webhooks::subscribe).get(webhooks::list),
        )
        .route(
            "/api/webhooks/{id}",
            get(webhooks::show).delete(webhooks::remove),
        )
        .route("/api/webhooks/{id}/redeliver", post(webhooks::redeliver))
        .route(
            "/api/webhooks/{id}/dead-letters",
            get(webhooks::dead_letters),
        )
        .route("/api/complaints/{id}", get(show_complaint))
        .route("/api/complaints/{id}/commands", post(run_command))
        .route("/api/complaints/{id}/history", get(history))
        .route("/api/events", get(feed::page))
        .route("/api/events/stream", get(feed::stream))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(refuse_declared_oversize))
        .layer(middleware::from_fn_with_state(
            limits.request_timeout,
            deadline,
        ))
        .layer(middleware::from_fn(headers::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Answers 413 to a body declared larger than [`BODY_LIMIT`] before reading any of it. (A body
/// without a declared length is cut off by `DefaultBodyLimit` once it passes the limit.)
async fn refuse_declared_oversize(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response();
    }
    next.run(request).await
}

/// Answers 408 when a request, its body included, is not answered within `limit`: a client
/// that sends half a body and stalls must not hold a connection and a task forever. Only the
/// wait for the response head is bounded, so event streams keep flowing. A command already
/// handed to the engine runs to completion in its own task whatever happens here.
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::RequestTimeout { limit }.into_response(),
    }
}

async fn health(State(state): State<AppState>) -> Response {
    match state.database.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(error) => ApiError::Unavailable {
            detail: error.to_string(),
        }
        .into_response(),
    }
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::NotFound {
        slug: "not-found",
        detail: "no such endpoint; see /api/openapi.json".into(),
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The one parameter of a route's path, as text. Axum's `Path` answers a parameter that is not
/// UTF-8 once percent-decoded (`%FF`) with a plain-text 400; this answers with a problem.
pub(crate) struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|rejection| ApiError::bad_request("invalid-path", rejection.body_text()))
    }
}

fn complaint_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|error| {
        ApiError::bad_request(
            "invalid-complaint-id",
            format!("{raw:?} is not a UUID: {error}"),
        )
    })
}

/// Reads an optional header that must be 1 to `max` visible ASCII characters.
fn token_header(headers: &HeaderMap, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let valid = value
        .to_str()
        .ok()
        .filter(|text| !text.is_empty() && text.len() <= max)
        .filter(|text| text.bytes().all(|byte| byte.is_ascii_graphic()));
    match valid {
        Some(text) => Ok(Some(text.to_owned())),
        None => Err(ApiError::bad_request(
            "invalid-header",
            format!("{name} must be 1 to {max} visible ASCII characters"),
        )),
    }
}

fn command_request(
    caller: &Caller,
    headers: &HeaderMap,
    command: ComplaintCommand<obliged_domain::PlainText>,
) -> Result<CommandRequest, ApiError> {
    Ok(CommandRequest {
        actor: caller.0.name.clone(),
        command,
        idempotency_key: token_header(headers, "idempotency-key", 255)?,
        correlation_id: token_header(headers, "x-correlation-id", 128)?,
    })
}

fn outcome_body(outcome: &CommandOutcome) -> serde_json::Value {
    json!({
        "id": outcome.complaint_id,
        "command_id": outcome.command_id,
        "position": outcome.position,
        "events": outcome.events,
        "replayed": outcome.replayed,
    })
}

fn replay_header(response: &mut Response, outcome: &CommandOutcome) {
    if outcome.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
}

async fn file_complaint(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::Command)?;
    let complaint = decode::new_complaint(&decode::body(&headers, body)?)?;
    let command = ComplaintCommand::FileComplaint {
        customer: complaint.customer,
        channel: complaint.channel,
        category: complaint.category,
        description: complaint.description,
    };
    let outcome = state
        .engine
        .file(command_request(&caller, &headers, command)?)
        .await?;
    let location = format!("/api/complaints/{}", outcome.complaint_id);
    let mut response = (
        StatusCode::CREATED,
        [(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("a path of a UUID is a valid header"),
        )],
        Json(outcome_body(&outcome)),
    )
        .into_response();
    replay_header(&mut response, &outcome);
    Ok(response)
}

async fn run_command(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::Command)?;
    let id = complaint_id(&id)?;
    let command = decode::command(&decode::body(&headers, body)?)?;
    if matches!(command, ComplaintCommand::TakeOver { .. }) {
        caller.require(Action::TakeOver)?;
    }
    let outcome = state
        .engine
        .execute(id, command_request(&caller, &headers, command)?)
        .await?;
    let mut response = Json(outcome_body(&outcome)).into_response();
    replay_header(&mut response, &outcome);
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct AsOfQuery {
    as_of: Option<String>,
}

async fn show_complaint(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
    query: Result<Query<AsOfQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    let id = complaint_id(&id)?;
    let Query(query) =
        query.map_err(|error| ApiError::bad_request("invalid-query", error.body_text()))?;
    let as_of = query
        .as_of
        .map(|raw| {
            raw.parse::<Timestamp>().map_err(|error| {
                ApiError::bad_request(
                    "invalid-query",
                    format!("as_of must be an RFC 3339 timestamp: {error}"),
                )
            })
        })
        .transpose()?;
    let complaint = state.engine.complaint(id, as_of).await?;
    Ok(Json(view::complaint(id, &complaint, as_of)).into_response())
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    let id = complaint_id(&id)?;
    let events = state.engine.history(id, caller.disclosure()).await?;
    Ok(Json(json!({"id": id, "events": events})).into_response())
}

#[cfg(test)]
mod tests {
    /// Every route of [`super::router`] is described in the served OpenAPI document.
    #[test]
    fn the_openapi_document_describes_every_route() {
        let document: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let routes = [
            ("/healthz", "get"),
            ("/api/openapi.json", "get"),
            ("/api/complaints", "post"),
            ("/api/complaints", "get"),
            ("/api/complaints/{id}", "get"),
            ("/api/complaints/{id}/commands", "post"),
            ("/api/complaints/{id}/history", "get"),
            ("/api/events", "get"),
            ("/api/events/stream", "get"),
            ("/api/queues/{owner}", "get"),
            ("/api/counters", "get"),
            ("/api/projections", "get"),
            ("/api/reports/accountability", "get"),
            ("/api/webhooks", "post"),
            ("/api/webhooks", "get"),
            ("/api/webhooks/{id}", "get"),
            ("/api/webhooks/{id}", "delete"),
            ("/api/webhooks/{id}/redeliver", "post"),
            ("/api/webhooks/{id}/dead-letters", "get"),
        ];
        for (path, method) in routes {
            assert!(
                document["paths"][path][method].is_object(),
                "{method} {path} is not documented"
            );
        }
        let command_names: Vec<&str> = document["components"]["schemas"]["Command"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|reference| {
                reference["$ref"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
            })
            .collect();
        let decodable = &obliged_domain::ComplaintCommand::<obliged_domain::PlainText>::NAMES[1..];
        assert_eq!(command_names, decodable, "every command is documented");
    }
}

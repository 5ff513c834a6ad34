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
mod openapi;
mod reads;
mod reports;
mod server;
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
use axum::{Json, Router};
use jiff::Timestamp;
use obliged_domain::ComplaintCommand;
use obliged_projections::{Projector, ReadModels};
use obliged_storage::{
    Checkpoints, CommandOutcome, CommandRequest, Database, Engine, LedgerReader, Streams, Tokens,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::trace::TraceLayer;
use utoipa::ToSchema;
use uuid::Uuid;

pub use auth::{Action, Caller};
pub use decode::BODY_LIMIT;
pub use error::{ApiError, Problem};
pub use openapi::document as openapi_document;
pub use server::{serve, serve_router, serve_with, ServerLimits};

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

/// The API with the default [`ServerLimits`].
pub fn router(state: AppState) -> Router {
    router_with(state, ServerLimits::default())
}

/// The API; every request must be answered within `limits.request_timeout`.
pub fn router_with(state: AppState, limits: ServerLimits) -> Router {
    // The routes and their OpenAPI description come from one registration.
    let (routes, _) = openapi::routes().split_for_parts();
    routes
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

/// The body of a healthy `/healthz`.
#[derive(Serialize, ToSchema)]
struct Health {
    #[schema(example = "ok")]
    status: &'static str,
}

#[utoipa::path(
    get,
    path = "/healthz",
    summary = "liveness and database reachability",
    security(()),
    responses(
        (status = 200, description = "the database answers", body = Health),
        (status = 503, description = "unavailable: the database cannot be reached",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "seconds to wait before retrying"))),
    )
)]
async fn health(State(state): State<AppState>) -> Response {
    match state.database.ping().await {
        Ok(()) => Json(Health { status: "ok" }).into_response(),
        Err(error) => ApiError::Unavailable {
            detail: error.to_string(),
        }
        .into_response(),
    }
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    summary = "this document (OpenAPI 3.1), derived from the server's own routes and types",
    security(()),
    responses((status = 200, description = "the OpenAPI document", body = Object))
)]
async fn openapi_json() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        openapi::DOCUMENT_JSON.as_str(),
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

/// The answer to a command: what it appended.
#[derive(Serialize, ToSchema)]
struct CommandResult {
    /// The complaint.
    id: Uuid,
    command_id: String,
    /// The ledger position of the command's last event, to pass as `min_position` to the read
    /// models (read your writes); null if sequencing did not finish in time (the events are
    /// committed all the same).
    position: Option<u64>,
    /// The events appended, in order (none when a repeat appended nothing).
    events: Vec<AppendedEvent>,
    /// True when the command had already been applied (same Idempotency-Key) and nothing new
    /// was appended.
    replayed: bool,
}

/// One event appended by a command.
#[derive(Serialize, ToSchema)]
struct AppendedEvent {
    /// Its number within the complaint's history, from 1.
    sequence: u64,
    /// The event's name, such as `ContactLogged`.
    #[serde(rename = "type")]
    event_type: String,
}

fn outcome_body(outcome: &CommandOutcome) -> CommandResult {
    CommandResult {
        id: outcome.complaint_id,
        command_id: outcome.command_id.clone(),
        position: outcome.position,
        events: outcome
            .events
            .iter()
            .map(|event| AppendedEvent {
                sequence: event.sequence,
                event_type: event.event_type.clone(),
            })
            .collect(),
        replayed: outcome.replayed,
    }
}

fn replay_header(response: &mut Response, outcome: &CommandOutcome) {
    if outcome.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
}

#[utoipa::path(
    post,
    path = "/api/complaints",
    summary = "file a complaint (roles agent, lead, admin)",
    params(IdempotencyKey, CorrelationId),
    request_body(content = decode::NewComplaint, content_type = "application/json"),
    responses(
        (status = 201, description = "filed; Location names the complaint", body = CommandResult,
            headers(
                ("Location" = String, description = "/api/complaints/{id}"),
                ("Idempotent-Replayed" = String,
                    description = "`true` when a repeat with the same Idempotency-Key appended nothing"),
            )),
        (status = 400, description = "malformed request: malformed-json, missing-field, \
            unknown-field, invalid-field, unreadable-body, invalid-header",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large: body over 1 MiB",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type: body not sent as application/json",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "idempotency-key-reused: the key was used for another request",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

#[utoipa::path(
    post,
    path = "/api/complaints/{id}/commands",
    summary = "run one command (roles agent, lead, admin; TakeOver: lead, admin); the response \
        carries the ledger position of the last event",
    params(ComplaintId, IdempotencyKey, CorrelationId),
    request_body(content = inline(openapi::CommandBody), content_type = "application/json"),
    responses(
        (status = 200, description = "the events appended", body = CommandResult,
            headers(("Idempotent-Replayed" = String,
                description = "`true` when a repeat with the same Idempotency-Key appended nothing"))),
        (status = 400, description = "malformed request: invalid-complaint-id, invalid-path, \
            malformed-json, missing-field, unknown-command, unknown-field, invalid-field, \
            unreadable-body, invalid-header",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "complaint-not-found",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "conflict: concurrent changes to the complaint; retried and \
            gave up", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "seconds to wait before retrying"))),
        (status = 410, description = "personal-data-erased: the complaint's personal data was erased",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large: body over 1 MiB",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type: body not sent as application/json",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "refused by a rule of the complaint, or idempotency-key-reused; \
            `type` names the rule (see the schema's enum)",
            body = inline(openapi::CommandRefusal), content_type = "application/problem+json"),
    )
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AsOfQuery {
    /// The state as recorded up to this moment (RFC 3339); the current state if absent.
    #[param(value_type = Option<String>, format = DateTime)]
    as_of: Option<String>,
}

/// The complaint named in the path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct ComplaintId {
    /// The complaint's id.
    id: Uuid,
}

/// `Idempotency-Key`: a repeat with the same key appends nothing and returns the first result.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct IdempotencyKey {
    /// A repeat with the same key appends nothing and returns the first result (1 to 255
    /// visible ASCII characters).
    #[param(rename = "Idempotency-Key", value_type = String, required = false, min_length = 1, max_length = 255, pattern = "^[!-~]{1,255}$")]
    idempotency_key: Option<String>,
}

/// `X-Correlation-Id`: recorded with the events.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct CorrelationId {
    /// Recorded in the events' metadata (1 to 128 visible ASCII characters).
    #[param(rename = "X-Correlation-Id", value_type = String, required = false, min_length = 1, max_length = 128, pattern = "^[!-~]{1,128}$")]
    correlation_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/complaints/{id}",
    summary = "current state, or state as recorded up to as_of (roles agent, lead, auditor, admin)",
    params(ComplaintId, AsOfQuery),
    responses(
        (status = 200, description = "the state", body = openapi::ComplaintState),
        (status = 400, description = "malformed request: invalid-complaint-id, invalid-path, \
            invalid-query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "complaint-not-found",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/complaints/{id}/history",
    summary = "every event in order with its metadata (roles agent, lead, auditor, admin)",
    params(ComplaintId),
    responses(
        (status = 200, description = "the history", body = openapi::History),
        (status = 400, description = "malformed request: invalid-complaint-id, invalid-path",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "complaint-not-found",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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
    /// Routes reach the router only through `openapi::routes`, where each is registered with
    /// its description: no source file of this crate adds one to a router directly (tests/openapi.rs
    /// checks the result against the running router).
    #[test]
    fn routes_are_registered_only_with_their_description() {
        let sources = [
            ("lib.rs", include_str!("lib.rs")),
            ("openapi.rs", include_str!("openapi.rs")),
            ("reads.rs", include_str!("reads.rs")),
            ("feed.rs", include_str!("feed.rs")),
            ("reports.rs", include_str!("reports.rs")),
            ("webhooks.rs", include_str!("webhooks.rs")),
            ("server.rs", include_str!("server.rs")),
        ];
        for (name, source) in sources {
            for forbidden in [
                ".route(",
                ".nest(",
                ".merge(",
                ".route_service(",
                "Router::new(",
            ] {
                let code = source.split("#[cfg(test)]").next().unwrap_or(source);
                assert!(
                    !code.contains(forbidden),
                    "{name} uses {forbidden}: register routes in openapi::routes"
                );
            }
        }
    }

    /// Every route of [`super::router`] is described in the served OpenAPI document.
    #[test]
    fn the_openapi_document_describes_every_route() {
        let document: serde_json::Value =
            serde_json::from_str(&super::openapi::DOCUMENT_JSON).unwrap();
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

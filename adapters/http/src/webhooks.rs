//! Webhook subscriptions over HTTP (roles integration and admin): subscribe, list with status
//! and lag, inspect, remove, redeliver from a position, and read dead letters.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use obliged_webhooks::{NewSubscription, Start, WebhookError};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Action, Caller};
use crate::decode;
use crate::error::ApiError;
use crate::{AppState, PathParam};

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::InvalidUrl { .. }
            | WebhookError::InvalidEventType(_)
            | WebhookError::InvalidSecret(_)
            | WebhookError::InvalidMaxAttempts { .. }
            | WebhookError::PositionOutOfRange { .. } => {
                ApiError::bad_request("invalid-field", error.to_string())
            }
            WebhookError::NotFound(_) => ApiError::NotFound {
                slug: "webhook-not-found",
                detail: error.to_string(),
            },
            WebhookError::Removed(_) => ApiError::NotFound {
                slug: "webhook-removed",
                detail: error.to_string(),
            },
            WebhookError::Unavailable(_) => ApiError::Unavailable {
                detail: error.to_string(),
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeBody {
    url: String,
    #[serde(default)]
    event_types: Vec<String>,
    secret: Option<String>,
    max_attempts: Option<u32>,
    /// `next` (default), `beginning`, or a ledger position.
    start: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeliverBody {
    from: u64,
}

fn id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad_request("invalid-webhook-id", format!("{raw:?} is not a UUID")))
}

fn parse<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = decode::body(headers, body)?;
    serde_json::from_slice(&bytes).map_err(|error| {
        let slug = if error.is_syntax() || error.is_eof() {
            "malformed-json"
        } else {
            "invalid-field"
        };
        ApiError::bad_request(slug, error.to_string())
    })
}

pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let body: SubscribeBody = parse(&headers, body)?;
    let start = match &body.start {
        None => Start::Next,
        Some(serde_json::Value::String(text)) if text == "next" => Start::Next,
        Some(serde_json::Value::String(text)) if text == "beginning" => Start::Beginning,
        Some(serde_json::Value::Number(number)) if number.as_u64().is_some() => {
            Start::At(number.as_u64().expect("checked"))
        }
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid-field",
                format!("start must be \"next\", \"beginning\" or a ledger position, not {other}"),
            ))
        }
    };
    let created = state
        .webhooks
        .subscribe(NewSubscription {
            url: body.url,
            event_types: body.event_types,
            secret: body.secret,
            max_attempts: body.max_attempts,
            start,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "subscription": created.subscription,
            "secret": created.secret.expose(),
        })),
    )
        .into_response())
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let subscriptions = state.webhooks.list().await?;
    Ok(Json(json!({"subscriptions": subscriptions})).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let status = state.webhooks.status(id(&raw)?).await?;
    Ok(Json(status).into_response())
}

pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let removed = state.webhooks.remove(id(&raw)?).await?;
    Ok(Json(json!({"removed": removed})).into_response())
}

pub async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(raw): PathParam,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let body: RedeliverBody = parse(&headers, body)?;
    let id = id(&raw)?;
    state.webhooks.redeliver_from(id, body.from).await?;
    Ok(Json(state.webhooks.status(id).await?).into_response())
}

pub async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let letters = state.webhooks.dead_letters(id(&raw)?).await?;
    Ok(Json(json!({"dead_letters": letters})).into_response())
}

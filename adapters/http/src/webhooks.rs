//! Webhook subscriptions over HTTP (roles integration and admin): subscribe, list with status
//! and lag, inspect, remove, redeliver from a position, and read dead letters. Each
//! subscription records the token that made it: an integration sees and changes only its own
//! (another's answers 404, as if it did not exist), an admin sees and changes all.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use obliged_storage::Role;
use obliged_webhooks::{NewSubscription, Start, SubscriptionOwner, WebhookError};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Action, Caller};
use crate::decode;
use crate::error::{ApiError, Problem};
use crate::openapi::{
    DeadLetters, Removed, SubscriptionCreated, SubscriptionStatus, Subscriptions,
};
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
            WebhookError::TooManySubscriptions { .. } => ApiError::SubscriptionLimit {
                detail: error.to_string(),
            },
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

/// A new webhook subscription. The webhooks crate checks each field; `schema` says what it
/// accepts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SubscribeBody {
    /// Where to POST each entry: an http or https URL with a host and no fragment.
    #[schema(max_length = 2048, pattern = "^[Hh][Tt][Tt][Pp][Ss]?://[!-\"$-~]+$")]
    url: String,
    /// Event types to deliver (`ContactLogged`, ...); none means every type.
    #[serde(default)]
    #[schema(inline, value_type = Vec<String>, schema_with = event_types_schema)]
    event_types: Vec<String>,
    /// The signing secret (16 to 256 visible ASCII characters); one is made if absent.
    #[schema(min_length = 16, max_length = 256, pattern = "^[!-~]{16,256}$")]
    secret: Option<String>,
    /// Attempts per entry before it is dead-lettered (1 to 100).
    #[schema(minimum = 1, maximum = 100)]
    max_attempts: Option<u32>,
    /// `next` (default: entries from now on), `beginning`, or the ledger position to start at.
    #[schema(schema_with = start_schema)]
    start: Option<serde_json::Value>,
}

fn event_types_schema() -> utoipa::openapi::Array {
    utoipa::openapi::ArrayBuilder::new()
        .items(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::String)
                .pattern(Some("^[A-Z][A-Za-z0-9]{0,63}$")),
        )
        .build()
}

fn start_schema() -> utoipa::openapi::Schema {
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::String)
                .enum_values(Some(["next", "beginning"])),
        )
        .item(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::Type::Integer)
                .minimum(Some(1)),
        )
        .item(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Null))
        .build()
        .into()
}

/// Where to deliver again from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RedeliverBody {
    /// The ledger position to deliver again from (inclusive), from 1 up to the next entry.
    #[schema(minimum = 1)]
    from: u64,
}

/// The webhook subscription named in the path.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct WebhookId {
    /// The subscription's id.
    id: Uuid,
}

/// Refuses a URL outside the shape the contract gives (`http://` or `https://`, then visible
/// ASCII without `#`) before the URL parser, which would forgive much (`http:x`, spaces around
/// it, characters it percent-encodes), sees it.
fn check_url(url: &str) -> Result<(), ApiError> {
    let rest = ["http://", "https://"].into_iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|start| start.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    });
    let shaped = rest.is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|byte| byte.is_ascii_graphic() && byte != b'#')
    });
    if shaped {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid-field",
            "url: must be http:// or https:// followed by visible ASCII characters, without a \
             fragment",
        ))
    }
}

/// Whether `caller` may see and change the subscription: an admin any, an integration its own.
fn may_manage(caller: &Caller, owner: Option<&SubscriptionOwner>) -> bool {
    caller.0.role == Role::Admin || owner.is_some_and(|owner| owner.token_id == caller.0.id)
}

/// The subscription `raw` names, if `caller` may manage it; another's is not found.
async fn owned(state: &AppState, caller: &Caller, raw: &str) -> Result<Uuid, ApiError> {
    let id = id(raw)?;
    let subscription = state.webhooks.get(id).await?;
    if may_manage(caller, subscription.owner.as_ref()) {
        Ok(id)
    } else {
        Err(WebhookError::NotFound(id).into())
    }
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

#[utoipa::path(
    post,
    path = "/api/webhooks",
    summary = "subscribe (roles integration, admin); the secret is returned once",
    request_body(content = SubscribeBody, content_type = "application/json"),
    responses(
        (status = 201, description = "subscribed", body = SubscriptionCreated),
        (status = 400, description = "malformed-json, invalid-field, unreadable-body",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "subscription-limit: this token already has its limit of \
            active subscriptions", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large: body over 1 MiB",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type: body not sent as application/json",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let body: SubscribeBody = parse(&headers, body)?;
    check_url(&body.url)?;
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
            owner: Some(SubscriptionOwner {
                token_id: caller.0.id,
                name: caller.0.name.to_string(),
            }),
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

#[utoipa::path(
    get,
    path = "/api/webhooks",
    summary = "subscriptions with position, lag, attempts, next attempt, last error, dead letters \
        (roles integration, admin)",
    responses((status = 200, description = "the subscriptions", body = Subscriptions))
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let mut subscriptions = state.webhooks.list().await?;
    subscriptions.retain(|status| may_manage(&caller, status.subscription.owner.as_ref()));
    Ok(Json(json!({"subscriptions": subscriptions})).into_response())
}

#[utoipa::path(
    get,
    path = "/api/webhooks/{id}",
    summary = "one subscription's status (roles integration, admin); a removed one stays \
        readable, with removed_at set",
    params(WebhookId),
    responses(
        (status = 200, description = "its status", body = SubscriptionStatus),
        (status = 400, description = "invalid-webhook-id, invalid-path",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "webhook-not-found",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let status = state
        .webhooks
        .status(owned(&state, &caller, &raw).await?)
        .await?;
    Ok(Json(status).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/webhooks/{id}",
    summary = "stop delivering (roles integration, admin); history and dead letters are kept, \
        and removing twice answers removed = false",
    params(WebhookId),
    responses(
        (status = 200, description = "whether this call removed it", body = Removed),
        (status = 400, description = "invalid-webhook-id, invalid-path",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "webhook-not-found",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let removed = state
        .webhooks
        .remove(owned(&state, &caller, &raw).await?)
        .await?;
    Ok(Json(json!({"removed": removed})).into_response())
}

#[utoipa::path(
    post,
    path = "/api/webhooks/{id}/redeliver",
    summary = "deliver again from a ledger position, inclusive (roles integration, admin)",
    params(WebhookId),
    request_body(content = RedeliverBody, content_type = "application/json"),
    responses(
        (status = 200, description = "the subscription's status", body = SubscriptionStatus),
        (status = 400, description = "invalid-webhook-id, invalid-path, malformed-json, \
            invalid-field (such as a position not in the ledger), unreadable-body",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "webhook-not-found, webhook-removed",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large: body over 1 MiB",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported-media-type: body not sent as application/json",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(raw): PathParam,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let body: RedeliverBody = parse(&headers, body)?;
    let id = owned(&state, &caller, &raw).await?;
    state.webhooks.redeliver_from(id, body.from).await?;
    Ok(Json(state.webhooks.status(id).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/api/webhooks/{id}/dead-letters",
    summary = "entries given up on after max_attempts (roles integration, admin)",
    params(WebhookId),
    responses(
        (status = 200, description = "the dead letters", body = DeadLetters),
        (status = 400, description = "invalid-webhook-id, invalid-path",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "webhook-not-found",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(raw): PathParam,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageWebhooks)?;
    let letters = state
        .webhooks
        .dead_letters(owned(&state, &caller, &raw).await?)
        .await?;
    Ok(Json(json!({"dead_letters": letters})).into_response())
}

//! Reads from the read models: the complaint list, an owner's work queue, the owner counters,
//! and the projectors' positions. Each accepts `min_position` (a ledger position from a command
//! response) and answers only once the read models include it, or 503 with `Retry-After`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use obliged_domain::{Category, Channel, CustomerReference, Owner};
use obliged_projections::{ComplaintFilter, Projector, FLAGS};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::{AppState, PathParam};

/// Steps the projector may take while a reader waits for its own write.
const READ_YOUR_WRITES_STEPS: usize = 200;
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable {
        detail: error.to_string(),
    }
}

/// A filter on a value of the domain. Text that cannot be such a value (`a b`, or text with
/// U+0000, which PostgreSQL cannot even compare) would match nothing, so it is refused as a bad
/// query instead of being sent to the database.
fn domain_value<T, E: std::fmt::Display>(
    name: &str,
    raw: Option<String>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    match parse(&raw) {
        Ok(_) => Ok(Some(raw)),
        Err(error) => Err(ApiError::bad_request(
            "invalid-query",
            format!("{name}: {error}"),
        )),
    }
}

fn parse_number<T: std::str::FromStr>(
    name: &str,
    raw: Option<&str>,
) -> Result<Option<T>, ApiError> {
    raw.map(|raw| {
        raw.trim().parse::<T>().map_err(|_| {
            ApiError::bad_request(
                "invalid-query",
                format!("{name} must be a number, not {raw:?}"),
            )
        })
    })
    .transpose()
}

/// Waits (by helping the projector along) until the read models include `min_position`.
async fn wait_for(state: &AppState, min_position: Option<&str>) -> Result<(), ApiError> {
    let Some(position) = parse_number::<u64>("min_position", min_position)? else {
        return Ok(());
    };
    let reached = state
        .projector
        .reach(position, READ_YOUR_WRITES_STEPS)
        .await
        .map_err(unavailable)?;
    if reached {
        Ok(())
    } else {
        Err(ApiError::Unavailable {
            detail: format!("the read models have not reached position {position} yet"),
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    owner: Option<String>,
    channel: Option<String>,
    category: Option<String>,
    flag: Option<String>,
    overdue: Option<String>,
    customer_reference: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    min_position: Option<String>,
}

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn query<T>(query: QueryResult<T>) -> Result<T, ApiError> {
    query
        .map(|Query(query)| query)
        .map_err(|error| ApiError::bad_request("invalid-query", error.body_text()))
}

fn limit(raw: Option<&str>) -> Result<u32, ApiError> {
    let limit = parse_number::<u32>("limit", raw)?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(
            "invalid-query",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(limit)
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    raw: QueryResult<ListQuery>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    let raw = query(raw)?;
    if let Some(status) = &raw.status {
        if !["new", "open", "resolved", "closed"].contains(&status.as_str()) {
            return Err(ApiError::bad_request(
                "invalid-query",
                format!("status must be new, open, resolved or closed, not {status:?}"),
            ));
        }
    }
    if let Some(flag) = &raw.flag {
        if !FLAGS.contains(&flag.as_str()) {
            return Err(ApiError::bad_request(
                "invalid-query",
                format!("flag must be one of {}, not {flag:?}", FLAGS.join(", ")),
            ));
        }
    }
    let overdue = match raw.overdue.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid-query",
                format!("overdue must be true or false, not {other:?}"),
            ))
        }
    };
    let filter = ComplaintFilter {
        status: raw.status,
        owner: domain_value("owner", raw.owner, Owner::parse)?,
        channel: domain_value("channel", raw.channel, |raw| {
            serde_json::from_value::<Channel>(serde_json::Value::String(raw.to_owned()))
        })?,
        category: domain_value("category", raw.category, Category::parse)?,
        flag: raw.flag,
        overdue,
        customer_reference: domain_value(
            "customer_reference",
            raw.customer_reference,
            CustomerReference::parse,
        )?,
        limit: limit(raw.limit.as_deref())?,
        offset: parse_number::<u32>("offset", raw.offset.as_deref())?.unwrap_or(0),
    };
    wait_for(&state, raw.min_position.as_deref()).await?;
    let complaints = state
        .read_models
        .list(&filter, state.engine.now())
        .await
        .map_err(unavailable)?;
    let position = state.projector.checkpoint().await.map_err(unavailable)?;
    Ok(Json(json!({
        "complaints": complaints,
        "limit": filter.limit,
        "offset": filter.offset,
        "position": position,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    limit: Option<String>,
    min_position: Option<String>,
}

pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(owner): PathParam,
    raw: QueryResult<QueueQuery>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    Owner::parse(&owner)
        .map_err(|error| ApiError::bad_request("invalid-path", error.to_string()))?;
    let raw = query(raw)?;
    let limit = limit(raw.limit.as_deref())?;
    wait_for(&state, raw.min_position.as_deref()).await?;
    let items = state
        .read_models
        .queue(&owner, state.engine.now(), limit)
        .await
        .map_err(unavailable)?;
    let position = state.projector.checkpoint().await.map_err(unavailable)?;
    Ok(Json(json!({"owner": owner, "items": items, "position": position})).into_response())
}

#[derive(Debug, Deserialize)]
pub struct PositionQuery {
    min_position: Option<String>,
}

pub async fn counters(
    State(state): State<AppState>,
    caller: Caller,
    raw: QueryResult<PositionQuery>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    let raw = query(raw)?;
    wait_for(&state, raw.min_position.as_deref()).await?;
    let owners = state.read_models.counters().await.map_err(unavailable)?;
    let position = state.projector.checkpoint().await.map_err(unavailable)?;
    Ok(Json(json!({"owners": owners, "position": position})).into_response())
}

pub async fn projections(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    let head = state
        .reader
        .ledger()
        .head_position()
        .await
        .map_err(unavailable)?;
    let checkpoints = state.checkpoints.all().await.map_err(unavailable)?;
    let mut consumers: Vec<serde_json::Value> = Projector::names()
        .iter()
        .map(|name| {
            let position = checkpoints
                .iter()
                .find(|(checkpoint, _)| checkpoint == name)
                .map_or(0, |(_, position)| *position);
            json!({"name": name, "kind": "projector", "position": position, "lag": head.saturating_sub(position)})
        })
        .collect();
    for (name, position) in &checkpoints {
        if !Projector::names().contains(&name.as_str()) {
            consumers.push(json!({"name": name, "kind": "publisher", "position": position, "lag": head.saturating_sub(*position)}));
        }
    }
    Ok(Json(json!({"head": head, "consumers": consumers})).into_response())
}

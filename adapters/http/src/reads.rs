//! Reads from the read models: the complaint list, an owner's work queue, the owner counters,
//! and the projectors' positions. Each accepts `min_position` (a ledger position from a command
//! response) and answers only once the read models include it, or 503 with `Retry-After`; a
//! position the ledger does not hold yet is refused (400 `position-beyond-head`).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use obliged_domain::{Category, Channel, CustomerReference, Owner, Status};
use obliged_projections::{ComplaintFilter, Projector, FLAGS};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::auth::{Action, Caller};
use crate::error::{ApiError, Problem};
use crate::openapi::{ComplaintList, Consumers, Counters, Queue};
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

/// A non-negative integer written in decimal digits only: no sign, no spaces (the contract says
/// integer, so ` 5` or `+5` is not one).
pub(crate) fn parse_number<T: std::str::FromStr>(
    name: &str,
    raw: Option<&str>,
) -> Result<Option<T>, ApiError> {
    raw.map(|raw| {
        Some(raw)
            .filter(|raw| !raw.is_empty() && raw.bytes().all(|byte| byte.is_ascii_digit()))
            .and_then(|raw| raw.parse::<T>().ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid-query",
                    format!("{name} must be a non-negative integer in range, not {raw:?}"),
                )
            })
    })
    .transpose()
}

/// A ledger position: a non-negative integer up to 2^63 − 1, the largest a position can be
/// (the stores keep positions as signed 64-bit integers; a larger number would wrap around and
/// name position 1).
pub(crate) fn parse_position(name: &str, raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    Ok(parse_number::<i64>(name, raw)?.map(|position| position.unsigned_abs()))
}

/// Waits (by helping the projector along) until the read models include `min_position`. A
/// position beyond the ledger's head is refused at once: no write of the caller's is there to
/// wait for.
async fn wait_for(state: &AppState, min_position: Option<&str>) -> Result<(), ApiError> {
    let Some(position) = parse_position("min_position", min_position)? else {
        return Ok(());
    };
    let head = state
        .engine
        .ledger()
        .head_position()
        .await
        .map_err(unavailable)?;
    if position > head {
        return Err(ApiError::bad_request(
            "position-beyond-head",
            format!(
                "min_position {position} is beyond the ledger's head ({head}): pass a position \
                 from a command's response"
            ),
        ));
    }
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

/// The query of the complaint list. Its fields are decoded as text and checked one by one (each
/// with its own message); `param` says what each accepts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only complaints in this status.
    #[param(value_type = Option<String>, schema_with = crate::openapi::complaint_status)]
    status: Option<String>,
    /// Only complaints of this owner: a staff id or `team:NAME`.
    #[param(value_type = Option<obliged_domain::Owner>)]
    owner: Option<String>,
    /// Only complaints that came in through this channel.
    #[param(value_type = Option<obliged_domain::Channel>)]
    channel: Option<String>,
    /// Only complaints of this category.
    #[param(value_type = Option<obliged_domain::Category>)]
    category: Option<String>,
    /// Only complaints with this flag or escalation.
    #[param(value_type = Option<String>, schema_with = flag_schema)]
    flag: Option<String>,
    /// Only complaints with something owed past its due time (`true`), or none (`false`).
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
    /// Only complaints of this customer.
    #[param(value_type = Option<obliged_domain::CustomerReference>)]
    customer_reference: Option<String>,
    /// How many complaints to return.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500, default = 50)]
    limit: Option<String>,
    /// How many to skip.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 4294967295_u64, default = 0)]
    offset: Option<String>,
    /// Answer only once the read models include this ledger position (from a command's
    /// response): 503 with Retry-After if they do not in time, 400 position-beyond-head if the
    /// ledger does not hold it.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    min_position: Option<String>,
}

/// The statuses a filed complaint can have, in the domain's words.
pub(crate) const COMPLAINT_STATUSES: [&str; 4] = Status::FILED_NAMES;

fn flag_schema() -> utoipa::openapi::Object {
    crate::openapi::string_enum(FLAGS)
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

#[utoipa::path(
    get,
    path = "/api/complaints",
    summary = "the complaint list from the read models, most recently filed first (roles agent, \
        lead, auditor, admin)",
    params(ListQuery),
    responses(
        (status = 200, description = "complaints, with the read models' position", body = ComplaintList),
        (status = 400, description = "invalid-query, position-beyond-head",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "unavailable: the database cannot be reached, or the read \
            models did not reach min_position in time; retry after Retry-After seconds",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "seconds to wait before retrying"))),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    raw: QueryResult<ListQuery>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read)?;
    let raw = query(raw)?;
    if let Some(status) = &raw.status {
        if !COMPLAINT_STATUSES.contains(&status.as_str()) {
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
        by_next_due: false,
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// How many items to return.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500, default = 50)]
    limit: Option<String>,
    /// Answer only once the read models include this ledger position (from a command's
    /// response): 503 with Retry-After if they do not in time, 400 position-beyond-head if the
    /// ledger does not hold it.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    min_position: Option<String>,
}

/// The owner named in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct OwnerPath {
    /// A staff id (`alice`) or a team queue (`team:billing`).
    owner: obliged_domain::Owner,
}

#[utoipa::path(
    get,
    path = "/api/queues/{owner}",
    summary = "an owner's open obligations, promises, follow-ups, triage deadlines, handovers \
        waiting for them and regulatory deadlines of their complaints, soonest first (roles \
        agent, lead, auditor, admin)",
    params(OwnerPath, QueueQuery),
    responses(
        (status = 200, description = "work items", body = Queue),
        (status = 400, description = "invalid-path, invalid-query, position-beyond-head",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "unavailable: the database cannot be reached, or the read \
            models did not reach min_position in time; retry after Retry-After seconds",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "seconds to wait before retrying"))),
    )
)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PositionQuery {
    /// Answer only once the read models include this ledger position (from a command's
    /// response): 503 with Retry-After if they do not in time, 400 position-beyond-head if the
    /// ledger does not hold it.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    min_position: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/counters",
    summary = "per owner: open complaints and promises, promises kept on time, late, broken, \
        withdrawn (roles agent, lead, auditor, admin)",
    params(PositionQuery),
    responses(
        (status = 200, description = "the counters", body = Counters),
        (status = 400, description = "invalid-query, position-beyond-head",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "unavailable: the database cannot be reached, or the read \
            models did not reach min_position in time; retry after Retry-After seconds",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "seconds to wait before retrying"))),
    )
)]
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

#[utoipa::path(
    get,
    path = "/api/projections",
    summary = "ledger head and each projector's and publisher's position and lag (roles agent, \
        lead, auditor, admin)",
    responses((status = 200, description = "positions", body = Consumers))
)]
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

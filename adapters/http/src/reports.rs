//! `GET /api/reports/accountability`: the accountability report of the ledger as it stands,
//! as JSON (with the evidence of every figure unless `evidence=false`), CSV or an SVG chart.
//! For team leads, auditors and admins. Every way the parameters can be wrong has its own
//! problem slug.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use obliged_domain::{Dimension, Period, ReportParams, ReportParamsError};
use obliged_projections::formats::ReportFormat;
use obliged_projections::ReportError;
use serde::Deserialize;

use crate::auth::{Action, Caller};
use crate::error::ApiError;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    period: Option<String>,
    format: Option<String>,
    evidence: Option<String>,
}

fn timestamp(name: &str, raw: Option<&str>) -> Result<Timestamp, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::bad_request(
            "missing-parameter",
            format!("{name} is required: an RFC 3339 timestamp such as 2026-03-01T00:00:00Z"),
        )
    })?;
    raw.trim().parse().map_err(|error| {
        ApiError::bad_request(
            "invalid-timestamp",
            format!("{name} must be an RFC 3339 timestamp such as 2026-03-01T00:00:00Z: {error}"),
        )
    })
}

/// The problem of refused report parameters.
pub fn params_error(error: ReportParamsError) -> ApiError {
    let slug = match &error {
        ReportParamsError::EmptyRange { .. } => "empty-range",
        ReportParamsError::RangeTooLong { .. } => "range-too-long",
        ReportParamsError::UnknownDimension(_) => "unknown-dimension",
        ReportParamsError::DuplicateDimension(_) => "duplicate-dimension",
        ReportParamsError::UnknownPeriod(_) => "unknown-period",
    };
    ApiError::bad_request(slug, error.to_string())
}

/// The report's parameters, format and whether to show evidence, from the query string.
fn parse(query: &ReportQuery) -> Result<(ReportParams, ReportFormat, bool), ApiError> {
    let from = timestamp("from", query.from.as_deref())?;
    let to = timestamp("to", query.to.as_deref())?;
    let group_by =
        Dimension::parse_list(query.group_by.as_deref().unwrap_or("")).map_err(params_error)?;
    let period = match query.period.as_deref() {
        None => Period::Month,
        Some(raw) => Period::parse(raw).map_err(params_error)?,
    };
    let format = match query.format.as_deref() {
        None => ReportFormat::Json,
        Some(raw) => ReportFormat::parse(raw).ok_or_else(|| {
            ApiError::bad_request(
                "unknown-format",
                format!("unknown format {raw:?}; use json, csv or svg"),
            )
        })?,
    };
    let evidence = match query.evidence.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid-evidence",
                format!("evidence must be true or false, not {other:?}"),
            ))
        }
    };
    let params = ReportParams::new(from, to, group_by, period).map_err(params_error)?;
    Ok((params, format, evidence))
}

pub async fn accountability(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::Report)?;
    let Query(query) =
        query.map_err(|error| ApiError::bad_request("invalid-query", error.body_text()))?;
    let (params, format, evidence) = parse(&query)?;
    let params = format.params(params).map_err(params_error)?;
    let report = obliged_projections::accountability_report(
        state.reader.ledger(),
        state.engine.policy(),
        params,
    )
    .await
    .map_err(|error| match error {
        ReportError::Ledger(error) => ApiError::Unavailable {
            detail: error.to_string(),
        },
        ReportError::Decode { .. } => ApiError::Internal(error.to_string()),
    })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        format.render(&report, evidence),
    )
        .into_response())
}

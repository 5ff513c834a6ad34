//! `ApiError`: every way a request can fail, and the one table that maps each to its HTTP status
//! and `application/problem+json` body (RFC 9457) with a stable `type` slug. Internal failures
//! are logged with their cause and answered with an opaque 500.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use obliged_domain::ComplaintError;
use obliged_storage::{EngineError, EntryError};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// The body of every error response: an RFC 9457 problem (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable slug naming what went wrong (`due-in-past`, `invalid-query`, ...); each response
    /// of the document lists the slugs it can carry.
    #[serde(rename = "type")]
    pub slug: &'static str,
    pub title: &'static str,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong with this request, for people.
    pub detail: String,
    /// Machine-readable members naming the offending items: `promise_ids`, `follow_up_ids` and
    /// `obligation_nos` (`open-promises`, `open-follow-ups`, `unmet-obligations`); `element`,
    /// `explanation` and `referral` (`non-negotiable-element`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: Map<String, Value>,
}

#[derive(Debug)]
pub enum ApiError {
    /// The request itself is malformed: `slug` names how.
    BadRequest {
        slug: &'static str,
        detail: String,
    },
    PayloadTooLarge {
        limit: usize,
    },
    /// A body sent as anything but `application/json`.
    UnsupportedMediaType {
        found: Option<String>,
    },
    /// A known path asked with a method it does not answer.
    MethodNotAllowed,
    /// The request (its body included) took longer than the server allows.
    RequestTimeout {
        limit: std::time::Duration,
    },
    Unauthorized,
    Forbidden {
        detail: String,
    },
    NotFound {
        slug: &'static str,
        detail: String,
    },
    /// A rule of the domain refused the command.
    Refused(ComplaintError),
    Conflict {
        detail: String,
    },
    IdempotencyKeyReused {
        detail: String,
    },
    /// The token holds its limit of active webhook subscriptions.
    SubscriptionLimit {
        detail: String,
    },
    Erased {
        detail: String,
    },
    /// The database cannot serve now. `detail` names the cause for the log; the caller gets a
    /// generic sentence (a driver's message can name databases, hosts and users).
    Unavailable {
        detail: String,
    },
    /// The token already holds its limit of open event streams.
    TooManyStreams {
        limit: usize,
    },
    /// The process holds its limit of open event streams.
    StreamsFull {
        limit: usize,
    },
    Internal(String),
}

impl ApiError {
    pub fn bad_request(slug: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            slug,
            detail: detail.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::BadRequest { slug, .. } => (StatusCode::BAD_REQUEST, slug, "Bad request"),
            Self::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            ),
            Self::UnsupportedMediaType { .. } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Self::RequestTimeout { .. } => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request took too long",
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Missing or invalid bearer token",
            ),
            Self::Forbidden { .. } => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for this role",
            ),
            Self::NotFound { slug, .. } => (StatusCode::NOT_FOUND, slug, "Not found"),
            Self::Refused(ComplaintError::NotFiled) => (
                StatusCode::NOT_FOUND,
                "complaint-not-found",
                "Complaint not found",
            ),
            Self::Refused(error) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                error.slug(),
                "Refused by a rule of the complaint",
            ),
            Self::Conflict { .. } => (
                StatusCode::CONFLICT,
                "conflict",
                "Concurrent changes to the complaint",
            ),
            Self::SubscriptionLimit { .. } => (
                StatusCode::CONFLICT,
                "subscription-limit",
                "Too many webhook subscriptions for this token",
            ),
            Self::IdempotencyKeyReused { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused for a different request",
            ),
            Self::Erased { .. } => (
                StatusCode::GONE,
                "personal-data-erased",
                "The complaint's personal data was erased",
            ),
            Self::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Storage temporarily unavailable",
            ),
            Self::TooManyStreams { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-streams",
                "Too many open event streams for this token",
            ),
            Self::StreamsFull { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "streams-full",
                "The server holds as many event streams as it may",
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest { detail, .. }
            | Self::Forbidden { detail }
            | Self::NotFound { detail, .. }
            | Self::Conflict { detail }
            | Self::IdempotencyKeyReused { detail }
            | Self::SubscriptionLimit { detail }
            | Self::Erased { detail } => detail.clone(),
            Self::Unavailable { .. } => "the database cannot be reached; retry shortly".to_owned(),
            Self::TooManyStreams { limit } => format!(
                "this token already has {limit} open event streams; close one, or retry later"
            ),
            Self::StreamsFull { limit } => {
                format!("the server already holds {limit} event streams; retry later")
            }
            Self::PayloadTooLarge { limit } => {
                format!("the request body exceeds the limit of {limit} bytes")
            }
            Self::UnsupportedMediaType { found: Some(found) } => {
                format!("send the body as application/json, not {found:?}")
            }
            Self::UnsupportedMediaType { found: None } => {
                "send the body as application/json (the Content-Type header is missing)".to_owned()
            }
            Self::MethodNotAllowed => {
                "this path does not answer that method; see /api/openapi.json".to_owned()
            }
            Self::RequestTimeout { limit } => format!(
                "the request was not received and answered within {} seconds; a command that \
                 was already accepted still completes, so retry with the same Idempotency-Key",
                limit.as_secs_f64()
            ),
            Self::Unauthorized => "send an API token as `Authorization: Bearer <token>`".to_owned(),
            Self::Refused(error) => error.to_string(),
            Self::Internal(_) => "the error was logged; retry later or contact the operator".into(),
        }
    }

    /// Machine-readable extension members naming the offending items.
    fn extensions(&self) -> Map<String, Value> {
        let mut extensions = Map::new();
        if let Self::Refused(error) = self {
            match error {
                ComplaintError::OpenPromises { promise_ids } => {
                    extensions.insert("promise_ids".into(), json!(promise_ids));
                }
                ComplaintError::OpenFollowUps { follow_up_ids } => {
                    extensions.insert("follow_up_ids".into(), json!(follow_up_ids));
                }
                ComplaintError::UnmetObligations { obligation_nos } => {
                    extensions.insert("obligation_nos".into(), json!(obligation_nos));
                }
                ComplaintError::NonNegotiableElement {
                    element,
                    explanation,
                    referral,
                } => {
                    extensions.insert("element".into(), json!(element));
                    extensions.insert("explanation".into(), json!(explanation));
                    extensions.insert("referral".into(), json!(referral));
                }
                _ => {}
            }
        }
        extensions
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::NotFound(id) => Self::NotFound {
                slug: "complaint-not-found",
                detail: format!("complaint {id} not found"),
            },
            EngineError::Rejected(error) => Self::Refused(error),
            EngineError::Conflict { .. } => Self::Conflict {
                detail: error.to_string(),
            },
            EngineError::IdempotencyKeyReused { .. } => Self::IdempotencyKeyReused {
                detail: error.to_string(),
            },
            EngineError::Erased(_) => Self::Erased {
                detail: error.to_string(),
            },
            EngineError::Unavailable(_) => Self::Unavailable {
                detail: "the database cannot be reached; retry shortly".into(),
            },
            EngineError::Internal(message) => Self::Internal(message),
        }
    }
}

impl From<EntryError> for ApiError {
    fn from(error: EntryError) -> Self {
        match error {
            EntryError::Unavailable(_) => Self::Unavailable {
                detail: "the database cannot be reached; retry shortly".into(),
            },
            EntryError::Internal(message) => Self::Internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        match &self {
            Self::Internal(message) => tracing::error!(%message, "internal error"),
            Self::Unavailable { .. } => tracing::warn!(error = ?self, "storage unavailable"),
            _ => {}
        }
        let body = Problem {
            slug,
            title,
            status: status.as_u16(),
            detail: self.detail(),
            extensions: self.extensions(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Self::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::Unavailable { .. } | Self::Conflict { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::TooManyStreams { .. } | Self::StreamsFull { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            Self::RequestTimeout { .. } => {
                // The rest of the body may still be on its way: do not read it as a new request.
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

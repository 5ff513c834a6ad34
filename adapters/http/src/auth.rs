//! Authentication (bearer tokens, checked against their stored hash) and the role table that
//! says which role may do what.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use obliged_storage::{ApiToken, Disclosure, Role};

use crate::error::ApiError;
use crate::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub ApiToken);

/// What a request wants to do, for the role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read complaints and their histories.
    Read,
    /// Issue commands.
    Command,
    /// Take a complaint over from its owner.
    TakeOver,
    /// Read the event stream (the ledger).
    Stream,
    /// Create, inspect and remove webhook subscriptions.
    ManageWebhooks,
    /// Read accountability reports.
    Report,
}

impl Caller {
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        let role = self.0.role;
        let allowed = match action {
            Action::Read => matches!(role, Role::Agent | Role::Lead | Role::Auditor | Role::Admin),
            Action::Command => matches!(role, Role::Agent | Role::Lead | Role::Admin),
            Action::TakeOver => matches!(role, Role::Lead | Role::Admin),
            Action::Stream => matches!(role, Role::Integration | Role::Auditor | Role::Admin),
            Action::ManageWebhooks => matches!(role, Role::Integration | Role::Admin),
            Action::Report => matches!(role, Role::Lead | Role::Auditor | Role::Admin),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                detail: format!("role {role} may not {}", action.describe()),
            })
        }
    }

    /// Whether this caller may see personal data.
    pub fn disclosure(&self) -> Disclosure {
        match self.0.role {
            Role::Agent | Role::Lead | Role::Auditor | Role::Admin => Disclosure::Full,
            Role::Integration => Disclosure::Redacted,
        }
    }
}

impl Action {
    fn describe(&self) -> &'static str {
        match self {
            Self::Read => "read complaints",
            Self::Command => "issue commands",
            Self::TakeOver => "take complaints over",
            Self::Stream => "read the event stream",
            Self::ManageWebhooks => "manage webhooks",
            Self::Report => "read accountability reports",
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        match state.tokens.authenticate(secret).await {
            Ok(Some(token)) => Ok(Caller(token)),
            Ok(None) => Err(ApiError::Unauthorized),
            Err(obliged_storage::TokenError::Database(error)) => Err(ApiError::Unavailable {
                detail: format!("cannot check the token: {error}"),
            }),
            Err(error) => Err(ApiError::Internal(error.to_string())),
        }
    }
}

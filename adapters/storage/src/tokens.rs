//! API bearer tokens. A token is 32 random bytes shown once at creation; the database keeps only
//! its SHA-256, so a copy of the database does not let anyone call the API.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use obliged_domain::{Clock, StaffId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::database::Database;
use crate::with_pool;

const TOKEN_PREFIX: &str = "obl_";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Handles complaints: reads and commands.
    Agent,
    /// An agent who may also take complaints over.
    Lead,
    /// Reads everything, commands nothing.
    Auditor,
    /// Reads the event stream only.
    Integration,
    /// Everything, including token management.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Agent,
        Role::Lead,
        Role::Auditor,
        Role::Integration,
        Role::Admin,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Lead => "lead",
            Self::Auditor => "auditor",
            Self::Integration => "integration",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid token name: {0}")]
    InvalidName(#[from] obliged_domain::InvalidValue),
    #[error("no active token named or with id {0:?}")]
    NotFound(String),
    #[error("stored token {id} has an unknown role {role:?}")]
    CorruptRole { id: String, role: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// A token as stored (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    /// The member of staff or integration acting with this token; recorded as the actor.
    pub name: StaffId,
    pub role: Role,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A freshly created token and its secret, which is never shown again.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

type TokenRow = (String, String, String, String, Option<String>);

fn from_row((id, name, role, created_at, revoked_at): TokenRow) -> Result<ApiToken, TokenError> {
    Ok(ApiToken {
        id: Uuid::parse_str(&id).map_err(|_| TokenError::CorruptRole {
            id: id.clone(),
            role: role.clone(),
        })?,
        name: StaffId::parse(&name)?,
        role: Role::parse(&role).ok_or(TokenError::CorruptRole { id, role })?,
        created_at,
        revoked_at,
    })
}

#[derive(Clone)]
pub struct Tokens {
    database: Database,
    clock: Arc<dyn Clock>,
}

impl Tokens {
    pub fn new(database: Database, clock: Arc<dyn Clock>) -> Self {
        Self { database, clock }
    }

    pub async fn create(&self, name: &str, role: Role) -> Result<IssuedToken, TokenError> {
        let name = StaffId::parse(name)?;
        let mut secret_bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret_bytes);
        let secret = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret_bytes));
        let token = ApiToken {
            id: Uuid::now_v7(),
            name,
            role,
            created_at: self.clock.now().to_string(),
            revoked_at: None,
        };
        with_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO api_tokens (id, name, role, token_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token.id.to_string())
            .bind(token.name.as_str())
            .bind(role.as_str())
            .bind(hash(&secret))
            .bind(&token.created_at)
            .execute(pool)
            .await
            .map(drop)?
        });
        Ok(IssuedToken { token, secret })
    }

    pub async fn list(&self) -> Result<Vec<ApiToken>, TokenError> {
        let rows: Vec<TokenRow> = with_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(from_row).collect()
    }

    /// Revokes every active token whose id or name is `name_or_id`; returns how many.
    pub async fn revoke(&self, name_or_id: &str) -> Result<u64, TokenError> {
        let revoked_at = self.clock.now().to_string();
        let revoked = with_pool!(&self.database, pool => {
            sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 \
                 WHERE (id = $2 OR name = $2) AND revoked_at IS NULL",
            )
            .bind(&revoked_at)
            .bind(name_or_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if revoked == 0 {
            return Err(TokenError::NotFound(name_or_id.to_owned()));
        }
        Ok(revoked)
    }

    /// The active token with this secret, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiToken>, TokenError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row: Option<TokenRow> = with_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT id, name, role, created_at, revoked_at FROM api_tokens \
                 WHERE token_hash = $1 AND revoked_at IS NULL",
            )
            .bind(hash(secret))
            .fetch_optional(pool)
            .await?
        });
        row.map(from_row).transpose()
    }
}

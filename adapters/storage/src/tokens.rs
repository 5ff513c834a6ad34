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
    #[error("an active token is already named {0:?}; revoke it first or choose another name")]
    NameTaken(String),
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

/// Binds a new token's columns, in the order of the insert: id, name, role, hash, created at.
fn bind_token<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    token: &ApiToken,
    secret: &str,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(token.id.to_string())
        .bind(token.name.as_str().to_owned())
        .bind(token.role.as_str().to_owned())
        .bind(hash(secret))
        .bind(token.created_at.clone())
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
        // The name is the actor every command is recorded under (and the scope of idempotency
        // keys), so two active tokens must not share one. The check and the insert are one
        // statement in a transaction that excludes other creations of the same name: SQLite's
        // immediate transaction takes the one write lock; PostgreSQL takes an advisory lock
        // on the name.
        const INSERT: &str = "INSERT INTO api_tokens (id, name, role, token_hash, created_at) \
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS \
             (SELECT 1 FROM api_tokens WHERE name = $2 AND revoked_at IS NULL)";
        let inserted = match &self.database {
            Database::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let inserted = bind_token(sqlx::query(INSERT), &token, &secret)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                inserted
            }
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext('obliged:api_tokens:' || $1))")
                    .bind(token.name.as_str())
                    .execute(&mut *tx)
                    .await?;
                let inserted = bind_token(sqlx::query(INSERT), &token, &secret)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                inserted
            }
        };
        if inserted == 0 {
            return Err(TokenError::NameTaken(token.name.as_str().to_owned()));
        }
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

    /// Revokes the active token whose id or name is `name_or_id` (active names are unique; a
    /// store from before that rule may still hold several, and all of them go); returns how
    /// many.
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

    /// Which of `ids` are revoked (or unknown): what a holder of open streams asks, so that a
    /// revocation made by any instance ends them.
    pub async fn revoked_among(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, TokenError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        // One bound JSON array, read by each store's own JSON function: a statement of any
        // length with a fixed text.
        let listed = serde_json::to_string(&wanted).expect("strings serialize");
        let active: Vec<String> = match &self.database {
            Database::Sqlite(pool) => {
                sqlx::query_scalar(
                    "SELECT id FROM api_tokens WHERE revoked_at IS NULL \
                     AND id IN (SELECT value FROM json_each($1))",
                )
                .bind(&listed)
                .fetch_all(pool)
                .await?
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT id FROM api_tokens WHERE revoked_at IS NULL \
                     AND id IN (SELECT jsonb_array_elements_text($1::jsonb))",
                )
                .bind(&listed)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(ids
            .iter()
            .filter(|id| !active.contains(&id.to_string()))
            .copied()
            .collect())
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

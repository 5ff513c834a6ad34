//! People who sign in to the web console, and their sessions.
//!
//! Passwords are hashed with argon2id (the `argon2` crate, OWASP's parameters: 19 MiB, two
//! passes) on the blocking pool, since a hash takes tens of milliseconds of CPU. Sessions live
//! in the database, not in the process: the cookie carries a random secret, the table holds its
//! SHA-256, and every request looks the session up together with its account. Ending a session
//! (sign-out), disabling an account, resetting its password or changing its role deletes rows,
//! so the next request of that person, on any instance, finds nothing. Once a store has an
//! enabled admin it keeps one: disabling or demoting the last is refused. A session expires after `idle` without a
//! request and after `absolute` whatever happens.
//!
//! Sessions are written here rather than through a session crate (tower-sessions and its sqlx
//! stores) because what the console needs of them is exactly what such a store lacks: one store
//! for either database, an index by account so that disabling someone ends their sessions at
//! once, an absolute expiry beside the idle one, and a hashed id at rest. It is one table and
//! five statements.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jiff::Timestamp;
use obliged_domain::{Clock, StaffId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::database::Database;
use crate::tokens::Role;
use crate::with_pool;

/// The shortest password an account may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest: hashing is costly, and nobody types more.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid account name: {0}")]
    InvalidName(#[from] obliged_domain::InvalidValue),
    #[error("an account is already named {0:?}")]
    NameTaken(String),
    #[error("no account named {0:?}")]
    NotFound(String),
    #[error("the {0} role has no console account; use an API token")]
    NoConsoleRole(Role),
    #[error("{0} is the last enabled admin; make someone else an admin first")]
    LastAdmin(String),
    #[error(
        "the password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} bytes long \
         (at least {MIN_PASSWORD_CHARS} characters)"
    )]
    WeakPassword,
    #[error("unknown language {0:?}; choose en or nl")]
    UnknownLanguage(String),
    #[error("stored account {0} is corrupt: {1}")]
    Corrupt(String, String),
    #[error("hashing the password failed: {0}")]
    Hashing(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The interface languages an account may choose.
pub const LANGUAGES: &[&str] = &["en", "nl"];

/// A console account as stored (without its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    /// The staff id recorded as the actor of what this person does.
    pub name: StaffId,
    pub role: Role,
    /// One of [`LANGUAGES`], or `None` to follow the browser.
    pub language: Option<String>,
    pub created_at: String,
    pub disabled_at: Option<String>,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(60 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// A signed-in session: whose it is and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The stored id (the SHA-256 of the cookie's secret): names the session to the live
    /// streams without revealing the secret.
    pub id: String,
    pub account: Account,
    /// The CSRF token every state-changing form of this session carries.
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// A session just started, with the secret for the cookie (never stored).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub session: Session,
    pub secret: String,
}

/// How often a session's `last_seen_at` is written: a page's requests in a burst write once.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Accounts {
    database: Database,
    clock: Arc<dyn Clock>,
    settings: SessionSettings,
}

type AccountRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
);

/// An [`AccountRow`] followed by the password's hash.
type AccountWithHash = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
);

const ACCOUNT_COLUMNS: &str = "id, name, role, language, created_at, disabled_at";

fn from_row(
    (id, name, role, language, created_at, disabled_at): AccountRow,
) -> Result<Account, AccountError> {
    Ok(Account {
        id: Uuid::parse_str(&id)
            .map_err(|error| AccountError::Corrupt(id.clone(), error.to_string()))?,
        name: StaffId::parse(&name)?,
        role: Role::parse(&role)
            .ok_or_else(|| AccountError::Corrupt(id.clone(), format!("unknown role {role:?}")))?,
        language,
        created_at,
        disabled_at,
    })
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

fn plus(at: Timestamp, duration: Duration) -> Timestamp {
    let span = jiff::SignedDuration::try_from(duration).unwrap_or(jiff::SignedDuration::MAX);
    at.checked_add(span).unwrap_or(Timestamp::MAX)
}

fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::WeakPassword);
    }
    Ok(())
}

async fn hash_password(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| AccountError::Hashing(error.to_string()))
    })
    .await
    .map_err(|error| AccountError::Hashing(error.to_string()))?
}

/// Whether `password` matches the PHC string `stored`. An unknown account is checked against
/// a hash of nothing, so that it takes as long as a known one.
async fn verify_password(password: String, stored: Option<String>) -> bool {
    static DECOY: OnceLock<String> = OnceLock::new();
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| {
            DECOY
                .get_or_init(|| {
                    let salt = SaltString::generate(&mut OsRng);
                    Argon2::default()
                        .hash_password(b"decoy", &salt)
                        .expect("hashing a constant")
                        .to_string()
                })
                .clone()
        });
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        known && matches
    })
    .await
    .unwrap_or(false)
}

/// Whether two texts are equal, comparing every byte whatever the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |difference, (x, y)| difference | (x ^ y))
            == 0
}

impl Accounts {
    pub fn new(database: Database, clock: Arc<dyn Clock>, settings: SessionSettings) -> Self {
        Self {
            database,
            clock,
            settings,
        }
    }

    pub fn settings(&self) -> SessionSettings {
        self.settings
    }

    /// Creates an account. Integrations have no console: their role is refused.
    pub async fn add(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<Account, AccountError> {
        let name = StaffId::parse(name)?;
        if role == Role::Integration {
            return Err(AccountError::NoConsoleRole(role));
        }
        check_password(password)?;
        let hash = hash_password(password.to_owned()).await?;
        let account = Account {
            id: Uuid::now_v7(),
            name,
            role,
            language: None,
            created_at: self.clock.now().to_string(),
            disabled_at: None,
        };
        let inserted = with_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO accounts (id, name, role, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
            )
            .bind(account.id.to_string())
            .bind(account.name.as_str())
            .bind(account.role.as_str())
            .bind(&hash)
            .bind(&account.created_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(AccountError::NameTaken(account.name.as_str().to_owned()));
        }
        Ok(account)
    }

    pub async fn list(&self) -> Result<Vec<Account>, AccountError> {
        let rows: Vec<AccountRow> = with_pool!(&self.database, pool => {
            sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY name"))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(from_row).collect()
    }

    pub async fn find(&self, name: &str) -> Result<Account, AccountError> {
        let row: Option<AccountRow> = with_pool!(&self.database, pool => {
            sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = $1"))
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        row.map(from_row)
            .transpose()?
            .ok_or_else(|| AccountError::NotFound(name.to_owned()))
    }

    /// Whether any account exists (a fresh store has none: the server says how to add one).
    pub async fn any(&self) -> Result<bool, AccountError> {
        let count: i64 = with_pool!(&self.database, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
                .fetch_one(pool)
                .await?
        });
        Ok(count > 0)
    }

    /// Disables the account and ends its sessions at once. The last enabled admin is not
    /// disabled ([`AccountError::LastAdmin`]).
    pub async fn disable(&self, name: &str) -> Result<Account, AccountError> {
        let account = self.find(name).await?;
        let now = self.clock.now().to_string();
        self.change_keeping_an_admin(
            &account,
            "UPDATE accounts SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
            &now,
        )
        .await?;
        self.find(name).await
    }

    /// Gives the account another role and ends its sessions, so that nothing it had open
    /// (a page, a live stream) goes on under the old role. The last enabled admin keeps the
    /// role ([`AccountError::LastAdmin`]); integrations have no console account. Giving the
    /// role it has changes nothing and ends nothing.
    pub async fn set_role(&self, name: &str, role: Role) -> Result<Account, AccountError> {
        if role == Role::Integration {
            return Err(AccountError::NoConsoleRole(role));
        }
        let account = self.find(name).await?;
        if account.role == role {
            return Ok(account);
        }
        self.change_keeping_an_admin(
            &account,
            "UPDATE accounts SET role = $2 WHERE id = $1",
            role.as_str(),
        )
        .await?;
        self.find(name).await
    }

    /// Runs `update` (`$1` the account's id, `$2` `value`) and ends the account's sessions, in
    /// one transaction, unless it leaves no enabled admin where there was one. Such
    /// changes wait for each other (SQLite's immediate transaction takes the one write lock;
    /// PostgreSQL takes an advisory lock), so two admins demoting each other at once cannot
    /// both succeed.
    async fn change_keeping_an_admin(
        &self,
        account: &Account,
        update: &str,
        value: &str,
    ) -> Result<(), AccountError> {
        const ENABLED_ADMINS: &str =
            "SELECT COUNT(*) FROM accounts WHERE role = 'admin' AND disabled_at IS NULL";
        macro_rules! change {
            ($tx:ident) => {{
                let before: i64 = sqlx::query_scalar(ENABLED_ADMINS)
                    .fetch_one(&mut *$tx)
                    .await?;
                sqlx::query(update)
                    .bind(account.id.to_string())
                    .bind(value)
                    .execute(&mut *$tx)
                    .await?;
                let after: i64 = sqlx::query_scalar(ENABLED_ADMINS)
                    .fetch_one(&mut *$tx)
                    .await?;
                if before > 0 && after == 0 {
                    $tx.rollback().await?;
                    return Err(AccountError::LastAdmin(account.name.as_str().to_owned()));
                }
                sqlx::query("DELETE FROM console_sessions WHERE account_id = $1")
                    .bind(account.id.to_string())
                    .execute(&mut *$tx)
                    .await?;
                $tx.commit().await?;
            }};
        }
        match &self.database {
            Database::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                change!(tx);
            }
            Database::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext('obliged:accounts:admins'))")
                    .execute(&mut *tx)
                    .await?;
                change!(tx);
            }
        }
        Ok(())
    }

    /// Sets a new password and ends the account's sessions.
    pub async fn reset_password(&self, name: &str, password: &str) -> Result<(), AccountError> {
        check_password(password)?;
        let account = self.find(name).await?;
        let hash = hash_password(password.to_owned()).await?;
        with_pool!(&self.database, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(account.id.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM console_sessions WHERE account_id = $1")
                .bind(account.id.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sets the account's interface language (`None`: follow the browser).
    pub async fn set_language(
        &self,
        account: Uuid,
        language: Option<&str>,
    ) -> Result<(), AccountError> {
        if let Some(language) = language {
            if !LANGUAGES.contains(&language) {
                return Err(AccountError::UnknownLanguage(language.to_owned()));
            }
        }
        with_pool!(&self.database, pool => {
            sqlx::query("UPDATE accounts SET language = $1 WHERE id = $2")
                .bind(language)
                .bind(account.to_string())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The enabled account `name` if `password` is its password.
    pub async fn verify(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<Account>, AccountError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(None);
        }
        let row: Option<AccountWithHash> = with_pool!(&self.database, pool => {
            sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE name = $1"
            ))
            .bind(name)
            .fetch_optional(pool)
            .await?
        });
        let (account, stored) = match row {
            Some((id, name, role, language, created_at, disabled_at, hash)) => (
                Some(from_row((
                    id,
                    name,
                    role,
                    language,
                    created_at,
                    disabled_at,
                ))?),
                Some(hash),
            ),
            None => (None, None),
        };
        let matches = verify_password(password.to_owned(), stored).await;
        Ok(account.filter(|account| matches && account.disabled_at.is_none()))
    }

    /// Starts a session for `account`.
    pub async fn start_session(&self, account: &Account) -> Result<NewSession, AccountError> {
        let secret = random_secret();
        let csrf = random_secret();
        let now = self.clock.now();
        let expires_at = plus(now, self.settings.absolute);
        let id = sha256_hex(&secret);
        with_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO console_sessions \
                 (id_hash, account_id, csrf_token, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(&id)
            .bind(account.id.to_string())
            .bind(&csrf)
            .bind(micros(now))
            .bind(micros(expires_at))
            .execute(pool)
            .await?;
        });
        Ok(NewSession {
            session: Session {
                id,
                account: account.clone(),
                csrf,
                expires_at,
            },
            secret,
        })
    }

    /// The live session whose cookie secret is `secret`: not expired (idle or absolute), of an
    /// enabled account. An expired session is deleted.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, AccountError> {
        if secret.is_empty() || secret.len() > 128 {
            return Ok(None);
        }
        let id = sha256_hex(secret);
        type Row = (
            String,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            String,
            i64,
            i64,
        );
        let row: Option<Row> = with_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT a.id, a.name, a.role, a.language, a.created_at, a.disabled_at, \
                 s.csrf_token, s.last_seen_at, s.expires_at \
                 FROM console_sessions s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.id_hash = $1",
            )
            .bind(&id)
            .fetch_optional(pool)
            .await?
        });
        let Some((account_id, name, role, language, created_at, disabled_at, csrf, seen, expires)) =
            row
        else {
            return Ok(None);
        };
        let account = from_row((account_id, name, role, language, created_at, disabled_at))?;
        let now = micros(self.clock.now());
        let idle = i64::try_from(self.settings.idle.as_micros()).unwrap_or(i64::MAX);
        if account.disabled_at.is_some() || now >= expires || now.saturating_sub(seen) >= idle {
            self.end_session_by_id(&id).await?;
            return Ok(None);
        }
        let touch = i64::try_from(TOUCH_EVERY.as_micros()).unwrap_or(i64::MAX);
        if now.saturating_sub(seen) >= touch {
            with_pool!(&self.database, pool => {
                sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2")
                    .bind(now)
                    .bind(&id)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(Some(Session {
            id,
            account,
            csrf,
            expires_at: Timestamp::from_microsecond(expires).unwrap_or(Timestamp::MAX),
        }))
    }

    /// Ends the session whose cookie secret is `secret` (sign-out).
    pub async fn end_session(&self, secret: &str) -> Result<(), AccountError> {
        self.end_session_by_id(&sha256_hex(secret)).await
    }

    async fn end_session_by_id(&self, id: &str) -> Result<(), AccountError> {
        with_pool!(&self.database, pool => {
            sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Which of the sessions `ids` ([`Session::id`]) have ended (signed out, expired, or their
    /// account disabled): what a holder of live pages asks, so that they close at once.
    pub async fn ended_among(&self, ids: &[String]) -> Result<Vec<String>, AccountError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let listed = serde_json::to_string(ids).expect("strings serialize");
        let now = micros(self.clock.now());
        let idle = i64::try_from(self.settings.idle.as_micros()).unwrap_or(i64::MAX);
        const LIVE: &str = "FROM console_sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE a.disabled_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $2 - $3 \
             AND s.id_hash IN ";
        let live: Vec<String> = match &self.database {
            Database::Sqlite(pool) => {
                sqlx::query_scalar(&format!(
                    "SELECT s.id_hash {LIVE} (SELECT value FROM json_each($1))"
                ))
                .bind(&listed)
                .bind(now)
                .bind(idle)
                .fetch_all(pool)
                .await?
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar(&format!(
                    "SELECT s.id_hash {LIVE} (SELECT jsonb_array_elements_text($1::jsonb))"
                ))
                .bind(&listed)
                .bind(now)
                .bind(idle)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(ids
            .iter()
            .filter(|id| !live.contains(id))
            .cloned()
            .collect())
    }
}

//! The webhook tables (`webhook_subscriptions`, `webhook_dead_letters`, migration 0004) and every
//! query on them, written once for both databases. Every change to a subscription row bumps its
//! `version`; changes made by a worker are conditional on the version it holds, which is what
//! makes a claim exclusive across processes (see `worker.rs`).

use jiff::Timestamp;
use obliged_storage::{with_pool, Database};
use uuid::Uuid;

use crate::error::WebhookError;
use crate::subscription::{DeadLetter, Subscription, SubscriptionOwner, WebhookSecret};

/// Every subscription's id and stored secret (removed ones too: their rows keep the secret).
pub(crate) async fn secrets(database: &Database) -> Result<Vec<(String, String)>, WebhookError> {
    Ok(with_pool!(database, pool => {
        sqlx::query_as("SELECT id, secret FROM webhook_subscriptions ORDER BY id")
            .fetch_all(pool)
            .await?
    }))
}

/// Replaces a subscription's stored secret `from` by `to`; false when it no longer holds `from`.
/// The secret is not part of the row's `version`: no claim depends on it.
pub(crate) async fn replace_secret(
    database: &Database,
    id: &str,
    from: &str,
    to: &str,
) -> Result<bool, WebhookError> {
    let changed = with_pool!(database, pool => {
        sqlx::query("UPDATE webhook_subscriptions SET secret = $1 WHERE id = $2 AND secret = $3")
            .bind(to)
            .bind(id)
            .bind(from)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(changed == 1)
}

const COLUMNS: &str = "s.id, s.url, s.event_types, s.secret, s.max_attempts, s.position, \
     s.attempts, s.next_attempt_at, s.last_error, s.last_error_at, s.last_delivered_at, \
     s.lease_until, s.version, s.created_at, s.removed_at, s.created_by_token, s.created_by";
/// Counting dead letters costs a subquery per row; the worker does not need the count.
const WITH_COUNT: &str = "(SELECT count(*) FROM webhook_dead_letters d \
     WHERE d.subscription_id = s.id) AS dead_letters";
const WITHOUT_COUNT: &str = "CAST(0 AS bigint) AS dead_letters";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    url: String,
    event_types: String,
    secret: String,
    max_attempts: i64,
    position: i64,
    attempts: i64,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    last_error_at: Option<String>,
    last_delivered_at: Option<String>,
    lease_until: Option<String>,
    version: i64,
    created_at: String,
    removed_at: Option<String>,
    created_by_token: Option<String>,
    created_by: Option<String>,
    dead_letters: i64,
}

/// A subscription row, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// As shown: a URL stored with credentials (made before they were refused) reads with its
    /// password replaced by `***`.
    pub subscription: Subscription,
    /// The URL deliveries go to, exactly as stored.
    pub target: String,
    pub secret: WebhookSecret,
    pub delivery: Delivery,
    pub lease_until: Option<Timestamp>,
    pub version: i64,
    pub dead_letters: u64,
}

/// The columns a worker changes after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub position: u64,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub last_delivered_at: Option<Timestamp>,
}

/// A dead letter about to be written.
pub(crate) struct NewDeadLetter<'a> {
    pub position: u64,
    pub event_type: &'a str,
    pub attempts: u32,
    pub last_error: &'a str,
    pub at: Timestamp,
}

fn corrupt(id: &str, problem: impl Into<String>) -> WebhookError {
    WebhookError::CorruptRow {
        id: id.to_owned(),
        problem: problem.into(),
    }
}

fn timestamp(id: &str, column: &str, text: &str) -> Result<Timestamp, WebhookError> {
    text.parse().map_err(|_| {
        corrupt(
            id,
            format!("{column} {text:?} is not an RFC 3339 timestamp"),
        )
    })
}

fn optional_timestamp(
    id: &str,
    column: &str,
    text: Option<String>,
) -> Result<Option<Timestamp>, WebhookError> {
    text.map(|text| timestamp(id, column, &text)).transpose()
}

fn count(id: &str, column: &str, value: i64) -> Result<u64, WebhookError> {
    u64::try_from(value).map_err(|_| corrupt(id, format!("{column} is negative")))
}

fn small(id: &str, column: &str, value: i64) -> Result<u32, WebhookError> {
    u32::try_from(value).map_err(|_| corrupt(id, format!("{column} {value} is out of range")))
}

impl TryFrom<Row> for Record {
    type Error = WebhookError;

    fn try_from(row: Row) -> Result<Self, WebhookError> {
        let id = row.id;
        let event_types: Vec<String> = serde_json::from_str(&row.event_types)
            .map_err(|error| corrupt(&id, format!("event_types is not a JSON list: {error}")))?;
        Ok(Record {
            subscription: Subscription {
                id: Uuid::parse_str(&id).map_err(|_| corrupt(&id, "id is not a UUID"))?,
                url: without_password(&row.url),
                event_types,
                max_attempts: small(&id, "max_attempts", row.max_attempts)?,
                created_at: timestamp(&id, "created_at", &row.created_at)?,
                removed_at: optional_timestamp(&id, "removed_at", row.removed_at)?,
                owner: match (row.created_by_token, row.created_by) {
                    (Some(token), Some(name)) => Some(SubscriptionOwner {
                        token_id: Uuid::parse_str(&token)
                            .map_err(|_| corrupt(&id, "created_by_token is not a UUID"))?,
                        name,
                    }),
                    _ => None,
                },
            },
            target: row.url,
            secret: WebhookSecret::from_stored(row.secret),
            delivery: Delivery {
                position: count(&id, "position", row.position)?,
                attempts: small(&id, "attempts", row.attempts)?,
                next_attempt_at: optional_timestamp(&id, "next_attempt_at", row.next_attempt_at)?,
                last_error: row.last_error,
                last_error_at: optional_timestamp(&id, "last_error_at", row.last_error_at)?,
                last_delivered_at: optional_timestamp(
                    &id,
                    "last_delivered_at",
                    row.last_delivered_at,
                )?,
            },
            lease_until: optional_timestamp(&id, "lease_until", row.lease_until)?,
            version: row.version,
            dead_letters: count(&id, "dead_letters", row.dead_letters)?,
        })
    }
}

/// `url` with any password in it replaced by `***`. New subscriptions cannot carry
/// credentials; ones stored before that rule keep delivering with theirs, but never show them.
fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn text(timestamp: Option<Timestamp>) -> Option<String> {
    timestamp.map(|timestamp| timestamp.to_string())
}

/// Inserts a subscription; `stored_secret` is its signing secret sealed under the master key.
pub(crate) async fn insert(
    database: &Database,
    subscription: &Subscription,
    stored_secret: &str,
    position: u64,
) -> Result<(), WebhookError> {
    let event_types =
        serde_json::to_string(&subscription.event_types).expect("a list of strings serializes");
    with_pool!(database, pool => {
        sqlx::query(
            "INSERT INTO webhook_subscriptions (id, url, event_types, secret, max_attempts, \
             position, created_at, created_by_token, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(subscription.id.to_string())
        .bind(&subscription.url)
        .bind(&event_types)
        .bind(stored_secret)
        .bind(i64::from(subscription.max_attempts))
        .bind(position as i64)
        .bind(subscription.created_at.to_string())
        .bind(subscription.owner.as_ref().map(|owner| owner.token_id.to_string()))
        .bind(subscription.owner.as_ref().map(|owner| owner.name.clone()))
        .execute(pool)
        .await
        .map(drop)?
    });
    Ok(())
}

/// How many active subscriptions the token `token_id` made.
pub(crate) async fn active_count_of(
    database: &Database,
    token_id: Uuid,
) -> Result<u64, WebhookError> {
    let count: i64 = with_pool!(database, pool => {
        sqlx::query_scalar(
            "SELECT count(*) FROM webhook_subscriptions \
             WHERE created_by_token = $1 AND removed_at IS NULL",
        )
        .bind(token_id.to_string())
        .fetch_one(pool)
        .await?
    });
    Ok(count.max(0) as u64)
}

/// Every subscription (removed ones too), oldest first, with dead letter counts.
pub(crate) async fn all(database: &Database) -> Result<Vec<Record>, WebhookError> {
    let query =
        format!("SELECT {COLUMNS}, {WITH_COUNT} FROM webhook_subscriptions s ORDER BY s.id");
    let rows: Vec<Row> = with_pool!(database, pool => {
        sqlx::query_as(&query).fetch_all(pool).await?
    });
    rows.into_iter().map(Record::try_from).collect()
}

/// The active subscriptions, as the worker needs them (no dead letter counts).
pub(crate) async fn active(database: &Database) -> Result<Vec<Record>, WebhookError> {
    let query = format!(
        "SELECT {COLUMNS}, {WITHOUT_COUNT} FROM webhook_subscriptions s \
         WHERE s.removed_at IS NULL ORDER BY s.id"
    );
    let rows: Vec<Row> = with_pool!(database, pool => {
        sqlx::query_as(&query).fetch_all(pool).await?
    });
    rows.into_iter().map(Record::try_from).collect()
}

pub(crate) async fn one(database: &Database, id: Uuid) -> Result<Option<Record>, WebhookError> {
    let query =
        format!("SELECT {COLUMNS}, {WITH_COUNT} FROM webhook_subscriptions s WHERE s.id = $1");
    let row: Option<Row> = with_pool!(database, pool => {
        sqlx::query_as(&query).bind(id.to_string()).fetch_optional(pool).await?
    });
    row.map(Record::try_from).transpose()
}

/// Claims an active subscription until `lease_until` if its row is still at `version`.
/// Returns the version the claim holds, or `None` if someone changed the row first.
pub(crate) async fn claim(
    database: &Database,
    id: Uuid,
    version: i64,
    lease_until: Timestamp,
) -> Result<Option<i64>, WebhookError> {
    let updated = with_pool!(database, pool => {
        sqlx::query(
            "UPDATE webhook_subscriptions SET lease_until = $1, version = version + 1 \
             WHERE id = $2 AND version = $3 AND removed_at IS NULL",
        )
        .bind(lease_until.to_string())
        .bind(id.to_string())
        .bind(version)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok((updated == 1).then_some(version + 1))
}

/// Writes a worker's progress if the row is still at `version` (the worker's claim), with
/// the dead letter in the same transaction, and either keeps the claim until `lease_until`
/// or releases it (`None`). Returns the row's new version, or `None` if the claim was lost
/// and nothing was written.
pub(crate) async fn record(
    database: &Database,
    id: Uuid,
    version: i64,
    delivery: &Delivery,
    lease_until: Option<Timestamp>,
    dead_letter: Option<NewDeadLetter<'_>>,
) -> Result<Option<i64>, WebhookError> {
    const UPDATE: &str = "UPDATE webhook_subscriptions SET position = $1, attempts = $2, \
         next_attempt_at = $3, last_error = $4, last_error_at = $5, last_delivered_at = $6, \
         lease_until = $7, version = version + 1 WHERE id = $8 AND version = $9";
    const DEAD_LETTER: &str = "INSERT INTO webhook_dead_letters (subscription_id, position, \
         event_type, attempts, last_error, dead_lettered_at) VALUES ($1, $2, $3, $4, $5, $6)";
    let recorded = with_pool!(database, pool => {
        let mut transaction = pool.begin().await?;
        let updated = sqlx::query(UPDATE)
            .bind(delivery.position as i64)
            .bind(i64::from(delivery.attempts))
            .bind(text(delivery.next_attempt_at))
            .bind(delivery.last_error.as_deref())
            .bind(text(delivery.last_error_at))
            .bind(text(delivery.last_delivered_at))
            .bind(text(lease_until))
            .bind(id.to_string())
            .bind(version)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        if updated == 1 {
            if let Some(dead_letter) = &dead_letter {
                sqlx::query(DEAD_LETTER)
                    .bind(id.to_string())
                    .bind(dead_letter.position as i64)
                    .bind(dead_letter.event_type)
                    .bind(i64::from(dead_letter.attempts))
                    .bind(dead_letter.last_error)
                    .bind(dead_letter.at.to_string())
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
        } else {
            transaction.rollback().await?;
        }
        updated == 1
    });
    Ok(recorded.then_some(version + 1))
}

/// Deactivates a subscription. Returns whether it was active. Its row and dead letters stay.
pub(crate) async fn remove(
    database: &Database,
    id: Uuid,
    at: Timestamp,
) -> Result<bool, WebhookError> {
    change_active(database, id, "removed_at = $1", at.to_string()).await
}

/// Sets an active subscription back to `position` (the last one it is done with), with a fresh
/// attempt count, due at once, and drops any claim: a worker still delivering records nothing.
pub(crate) async fn rewind(
    database: &Database,
    id: Uuid,
    position: u64,
) -> Result<bool, WebhookError> {
    change_active(database, id, "position = $1, attempts = 0", position as i64).await
}

/// Changes an active subscription's row (`changes`, with `$1` bound to `value`), due at once and
/// with any claim dropped, so that a worker still holding one records nothing. Returns whether
/// the subscription was active.
async fn change_active<T>(
    database: &Database,
    id: Uuid,
    changes: &str,
    value: T,
) -> Result<bool, WebhookError>
where
    T: Send
        + 'static
        + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>,
{
    let query = format!(
        "UPDATE webhook_subscriptions SET {changes}, next_attempt_at = NULL, lease_until = NULL, \
         version = version + 1 WHERE id = $2 AND removed_at IS NULL"
    );
    let updated = with_pool!(database, pool => {
        sqlx::query(&query)
            .bind(value)
            .bind(id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(updated == 1)
}

type DeadLetterRow = (i64, String, i64, String, i64, String, String);

pub(crate) async fn dead_letters(
    database: &Database,
    id: Uuid,
) -> Result<Vec<DeadLetter>, WebhookError> {
    let rows: Vec<DeadLetterRow> = with_pool!(database, pool => {
        sqlx::query_as(
            "SELECT id, subscription_id, position, event_type, attempts, last_error, \
             dead_lettered_at FROM webhook_dead_letters WHERE subscription_id = $1 ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(
            |(row_id, subscription_id, position, event_type, attempts, last_error, at)| {
                let subscription_id = Uuid::parse_str(&subscription_id).map_err(|_| {
                    corrupt(
                        &subscription_id,
                        "a dead letter's subscription id is not a UUID",
                    )
                })?;
                let key = format!("{subscription_id} (dead letter {row_id})");
                Ok(DeadLetter {
                    id: row_id,
                    subscription_id,
                    position: count(&key, "position", position)?,
                    event_type,
                    attempts: small(&key, "attempts", attempts)?,
                    last_error,
                    dead_lettered_at: timestamp(&key, "dead_lettered_at", &at)?,
                })
            },
        )
        .collect()
}

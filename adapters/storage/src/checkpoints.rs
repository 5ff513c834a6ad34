//! Checkpoints: how far each consumer of the ledger (a projector, a publisher) has got, by name.
//! A consumer that writes elsewhere stores its checkpoint after the write is acknowledged, so a
//! crash means delivering again, never skipping (at least once).

use std::sync::Arc;

use obliged_domain::Clock;

use crate::database::Database;
use crate::with_pool;

#[derive(Clone)]
pub struct Checkpoints {
    database: Database,
    clock: Arc<dyn Clock>,
}

impl Checkpoints {
    pub fn new(database: Database, clock: Arc<dyn Clock>) -> Self {
        Self { database, clock }
    }

    /// The position `name` has processed up to (0 if it never ran).
    pub async fn get(&self, name: &str) -> Result<u64, sqlx::Error> {
        let position: Option<i64> = with_pool!(&self.database, pool => {
            sqlx::query_scalar("SELECT position FROM checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        Ok(position.unwrap_or(0) as u64)
    }

    /// Records that `name` has processed everything up to and including `position`.
    pub async fn set(&self, name: &str, position: u64) -> Result<(), sqlx::Error> {
        let updated_at = self.clock.now().to_string();
        with_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO checkpoints (name, position, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET position = excluded.position, \
                 updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(position as i64)
            .bind(&updated_at)
            .execute(pool)
            .await
            .map(drop)?
        });
        Ok(())
    }

    /// Every checkpoint, by name.
    pub async fn all(&self) -> Result<Vec<(String, u64)>, sqlx::Error> {
        let rows: Vec<(String, i64)> = with_pool!(&self.database, pool => {
            sqlx::query_as("SELECT name, position FROM checkpoints ORDER BY name")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(name, position)| (name, position as u64))
            .collect())
    }
}

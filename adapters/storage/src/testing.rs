//! Test support shared by the tests of every crate (feature `testing`): a store that exists for
//! one test only — a temporary SQLite file, or a fresh PostgreSQL database dropped afterwards —
//! and [`for_each_store!`](crate::for_each_store), which runs a scenario once per store.
//!
//! PostgreSQL tests connect to `OBLIGED_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it is unreachable they report themselves
//! skipped, unless `CI=true`, where they fail.

use std::path::PathBuf;

use uuid::Uuid;

use crate::database::Database;
use crate::with_pool;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named scenario (an `async fn(Backend)` in scope) once per store, as
/// `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! for_each_store {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario($crate::testing::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario($crate::testing::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Whether the tests run in CI, where a missing server is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// The PostgreSQL server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("OBLIGED_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A store that exists for one test only.
pub struct TestStore {
    pub url: String,
    pub database: Database,
    directory: Option<PathBuf>,
    postgres_name: Option<String>,
}

impl TestStore {
    /// A fresh, migrated store, or `None` (test skipped) when PostgreSQL is unreachable
    /// outside CI.
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let directory =
                    std::env::temp_dir().join(format!("obliged-test-{}", Uuid::now_v7()));
                std::fs::create_dir_all(&directory).expect("create temp dir");
                let url = format!("sqlite://{}", directory.join("obliged.db").display());
                let database = Database::connect(&url).await.expect("open sqlite");
                database.migrate().await.expect("migrate sqlite");
                Some(Self {
                    url,
                    database,
                    directory: Some(directory),
                    postgres_name: None,
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let admin = match Database::connect(&admin_url).await {
                    Ok(admin) => admin,
                    Err(error) if !in_ci() => {
                        eprintln!("SKIPPED: PostgreSQL unreachable at {admin_url}: {error}");
                        return None;
                    }
                    Err(error) => {
                        panic!("PostgreSQL unreachable at {admin_url} (CI=true): {error}")
                    }
                };
                let Database::Postgres(admin_pool) = &admin else {
                    panic!("{admin_url} is not a PostgreSQL url")
                };
                let name = format!("obliged_test_{}", Uuid::now_v7().simple());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(admin_pool)
                    .await
                    .expect("create test database");
                admin.close().await;
                let url = database_url_with_name(&admin_url, &name);
                let database = Database::connect(&url)
                    .await
                    .expect("connect test database");
                database.migrate().await.expect("migrate postgres");
                Some(Self {
                    url,
                    database,
                    directory: None,
                    postgres_name: Some(name),
                })
            }
        }
    }
}

/// How many events the store holds: of one complaint, or of every complaint. Read straight from
/// the table, so that a test sees anything appended by any path.
pub async fn event_count(database: &Database, aggregate_id: Option<&str>) -> i64 {
    with_pool!(database, pool => {
        sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE $1 IS NULL OR aggregate_id = $1",
        )
        .bind(aggregate_id)
        .fetch_one(pool)
        .await
    })
    .expect("count events")
}

fn database_url_with_name(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let without_database = base.rsplit_once('/').map_or(base, |(head, _)| head);
    format!("{without_database}/{name}{query}")
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(directory) = &self.directory {
            let _ = std::fs::remove_dir_all(directory);
        }
        if let Some(name) = self.postgres_name.take() {
            // Drop runs outside async code: use a thread with its own runtime.
            let admin_url = postgres_admin_url();
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    if let Ok(Database::Postgres(pool)) = Database::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

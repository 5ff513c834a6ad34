//! The test harness: a fresh store per test (a temporary SQLite file, or a new PostgreSQL
//! database dropped afterwards), the app wired as the binary wires it but with a controllable
//! clock, and helpers that drive the router in-process.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use obliged_domain::{FixedClock, Policy};
use obliged_http::AppState;
use obliged_storage::{with_pool, Database, MasterKey, Role};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

pub mod server;

pub(crate) use obliged_storage::for_each_store;
pub use obliged_storage::testing::{Backend, TestStore};

/// The raw text of every table, to search for things that must never be stored.
pub async fn dump(store: &TestStore) -> String {
    let mut text = String::new();
    for table in ["events", "sealing_keys", "api_tokens"] {
        let rows: Vec<(String,)> = match &store.database {
            Database::Sqlite(pool) => {
                let columns: Vec<(String,)> =
                    sqlx::query_as(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .fetch_all(pool)
                        .await
                        .expect("columns");
                let concat = columns
                    .iter()
                    .map(|(column,)| {
                        format!(
                            "coalesce(CASE typeof({column}) WHEN 'blob' THEN hex({column}) \
                             ELSE CAST({column} AS TEXT) END, '')"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" || ' ' || ");
                sqlx::query_as(&format!("SELECT {concat} FROM {table}"))
                    .fetch_all(pool)
                    .await
                    .expect("dump sqlite")
            }
            Database::Postgres(pool) => sqlx::query_as(&format!("SELECT t::text FROM {table} t"))
                .fetch_all(pool)
                .await
                .expect("dump postgres"),
        };
        for (row,) in rows {
            text.push_str(&row);
            text.push('\n');
        }
    }
    text
}

/// Number of stored events of one complaint, read straight from the table.
pub async fn event_count(store: &TestStore, complaint_id: &str) -> i64 {
    obliged_storage::testing::event_count(&store.database, Some(complaint_id)).await
}

/// A number read straight from the database (`SELECT count(*) …`).
pub async fn scalar(database: &Database, query: &str) -> i64 {
    with_pool!(database, pool => sqlx::query_scalar(query).fetch_one(pool).await)
        .unwrap_or_else(|error| panic!("{query}: {error}"))
}

/// Every read-model row, in a stable order, to compare two projections.
pub async fn read_model_rows(database: &Database) -> Vec<String> {
    let queries = [
        "SELECT complaint_id || '|' || status || '|' || coalesce(owner, '-') || '|' || \
         coalesce(CAST(next_due_at AS text), '-') || '|' || CAST(open_promises AS text) || '|' || \
         CAST(open_obligations AS text) || '|' || escalations || '|' || CAST(position AS text) \
         FROM rm_complaints ORDER BY complaint_id",
        "SELECT complaint_id || '|' || kind || '|' || item_id || '|' || owner || '|' || \
         CAST(due_at AS text) FROM rm_work_items ORDER BY complaint_id, kind, item_id",
        "SELECT complaint_id || '|' || promise_id || '|' || status || '|' || CAST(due_at AS text) \
         FROM rm_open_promises ORDER BY complaint_id, promise_id",
        "SELECT complaint_id || '|' || owner || '|' || CAST(open_complaints AS text) || '|' || \
         CAST(promises_kept_on_time AS text) || '|' || CAST(promises_broken AS text) \
         FROM rm_owner_counts ORDER BY complaint_id, owner",
    ];
    let mut rows = Vec::new();
    for query in queries {
        let mut table: Vec<String> =
            with_pool!(database, pool => sqlx::query_scalar(query).fetch_all(pool).await)
                .expect("read-model rows");
        rows.push(format!("-- {} rows", table.len()));
        rows.append(&mut table);
    }
    rows
}

/// The moment every test starts at.
pub fn t0() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().expect("timestamp")
}

pub fn hours(hours: i64) -> Timestamp {
    t0() + SignedDuration::from_hours(hours)
}

/// The app in-process, on a fresh store, with a clock the test moves by hand.
pub struct TestApp {
    pub store: TestStore,
    pub state: AppState,
    pub router: Router,
    pub clock: FixedClock,
    pub master_key: MasterKey,
    pub agent: String,
    pub lead: String,
    pub auditor: String,
    pub integration: String,
}

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem `type` slug of an error response.
    pub fn problem_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, slug: &str) {
        assert_eq!(self.status, status, "unexpected status; body {}", self.body);
        assert_eq!(
            self.problem_type(),
            slug,
            "unexpected problem; body {}",
            self.body
        );
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|value| value.to_str().ok()),
            Some("application/problem+json")
        );
        assert!(
            self.body["detail"]
                .as_str()
                .is_some_and(|detail| !detail.is_empty()),
            "a problem names what is wrong: {}",
            self.body
        );
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, Policy::default()).await
    }

    /// The app with `policy` instead of the plain default.
    pub async fn start_with(backend: Backend, policy: Policy) -> Option<Self> {
        Self::start_keyed(backend, policy, MasterKey::generate()).await
    }

    /// The app with `policy` and a given master key (to share the store with the binary).
    pub async fn start_keyed(
        backend: Backend,
        policy: Policy,
        master_key: MasterKey,
    ) -> Option<Self> {
        let store = TestStore::create(backend).await?;
        let clock = FixedClock::new(t0());
        let state = obliged::app::App::new(
            &store.database,
            &master_key,
            policy,
            Arc::new(clock.clone()),
        )
        .http_state();
        let token = |name: &'static str, role| {
            let tokens = state.tokens.clone();
            async move { tokens.create(name, role).await.expect("token").secret }
        };
        let agent = token("alice", Role::Agent).await;
        let lead = token("lena", Role::Lead).await;
        let auditor = token("audrey", Role::Auditor).await;
        let integration = token("crm", Role::Integration).await;
        Some(Self {
            router: obliged_http::router(state.clone()),
            state,
            store,
            clock,
            master_key,
            agent,
            lead,
            auditor,
            integration,
        })
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Body>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let typed = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !typed {
            builder = builder.header("content-type", "application/json");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(body.unwrap_or_else(Body::empty))
            .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), &[], None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.request(
            Method::POST,
            path,
            Some(token),
            &[],
            Some(Body::from(body.to_string())),
        )
        .await
    }

    /// Files a complaint as the agent and returns its id.
    pub async fn file(&self) -> String {
        let reply = self
            .post("/api/complaints", &self.agent, &new_complaint())
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().expect("id").to_owned()
    }

    /// Runs a command as the agent.
    pub async fn command(&self, id: &str, command: Value) -> Reply {
        self.post(
            &format!("/api/complaints/{id}/commands"),
            &self.agent,
            &command,
        )
        .await
    }

    /// Runs a command as the agent and insists that it succeeds.
    pub async fn ok(&self, id: &str, command: Value) -> Value {
        let reply = self.command(id, command.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{command} -> {}", reply.body);
        reply.body
    }

    pub async fn history(&self, id: &str) -> Vec<Value> {
        let reply = self
            .get(&format!("/api/complaints/{id}/history"), &self.agent)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["events"].as_array().expect("events").clone()
    }
}

pub const CUSTOMER_NAME: &str = "Margaretha Vlieland";
pub const CUSTOMER_EMAIL: &str = "m.vlieland@example.org";
pub const CUSTOMER_PHONE: &str = "+31 20 555 0199";
pub const DESCRIPTION: &str = "Charged twice for the November invoice";

pub fn new_complaint() -> Value {
    json!({
        "customer": {
            "reference": "CUST-1042",
            "name": CUSTOMER_NAME,
            "email": CUSTOMER_EMAIL,
            "phone": CUSTOMER_PHONE,
        },
        "channel": "phone",
        "category": "billing",
        "description": DESCRIPTION,
    })
}

pub fn promise_id(number: u128) -> String {
    Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0000 + number).to_string()
}

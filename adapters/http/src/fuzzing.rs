//! The fuzz harness of the command path (feature `fuzzing`): a request body, whatever its
//! bytes, goes through the whole router and engine twice, once as a filing
//! (`POST /api/complaints`) and once as a command to a complaint in a known state
//! (`POST /api/complaints/{id}/commands`), and the properties that must hold for any input are
//! checked, panicking (which a fuzzer reports as a crash) when one does not:
//!
//! - the server answers, and never with a 5xx (a panic in the engine's task is a 500);
//! - a refusal is a 4xx `application/problem+json` whose `status` is the HTTP status, with a
//!   `type`, `title` and `detail`, and the store holds exactly the events it held before;
//! - an acceptance appended exactly the events it reports, and the complaint still reads back.
//!
//! Used by the cargo-fuzz target in `adapters/http/fuzz/` and by the corpus replay in the
//! workspace tests (`tests/fuzz_corpus.rs`), so both check the same things.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use obliged_domain::{Clock, ComplaintServices, Policy};
use obliged_projections::{Projector, ReadModels};
use obliged_storage::{Checkpoints, Database, Engine, MasterKey, Role, Tokens};
use obliged_webhooks::{WebhookSettings, Webhooks};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::AppState;

/// The member of staff every input is sent as: a team lead, so that `TakeOver` reaches the
/// engine too.
pub const ACTOR: &str = "fuzz-lead";
/// The owner of the prepared complaint.
pub const OWNER: &str = "alice";
/// The promise, follow-up and non-negotiable element the prepared complaint has, for seed
/// inputs to refer to. Everything in it is due on 2030-01-01; the clock must stand before.
pub const PROMISE_ID: &str = "0192f0c4-7d5e-7000-8000-000000000001";
pub const FOLLOW_UP_ID: &str = "0192f0c4-7d5e-7000-8000-0000000000f1";
pub const ELEMENT: &str = "statutory-fee";

/// The API's state over `database`, for the cargo-fuzz target, which stands outside the
/// workspace and so outside the binary that wires a running obliged (`obliged::app::App`).
/// The same parts; no workers run: the command path sequences its own events.
pub fn state(
    database: &Database,
    master_key: &MasterKey,
    policy: Policy,
    clock: Arc<dyn Clock>,
) -> AppState {
    let engine = Engine::new(
        database,
        master_key,
        ComplaintServices::new(clock.clone(), policy),
    );
    let reader = engine.reader();
    let tokens = Tokens::new(database.clone(), clock.clone());
    AppState {
        streams: obliged_storage::Streams::new(reader.clone(), tokens.clone(), Default::default()),
        webhooks: Webhooks::new(reader.clone(), clock.clone(), WebhookSettings::default())
            .expect("the default webhook settings are valid"),
        projector: Arc::new(Projector::new(engine.ledger().clone(), clock.clone())),
        read_models: ReadModels::new(database.clone()),
        checkpoints: Checkpoints::new(database.clone(), clock.clone()),
        tokens,
        reader,
        engine,
        database: database.clone(),
        shutdown: Arc::new(tokio::sync::watch::Sender::new(false)),
    }
}

/// What one input did at one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted, with the types of the events it appended.
    Accepted(Vec<String>),
    /// Refused, with the status and the problem `type`.
    Refused { status: u16, problem: String },
}

/// What one input did as a filing and as a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub filing: Outcome,
    pub command: Outcome,
}

/// The router on a store of its own, and the complaint commands are sent to.
pub struct CommandTarget {
    state: AppState,
    router: Router,
    token: String,
    /// A complaint as [`CommandTarget::prepare`] left it, or `None` once an input changed it:
    /// every input meets the same state, so that a finding replays.
    complaint: Option<String>,
}

impl CommandTarget {
    /// A target over `state`, whose store nothing else writes to (every event in it is
    /// counted) and whose clock stands before 2030.
    pub async fn new(state: AppState) -> Self {
        let token = state
            .tokens
            .create(ACTOR, Role::Lead)
            .await
            .expect("create the fuzzing token")
            .secret;
        Self {
            router: crate::router(state.clone()),
            state,
            token,
            complaint: None,
        }
    }

    /// Sends `body` as a filing and as a command, and checks every property.
    pub async fn check(&mut self, body: &[u8]) -> Verdict {
        let filing = self.send_and_judge("/api/complaints", None, body).await;
        let complaint = match self.complaint.clone() {
            Some(complaint) => complaint,
            None => {
                let complaint = self.prepare().await;
                self.complaint = Some(complaint.clone());
                complaint
            }
        };
        let command = self
            .send_and_judge(
                &format!("/api/complaints/{complaint}/commands"),
                Some(&complaint),
                body,
            )
            .await;
        if matches!(command, Outcome::Accepted(_)) {
            self.complaint = None;
        }
        Verdict { filing, command }
    }

    /// Files a complaint and brings it to the state every command input meets: owned by
    /// [`OWNER`], with an open promise, an open follow-up, an unmet obligation to respond and a
    /// non-negotiable element.
    pub async fn prepare(&self) -> String {
        let filed = self.expect_success("/api/complaints", &seed_filing()).await;
        let id = filed["id"]
            .as_str()
            .expect("a filing names its complaint")
            .to_owned();
        let path = format!("/api/complaints/{id}/commands");
        for command in [
            json!({"type": "MakePromise", "promise_id": PROMISE_ID, "kind": "callback",
                   "description": "Call back with the refund date", "due_at": "2030-01-01T10:00:00Z"}),
            json!({"type": "ScheduleFollowUp", "follow_up_id": FOLLOW_UP_ID,
                   "description": "Check the refund left", "due_at": "2030-01-01T10:00:00Z"}),
            json!({"type": "FlagNonNegotiable", "element": ELEMENT,
                   "explanation": "Set by law.", "referral": "The regulator."}),
            json!({"type": "LogContact", "direction": "inbound", "channel": "phone",
                   "summary": "Asks when the refund comes", "request": true}),
            json!({"type": "AssignOwner", "owner": OWNER}),
        ] {
            self.expect_success(&path, &command).await;
        }
        id
    }

    async fn expect_success(&self, path: &str, body: &Value) -> Value {
        let (status, _, reply) = self.send(path, body.to_string().as_bytes()).await;
        assert!(
            status.is_success(),
            "preparing the fuzz target: {body} -> {status} {reply}"
        );
        reply
    }

    async fn send(&self, path: &str, body: &[u8]) -> (StatusCode, Option<String>, Value) {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec()))
            .expect("a request");
        self.call(request).await
    }

    async fn get(&self, path: &str) -> StatusCode {
        let request = Request::builder()
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Body::empty())
            .expect("a request");
        self.call(request).await.0
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, Option<String>, Value) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a response body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{status} answered with a body that is not JSON: {:?}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, content_type, body)
    }

    async fn events(&self, complaint: Option<&str>) -> i64 {
        obliged_storage::testing::event_count(&self.state.database, complaint).await
    }

    async fn send_and_judge(&self, path: &str, complaint: Option<&str>, body: &[u8]) -> Outcome {
        let before = self.events(None).await;
        let before_complaint = match complaint {
            Some(id) => self.events(Some(id)).await,
            None => 0,
        };
        let (status, content_type, reply) = self.send(path, body).await;
        let after = self.events(None).await;
        let input = String::from_utf8_lossy(body);
        assert!(
            !status.is_server_error(),
            "POST {path} answered {status} to {input:?}: {reply}"
        );
        if status.is_client_error() {
            assert_eq!(
                content_type.as_deref(),
                Some("application/problem+json"),
                "POST {path} refused {input:?} without a problem: {reply}"
            );
            assert_eq!(reply["status"], status.as_u16(), "{reply}");
            for member in ["type", "title", "detail"] {
                assert!(
                    reply[member].as_str().is_some_and(|text| !text.is_empty()),
                    "POST {path} refused {input:?} with a problem without {member}: {reply}"
                );
            }
            assert_eq!(
                after, before,
                "POST {path} refused {input:?} ({reply}) but the store went from {before} to \
                 {after} events"
            );
            return Outcome::Refused {
                status: status.as_u16(),
                problem: reply["type"].as_str().unwrap_or_default().to_owned(),
            };
        }
        assert!(
            status.is_success(),
            "POST {path} answered {status} to {input:?}: {reply}"
        );
        assert_eq!(reply["replayed"], false, "{reply}");
        let events: Vec<String> = reply["events"]
            .as_array()
            .unwrap_or_else(|| panic!("an acceptance lists its events: {reply}"))
            .iter()
            .map(|event| event["type"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(
            !events.is_empty(),
            "{input:?} was accepted with no events: {reply}"
        );
        assert_eq!(
            after - before,
            events.len() as i64,
            "POST {path} accepted {input:?} reporting {events:?}, but the store went from \
             {before} to {after} events"
        );
        let id = reply["id"]
            .as_str()
            .expect("an acceptance names its complaint");
        if let Some(complaint) = complaint {
            assert_eq!(id, complaint, "{reply}");
            assert_eq!(
                self.events(Some(complaint)).await - before_complaint,
                events.len() as i64,
                "the events went to another complaint"
            );
        }
        for read in [
            format!("/api/complaints/{id}"),
            format!("/api/complaints/{id}/history"),
        ] {
            let status = self.get(&read).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "after accepting {input:?}, GET {read} answered {status}"
            );
        }
        Outcome::Accepted(events)
    }
}

/// A valid filing, also the seed of the corpus.
pub fn seed_filing() -> Value {
    json!({
        "customer": {"reference": "CUST-1042", "name": "Jane Doe",
                     "email": "jane@example.org", "phone": "+31 20 555 0199"},
        "channel": "phone",
        "category": "billing",
        "description": "Charged twice for November",
    })
}

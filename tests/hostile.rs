//! Hostile requests. Each must get a clean 4xx (a problem+json wherever the app answers), append
//! nothing, and leave the server able to answer the next normal request:
//!
//! - in-process: bodies over the limit, JSON nested 100,000 deep, invalid UTF-8 in bodies,
//!   headers and paths, bodies not sent as JSON, unknown fields, wrong methods, tokens of
//!   roles that may not do what they try, malformed authorization;
//! - SQL-looking text in every string field of every command: free text is sealed and reads
//!   back verbatim, clear text is stored verbatim, identifiers refuse it, reads treat it as a
//!   value, and the events table and the ledger's hash chain are intact afterwards;
//! - over TCP, against the real server (`obliged_http::serve_with` on a port-0 listener):
//!   header floods, huge bodies, and clients that stall halfway through a request head or a
//!   body, which the server's timeouts cut off.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use obliged_http::{ServerLimits, BODY_LIMIT};
use obliged_storage::{Database, Role, Verification};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::support::{event_count, for_each_store, hours, promise_id, Backend, Reply, TestApp};

for_each_store!(
    oversized_deep_and_broken_bodies_are_refused,
    bodies_must_be_sent_as_json,
    invalid_utf8_anywhere_is_refused,
    unknown_fields_and_wrong_methods_are_refused,
    other_roles_cannot_command_and_bad_tokens_are_unauthorized,
    sql_looking_text_is_stored_verbatim_and_never_interpreted,
    header_floods_are_refused_over_tcp,
    huge_bodies_are_refused_over_tcp,
    stalled_clients_are_cut_off,
    http_1_1_requests_need_exactly_one_host,
);

/// Every event in the store.
async fn total_events(app: &TestApp) -> i64 {
    obliged_storage::testing::event_count(&app.store.database, None).await
}

/// A complaint with an owner, and the number of events the store holds with it.
async fn owned_complaint(app: &TestApp) -> (String, i64) {
    let id = app.file().await;
    app.ok(&id, json!({"type":"AssignOwner","owner":"alice"}))
        .await;
    (id, total_events(app).await)
}

/// The server still works: a normal command on `id` is accepted.
async fn still_serving(app: &TestApp, id: &str) {
    app.ok(
        id,
        json!({"type":"LogContact","direction":"outbound","channel":"email","summary":"still here"}),
    )
    .await;
}

/// A request built by hand: any method, path, header bytes and body.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &[u8])],
    body: impl Into<Body>,
) -> Reply {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = app
        .router
        .clone()
        .oneshot(builder.body(body.into()).expect("request"))
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
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply {
        status,
        headers,
        body,
    }
}

fn bearer(token: &str) -> Vec<u8> {
    format!("Bearer {token}").into_bytes()
}

// ---------------------------------------------------------------------------------------------
// In-process
// ---------------------------------------------------------------------------------------------

async fn oversized_deep_and_broken_bodies_are_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    let commands = format!("/api/complaints/{id}/commands");
    let auth = bearer(&app.agent);
    let json_headers: &[(&str, &[u8])] = &[
        ("authorization", &auth),
        ("content-type", b"application/json"),
    ];

    let over_limit = format!(
        r#"{{"type":"LogContact","direction":"inbound","channel":"phone","summary":"{}"}}"#,
        "x".repeat(BODY_LIMIT)
    );
    let deep_array = "[".repeat(100_000);
    let deep_in_field = format!(
        r#"{{"type":"AssignOwner","owner":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_objects = r#"{"a":"#.repeat(100_000);
    // 1 MiB of fields: bounded work, one precise problem.
    let many_fields = {
        let mut body = String::from(r#"{"type":"Close""#);
        let mut index = 0;
        while body.len() < BODY_LIMIT - 32 {
            body.push_str(&format!(r#","f{index}":0"#));
            index += 1;
        }
        body.push('}');
        body
    };
    for path in [commands.as_str(), "/api/complaints"] {
        raw(&app, Method::POST, path, json_headers, over_limit.clone())
            .await
            .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
        // Streamed without a declared length: cut off once it passes the limit.
        let streamed = Body::from_stream(futures_util::stream::iter(
            (0..(BODY_LIMIT / 4096 + 2)).map(|_| Ok::<_, std::io::Error>(vec![b' '; 4096])),
        ));
        raw(&app, Method::POST, path, json_headers, streamed)
            .await
            .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
        for deep in [&deep_array, &deep_in_field, &deep_objects] {
            raw(&app, Method::POST, path, json_headers, deep.clone())
                .await
                .assert_problem(StatusCode::BAD_REQUEST, "malformed-json");
        }
        raw(&app, Method::POST, path, json_headers, many_fields.clone())
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
        for broken in [
            "",
            "null",
            "[]",
            "\"Close\"",
            "{",
            "{\"type\":\"Close\"} {}",
        ] {
            raw(&app, Method::POST, path, json_headers, broken)
                .await
                .assert_problem(StatusCode::BAD_REQUEST, "malformed-json");
        }
    }
    assert_eq!(total_events(&app).await, before, "nothing was appended");
    still_serving(&app, &id).await;
}

async fn bodies_must_be_sent_as_json(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    let commands = format!("/api/complaints/{id}/commands");
    let auth = bearer(&app.agent);
    let escalate = json!({"type":"Escalate","to":"manager","reason":"r"}).to_string();
    for content_type in [
        &b"text/plain"[..],
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=x",
        b"application/jsonx",
        b"application/xml",
        b"json",
        b"",
        b"application/json\xff",
    ] {
        let reply = raw(
            &app,
            Method::POST,
            &commands,
            &[("authorization", &auth), ("content-type", content_type)],
            escalate.clone(),
        )
        .await;
        reply.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
    }
    raw(
        &app,
        Method::POST,
        &commands,
        &[("authorization", &auth)],
        escalate.clone(),
    )
    .await
    .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
    raw(
        &app,
        Method::POST,
        "/api/complaints",
        &[("authorization", &auth), ("content-type", b"text/plain")],
        crate::support::new_complaint().to_string(),
    )
    .await
    .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
    let admin = app
        .state
        .tokens
        .create("root", Role::Admin)
        .await
        .expect("token")
        .secret;
    raw(
        &app,
        Method::POST,
        "/api/webhooks",
        &[
            ("authorization", &bearer(&admin)),
            ("content-type", b"text/plain"),
        ],
        r#"{"url":"https://hooks.example.org/hook"}"#,
    )
    .await
    .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
    assert_eq!(total_events(&app).await, before, "nothing was appended");

    // The media type is case-insensitive and may carry parameters.
    for content_type in [&b"application/json; charset=utf-8"[..], b"Application/JSON"] {
        let reply = raw(
            &app,
            Method::POST,
            &commands,
            &[("authorization", &auth), ("content-type", content_type)],
            json!({"type":"LogContact","direction":"outbound","channel":"email","summary":"s"})
                .to_string(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
}

async fn invalid_utf8_anywhere_is_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    let commands = format!("/api/complaints/{id}/commands");
    let auth = bearer(&app.agent);
    let json_headers: &[(&str, &[u8])] = &[
        ("authorization", &auth),
        ("content-type", b"application/json"),
    ];
    for body in [
        &b"\xff\xfe{}"[..],
        b"{\"type\":\"Reopen\",\"reason\":\"\xc3\x28\"}",
        b"{\"type\":\"Reopen\",\"reason\":\"\xed\xa0\x80\"}",
        b"{\"type\":\"Reopen\",\"reason\":\"\\ud800\"}",
        b"{\"type\":\"Cl\xffose\"}",
    ] {
        for path in [commands.as_str(), "/api/complaints"] {
            raw(&app, Method::POST, path, json_headers, body)
                .await
                .assert_problem(StatusCode::BAD_REQUEST, "malformed-json");
        }
    }
    for header in ["idempotency-key", "x-correlation-id"] {
        raw(
            &app,
            Method::POST,
            &commands,
            &[
                ("authorization", &auth),
                ("content-type", b"application/json"),
                (header, b"key-\xff"),
            ],
            r#"{"type":"Escalate","to":"lead","reason":"r"}"#,
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-header");
    }
    raw(
        &app,
        Method::GET,
        &format!("/api/complaints/{id}"),
        &[("authorization", b"Bearer obl_\xff\xfe")],
        Body::empty(),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    for path in [
        "/api/complaints/%FF/commands".to_owned(),
        "/api/complaints/%C3%28".to_owned(),
        "/api/queues/%ED%A0%80".to_owned(),
        "/api/webhooks/%FF".to_owned(),
    ] {
        let method = if path.ends_with("commands") {
            Method::POST
        } else {
            Method::GET
        };
        let allowed_caller = if path.starts_with("/api/webhooks") {
            bearer(&app.integration)
        } else {
            auth.clone()
        };
        raw(
            &app,
            method,
            &path,
            &[
                ("authorization", &allowed_caller),
                ("content-type", b"application/json"),
            ],
            r#"{"type":"Close"}"#,
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-path");
    }
    assert_eq!(total_events(&app).await, before, "nothing was appended");
    still_serving(&app, &id).await;
}

async fn unknown_fields_and_wrong_methods_are_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    for command in [
        json!({"type":"Close","force":true}),
        json!({"type":"AssignOwner","owner":"bob","previous":"alice"}),
        json!({"type":"MakePromise","promise_id":promise_id(1),"kind":"callback",
               "description":"d","due_at":hours(5),"promiser":"bob"}),
        json!({"type":"Escalate","to":"manager","reason":"r","by":null}),
        json!({"type":"KeepPromise","promise_id":promise_id(1),"evidence":"e","on_time":true}),
    ] {
        app.command(&id, command)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
    }
    let mut filing = crate::support::new_complaint();
    filing["priority"] = json!("high");
    app.post("/api/complaints", &app.agent, &filing)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
    let mut filing = crate::support::new_complaint();
    filing["customer"]["date_of_birth"] = json!("1970-01-01");
    app.post("/api/complaints", &app.agent, &filing)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "unknown-field");

    for (method, path) in [
        (Method::PUT, "/api/complaints".to_owned()),
        (Method::DELETE, format!("/api/complaints/{id}")),
        (Method::PATCH, format!("/api/complaints/{id}")),
        (Method::GET, format!("/api/complaints/{id}/commands")),
        (Method::POST, "/api/events".to_owned()),
    ] {
        app.request(method, &path, Some(&app.agent), &[], None)
            .await
            .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    }
    assert_eq!(total_events(&app).await, before, "nothing was appended");
    still_serving(&app, &id).await;
}

async fn other_roles_cannot_command_and_bad_tokens_are_unauthorized(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    let commands = format!("/api/complaints/{id}/commands");
    // One valid body of every command, from the fuzz corpus.
    let bodies: Vec<(String, Value)> = crate::fuzz_corpus::corpus()
        .into_iter()
        .filter_map(|(name, bytes)| {
            let command = name.strip_prefix("valid-")?.to_owned();
            Some((
                command,
                serde_json::from_slice(&bytes).expect("a valid seed is JSON"),
            ))
        })
        .collect();
    assert_eq!(
        bodies.len(),
        obliged_domain::ComplaintCommand::<obliged_domain::SealedText>::NAMES.len(),
        "a valid seed of every command"
    );
    for token in [&app.auditor, &app.integration] {
        for (command, body) in &bodies {
            let path = if command == "FileComplaint" {
                "/api/complaints"
            } else {
                commands.as_str()
            };
            let reply = app.post(path, token, body).await;
            reply.assert_problem(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    // An agent may command, but not take over.
    app.command(&id, json!({"type":"TakeOver","reason":"mine now"}))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // Reads, the feed and webhooks each have their roles.
    let webhook = json!({"url":"https://hooks.example.org/hook"});
    for (token, method, path, body) in [
        (
            &app.integration,
            Method::GET,
            format!("/api/complaints/{id}"),
            None,
        ),
        (
            &app.integration,
            Method::GET,
            format!("/api/complaints/{id}/history"),
            None,
        ),
        (
            &app.integration,
            Method::GET,
            "/api/complaints".to_owned(),
            None,
        ),
        (&app.agent, Method::GET, "/api/events".to_owned(), None),
        (
            &app.agent,
            Method::GET,
            "/api/events/stream".to_owned(),
            None,
        ),
        (
            &app.agent,
            Method::POST,
            "/api/webhooks".to_owned(),
            Some(&webhook),
        ),
        (&app.lead, Method::GET, "/api/webhooks".to_owned(), None),
        (
            &app.auditor,
            Method::POST,
            "/api/webhooks".to_owned(),
            Some(&webhook),
        ),
    ] {
        app.request(
            method,
            &path,
            Some(token),
            &[],
            body.map(|body| Body::from(body.to_string())),
        )
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    // Tokens that are not tokens.
    let escalate = json!({"type":"Escalate","to":"lead","reason":"r"}).to_string();
    for authorization in [
        format!("Basic {}", app.agent).into_bytes(),
        format!("bearer {}", app.agent).into_bytes(),
        format!("Bearer{}", app.agent).into_bytes(),
        format!("Bearer {} {}", app.agent, app.agent).into_bytes(),
        format!("Bearer {}x", app.agent).into_bytes(),
        b"Bearer ".to_vec(),
        b"Bearer ' OR 1=1 --".to_vec(),
        format!("Bearer {}", "a".repeat(64 * 1024)).into_bytes(),
    ] {
        raw(
            &app,
            Method::POST,
            &commands,
            &[
                ("authorization", &authorization),
                ("content-type", b"application/json"),
            ],
            escalate.clone(),
        )
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    app.state.tokens.revoke("alice").await.expect("revoke");
    app.command(&id, json!({"type":"Escalate","to":"lead","reason":"r"}))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(total_events(&app).await, before, "nothing was appended");
    let reply = app
        .post(
            &commands,
            &app.lead,
            &json!({"type":"Escalate","to":"lead","reason":"r"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// SQL-looking text
// ---------------------------------------------------------------------------------------------

/// Text that would do damage if it were ever spliced into SQL, or read as a format string.
const SQL_TEXTS: &[&str] = &[
    "'; DROP TABLE events; --",
    "\" OR 1=1 --",
    "' OR '1'='1",
    "1; DELETE FROM events WHERE 1=1; SELECT '",
    "Robert'); DROP TABLE sealing_keys;--",
    "$1 $$ ? :name \\x27 %s {0} \\\\ '' \"\" `whoami` /* */",
    "null\u{0}byte",
];

/// Runs every command, each with `text` in every free-text field (`public` in the clear-text
/// ones), and returns the complaint and how many fields carried each.
async fn tour(app: &TestApp, text: &str, public: &str) -> (String, usize, usize) {
    let mut filing = crate::support::new_complaint();
    filing["customer"]["name"] = json!(text);
    filing["customer"]["email"] = json!("robert');DROP/**/TABLE/**/events;--@example.org");
    filing["description"] = json!(text);
    let filed = app.post("/api/complaints", &app.agent, &filing).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let id = filed.body["id"].as_str().expect("id").to_owned();
    let mut sealed = 2;
    let commands = format!("/api/complaints/{id}/commands");
    let promise = promise_id;
    let follow_up = "0192f0c4-7d5e-7000-8000-0000000000f1";
    let steps: Vec<(&str, Value, usize)> = vec![
        (
            "alice",
            json!({"type":"LogContact","direction":"inbound","channel":"phone","summary":text,"request":true,"alias":"sam"}),
            1,
        ),
        ("alice", json!({"type":"AssignOwner","owner":"alice"}), 0),
        (
            "alice",
            json!({"type":"MakePromise","promise_id":promise(1),"kind":"callback","description":text,"due_at":hours(5)}),
            1,
        ),
        (
            "alice",
            json!({"type":"KeepPromise","promise_id":promise(1),"evidence":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"MakePromise","promise_id":promise(2),"kind":"refund","description":text,"due_at":hours(10)}),
            1,
        ),
        (
            "alice",
            json!({"type":"RenegotiatePromise","promise_id":promise(2),"due_at":hours(20),"reason":text,"customer_agreed":true}),
            1,
        ),
        (
            "alice",
            json!({"type":"WithdrawPromise","promise_id":promise(2),"reason":text,"customer_consented":true}),
            1,
        ),
        (
            "alice",
            json!({"type":"MakePromise","promise_id":promise(3),"kind":"visit","description":text,"due_at":hours(1)}),
            1,
        ),
        ("clock", json!(null), 0),
        (
            "alice",
            json!({"type":"MarkPromiseBroken","promise_id":promise(3)}),
            0,
        ),
        (
            "alice",
            json!({"type":"RecordReminder","promise_id":promise(3),"rung":1}),
            0,
        ),
        (
            "alice",
            json!({"type":"KeepPromise","promise_id":promise(3),"evidence":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"ScheduleFollowUp","follow_up_id":follow_up,"description":text,"due_at":hours(30)}),
            1,
        ),
        (
            "alice",
            json!({"type":"CompleteFollowUp","follow_up_id":follow_up,"outcome":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"Escalate","to":"manager","reason":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"RecordConductIncident","kind":"insult","response":"warning","description":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"FlagSensitive","reason":"bereavement","note":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"ClearSensitiveFlag","reason":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"FlagNonNegotiable","element":"statutory-fee","explanation":public,"referral":public}),
            0,
        ),
        (
            "alice",
            json!({"type":"HandBackToCustomer","reason":"customer-decision-required","note":text}),
            1,
        ),
        ("lena", json!({"type":"TakeOver","reason":text}), 1),
        (
            "lena",
            json!({"type":"OfferHandover","to":"alice","note":text}),
            1,
        ),
        ("alice", json!({"type":"DeclineHandover","reason":text}), 1),
        (
            "lena",
            json!({"type":"OfferHandover","to":"alice","note":text}),
            1,
        ),
        ("alice", json!({"type":"AcceptHandover"}), 0),
        (
            "alice",
            json!({"type":"LogContact","direction":"outbound","channel":"email","summary":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"ProposeResolution","summary":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"RecordCustomerResponse","accepted":false,"comment":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"ProposeResolution","summary":text}),
            1,
        ),
        (
            "alice",
            json!({"type":"RecordCustomerResponse","accepted":true,"comment":text}),
            1,
        ),
        ("alice", json!({"type":"Resolve","override_reason":text}), 1),
        ("alice", json!({"type":"Close"}), 0),
        ("alice", json!({"type":"Reopen","reason":text}), 1),
        ("alice", json!({"type":"Resolve","override_reason":text}), 1),
        ("alice", json!({"type":"Close"}), 0),
    ];
    app.clock.set(hours(0));
    for (who, command, fields) in steps {
        if who == "clock" {
            app.clock.set(hours(2));
            continue;
        }
        let token = if who == "lena" { &app.lead } else { &app.agent };
        let reply = app.post(&commands, token, &command).await;
        assert_eq!(reply.status, StatusCode::OK, "{command} -> {}", reply.body);
        sealed += fields;
    }
    (id, sealed, 2)
}

/// Every string in `value`, however deep.
fn strings(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => found.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, found)),
        Value::Object(fields) => fields.values().for_each(|field| strings(field, found)),
        _ => {}
    }
}

/// The stored payloads of one complaint, read straight from the events table.
async fn stored_payloads(database: &Database, id: &str) -> Vec<Value> {
    let rows: Vec<String> = match database {
        Database::Sqlite(pool) => {
            sqlx::query_scalar("SELECT payload FROM events WHERE aggregate_id = $1")
                .bind(id)
                .fetch_all(pool)
                .await
        }
        Database::Postgres(pool) => {
            sqlx::query_scalar("SELECT payload::text FROM events WHERE aggregate_id = $1")
                .bind(id)
                .fetch_all(pool)
                .await
        }
    }
    .expect("read the events table");
    rows.iter()
        .map(|row| serde_json::from_str(row).expect("a stored payload is JSON"))
        .collect()
}

async fn sql_looking_text_is_stored_verbatim_and_never_interpreted(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (bystander, _) = owned_complaint(&app).await;
    let bystander_events = event_count(&app.store, &bystander).await;
    let mut expected_total = total_events(&app).await;

    for text in SQL_TEXTS {
        // Clear text may not hold U+0000 (PostgreSQL cannot store it in JSON).
        let public = if text.contains('\0') {
            SQL_TEXTS[0]
        } else {
            text
        };
        let (id, sealed, clear) = tour(&app, text, public).await;
        expected_total += event_count(&app.store, &id).await;

        // Read back through the API: every free-text field exactly as sent.
        let mut read = Vec::new();
        for event in app.history(&id).await {
            strings(&event["payload"], &mut read);
        }
        let public_is_text = public == *text;
        let same = read.iter().filter(|found| found.as_str() == *text).count();
        let carried = if public_is_text {
            sealed + clear
        } else {
            sealed
        };
        assert_eq!(
            same, carried,
            "{text:?} did not read back verbatim in every field"
        );
        assert!(
            !read
                .iter()
                .any(|found| found.contains(text) && found.as_str() != *text),
            "{text:?} came back altered"
        );

        // At rest: sealed where it is free text, verbatim where it is clear text.
        let mut stored = Vec::new();
        for payload in stored_payloads(&app.store.database, &id).await {
            strings(&payload, &mut stored);
        }
        let count = |wanted: &str| {
            stored
                .iter()
                .filter(|found| found.as_str() == wanted)
                .count()
        };
        assert_eq!(count(public), clear, "{public:?} is not stored verbatim");
        assert_eq!(
            count(text),
            if public_is_text { clear } else { 0 },
            "{text:?} is stored in clear where it should be sealed"
        );
        assert!(
            !stored
                .iter()
                .any(|found| found.contains(text) && found.as_str() != *text),
            "{text:?} is stored altered or unsealed"
        );
    }

    assert_eq!(
        total_events(&app).await,
        expected_total,
        "every event went to the complaint it was for"
    );

    // Identifiers, enums, times and ids refuse it outright.
    let (id, before) = owned_complaint(&app).await;
    for text in SQL_TEXTS {
        for command in [
            json!({"type":"AssignOwner","owner":text}),
            json!({"type":"OfferHandover","to":text}),
            json!({"type":"OfferHandover","to":format!("team:{text}")}),
            json!({"type":"LogContact","direction":"inbound","channel":"phone","summary":"s","alias":text}),
            json!({"type":"LogContact","direction":text,"channel":"phone","summary":"s"}),
            json!({"type":"FlagNonNegotiable","element":text,"explanation":"e","referral":"r"}),
            json!({"type":"MakePromise","promise_id":promise_id(9),"kind":"callback","description":"d","due_at":hours(5),"concerns":text}),
            json!({"type":"MakePromise","promise_id":text,"kind":"callback","description":"d","due_at":hours(5)}),
            json!({"type":"MakePromise","promise_id":promise_id(9),"kind":"callback","description":"d","due_at":text}),
            json!({"type":"Escalate","to":text,"reason":"r"}),
        ] {
            app.command(&id, command)
                .await
                .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
        }
        for (field, value) in [
            ("/customer/reference", text),
            ("/customer/email", text),
            ("/customer/phone", text),
            ("/category", text),
            ("/channel", text),
        ] {
            let mut filing = crate::support::new_complaint();
            *filing.pointer_mut(field).expect("a field of the filing") = json!(value);
            app.post("/api/complaints", &app.agent, &filing)
                .await
                .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
        }
        app.command(&percent_encode(text), json!({"type":"Close"}))
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid-complaint-id");

        // Reads take it as a value to look for, not as SQL.
        let encoded = percent_encode(text);
        for path in [
            format!("/api/complaints?customer_reference={encoded}"),
            format!("/api/complaints?owner={encoded}"),
            format!("/api/complaints?category={encoded}"),
            format!("/api/queues/{encoded}"),
        ] {
            let reply = app.get(&path, &app.agent).await;
            match reply.status {
                StatusCode::OK => {
                    let items = reply.body["items"]
                        .as_array()
                        .or_else(|| reply.body["complaints"].as_array());
                    assert!(
                        items.is_some_and(Vec::is_empty),
                        "{path} found something: {}",
                        reply.body
                    );
                }
                _ => reply.assert_problem(StatusCode::BAD_REQUEST, reply.problem_type()),
            }
        }
    }
    assert_eq!(total_events(&app).await, before, "nothing was appended");

    // The tables are all there, hold what was appended, and the hash chain still verifies.
    assert_eq!(event_count(&app.store, &bystander).await, bystander_events);
    let all_events = total_events(&app).await;
    while app
        .state
        .engine
        .ledger()
        .sequence(10_000)
        .await
        .expect("sequence")
        > 0
    {}
    match app.state.engine.ledger().verify().await.expect("verify") {
        Verification::Verified { entries, .. } => assert_eq!(entries as i64, all_events),
        broken => panic!("the ledger no longer verifies: {broken:?}"),
    }
    assert_eq!(app.state.tokens.list().await.expect("tokens").len(), 4);
    still_serving(&app, &id).await;

    // Clear text refuses U+0000 on both stores alike, before it reaches either.
    app.command(
        &id,
        json!({"type":"FlagNonNegotiable","element":"nul","explanation":"a\u{0}b","referral":"r"}),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Over TCP, against the real server
// ---------------------------------------------------------------------------------------------

/// Shorter limits for the stalled-client test, so that it takes seconds rather than half a
/// minute; the request deadline still leaves a loaded machine time for a normal command.
const STALL_LIMITS: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_millis(500),
    request_timeout: Duration::from_secs(5),
};

/// How long a test waits for the server to answer or hang up before calling it a hang.
const HANG: Duration = Duration::from_secs(20);

/// `obliged_http::serve_with` on a port-0 listener, stopped when dropped. The server runs in
/// the test's own runtime, as a task beside the test.
struct Server {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    async fn start(app: &TestApp, limits: ServerLimits) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(obliged_http::serve_with(
            listener,
            app.state.clone(),
            limits,
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            address,
            stop: Some(stop),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A normal command over a fresh connection succeeds.
    async fn still_serving(&self, app: &TestApp, id: &str) {
        let reply = reqwest::Client::new()
            .post(self.url(&format!("/api/complaints/{id}/commands")))
            .bearer_auth(&app.agent)
            .json(&json!({"type":"LogContact","direction":"outbound","channel":"email","summary":"still here"}))
            .send()
            .await
            .expect("the server still answers");
        assert_eq!(reply.status(), reqwest::StatusCode::OK);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What came back on a connection before the server closed it.
#[derive(Debug)]
struct Exchange {
    /// The status of the first response, if one came.
    status: Option<u16>,
    text: String,
}

impl Exchange {
    fn body(&self) -> Value {
        let body = self
            .text
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body);
        serde_json::from_str(body).unwrap_or(Value::Null)
    }

    fn has_header(&self, header: &str) -> bool {
        let head = self
            .text
            .split_once("\r\n\r\n")
            .map_or("", |(head, _)| head);
        head.lines().any(|line| line.eq_ignore_ascii_case(header))
    }

    #[track_caller]
    fn assert_problem(&self, status: u16, slug: &str) {
        assert_eq!(self.status, Some(status), "{}", self.text);
        assert!(
            self.has_header("content-type: application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body()["type"], slug, "{}", self.text);
    }
}

/// Reads whatever the server sends until it closes the connection; a reset counts as closed.
async fn read_until_closed(stream: &mut TcpStream) -> Exchange {
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    let outcome = tokio::time::timeout(HANG, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&received).into_owned();
    assert!(
        outcome.is_ok(),
        "the server neither answered nor hung up: {text:?}"
    );
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Exchange { status, text }
}

/// Sends `head` and then `body` while reading until the server closes the connection. A write
/// error is ignored: the server may answer and hang up once it has seen enough.
async fn exchange(server: &Server, head: &[u8], body: &[u8]) -> Exchange {
    let stream = TcpStream::connect(server.address).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let request = [head, body].concat();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    let outcome = tokio::time::timeout(HANG, async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await;
    writing.abort();
    let text = String::from_utf8_lossy(&received).into_owned();
    assert!(
        outcome.is_ok(),
        "the server neither answered nor hung up: {text:?}"
    );
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Exchange { status, text }
}

fn command_head(server: &Server, app: &TestApp, id: &str, extra: &str) -> String {
    format!(
        "POST /api/complaints/{id}/commands HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nConnection: close\r\n{extra}\r\n",
        server.address, app.agent
    )
}

async fn header_floods_are_refused_over_tcp(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    let server = Server::start(&app, ServerLimits::default()).await;
    let body = r#"{"type":"Escalate","to":"lead","reason":"flood"}"#;
    let length = format!("Content-Length: {}\r\n", body.len());

    // Many headers.
    let many: String = (0..1_000)
        .map(|index| format!("X-Flood-{index}: x\r\n"))
        .collect();
    let reply = exchange(
        &server,
        command_head(&server, &app, &id, &format!("{length}{many}")).as_bytes(),
        body.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, Some(431), "{}", reply.text);
    server.still_serving(&app, &id).await;

    // One header of 2 MiB, and a head of 200,000 headers: larger than hyper reads.
    for extra in [
        format!("{length}X-Huge: {}\r\n", "h".repeat(2 * 1024 * 1024)),
        format!("{length}{}", "X-Endless: y\r\n".repeat(200_000)),
    ] {
        let reply = exchange(
            &server,
            command_head(&server, &app, &id, &extra).as_bytes(),
            body.as_bytes(),
        )
        .await;
        assert!(
            reply.status.is_none() || reply.status == Some(431),
            "{}",
            &reply.text[..reply.text.len().min(500)]
        );
        server.still_serving(&app, &id).await;
    }
    assert_eq!(
        total_events(&app).await,
        before + 3,
        "only the three normal commands were appended"
    );
}

async fn huge_bodies_are_refused_over_tcp(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    let server = Server::start(&app, ServerLimits::default()).await;
    let huge = format!(
        r#"{{"type":"Escalate","to":"lead","reason":"{}"}}"#,
        "x".repeat(BODY_LIMIT)
    );

    let declared = exchange(
        &server,
        command_head(
            &server,
            &app,
            &id,
            &format!("Content-Length: {}\r\n", huge.len()),
        )
        .as_bytes(),
        huge.as_bytes(),
    )
    .await;
    declared.assert_problem(413, "payload-too-large");
    server.still_serving(&app, &id).await;

    let mut chunked = Vec::new();
    for chunk in huge.as_bytes().chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let streamed = exchange(
        &server,
        command_head(&server, &app, &id, "Transfer-Encoding: chunked\r\n").as_bytes(),
        &chunked,
    )
    .await;
    streamed.assert_problem(413, "payload-too-large");
    server.still_serving(&app, &id).await;

    // A length far beyond the limit, and the body never sent: refused at once from the header.
    let unsent = exchange(
        &server,
        command_head(&server, &app, &id, "Content-Length: 1099511627776\r\n").as_bytes(),
        b"",
    )
    .await;
    unsent.assert_problem(413, "payload-too-large");
    server.still_serving(&app, &id).await;

    assert_eq!(
        total_events(&app).await,
        before + 3,
        "only the three normal commands were appended"
    );
}

async fn stalled_clients_are_cut_off(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    let server = Server::start(&app, STALL_LIMITS).await;

    // Connects and says nothing; sends half a request head and stalls: closed without an
    // answer once the header-read timeout passes.
    let head = command_head(&server, &app, &id, "Content-Length: 2\r\n");
    for sent in [&b""[..], &head.as_bytes()[..head.len() / 2]] {
        let mut stream = TcpStream::connect(server.address).await.expect("connect");
        stream.write_all(sent).await.expect("send");
        let reply = read_until_closed(&mut stream).await;
        assert_eq!(reply.status, None, "{}", reply.text);
    }

    // Sends the whole head and half the body, and stalls: 408 once the request deadline
    // passes, and the connection is closed.
    let body = r#"{"type":"Escalate","to":"lead","reason":"stalled"}"#;
    let mut stream = TcpStream::connect(server.address).await.expect("connect");
    stream
        .write_all(
            command_head(
                &server,
                &app,
                &id,
                &format!("Content-Length: {}\r\n", body.len()),
            )
            .as_bytes(),
        )
        .await
        .expect("send the head");
    stream
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .expect("send half the body");
    read_until_closed(&mut stream)
        .await
        .assert_problem(408, "request-timeout");

    assert_eq!(total_events(&app).await, before, "nothing was appended");
    server.still_serving(&app, &id).await;
}

/// RFC 9112 (3.2): a server must answer 400 to an HTTP/1.1 request with no Host header or more
/// than one. Such a request appends nothing; HTTP/1.0 (which has no Host) is still served.
async fn http_1_1_requests_need_exactly_one_host(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (id, before) = owned_complaint(&app).await;
    let server = Server::start(&app, ServerLimits::default()).await;
    let body = r#"{"type":"Escalate","to":"lead","reason":"host"}"#;
    let rest = format!(
        "Authorization: Bearer {}\r\nContent-Type: application/json\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n",
        app.agent,
        body.len()
    );
    let line = format!("POST /api/complaints/{id}/commands HTTP/1.1\r\n");
    for hosts in [
        String::new(),
        format!("Host: {}\r\nHost: evil.example\r\n", server.address),
    ] {
        let reply = exchange(
            &server,
            format!("{line}{hosts}{rest}").as_bytes(),
            body.as_bytes(),
        )
        .await;
        reply.assert_problem(400, "invalid-host");
    }
    assert_eq!(total_events(&app).await, before, "nothing was appended");
    let reply = exchange(&server, b"GET /healthz HTTP/1.0\r\n\r\n", b"").await;
    assert!(
        reply.text.starts_with("HTTP/1.0 200") || reply.text.starts_with("HTTP/1.1 200"),
        "{}",
        reply.text
    );
    server.still_serving(&app, &id).await;
}

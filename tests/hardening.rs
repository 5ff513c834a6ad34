//! The standing hostile suite, part two: what a hostile tester found against a running server,
//! kept found. Each scenario is a class of attack, run on both stores through the HTTP API:
//! webhook targets inside obliged's own network (SSRF) and credentials in webhook URLs, live
//! streams that outlive their token's revocation (on two instances), stream exhaustion,
//! database error text reaching callers, answers without security headers, idempotency keys
//! that leak to integrations or collide between actors, and webhook subscriptions without an
//! owner (on two instances). (Part one, `hostile.rs`, holds hostile input: bodies,
//! headers, roles, SQL-looking text, slow clients.)

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use futures_util::StreamExt;
use obliged::app::App;
use obliged_storage::StreamLimits;
use obliged_storage::{Database, Role};
use serde_json::{json, Value};

use crate::support::{for_each_store, Backend, TestApp};

for_each_store!(
    webhook_targets_inside_the_network_are_refused,
    a_revoked_token_ends_its_open_streams_on_every_instance,
    streams_are_capped_per_token_and_in_total,
    database_errors_reach_callers_as_a_generic_sentence,
    every_answer_carries_the_security_headers,
    command_ids_are_unique_per_command_and_hide_the_idempotency_key,
    a_key_given_twice_in_a_command_is_refused,
    cursors_beyond_the_largest_position_are_refused,
    webhook_subscriptions_belong_to_the_token_that_made_them,
);

/// The secret of a new token for `name` with `role`.
async fn token(app: &TestApp, name: &str, role: Role) -> String {
    app.state
        .tokens
        .create(name, role)
        .await
        .expect("token")
        .secret
}

/// A second instance of obliged on the same database, with its own pool, ledger reader and
/// streams: what another `obliged serve` process holds.
async fn second_instance(app: &TestApp, limits: StreamLimits) -> Router {
    let database = Database::connect(&app.store.url)
        .await
        .expect("connect again");
    let mut other = App::new(
        &database,
        &app.master_key,
        Default::default(),
        Arc::new(app.clock.clone()),
    );
    other.stream_limits = limits;
    obliged_http::router(other.http_state())
}

/// Opens `GET /api/events/stream` on `router` as `token`; the response's status and, when it
/// is a stream, its body.
async fn open_stream(
    router: &Router,
    token: &str,
) -> (StatusCode, axum::http::HeaderMap, BodyDataStream) {
    let request = Request::builder()
        .method(Method::GET)
        .uri("/api/events/stream")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let response = tower::ServiceExt::oneshot(router.clone(), request)
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.into_body().into_data_stream())
}

/// Everything a stream sends until it ends. A stream that is still open after `patience` fails
/// the test: it should have ended.
async fn until_it_ends(mut body: BodyDataStream, patience: Duration) -> String {
    let mut text = String::new();
    loop {
        match tokio::time::timeout(patience, body.next()).await {
            Ok(Some(chunk)) => text.push_str(&String::from_utf8_lossy(&chunk.expect("a chunk"))),
            Ok(None) => return text,
            Err(_) => panic!("the stream is still open after {patience:?}; it sent: {text}"),
        }
    }
}

/// Reads a stream until its text contains `needle`.
async fn until_it_says(body: &mut BodyDataStream, needle: &str) -> String {
    let mut text = String::new();
    while !text.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} within 10 s; the stream sent: {text}"))
            .expect("the stream stays open")
            .expect("a chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

/// The leak the tester found: an auditor's stream (personal data opened) and an integration's
/// stream, opened before `obliged token revoke`, kept delivering complaints filed afterwards.
/// Now every stream of a revoked token ends, on the instance that revoked it and on another
/// one, and nothing filed after the revocation reaches it.
async fn a_revoked_token_ends_its_open_streams_on_every_instance(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let other = second_instance(&app, StreamLimits::default()).await;
    let first = app.file().await;
    let mut streams = Vec::new();
    for router in [&app.router, &other] {
        for token in [&app.auditor, &app.integration] {
            let (status, _, mut body) = open_stream(router, token).await;
            assert_eq!(status, StatusCode::OK);
            // Following the live stream: the complaint filed before arrives.
            until_it_says(&mut body, &first).await;
            streams.push(body);
        }
    }
    // A stream of a token that stays active is unaffected.
    let admin = token(&app, "root", Role::Admin).await;
    let (_, _, mut admin_stream) = open_stream(&app.router, &admin).await;
    until_it_says(&mut admin_stream, &first).await;

    for name in ["audrey", "crm"] {
        app.state.tokens.revoke(name).await.expect("revoke");
    }
    let filed_after = app.file().await;
    for body in streams {
        let sent = until_it_ends(body, Duration::from_secs(5)).await;
        assert!(
            !sent.contains(&filed_after),
            "a revoked stream delivered what was filed after the revocation: {sent}"
        );
    }
    until_it_says(&mut admin_stream, &filed_after).await;
    let (status, _, _) = open_stream(&other, &app.auditor).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "and it cannot open a new one"
    );
}

/// A burst of streams stalled every request. Streams are capped per token (429) and per
/// process (503), each refusal with Retry-After; a closed stream frees its place.
async fn streams_are_capped_per_token_and_in_total(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let router = second_instance(
        &app,
        StreamLimits {
            per_token: 2,
            total: 3,
        },
    )
    .await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let (status, _, body) = open_stream(&router, &app.integration).await;
        assert_eq!(status, StatusCode::OK);
        open.push(body);
    }
    let (status, headers, body) = open_stream(&router, &app.integration).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    let problem = until_it_ends(body, Duration::from_secs(5)).await;
    assert!(problem.contains("too-many-streams"), "{problem}");

    let (status, _, body) = open_stream(&router, &app.auditor).await;
    assert_eq!(status, StatusCode::OK);
    open.push(body);
    let admin = token(&app, "root", Role::Admin).await;
    let (status, headers, body) = open_stream(&router, &admin).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.contains_key("retry-after"));
    let problem = until_it_ends(body, Duration::from_secs(5)).await;
    assert!(problem.contains("streams-full"), "{problem}");

    // Ordinary requests are not affected by the streams.
    let reply = app.get("/api/counters", &app.agent).await;
    assert_eq!(reply.status, StatusCode::OK);

    drop(open.pop());
    let (status, _, _) = open_stream(&router, &admin).await;
    assert_eq!(status, StatusCode::OK, "a closed stream frees its place");
}

/// With the database gone, the health check (no token) and any authenticated request answered
/// with the driver's text, which names databases, hosts and users. Now they answer 503 with a
/// generic sentence and Retry-After; the cause goes to the log.
async fn database_errors_reach_callers_as_a_generic_sentence(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    app.state.database.close().await;
    for (path, token) in [
        ("/healthz", None),
        ("/api/counters", Some(app.agent.as_str())),
        ("/api/complaints", Some(app.agent.as_str())),
    ] {
        let reply = app.request(Method::GET, path, token, &[], None).await;
        reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
        assert_eq!(
            reply.body["detail"], "the database cannot be reached; retry shortly",
            "GET {path}"
        );
        assert!(reply.headers.contains_key("retry-after"), "GET {path}");
    }
}

/// Every form of an internal address the tester tried, and credentials in the URL: refused
/// with a problem that says why, and nothing is stored.
async fn webhook_targets_inside_the_network_are_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = token(&app, "root", Role::Admin).await;
    for target in [
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/hook",
        "http://0x7f.1/hook",
        "http://127.1/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://127.0.0.1:5432/",
        "http://10.0.0.1/hook",
        "http://192.168.0.1/hook",
        "http://[fd12::1]/hook",
    ] {
        for token in [&admin, &app.integration] {
            let reply = app
                .post("/api/webhooks", token, &json!({ "url": target }))
                .await;
            reply.assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
            let detail = reply.body["detail"].as_str().unwrap_or_default();
            assert!(detail.contains("egress policy"), "{target}: {detail}");
        }
    }
    for target in [
        "http://user:pass@hooks.example.org/hook",
        "https://token@hooks.example.org/hook",
    ] {
        let reply = app
            .post("/api/webhooks", &admin, &json!({ "url": target }))
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("user names and passwords"), "{detail}");
    }
    let listed = app.get("/api/webhooks", &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body["subscriptions"].as_array().map(Vec::len),
        Some(0),
        "nothing was stored: {}",
        listed.body
    );
}

/// Answers carry personal data and documents a browser may render (the SVG report, CSV):
/// every one says nosniff and no-store, and carries a Content-Security-Policy that lets nothing
/// run, load or frame.
async fn every_answer_carries_the_security_headers(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    let report = "/api/reports/accountability?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z";
    for (path, token) in [
        ("/healthz".to_owned(), None),
        (format!("/api/complaints/{id}"), Some(app.agent.as_str())),
        (
            format!("/api/complaints/{id}/history"),
            Some(app.auditor.as_str()),
        ),
        (
            "/api/events?after=0".to_owned(),
            Some(app.integration.as_str()),
        ),
        (format!("{report}&format=svg"), Some(app.auditor.as_str())),
        (format!("{report}&format=csv"), Some(app.auditor.as_str())),
        (
            "/api/complaints/not-an-id".to_owned(),
            Some(app.agent.as_str()),
        ),
        ("/api/counters".to_owned(), None),
        ("/nowhere".to_owned(), None),
    ] {
        let reply = app.request(Method::GET, &path, token, &[], None).await;
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "GET {path}");
        assert_eq!(header("cache-control"), "no-store", "GET {path}");
        let policy = header("content-security-policy");
        assert!(
            policy.contains("default-src 'none'") && policy.contains("sandbox"),
            "GET {path}: {policy:?}"
        );
    }
}

/// Two actors using one Idempotency-Key on one complaint made two commands with the same
/// `command_id`, which a consumer deduplicating on it would merge, and the key itself reached
/// integrations. Now each command's id is derived from its actor and key, the key appears
/// nowhere in the feed, and a replay answers with the first answer's position.
async fn command_ids_are_unique_per_command_and_hide_the_idempotency_key(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    let key = "client-key-7f3a9c";
    let contact = json!({"type":"LogContact","direction":"inbound","channel":"phone",
                         "summary":"Calls again","request":false});
    let path = format!("/api/complaints/{id}/commands");
    let mut answers = Vec::new();
    for token in [&app.agent, &app.lead, &app.agent] {
        let reply = app
            .request(
                Method::POST,
                &path,
                Some(token.as_str()),
                &[("idempotency-key", key)],
                Some(Body::from(contact.to_string())),
            )
            .await;
        assert!(reply.status.is_success(), "{}", reply.body);
        answers.push(reply.body);
    }
    let (alice, lena, alice_again) = (&answers[0], &answers[1], &answers[2]);
    assert_eq!(alice["replayed"], false);
    assert_eq!(
        lena["replayed"], false,
        "another actor's command is its own"
    );
    assert_ne!(alice["command_id"], lena["command_id"]);
    assert_ne!(alice["command_id"], json!(key));
    assert_eq!(alice_again["replayed"], true);
    assert_eq!(alice_again["command_id"], alice["command_id"]);
    assert!(alice["position"].is_u64());
    assert_eq!(
        alice_again["position"], alice["position"],
        "a replay names the position of what the first attempt appended"
    );

    let feed = app.get("/api/events?after=0", &app.integration).await;
    assert_eq!(feed.status, StatusCode::OK);
    let text = feed.body.to_string();
    assert!(!text.contains(key), "the key reached the feed: {text}");
    let ids: Vec<&Value> = feed.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|entry| entry["type"] == "ContactLogged")
        .map(|entry| &entry["metadata"]["command_id"])
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1], "two commands, two ids");
}

/// `{"type":"Close","type":"LogContact"}` ran LogContact: one body, two meanings, depending on
/// which parser reads it. A command or filing that names a key twice in one object is refused
/// and appends nothing.
async fn a_key_given_twice_in_a_command_is_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    let before = obliged_storage::testing::event_count(&app.store.database, None).await;
    let path = format!("/api/complaints/{id}/commands");
    for (path, body) in [
        (
            path.as_str(),
            r#"{"type":"Close","type":"LogContact","direction":"inbound","channel":"phone","summary":"x","request":false}"#,
        ),
        (
            path.as_str(),
            r#"{"type":"LogContact","direction":"inbound","channel":"phone","summary":"x","summary":"y","request":false}"#,
        ),
        (
            "/api/complaints",
            r#"{"customer":{"reference":"C-1","name":"A","name":"B"},"channel":"phone","category":"billing","description":"d"}"#,
        ),
    ] {
        let reply = app
            .request(
                Method::POST,
                path,
                Some(app.agent.as_str()),
                &[],
                Some(Body::from(body)),
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "duplicate-key");
    }
    let after = obliged_storage::testing::event_count(&app.store.database, None).await;
    assert_eq!(after, before, "nothing was appended");
}

/// `after=18446744073709551615` wrapped around to position -1 and returned positions 1 and 2;
/// `Last-Event-ID: 18446744073709551615` replayed from the start. A position above 2^63 − 1 is
/// refused with 400; the largest position itself is simply past the end.
async fn cursors_beyond_the_largest_position_are_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    app.file().await;
    app.file().await;
    for huge in [
        "18446744073709551615",
        "9223372036854775808",
        "99999999999999999999999",
    ] {
        app.get(&format!("/api/events?after={huge}"), &app.integration)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid-query");
        app.get(&format!("/api/complaints?min_position={huge}"), &app.agent)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid-query");
        let reply = app
            .request(
                Method::GET,
                "/api/events/stream",
                Some(app.integration.as_str()),
                &[("last-event-id", huge)],
                None,
            )
            .await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "invalid-query");
    }
    let end = app
        .get("/api/events?after=9223372036854775807", &app.integration)
        .await;
    assert_eq!(end.status, StatusCode::OK);
    assert_eq!(end.body["events"], json!([]), "{}", end.body);
}

/// An integration token could delete the admin's subscription, subscriptions kept delivering
/// after their token was revoked, and one token could make any number of them. Now each records
/// the token that made it: another integration neither sees nor changes it (404), admins see
/// all, a token holds at most 10 active ones (409), and a revoked token's subscriptions stop on
/// every instance, which the listing says.
async fn webhook_subscriptions_belong_to_the_token_that_made_them(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let tokens = &app.state.tokens;
    let admin = token(&app, "root", Role::Admin).await;
    let erp = token(&app, "erp", Role::Integration).await;
    let subscribe = |token: String, name: &'static str| {
        let app = &app;
        async move {
            let reply = app
                .post(
                    "/api/webhooks",
                    &token,
                    &json!({"url": format!("https://{name}.example.invalid/hook"), "start": "beginning"}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            reply.body["subscription"].clone()
        }
    };
    let crm_own = subscribe(app.integration.clone(), "crm").await;
    assert_eq!(crm_own["owner"]["name"], "crm");
    let admins = subscribe(admin.clone(), "admin").await;
    let crm_id = crm_own["id"].as_str().expect("id").to_owned();
    let admin_id = admins["id"].as_str().expect("id").to_owned();

    // Another integration sees none of them and can change none.
    let listed = app.get("/api/webhooks", &erp).await;
    assert_eq!(listed.body["subscriptions"], json!([]), "{}", listed.body);
    for id in [&crm_id, &admin_id] {
        app.get(&format!("/api/webhooks/{id}"), &erp)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "webhook-not-found");
        app.get(&format!("/api/webhooks/{id}/dead-letters"), &erp)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "webhook-not-found");
        app.post(
            &format!("/api/webhooks/{id}/redeliver"),
            &erp,
            &json!({"from": 1}),
        )
        .await
        .assert_problem(StatusCode::NOT_FOUND, "webhook-not-found");
        app.request(
            Method::DELETE,
            &format!("/api/webhooks/{id}"),
            Some(erp.as_str()),
            &[],
            None,
        )
        .await
        .assert_problem(StatusCode::NOT_FOUND, "webhook-not-found");
    }
    // The integration that made one cannot delete the admin's; it sees only its own.
    app.request(
        Method::DELETE,
        &format!("/api/webhooks/{admin_id}"),
        Some(app.integration.as_str()),
        &[],
        None,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "webhook-not-found");
    let own = app.get("/api/webhooks", &app.integration).await;
    let ids: Vec<&str> = own.body["subscriptions"]
        .as_array()
        .expect("subscriptions")
        .iter()
        .filter_map(|status| status["id"].as_str())
        .collect();
    assert_eq!(ids, [crm_id.as_str()]);
    let all = app.get("/api/webhooks", &admin).await;
    assert_eq!(all.body["subscriptions"].as_array().map(Vec::len), Some(2));

    // At most 10 active subscriptions per token.
    for index in 0..10 {
        let reply = app
            .post(
                "/api/webhooks",
                &erp,
                &json!({"url": format!("https://erp{index}.example.invalid/")}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{index}: {}", reply.body);
    }
    app.post(
        "/api/webhooks",
        &erp,
        &json!({"url": "https://erp10.example.invalid/"}),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "subscription-limit");

    // Revoked here, stopped on another instance too.
    let database = Database::connect(&app.store.url)
        .await
        .expect("connect again");
    let other = App::new(
        &database,
        &app.master_key,
        Default::default(),
        Arc::new(app.clock.clone()),
    );
    app.file().await;
    let attempted = |report: &obliged_webhooks::TickReport, id: &str| {
        report
            .attempts
            .iter()
            .any(|attempt| attempt.subscription.to_string() == id)
    };
    let before = other.webhooks.tick().await.expect("tick");
    assert!(
        attempted(&before, &crm_id),
        "an active subscription is delivered: {before:?}"
    );
    tokens.revoke("crm").await.expect("revoke");
    // Past any retry backoff, so the subscription would be due again.
    app.clock.advance(jiff::SignedDuration::from_hours(2));
    let after = other.webhooks.tick().await.expect("tick");
    assert!(
        !attempted(&after, &crm_id),
        "a revoked token's subscription delivered: {after:?}"
    );
    assert!(attempted(&after, &admin_id), "others go on: {after:?}");
    let listed = app.get(&format!("/api/webhooks/{crm_id}"), &admin).await;
    let stopped = listed.body["stopped"].as_str().unwrap_or_default();
    assert!(stopped.contains("revoked"), "{}", listed.body);
}

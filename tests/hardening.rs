//! The standing hostile suite, part two: what a hostile tester found against a running server,
//! kept found. Each scenario is a class of attack: webhook targets inside obliged's own network
//! (SSRF) and credentials in webhook URLs, run on both stores through the HTTP API. (Part one,
//! `hostile.rs`, holds hostile input: bodies, headers, roles, SQL-looking text, slow clients.)

use axum::http::StatusCode;
use obliged_storage::Role;
use serde_json::json;

use crate::support::{for_each_store, Backend, TestApp};

for_each_store!(webhook_targets_inside_the_network_are_refused,);

/// Every form of an internal address the tester tried, and credentials in the URL: refused
/// with a problem that says why, and nothing is stored.
async fn webhook_targets_inside_the_network_are_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app
        .state
        .tokens
        .create("root", Role::Admin)
        .await
        .expect("token")
        .secret;
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

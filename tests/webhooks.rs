//! Webhook subscriptions managed over HTTP. Delivery itself (signatures, retries, dead letters,
//! ordering) is tested in `adapters/webhooks`.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{for_each_store, Backend, TestApp};

for_each_store!(subscriptions_are_managed_over_http);

async fn subscriptions_are_managed_over_http(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    app.file().await;
    let created = app
        .post(
            "/api/webhooks",
            &app.integration,
            &json!({"url":"https://hooks.example.org/hook","event_types":["ContactLogged"],
                    "max_attempts":3,"start":"beginning"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.body["secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    let id = created.body["subscription"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let listed = app.get("/api/webhooks", &app.integration).await;
    let subscriptions = listed.body["subscriptions"].as_array().unwrap();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0]["lag"], 1, "{}", listed.body);
    assert!(!listed
        .body
        .to_string()
        .contains(created.body["secret"].as_str().unwrap()));

    app.post(
        "/api/webhooks",
        &app.integration,
        &json!({"url":"ftp://example.org"}),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
    // The URL parser would forgive these; the contract's pattern does not, nor does the server.
    for url in [
        " http://127.0.0.1:9/",
        "http:127.0.0.1:9",
        "http:/127.0.0.1:9",
        "http://127.0.0.1:9/a b",
        "http://127.0.0.1:9/\u{e9}",
        "http://",
    ] {
        app.post("/api/webhooks", &app.integration, &json!({ "url": url }))
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
    }
    app.post(
        "/api/webhooks",
        &app.agent,
        &json!({"url":"https://hooks.example.org/"}),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        &format!("/api/webhooks/{id}/redeliver"),
        &app.integration,
        &json!({"from": 999}),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
    let redelivered = app
        .post(
            &format!("/api/webhooks/{id}/redeliver"),
            &app.integration,
            &json!({"from": 1}),
        )
        .await;
    assert_eq!(redelivered.status, StatusCode::OK, "{}", redelivered.body);
    let letters = app
        .get(
            &format!("/api/webhooks/{id}/dead-letters"),
            &app.integration,
        )
        .await;
    assert_eq!(letters.body["dead_letters"], json!([]));
    let removed = app
        .request(
            Method::DELETE,
            &format!("/api/webhooks/{id}"),
            Some(&app.integration),
            &[],
            None,
        )
        .await;
    assert_eq!(removed.body["removed"], true);
    app.get("/api/webhooks/not-a-uuid", &app.integration)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-webhook-id");
}

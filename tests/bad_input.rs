//! Bad input: every malformed or refused request gets its own problem+json, and the complaint's
//! history is unchanged afterwards.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::support::{for_each_store, hours, promise_id, Backend, TestApp};

for_each_store!(
    each_bad_command_gets_its_problem_and_appends_nothing,
    bad_filings_are_refused_and_create_nothing,
);

async fn each_bad_command_gets_its_problem_and_appends_nothing(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    app.ok(&id, json!({"type":"AssignOwner","owner":"alice"}))
        .await;
    let path = format!("/api/complaints/{id}/commands");
    let before = crate::support::event_count(&app.store, &id).await;
    assert_eq!(before, 2);

    let raw = |body: Vec<u8>| {
        let app = &app;
        let path = path.clone();
        async move {
            app.request(
                Method::POST,
                &path,
                Some(&app.agent),
                &[],
                Some(Body::from(body)),
            )
            .await
        }
    };

    raw(b"{\"type\": \"AssignOwner\", ".to_vec())
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed-json");
    raw(vec![0xff, 0xfe, b'{', b'}'])
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed-json");
    app.command(&id, json!({"type":"Teleport"}))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "unknown-command");
    app.command(&id, json!({"summary":"no type"}))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "missing-field");
    let missing = app
        .command(
            &id,
            json!({"type":"MakePromise","promise_id":promise_id(1),"kind":"callback","due_at":hours(5)}),
        )
        .await;
    missing.assert_problem(StatusCode::BAD_REQUEST, "missing-field");
    assert!(missing.body["detail"]
        .as_str()
        .unwrap()
        .contains("description"));
    app.command(
        &id,
        json!({"type":"AssignOwner","owner":"bob","priority":"high"}),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "unknown-field");
    let bad_uuid = app
        .command(
            &id,
            json!({"type":"KeepPromise","promise_id":"not-a-uuid","evidence":"called"}),
        )
        .await;
    bad_uuid.assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
    assert!(bad_uuid.body["detail"]
        .as_str()
        .unwrap()
        .contains("promise_id"));
    app.command(
        &id,
        json!({"type":"MakePromise","promise_id":promise_id(1),"kind":"callback",
               "description":"call","due_at":"next tuesday"}),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
    app.command(
        &id,
        json!({"type":"LogContact","direction":"inbound","channel":"phone","summary":"   "}),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");

    let huge = format!(
        "{{\"type\":\"LogContact\",\"direction\":\"inbound\",\"channel\":\"phone\",\"summary\":\"{}\"}}",
        "x".repeat(obliged_http::BODY_LIMIT + 1)
    );
    raw(huge.into_bytes())
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");

    app.clock.set(hours(3));
    let past = app
        .command(
            &id,
            json!({"type":"MakePromise","promise_id":promise_id(2),"kind":"callback",
                   "description":"call back","due_at":hours(2)}),
        )
        .await;
    past.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "due-in-past");

    let unknown = Uuid::now_v7();
    app.command(
        &unknown.to_string(),
        json!({"type":"AssignOwner","owner":"alice"}),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "complaint-not-found");
    app.get(&format!("/api/complaints/{unknown}"), &app.agent)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "complaint-not-found");
    app.get(&format!("/api/complaints/{unknown}/history"), &app.agent)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "complaint-not-found");
    app.command("not-a-uuid", json!({"type":"AssignOwner","owner":"alice"}))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-complaint-id");
    app.command(&id, json!({"type":"AssignOwner","owner":"bob"}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "already-owned");
    app.get("/api/nothing-here", &app.agent)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not-found");

    assert_eq!(
        crate::support::event_count(&app.store, &id).await,
        before,
        "nothing was appended"
    );
    assert_eq!(app.history(&id).await.len(), 2);
}

async fn bad_filings_are_refused_and_create_nothing(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let mut no_name = crate::support::new_complaint();
    no_name["customer"].as_object_mut().unwrap().remove("name");
    app.post("/api/complaints", &app.agent, &no_name)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "missing-field");
    let mut bad_email = crate::support::new_complaint();
    bad_email["customer"]["email"] = json!("not an email");
    app.post("/api/complaints", &app.agent, &bad_email)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
    let mut bad_channel = crate::support::new_complaint();
    bad_channel["channel"] = json!("carrier-pigeon");
    app.post("/api/complaints", &app.agent, &bad_channel)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-field");
    let dump = crate::support::dump(&app.store).await;
    assert!(
        !dump.contains("ComplaintFiled"),
        "no complaint was filed by a refused request"
    );
}

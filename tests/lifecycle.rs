//! A complaint from intake to closure over HTTP, with the refusal that listening obliges action
//! demands on the way, the history auditors replay, and the state as of a past moment.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{for_each_store, hours, promise_id, Backend, TestApp, CUSTOMER_NAME};

for_each_store!(
    a_complaint_goes_from_intake_to_closure,
    state_as_of_a_moment_shows_what_was_recorded_by_then,
    a_complaint_filed_later_did_not_exist_before,
);

async fn a_complaint_goes_from_intake_to_closure(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let filed = app
        .post(
            "/api/complaints",
            &app.agent,
            &crate::support::new_complaint(),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let id = filed.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        filed.headers["location"].to_str().unwrap(),
        format!("/api/complaints/{id}")
    );

    app.clock.set(hours(1));
    let logged = app
        .ok(
            &id,
            json!({"type":"LogContact","direction":"inbound","channel":"phone",
                   "summary":"Wants a callback about the double charge","request":true}),
        )
        .await;
    assert_eq!(
        logged["events"],
        json!([{"type":"ContactLogged","sequence":2},{"type":"ObligationOpened","sequence":3}])
    );
    app.ok(&id, json!({"type":"AssignOwner","owner":"alice"}))
        .await;

    app.clock.set(hours(2));
    let promise = promise_id(1);
    let made = app
        .ok(
            &id,
            json!({"type":"MakePromise","promise_id":promise,"kind":"callback",
                   "description":"Call back with the refund date","due_at":hours(26)}),
        )
        .await;
    assert_eq!(
        made["events"],
        json!([{"type":"PromiseMade","sequence":5},{"type":"ObligationDischarged","sequence":6}])
    );

    let refused = app.command(&id, json!({"type":"Close"})).await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "open-promises");
    assert!(refused.body["detail"].as_str().unwrap().contains(&promise));
    assert_eq!(refused.body["promise_ids"], json!([promise]));

    app.clock.set(hours(4));
    app.ok(
        &id,
        json!({"type":"KeepPromise","promise_id":promise,"evidence":"Called at 13:00"}),
    )
    .await;
    app.ok(
        &id,
        json!({"type":"ProposeResolution","summary":"Refund of the second charge"}),
    )
    .await;
    app.ok(
        &id,
        json!({"type":"RecordCustomerResponse","accepted":true}),
    )
    .await;
    app.ok(&id, json!({"type":"Resolve"})).await;
    let closed = app.ok(&id, json!({"type":"Close"})).await;
    assert_eq!(
        closed["events"],
        json!([{"type":"ComplaintClosed","sequence":11}])
    );

    let state = app.get(&format!("/api/complaints/{id}"), &app.agent).await;
    assert_eq!(state.status, StatusCode::OK);
    assert_eq!(state.body["status"], "closed");
    assert_eq!(state.body["owner"], "alice");
    assert_eq!(state.body["open_promises"], json!([]));
    assert_eq!(state.body["promises"][0]["status"], "kept");
    assert_eq!(state.body["promises"][0]["kept_on_time"], true);

    let history = app.history(&id).await;
    let types: Vec<&str> = history
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ComplaintFiled",
            "ContactLogged",
            "ObligationOpened",
            "OwnerAssigned",
            "PromiseMade",
            "ObligationDischarged",
            "PromiseKept",
            "ResolutionProposed",
            "ResolutionAccepted",
            "ComplaintResolved",
            "ComplaintClosed",
        ]
    );
    for (index, event) in history.iter().enumerate() {
        assert_eq!(event["sequence"], json!(index + 1));
        assert_eq!(event["actor"], "alice");
        assert!(event["event_id"].is_string() && event["command_id"].is_string());
        assert!(event["recorded_at"].is_string());
    }
    let event_ids: std::collections::HashSet<&str> = history
        .iter()
        .map(|event| event["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(event_ids.len(), history.len(), "each event has its own id");
    assert_eq!(
        history[0]["payload"]["ComplaintFiled"]["customer"]["name"], CUSTOMER_NAME,
        "agents read personal data in clear"
    );
}

async fn state_as_of_a_moment_shows_what_was_recorded_by_then(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    app.ok(&id, json!({"type":"AssignOwner","owner":"alice"}))
        .await;
    app.clock.set(hours(2));
    let promise = promise_id(7);
    app.ok(
        &id,
        json!({"type":"MakePromise","promise_id":promise,"kind":"refund",
               "description":"Refund the second charge","due_at":hours(48)}),
    )
    .await;
    app.clock.set(hours(5));
    app.ok(
        &id,
        json!({"type":"KeepPromise","promise_id":promise,"evidence":"Refund sent"}),
    )
    .await;

    let between = app
        .get(
            &format!("/api/complaints/{id}?as_of={}", hours(3)),
            &app.auditor,
        )
        .await;
    assert_eq!(between.status, StatusCode::OK, "{}", between.body);
    assert_eq!(between.body["as_of"], json!(hours(3)));
    assert_eq!(between.body["open_promises"][0]["promise_id"], promise);
    assert_eq!(between.body["open_promises"][0]["status"], "pending");

    let before_promise = app
        .get(
            &format!("/api/complaints/{id}?as_of={}", hours(1)),
            &app.auditor,
        )
        .await;
    assert_eq!(before_promise.body["promises"], json!([]));

    let now = app
        .get(&format!("/api/complaints/{id}"), &app.auditor)
        .await;
    assert_eq!(now.body["open_promises"], json!([]));
    assert_eq!(now.body["promises"][0]["status"], "kept");

    let bad = app
        .get(
            &format!("/api/complaints/{id}?as_of=yesterday"),
            &app.auditor,
        )
        .await;
    bad.assert_problem(StatusCode::BAD_REQUEST, "invalid-query");
}

async fn a_complaint_filed_later_did_not_exist_before(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    app.clock.set(hours(10));
    let id = app.file().await;
    let before = app
        .get(
            &format!("/api/complaints/{id}?as_of={}", hours(9)),
            &app.agent,
        )
        .await;
    before.assert_problem(StatusCode::NOT_FOUND, "complaint-not-found");
}

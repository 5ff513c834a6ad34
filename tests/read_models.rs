//! Read models: what the projector builds from the ledger, read-your-writes through
//! `min_position`, and recovery from a projector that dies in the middle of a batch.

use std::sync::Arc;

use axum::http::StatusCode;
use obliged_projections::{ProjectionError, Projector};
use serde_json::{json, Value};

use crate::support::{for_each_store, hours, promise_id, read_model_rows, Backend, TestApp};

for_each_store!(
    lists_queues_and_counters_follow_the_ledger,
    a_projector_killed_mid_batch_converges_to_a_full_rebuild,
    projections_report_their_position_and_lag,
);

async fn lists_queues_and_counters_follow_the_ledger(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let first = app.file().await;
    app.clock.set(hours(1));
    let second = app.file().await;
    app.ok(
        &first,
        json!({"type":"LogContact","direction":"inbound","channel":"email","summary":"Any news?","request":true}),
    )
    .await;
    app.ok(&first, json!({"type":"AssignOwner","owner":"alice"}))
        .await;
    let promised = app
        .ok(
            &first,
            json!({"type":"MakePromise","promise_id":promise_id(1),"kind":"refund",
                   "description":"Refund","due_at":hours(5)}),
        )
        .await;
    app.ok(
        &second,
        json!({"type":"AssignOwner","owner":"team:billing"}),
    )
    .await;
    app.ok(
        &second,
        json!({"type":"FlagSensitive","reason":"bereavement"}),
    )
    .await;
    let position = promised["position"]
        .as_u64()
        .expect("commands report their position");

    // Read your writes: the list includes the promise made at `position`.
    let list = app
        .get(
            &format!("/api/complaints?owner=alice&min_position={position}"),
            &app.agent,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let complaints = list.body["complaints"].as_array().unwrap();
    assert_eq!(complaints.len(), 1);
    assert_eq!(complaints[0]["id"], first);
    assert_eq!(complaints[0]["open_promises"], 1);
    assert_eq!(complaints[0]["next_due_at"], json!(hours(5)));
    assert!(list.body["position"].as_u64().unwrap() >= position);

    let latest = app.state.engine.ledger().head_position().await.unwrap();
    let all = app
        .get(
            &format!("/api/complaints?min_position={latest}"),
            &app.agent,
        )
        .await;
    let ids: Vec<&Value> = all.body["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|complaint| &complaint["id"])
        .collect();
    assert_eq!(
        ids,
        [&json!(second), &json!(first)],
        "most recently filed first"
    );
    let sensitive = app.get("/api/complaints?flag=sensitive", &app.agent).await;
    assert_eq!(sensitive.body["complaints"].as_array().unwrap().len(), 1);
    assert_eq!(sensitive.body["complaints"][0]["id"], second);
    let by_reference = app
        .get(
            "/api/complaints?customer_reference=CUST-1042&status=open",
            &app.agent,
        )
        .await;
    assert_eq!(by_reference.body["complaints"].as_array().unwrap().len(), 2);
    let paged = app
        .get("/api/complaints?limit=1&offset=1", &app.agent)
        .await;
    assert_eq!(paged.body["complaints"][0]["id"], first);

    // Overdue: alice's promise is due at hours(5); the team queue's triage at hours(1) + 4 h.
    app.clock.set(hours(5) + jiff::SignedDuration::from_secs(1));
    let overdue = app.get("/api/complaints?overdue=true", &app.agent).await;
    let overdue_ids: Vec<&Value> = overdue.body["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|complaint| &complaint["id"])
        .collect();
    assert_eq!(overdue_ids, [&json!(second), &json!(first)]);
    app.clock.set(hours(3));
    let overdue = app.get("/api/complaints?overdue=true", &app.agent).await;
    assert_eq!(overdue.body["complaints"].as_array().unwrap().len(), 0);

    let queue = app.get("/api/queues/alice", &app.agent).await;
    assert_eq!(queue.status, StatusCode::OK);
    let items = queue.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "the obligation was discharged by the promise: {items:?}"
    );
    assert_eq!(items[0]["kind"], "promise");
    assert_eq!(items[0]["item_id"], promise_id(1));
    let team = app.get("/api/queues/team:billing", &app.agent).await;
    assert_eq!(team.body["items"][0]["kind"], "triage");
    assert_eq!(team.body["items"][0]["due_at"], json!(hours(5)));

    app.clock.set(hours(4));
    app.ok(
        &first,
        json!({"type":"KeepPromise","promise_id":promise_id(1),"evidence":"Refunded"}),
    )
    .await;
    let latest = app.state.engine.ledger().head_position().await.unwrap();
    let counters = app
        .get(&format!("/api/counters?min_position={latest}"), &app.lead)
        .await;
    let alice = counters.body["owners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|owner| owner["owner"] == "alice")
        .expect("alice has counters")
        .clone();
    assert_eq!(alice["open_complaints"], 1);
    assert_eq!(alice["open_promises"], 0);
    assert_eq!(alice["promises_kept_on_time"], 1);

    app.get("/api/complaints?flag=purple", &app.agent)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-query");
    // A position the ledger does not hold is refused at once (it used to wait and answer 503,
    // as if the read models were behind).
    for path in [
        "/api/complaints?min_position=99999",
        "/api/queues/alice?min_position=99999",
        "/api/counters?min_position=99999",
    ] {
        app.get(path, &app.agent)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "position-beyond-head");
    }
    // Numbers are decimal digits: no sign, no spaces; and filters follow the contract's
    // patterns, so an empty owner is not one.
    for path in [
        "/api/complaints?limit=+5",
        "/api/complaints?limit=%205",
        "/api/complaints?offset=1.0",
        "/api/complaints?min_position=-1",
        "/api/complaints?owner=",
        "/api/complaints?owner=team:",
        "/api/complaints?category=",
        "/api/queues/alice?limit=%2B1",
    ] {
        app.get(path, &app.agent)
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid-query");
    }
    app.get("/api/complaints", &app.integration)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

async fn a_projector_killed_mid_batch_converges_to_a_full_rebuild(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let mut complaints = Vec::new();
    for index in 0..6u128 {
        let id = app.file().await;
        app.ok(&id, json!({"type":"AssignOwner","owner":"alice"}))
            .await;
        app.ok(
            &id,
            json!({"type":"MakePromise","promise_id":promise_id(index),"kind":"callback",
                   "description":"Call back","due_at":hours(10 + index as i64)}),
        )
        .await;
        complaints.push(id);
    }
    let ledger = app.state.engine.ledger().clone();
    let projector = Projector::new(ledger.clone(), Arc::new(app.clock.clone()));
    // Project part of the ledger, then die half-way through the next batch.
    assert_eq!(projector.step(5).await.unwrap(), 5);
    app.ok(
        &complaints[0],
        json!({"type":"KeepPromise","promise_id":promise_id(0),"evidence":"called"}),
    )
    .await;
    let interrupted = projector.step_interrupted(100).await;
    assert!(matches!(interrupted, Err(ProjectionError::Interrupted)));
    assert_eq!(
        projector.checkpoint().await.unwrap(),
        5,
        "the broken batch left no trace"
    );
    drop(projector);

    // A new projector (a restarted process, with no cached state) catches up.
    let restarted = Projector::new(ledger.clone(), Arc::new(app.clock.clone()));
    let head = ledger.head_position().await.unwrap();
    assert_eq!(restarted.catch_up().await.unwrap(), head);
    let caught_up = read_model_rows(&app.store.database).await;
    assert!(caught_up.contains(&"-- 6 rows".to_owned()), "{caught_up:?}");

    let rebuilt = Projector::new(ledger, Arc::new(app.clock.clone()));
    assert_eq!(rebuilt.rebuild().await.unwrap(), head);
    assert_eq!(read_model_rows(&app.store.database).await, caught_up);
}

async fn projections_report_their_position_and_lag(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    app.ok(&id, json!({"type":"AssignOwner","owner":"alice"}))
        .await;
    let before = app.get("/api/projections", &app.auditor).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert_eq!(before.body["head"], 2);
    assert_eq!(before.body["consumers"][0]["name"], "complaints");
    assert_eq!(before.body["consumers"][0]["lag"], 2);
    app.state.projector.catch_up().await.unwrap();
    let after = app.get("/api/projections", &app.auditor).await;
    assert_eq!(after.body["consumers"][0]["position"], 2);
    assert_eq!(after.body["consumers"][0]["lag"], 0);
}

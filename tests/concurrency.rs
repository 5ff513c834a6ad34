//! Many commands at once on one complaint, repeated commands, and commands whose client goes away.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use obliged_domain::{ComplaintCommand, Direction, PlainText, StaffId};
use obliged_storage::CommandRequest;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{for_each_store, new_complaint, Backend, TestApp};

for_each_store!(
    concurrent_commands_succeed_or_conflict_and_lose_nothing,
    the_same_idempotency_key_appends_once,
    a_command_completes_when_its_caller_goes_away,
);

async fn concurrent_commands_succeed_or_conflict_and_lose_nothing(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for index in 0..32 {
        let app = app.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            app.command(
                &id,
                json!({"type":"LogContact","direction":"outbound","channel":"email",
                       "summary":format!("update {index}")}),
            )
            .await
        }));
    }
    let mut acknowledged: BTreeMap<u64, (String, String)> = BTreeMap::new();
    let mut conflicts = 0;
    for task in tasks {
        let reply = task.await.expect("task");
        match reply.status {
            StatusCode::OK => {
                let command_id = reply.body["command_id"].as_str().unwrap().to_owned();
                for event in reply.body["events"].as_array().unwrap() {
                    let sequence = event["sequence"].as_u64().unwrap();
                    let previous = acknowledged.insert(
                        sequence,
                        (
                            event["type"].as_str().unwrap().to_owned(),
                            command_id.clone(),
                        ),
                    );
                    assert!(previous.is_none(), "sequence {sequence} acknowledged twice");
                }
            }
            StatusCode::CONFLICT => {
                reply.assert_problem(StatusCode::CONFLICT, "conflict");
                assert!(reply.headers.contains_key("retry-after"));
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(acknowledged.len() + conflicts, 32);
    assert!(!acknowledged.is_empty());

    let history = app.history(&id).await;
    let sequences: Vec<u64> = history
        .iter()
        .map(|event| event["sequence"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=history.len() as u64).collect();
    assert_eq!(sequences, expected, "sequences are contiguous");
    assert_eq!(
        history.len(),
        1 + acknowledged.len(),
        "only acknowledged events exist"
    );
    for event in &history[1..] {
        let sequence = event["sequence"].as_u64().unwrap();
        let (event_type, command_id) = acknowledged
            .get(&sequence)
            .unwrap_or_else(|| panic!("stored event {sequence} was never acknowledged"));
        assert_eq!(event["type"], json!(event_type));
        assert_eq!(event["command_id"], json!(command_id));
    }
    let contact_numbers: HashSet<u64> = history[1..]
        .iter()
        .map(|event| {
            event["payload"]["ContactLogged"]["contact_no"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        contact_numbers.len(),
        acknowledged.len(),
        "every decision saw the latest state"
    );
}

async fn the_same_idempotency_key_appends_once(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let file = |key: &'static str, body: Value| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/complaints",
                Some(&app.agent),
                &[("idempotency-key", key)],
                Some(Body::from(body.to_string())),
            )
            .await
        }
    };
    let first = file("file-7f3a", new_complaint()).await;
    let second = file("file-7f3a", new_complaint()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(first.body["events"], second.body["events"]);
    assert_eq!(second.body["replayed"], true);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    let id = first.body["id"].as_str().unwrap().to_owned();
    assert_eq!(crate::support::event_count(&app.store, &id).await, 1);

    let mut different = new_complaint();
    different["description"] = json!("A different complaint entirely");
    file("file-7f3a", different)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused");

    let command = |key: &'static str, body: Value| {
        let app = &app;
        let path = format!("/api/complaints/{id}/commands");
        async move {
            app.request(
                Method::POST,
                &path,
                Some(&app.agent),
                &[("idempotency-key", key)],
                Some(Body::from(body.to_string())),
            )
            .await
        }
    };
    let contact = json!({"type":"LogContact","direction":"inbound","channel":"chat",
                         "summary":"Where is my refund?","request":true});
    let first = command("contact-1", contact.clone()).await;
    let second = command("contact-1", contact.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(first.body["events"], second.body["events"]);
    assert_eq!(first.body["replayed"], false);
    assert_eq!(second.body["replayed"], true);
    assert_eq!(
        crate::support::event_count(&app.store, &id).await,
        3,
        "filed + contact + obligation, once"
    );

    let other_key = command("contact-2", contact).await;
    assert_eq!(other_key.status, StatusCode::OK);
    assert_eq!(
        crate::support::event_count(&app.store, &id).await,
        5,
        "a new key is a new command"
    );

    command("", json!({"type":"Close"}))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-header");
}

async fn a_command_completes_when_its_caller_goes_away(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    let complaint_id = Uuid::parse_str(&id).unwrap();
    let request = CommandRequest {
        actor: StaffId::parse("alice").unwrap(),
        command: ComplaintCommand::LogContact {
            direction: Direction::Inbound,
            channel: obliged_domain::Channel::Letter,
            summary: PlainText::parse("Letter about the refund").unwrap(),
            request: false,
            alias: None,
        },
        idempotency_key: None,
        correlation_id: None,
    };
    // Poll the command exactly once, then drop it, as a disconnecting client's request would be.
    let engine = app.state.engine.clone();
    let abandoned =
        tokio::time::timeout(Duration::ZERO, engine.execute(complaint_id, request)).await;
    assert!(
        abandoned.is_err(),
        "the caller gave up before the command finished"
    );

    // The command's own task still appends; wait for it (bounded), without moving any clock.
    let mut stored = 0;
    for _ in 0..500 {
        stored = crate::support::event_count(&app.store, &id).await;
        if stored == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stored, 2, "the abandoned command was still appended");
}

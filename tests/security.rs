//! Tokens and roles, and personal data sealed at rest.

use axum::http::{Method, StatusCode};
use obliged_storage::{Role, TokenError};
use serde_json::json;

use crate::support::{
    for_each_store, Backend, TestApp, CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_PHONE, DESCRIPTION,
};

for_each_store!(
    roles_decide_who_reads_and_who_commands,
    tokens_are_stored_only_as_hashes,
    an_active_token_name_belongs_to_one_token,
    personal_data_is_sealed_at_rest_and_opened_for_readers,
);

async fn roles_decide_who_reads_and_who_commands(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    let path = format!("/api/complaints/{id}");
    let commands = format!("{path}/commands");

    app.request(Method::GET, &path, None, &[], None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let no_token = app.request(Method::GET, &path, None, &[], None).await;
    assert_eq!(no_token.headers["www-authenticate"], "Bearer");
    app.get(&path, "obl_not-a-real-token")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    assert_eq!(app.get(&path, &app.auditor).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("{path}/history"), &app.auditor)
            .await
            .status,
        StatusCode::OK
    );
    app.post(
        &commands,
        &app.auditor,
        &json!({"type":"AssignOwner","owner":"audrey"}),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        "/api/complaints",
        &app.auditor,
        &crate::support::new_complaint(),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");

    app.get(&path, &app.integration)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");

    app.ok(&id, json!({"type":"AssignOwner","owner":"alice"}))
        .await;
    app.command(&id, json!({"type":"TakeOver","reason":"alice is on leave"}))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let taken = app
        .post(
            &commands,
            &app.lead,
            &json!({"type":"TakeOver","reason":"alice is on leave"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
    let state = app.get(&path, &app.auditor).await;
    assert_eq!(state.body["owner"], "lena");
    assert_eq!(
        crate::support::event_count(&app.store, &id).await,
        3,
        "refused calls appended nothing"
    );

    app.state.tokens.revoke("lena").await.expect("revoke");
    app.post(
        &commands,
        &app.lead,
        &json!({"type":"Escalate","to":"manager","reason":"x"}),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

async fn tokens_are_stored_only_as_hashes(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    app.file().await;
    let dump = crate::support::dump(&app.store).await;
    assert!(dump.contains("alice"), "the dump does read the token table");
    for secret in [&app.agent, &app.lead, &app.auditor, &app.integration] {
        let random_part = secret.trim_start_matches("obl_");
        assert!(!dump.contains(random_part), "a token secret is stored");
    }
    let listed = app.state.tokens.list().await.expect("list");
    assert_eq!(listed.len(), 4);
}

/// A token's name is the actor its commands are recorded under and the scope of its
/// idempotency keys, so two active tokens must not share one (revoking "agent" must not end two
/// people's access). A revoked name can be given again.
async fn an_active_token_name_belongs_to_one_token(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let tokens = &app.state.tokens;
    let refused = tokens.create("alice", Role::Lead).await;
    assert!(
        matches!(refused, Err(TokenError::NameTaken(ref name)) if name == "alice"),
        "{refused:?}"
    );
    // Racing creations of one new name: exactly one wins.
    let (first, second) = tokio::join!(
        tokens.create("carol", Role::Agent),
        tokens.create("carol", Role::Agent)
    );
    assert_eq!(
        [first.is_ok(), second.is_ok()]
            .iter()
            .filter(|ok| **ok)
            .count(),
        1,
        "{first:?} {second:?}"
    );
    assert_eq!(tokens.revoke("alice").await.expect("revoke alice"), 1);
    let renewed = tokens
        .create("alice", Role::Agent)
        .await
        .expect("a revoked name is free");
    let active: Vec<_> = tokens
        .list()
        .await
        .expect("list")
        .into_iter()
        .filter(|token| token.name.as_str() == "alice" && token.revoked_at.is_none())
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].id, renewed.token.id);
    let old = app.get("/api/counters", &app.agent).await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the revoked token is refused"
    );
    let new = app.get("/api/counters", &renewed.secret).await;
    assert_eq!(new.status, StatusCode::OK);
}

async fn personal_data_is_sealed_at_rest_and_opened_for_readers(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    app.ok(
        &id,
        json!({"type":"LogContact","direction":"inbound","channel":"phone",
               "summary":"Mrs Vlieland says the bank shows two debits"}),
    )
    .await;
    let dump = crate::support::dump(&app.store).await;
    assert!(dump.contains("CUST-1042"), "the dump does read the events");
    for secret in [
        CUSTOMER_NAME,
        "Vlieland",
        CUSTOMER_EMAIL,
        CUSTOMER_PHONE,
        DESCRIPTION,
        "two debits",
    ] {
        assert!(!dump.contains(secret), "{secret:?} is stored in plaintext");
    }
    let history = app.history(&id).await;
    let filed = &history[0]["payload"]["ComplaintFiled"];
    assert_eq!(filed["customer"]["name"], CUSTOMER_NAME);
    assert_eq!(filed["customer"]["email"], CUSTOMER_EMAIL);
    assert_eq!(filed["customer"]["phone"], CUSTOMER_PHONE);
    assert_eq!(filed["description"], DESCRIPTION);
    assert_eq!(
        history[1]["payload"]["ContactLogged"]["summary"],
        "Mrs Vlieland says the bank shows two debits"
    );

    // Erasure destroys the key: history, timings and accountability survive, content does not.
    let complaint_id = uuid::Uuid::parse_str(&id).unwrap();
    assert!(app
        .state
        .engine
        .vault()
        .destroy(complaint_id)
        .await
        .unwrap());
    let erased = app.history(&id).await;
    assert_eq!(erased.len(), 2);
    assert_eq!(
        erased[0]["payload"]["ComplaintFiled"]["customer"]["name"],
        "[erased]"
    );
    assert_eq!(
        erased[0]["payload"]["ComplaintFiled"]["customer"]["reference"],
        "CUST-1042"
    );
    assert_eq!(erased[1]["actor"], "alice");
    app.command(&id, json!({"type":"AssignOwner","owner":"alice"}))
        .await
        .assert_problem(StatusCode::GONE, "personal-data-erased");
}

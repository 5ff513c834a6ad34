//! The OpenAPI document served at `/api/openapi.json` against the router that serves it. Both
//! come from one registration of the routes (`obliged_http`'s `openapi::routes`); these tests
//! check the result from the outside: every documented operation is answered by a handler (not
//! by the router's 404 or 405 fallback) with a status the document lists, every other method of
//! a documented path gets the 405 fallback, and what the document says of some answers matches
//! what the handlers send (regressions found by the contract test, tests/contract).

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{for_each_store, Backend, TestApp};

for_each_store!(
    every_documented_operation_is_routed_and_nothing_else_is,
    unassigned_and_current_complaints_answer_null_where_the_document_allows_it,
    filters_the_document_forbids_are_refused,
);

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    serde_json::to_value(obliged_http::openapi_document()).expect("the document serializes")
}

/// The documented operations, as (path template, method).
fn operations(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                operations.push((path.clone(), method.to_owned()));
            }
        }
    }
    operations
}

/// A concrete path for a template: `{id}` becomes a fresh UUID, `{owner}` a staff id.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", &uuid::Uuid::now_v7().to_string())
        .replace("{owner}", "alice")
}

fn is_fallback(reply: &crate::support::Reply) -> bool {
    matches!(
        (reply.status, reply.body["type"].as_str()),
        (StatusCode::NOT_FOUND, Some("not-found"))
            | (StatusCode::METHOD_NOT_ALLOWED, Some("method-not-allowed"))
    )
}

async fn every_documented_operation_is_routed_and_nothing_else_is(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let document = document();
    let operations = operations(&document);
    assert!(operations.len() >= 19, "{operations:?}");
    // The document the server serves is this one.
    let served = app.get("/api/openapi.json", "").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, document);

    for (template, method) in &operations {
        let path = concrete(template);
        let method_upper: Method = method.to_uppercase().parse().expect("a method");
        let body = (method == "post").then(|| axum::body::Body::from("{}"));
        // Without a token and with one: either way a handler answers, with a documented status.
        for token in [None, Some(app.lead.as_str())] {
            let reply = app
                .request(method_upper.clone(), &path, token, &[], body_again(&body))
                .await;
            assert!(
                !is_fallback(&reply),
                "{method} {template} is documented but not routed: {} {}",
                reply.status,
                reply.body
            );
            let documented = &document["paths"][template][method]["responses"];
            assert!(
                documented.get(reply.status.as_str()).is_some(),
                "{method} {template} answered {} {}, which its responses do not list",
                reply.status,
                reply.body
            );
        }
    }

    // No path answers a method its document does not list: those get the 405 fallback.
    for (template, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                continue;
            }
            let reply = app
                .request(
                    method.to_uppercase().parse().expect("a method"),
                    &concrete(template),
                    Some(&app.lead),
                    &[],
                    None,
                )
                .await;
            reply.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
        }
    }
    // And a path it does not list gets the 404 fallback.
    for path in [
        "/api",
        "/api/complaint",
        "/api/events/streams",
        "/openapi.json",
    ] {
        app.get(path, &app.lead)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not-found");
    }

    // Every operation behind a token lists the answers of authentication and of the request
    // deadline; every one with an id in its path lists 404.
    for (template, method) in &operations {
        let operation = &document["paths"][template][method];
        let responses = &operation["responses"];
        assert!(responses.get("408").is_some(), "{method} {template}: 408");
        if operation.get("security").is_none() {
            for status in ["401", "403", "503"] {
                assert!(
                    responses.get(status).is_some(),
                    "{method} {template}: {status}"
                );
            }
        }
        if template.contains("{id}") {
            assert!(responses.get("404").is_some(), "{method} {template}: 404");
        }
    }
}

/// The same body again (a `Body` is consumed by its request).
fn body_again(body: &Option<axum::body::Body>) -> Option<axum::body::Body> {
    body.as_ref().map(|_| axum::body::Body::from("{}"))
}

/// Resolves a `$ref` of the document.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().expect("a schema name");
            &document["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Whether `schema` admits JSON `null`.
fn allows_null(document: &Value, schema: &Value) -> bool {
    let schema = resolve(document, schema);
    let typed_null = match &schema["type"] {
        Value::String(kind) => kind == "null",
        Value::Array(kinds) => kinds.contains(&json!("null")),
        _ => false,
    };
    typed_null
        || ["oneOf", "anyOf"].iter().any(|key| {
            schema[*key]
                .as_array()
                .is_some_and(|options| options.iter().any(|option| allows_null(document, option)))
        })
}

async fn unassigned_and_current_complaints_answer_null_where_the_document_allows_it(
    backend: Backend,
) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let id = app.file().await;
    let shown = app.get(&format!("/api/complaints/{id}"), &app.agent).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);

    let document = document();
    let response = &document["paths"]["/api/complaints/{id}"]["get"]["responses"]["200"];
    let state = resolve(
        &document,
        &response["content"]["application/json"]["schema"],
    );
    // A complaint nobody owns yet, asked for as it is now: `owner` and `as_of` are null, and
    // the document says they may be (it used to say string).
    for field in ["owner", "as_of", "resolution", "regime", "clock_paused_at"] {
        if shown.body[field].is_null() {
            assert!(
                allows_null(&document, &state["properties"][field]),
                "{field} is null in {} but the document does not allow it",
                shown.body
            );
        }
    }
    assert!(shown.body["owner"].is_null() && shown.body["as_of"].is_null());
    // Every field the handler sends is described.
    for field in shown.body.as_object().expect("an object").keys() {
        assert!(
            state["properties"].get(field).is_some(),
            "{field} is not in the document"
        );
    }
}

async fn filters_the_document_forbids_are_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let document = document();
    let parameters = document["paths"]["/api/complaints"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let owner = parameters
        .iter()
        .find(|parameter| parameter["name"] == "owner")
        .expect("an owner filter");
    // The document gives the owner's pattern, which an empty text does not match (it used to
    // allow any string, and `owner=` was refused all the same).
    let pattern = resolve(&document, &owner["schema"])["pattern"]
        .as_str()
        .expect("the owner filter has a pattern");
    assert!(pattern.contains("{1,64}"), "{pattern}");
    app.get("/api/complaints?owner=", &app.agent)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid-query");
    let listed = app
        .get("/api/complaints?owner=team:billing", &app.agent)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
}

//! The real `obliged` binary, end to end: help, migrations, tokens, serving HTTP on a free port,
//! the readable timeline, and a graceful stop on SIGTERM. Runs on both stores.

use std::process::Command;

use serde_json::{json, Value};

use crate::support::server::Installation;
use crate::support::{Backend, TestStore};

#[test]
fn help_names_every_subcommand() {
    let output = Command::new(env!("CARGO_BIN_EXE_obliged"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8(output.stdout).unwrap();
    for subcommand in ["serve", "migrate", "token", "complaint"] {
        assert!(
            help.contains(subcommand),
            "--help lacks {subcommand}: {help}"
        );
    }
    let output = Command::new(env!("CARGO_BIN_EXE_obliged"))
        .args(["token", "create", "--role", "janitor", "--name", "x"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role"));
}

#[tokio::test]
async fn sqlite_binary_serves_files_and_shows_a_complaint() {
    binary_end_to_end(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_binary_serves_files_and_shows_a_complaint() {
    binary_end_to_end(Backend::Postgres).await;
}

async fn binary_end_to_end(backend: Backend) {
    let Some(store) = TestStore::create(backend).await else {
        return;
    };
    let installation = Installation::new(&store.url);
    let run = |args: &[&str]| installation.run(args);

    assert!(run(&["migrate"]).contains("migrated"));
    let created = run(&["token", "create", "--role", "agent", "--name", "alice"]);
    let token = created
        .lines()
        .last()
        .expect("token line")
        .trim()
        .to_owned();
    assert!(token.starts_with("obl_"), "{created}");
    let listed = run(&["token", "list"]);
    assert!(listed.contains("alice") && listed.contains("agent"));
    assert!(!listed.contains(&token));

    let mut server = installation.serve().await;
    let base = server.base.clone();

    let client = reqwest::Client::new();
    let health: Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let openapi: Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");

    let filed = client
        .post(format!("{base}/api/complaints"))
        .bearer_auth(&token)
        .json(&crate::support::new_complaint())
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), 201);
    let id = filed.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let assigned = client
        .post(format!("{base}/api/complaints/{id}/commands"))
        .bearer_auth(&token)
        .json(&json!({"type":"AssignOwner","owner":"alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(assigned.status(), 200);

    let shown = run(&["complaint", "show", &id]);
    assert!(shown.contains(&format!("complaint {id}")), "{shown}");
    assert!(shown.contains("owner      alice"), "{shown}");
    assert!(
        shown.contains("ComplaintFiled") && shown.contains("OwnerAssigned"),
        "{shown}"
    );
    assert!(shown.contains(crate::support::CUSTOMER_NAME), "{shown}");

    let verified = run(&["audit", "verify"]);
    assert!(
        verified.contains("all 2 ledger entries verify"),
        "{verified}"
    );
    let status = run(&["projections", "rebuild"]);
    assert!(
        status.contains("rebuilt complaints up to ledger position 2"),
        "{status}"
    );

    let missing = installation
        .command()
        .args(["complaint", "show", &uuid::Uuid::now_v7().to_string()])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));

    // SIGTERM: the server finishes and exits cleanly.
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

//! The real `obliged` binary, end to end: help, migrations, tokens, serving HTTP on a free port,
//! the readable timeline, and a graceful stop on SIGTERM. Runs on both stores.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::support::{Backend, TestStore};

fn obliged(directory: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_obliged"));
    command
        .current_dir(directory)
        .env("OBLIGED_DATABASE_URL", database_url)
        .env("OBLIGED_MASTER_KEY_FILE", directory.join("master.key"))
        .env("RUST_LOG", "warn");
    command
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("run obliged");
    assert!(
        output.status.success(),
        "obliged failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Stops the server if a test fails half-way.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
    let directory = std::env::temp_dir().join(format!("obliged-bin-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&directory).unwrap();
    let url = store.url.clone();

    assert!(run(obliged(&directory, &url).arg("migrate")).contains("migrated"));
    let created =
        run(obliged(&directory, &url)
            .args(["token", "create", "--role", "agent", "--name", "alice"]));
    let token = created
        .lines()
        .last()
        .expect("token line")
        .trim()
        .to_owned();
    assert!(token.starts_with("obl_"), "{created}");
    let listed = run(obliged(&directory, &url).args(["token", "list"]));
    assert!(listed.contains("alice") && listed.contains("agent"));
    assert!(!listed.contains(&token));

    let mut child = obliged(&directory, &url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().unwrap();
    let mut server = Server(child);
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).unwrap();
    let base = first_line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_owned();

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

    let shown = run(obliged(&directory, &url).args(["complaint", "show", &id]));
    assert!(shown.contains(&format!("complaint {id}")), "{shown}");
    assert!(shown.contains("owner      alice"), "{shown}");
    assert!(
        shown.contains("ComplaintFiled") && shown.contains("OwnerAssigned"),
        "{shown}"
    );
    assert!(shown.contains(crate::support::CUSTOMER_NAME), "{shown}");

    // The standard policy sets an acknowledgement deadline with its ladder at filing: filed,
    // deadlines set, ladder scheduled, owner assigned.
    assert!(shown.contains("DeadlinesSet") && shown.contains("LadderScheduled"));
    let verified = run(obliged(&directory, &url).args(["audit", "verify"]));
    assert!(
        verified.contains("all 4 ledger entries verify"),
        "{verified}"
    );
    let status = run(obliged(&directory, &url).args(["projections", "rebuild"]));
    assert!(
        status.contains("rebuilt complaints up to ledger position 4"),
        "{status}"
    );

    let missing = obliged(&directory, &url)
        .args(["complaint", "show", &uuid::Uuid::now_v7().to_string()])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));

    // SIGTERM: the server finishes and exits cleanly.
    let pid = server.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = server.0.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    drop(server);
    drop(store);
    let _ = std::fs::remove_dir_all(&directory);
}

#[tokio::test]
async fn sqlite_clock_tick_reaches_due_rungs_once() {
    clock_tick_from_the_command_line(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_clock_tick_reaches_due_rungs_once() {
    clock_tick_from_the_command_line(Backend::Postgres).await;
}

/// `obliged clock due` and `obliged clock tick --now`, on a store an in-process app filled with
/// the same master key and the default (`standard`) policy.
async fn clock_tick_from_the_command_line(backend: Backend) {
    let directory = std::env::temp_dir().join(format!("obliged-clock-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&directory).unwrap();
    let master_key =
        obliged_storage::MasterKey::load_or_create(&directory.join("master.key")).unwrap();
    let policy = obliged::policy::load("standard").unwrap();
    let Some(app) = crate::support::TestApp::start_keyed(backend, policy, master_key).await else {
        return;
    };
    let url = app.store.url.clone();
    // Monday 2 March 2026, 09:00 UTC: a callback promised for Tuesday 12:00.
    let id = app.file().await;
    app.ok(&id, json!({"type":"AssignOwner","owner":"alice"}))
        .await;
    app.ok(
        &id,
        json!({"type":"MakePromise","promise_id":crate::support::promise_id(1),"kind":"callback",
               "description":"Call back","due_at":"2026-03-03T12:00:00Z"}),
    )
    .await;

    // The standard ladder warns the promiser eight business hours before: Monday 12:00.
    let due =
        run(obliged(&directory, &url).args(["clock", "due", "--now", "2026-03-02T11:59:00Z"]));
    assert!(due.contains("0 rung(s) due"), "{due}");
    let due =
        run(obliged(&directory, &url).args(["clock", "due", "--now", "2026-03-02T12:00:00Z"]));
    assert!(due.contains(&id) && due.contains("1 rung(s) due"), "{due}");

    // Wednesday: the warning and the breach are both due, and are reached in order.
    let ticked = run(obliged(&directory, &url).args([
        "clock",
        "tick",
        "--now",
        "2026-03-04T10:00:00Z",
        "--json",
    ]));
    let tick: Value = serde_json::from_str(&ticked).expect("JSON");
    let rungs: Vec<(u64, &str)> = tick["reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rung| {
            (
                rung["rung"].as_u64().unwrap(),
                rung["due_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rungs,
        [(1, "2026-03-02T12:00:00Z"), (2, "2026-03-03T12:00:00Z")],
        "{ticked}"
    );
    let again =
        run(obliged(&directory, &url).args(["clock", "tick", "--now", "2026-03-04T10:00:00Z"]));
    assert!(again.contains("0 rung(s) reached"), "{again}");
    let state = app
        .get(&format!("/api/complaints/{id}"), &app.agent)
        .await
        .body;
    assert_eq!(state["promises"][0]["status"], "broken");
    assert_eq!(state["next_rungs"][0]["name"], "manager");
}

//! The real `obliged` binary, end to end: help, migrations, tokens, serving HTTP on a free port,
//! the readable timeline, and a graceful stop on SIGTERM. Runs on both stores.

use std::process::Command;

use serde_json::{json, Value};

use crate::support::server::Installation;
use crate::support::{for_each_store, Backend, TestStore};

for_each_store!(
    binary_serves_files_and_shows_a_complaint,
    clock_tick_reaches_due_rungs_once,
    a_webhook_added_with_the_cli_is_signed_by_the_server_with_the_secret_it_printed,
    the_master_key_rotates_without_rewriting_an_event_and_resumes_after_a_kill,
);

/// The JSON body of a GET of `url`.
async fn get_json(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Files the test complaint through `server`'s API with `token`; its id.
async fn file_over_http(client: &reqwest::Client, server_base: &str, token: &str) -> String {
    let filed = client
        .post(format!("{server_base}/api/complaints"))
        .bearer_auth(token)
        .json(&crate::support::new_complaint())
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), 201);
    filed.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn help_names_every_subcommand() {
    let output = Command::new(env!("CARGO_BIN_EXE_obliged"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8(output.stdout).unwrap();
    for subcommand in ["serve", "migrate", "token", "complaint", "webhook", "key"] {
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

async fn binary_serves_files_and_shows_a_complaint(backend: Backend) {
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
    let health = get_json(&client, format!("{base}/healthz")).await;
    assert_eq!(health["status"], "ok");
    let openapi = get_json(&client, format!("{base}/api/openapi.json")).await;
    assert_eq!(openapi["openapi"], "3.1.0");

    let id = file_over_http(&client, &base, &token).await;
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

    // The standard policy sets an acknowledgement deadline with its ladder at filing: filed,
    // deadlines set, ladder scheduled, owner assigned.
    assert!(shown.contains("DeadlinesSet") && shown.contains("LadderScheduled"));
    let verified = run(&["audit", "verify"]);
    assert!(
        verified.contains("all 4 ledger entries verify"),
        "{verified}"
    );
    let status = run(&["projections", "rebuild"]);
    assert!(
        status.contains("rebuilt complaints up to ledger position 4"),
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

/// `obliged clock due` and `obliged clock tick --now`, on a store an in-process app filled with
/// the same master key and the default (`standard`) policy.
async fn clock_tick_reaches_due_rungs_once(backend: Backend) {
    // The installation's master key, shared with an in-process app that owns the store.
    let mut installation = Installation::new("");
    let master_key =
        obliged_storage::MasterKey::load_or_create(&installation.directory.join("master.key"))
            .unwrap();
    let policy = obliged::policy::load("standard").unwrap();
    let Some(app) = crate::support::TestApp::start_keyed(backend, policy, master_key).await else {
        return;
    };
    installation.database_url = app.store.url.clone();
    let run = |args: &[&str]| installation.run(args);
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
    let due = run(&["clock", "due", "--now", "2026-03-02T11:59:00Z"]);
    assert!(due.contains("0 rung(s) due"), "{due}");
    let due = run(&["clock", "due", "--now", "2026-03-02T12:00:00Z"]);
    assert!(due.contains(&id) && due.contains("1 rung(s) due"), "{due}");

    // Wednesday: the warning and the breach are both due, and are reached in order.
    let ticked = run(&["clock", "tick", "--now", "2026-03-04T10:00:00Z", "--json"]);
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
    let again = run(&["clock", "tick", "--now", "2026-03-04T10:00:00Z"]);
    assert!(again.contains("0 rung(s) reached"), "{again}");
    let state = app
        .get(&format!("/api/complaints/{id}"), &app.agent)
        .await
        .body;
    assert_eq!(state["promises"][0]["status"], "broken");
    assert_eq!(state["next_rungs"][0]["name"], "manager");
}

/// `obliged webhook add` stores the signing secret sealed under the installation's master key:
/// the server opens it and signs every delivery with the secret the command printed.
async fn a_webhook_added_with_the_cli_is_signed_by_the_server_with_the_secret_it_printed(
    backend: Backend,
) {
    let Some(store) = TestStore::create(backend).await else {
        return;
    };
    // A receiver on loopback, which the installation allows.
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sender = sender.clone();
                async move {
                    let signature = headers
                        .get("obliged-signature")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let _ = sender.send((signature, body));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let mut installation = Installation::new(&store.url);
    installation.webhook_allow = Some("127.0.0.1".to_owned());
    let added = installation.run(&["webhook", "add", &format!("http://{address}/hook")]);
    let secret = added
        .lines()
        .last()
        .expect("the secret line")
        .trim()
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{added}");
    let token = installation.token("agent", "alice");

    let server = installation.serve().await;
    file_over_http(&reqwest::Client::new(), &server.base, &token).await;
    let (signature, body) =
        tokio::time::timeout(std::time::Duration::from_secs(60), received.recv())
            .await
            .expect("a delivery within a minute")
            .expect("the receiver runs");
    let now = jiff::Timestamp::now().as_second();
    assert!(
        obliged_webhooks::signature::verify_signature(&signature, &secret, &body, now, 300),
        "signed with the printed secret: {signature}"
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["type"], "ComplaintFiled");
}

/// The vault of `database` under `master`, as a process holding that key sees it.
fn vault_under(
    database: &obliged_storage::Database,
    master: &obliged_storage::MasterKey,
) -> obliged_storage::Vault {
    let clock = obliged_domain::FixedClock::new(crate::support::t0());
    obliged_storage::Vault::new(database.clone(), master, std::sync::Arc::new(clock))
}

/// How many data keys `master` opens, and how many it does not, of `subjects`.
async fn opened_by(
    database: &obliged_storage::Database,
    master: &obliged_storage::MasterKey,
    subjects: &[uuid::Uuid],
) -> (usize, usize) {
    let vault = vault_under(database, master);
    let mut opened = 0;
    for subject in subjects {
        if vault.key(*subject).await.is_ok() {
            opened += 1;
        }
    }
    (opened, subjects.len() - opened)
}

/// `obliged key rotate`: every data key and webhook secret moves to the new master key, no event
/// is rewritten, a run killed (SIGKILL) halfway is finished by running it again, and the old key
/// opens nothing afterwards.
async fn the_master_key_rotates_without_rewriting_an_event_and_resumes_after_a_kill(
    backend: Backend,
) {
    let Some(store) = TestStore::create(backend).await else {
        return;
    };
    let installation = Installation::new(&store.url);
    let token = installation.token("agent", "alice");
    let added = installation.run(&["webhook", "add", "https://crm.example.org/obliged"]);
    // "subscribed ID to URL; ...", then the secret.
    let webhook = added
        .split_whitespace()
        .nth(1)
        .and_then(|word| uuid::Uuid::parse_str(word).ok())
        .expect("the subscription's id");
    let mut server = installation.serve().await;
    let id = file_over_http(&reqwest::Client::new(), &server.base, &token).await;
    assert!(server.terminate().success());

    // Enough further keys that a run can be stopped halfway.
    let old_key_file = installation.directory.join("master.key");
    let old_key = obliged_storage::MasterKey::load(&old_key_file).expect("the master key");
    let vault = vault_under(&store.database, &old_key);
    let mut subjects = vec![uuid::Uuid::parse_str(&id).unwrap()];
    for _ in 0..300 {
        let subject = uuid::Uuid::now_v7();
        vault.create_key(subject).await.expect("a key");
        subjects.push(subject);
    }
    let ledger_before = installation.run(&["audit", "verify"]);

    // Killed after its first step.
    let new_key_file = installation.directory.join("new-master.key");
    let mut rotation = installation
        .command()
        .args(["key", "rotate", "--batch", "1", "--new-key-file"])
        .arg(&new_key_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the rotation");
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(rotation.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    rotation.kill().expect("SIGKILL");
    rotation.wait().unwrap();
    assert!(first.starts_with("re-wrapped"), "{first}");
    let new_key = obliged_storage::MasterKey::load(&new_key_file).expect("the new key file");
    let (under_new, not_new) = opened_by(&store.database, &new_key, &subjects).await;
    let (under_old, _) = opened_by(&store.database, &old_key, &subjects).await;
    assert!(
        under_new >= 1 && not_new >= 1 && under_old == not_new,
        "stopped halfway: {under_new} under the new key, {under_old} under the old"
    );

    // Run again: it finishes, counting what the first run did.
    let done = installation.run(&[
        "key",
        "rotate",
        "--new-key-file",
        new_key_file.to_str().unwrap(),
    ]);
    assert!(
        done.contains(&format!(
            "{not_new} data keys re-wrapped, {under_new} were already"
        )),
        "{done}"
    );
    assert!(done.contains("1 webhook secrets sealed again"), "{done}");
    assert_eq!(
        opened_by(&store.database, &new_key, &subjects).await,
        (subjects.len(), 0)
    );
    assert_eq!(
        opened_by(&store.database, &old_key, &subjects).await,
        (0, subjects.len())
    );
    let (stored,): (String,) = obliged_storage::with_pool!(&store.database, pool => {
        sqlx::query_as("SELECT secret FROM webhook_subscriptions WHERE id = $1")
            .bind(webhook.to_string())
            .fetch_one(pool)
            .await
            .unwrap()
    });
    let context = format!("webhook-secret:{webhook}");
    let new_vault = vault_under(&store.database, &new_key);
    let old_vault = vault_under(&store.database, &old_key);
    assert!(new_vault
        .open_secret(&context, &stored)
        .unwrap()
        .starts_with("whsec_"));
    assert!(old_vault.open_secret(&context, &stored).is_err());

    // The new key file becomes the master key file: the events are as they were, and read.
    std::fs::rename(&new_key_file, &old_key_file).unwrap();
    assert_eq!(installation.run(&["audit", "verify"]), ledger_before);
    let shown = installation.run(&["complaint", "show", &id]);
    assert!(shown.contains(crate::support::CUSTOMER_NAME), "{shown}");
    // Given a master key that is not the one the keys are wrapped by, it refuses and changes
    // nothing.
    obliged_storage::MasterKey::load_or_create(&installation.directory.join("unrelated.key"))
        .unwrap();
    let wrong = installation
        .command()
        .args(["key", "rotate", "--new-key-file"])
        .arg(installation.directory.join("another.key"))
        .env(
            "OBLIGED_MASTER_KEY_FILE",
            installation.directory.join("unrelated.key"),
        )
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("wrapped by"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert_eq!(
        opened_by(&store.database, &new_key, &subjects).await,
        (subjects.len(), 0)
    );
}

//! The web console in a real browser, once per store: `obliged serve` on a fresh store and a
//! fresh master key, then the Node suite in `tests/browser/` (`node:test`, playwright-core
//! driving Debian's `/usr/bin/chromium`, axe) against it. The suite makes its own accounts
//! through `obliged user add` and moves the promise clock with `obliged clock tick`.
//!
//! `.ci/run` installs chromium and the suite's pinned packages (`npm ci` in `tests/browser`).
//! Outside CI a machine without node, those packages or chromium reports the test skipped; with
//! `CI=true` it fails. Screenshots of every page visited land in
//! `tests/browser/screenshots/<store>/` (ignored by git).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use obliged_storage::testing::in_ci;
use uuid::Uuid;

use crate::support::server::Installation;
use crate::support::{Backend, TestStore};

/// Where Debian's chromium lives; the suite never downloads a browser.
const CHROMIUM: &str = "/usr/bin/chromium";

/// One scenario's patience, enforced by `node --test` (a hung page fails, not hangs).
const SCENARIO_TIMEOUT_MS: u32 = 120_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_chromium_on_sqlite() {
    console_in_chromium(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_chromium_on_postgres() {
    console_in_chromium(Backend::Postgres).await;
}

fn suite_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// What the machine lacks to run the suite, if anything.
fn missing_prerequisite() -> Option<String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !node {
        return Some("node is not installed".to_owned());
    }
    let modules = suite_folder().join("node_modules");
    for package in ["playwright-core", "@axe-core/playwright"] {
        if !modules.join(package).join("package.json").is_file() {
            return Some(format!(
                "{package} is not installed (run `npm ci` in tests/browser, as .ci/run does)"
            ));
        }
    }
    if !Path::new(CHROMIUM).is_file() {
        return Some(format!(
            "{CHROMIUM} is missing (apt-get install chromium, as .ci/run does)"
        ));
    }
    None
}

async fn console_in_chromium(backend: Backend) {
    if let Some(missing) = missing_prerequisite() {
        assert!(
            !in_ci(),
            "the browser suite cannot run (CI=true): {missing}"
        );
        eprintln!("skipped: {missing}");
        return;
    }
    let Some(store) = TestStore::create(backend).await else {
        return;
    };
    let store_name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let installation = Installation::new(&store.url);
    // `serve` migrates and creates the master key file on first start. Its log, at the level
    // an operator runs it, is searched for secrets afterwards.
    let log_path = installation.directory.join("serve.log");
    let log = std::fs::File::create(&log_path).expect("the server's log file");
    let server = installation.serve_logging_to(log, "info").await;
    let password = format!("browser-suite-{}", Uuid::now_v7());

    let screenshots = suite_folder().join("screenshots").join(store_name);
    let _ = std::fs::remove_dir_all(&screenshots);
    std::fs::create_dir_all(&screenshots).expect("create the screenshot folder");

    let mut node = Command::new("node");
    node.arg("--test")
        .arg("--test-concurrency=1")
        .arg(format!("--test-timeout={SCENARIO_TIMEOUT_MS}"))
        .arg("tests/browser/")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("OBLIGED_URL", &server.base)
        .env("OBLIGED_PASSWORD", &password)
        .env("OBLIGED_BIN", env!("CARGO_BIN_EXE_obliged"))
        .env("OBLIGED_DATABASE_URL", &installation.database_url)
        .env(
            "OBLIGED_MASTER_KEY_FILE",
            installation.directory.join("master.key"),
        )
        .env("OBLIGED_SCREENSHOTS", &screenshots)
        .env("OBLIGED_CHROMIUM", CHROMIUM)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        // The suite's output goes straight to the test's, as it happens.
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    // The standard policy keeps time in UTC; another one names its zone for date fields.
    if std::env::var_os("OBLIGED_TIME_ZONE").is_none() {
        node.env("OBLIGED_TIME_ZONE", "UTC");
    }
    eprintln!(
        "browser suite on {store_name} against {} (screenshots in {})",
        server.base,
        screenshots.display()
    );
    let status = tokio::task::spawn_blocking(move || node.status())
        .await
        .expect("the node task")
        .expect("run node --test");
    drop(server);
    let log = std::fs::read_to_string(&log_path).expect("the server's log");
    assert!(
        status.success(),
        "the browser suite failed on {store_name} ({status}); see its output above and the \
         screenshots in {}; the server's log:\n{log}",
        screenshots.display()
    );

    // The suite signed in with passwords, made API tokens and webhook secrets: none of them,
    // and no session cookie, is in the server's log.
    assert!(
        log.contains("obliged listening on"),
        "the server's log is where it was sent:\n{log}"
    );
    for (secret, what) in [
        (password.as_str(), "a password"),
        ("obl_", "an API token"),
        ("whsec_", "a webhook secret"),
        ("sealed:v1:", "a sealed secret"),
        ("obliged_session", "a session cookie"),
    ] {
        let line = log.lines().find(|line| line.contains(secret));
        assert!(line.is_none(), "{what} in the server's log: {line:?}");
    }
}

//! The README as a newcomer follows it: its run command, exactly as written, in a fresh folder
//! (so `./obliged-data` starts empty) until `/healthz` answers on the address the README uses,
//! then its curl session as written, checked for what the README says each step shows. A
//! README whose commands stop working fails here.
//!
//! The run command builds the release binary, which the first time takes minutes. The session
//! needs `curl` and `jq`; outside CI a machine without them reports the test skipped. The one
//! liberty taken: the session's live stream (`curl -sN …/events/stream`) never ends by itself,
//! so `curl -N` is given a time limit and its timeout counts as success.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use obliged_storage::testing::in_ci;
use uuid::Uuid;

const README: &str = include_str!("../README.md");

/// Where the README's run command serves (its default listen address).
const README_BASE: &str = "http://127.0.0.1:8080";

/// The first release build on two cores takes a few minutes; a run that has not answered by
/// then is broken.
const STARTUP_PATIENCE: Duration = Duration::from_secs(30 * 60);

/// The body of the first ```sh block after the heading `heading`.
fn shell_block_after(heading: &str) -> String {
    let start = README
        .find(heading)
        .unwrap_or_else(|| panic!("README has no heading {heading:?}"));
    let rest = &README[start..];
    let open = rest
        .find("```sh\n")
        .expect("a ```sh block after the heading")
        + "```sh\n".len();
    let close = rest[open..].find("```").expect("the block's closing fence");
    rest[open..open + close].to_owned()
}

/// The README's run command: the `cargo run` line of "Run it, test it", without its comment.
fn run_command() -> String {
    let block = shell_block_after("## Run it, test it");
    let line = block
        .lines()
        .find(|line| line.starts_with("cargo run"))
        .expect("a cargo run line in the set-up block");
    match line.find(" #") {
        Some(comment) => line[..comment].trim().to_owned(),
        None => line.trim().to_owned(),
    }
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A fresh folder inside the checkout (cargo finds the workspace from there), removed on drop.
struct FreshFolder(PathBuf);

impl FreshFolder {
    fn new() -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!(".readme-run-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).expect("create a fresh folder");
        Self(path)
    }
}

impl Drop for FreshFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The README's run command, in its own process group so the server cargo starts stops too.
struct RunningCommand(Child);

impl Drop for RunningCommand {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// A `bash` that runs the README's commands in the environment of a newcomer's shell: the
/// test's, less obliged's own settings (so the defaults the README relies on are the ones
/// used) and less what cargo and the test runner set for a test (`CARGO_PKG_NAME`,
/// `CARGO_MANIFEST_DIR`, `NEXTEST_*`, …), which would also make `cargo run` see a different
/// build environment and rebuild everything. Where cargo keeps its builds
/// (`CARGO_TARGET_DIR`, `CARGO_HOME`) is kept.
fn shell(script: &str, folder: &Path) -> Command {
    let mut command = Command::new("bash");
    command.arg("-c").arg(script).current_dir(folder);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else {
            continue;
        };
        let kept = matches!(name, "CARGO_TARGET_DIR" | "CARGO_HOME" | "CARGO_TERM_COLOR");
        let set_for_tests = name == "CARGO"
            || name.starts_with("CARGO_")
            || name.starts_with("NEXTEST")
            || name.starts_with("__NEXTEST")
            || name.starts_with("RUST_TEST");
        if name.starts_with("OBLIGED_") || name == "RUST_LOG" || (set_for_tests && !kept) {
            command.env_remove(name);
        }
    }
    command
}

async fn healthy(client: &reqwest::Client) -> bool {
    match client.get(format!("{README_BASE}/healthz")).send().await {
        Ok(response) => response.status().is_success(),
        Err(_) => false,
    }
}

#[tokio::test]
async fn readme_run_command_and_curl_session_work_as_written() {
    for program in ["curl", "jq", "cargo"] {
        if !have(program) {
            assert!(!in_ci(), "{program} is missing (CI=true)");
            eprintln!("skipped: {program} is not installed");
            return;
        }
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client");
    assert!(
        !healthy(&client).await,
        "something already answers on {README_BASE}; the README's run command needs that address"
    );

    let folder = FreshFolder::new();
    let run = run_command();
    assert_eq!(
        run, "cargo run --release -- serve",
        "the README's run command"
    );
    let mut command = shell(&format!("exec {run}"), &folder.0);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let log = std::fs::File::create(folder.0.join("run.log")).expect("a log file");
    let server = RunningCommand(
        command
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start the README's run command"),
    );

    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        ticker.tick().await;
        if healthy(&client).await {
            break;
        }
        let log = std::fs::read_to_string(folder.0.join("run.log")).unwrap_or_default();
        let mut server_process = Command::new("kill");
        let alive = server_process
            .args(["-0", &server.0.id().to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        assert!(alive, "`{run}` exited before answering /healthz:\n{log}");
        assert!(
            started.elapsed() < STARTUP_PATIENCE,
            "`{run}` did not answer /healthz within {STARTUP_PATIENCE:?}:\n{log}"
        );
    }
    assert!(
        folder.0.join("obliged-data").is_dir(),
        "the run command keeps its data in ./obliged-data"
    );

    let session = shell_block_after("## A session with curl");
    let script = format!(
        "set -euo pipefail\n\
         curl() {{\n\
           if [[ \" $* \" == *\" -sN \"* ]]; then\n\
             local status=0\n\
             command curl --max-time 3 \"$@\" || status=$?\n\
             [ \"$status\" -eq 28 ] || return \"$status\"\n\
           else\n\
             command curl \"$@\"\n\
           fi\n\
         }}\n\
         {session}"
    );
    let folder_path = folder.0.clone();
    let output = tokio::task::spawn_blocking(move || {
        shell(&script, &folder_path)
            .output()
            .expect("run the README's curl session")
    })
    .await
    .expect("the session");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the README's curl session failed ({}):\n{stdout}\n{stderr}",
        output.status
    );

    // What the README says each step shows.
    let expectations = [
        (
            "\"open-promises\"",
            "closing with a promise owed is refused",
        ),
        ("PromiseKept", "the promise is kept"),
        (
            "ComplaintClosed",
            "the complaint closes once nothing is owed",
        ),
        ("\"status\":\"closed\"", "the current state says closed"),
        ("CUST-1042", "the complaint list finds it"),
        (
            "\"position\"",
            "the feed returns ledger entries with positions",
        ),
        ("id: 4", "the live stream resumes after Last-Event-ID 3"),
        ("ledger entries verify", "the ledger verifies"),
    ];
    for (needle, what) in expectations {
        assert!(
            stdout.contains(needle),
            "{what}: {needle:?} not in the session's output:\n{stdout}\n{stderr}"
        );
    }

    // The console: the first start said how to create the first admin; the README's command
    // does it (the password typed on standard input), and the admin signs in.
    let log = std::fs::read_to_string(folder.0.join("run.log")).unwrap_or_default();
    assert!(
        log.contains("no console accounts yet") && log.contains("user add NAME --role admin"),
        "the first start says how to create the first admin:\n{log}"
    );
    let add_admin = shell_block_after("## The web console");
    let script = format!("set -euo pipefail\nprintf '%s\\n' '{README_PASSWORD}' | {add_admin}");
    let folder_path = folder.0.clone();
    let output = tokio::task::spawn_blocking(move || {
        shell(&script, &folder_path)
            .output()
            .expect("run the README's console command")
    })
    .await
    .expect("the console command");
    assert!(
        output.status.success(),
        "the README's console command failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let name = add_admin
        .split_whitespace()
        .skip_while(|word| *word != "add")
        .nth(1)
        .expect("the README's command names the admin")
        .to_owned();
    sign_in(&name).await;
    drop(server);
}

const README_PASSWORD: &str = "a-readme-password";

/// Signs `name` in to the console at the README's address and opens My work.
async fn sign_in(name: &str) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let form = client
        .get(format!("{README_BASE}/sign-in"))
        .send()
        .await
        .expect("the sign-in page");
    let pairing = cookie(&form, "obliged_sign_in");
    let page = form.text().await.expect("the sign-in page's body");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-in form's token")
        .to_owned();
    let signed_in = client
        .post(format!("{README_BASE}/sign-in"))
        .header("cookie", format!("obliged_sign_in={pairing}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", name),
            ("password", README_PASSWORD),
        ])
        .send()
        .await
        .expect("signing in");
    assert_eq!(signed_in.status(), 303, "signing in as {name}");
    let session = cookie(&signed_in, "obliged_session");
    let my_work = client
        .get(format!("{README_BASE}/my-work"))
        .header("cookie", format!("obliged_session={session}"))
        .send()
        .await
        .expect("My work");
    assert_eq!(my_work.status(), 200);
    let body = my_work.text().await.expect("My work's body");
    assert!(
        body.contains(&format!("<span id=\"whoami\">{name}</span>")),
        "{body}"
    );
}

/// The value of the cookie `name` that `response` sets.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.to_owned())
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

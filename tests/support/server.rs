//! The real `obliged` executable as a child process: an installation (a folder with the master
//! key, and a database URL), its subcommands, and `obliged serve` on a free port, which a test
//! can stop with SIGTERM or kill with SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use uuid::Uuid;

/// How long a test waits for a server to answer `/healthz` after it started or after its
/// database came back.
pub const STARTUP_PATIENCE: Duration = Duration::from_secs(60);

/// One obliged installation: a database and a folder holding the master key. The folder is
/// removed when it is dropped.
pub struct Installation {
    pub directory: PathBuf,
    pub database_url: String,
    /// `OBLIGED_WEBHOOK_ALLOW` for every command, when set.
    pub webhook_allow: Option<String>,
}

impl Installation {
    pub fn new(database_url: &str) -> Self {
        let directory = std::env::temp_dir().join(format!("obliged-bin-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&directory).expect("create the installation folder");
        Self {
            directory,
            database_url: database_url.to_owned(),
            webhook_allow: None,
        }
    }

    /// `obliged` with this installation's database and master key.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_obliged"));
        command
            .current_dir(&self.directory)
            .env("OBLIGED_DATABASE_URL", &self.database_url)
            .env("OBLIGED_MASTER_KEY_FILE", self.directory.join("master.key"))
            .env("RUST_LOG", "warn");
        if let Some(allow) = &self.webhook_allow {
            command.env("OBLIGED_WEBHOOK_ALLOW", allow);
        }
        command
    }

    /// Runs a subcommand to completion, insists that it succeeds, and returns its output.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("run obliged");
        assert!(
            output.status.success(),
            "obliged {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    /// A new bearer token (the last line `token create` prints).
    pub fn token(&self, role: &str, name: &str) -> String {
        let created = self.run(&["token", "create", "--role", role, "--name", name]);
        let token = created.lines().last().expect("a token line").trim();
        assert!(token.starts_with("obl_"), "{created}");
        token.to_owned()
    }

    /// `obliged serve` on a free port, once it answers `/healthz`.
    pub async fn serve(&self) -> Server {
        self.serve_logging_to(Stdio::inherit(), "warn").await
    }

    /// The same, its log (at `level`, as `RUST_LOG` says it) written to `log`.
    pub async fn serve_logging_to(&self, log: impl Into<Stdio>, level: &str) -> Server {
        let mut child = self
            .command()
            .env("RUST_LOG", level)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn obliged serve");
        let stdout = child.stdout.take().expect("piped stdout");
        // Killed on drop if it never answers.
        let mut server = Server {
            child,
            base: String::new(),
        };
        // The first line names the address; nothing else is written to stdout, so the pipe
        // never fills up once this reader is gone.
        let first_line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .expect("reader task")
        .expect("read the server's stdout");
        let base = first_line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the server did not start: first line {first_line:?}"))
            .to_owned();
        server.base = base;
        server.wait_healthy(STARTUP_PATIENCE).await;
        server
    }
}

impl Drop for Installation {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// A running `obliged serve`. Killed if the test ends without stopping it.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Polls `/healthz` until it answers 200, or fails the test after `patience`.
    pub async fn wait_healthy(&self, patience: Duration) {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let deadline = tokio::time::Instant::now() + patience;
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            match client.get(self.url("/healthz")).send().await {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => last = format!("HTTP {}", response.status()),
                Err(error) => last = error.to_string(),
            }
            // Readiness polling: the next probe goes out once this one has come back.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the server did not become healthy within {patience:?}: {last}");
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("query the server").is_none()
    }

    /// SIGKILL: the process dies at once, wherever it is.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }

    /// SIGTERM, then waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let signalled = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(signalled.success(), "SIGTERM the server");
        self.child.wait().expect("wait for the server")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

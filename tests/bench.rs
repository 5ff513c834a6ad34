//! The benchmark binary in quick mode, on both stores: every section runs to the end, the table
//! names every figure, and the JSON gives each a finite value and, where it has one, a ceiling
//! and the ratio between them. The figures themselves are measured, never asserted, except the
//! one target a quick run can judge: the HTTP mix had no errors.

use std::process::Command;

use serde_json::Value;

use crate::support::{Backend, TestStore};

/// Figures every run reports on each store (names start with these).
const FIGURES: [&str; 21] = [
    "commands/s, 1 client",
    "commands/s, 16 clients",
    "commands/s, 64 clients",
    "HTTP mix, 16 clients",
    "HTTP mix latency p50",
    "HTTP mix latency p99",
    "load a complaint of",
    "append with global order",
    "sequencing into the ledger",
    "projection catch-up",
    "projection catch-up, ",
    "command to feed latency p50",
    "command to feed latency p99",
    "p99 of requests, ",
    "CPU of the idle server, ",
    "due scan: 1000 due among",
    "tick reaching",
    "server peak memory,",
    "complaint page, ",
    "my work, ",
    "live page update latency",
];

#[test]
fn sqlite_bench_quick_run_reports_every_figure() {
    quick_run("sqlite", None);
}

#[tokio::test]
async fn postgres_bench_quick_run_reports_every_figure() {
    // Skipped (outside CI) when PostgreSQL is unreachable; the bench makes its own databases.
    let Some(store) = TestStore::create(Backend::Postgres).await else {
        return;
    };
    drop(store);
    let admin = obliged_storage::testing::postgres_admin_url();
    tokio::task::spawn_blocking(move || quick_run("postgres", Some(&admin)))
        .await
        .expect("the bench run");
}

fn quick_run(store: &str, postgres_url: Option<&str>) {
    let json = std::env::temp_dir().join(format!("obliged-bench-{}.json", uuid::Uuid::now_v7()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_obliged-bench"));
    command
        .args(["--quick", "--stores", store, "--json"])
        .arg(&json);
    if let Some(url) = postgres_url {
        command.args(["--postgres-url", url]);
    }
    let output = command.output().expect("run obliged-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "obliged-bench failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("the JSON file")).expect("JSON");
    let _ = std::fs::remove_file(&json);
    assert_eq!(document["quick"], true);
    assert!(document["machine"]["cores"].as_u64().unwrap_or(0) >= 1);
    let figures = document["figures"].as_array().expect("figures");
    for expected in FIGURES {
        let figure = figures
            .iter()
            .find(|figure| {
                figure["name"]
                    .as_str()
                    .is_some_and(|name| name.starts_with(expected))
            })
            .unwrap_or_else(|| panic!("no figure {expected:?} in {figures:#?}"));
        let name = figure["name"].as_str().expect("name");
        assert!(stdout.contains(name), "the table lacks {name:?}:\n{stdout}");
    }
    for figure in figures {
        assert_eq!(figure["store"], store, "{figure}");
        let value = figure["value"].as_f64().expect("a value");
        // CPU time is counted in ticks of 10 ms: an idle server may honestly use none.
        let may_be_zero = figure["unit"] == "cores";
        assert!(
            value.is_finite() && (value > 0.0 || may_be_zero && value == 0.0),
            "{figure}"
        );
        if let Some(ceiling) = figure["ceiling"].as_f64() {
            let ratio = figure["ratio"].as_f64().expect("a ratio beside a ceiling");
            assert!(ceiling.is_finite() && ceiling > 0.0, "{figure}");
            // Throughputs compare value to ceiling; times and memory compare ceiling to value.
            let either = [value / ceiling, ceiling / value];
            assert!(
                either
                    .iter()
                    .any(|expected| (ratio - expected).abs() < 1e-9),
                "the ratio of {figure} is neither value/ceiling nor ceiling/value"
            );
        }
        if figure["target"].is_string() {
            assert!(figure["met"].is_boolean(), "{figure}");
        }
    }
    let mix = figures
        .iter()
        .find(|figure| figure["name"] == "HTTP mix, 16 clients")
        .expect("the HTTP mix");
    assert_eq!(mix["met"], true, "the HTTP mix had errors: {mix}");
}

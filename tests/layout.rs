//! The house's rules, checked from the manifests: what each crate may depend on (the table in
//! ARCHITECTURE.md). The domain stays pure (no I/O dependency at all), no adapter depends on
//! the HTTP API, the ledger's consumers know the log but not each other, and nothing depends on
//! the binary (the composition root), not even the fuzz crate outside the workspace.

use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The crates of the project, by folder, and the project crates each may use.
const OURS: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("adapters/storage", &["obliged-domain"]),
    (
        "adapters/projections",
        &["obliged-domain", "obliged-storage"],
    ),
    ("adapters/webhooks", &["obliged-domain", "obliged-storage"]),
    ("adapters/nats", &["obliged-domain", "obliged-storage"]),
    (
        "adapters/http",
        &[
            "obliged-domain",
            "obliged-storage",
            "obliged-projections",
            "obliged-webhooks",
        ],
    ),
    (
        "adapters/console",
        &[
            "obliged-domain",
            "obliged-storage",
            "obliged-projections",
            "obliged-webhooks",
        ],
    ),
    (
        "adapters/http/fuzz",
        &["obliged-domain", "obliged-storage", "obliged-http"],
    ),
];

/// Everything the domain may depend on: traits, serialization, identifiers, time arithmetic,
/// errors, and (optional, behind the `openapi` feature the HTTP crate turns on) `utoipa`, which
/// only describes the commands' and values' shapes as OpenAPI schemas. None of them does I/O.
const DOMAIN_ALLOWED: &[&str] = &[
    "cqrs-es",
    "jiff",
    "serde",
    "serde_json",
    "thiserror",
    "utoipa",
    "uuid",
];

/// The names in a manifest's `[dependencies]` (not dev- or build-dependencies: tests may use
/// what they like) that `allowed` does not name, in order.
fn dependencies_beyond(folder: &str, allowed: &[&str]) -> Vec<String> {
    let path = Path::new(ROOT).join(folder).join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let manifest: toml::Table =
        toml::from_str(&text).unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()));
    manifest
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|table| table.keys().cloned().collect::<BTreeSet<String>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|name| !allowed.contains(&name.as_str()))
        .collect()
}

#[test]
fn the_domain_depends_on_nothing_that_does_io() {
    let extra = dependencies_beyond("domain", DOMAIN_ALLOWED);
    assert!(
        extra.is_empty(),
        "domain/ gained {extra:?}; it may depend only on {DOMAIN_ALLOWED:?} (ARCHITECTURE.md)"
    );
}

#[test]
fn each_crate_uses_only_the_project_crates_its_place_allows() {
    for (folder, allowed) in OURS {
        let ours: Vec<String> = dependencies_beyond(folder, allowed)
            .into_iter()
            .filter(|name| name == "obliged" || name.starts_with("obliged-"))
            .collect();
        assert!(
            ours.is_empty(),
            "{folder} depends on {ours:?}; it may use only {allowed:?} (ARCHITECTURE.md)"
        );
    }
}

#[test]
fn every_workspace_member_has_its_place_in_the_table() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).expect("Cargo.toml");
    let manifest: toml::Table = toml::from_str(&text).expect("the root manifest parses");
    let members: Vec<String> = manifest["workspace"]["members"]
        .as_array()
        .expect("workspace members")
        .iter()
        .map(|member| member.as_str().expect("a path").to_owned())
        .collect();
    for member in &members {
        assert!(
            OURS.iter().any(|(folder, _)| folder == member),
            "{member} is a workspace member without a rule in tests/layout.rs"
        );
    }
}

//! Black-box tests of obliged, in one test binary to keep link times low.
//!
//! Every HTTP scenario runs twice, once per store (`sqlite::…` and `postgres::…`). PostgreSQL
//! tests use a fresh database each; when the server is unreachable they report themselves
//! skipped, unless `CI=true`, where they fail.

// Shared harness: stores, the in-process app, requests.
mod support;

// The complaint life cycle over HTTP, reads as of a moment, history.
mod lifecycle;
// Bad input: each malformed request gets its problem and changes nothing.
mod bad_input;
// Hostile requests over HTTP and TCP: huge, deep, slow, flooding, SQL-looking, wrong role.
mod hostile;
// What a hostile tester found against a running server: SSRF, leaks, exhaustion, revocation.
mod hardening;
// The fuzz corpus and seeded mutations of it through the fuzz harness, on the stable toolchain.
mod fuzz_corpus;
// Concurrency, idempotency, and commands that outlive their client.
mod concurrency;
// Tokens, roles, and personal data sealed at rest.
mod security;
// The event stream: global order, ledger verification, feed, SSE.
mod stream;
// Read models: projection, crash recovery, read your writes.
mod read_models;
// Webhook subscriptions over HTTP.
mod webhooks;
// The web console over HTTP: sign-in, sessions, CSRF, roles, refusals, live pages, languages.
mod console;
// The console's Team page and auditor's view: overdue items, take-over, as-of views, the chain.
mod console_oversight;
// The console's Reports: the table against the API, drill-down to evidence, downloads.
mod console_reports;
// The console's admin pages: people, API tokens, webhooks, projections.
mod console_admin;
// The web console in Debian's chromium, driven by the Node suite in tests/browser.
mod browser_suite;
// The OpenAPI document: every route documented and routed, and what it says of the answers.
mod openapi;
// The promise clock: deadlines, ladders and the scheduler with a controllable clock.
mod clock;
// Accountability reports: figures and their evidence, CSV, SVG, the CLI.
mod reports;
// The real binary: token creation, serve, complaint show, graceful shutdown.
mod binary;
// Crashes and outages: the binary killed under load; PostgreSQL stopped under load (heavy).
mod crash;
// The benchmark binary in quick mode: every figure reported on both stores.
mod bench;
// The house's rules: what each crate may depend on.
mod layout;
// The README's run command and curl session, run as written in a fresh folder.
mod readme;

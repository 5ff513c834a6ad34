//! The web console of obliged: server-rendered pages for back-office staff, served by
//! `obliged serve` at `/` beside the API.
//!
//! Pages are askama templates (compiled into the binary and checked at build time), every
//! string comes from a Fluent catalog per language ([`i18n`]), and every asset is embedded
//! ([`assets`]). Every form is a plain POST answered by a redirect, so the console works
//! without script; htmx (vendored) makes forms partial and pages live over server-sent events.
//! Handlers hold no business rule: they decode a form into the domain's command, hand it to
//! the engine, and explain its refusal.
//!
//! People sign in with a console account ([`obliged_storage::Accounts`]); the session lives in
//! the database, its cookie is HttpOnly and SameSite=Strict, and every state-changing form
//! carries the session's CSRF token. The role decides which pages and forms a person sees, and
//! the server refuses the rest anyway.

// Handlers and their helpers answer refusals with a whole page (`Result<_, Response>`), as axum
// does; a response is large, and boxing it on every refusal would buy nothing.
#![allow(clippy::result_large_err)]

mod admin;
mod assets;
mod audit;
mod complaint;
mod forms;
mod i18n;
mod lists;
mod live;
mod pages;
mod reports;
mod session;
mod team;
mod view;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use obliged_projections::{Projector, ReadModels};
use obliged_storage::{Accounts, Checkpoints, Engine, Streams, Tokens};
use obliged_webhooks::Webhooks;
use tokio::sync::watch;
use tower::ServiceExt;

pub use i18n::{Lang, Tr};
pub use session::Throttle;

/// What the console's handlers reach.
#[derive(Clone)]
pub struct ConsoleState {
    pub engine: Engine,
    pub read_models: ReadModels,
    pub projector: Arc<Projector>,
    pub accounts: Accounts,
    /// API tokens (the admin pages create, list and revoke them).
    pub tokens: Tokens,
    /// Webhook subscriptions and their dead letters (the admin pages).
    pub webhooks: Webhooks,
    /// Every ledger consumer's position (projections and publishers, on the admin pages).
    pub checkpoints: Checkpoints,
    /// The process's reader of the ledger: live pages follow it.
    pub streams: Streams,
    pub shutdown: Arc<watch::Sender<bool>>,
    /// Sign-in attempts allowed per account and per address.
    pub throttle: Arc<Throttle>,
    /// Whether the session cookie is marked `Secure` (the console is reached over TLS).
    pub secure_cookies: bool,
    pub(crate) live: live::LiveSessions,
    /// The last verification of the ledger's hash chain (the auditor's view shows it).
    pub(crate) audit: audit::Verifications,
}

impl ConsoleState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: Engine,
        read_models: ReadModels,
        projector: Arc<Projector>,
        accounts: Accounts,
        tokens: Tokens,
        webhooks: Webhooks,
        checkpoints: Checkpoints,
        streams: Streams,
        shutdown: Arc<watch::Sender<bool>>,
        secure_cookies: bool,
    ) -> Self {
        let live = live::LiveSessions::new(accounts.clone(), shutdown.clone());
        Self {
            engine,
            read_models,
            projector,
            accounts,
            tokens,
            webhooks,
            checkpoints,
            streams,
            shutdown,
            throttle: Arc::new(Throttle::default()),
            secure_cookies,
            live,
            audit: audit::Verifications::default(),
        }
    }

    /// The time zone times are shown in: the policy calendar's.
    pub(crate) fn zone(&self) -> jiff::tz::TimeZone {
        self.engine.policy().calendar.time_zone().clone()
    }
}

/// The largest form the console accepts.
const FORM_LIMIT: usize = 64 * 1024;
/// How long a page may take to answer (live streams are not bounded).
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// The console's routes around `api`: whatever the console does not serve (the API under
/// `/api`, `/healthz`) goes to `api`.
pub fn router(state: ConsoleState, api: Router) -> Router {
    let pages = Router::new()
        .route("/", get(pages::root))
        .route("/sign-in", get(pages::sign_in_form).post(pages::sign_in))
        .route("/sign-out", post(pages::sign_out))
        .route("/my-work", get(lists::my_work))
        .route("/complaints", get(lists::complaints))
        .route(
            "/complaints/new",
            get(complaint::new_form).post(complaint::file),
        )
        .route("/complaints/{id}", get(complaint::page))
        .route("/complaints/{id}/audit", get(audit::page))
        .route("/audit/verify", post(audit::verify))
        .route(
            "/complaints/{id}/commands/{command}",
            post(complaint::command),
        )
        .route("/team", get(team::page))
        .route("/settings", get(pages::settings).post(pages::save_settings))
        .route("/reports", get(reports::page))
        .route("/reports/evidence", get(reports::evidence))
        .route("/reports/accountability.csv", get(reports::csv))
        .route("/reports/accountability.svg", get(reports::svg))
        .merge(admin::pages())
        .layer(middleware::from_fn(page_deadline));
    let streams = Router::new()
        .route("/my-work/live", get(live::my_work))
        .route("/complaints/{id}/live", get(live::complaint))
        .merge(admin::streams());
    let api_fallback = api.clone();
    Router::new()
        .merge(pages)
        .merge(streams)
        .route("/assets/{name}", get(assets::serve))
        .fallback(move |request: Request| fallback(api_fallback.clone(), request))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(middleware::from_fn(htmx_errors))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// The API's paths go to the API (its own errors included); anything else is a page not found.
async fn fallback(api: Router, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") || path == "/healthz" {
        return match api.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    let lang = i18n::Lang::negotiate(None, view::accept_language(request.headers()));
    view::error_page(lang, StatusCode::NOT_FOUND, "error-not-found")
}

async fn page_deadline(request: Request, next: Next) -> Response {
    match tokio::time::timeout(PAGE_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "the page took too long").into_response(),
    }
}

/// A form posted by htmx swaps a part of its page with the same part of the answer. A refusal
/// (422), a conflict (409) or an outage (503) is that page again with the reason beside the
/// form; any other error is a whole error page, so htmx is told to show it as the page's
/// content instead.
async fn htmx_errors(request: Request, next: Next) -> Response {
    let htmx = request.headers().contains_key("hx-request");
    let mut response = next.run(request).await;
    let status = response.status();
    let refusal = matches!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::SERVICE_UNAVAILABLE
    );
    if htmx
        && (status.is_client_error() || status.is_server_error())
        && !refusal
        && !response.headers().contains_key("hx-redirect")
    {
        let headers = response.headers_mut();
        headers.insert("hx-retarget", HeaderValue::from_static("#main"));
        headers.insert("hx-reselect", HeaderValue::from_static("#main"));
        headers.insert("hx-reswap", HeaderValue::from_static("outerHTML"));
    }
    response
}

/// What a console page may do: load its own scripts, styles and images, talk to its own
/// origin, and nothing else; no inline script; never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async fn security_headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/assets/");
    let is_api = {
        let path = request.uri().path();
        path == "/api" || path.starts_with("/api/") || path == "/healthz"
    };
    let mut response = next.run(request).await;
    if is_api {
        // The API sets its own.
        return response;
    }
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if !is_asset {
        set(header::CACHE_CONTROL, "no-store");
    }
    response
}

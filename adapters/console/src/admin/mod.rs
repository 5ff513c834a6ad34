//! The admin pages (role admin only): people who sign in ([`people`]), API tokens ([`tokens`]),
//! webhook subscriptions ([`webhooks`]), and the ledger's readers with their lag, live
//! ([`projections`]).
//!
//! Every page has the same sub-navigation; every form is a plain POST that carries the
//! session's CSRF token and is answered by a redirect to the page with a notice, or, refused,
//! by the page again (422) with the reason beside the form and what was typed kept (passwords
//! excepted). The secrets that are shown once (a new token, a new webhook's signing secret)
//! are the one exception to the redirect: they are in the answer to the POST itself, never in
//! an address, and the console stores them nowhere (pages are `no-store`). The rules are the
//! stores' (`Accounts`, `Tokens`, `Webhooks`): a handler decodes the form, asks, and explains.

mod people;
mod projections;
mod tokens;
mod webhooks;

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use obliged_storage::Role;

use crate::i18n::Tr;
use crate::session::{self, Can, Staff};
use crate::view::{self, Chrome, Section};
use crate::ConsoleState;

/// The admin pages and their forms (answered within the page deadline).
pub fn pages() -> Router<ConsoleState> {
    Router::new()
        .route("/admin", get(people::list))
        .route("/admin/people", post(people::add))
        .route("/admin/people/{name}", get(people::page))
        .route("/admin/people/{name}/role", post(people::change_role))
        .route(
            "/admin/people/{name}/password",
            post(people::reset_password),
        )
        .route("/admin/people/{name}/disable", post(people::disable))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .route("/admin/webhooks", get(webhooks::list).post(webhooks::add))
        .route("/admin/webhooks/{id}", get(webhooks::page))
        .route("/admin/webhooks/{id}/redeliver", post(webhooks::redeliver))
        .route("/admin/webhooks/{id}/remove", post(webhooks::remove))
        .route("/admin/projections", get(projections::page))
}

/// The admin pages' live streams (not bounded by the page deadline).
pub fn streams() -> Router<ConsoleState> {
    Router::new().route("/admin/projections/live", get(projections::live))
}

/// The parts of the admin pages, for the sub-navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    People,
    Tokens,
    Webhooks,
    Projections,
}

impl Part {
    const ALL: [Part; 4] = [
        Part::People,
        Part::Tokens,
        Part::Webhooks,
        Part::Projections,
    ];

    fn href(self) -> &'static str {
        match self {
            Part::People => "/admin",
            Part::Tokens => "/admin/tokens",
            Part::Webhooks => "/admin/webhooks",
            Part::Projections => "/admin/projections",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Part::People => "admin-nav-people",
            Part::Tokens => "admin-nav-tokens",
            Part::Webhooks => "admin-nav-webhooks",
            Part::Projections => "admin-nav-projections",
        }
    }
}

/// A link of the sub-navigation.
pub struct NavLink {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

/// What every admin page shares: the layout, the sub-navigation.
pub struct AdminChrome {
    pub c: Chrome,
    pub nav: Vec<NavLink>,
}

fn chrome(staff: &Staff, part: Part, title: String) -> AdminChrome {
    let t = &staff.tr;
    AdminChrome {
        c: Chrome::signed_in(staff, Section::Admin, title),
        nav: Part::ALL
            .into_iter()
            .map(|link| NavLink {
                href: link.href(),
                label: t.t(link.key()),
                current: link == part,
            })
            .collect(),
    }
}

/// A form as it was posted and refused: which form, what was typed, why, and which field.
#[derive(Debug, Default)]
pub struct Posted {
    pub form: &'static str,
    pub values: HashMap<String, String>,
    pub refusal: String,
    pub invalid: Option<&'static str>,
}

/// The forms of a page: the one refused, if any. Templates ask it for values and refusals.
#[derive(Debug, Default)]
pub struct Forms(Option<Posted>);

impl Forms {
    pub fn none() -> Self {
        Self(None)
    }

    pub fn refused(posted: Posted) -> Self {
        Self(Some(posted))
    }

    fn posted(&self, form: &str) -> Option<&Posted> {
        self.0.as_ref().filter(|posted| posted.form == form)
    }

    /// What was typed into `field` of `form` (empty unless that form was refused).
    pub fn value(&self, form: &str, field: &str) -> &str {
        self.posted(form)
            .and_then(|posted| posted.values.get(field))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Why `form` was refused.
    pub fn refusal(&self, form: &str) -> Option<&str> {
        self.posted(form).map(|posted| posted.refusal.as_str())
    }

    /// Whether `field` of `form` is the one refused.
    pub fn is_invalid(&self, form: &str, field: &str) -> bool {
        self.posted(form)
            .is_some_and(|posted| posted.invalid == Some(field))
    }
}

/// A form's CSRF token, then the admin role: a 403 page unless both hold.
fn guard(staff: &Staff, form: &HashMap<String, String>) -> Result<(), Response> {
    staff.check_csrf(form.get("csrf").map(String::as_str))?;
    staff.require(Can::Administer)
}

/// A field of a posted form, trimmed.
fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(|value| value.trim()).unwrap_or("")
}

/// A form's values to keep on a refusal: everything typed but the CSRF token and passwords.
fn kept(form: &HashMap<String, String>) -> HashMap<String, String> {
    form.iter()
        .filter(|(name, _)| !matches!(name.as_str(), "csrf" | "password"))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// A role as a select shows it: (value, label, selected).
pub type RoleChoice = (String, String, bool);

fn role_choices(t: &Tr, roles: &[Role], selected: Option<Role>) -> Vec<RoleChoice> {
    roles
        .iter()
        .map(|role| {
            (
                role.as_str().to_owned(),
                t.value("role", role.as_str()),
                Some(*role) == selected,
            )
        })
        .collect()
}

/// The roles a console account may have (integrations use tokens).
const ACCOUNT_ROLES: [Role; 4] = [Role::Agent, Role::Lead, Role::Auditor, Role::Admin];

/// A role posted by a form, if it is one of `allowed`.
fn posted_role(raw: &str, allowed: &[Role]) -> Option<Role> {
    Role::parse(raw).filter(|role| allowed.contains(role))
}

/// A stored RFC 3339 time as the reader's language shows it (the raw text if unreadable).
fn shown_time(t: &Tr, raw: &str) -> String {
    raw.parse::<jiff::Timestamp>()
        .map(|at| t.datetime(at))
        .unwrap_or_else(|_| raw.to_owned())
}

/// A store that cannot answer: the page says so.
fn unavailable(staff: &Staff, error: &dyn std::fmt::Display) -> Response {
    tracing::warn!(%error, "the admin pages' store");
    view::error_page(
        staff.tr.lang,
        StatusCode::SERVICE_UNAVAILABLE,
        "error-unavailable",
    )
}

fn not_found(staff: &Staff) -> Response {
    view::error_page(staff.tr.lang, StatusCode::NOT_FOUND, "error-not-found")
}

/// The answer when an admin ended their own sessions (their role, password or account
/// changed): the sign-in page, with the cookie removed.
fn signed_out(state: &ConsoleState) -> Response {
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().insert(
        axum::http::header::SET_COOKIE,
        session::clear_cookie(state.secure_cookies),
    );
    response
}

/// The `done` of a redirect after a form, which the page turns into a notice.
#[derive(serde::Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

impl Done {
    fn of(
        query: Result<axum::extract::Query<Done>, axum::extract::rejection::QueryRejection>,
    ) -> String {
        query
            .map(|axum::extract::Query(done)| done.done)
            .unwrap_or_default()
    }
}

//! API tokens: the list (newest first, revoked ones kept), the form that creates one, and
//! revoking. A new token's secret is in the answer to the form's POST and nowhere else: the
//! store keeps its hash, the page is `no-store`, and no address carries it. The API checks
//! every request's token against the store (`Tokens::authenticate`, nothing cached), so a
//! revoked token is refused from the next request on.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use obliged_storage::{Role, TokenError};
use uuid::Uuid;

use super::{
    chrome, field, guard, kept, not_found, posted_role, role_choices, shown_time, unavailable,
    Done, Forms, NavLink, Part, Posted, RoleChoice,
};
use crate::i18n::Tr;
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section};
use crate::ConsoleState;

struct TokenRow {
    id: String,
    name: String,
    role: String,
    created: String,
    revoked: Option<String>,
}

/// A token just created, with its secret: shown on this one answer.
struct Issued {
    name: String,
    /// Who holds it acts as whom, with which role.
    hint: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    t: Tr,
    c: Chrome,
    nav: Vec<NavLink>,
    tokens: Vec<TokenRow>,
    roles: Vec<RoleChoice>,
    f: Forms,
    issued: Option<Issued>,
}

async fn tokens_page(
    state: &ConsoleState,
    staff: &Staff,
    status: StatusCode,
    f: Forms,
    issued: Option<Issued>,
    done: &str,
) -> Response {
    let tokens = match state.tokens.list().await {
        Ok(tokens) => tokens,
        Err(error) => return unavailable(staff, &error),
    };
    let t = staff.tr.clone();
    let tokens = tokens
        .into_iter()
        .rev()
        .map(|token| TokenRow {
            id: token.id.to_string(),
            name: token.name.to_string(),
            role: t.value("role", token.role.as_str()),
            created: shown_time(&t, &token.created_at),
            revoked: token
                .revoked_at
                .as_deref()
                .map(|at| t.t1("admin-revoked-at", "when", &shown_time(&t, at))),
        })
        .collect();
    let chosen = posted_role(f.value("create-token", "role"), &Role::ALL).unwrap_or(Role::Agent);
    let mut chrome = chrome(staff, Part::Tokens, t.t("admin-tokens"));
    if done == "revoked" {
        chrome.c.flash = Some(t.t("admin-done-revoked"));
    }
    let page = TokensPage {
        c: chrome.c,
        nav: chrome.nav,
        roles: role_choices(&t, &Role::ALL, Some(chosen)),
        t,
        tokens,
        f,
        issued,
    };
    view::render(status, &page)
}

/// `/admin/tokens`: the tokens, and the form that creates one.
pub async fn list(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<Done>, QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::Administer) {
        return refused;
    }
    tokens_page(
        &state,
        &staff,
        StatusCode::OK,
        Forms::none(),
        None,
        &Done::of(query),
    )
    .await
}

/// Posted to `/admin/tokens`: creates a token and answers with its secret, once.
pub async fn create(
    State(state): State<ConsoleState>,
    staff: Staff,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = guard(&staff, &form) {
        return refused;
    }
    let t = &staff.tr;
    let refuse = |refusal: String, invalid: &'static str| {
        let posted = Posted {
            form: "create-token",
            values: kept(&form),
            refusal,
            invalid: Some(invalid),
        };
        tokens_page(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Forms::refused(posted),
            None,
            "",
        )
    };
    let Some(role) = posted_role(field(&form, "role"), &Role::ALL) else {
        return refuse(t.t("admin-error-role"), "role").await;
    };
    match state.tokens.create(field(&form, "name"), role).await {
        Ok(issued) => {
            let name = issued.token.name.to_string();
            let role = t.value("role", issued.token.role.as_str());
            let issued = Issued {
                hint: t.ta(
                    "admin-token-secret-hint",
                    &[("name", name.clone()), ("role", role)],
                ),
                name,
                secret: issued.secret,
            };
            tokens_page(
                &state,
                &staff,
                StatusCode::OK,
                Forms::none(),
                Some(issued),
                "",
            )
            .await
        }
        Err(TokenError::InvalidName(_)) => refuse(t.t("admin-error-name"), "name").await,
        Err(TokenError::NameTaken(name)) => {
            refuse(t.t1("admin-error-token-name-taken", "name", &name), "name").await
        }
        Err(error) => unavailable(&staff, &error),
    }
}

/// Posted to `/admin/tokens/{id}/revoke`. Revoking a revoked token again changes nothing and
/// is not an error (a form posted twice).
pub async fn revoke(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = guard(&staff, &form) {
        return refused;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found(&staff);
    };
    let done = Redirect::to("/admin/tokens?done=revoked").into_response();
    match state.tokens.revoke(&id.to_string()).await {
        Ok(_) => done,
        Err(TokenError::NotFound(_)) => match state.tokens.list().await {
            Ok(tokens) if tokens.iter().any(|token| token.id == id) => done,
            Ok(_) => not_found(&staff),
            Err(error) => unavailable(&staff, &error),
        },
        Err(error) => unavailable(&staff, &error),
    }
}

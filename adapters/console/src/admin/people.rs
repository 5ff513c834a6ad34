//! People who sign in to the console: the list with the form that adds someone, and a person's
//! page with the forms that change their role, reset their password and disable them. Each of
//! those ends the person's sessions at once (`Accounts`); the store refuses to leave no active
//! admin, so an admin cannot lock everyone out, themselves included.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use obliged_storage::{Account, AccountError, Role, MIN_PASSWORD_CHARS};

use super::{
    chrome, field, guard, kept, not_found, posted_role, role_choices, shown_time, signed_out,
    unavailable, Done, Forms, NavLink, Part, Posted, RoleChoice, ACCOUNT_ROLES,
};
use crate::i18n::Tr;
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section};
use crate::ConsoleState;

/// A person as the list shows them.
struct PersonRow {
    name: String,
    href: String,
    role: String,
    created: String,
    disabled: bool,
    you: bool,
}

#[derive(Template)]
#[template(path = "admin_people.html")]
struct PeoplePage {
    t: Tr,
    c: Chrome,
    nav: Vec<NavLink>,
    people: Vec<PersonRow>,
    roles: Vec<RoleChoice>,
    f: Forms,
    min_password: usize,
}

fn href(account: &Account) -> String {
    format!("/admin/people/{}", account.name)
}

async fn people_page(
    state: &ConsoleState,
    staff: &Staff,
    status: StatusCode,
    f: Forms,
) -> Response {
    let accounts = match state.accounts.list().await {
        Ok(accounts) => accounts,
        Err(error) => return unavailable(staff, &error),
    };
    let t = staff.tr.clone();
    let people = accounts
        .iter()
        .map(|account| PersonRow {
            name: account.name.to_string(),
            href: href(account),
            role: t.value("role", account.role.as_str()),
            created: shown_time(&t, &account.created_at),
            disabled: account.disabled_at.is_some(),
            you: account.id == staff.session.account.id,
        })
        .collect();
    let chosen = posted_role(f.value("add-person", "role"), &ACCOUNT_ROLES).unwrap_or(Role::Agent);
    let roles = role_choices(&t, &ACCOUNT_ROLES, Some(chosen));
    let chrome = chrome(staff, Part::People, t.t("admin-people"));
    let page = PeoplePage {
        c: chrome.c,
        nav: chrome.nav,
        t,
        people,
        roles,
        f,
        min_password: MIN_PASSWORD_CHARS,
    };
    view::render(status, &page)
}

/// `/admin`: the people, and the form that adds someone.
pub async fn list(State(state): State<ConsoleState>, staff: Staff) -> Response {
    if let Err(refused) = staff.require(Can::Administer) {
        return refused;
    }
    people_page(&state, &staff, StatusCode::OK, Forms::none()).await
}

/// What an account refusal says, and which field it is about; `None` when it is no refusal
/// (the store failed).
fn refusal(t: &Tr, error: &AccountError) -> Option<(String, &'static str)> {
    let min = MIN_PASSWORD_CHARS.to_string();
    Some(match error {
        AccountError::InvalidName(_) => (t.t("admin-error-name"), "name"),
        AccountError::NameTaken(name) => (t.t1("admin-error-name-taken", "name", name), "name"),
        AccountError::NoConsoleRole(_) => (t.t("admin-error-no-console-role"), "role"),
        AccountError::WeakPassword => (t.t1("admin-error-weak-password", "min", &min), "password"),
        AccountError::LastAdmin(name) => (t.t1("admin-error-last-admin", "name", name), "role"),
        AccountError::NotFound(_)
        | AccountError::UnknownLanguage(_)
        | AccountError::Corrupt(..)
        | AccountError::Hashing(_)
        | AccountError::Database(_) => return None,
    })
}

/// Posted to `/admin/people`: adds a person with a role and an initial password.
pub async fn add(
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
            form: "add-person",
            values: kept(&form),
            refusal,
            invalid: Some(invalid),
        };
        people_page(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Forms::refused(posted),
        )
    };
    let Some(role) = posted_role(field(&form, "role"), &ACCOUNT_ROLES) else {
        return refuse(t.t("admin-error-role"), "role").await;
    };
    let password = form.get("password").map(String::as_str).unwrap_or("");
    match state
        .accounts
        .add(field(&form, "name"), role, password)
        .await
    {
        Ok(account) => Redirect::to(&format!("{}?done=added", href(&account))).into_response(),
        Err(error) => match refusal(t, &error) {
            Some((message, invalid)) => refuse(message, invalid).await,
            None => unavailable(&staff, &error),
        },
    }
}

#[derive(Template)]
#[template(path = "admin_person.html")]
struct PersonPage {
    t: Tr,
    c: Chrome,
    nav: Vec<NavLink>,
    name: String,
    action: String,
    role: String,
    created: String,
    disabled: Option<String>,
    you: bool,
    last_admin: bool,
    roles: Vec<RoleChoice>,
    f: Forms,
    min_password: usize,
}

async fn person_page(
    state: &ConsoleState,
    staff: &Staff,
    name: &str,
    status: StatusCode,
    f: Forms,
    done: &str,
) -> Response {
    let accounts = match state.accounts.list().await {
        Ok(accounts) => accounts,
        Err(error) => return unavailable(staff, &error),
    };
    let Some(account) = accounts
        .iter()
        .find(|account| account.name.as_str() == name)
    else {
        return not_found(staff);
    };
    let active_admins = accounts
        .iter()
        .filter(|other| other.role == Role::Admin && other.disabled_at.is_none())
        .count();
    let t = staff.tr.clone();
    let chosen =
        posted_role(f.value("change-role", "role"), &ACCOUNT_ROLES).unwrap_or(account.role);
    let mut chrome = chrome(
        staff,
        Part::People,
        t.t1("admin-person-title", "name", account.name.as_str()),
    );
    let notice = match done {
        "added" => Some("admin-done-added"),
        "role" => Some("admin-done-role"),
        "password" => Some("admin-done-password"),
        "disabled" => Some("admin-done-disabled"),
        _ => None,
    };
    chrome.c.flash = notice.map(|key| t.t(key));
    let page = PersonPage {
        c: chrome.c,
        nav: chrome.nav,
        name: account.name.to_string(),
        action: href(account),
        role: t.value("role", account.role.as_str()),
        created: shown_time(&t, &account.created_at),
        disabled: account
            .disabled_at
            .as_deref()
            .map(|at| t.t1("admin-disabled-since", "when", &shown_time(&t, at))),
        you: account.id == staff.session.account.id,
        last_admin: account.role == Role::Admin
            && account.disabled_at.is_none()
            && active_admins == 1,
        roles: role_choices(&t, &ACCOUNT_ROLES, Some(chosen)),
        t,
        f,
        min_password: MIN_PASSWORD_CHARS,
    };
    view::render(status, &page)
}

/// `/admin/people/{name}`: one person, with the forms that change them.
pub async fn page(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(name): Path<String>,
    query: Result<Query<Done>, QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::Administer) {
        return refused;
    }
    person_page(
        &state,
        &staff,
        &name,
        StatusCode::OK,
        Forms::none(),
        &Done::of(query),
    )
    .await
}

/// Why a change of a person was not made.
enum Refused {
    /// A rule of the store: the message, beside the field it is about.
    Explained(String, &'static str),
    /// The store failed.
    Failed(AccountError),
}

impl Refused {
    fn of(t: &Tr, error: AccountError) -> Self {
        match refusal(t, &error) {
            Some((message, field)) => Self::Explained(message, field),
            None => Self::Failed(error),
        }
    }
}

/// What a change of a person came to.
enum Changed {
    /// Their page, with a notice.
    Shown(&'static str),
    /// The admin changed themselves: their own sessions ended.
    SignedOut,
}

/// Runs a form of a person's page: the CSRF token and the role first, then `change`; answers
/// with a redirect to the page (or to the sign-in page, when the admin's own sessions ended),
/// the page again with the refusal beside form `form`, or an error page.
async fn person_form<F, Fut>(
    state: ConsoleState,
    staff: Staff,
    name: String,
    form: HashMap<String, String>,
    form_id: &'static str,
    change: F,
) -> Response
where
    F: FnOnce(ConsoleState, Account, HashMap<String, String>) -> Fut,
    Fut: std::future::Future<Output = Result<Changed, Refused>>,
{
    if let Err(refused) = guard(&staff, &form) {
        return refused;
    }
    let account = match state.accounts.find(&name).await {
        Ok(account) => account,
        Err(AccountError::NotFound(_) | AccountError::InvalidName(_)) => return not_found(&staff),
        Err(error) => return unavailable(&staff, &error),
    };
    let path = href(&account);
    match change(state.clone(), account, form.clone()).await {
        Ok(Changed::Shown(done)) => Redirect::to(&format!("{path}?done={done}")).into_response(),
        Ok(Changed::SignedOut) => signed_out(&state),
        Err(Refused::Failed(error)) => unavailable(&staff, &error),
        Err(Refused::Explained(refusal, invalid)) => {
            let posted = Posted {
                form: form_id,
                values: kept(&form),
                refusal,
                invalid: Some(invalid),
            };
            person_page(
                &state,
                &staff,
                &name,
                StatusCode::UNPROCESSABLE_ENTITY,
                Forms::refused(posted),
                "",
            )
            .await
        }
    }
}

/// Posted to `/admin/people/{name}/role`.
pub async fn change_role(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(name): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let tr = staff.tr.clone();
    let me = staff.session.account.id;
    person_form(
        state,
        staff,
        name,
        form,
        "change-role",
        |state, account, form| async move {
            let Some(role) = posted_role(field(&form, "role"), &ACCOUNT_ROLES) else {
                return Err(Refused::Explained(tr.t("admin-error-role"), "role"));
            };
            let changed = state
                .accounts
                .set_role(account.name.as_str(), role)
                .await
                .map_err(|error| Refused::of(&tr, error))?;
            Ok(if account.id == me && changed.role != account.role {
                Changed::SignedOut
            } else {
                Changed::Shown("role")
            })
        },
    )
    .await
}

/// Posted to `/admin/people/{name}/password`.
pub async fn reset_password(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(name): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let tr = staff.tr.clone();
    let me = staff.session.account.id;
    person_form(
        state,
        staff,
        name,
        form,
        "reset-password",
        |state, account, form| async move {
            let password = form.get("password").map(String::as_str).unwrap_or("");
            state
                .accounts
                .reset_password(account.name.as_str(), password)
                .await
                .map_err(|error| Refused::of(&tr, error))?;
            Ok(if account.id == me {
                Changed::SignedOut
            } else {
                Changed::Shown("password")
            })
        },
    )
    .await
}

/// Posted to `/admin/people/{name}/disable`.
pub async fn disable(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(name): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let tr = staff.tr.clone();
    let me = staff.session.account.id;
    person_form(
        state,
        staff,
        name,
        form,
        "disable-person",
        |state, account, _| async move {
            state
                .accounts
                .disable(account.name.as_str())
                .await
                .map_err(|error| Refused::of(&tr, error))?;
            Ok(if account.id == me {
                Changed::SignedOut
            } else {
                Changed::Shown("disabled")
            })
        },
    )
    .await
}

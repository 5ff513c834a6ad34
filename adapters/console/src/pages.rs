//! Signing in and out, and the person's settings.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use obliged_storage::{constant_time_eq, LANGUAGES};

use crate::i18n::Tr;
use crate::session::{self, Staff};
use crate::view::{self, Chrome, Section};
use crate::ConsoleState;

/// The cookie that pairs the sign-in form with its post (a CSRF token before any session).
const SIGN_IN_COOKIE: &str = "obliged_sign_in";

pub async fn root(staff: Result<Staff, Response>) -> Response {
    match staff {
        Ok(_) => Redirect::to("/my-work").into_response(),
        Err(_) => Redirect::to("/sign-in").into_response(),
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    t: Tr,
    c: Chrome,
    csrf: String,
    name: String,
    error: Option<String>,
}

fn sign_in_page(
    state: &ConsoleState,
    headers: &HeaderMap,
    status: StatusCode,
    name: String,
    error: Option<String>,
) -> Response {
    let lang = session::language(headers, None);
    let t = Tr::new(lang, state.zone());
    let csrf = uuid::Uuid::new_v4().simple().to_string();
    let page = SignInPage {
        c: Chrome::signed_out(lang, t.t("sign-in-title")),
        t,
        csrf: csrf.clone(),
        name,
        error,
    };
    let mut response = view::render(status, &page);
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{SIGN_IN_COOKIE}={csrf}; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
        ))
        .expect("a hex token is a valid header"),
    );
    response
}

pub async fn sign_in_form(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    staff: Result<Staff, Response>,
) -> Response {
    if staff.is_ok() {
        return Redirect::to("/my-work").into_response();
    }
    sign_in_page(&state, &headers, StatusCode::OK, String::new(), None)
}

fn sign_in_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SIGN_IN_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
}

pub async fn sign_in(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = session::language(&headers, None);
    let t = Tr::new(lang, state.zone());
    let name = form.get("name").map(|name| name.trim()).unwrap_or_default();
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let paired = match (form.get("csrf"), sign_in_cookie(&headers)) {
        (Some(sent), Some(expected)) => constant_time_eq(sent, &expected),
        _ => false,
    };
    if !paired {
        return view::error_page(lang, StatusCode::FORBIDDEN, "error-csrf");
    }
    if let Err(wait) = state.throttle.attempt(name, session::peer(&extensions)) {
        let mut response = sign_in_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            name.to_owned(),
            Some(t.t1("sign-in-throttled", "seconds", &wait.to_string())),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&wait.to_string()).expect("digits"),
        );
        return response;
    }
    let account = match state.accounts.verify(name, password).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            return sign_in_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                name.to_owned(),
                Some(t.t("sign-in-failed")),
            )
        }
        Err(error) => {
            tracing::warn!(%error, "checking a console password");
            return view::error_page(lang, StatusCode::SERVICE_UNAVAILABLE, "error-unavailable");
        }
    };
    match state.accounts.start_session(&account).await {
        Ok(started) => {
            let mut response = Redirect::to("/my-work").into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                session::set_cookie(
                    &started.secret,
                    state.accounts.settings().absolute,
                    state.secure_cookies,
                ),
            );
            headers.append(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "obliged_sign_in=; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=0",
                ),
            );
            response
        }
        Err(error) => {
            tracing::warn!(%error, "starting a console session");
            view::error_page(lang, StatusCode::SERVICE_UNAVAILABLE, "error-unavailable")
        }
    }
}

pub async fn sign_out(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = staff.check_csrf(form.get("csrf").map(String::as_str)) {
        return refused;
    }
    if let Some(secret) = session::cookie_secret(&headers) {
        if let Err(error) = state.accounts.end_session(&secret).await {
            tracing::warn!(%error, "ending a console session");
            return view::error_page(
                staff.tr.lang,
                StatusCode::SERVICE_UNAVAILABLE,
                "error-unavailable",
            );
        }
    }
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::clear_cookie(state.secure_cookies),
    );
    response
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    t: Tr,
    c: Chrome,
    /// (value, label, selected)
    languages: Vec<(String, String, bool)>,
}

fn settings_page(staff: &Staff, saved: bool) -> Response {
    let t = staff.tr.clone();
    let chosen = staff.session.account.language.as_deref();
    let mut languages = vec![("auto".to_owned(), t.t("language-auto"), chosen.is_none())];
    for code in LANGUAGES {
        languages.push((
            (*code).to_owned(),
            t.t(&format!("language-{code}")),
            chosen == Some(*code),
        ));
    }
    let mut c = Chrome::signed_in(staff, Section::Settings, t.t("settings-title"));
    if saved {
        c.flash = Some(t.t("settings-saved"));
    }
    view::render(StatusCode::OK, &SettingsPage { t, c, languages })
}

pub async fn settings(staff: Staff) -> Response {
    settings_page(&staff, false)
}

pub async fn save_settings(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    staff: Staff,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = staff.check_csrf(form.get("csrf").map(String::as_str)) {
        return refused;
    }
    let language = match form.get("language").map(String::as_str) {
        None | Some("auto") => None,
        Some(code) if LANGUAGES.contains(&code) => Some(code),
        Some(_) => {
            return view::error_page(staff.tr.lang, StatusCode::BAD_REQUEST, "error-bad-form")
        }
    };
    if let Err(error) = state
        .accounts
        .set_language(staff.session.account.id, language)
        .await
    {
        tracing::warn!(%error, "saving console settings");
        return view::error_page(
            staff.tr.lang,
            StatusCode::SERVICE_UNAVAILABLE,
            "error-unavailable",
        );
    }
    let mut staff = staff;
    staff.session.account.language = language.map(str::to_owned);
    staff.tr = Tr::new(
        session::language(&headers, language),
        staff.tr.zone().clone(),
    );
    settings_page(&staff, true)
}

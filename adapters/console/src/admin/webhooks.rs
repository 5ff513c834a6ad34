//! Webhook subscriptions: the list with each one's state, position and lag, the form that adds
//! one (its signing secret in the answer, once), and a subscription's page with its delivery
//! status, its dead letters, and the forms that redeliver from a position and remove it.
//! `Webhooks` checks everything (the URL's shape and the egress policy, event names, attempts,
//! positions); a subscription made here has no token as its owner, like one made on the
//! command line, so only admins see it over the API.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use obliged_webhooks::{
    DeadLetter, NewSubscription, Start, SubscriptionStatus, WebhookError, MAX_ATTEMPTS_LIMIT,
};
use uuid::Uuid;

use super::{
    chrome, field, guard, kept, not_found, unavailable, Done, Forms, NavLink, Part, Posted,
};
use crate::i18n::Tr;
use crate::lists::Choice;
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section};
use crate::ConsoleState;

/// A subscription as the pages show it.
struct WebhookView {
    id: String,
    href: String,
    url: String,
    events: String,
    /// `active`, `stopped` or `removed`: the badge's class and the state's word.
    state: &'static str,
    state_label: String,
    /// Why a subscription that is not removed delivers nothing (its token was revoked).
    stopped: Option<String>,
    active: bool,
    created: String,
    owner: String,
    position: u64,
    head: u64,
    lag: u64,
    attempts: u32,
    max_attempts: u32,
    next_attempt: String,
    last_delivered: String,
    last_error: Option<String>,
    last_error_at: String,
    dead_letters: u64,
}

fn view_of(t: &Tr, status: SubscriptionStatus) -> WebhookView {
    let subscription = status.subscription;
    let time =
        |at: Option<Timestamp>, none: &str| at.map_or_else(|| t.t(none), |at| t.datetime(at));
    let (state, key) = if !subscription.is_active() {
        ("removed", "admin-webhook-removed")
    } else if status.stopped.is_some() {
        ("stopped", "admin-webhook-stopped")
    } else {
        ("active", "admin-active")
    };
    WebhookView {
        id: subscription.id.to_string(),
        href: format!("/admin/webhooks/{}", subscription.id),
        events: if subscription.event_types.is_empty() {
            t.t("admin-webhook-all-events")
        } else {
            subscription.event_types.join(", ")
        },
        url: subscription.url.clone(),
        state,
        state_label: t.t(key),
        stopped: status.stopped,
        active: subscription.is_active(),
        created: t.datetime(subscription.created_at),
        owner: subscription
            .owner
            .map_or_else(|| t.t("admin-webhook-owner-operator"), |owner| owner.name),
        position: status.position,
        head: status.head,
        lag: status.lag,
        attempts: status.attempts,
        max_attempts: subscription.max_attempts,
        next_attempt: time(status.next_attempt_at, "admin-webhook-due-now"),
        last_delivered: time(status.last_delivered_at, "admin-webhook-never"),
        last_error: status.last_error,
        last_error_at: time(status.last_error_at, "admin-webhook-none"),
        dead_letters: status.dead_letters,
    }
}

/// A subscription just made, with its signing secret: shown on this one answer.
struct Created {
    href: String,
    url: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage {
    t: Tr,
    c: Chrome,
    nav: Vec<NavLink>,
    webhooks: Vec<WebhookView>,
    starts: Vec<Choice>,
    f: Forms,
    created: Option<Created>,
    max_attempts: u32,
    attempts_hint: String,
}

async fn webhooks_page(
    state: &ConsoleState,
    staff: &Staff,
    status: StatusCode,
    f: Forms,
    created: Option<Created>,
    done: &str,
) -> Response {
    let subscriptions = match state.webhooks.list().await {
        Ok(subscriptions) => subscriptions,
        Err(error) => return unavailable(staff, &error),
    };
    let t = staff.tr.clone();
    // Newest first; removed ones after the rest.
    let mut webhooks: Vec<WebhookView> = subscriptions
        .into_iter()
        .rev()
        .map(|status| view_of(&t, status))
        .collect();
    webhooks.sort_by_key(|webhook| !webhook.active);
    let chosen = f.value("add-webhook", "start");
    let starts = [
        ("next", "admin-webhook-start-next"),
        ("beginning", "admin-webhook-start-beginning"),
    ]
    .into_iter()
    .map(|(value, key)| (value.to_owned(), t.t(key), chosen == value))
    .collect();
    let attempts_hint = t.ta(
        "admin-webhook-max-attempts-hint",
        &[
            ("max", MAX_ATTEMPTS_LIMIT.to_string()),
            (
                "default",
                state.webhooks.settings().default_max_attempts.to_string(),
            ),
        ],
    );
    let mut chrome = chrome(staff, Part::Webhooks, t.t("admin-webhooks"));
    if done == "removed" {
        chrome.c.flash = Some(t.t("admin-done-webhook-removed"));
    }
    let page = WebhooksPage {
        c: chrome.c,
        nav: chrome.nav,
        t,
        webhooks,
        starts,
        f,
        created,
        max_attempts: MAX_ATTEMPTS_LIMIT,
        attempts_hint,
    };
    view::render(status, &page)
}

/// `/admin/webhooks`: the subscriptions, and the form that adds one.
pub async fn list(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<Done>, QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::Administer) {
        return refused;
    }
    webhooks_page(
        &state,
        &staff,
        StatusCode::OK,
        Forms::none(),
        None,
        &Done::of(query),
    )
    .await
}

/// What a webhook refusal says, and which field it is about; `None` when it is no refusal
/// (the store failed, or the subscription does not exist).
fn refusal(t: &Tr, error: &WebhookError) -> Option<(String, &'static str)> {
    Some(match error {
        WebhookError::InvalidUrl { reason, .. } => {
            (t.t1("admin-error-webhook-url", "reason", reason), "url")
        }
        WebhookError::InvalidEventType(name) => {
            (t.t1("admin-error-event-type", "name", name), "event_types")
        }
        WebhookError::InvalidMaxAttempts { max, .. } => (
            t.t1("admin-error-max-attempts", "max", &max.to_string()),
            "max_attempts",
        ),
        WebhookError::PositionOutOfRange { next, .. } => (
            t.t1("admin-error-position", "next", &next.to_string()),
            "from",
        ),
        WebhookError::Removed(_) => (t.t("admin-error-webhook-removed"), "from"),
        WebhookError::TooManySubscriptions { .. } => (t.t("admin-error-webhook-limit"), "url"),
        _ => return None,
    })
}

/// The shape a webhook URL must have before the URL parser, which would forgive much
/// (`http:x`, characters it percent-encodes), sees it: `http://` or `https://`, then visible
/// ASCII without `#` (as the API requires).
fn well_shaped(url: &str) -> bool {
    ["http://", "https://"].into_iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
            && url.len() > scheme.len()
            && url[scheme.len()..]
                .bytes()
                .all(|byte| byte.is_ascii_graphic() && byte != b'#')
    })
}

/// Posted to `/admin/webhooks`: subscribes and answers with the signing secret, once.
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
            form: "add-webhook",
            values: kept(&form),
            refusal,
            invalid: Some(invalid),
        };
        webhooks_page(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Forms::refused(posted),
            None,
            "",
        )
    };
    let url = field(&form, "url");
    if !well_shaped(url) {
        return refuse(t.t("admin-error-webhook-url-shape"), "url").await;
    }
    let event_types: Vec<String> = field(&form, "event_types")
        .split(|character: char| character == ',' || character.is_whitespace())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    let start = match field(&form, "start") {
        "" | "next" => Start::Next,
        "beginning" => Start::Beginning,
        _ => return view::error_page(t.lang, StatusCode::BAD_REQUEST, "error-bad-form"),
    };
    let max_attempts = match field(&form, "max_attempts") {
        "" => None,
        raw => match raw.parse::<u32>() {
            Ok(attempts) => Some(attempts),
            Err(_) => {
                let max = MAX_ATTEMPTS_LIMIT.to_string();
                return refuse(
                    t.t1("admin-error-max-attempts", "max", &max),
                    "max_attempts",
                )
                .await;
            }
        },
    };
    let request = NewSubscription {
        url: url.to_owned(),
        event_types,
        secret: None,
        max_attempts,
        start,
        owner: None,
    };
    match state.webhooks.subscribe(request).await {
        Ok(made) => {
            let created = Created {
                href: format!("/admin/webhooks/{}", made.subscription.id),
                url: made.subscription.url,
                secret: made.secret.expose().to_owned(),
            };
            webhooks_page(
                &state,
                &staff,
                StatusCode::OK,
                Forms::none(),
                Some(created),
                "",
            )
            .await
        }
        Err(error) => match refusal(t, &error) {
            Some((message, invalid)) => refuse(message, invalid).await,
            None => unavailable(&staff, &error),
        },
    }
}

struct LetterRow {
    position: u64,
    event_type: String,
    attempts: u32,
    last_error: String,
    at: String,
}

#[derive(Template)]
#[template(path = "admin_webhook.html")]
struct WebhookPage {
    t: Tr,
    c: Chrome,
    nav: Vec<NavLink>,
    w: WebhookView,
    letters: Vec<LetterRow>,
    f: Forms,
    /// The next position the ledger will hold: the most a redelivery may start at.
    next: u64,
    /// What the redeliver form offers: the oldest dead letter's position, if any.
    from: String,
}

async fn webhook_page(
    state: &ConsoleState,
    staff: &Staff,
    id: Uuid,
    status: StatusCode,
    f: Forms,
    done: &str,
) -> Response {
    let (subscription, letters) = match load(state, id).await {
        Ok(loaded) => loaded,
        Err(WebhookError::NotFound(_)) => return not_found(staff),
        Err(error) => return unavailable(staff, &error),
    };
    let t = staff.tr.clone();
    let next = subscription.head + 1;
    let from = match f.refusal("redeliver") {
        Some(_) => f.value("redeliver", "from").to_owned(),
        None => letters
            .first()
            .map(|letter| letter.position.to_string())
            .unwrap_or_default(),
    };
    let letters = letters
        .into_iter()
        .map(|letter| LetterRow {
            position: letter.position,
            event_type: letter.event_type,
            attempts: letter.attempts,
            last_error: letter.last_error,
            at: t.datetime(letter.dead_lettered_at),
        })
        .collect();
    let w = view_of(&t, subscription);
    let mut chrome = chrome(
        staff,
        Part::Webhooks,
        t.t1("admin-webhook-title", "id", &crate::lists::short_id(&w.id)),
    );
    if done == "redeliver" {
        chrome.c.flash = Some(t.t("admin-done-redeliver"));
    }
    let page = WebhookPage {
        c: chrome.c,
        nav: chrome.nav,
        t,
        w,
        letters,
        f,
        next,
        from,
    };
    view::render(status, &page)
}

async fn load(
    state: &ConsoleState,
    id: Uuid,
) -> Result<(SubscriptionStatus, Vec<DeadLetter>), WebhookError> {
    let status = state.webhooks.status(id).await?;
    let letters = state.webhooks.dead_letters(id).await?;
    Ok((status, letters))
}

/// `/admin/webhooks/{id}`: one subscription, its dead letters, and its forms.
pub async fn page(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(id): Path<String>,
    query: Result<Query<Done>, QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::Administer) {
        return refused;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found(&staff);
    };
    webhook_page(
        &state,
        &staff,
        id,
        StatusCode::OK,
        Forms::none(),
        &Done::of(query),
    )
    .await
}

/// Posted to `/admin/webhooks/{id}/redeliver`: delivery starts again at a position.
pub async fn redeliver(
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
    let t = &staff.tr;
    let refuse = |refusal: String| {
        let posted = Posted {
            form: "redeliver",
            values: kept(&form),
            refusal,
            invalid: Some("from"),
        };
        webhook_page(
            &state,
            &staff,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Forms::refused(posted),
            "",
        )
    };
    let result = match field(&form, "from").parse::<u64>() {
        Ok(from) => state.webhooks.redeliver_from(id, from).await,
        // Not a position: the store says which ones are.
        Err(_) => state.webhooks.redeliver_from(id, 0).await,
    };
    match result {
        Ok(()) => Redirect::to(&format!("/admin/webhooks/{id}?done=redeliver")).into_response(),
        Err(WebhookError::NotFound(_)) => not_found(&staff),
        Err(error) => match refusal(t, &error) {
            Some((message, _)) => refuse(message).await,
            None => unavailable(&staff, &error),
        },
    }
}

/// Posted to `/admin/webhooks/{id}/remove`: nothing more is delivered. Removing twice is not
/// an error (a form posted twice).
pub async fn remove(
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
    match state.webhooks.remove(id).await {
        Ok(_) => Redirect::to("/admin/webhooks?done=removed").into_response(),
        Err(WebhookError::NotFound(_)) => not_found(&staff),
        Err(error) => unavailable(&staff, &error),
    }
}

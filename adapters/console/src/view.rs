//! What every page shares: the layout's data ([`Chrome`]), rendering a template into a
//! response with a status, times shown with their countdown ([`When`]), and the error pages.
//!
//! askama renders; this module turns the result into a response. (askama_web would do that for
//! a `200 OK` only; the console answers refusals with 422, throttling with 429 and forbidden
//! pages with 403, all as whole pages, so it renders itself.)

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use crate::i18n::{Lang, Tr};
use crate::session::{Can, Staff};

/// The top-level sections, to mark the current one in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    None,
    MyWork,
    Complaints,
    NewComplaint,
    Team,
    Reports,
    Settings,
    Admin,
}

/// The layout's data: language, who is signed in, the navigation.
pub struct Chrome {
    pub lang: &'static str,
    /// The page's title (without the product's name).
    pub title: String,
    /// `None` when nobody is signed in.
    pub who: Option<String>,
    pub role: String,
    pub csrf: String,
    pub section: Section,
    pub can_command: bool,
    pub can_lead: bool,
    pub can_report: bool,
    pub can_administer: bool,
    /// A notice for the page (a command that succeeded).
    pub flash: Option<String>,
}

impl Chrome {
    pub fn signed_in(staff: &Staff, section: Section, title: String) -> Self {
        Self {
            lang: staff.tr.lang.code(),
            title,
            who: Some(staff.name().to_owned()),
            role: staff.tr.value("role", staff.role().as_str()),
            csrf: staff.session.csrf.clone(),
            section,
            can_command: staff.can(Can::Command),
            can_lead: staff.can(Can::TakeOver),
            can_report: staff.can(Can::Report),
            can_administer: staff.can(Can::Administer),
            flash: None,
        }
    }

    pub fn signed_out(lang: Lang, title: String) -> Self {
        Self {
            lang: lang.code(),
            title,
            who: None,
            role: String::new(),
            csrf: String::new(),
            section: Section::None,
            can_command: false,
            can_lead: false,
            can_report: false,
            can_administer: false,
            flash: None,
        }
    }

    pub fn is(&self, section: Section) -> bool {
        self.section == section
    }
}

/// A moment as the console shows it: the absolute time in the policy's zone and a countdown.
#[derive(Debug, Clone)]
pub struct When {
    /// RFC 3339, for `<time datetime>` (the countdown script reads it).
    pub iso: String,
    pub absolute: String,
    pub relative: String,
    pub overdue: bool,
}

impl When {
    pub fn new(tr: &Tr, at: Timestamp, now: Timestamp) -> Self {
        Self {
            iso: at.to_string(),
            absolute: tr.datetime(at),
            relative: tr.countdown(at, now),
            overdue: at < now,
        }
    }
}

/// Renders `template` as a whole response with `status`.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            html,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a console template");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// The request's `Accept-Language`, if readable.
pub fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Tr,
    c: Chrome,
    status: u16,
    heading: String,
    message: String,
    id: &'static str,
}

/// A whole page explaining an error; `key` names its message in the catalog (`key` for the
/// heading, `key-detail` for the text).
pub fn error_page(lang: Lang, status: StatusCode, key: &str) -> Response {
    let t = Tr::new(lang, jiff::tz::TimeZone::UTC);
    let heading = t.t(key);
    let page = ErrorPage {
        c: Chrome::signed_out(lang, heading.clone()),
        message: t.t(&format!("{key}-detail")),
        heading,
        status: status.as_u16(),
        id: match status {
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            _ => "error",
        },
        t,
    };
    render(status, &page)
}

/// `text` with HTML's special characters escaped, for a fragment written without a template.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

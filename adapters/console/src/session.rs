//! Who is signed in: the session cookie, the signed-in person as an extractor ([`Staff`]), the
//! CSRF check of forms, what each role may do in the console, and sign-in throttling.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use governor::{DefaultKeyedRateLimiter, Quota};
use obliged_storage::{constant_time_eq, Role, Session};

use crate::i18n::{Lang, Tr};
use crate::view;
use crate::ConsoleState;

/// The session cookie's name.
pub const COOKIE: &str = "obliged_session";

/// The session secret in the request's cookie, if any.
pub fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
}

/// The `Set-Cookie` value that gives the browser `secret` for the session's lifetime.
pub fn set_cookie(secret: &str, max_age: std::time::Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.as_secs()
    ))
    .expect("a base64url secret is a valid header")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .expect("a constant is a valid header")
}

/// What a person may do in the console, by role (the same table as the API's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Can {
    /// Read complaints and their histories.
    Read,
    /// Run commands on complaints.
    Command,
    /// Take a complaint over from its owner, and see the team's queues (the Team page).
    TakeOver,
    /// Read the accountability reports.
    Report,
    /// Manage people (the admin pages).
    Administer,
}

pub fn allowed(role: Role, can: Can) -> bool {
    match can {
        Can::Read => matches!(role, Role::Agent | Role::Lead | Role::Auditor | Role::Admin),
        Can::Command => matches!(role, Role::Agent | Role::Lead | Role::Admin),
        Can::TakeOver => matches!(role, Role::Lead | Role::Admin),
        Can::Report => matches!(role, Role::Lead | Role::Auditor | Role::Admin),
        Can::Administer => role == Role::Admin,
    }
}

/// The signed-in person of a request, with the language their pages speak.
pub struct Staff {
    pub session: Session,
    pub tr: Tr,
}

impl Staff {
    pub fn name(&self) -> &str {
        self.session.account.name.as_str()
    }

    pub fn role(&self) -> Role {
        self.session.account.role
    }

    pub fn can(&self, can: Can) -> bool {
        allowed(self.role(), can)
    }

    /// A 403 page unless the person may do `can`.
    pub fn require(&self, can: Can) -> Result<(), Response> {
        if self.can(can) {
            Ok(())
        } else {
            Err(view::error_page(
                self.tr.lang,
                StatusCode::FORBIDDEN,
                "error-forbidden",
            ))
        }
    }

    /// A 403 page unless `sent` is this session's CSRF token.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Response> {
        match sent {
            Some(sent) if constant_time_eq(sent, &self.session.csrf) => Ok(()),
            _ => Err(view::error_page(
                self.tr.lang,
                StatusCode::FORBIDDEN,
                "error-csrf",
            )),
        }
    }
}

/// The language of a request: the account's choice, else the browser's.
pub fn language(headers: &HeaderMap, setting: Option<&str>) -> Lang {
    Lang::negotiate(setting, view::accept_language(headers))
}

impl FromRequestParts<ConsoleState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ConsoleState) -> Result<Self, Response> {
        let htmx = parts.headers.contains_key("hx-request");
        let signed_out = || {
            if htmx {
                // htmx follows a redirect inside the page; make it load the sign-in page.
                let mut response = StatusCode::UNAUTHORIZED.into_response();
                response
                    .headers_mut()
                    .insert("hx-redirect", HeaderValue::from_static("/sign-in"));
                response
            } else {
                Redirect::to("/sign-in").into_response()
            }
        };
        let Some(secret) = cookie_secret(&parts.headers) else {
            return Err(signed_out());
        };
        match state.accounts.session(&secret).await {
            Ok(Some(session)) => {
                let lang = language(&parts.headers, session.account.language.as_deref());
                Ok(Staff {
                    tr: Tr::new(lang, state.zone()),
                    session,
                })
            }
            Ok(None) => Err(signed_out()),
            Err(error) => {
                tracing::warn!(%error, "looking up a console session");
                let lang = language(&parts.headers, None);
                Err(view::error_page(
                    lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error-unavailable",
                ))
            }
        }
    }
}

/// The peer's address, if the server recorded it.
pub fn peer(parts: &axum::http::Extensions) -> Option<IpAddr> {
    parts
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
}

/// Sign-in attempts allowed per account name and per address (governor's keyed limiters, in
/// memory: each instance counts its own attempts).
pub struct Throttle {
    by_account: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for Throttle {
    /// Five attempts per account, then one more every 20 s; 60 per address, then one a second.
    fn default() -> Self {
        Self::new(5, 20, 60, 1)
    }
}

impl Throttle {
    /// `account_burst` attempts per account, then one every `account_every_secs`; likewise per
    /// address.
    pub fn new(
        account_burst: u32,
        account_every_secs: u64,
        address_burst: u32,
        address_every_secs: u64,
    ) -> Self {
        let quota = |burst: u32, every: u64| {
            Quota::with_period(std::time::Duration::from_secs(every.max(1)))
                .expect("a period of at least a second")
                .allow_burst(NonZeroU32::new(burst.max(1)).expect("at least one"))
        };
        Self {
            by_account: DefaultKeyedRateLimiter::keyed(quota(account_burst, account_every_secs)),
            by_address: DefaultKeyedRateLimiter::keyed(quota(address_burst, address_every_secs)),
        }
    }

    /// Counts an attempt to sign in as `name` from `address`; `Err` with the seconds to wait
    /// when either has used its attempts.
    pub fn attempt(&self, name: &str, address: Option<IpAddr>) -> Result<(), u64> {
        let clock = governor::clock::DefaultClock::default();
        let wait = |not_until: governor::NotUntil<governor::clock::QuantaInstant>| {
            use governor::clock::Clock as _;
            not_until.wait_time_from(clock.now()).as_secs().max(1)
        };
        if let Some(address) = address {
            self.by_address.check_key(&address).map_err(wait)?;
        }
        self.by_account
            .check_key(&name.to_lowercase())
            .map_err(wait)?;
        Ok(())
    }
}

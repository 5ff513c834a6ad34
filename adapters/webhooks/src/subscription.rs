//! What a subscription is to its callers: the request that creates one (validated here), the
//! secret that signs its deliveries, its stored configuration, its delivery status and its dead
//! letters. No I/O: the store and the worker use these types.

use std::fmt;

use jiff::Timestamp;
use rand::RngCore;
use reqwest::Url;
use serde::Serialize;
use uuid::Uuid;

use crate::error::WebhookError;
use crate::signature::hex;

const SECRET_PREFIX: &str = "whsec_";
const MIN_SECRET_LEN: usize = 16;
const MAX_SECRET_LEN: usize = 256;
const MAX_URL_LEN: usize = 2_048;
const MAX_EVENT_TYPE_LEN: usize = 64;

/// The key that signs a subscription's deliveries. Stored (it is needed for every signature)
/// and shown to the subscriber once, when the subscription is created; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// A fresh secret: `whsec_` and 32 random bytes in hex.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(format!("{SECRET_PREFIX}{}", hex(&bytes)))
    }

    /// A secret chosen by the subscriber: 16 to 256 visible ASCII characters, so that it can be
    /// typed into a configuration file without surprises.
    pub fn parse(raw: &str) -> Result<Self, WebhookError> {
        if raw.len() < MIN_SECRET_LEN {
            return Err(WebhookError::InvalidSecret(
                "it must be at least 16 characters long",
            ));
        }
        if raw.len() > MAX_SECRET_LEN {
            return Err(WebhookError::InvalidSecret(
                "it must be at most 256 characters long",
            ));
        }
        if !raw.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(WebhookError::InvalidSecret(
                "it may contain visible ASCII characters only (no spaces)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn from_stored(stored: String) -> Self {
        Self(stored)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("WebhookSecret([hidden])")
    }
}

/// Where a new subscription starts in the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Start {
    /// With the first entry sequenced after the subscription is created.
    #[default]
    Next,
    /// With ledger position 1: the whole history.
    Beginning,
    /// With this position (inclusive); at most the next position to be sequenced.
    At(u64),
}

/// A request to subscribe.
#[derive(Debug, Clone, Default)]
pub struct NewSubscription {
    /// An `http` or `https` URL that receives a POST per entry.
    pub url: String,
    /// Event type names (`ContactLogged`) to deliver; empty delivers every event.
    pub event_types: Vec<String>,
    /// The signing secret; generated when `None`.
    pub secret: Option<String>,
    /// Attempts per entry before it is dead-lettered; the settings' default when `None`.
    pub max_attempts: Option<u32>,
    pub start: Start,
    /// The token it is made with; `None` when the operator makes it on the command line.
    pub owner: Option<SubscriptionOwner>,
}

/// Who made a subscription: the API token (its id, and its name for people). An integration
/// sees and changes only its own; a subscription stops when its token is revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionOwner {
    pub token_id: Uuid,
    pub name: String,
}

/// A subscription's configuration (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    pub id: Uuid,
    pub url: String,
    /// Empty means every event type.
    pub event_types: Vec<String>,
    pub max_attempts: u32,
    pub created_at: Timestamp,
    /// Set once the subscription is removed; nothing is delivered after that.
    pub removed_at: Option<Timestamp>,
    /// The token that made it; `None` for the operator's (command line) and older ones.
    pub owner: Option<SubscriptionOwner>,
}

impl Subscription {
    pub fn is_active(&self) -> bool {
        self.removed_at.is_none()
    }

    /// Whether an entry of this event type is delivered.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|wanted| wanted == event_type)
    }
}

/// A new subscription with its secret, which is never shown again.
#[derive(Debug, Clone)]
pub struct CreatedSubscription {
    pub subscription: Subscription,
    pub secret: WebhookSecret,
}

/// How far a subscription has got and how its current entry is faring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionStatus {
    #[serde(flatten)]
    pub subscription: Subscription,
    /// The last ledger position this subscription is done with: delivered, skipped by its
    /// event-type filter, or dead-lettered. Delivery continues at `position + 1`.
    pub position: u64,
    /// The ledger's head when the status was read.
    pub head: u64,
    /// `head − position`: entries not yet dealt with (including ones the filter will skip).
    pub lag: u64,
    /// Failed attempts on the entry after `position`.
    pub attempts: u32,
    /// When the entry after `position` is tried again; `None` when it is due at once.
    pub next_attempt_at: Option<Timestamp>,
    /// The most recent failure on any entry, kept after later successes.
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub last_delivered_at: Option<Timestamp>,
    /// Dead letters of this subscription, ever.
    pub dead_letters: u64,
    /// Set while a worker is delivering (or until its claim expires, if it died).
    pub claimed_until: Option<Timestamp>,
    /// Why nothing is delivered although the subscription is not removed: the token that made
    /// it was revoked.
    pub stopped: Option<String>,
}

/// An entry that was not delivered after the subscription's max attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub subscription_id: Uuid,
    pub position: u64,
    pub event_type: String,
    pub attempts: u32,
    pub last_error: String,
    pub dead_lettered_at: Timestamp,
}

pub(crate) fn parse_url(raw: &str) -> Result<Url, WebhookError> {
    let invalid = |reason: &str| WebhookError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    if raw.len() > MAX_URL_LEN {
        return Err(invalid("it is longer than 2048 characters"));
    }
    let url = Url::parse(raw).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http and https URLs can receive webhooks"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.fragment().is_some() {
        return Err(invalid("a fragment (#…) is never sent; leave it out"));
    }
    // Credentials in the URL would be stored and listed in clear to every token that may list
    // subscriptions; receivers authenticate a delivery by its signature instead.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "user names and passwords in the URL are not accepted; receivers check the signature",
        ));
    }
    Ok(url)
}

/// Checks event type names by their shape (an event name such as `ContactLogged`) and drops
/// repeats. They are not checked against the domain's current events, so a subscription can
/// name an event type that a later version introduces.
pub(crate) fn parse_event_types(raw: Vec<String>) -> Result<Vec<String>, WebhookError> {
    let mut event_types: Vec<String> = Vec::with_capacity(raw.len());
    for event_type in raw {
        let well_formed = !event_type.is_empty()
            && event_type.len() <= MAX_EVENT_TYPE_LEN
            && event_type.starts_with(|first: char| first.is_ascii_uppercase())
            && event_type
                .chars()
                .all(|character| character.is_ascii_alphanumeric());
        if !well_formed {
            return Err(WebhookError::InvalidEventType(event_type));
        }
        if !event_types.contains(&event_type) {
            event_types.push(event_type);
        }
    }
    Ok(event_types)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert!(parse_url("https://crm.example.org/hooks/obliged?tenant=4").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/").is_ok());
        for bad in [
            "",
            "crm.example.org/hook",
            "ftp://crm.example.org/",
            "file:///etc/passwd",
            "https://crm.example.org/#part",
            "http://user:pass@crm.example.org/hook",
            "http://user@crm.example.org/hook",
            "http://:secret@crm.example.org/hook",
        ] {
            assert!(
                matches!(parse_url(bad), Err(WebhookError::InvalidUrl { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn event_types_are_names_and_repeats_are_dropped() {
        assert_eq!(
            parse_event_types(vec![
                "ContactLogged".into(),
                "PromiseBroken".into(),
                "ContactLogged".into()
            ])
            .unwrap(),
            ["ContactLogged", "PromiseBroken"]
        );
        for bad in ["", "contactLogged", "Contact Logged", "Contact-Logged"] {
            assert!(parse_event_types(vec![bad.into()]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secrets_are_generated_long_and_hidden_from_debug() {
        let secret = WebhookSecret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.expose().len(), 6 + 64);
        assert_ne!(secret, WebhookSecret::generate());
        assert!(!format!("{secret:?}").contains(secret.expose()));
        assert!(WebhookSecret::parse("short").is_err());
        assert!(WebhookSecret::parse("has a space in it, sadly").is_err());
        assert!(WebhookSecret::parse("a-long-enough-secret").is_ok());
    }

    #[test]
    fn an_empty_filter_wants_everything() {
        let mut subscription = Subscription {
            id: Uuid::nil(),
            url: "http://localhost/".into(),
            event_types: vec![],
            max_attempts: 8,
            created_at: Timestamp::UNIX_EPOCH,
            removed_at: None,
            owner: None,
        };
        assert!(subscription.wants("ComplaintFiled"));
        subscription.event_types = vec!["ContactLogged".into()];
        assert!(subscription.wants("ContactLogged"));
        assert!(!subscription.wants("ComplaintFiled"));
    }
}

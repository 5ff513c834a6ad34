//! Decoding request bodies into commands, with a precise problem for each way a body can be
//! wrong: not sent as JSON, too large, not JSON, no `type`, an unknown command, a missing,
//! unknown or invalid field.
//!
//! Decoding is bounded work whatever the body: it is at most [`BODY_LIMIT`] bytes, and
//! serde_json refuses nesting deeper than 128.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use obliged_domain::{Category, Channel, ComplaintCommand, Customer, PlainText};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The body of `POST /api/complaints`: the customer as given at intake, and what the complaint
/// is about.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComplaint {
    pub customer: Customer<PlainText>,
    pub channel: Channel,
    pub category: Category,
    pub description: PlainText,
}

/// The body of a request that must be JSON: refused unless its `Content-Type` says
/// `application/json` (parameters such as `charset=utf-8` allowed), or when too large.
pub fn body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE);
    let essence = content_type
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    if !essence.is_some_and(|essence| essence.eq_ignore_ascii_case("application/json")) {
        return Err(ApiError::UnsupportedMediaType {
            found: content_type.map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        });
    }
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit: BODY_LIMIT }
        } else {
            ApiError::bad_request("unreadable-body", rejection.body_text())
        }
    })
}

fn json_value(bytes: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::bad_request("malformed-json", error.to_string()))?;
    if let Some(path) = crate::strict_json::first_duplicate_key(bytes) {
        return Err(ApiError::bad_request(
            "duplicate-key",
            format!("the key {path} appears more than once in one object; send each key once"),
        ));
    }
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "malformed-json",
            "the body must be a JSON object",
        ));
    }
    Ok(value)
}

fn typed<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value.clone()).map_err(|error| {
        let mut path = error.path().to_string();
        let message = error.inner().to_string();
        if path == "." {
            if let Some(field) = culprit::<T>(&value, &message) {
                path = field;
            }
        }
        let slug = if message.starts_with("missing field") {
            "missing-field"
        } else if message.starts_with("unknown field") {
            "unknown-field"
        } else {
            "invalid-field"
        };
        let detail = if path == "." {
            message
        } else {
            format!("{path}: {message}")
        };
        ApiError::bad_request(slug, detail)
    })
}

/// The top-level field that makes `value` fail with `message`. Internally tagged enums (the
/// commands) lose serde's field path, so the field is found by removing each in turn: an
/// invalid value fails as soon as it is read, so only removing the culprit changes the error.
///
/// Every type decoded here denies unknown fields, and an unknown field fails as soon as it is
/// read, so only the few known fields can come before the culprit: the search stays linear in
/// the size of the body.
fn culprit<T: DeserializeOwned>(value: &Value, message: &str) -> Option<String> {
    let object = value.as_object()?;
    object
        .keys()
        .filter(|key| key.as_str() != "type")
        .find(|key| {
            let mut without = object.clone();
            without.remove(key.as_str());
            match serde_json::from_value::<T>(Value::Object(without)) {
                Ok(_) => true,
                Err(error) => error.to_string() != message,
            }
        })
        .cloned()
}

pub fn new_complaint(bytes: &[u8]) -> Result<NewComplaint, ApiError> {
    let complaint: NewComplaint = typed(json_value(bytes)?)?;
    validate_customer(&complaint.customer)?;
    Ok(complaint)
}

pub fn command(bytes: &[u8]) -> Result<ComplaintCommand<PlainText>, ApiError> {
    let value = json_value(bytes)?;
    match value.get("type") {
        None => {
            return Err(ApiError::bad_request(
                "missing-field",
                "missing field `type` (the command name)",
            ))
        }
        Some(Value::String(name))
            if ComplaintCommand::<PlainText>::NAMES.contains(&name.as_str()) =>
        {
            if name == "FileComplaint" {
                return Err(ApiError::bad_request(
                    "unknown-command",
                    "complaints are filed with POST /api/complaints, not as a command",
                ));
            }
        }
        Some(other) => {
            return Err(ApiError::bad_request(
                "unknown-command",
                format!(
                    "unknown command type {other}; expected one of: {}",
                    ComplaintCommand::<PlainText>::NAMES[1..].join(", ")
                ),
            ))
        }
    }
    let command: ComplaintCommand<PlainText> = typed(value.clone())?;
    refuse_ignored_fields(&value, &command)?;
    Ok(command)
}

/// Refuses a field that decoding ignored. serde does not apply `deny_unknown_fields` to the
/// unit variants of an internally tagged enum, so `{"type":"Close","force":true}` decodes as
/// `Close`; every field of a decoded command is in its serialization (absent options as
/// `null`), so a field of the body that is not there was ignored.
fn refuse_ignored_fields(
    value: &Value,
    command: &ComplaintCommand<PlainText>,
) -> Result<(), ApiError> {
    let known = serde_json::to_value(command)
        .map_err(|error| ApiError::Internal(format!("a decoded command re-encodes: {error}")))?;
    let ignored = value
        .as_object()
        .into_iter()
        .flat_map(|fields| fields.keys())
        .find(|field| known.get(field.as_str()).is_none());
    match ignored {
        Some(field) => Err(ApiError::bad_request(
            "unknown-field",
            format!(
                "unknown field `{field}`: {} takes no such field",
                command.name()
            ),
        )),
        None => Ok(()),
    }
}

fn validate_customer(customer: &Customer<PlainText>) -> Result<(), ApiError> {
    if let Some(email) = &customer.email {
        let email = email.as_str();
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !valid {
            return Err(ApiError::bad_request(
                "invalid-field",
                "customer.email: not an email address",
            ));
        }
    }
    if let Some(phone) = &customer.phone {
        let phone = phone.as_str();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let valid = (5..=20).contains(&digits)
            && phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
        if !valid {
            return Err(ApiError::bad_request(
                "invalid-field",
                "customer.phone: not a phone number",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(result: Result<ComplaintCommand<PlainText>, ApiError>) -> &'static str {
        match result {
            Err(ApiError::BadRequest { slug, .. }) => slug,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn each_kind_of_bad_command_gets_its_own_slug() {
        assert_eq!(slug(command(b"{not json")), "malformed-json");
        assert_eq!(slug(command(b"[1,2]")), "malformed-json");
        assert_eq!(slug(command(b"{\"owner\":\"alice\"}")), "missing-field");
        assert_eq!(slug(command(b"{\"type\":\"Teleport\"}")), "unknown-command");
        assert_eq!(slug(command(b"{\"type\":42}")), "unknown-command");
        assert_eq!(
            slug(command(b"{\"type\":\"AssignOwner\"}")),
            "missing-field"
        );
        assert_eq!(
            slug(command(
                b"{\"type\":\"AssignOwner\",\"owner\":\"a\",\"x\":1}"
            )),
            "unknown-field"
        );
        assert_eq!(
            slug(command(
                b"{\"type\":\"KeepPromise\",\"promise_id\":\"nope\",\"evidence\":\"e\"}"
            )),
            "invalid-field"
        );
        assert_eq!(
            slug(command(b"{\"type\":\"AssignOwner\",\"owner\":\"a b\"}")),
            "invalid-field"
        );
        // Commands without fields refuse them too (serde alone would ignore them).
        assert_eq!(
            slug(command(b"{\"type\":\"Close\",\"force\":true}")),
            "unknown-field"
        );
        assert_eq!(
            slug(command(b"{\"type\":\"AcceptHandover\",\"to\":\"bob\"}")),
            "unknown-field"
        );
    }

    #[test]
    fn an_invalid_field_is_named() {
        let detail = |body: &[u8]| match command(body) {
            Err(ApiError::BadRequest { detail, .. }) => detail,
            other => panic!("expected a bad request, got {other:?}"),
        };
        let bad_id = detail(br#"{"evidence":"e","type":"KeepPromise","promise_id":"nope"}"#);
        assert!(bad_id.starts_with("promise_id: "), "{bad_id}");
        let bad_kind = detail(
            br#"{"type":"MakePromise","kind":"x","promise_id":"0192f0c4-0000-7000-8000-000000000001","description":"d","due_at":"2030-01-01T00:00:00Z"}"#,
        );
        assert!(bad_kind.starts_with("kind: unknown variant"), "{bad_kind}");
    }

    #[test]
    fn good_commands_decode() {
        let decoded = command(br#"{"type":"AssignOwner","owner":"alice"}"#).unwrap();
        assert_eq!(decoded.name(), "AssignOwner");
        let decoded = command(br#"{"type":"Close"}"#).unwrap();
        assert_eq!(decoded.name(), "Close");
        let decoded = command(
            br#"{"type":"LogContact","direction":"inbound","channel":"phone","summary":"s","request":true}"#,
        )
        .unwrap();
        assert_eq!(decoded.name(), "LogContact");
    }

    #[test]
    fn customer_contact_details_are_checked() {
        let body = |email: &str| {
            format!(
                r#"{{"customer":{{"reference":"C-1","name":"Jane","email":"{email}"}},"channel":"phone","category":"billing","description":"d"}}"#
            )
        };
        assert!(new_complaint(body("jane@example.org").as_bytes()).is_ok());
        assert!(new_complaint(body("jane").as_bytes()).is_err());
    }
}

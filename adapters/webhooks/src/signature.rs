//! The wire format of a delivery: header names, and the signature a receiver checks.
//!
//! `Obliged-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The key is
//! the subscription's secret exactly as shown at creation (its UTF-8 bytes, `whsec_` prefix
//! included); the body is the exact bytes sent. Signing the timestamp with the body lets a
//! receiver refuse replays of old deliveries; `v1` names the scheme so a later one can be sent
//! beside it during a change.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "Obliged-Signature";
pub const POSITION_HEADER: &str = "Obliged-Position";
pub const EVENT_TYPE_HEADER: &str = "Obliged-Event-Type";
pub const SUBSCRIPTION_HEADER: &str = "Obliged-Subscription";

/// The value of the `Obliged-Signature` header for `body` sent at `unix_seconds`.
pub fn signature_header(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    format!(
        "t={unix_seconds},v1={}",
        hex(&sign(secret, unix_seconds, body))
    )
}

/// Checks an `Obliged-Signature` header against `body`: some `v1` signature must match, and its
/// timestamp must be within `tolerance_seconds` of `now_unix_seconds`. For receivers written in
/// Rust, and for tests.
pub fn verify_signature(
    header: &str,
    secret: &str,
    body: &[u8],
    now_unix_seconds: i64,
    tolerance_seconds: i64,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (now_unix_seconds - timestamp).abs() > tolerance_seconds {
        return false;
    }
    signatures.into_iter().any(|signature| {
        let Some(bytes) = unhex(signature) else {
            return false;
        };
        // `verify_slice` compares in constant time.
        mac(secret, timestamp, body).verify_slice(&bytes).is_ok()
    })
}

fn mac(secret: &str, unix_seconds: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn sign(secret: &str, unix_seconds: i64, body: &[u8]) -> Vec<u8> {
    mac(secret, unix_seconds, body)
        .finalize()
        .into_bytes()
        .to_vec()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently (Python's hmac module) for key "Jefe" and the message
        // "1700000000.what do ya want for nothing?".
        assert_eq!(
            signature_header("Jefe", 1_700_000_000, b"what do ya want for nothing?"),
            "t=1700000000,v1=1cdd0650c8be1cb0974b1788d458b1e781206cfef59b85faafc582d2e182c57e"
        );
    }

    #[test]
    fn verification_accepts_the_signed_body_only() {
        let secret = "whsec_0123456789abcdef";
        let header = signature_header(secret, 1_772_442_000, b"{\"position\":1}");
        assert!(verify_signature(
            &header,
            secret,
            b"{\"position\":1}",
            1_772_442_000,
            300
        ));
        assert!(!verify_signature(
            &header,
            secret,
            b"{\"position\":2}",
            1_772_442_000,
            300
        ));
        assert!(!verify_signature(
            &header,
            "whsec_other",
            b"{\"position\":1}",
            1_772_442_000,
            300
        ));
        assert!(
            !verify_signature(&header, secret, b"{\"position\":1}", 1_772_443_000, 300),
            "too old"
        );
        assert!(!verify_signature(
            "v1=00",
            secret,
            b"{\"position\":1}",
            0,
            300
        ));
    }
}

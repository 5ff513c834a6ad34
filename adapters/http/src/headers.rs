//! Security headers on every answer of the API. Its answers carry personal data (JSON
//! complaint states and histories, the feed) and documents a browser might render (the SVG
//! report, CSV), so: no content sniffing (`X-Content-Type-Options: nosniff`), no caching by
//! browsers or proxies (`Cache-Control: no-store`), and a Content-Security-Policy that lets a
//! rendered answer run, load or frame nothing (an SVG can carry script; ours never does, and the
//! policy makes sure a crafted one could not run either). Handlers that set their own value of
//! one of these headers keep it.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// What an answer of the API may do when a browser renders it: nothing but show itself (the
/// SVG chart's inline styles included).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

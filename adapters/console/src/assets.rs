//! The console's assets, embedded in the binary: nothing is fetched from the network when the
//! console runs, and building needs no Node. htmx and its SSE extension are vendored (see
//! `assets/README.md` for their versions and checksums); the stylesheet, the script and the icon
//! are the console's own.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/htmx.min.js"),
    ),
    (
        "htmx-ext-sse.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/htmx-ext-sse.js"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/console.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../assets/icon.svg"),
    ),
];

pub async fn serve(Path(name): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(file, _, _)| *file == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Assets change only with the binary; an hour keeps a day's pages fast.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        *bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    /// The vendored files are the versions `assets/README.md` names, byte for byte.
    #[test]
    fn vendored_assets_match_their_recorded_checksums() {
        use sha2::Digest;
        let readme = include_str!("../assets/README.md");
        for (name, _, bytes) in super::ASSETS {
            if !name.starts_with("htmx") {
                continue;
            }
            let digest: String = sha2::Sha256::digest(bytes)
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            assert!(
                readme.contains(&digest),
                "{name} has sha256 {digest}, which assets/README.md does not record"
            );
        }
    }
}

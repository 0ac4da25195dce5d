//! The web UI at `/ui/`: static files embedded in the binary (no CDN, works offline and
//! behind a path prefix: every link in them is relative), served with a content security
//! policy that lets the page talk to this origin only, so an API key entered there cannot be
//! sent anywhere else. The page itself asks for the key and calls the public API.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;

const INDEX: &[u8] = include_bytes!("../../assets/ui/index.html");
const APP_JS: &[u8] = include_bytes!("../../assets/ui/app.js");
const APP_CSS: &[u8] = include_bytes!("../../assets/ui/app.css");

/// Same origin only, no inline script, no framing.
const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        // Relative, so that it also works behind a proxy's path prefix.
        .route(
            "/ui",
            get(|| async {
                (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, "ui/")]).into_response()
            }),
        )
        .route(
            "/ui/",
            get(|| async { asset(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/ui/app.js",
            get(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/ui/app.css",
            get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }),
        )
}

fn asset(body: &'static [u8], content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The files change with the binary: revalidate rather than cache blindly.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

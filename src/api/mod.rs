//! The HTTP API: axum routers per resource, DTOs with OpenAPI schemas, the auth extractor and
//! problem+json errors. Handlers never see SQL; they call the store's public surface.
pub mod datasets;
pub mod download;
pub mod error;
pub mod events;
pub mod extract;
pub mod jobs;
pub mod models;
pub mod names;
pub mod openapi;
pub mod system;
pub mod tenant;
pub mod ui;
pub mod webhooks;
pub mod worker_health;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::{ApiError, Problem};
pub use extract::{AppJson, AuthState, Caller};

use crate::artifacts::ArtifactStore;
use crate::config::LimitsConfig;
use crate::store::DynStore;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub artifacts: Arc<ArtifactStore>,
    pub limits: LimitsConfig,
    pub auth: Arc<AuthState>,
    /// Wakes in-process workers when a job is enqueued.
    pub wake: Arc<Notify>,
    pub metrics: Option<PrometheusHandle>,
    /// Job-event notifications of this process (SSE streams, long-polls).
    pub events: Arc<crate::jobs::events::EventHub>,
    /// Which webhook targets are allowed (the workers deliver with the same settings).
    pub webhooks: crate::config::WebhookConfig,
    /// The proxy's path prefix (`""` or `/whittle`), see [`crate::config::ServeConfig`].
    pub base_path: Arc<str>,
}

impl AppState {
    /// A `Location` value for a path of this API (`/v1/...`), behind the base path.
    pub fn location(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole API with its middleware.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .merge(models::routes(&state))
        .merge(datasets::routes(&state))
        .merge(jobs::routes())
        .merge(events::routes())
        .merge(webhooks::routes())
        .merge(tenant::routes());
    Router::new()
        .nest("/v1", v1)
        .merge(system::routes())
        .merge(openapi::routes())
        .merge(ui::routes())
        .fallback(|| async { ApiError::NotFound("route") })
        // JSON and other buffered bodies; uploads stream and enforce their own caps.
        .layer(DefaultBodyLimit::max(state.limits.max_json_bytes as usize))
        .layer(axum::middleware::from_fn(record_http_metrics))
        .layer(axum::middleware::from_fn(close_after_refused_body))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            use axum::response::IntoResponse;
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// A request with a body that was refused (4xx/5xx) may not have been read to its end (an
/// upload refused by its name, its quota or its first bytes): answer with `Connection: close`,
/// so the client opens a fresh connection for its next request instead of reusing one the
/// server is about to close.
async fn close_after_refused_body(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header;
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let mut response = next.run(req).await;
    if has_body && (response.status().is_client_error() || response.status().is_server_error()) {
        response.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Count requests and their latency by matched route, for `/metrics`.
async fn record_http_metrics(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!("whittle_http_request_duration_seconds", "method" => method.clone(), "route" => route.clone(), "status" => status.clone())
        .record(start.elapsed().as_secs_f64());
    metrics::counter!("whittle_http_requests_total", "method" => method, "route" => route, "status" => status).increment(1);
    resp
}

/// `?limit=&cursor=` of list endpoints.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<uuid::Uuid>,
}

impl PageQuery {
    /// The store's page request, with the limit checked.
    pub fn to_page(&self) -> Result<crate::store::PageRequest, ApiError> {
        Ok(crate::store::PageRequest {
            cursor: self.cursor,
            limit: check_limit(self.limit.as_deref())?,
        })
    }
}

/// Validate a `limit` query parameter: any value that is not an integer from 1 to 200 (zero,
/// huge, negative, not a number) is the same 422.
pub fn check_limit(limit: Option<&str>) -> Result<i64, ApiError> {
    match limit.map(|l| l.trim().parse::<i64>()) {
        None => Ok(50),
        Some(Ok(l)) if (1..=200).contains(&l) => Ok(l),
        Some(_) => Err(ApiError::field(
            "limit",
            "must be an integer between 1 and 200",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::check_limit;

    #[test]
    fn one_rule_for_every_bad_limit() {
        assert_eq!(check_limit(None).ok(), Some(50));
        assert_eq!(check_limit(Some("1")).ok(), Some(1));
        assert_eq!(check_limit(Some("200")).ok(), Some(200));
        for bad in ["0", "201", "-1", "99999999999999999999", "ten", "", "1.5"] {
            match check_limit(Some(bad)) {
                Err(super::ApiError::Validation(v)) => assert_eq!(v.0[0].field, "limit"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}

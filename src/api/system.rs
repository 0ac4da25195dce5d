//! Operational endpoints: `/healthz`, `/readyz`, `/metrics` (Prometheus text).
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::MetricsReader;
use super::{ApiError, AppState, Problem};
use crate::domain::JobState;
use crate::jobs::JobKind;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(prometheus_metrics))
}

/// Health of the process.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: String,
    /// `sqlite` or `postgres` (readyz only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// When the artifact store last took a probe write (readyz only; RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifacts_checked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        database: None,
        artifacts_checked_at: None,
    })
}

/// Readiness: the database answers and the artifact store took its last probe write
/// (probed at start and every 30 s).
#[utoipa::path(get, path = "/readyz", tag = "system", responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable {
            dependency: "the database does not answer",
            cause: e.to_string(),
        })?;
    let health = match state.artifacts.health() {
        Some(h) => h,
        None => state.artifacts.probe().await,
    };
    if let Some(e) = health.error {
        return Err(ApiError::Unavailable {
            dependency: "the artifact store is not writable",
            cause: e,
        });
    }
    Ok(Json(Health {
        status: "ok".into(),
        database: Some(state.store.backend().into()),
        artifacts_checked_at: Some(health.checked_at.into()),
    }))
}

/// Prometheus metrics: jobs by kind and state, queue depth, job durations, HTTP latencies.
///
/// Counts cover every tenant, so once API keys exist this needs a key, or the metrics token
/// when one is configured (`WHITTLE_METRICS_TOKEN`; API keys are refused then).
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
    (status = 401, description = "a key or the metrics token is required", body = Problem)))]
pub async fn prometheus_metrics(
    State(state): State<AppState>,
    _reader: MetricsReader,
) -> Result<Response, ApiError> {
    let counts = state.store.job_counts().await?;
    // Every (kind, state) pair is set, zeros included, so a drained state does not keep
    // its last non-zero value.
    let mut table: std::collections::BTreeMap<(String, &'static str), i64> =
        std::collections::BTreeMap::new();
    for kind in JobKind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .chain(counts.iter().map(|c| c.kind.clone()))
    {
        for st in JobState::ALL {
            table.entry((kind.clone(), st.as_str())).or_insert(0);
        }
    }
    let mut queued = 0i64;
    for c in &counts {
        table.insert((c.kind.clone(), c.state.as_str()), c.count);
        if c.state == JobState::Queued {
            queued += c.count;
        }
    }
    for ((kind, st), n) in table {
        metrics::gauge!("whittle_jobs", "kind" => kind, "state" => st).set(n as f64);
    }
    metrics::gauge!("whittle_queue_depth").set(queued as f64);
    crate::telemetry::collect_process();
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        body,
    )
        .into_response())
}

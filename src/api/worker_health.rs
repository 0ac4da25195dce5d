//! The small HTTP server of a `whittle worker` process (`--health-bind`): `/healthz` (the
//! process answers and reports its slots), `/readyz` (the database answered within
//! [`READY_WITHIN`] — a claim round, a presence record — and the artifact store took its last
//! probe write) and `/metrics` (this process's Prometheus text: job durations, busy slots).
//! Meant for the cluster's internal network (container health checks, Prometheus), so it
//! asks for no key; it shows no tenant data.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

use super::ApiError;
use crate::artifacts::ArtifactStore;
use crate::jobs::status::{WorkerSnapshot, WorkerStatus, READY_WITHIN};

#[derive(Clone)]
pub struct WorkerHealthState {
    pub status: Arc<WorkerStatus>,
    pub artifacts: Arc<ArtifactStore>,
    pub metrics: Option<PrometheusHandle>,
}

pub fn worker_health_router(state: WorkerHealthState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::NotFound("route") })
        .with_state(state)
}

async fn healthz(State(state): State<WorkerHealthState>) -> Json<WorkerSnapshot> {
    Json(state.status.snapshot())
}

async fn readyz(State(state): State<WorkerHealthState>) -> Result<Json<WorkerSnapshot>, ApiError> {
    let snapshot = state.status.snapshot();
    if !snapshot.ready {
        return Err(ApiError::Unavailable {
            dependency: "the database has not answered this worker lately",
            cause: format!(
                "no claim or presence record succeeded within {} s; last error: {}",
                READY_WITHIN.as_secs(),
                snapshot.last_error.as_deref().unwrap_or("none")
            ),
        });
    }
    let health = match state.artifacts.health() {
        Some(h) => h,
        None => state.artifacts.probe().await,
    };
    if let Some(cause) = health.error {
        return Err(ApiError::Unavailable {
            dependency: "the artifact store is not writable",
            cause,
        });
    }
    Ok(Json(snapshot))
}

async fn metrics(State(state): State<WorkerHealthState>) -> Response {
    crate::telemetry::collect_process();
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        body,
    )
        .into_response()
}

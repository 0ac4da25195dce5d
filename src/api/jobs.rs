//! `/v1/jobs`: submit (idempotent), get, list, cancel, metrics and trials.
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{AppPath, AppQuery};
use super::{check_limit, ApiError, AppJson, AppState, Caller, Problem};
use crate::domain::{JobState, ValidationErrors};
use crate::jobs::admission::{admit, AdmissionError};
use crate::jobs::JobKind;
use crate::store::{AttemptError, InsertedJob, JobFilter, JobRow, NewJob};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs", post(create_job).get(list_jobs))
        .route("/jobs/{id}", get(get_job))
        .route("/jobs/{id}/cancel", post(cancel_job))
        .route("/jobs/{id}/metrics", get(job_metrics))
        .route("/jobs/{id}/trials", get(job_trials))
}

/// Body of `POST /v1/jobs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJobRequest {
    /// `analyze`, `train`, `evaluate`, `quantize`, `prune` or `tune`.
    pub kind: String,
    /// The kind's spec (see the `*Spec` schemas).
    #[schema(value_type = Object)]
    pub spec: Value,
    /// Higher runs sooner, -100..=100 (default 0).
    #[serde(default)]
    #[schema(minimum = -100, maximum = 100, default = 0)]
    pub priority: i32,
    /// Attempts before the job ends failed, 1..=25 (default 3).
    #[serde(default = "default_max_attempts")]
    #[schema(minimum = 1, maximum = 25, default = 3)]
    pub max_attempts: i32,
}

fn default_max_attempts() -> i32 {
    3
}

/// A job as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobDto {
    pub id: Uuid,
    pub kind: String,
    pub state: JobState,
    /// The normalized spec (defaults filled in).
    #[schema(value_type = Object)]
    pub spec: Value,
    pub priority: i32,
    /// Attempts started so far.
    pub attempt: i32,
    pub max_attempts: i32,
    /// 0..=1
    pub progress: f64,
    pub progress_message: Option<String>,
    /// The kind's result once succeeded.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// The last attempt's error message, if any.
    pub error: Option<String>,
    /// Every failed attempt, oldest first.
    pub errors: Vec<AttemptError>,
    /// The model this job produced (train, quantize, prune, tune).
    pub output_model_id: Option<Uuid>,
    pub parent_job_id: Option<Uuid>,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    /// Not run before this instant (retries are scheduled with backoff).
    pub scheduled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<JobRow> for JobDto {
    fn from(j: JobRow) -> Self {
        let errors: Vec<AttemptError> = serde_json::from_value(j.errors).unwrap_or_default();
        JobDto {
            id: j.id,
            kind: j.kind,
            state: j.state,
            spec: j.spec,
            priority: j.priority,
            attempt: j.attempt,
            max_attempts: j.max_attempts,
            progress: j.progress,
            progress_message: j.progress_message,
            result: j.result,
            error: errors.last().map(|e| e.message.clone()),
            errors,
            output_model_id: j.output_model_id,
            parent_job_id: j.parent_job_id,
            cancel_requested: j.cancel_requested_at.is_some(),
            created_at: j.created_at,
            scheduled_at: j.scheduled_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
        }
    }
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Submit a job.
///
/// Answers 202 with the queued job and its `Location`. With an `Idempotency-Key` header, a
/// repeated request returns the job the first one created (even when sent concurrently);
/// reusing a key for a different request is a 409.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs", request_body = CreateJobRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "dedupes submissions per tenant: 1 to 255 visible ASCII characters",
        max_length = 255, min_length = 1, pattern = r"^[\x21-\x7e]{1,255}$")),
    responses((status = 202, description = "queued (or the job an earlier request with this key created)", body = JobDto),
        (status = 400, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 429, description = "the tenant's quota of queued and running jobs is reached", body = Problem)))]
pub async fn create_job(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    AppJson(req): AppJson<CreateJobRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    let kind = req
        .kind
        .parse::<JobKind>()
        .map_err(|m| errors.add("kind", m))
        .ok();
    errors.check(
        (-100..=100).contains(&req.priority),
        "priority",
        "must be between -100 and 100",
    );
    errors.check(
        (1..=25).contains(&req.max_attempts),
        "max_attempts",
        "must be between 1 and 25",
    );
    let idempotency_key = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(v) => {
            let b = v.as_bytes();
            if b.is_empty() || b.len() > 255 || !b.iter().all(|c| (0x21..=0x7e).contains(c)) {
                return Err(ApiError::bad_request(
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters (no spaces)",
                ));
            }
            Some(String::from_utf8_lossy(b).into_owned())
        }
    };
    let spec = match kind {
        Some(kind) => match admit(&state.store, caller.tenant_id, kind, &req.spec).await {
            Ok(spec) => Some((kind, spec)),
            Err(AdmissionError::Invalid(e)) => {
                errors.extend(e);
                None
            }
            Err(AdmissionError::Store(e)) => return Err(e.into()),
        },
        None => None,
    };
    errors.into_result()?;
    let Some((kind, spec)) = spec else {
        return Err(ApiError::field("spec", "invalid spec"));
    };
    // A replay of a submission already made answers with its job even at the quota (the
    // retry of a request whose response was lost must not look like a refusal).
    let replay = match &idempotency_key {
        Some(key) => {
            state
                .store
                .get_job_by_idempotency_key(caller.tenant_id, key)
                .await?
        }
        None => None,
    };
    if replay.is_none() {
        super::tenant::check_active_jobs_quota(&state, caller.tenant_id).await?;
    }
    let new = NewJob {
        id: Uuid::now_v7(),
        tenant_id: caller.tenant_id,
        kind: kind.as_str().to_string(),
        spec,
        priority: req.priority,
        max_attempts: req.max_attempts,
        idempotency_key,
        parent_job_id: None,
        scheduled_at: None,
    };
    let (row, replayed) = match state.store.insert_job(&new).await? {
        InsertedJob::Created(row) => {
            state.wake.notify_one();
            metrics::counter!("whittle_jobs_submitted_total", "kind" => row.kind.clone())
                .increment(1);
            (row, false)
        }
        InsertedJob::Existing(row) => {
            if row.kind != new.kind
                || row.spec != new.spec
                || row.priority != new.priority
                || row.max_attempts != new.max_attempts
            {
                return Err(ApiError::Conflict(
                    "this Idempotency-Key was already used for a different request".into(),
                ));
            }
            (row, true)
        }
    };
    let location = state.location(&format!("/v1/jobs/{}", row.id));
    let mut resp = (StatusCode::ACCEPTED, Json(JobDto::from(row))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// `?wait=` of `GET /v1/jobs/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetJobQuery {
    /// Long-poll: answer as soon as the job has ended, or after this many seconds (0–60;
    /// larger values wait 60) with the job as it is then.
    #[param(value_type = Option<f64>, minimum = 0)]
    pub wait: Option<String>,
}

/// Longest long-poll.
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The wait a `?wait=` asks for, capped at [`MAX_WAIT`].
fn parse_wait(raw: Option<&str>) -> Result<std::time::Duration, ApiError> {
    let Some(raw) = raw else {
        return Ok(std::time::Duration::ZERO);
    };
    match raw.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Ok(std::time::Duration::from_secs_f64(
            secs.min(MAX_WAIT.as_secs_f64()),
        )),
        _ => Err(ApiError::field(
            "wait",
            "must be a number of seconds from 0 to 60",
        )),
    }
}

/// Get a job: state, attempt, progress, result, errors.
///
/// With `?wait=N` the request is a long-poll: it answers as soon as the job is succeeded,
/// failed or canceled, or after N seconds (at most 60) with the job as it is then.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = Uuid, Path, description = "job id"), GetJobQuery),
    responses((status = 200, body = JobDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<GetJobQuery>,
) -> Result<Json<JobDto>, ApiError> {
    let wait = parse_wait(query.wait.as_deref())?;
    let deadline = tokio::time::Instant::now() + wait;
    // Subscribe before reading, so that an end written after the read wakes us.
    let mut sub = (!wait.is_zero()).then(|| state.events.subscribe());
    loop {
        let row = state
            .store
            .get_job(caller.tenant_id, id)
            .await?
            .ok_or(ApiError::NotFound("job"))?;
        let now = tokio::time::Instant::now();
        let Some(sub) = sub.as_mut() else {
            return Ok(Json(row.into()));
        };
        if row.state.is_terminal() || now >= deadline || state.events.is_closing() {
            return Ok(Json(row.into()));
        }
        let left = (deadline - now).min(super::events::RECHECK);
        sub.wait(caller.tenant_id, Some(id), left).await;
    }
}

/// Filters of `GET /v1/jobs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs of this kind (`trial` lists the trials of every study, or of
    /// `parent_job_id`).
    #[param(schema_with = stored_kind_schema)]
    pub kind: Option<String>,
    /// Only children of this job (the trials of a tune job); without it, trials are left out.
    pub parent_job_id: Option<Uuid>,
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// The kinds a stored job can have: the submittable ones and `trial`.
fn stored_kind_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(crate::jobs::exec::stored_kinds()))
        .build()
}

/// A page of jobs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobDto>,
    pub next_cursor: Option<Uuid>,
}

/// List jobs, newest first (keyset pagination).
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", params(JobListQuery),
    responses((status = 200, body = JobPage), (status = 400, body = Problem)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<JobListQuery>,
) -> Result<Json<JobPage>, ApiError> {
    let kind = match q.kind {
        None => None,
        Some(k) if crate::jobs::exec::stored_kinds().contains(&k.as_str()) => Some(k),
        Some(_) => {
            return Err(ApiError::bad_request(
                "kind",
                format!(
                    "unknown job kind (expected one of {})",
                    crate::jobs::exec::stored_kinds().join(", ")
                ),
            ))
        }
    };
    let filter = JobFilter {
        state: q.state,
        top_level_only: kind.as_deref() != Some(crate::jobs::exec::tune::TRIAL_KIND),
        kind,
        parent_job_id: q.parent_job_id,
        cursor: q.cursor,
        limit: check_limit(q.limit.as_deref())?,
    };
    let page = state.store.list_jobs(caller.tenant_id, &filter).await?;
    Ok(Json(JobPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Cancel a job.
///
/// A queued job is canceled at once and never runs; a running job stops within one
/// heartbeat and is not retried. Canceling a finished job is a 409.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = Uuid, Path, description = "job id")),
    responses((status = 202, description = "canceled, or cancel requested", body = JobDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, ApiError> {
    let before = state
        .store
        .get_job(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    if before.state.is_terminal() {
        return Err(ApiError::Conflict(format!(
            "the job already ended ({})",
            before.state
        )));
    }
    let row = state
        .store
        .request_cancel(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    if row.state.is_terminal() && row.state != JobState::Canceled {
        return Err(ApiError::Conflict(format!(
            "the job already ended ({})",
            row.state
        )));
    }
    if row.state == JobState::Canceled && before.state == JobState::Queued {
        // A queued job may hold the checkpoint of a handed-back attempt; no worker will
        // finish it now, so nobody else deletes it.
        crate::jobs::checkpoint::discard(&state.artifacts, id).await;
    }
    Ok((StatusCode::ACCEPTED, Json(JobDto::from(row))).into_response())
}

/// One point of a series.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesPoint {
    pub step: i64,
    pub value: f64,
}

/// Named series of a job (`train_loss`, `val_accuracy`, `best_value`, …) by step.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobMetricsDto {
    pub job_id: Uuid,
    pub series: BTreeMap<String, Vec<SeriesPoint>>,
}

/// Series a job recorded while it ran (loss per epoch, best value per trial).
#[utoipa::path(get, path = "/v1/jobs/{id}/metrics", tag = "jobs", params(("id" = Uuid, Path, description = "job id")),
    responses((status = 200, body = JobMetricsDto), (status = 404, body = Problem)))]
pub async fn job_metrics(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<JobMetricsDto>, ApiError> {
    state
        .store
        .get_job(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    let mut series: BTreeMap<String, Vec<SeriesPoint>> = BTreeMap::new();
    for p in state.store.list_job_metrics(id).await? {
        series.entry(p.name).or_default().push(SeriesPoint {
            step: p.step,
            value: p.value,
        });
    }
    Ok(Json(JobMetricsDto { job_id: id, series }))
}

/// One trial of a tune job.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrialDto {
    pub number: i32,
    #[schema(value_type = Object)]
    pub params: Value,
    /// `running`, `complete`, `pruned` or `failed`.
    pub state: String,
    pub value: Option<f64>,
    /// `[step, value]` pairs, one per epoch the trial reported (the metric after that epoch,
    /// averaged over folds).
    #[schema(schema_with = intermediate_schema)]
    pub intermediate: Value,
    pub error: Option<String>,
    pub duration_seconds: Option<f64>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn intermediate_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::Number))
                .min_items(Some(2))
                .max_items(Some(2)),
        )
        .build()
}

/// Trials of a tune job.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrialPage {
    pub items: Vec<TrialDto>,
}

/// Trials of a tune job, by number.
#[utoipa::path(get, path = "/v1/jobs/{id}/trials", tag = "jobs", params(("id" = Uuid, Path, description = "job id")),
    responses((status = 200, body = TrialPage), (status = 404, body = Problem)))]
pub async fn job_trials(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<TrialPage>, ApiError> {
    state
        .store
        .get_job(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    let items = state
        .store
        .list_trials(id)
        .await?
        .into_iter()
        .map(|t| TrialDto {
            duration_seconds: match (t.started_at, t.finished_at) {
                (Some(s), Some(f)) => Some((f - s).num_milliseconds() as f64 / 1000.0),
                _ => None,
            },
            number: t.number,
            params: t.params,
            state: t.state,
            value: t.value,
            intermediate: t.intermediate,
            error: t.error,
            started_at: t.started_at,
            finished_at: t.finished_at,
        })
        .collect();
    Ok(Json(TrialPage { items }))
}

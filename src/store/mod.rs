//! Persistence: `trait Store` and its two backends. **All SQL lives in this room.**
//!
//! Both backends implement the same behaviour; `tests/store_conformance/` runs one suite
//! against each. Queue rules (see `docs/architecture.md`): claims use `FOR UPDATE SKIP LOCKED` on
//! Postgres; every finishing update is fenced by `state='running' AND locked_by AND attempt`
//! and reports `false`/`None` when the fence fails (the lease was lost, the result is discarded).
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

use crate::domain::JobState;

/// The tenant that anonymous requests act as (created by the first migration).
pub const ANONYMOUS_TENANT: Uuid = Uuid::nil();

/// Errors from the database layer. Not-found is an `Ok(None)`, never an error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The database refused a text value as invalid in its encoding (Postgres: U+0000 in
    /// text, `\u0000` in jsonb). Bad input, never a server fault.
    #[error("the database refused a text value: {0}")]
    InvalidText(String),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url: {0}")]
    UnsupportedUrl(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// SQLSTATEs of text Postgres cannot store: `character_not_in_repertoire` (a NUL byte in
/// text) and `untranslatable_character` (`\u0000` in jsonb).
const INVALID_TEXT_SQLSTATES: [&str; 2] = ["22021", "22P05"];

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db
                .code()
                .is_some_and(|c| INVALID_TEXT_SQLSTATES.iter().any(|s| *s == c))
            {
                return StoreError::InvalidText(db.message().to_string());
            }
        }
        StoreError::Database(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A shared handle to whichever backend the app chose.
pub type DynStore = Arc<dyn Store>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// First characters of the key, for display (`wh_ab12…`).
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A model to insert. The artifact is already published under `artifact_key`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewModel {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// `safetensors` (plain) or `compressed-tensors`.
    pub format: String,
    pub artifact_key: String,
    pub sha256: String,
    pub bytes: i64,
    pub n_params: i64,
    /// Tensor inventory + dtype histogram + file metadata (formats::safetensors::Inventory as JSON).
    pub inventory: Value,
    /// The MLP architecture when whittle can run the model, else None.
    pub architecture: Option<Value>,
    pub source_job_id: Option<Uuid>,
    /// A folder's files (`formats::safetensors::folder::ModelFile` list as JSON); `None` for
    /// a single-file model. A folder's `artifact_key` is the prefix of its files' keys.
    pub files: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub format: String,
    pub artifact_key: String,
    pub sha256: String,
    pub bytes: i64,
    pub n_params: i64,
    pub inventory: Value,
    pub architecture: Option<Value>,
    pub source_job_id: Option<Uuid>,
    /// A folder's files, `None` for a single-file model (see [`NewModel::files`]).
    pub files: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// A model as list pages show it: every column but the inventory, whose place the summary
/// takes (the inventory without `tensors`, plus `n_tensors`; see [`model_summary`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelListRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub format: String,
    pub sha256: String,
    pub bytes: i64,
    pub n_params: i64,
    /// `None` for a row written without one (not by the store).
    pub summary: Option<Value>,
    pub architecture: Option<Value>,
    pub source_job_id: Option<Uuid>,
    /// True when the model is stored as a folder.
    pub is_folder: bool,
    pub created_at: DateTime<Utc>,
}

/// The columns of a [`ModelListRow`] (the same SQL on both backends): never `inventory`.
pub(crate) const MODEL_LIST_COLUMNS: &str = "id, tenant_id, name, format, sha256, bytes, \
     n_params, summary, architecture, source_job_id, created_at, \
     (files IS NOT NULL) AS is_folder";

/// The summary column of a model: its inventory object without the `tensors` list, plus
/// `n_tensors` (the list's length). Kept beside the inventory so that list pages stay small
/// and cheap however many tensors a model has.
pub fn model_summary(inventory: &Value) -> Value {
    let mut summary = serde_json::Map::new();
    if let Value::Object(fields) = inventory {
        for (k, v) in fields {
            if k != "tensors" {
                summary.insert(k.clone(), v.clone());
            }
        }
    }
    let n_tensors = inventory
        .get("tensors")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    summary.insert("n_tensors".into(), Value::from(n_tensors));
    Value::Object(summary)
}

/// A dataset to insert. The artifact is already published under `artifact_key`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDataset {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// `csv` or `npy`.
    pub format: String,
    pub artifact_key: String,
    pub sha256: String,
    pub bytes: i64,
    pub rows: i64,
    pub features: i64,
    /// JSON array of feature names.
    pub feature_names: Value,
    pub target: String,
    /// `classification`, `regression`, or `none` (a text dataset without labels).
    pub task: String,
    /// JSON array of class labels (classification only).
    pub classes: Option<Value>,
    /// `tabular` (numeric features) or `text` (a text column, tokenized at job time).
    pub modality: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub format: String,
    pub artifact_key: String,
    pub sha256: String,
    pub bytes: i64,
    pub rows: i64,
    pub features: i64,
    pub feature_names: Value,
    pub target: String,
    pub task: String,
    pub classes: Option<Value>,
    pub created_at: DateTime<Utc>,
    /// `tabular` or `text`.
    pub modality: String,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Free text in the store (tests register their own kinds); the API only accepts `JobKind`s.
    pub kind: String,
    pub spec: Value,
    /// Higher runs sooner. Default 0.
    pub priority: i32,
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
    pub parent_job_id: Option<Uuid>,
    /// Not claimable before this instant; None = now.
    pub scheduled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub kind: String,
    pub spec: Value,
    pub state: JobState,
    pub priority: i32,
    /// Number of times the job has been claimed (0 while never run).
    pub attempt: i32,
    pub max_attempts: i32,
    pub scheduled_at: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// 0..=1
    pub progress: f64,
    pub progress_message: Option<String>,
    pub result: Option<Value>,
    /// JSON array of `AttemptError` objects, one per failed attempt, oldest first.
    pub errors: Value,
    pub idempotency_key: Option<String>,
    pub cancel_requested_at: Option<DateTime<Utc>>,
    pub parent_job_id: Option<Uuid>,
    pub output_model_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The error of one failed attempt, kept in `jobs.errors`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AttemptError {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub message: String,
}

/// Identity of one attempt of one job: every finishing update must match all three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub job_id: Uuid,
    pub worker_id: String,
    pub attempt: i32,
}

impl JobRow {
    /// The fence of the attempt this row describes (only meaningful while running).
    pub fn fence(&self) -> Option<Fence> {
        Some(Fence {
            job_id: self.id,
            worker_id: self.locked_by.clone()?,
            attempt: self.attempt,
        })
    }
}

/// Result of `insert_job`: a new row, or the existing row with the same idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertedJob {
    Created(JobRow),
    Existing(JobRow),
}

/// What a heartbeat learns about its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub cancel_requested: bool,
}

/// Filter + keyset page for listing jobs. Ordered newest first (`id DESC`; ids are UUIDv7).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub kind: Option<String>,
    pub parent_job_id: Option<Uuid>,
    /// Leave out child jobs (tune trials).
    pub top_level_only: bool,
    /// Return rows with `id < cursor`.
    pub cursor: Option<Uuid>,
    pub limit: i64,
}

/// Keyset page for listing models / datasets, newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PageRequest {
    pub cursor: Option<Uuid>,
    pub limit: i64,
}

/// One page of rows; `next_cursor` is set when more rows may follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Uuid>,
}

/// One point of a named series (`train_loss` at epoch 3).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MetricPoint {
    pub name: String,
    pub step: i64,
    pub value: f64,
}

/// One trial of a tune job.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialRow {
    pub job_id: Uuid,
    pub number: i32,
    pub params: Value,
    /// `running`, `complete`, `pruned`, `failed`.
    pub state: String,
    pub value: Option<f64>,
    /// JSON array of per-epoch intermediate values.
    pub intermediate: Value,
    pub error: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Count of jobs per (kind, state), for `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobCount {
    pub kind: String,
    pub state: JobState,
    pub count: i64,
}

/// What one tenant holds, for quotas: top-level jobs queued or running (a study's trials are
/// part of the study), and the models and datasets it stores with their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TenantUsage {
    pub active_jobs: i64,
    pub models: i64,
    pub datasets: i64,
    /// Bytes of every model and dataset file of the tenant.
    pub stored_bytes: i64,
}

/// One event of a job, as the triggers of migration 0006 wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEventRow {
    /// Position among all events (the cursor of a tenant's stream).
    pub id: i64,
    pub job_id: Uuid,
    /// Position among the job's events: 1, 2, 3… without gaps.
    pub seq: i64,
    pub tenant_id: Uuid,
    /// The job's kind.
    pub kind: String,
    /// `job.queued`, `job.running`, … (see `domain::events::EventType`).
    pub event_type: String,
    /// The job's state right after the event.
    pub state: JobState,
    /// The event's fields (per type).
    pub data: Value,
    pub at: DateTime<Utc>,
}

impl JobEventRow {
    /// The typed event (its stored `data` checked against its type's schema).
    pub fn into_event(self) -> Result<crate::domain::events::JobEvent, String> {
        let payload = crate::domain::events::EventPayload::parse(&self.event_type, self.data)?;
        Ok(crate::domain::events::JobEvent {
            seq: self.seq,
            id: self.id,
            job_id: self.job_id,
            kind: self.kind,
            state: self.state,
            at: self.at,
            payload,
        })
    }
}

/// Which of a tenant's events a stream wants (each list empty = no restriction).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub kinds: Vec<String>,
    pub states: Vec<JobState>,
    pub types: Vec<String>,
}

impl EventFilter {
    /// Whether `row` passes (an empty list passes everything).
    pub fn matches(&self, row: &JobEventRow) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&row.kind))
            && (self.states.is_empty() || self.states.contains(&row.state))
            && (self.types.is_empty() || self.types.contains(&row.event_type))
    }
}

/// A hint that events were written: for this tenant and job, or (`None`) for anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventNotice {
    pub tenant_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
}

impl EventNotice {
    /// Anything may have changed (a reconnect, a poll that saw new rows, a lagging reader).
    pub const ANY: EventNotice = EventNotice {
        tenant_id: None,
        job_id: None,
    };

    /// Whether this notice may concern a reader of `tenant_id`'s events (of `job_id` only,
    /// when given).
    pub fn concerns(&self, tenant_id: Uuid, job_id: Option<Uuid>) -> bool {
        self.tenant_id.is_none_or(|t| t == tenant_id)
            && match (self.job_id, job_id) {
                (Some(mine), Some(wanted)) => mine == wanted,
                _ => true,
            }
    }
}

/// A webhook subscription to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    /// Event type names (checked by the caller).
    pub events: Vec<String>,
    /// `whsec_…`
    pub secret: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the store disabled it (consecutive failures), if it did.
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to a webhook; `None` fields stay. Enabling clears the failure count and reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookUpdate {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub secret: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttemptRow {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The response's status, `None` when none came.
    pub status_code: Option<i32>,
    pub latency_ms: f64,
    pub error: Option<String>,
}

/// One event sent (or to be sent) to one webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: Uuid,
    pub event_id: i64,
    pub event_type: String,
    pub job_id: Uuid,
    /// `pending`, `succeeded` or `failed` (given up).
    pub state: String,
    pub attempts: i32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Oldest first.
    pub attempt_log: Vec<DeliveryAttemptRow>,
}

/// A delivery claimed for one attempt: what to send where.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: i64,
    /// The attempt this claim started (1-based): the fence of its outcome.
    pub attempt: i32,
    pub webhook: WebhookRow,
    pub event: JobEventRow,
}

/// What one attempt found.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOutcome {
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub latency_ms: f64,
    pub error: Option<String>,
    /// A 2xx answer.
    pub delivered: bool,
    /// When to try again (`None`: delivered, or given up).
    pub retry_at: Option<DateTime<Utc>>,
}

/// Every API key with its tenant's name, oldest first (the same SQL on both backends).
pub(crate) const LIST_API_KEYS: &str = "SELECT k.*, t.name AS tenant_name FROM api_keys k \
     JOIN tenants t ON t.id = k.tenant_id ORDER BY k.created_at, k.id";

/// The persistence surface of whittle. Every method is tenant-scoped where the row is.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Apply pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    // --- tenants and API keys -------------------------------------------------------------
    /// Get the tenant with this name, creating it when missing.
    async fn ensure_tenant(&self, name: &str) -> StoreResult<Tenant>;
    /// The tenant with this id, if any.
    async fn get_tenant(&self, id: Uuid) -> StoreResult<Option<Tenant>>;
    /// Active jobs and stored files of a tenant (zeros for an unknown tenant).
    async fn tenant_usage(&self, tenant_id: Uuid) -> StoreResult<TenantUsage>;
    /// Store a new key (only its sha256 hex and display prefix) for a tenant.
    async fn create_api_key(
        &self,
        tenant_id: Uuid,
        key_sha256: &str,
        prefix: &str,
    ) -> StoreResult<ApiKeyRow>;
    /// The tenant owning an unrevoked key with this sha256, if any.
    async fn tenant_for_api_key(&self, key_sha256: &str) -> StoreResult<Option<Uuid>>;
    /// Number of unrevoked keys (zero → anonymous access on loopback).
    async fn count_active_api_keys(&self) -> StoreResult<i64>;
    /// Every API key (revoked ones too) with its tenant's name, oldest first.
    async fn list_api_keys(&self) -> StoreResult<Vec<(ApiKeyRow, String)>>;
    /// Revoke a key (idempotent: a revoked key keeps its first `revoked_at`); None when no
    /// key has this id.
    async fn revoke_api_key(&self, id: Uuid) -> StoreResult<Option<ApiKeyRow>>;

    // --- models ------------------------------------------------------------------------
    async fn insert_model(&self, model: &NewModel) -> StoreResult<ModelRow>;
    async fn get_model(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<ModelRow>>;
    /// A page of models without their inventories (see [`ModelListRow`]).
    async fn list_models(
        &self,
        tenant_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<ModelListRow>>;
    /// Delete the row; returns it so the caller can delete the artifact.
    async fn delete_model(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<ModelRow>>;

    // --- datasets ------------------------------------------------------------------------
    async fn insert_dataset(&self, dataset: &NewDataset) -> StoreResult<DatasetRow>;
    async fn get_dataset(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<DatasetRow>>;
    async fn list_datasets(
        &self,
        tenant_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<DatasetRow>>;
    async fn delete_dataset(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<DatasetRow>>;

    // --- jobs: API side ------------------------------------------------------------------
    /// Insert a queued job. With an idempotency key already used by this tenant, returns the
    /// existing row instead (race-free under concurrent inserts). On Postgres the insert
    /// also `NOTIFY whittle_jobs`.
    async fn insert_job(&self, job: &NewJob) -> StoreResult<InsertedJob>;
    async fn get_job(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<JobRow>>;
    /// The tenant's job submitted with `key` as its `Idempotency-Key`, if any.
    async fn get_job_by_idempotency_key(
        &self,
        tenant_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<JobRow>>;
    async fn list_jobs(&self, tenant_id: Uuid, filter: &JobFilter) -> StoreResult<Page<JobRow>>;
    /// Queued → canceled at once; running → `cancel_requested_at` set (the worker stops
    /// within one heartbeat); terminal → unchanged. Returns the row after the change.
    async fn request_cancel(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<JobRow>>;
    /// Every child of `parent_id` (tune trials), oldest first.
    async fn list_child_jobs(&self, parent_id: Uuid) -> StoreResult<Vec<JobRow>>;
    /// Claim the next queued child of `parent_id`, as `claim_jobs` claims any job (the parent
    /// runs its own trials while it waits, so a study never waits for a free slot).
    async fn claim_child_job(
        &self,
        worker_id: &str,
        parent_id: Uuid,
        lease: Duration,
    ) -> StoreResult<Option<JobRow>>;

    // --- jobs: worker side -----------------------------------------------------------------
    /// Claim up to `limit` queued jobs of the given kinds whose `scheduled_at <= now`, highest
    /// priority first, then oldest. Sets running, attempt += 1, locked_by, lease, started_at.
    async fn claim_jobs(
        &self,
        worker_id: &str,
        kinds: &[String],
        limit: i64,
        lease: Duration,
    ) -> StoreResult<Vec<JobRow>>;
    /// Extend the lease and record progress. `None` = the fence failed (lease lost).
    async fn heartbeat(
        &self,
        fence: &Fence,
        lease: Duration,
        progress: Option<(f64, Option<&str>)>,
    ) -> StoreResult<Option<Heartbeat>>;
    /// Fenced success: in one transaction insert `output_model` (when given) and mark the job
    /// succeeded with `result`, progress 1 and `output_model_id`. `false` = fence failed and
    /// nothing was written.
    async fn complete_job(
        &self,
        fence: &Fence,
        result: &Value,
        output_model: Option<&NewModel>,
    ) -> StoreResult<bool>;
    /// Fenced success of many jobs without output models, in one round trip: element `i` of
    /// the answer is what `complete_job(&items[i].0, &items[i].1, None)` would have returned.
    async fn complete_jobs(&self, items: &[(Fence, Value)]) -> StoreResult<Vec<bool>> {
        let mut done = Vec::with_capacity(items.len());
        for (fence, result) in items {
            done.push(self.complete_job(fence, result, None).await?);
        }
        Ok(done)
    }
    /// Fenced failure of one attempt: append `error` to `errors`; with `retry_at` the job goes
    /// back to queued at that time, otherwise (or when `cancel_requested_at` is set) it ends
    /// failed (canceled). Returns the new state, `None` when the fence failed.
    async fn fail_job(
        &self,
        fence: &Fence,
        error: &AttemptError,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<Option<JobState>>;
    /// Fenced: a running job that observed its cancel request ends canceled.
    async fn finish_canceled(&self, fence: &Fence) -> StoreResult<bool>;
    /// Fenced: hand a running job back to the queue untouched (graceful shutdown): state
    /// queued, attempt -= 1, lock cleared.
    async fn release_job(&self, fence: &Fence) -> StoreResult<bool>;
    /// Running jobs whose lease expired before now (oldest first, at most `limit`).
    async fn list_expired_leases(&self, limit: i64) -> StoreResult<Vec<JobRow>>;
    /// Like `fail_job`, but only while the lease is still expired (so a late heartbeat wins).
    async fn rescue_job(
        &self,
        fence: &Fence,
        error: &AttemptError,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<Option<JobState>>;
    /// A stream that yields whenever a job is inserted (Postgres LISTEN). `None` when the
    /// backend cannot notify (SQLite: in-process wake-ups and polling cover it).
    async fn job_notifications(&self) -> StoreResult<Option<BoxStream<'static, ()>>>;

    // --- metrics, trials, observability -----------------------------------------------------------
    /// Upsert points on (job_id, name, step).
    async fn record_job_metrics(&self, job_id: Uuid, points: &[MetricPoint]) -> StoreResult<()>;
    /// All points of a job ordered by name, step.
    async fn list_job_metrics(&self, job_id: Uuid) -> StoreResult<Vec<MetricPoint>>;
    /// Insert or replace a trial on (job_id, number).
    async fn upsert_trial(&self, trial: &TrialRow) -> StoreResult<()>;
    /// All trials of a job ordered by number.
    async fn list_trials(&self, job_id: Uuid) -> StoreResult<Vec<TrialRow>>;
    /// Number of jobs per (kind, state) across tenants.
    async fn job_counts(&self) -> StoreResult<Vec<JobCount>>;

    // --- job events (written by triggers; see migrations 0006) -----------------------------
    /// Events of the tenant's job with `seq > after_seq`, oldest first, at most `limit`
    /// (capped like list pages). Empty for another tenant's job.
    async fn list_job_events(
        &self,
        tenant_id: Uuid,
        job_id: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobEventRow>>;
    /// The tenant's events with `id > after_id` matching `filter`, by id, at most `limit`.
    /// On Postgres an event behind an id not yet visible (a transaction still writing, or
    /// one rolled back) is returned only once it is older than [`Store::event_settle_time`],
    /// so that an event whose transaction commits late is not skipped by a reader who has
    /// seen a higher id.
    async fn list_tenant_events(
        &self,
        tenant_id: Uuid,
        after_id: i64,
        filter: &EventFilter,
        limit: i64,
    ) -> StoreResult<Vec<JobEventRow>>;
    /// The highest event id of the tenant (0 when it has none): where a live stream starts.
    async fn last_event_id(&self, tenant_id: Uuid) -> StoreResult<i64>;
    /// Every tenant's events with `id > after_id`, by id, at most `limit`, final ones only as
    /// for [`Store::list_tenant_events`] (the process-wide feed that tenant streams share).
    async fn list_events_after(&self, after_id: i64, limit: i64) -> StoreResult<Vec<JobEventRow>>;
    /// The highest event id of any tenant (0 when there is none).
    async fn max_event_id(&self) -> StoreResult<i64>;
    /// How long a tenant-wide reader leaves new events unread (see `list_tenant_events`).
    fn event_settle_time(&self) -> Duration;
    /// A stream of hints that events were written (Postgres: `LISTEN whittle_events`;
    /// SQLite: this process's writes, and a poll of the table for other processes'). Ends
    /// when the connection is lost; the caller opens a new one.
    async fn event_notifications(&self) -> StoreResult<BoxStream<'static, EventNotice>>;

    // --- webhooks ------------------------------------------------------------------------
    async fn create_webhook(&self, webhook: &NewWebhook) -> StoreResult<WebhookRow>;
    async fn get_webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookRow>>;
    /// Newest first.
    async fn list_webhooks(
        &self,
        tenant_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<WebhookRow>>;
    /// Apply `update`; `None` when the tenant has no such webhook.
    async fn update_webhook(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        update: &WebhookUpdate,
    ) -> StoreResult<Option<WebhookRow>>;
    /// Delete it with its deliveries; false when the tenant has no such webhook.
    async fn delete_webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// A webhook's deliveries, newest first, with `id < before` when given, at most `limit`.
    async fn list_deliveries(
        &self,
        webhook_id: Uuid,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRow>>;
    /// Claim up to `limit` due deliveries of enabled webhooks for one attempt each (attempts
    /// += 1, locked for `lease`; an attempt whose worker vanished is claimed again once the
    /// lease ends).
    async fn claim_deliveries(
        &self,
        limit: i64,
        lease: Duration,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Record an attempt's outcome, fenced by its attempt number (false when another claim
    /// has taken the delivery since): the attempt is logged; the delivery succeeds, is
    /// scheduled again at `retry_at`, or fails; the webhook's consecutive failures are reset
    /// or counted, and at `max_failures` it is disabled with the reason.
    async fn record_delivery(
        &self,
        delivery_id: i64,
        outcome: &DeliveryOutcome,
        max_failures: i32,
    ) -> StoreResult<bool>;

    /// Record that worker `worker_id` is alive and runs `kinds` (upsert, stamped now).
    async fn record_worker(&self, worker_id: &str, kinds: &[String]) -> StoreResult<()>;
    /// Kinds run by workers seen at or after `since` (sorted, each once; empty: no live worker).
    async fn live_worker_kinds(&self, since: DateTime<Utc>) -> StoreResult<Vec<String>>;
}

/// Open the store a database URL names: `sqlite://path` (created if missing, WAL mode) or
/// `postgres://…`. Does not migrate.
/// Why a webhook is disabled after `max_failures` consecutive failed attempts, the last one
/// being `outcome` (the same text on both backends).
fn disabled_reason(max_failures: i32, outcome: &DeliveryOutcome) -> String {
    let last = match (outcome.status_code, &outcome.error) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(e)) => e.clone(),
        (None, None) => "no response".into(),
    };
    format!("disabled after {max_failures} consecutive failed delivery attempts (last: {last})")
}

/// The sorted union of workers' kind lists (JSON arrays of names).
fn union_of_kinds<'a>(lists: impl Iterator<Item = &'a str>) -> StoreResult<Vec<String>> {
    let mut all = std::collections::BTreeSet::new();
    for list in lists {
        let kinds: Vec<String> = serde_json::from_str(list)
            .map_err(|e| StoreError::Corrupt(format!("worker kinds: {e}")))?;
        all.extend(kinds);
    }
    Ok(all.into_iter().collect())
}

pub async fn connect(url: &str) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

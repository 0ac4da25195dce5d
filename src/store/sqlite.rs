//! SQLite backend of [`Store`]: the embedded default (`sqlite://whittle-data/whittle.db`).
//!
//! One process owns the file, so "now" is the Rust clock and claims need no `SKIP LOCKED`:
//! SQLite has a single writer and each claim is one atomic `UPDATE … RETURNING`. The pool
//! runs in WAL mode (readers never block the writer) with a busy timeout, so concurrent writers
//! queue instead of failing. Multi-statement writes begin with `BEGIN IMMEDIATE`, which takes
//! the write lock up front (a deferred transaction that reads first can fail with `SQLITE_BUSY`
//! when it later tries to write).
//!
//! Column encodings (see migrations/sqlite/0001_init.sql), each written by one function here:
//! ids are hyphenated lowercase UUID text ([`id_text`]), timestamps fixed-width RFC 3339 UTC
//! text with microseconds ([`ts_text`]), so text order is id / time order; JSON is text.
//!
//! Contract refinements shared with the Postgres backend: `heartbeat` with
//! `Some((progress, message))` stores both (a `None` message clears it) and clamps progress to
//! `0..=1`; `release_job` of a job whose cancel was requested ends it canceled; leases are capped
//! at [`MAX_LEASE`]; page limits `<= 0` mean [`DEFAULT_PAGE_LIMIT`], larger ones are capped at
//! [`MAX_PAGE_LIMIT`]. SQLite stores NaN as NULL, so a NaN metric reads back as NaN and a NaN
//! trial value as `None`.
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use futures::stream::BoxStream;
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};
use uuid::Uuid;

use super::{
    model_summary, ApiKeyRow, AttemptError, DatasetRow, EventFilter, EventNotice, Fence, Heartbeat,
    InsertedJob, JobCount, JobEventRow, JobFilter, JobRow, MetricPoint, ModelListRow, ModelRow,
    NewDataset, NewJob, NewModel, Page, PageRequest, Store, StoreError, StoreResult, Tenant,
    TenantUsage, TrialRow, MODEL_LIST_COLUMNS,
};
use super::{
    ClaimedDelivery, DeliveryAttemptRow, DeliveryOutcome, DeliveryRow, NewWebhook, WebhookRow,
    WebhookUpdate,
};
use crate::domain::JobState;

/// Connections in the pool (WAL: many readers, writers take turns).
pub const POOL_SIZE: u32 = 8;
/// How long a writer waits for the write lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page size when the caller asks for `limit <= 0`.
pub const DEFAULT_PAGE_LIMIT: i64 = 50;
/// Largest page a list call returns.
pub const MAX_PAGE_LIMIT: i64 = 1000;
/// Longest lease a claim or heartbeat grants (guards against overflow from silly configs).
pub const MAX_LEASE: Duration = Duration::from_secs(7 * 24 * 3600);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// [`Store`] over a SQLite file (or `sqlite::memory:`).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Bumped after every write that may have added job events (the event triggers'
    /// in-process notification; other processes sharing the file are found by polling).
    changed: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

/// How often [`Store::event_notifications`] looks for events written by other processes.
pub const EVENT_POLL: Duration = Duration::from_millis(100);

/// The claim statement: queued rows matching `$filter` (which binds from `?4`), oldest of
/// the highest priority first, at most `$limit`, become running for worker `?1` with lease
/// end `?2` at time `?3`.
macro_rules! claim_sql {
    ($filter:literal, $limit:literal) => {
        concat!(
            "UPDATE jobs SET ",
            "state = 'running', attempt = attempt + 1, locked_by = ?1, ",
            "lease_expires_at = ?2, started_at = ?3, progress = 0, progress_message = NULL ",
            "WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND scheduled_at <= ?3 AND ",
            $filter,
            " ORDER BY priority DESC, scheduled_at, id LIMIT ",
            $limit,
            ") RETURNING *"
        )
    };
}

impl SqliteStore {
    /// Open `sqlite://path` (or `sqlite:path`), creating the file and its parent directory when
    /// missing unless the URL sets an explicit `mode=`. WAL, foreign keys, busy timeout on.
    /// Does not migrate.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let mut options = SqliteConnectOptions::from_str(url)?;
        let explicit_mode = url
            .split_once('?')
            .is_some_and(|(_, query)| query.split('&').any(|kv| kv.starts_with("mode=")));
        if !explicit_mode {
            options = options.create_if_missing(true);
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            if let Some(parent) = options.get_filename().parent() {
                if !parent.as_os_str().is_empty() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(sqlx::Error::Io)?;
                }
            }
        }
        Self::connect_with(options, in_memory).await
    }

    /// Open with explicit options. An in-memory database lives as long as one connection, so
    /// it gets a single connection that is never retired.
    pub async fn connect_with(options: SqliteConnectOptions, in_memory: bool) -> StoreResult<Self> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool_options = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(POOL_SIZE)
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self::from_pool(pool))
    }

    /// Wrap an existing pool (its connections should have foreign keys and a busy timeout).
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self {
            pool,
            changed: std::sync::Arc::new(tokio::sync::watch::channel(0).0),
        }
    }

    /// Tell this process's event readers that events may have been written.
    fn nudge(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The underlying pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// The one spelling of an id in this database.
pub fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// The one spelling of an instant in this database: `2025-01-02T03:04:05.123456Z`.
pub fn ts_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn page_limit(limit: i64) -> i64 {
    if limit <= 0 {
        DEFAULT_PAGE_LIMIT
    } else {
        limit.min(MAX_PAGE_LIMIT)
    }
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    // MAX_LEASE keeps both conversions in range; the fallback is unreachable in practice.
    TimeDelta::from_std(lease.min(MAX_LEASE))
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now)
}

fn clamp_progress(progress: f64) -> f64 {
    if progress.is_nan() {
        0.0
    } else {
        progress.clamp(0.0, 1.0)
    }
}

/// Turn `limit + 1` fetched rows into a page of at most `limit` with the next cursor.
fn into_page<T>(mut items: Vec<T>, limit: i64, id: impl Fn(&T) -> Uuid) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(id)
    } else {
        None
    };
    Page { items, next_cursor }
}

/// ` AND column IN (…)` for a non-empty list of values.
fn push_in(
    query: &mut QueryBuilder<'_, Sqlite>,
    column: &str,
    values: impl Iterator<Item = String>,
) {
    let values: Vec<String> = values.collect();
    if values.is_empty() {
        return;
    }
    query.push(format!(" AND {column} IN ("));
    let mut list = query.separated(", ");
    for v in values {
        list.push_bind(v);
    }
    list.push_unseparated(")");
}

fn corrupt(column: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {column}: {detail}"))
}

/// Typed reads of the text encodings; any mismatch is a corrupt row, never a panic.
struct Cols<'r>(&'r SqliteRow);

impl<'r> Cols<'r> {
    fn get<T>(&self, name: &str) -> StoreResult<T>
    where
        T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
    {
        self.0.try_get(name).map_err(|e| corrupt(name, e))
    }

    fn opt_text(&self, name: &str) -> StoreResult<Option<&'r str>> {
        self.0.try_get(name).map_err(|e| corrupt(name, e))
    }

    fn text(&self, name: &str) -> StoreResult<&'r str> {
        self.opt_text(name)?
            .ok_or_else(|| corrupt(name, "unexpected NULL"))
    }

    fn opt_uuid(&self, name: &str) -> StoreResult<Option<Uuid>> {
        self.opt_text(name)?
            .map(|s| Uuid::parse_str(s).map_err(|e| corrupt(name, e)))
            .transpose()
    }

    fn uuid(&self, name: &str) -> StoreResult<Uuid> {
        self.opt_uuid(name)?
            .ok_or_else(|| corrupt(name, "unexpected NULL"))
    }

    fn opt_ts(&self, name: &str) -> StoreResult<Option<DateTime<Utc>>> {
        self.opt_text(name)?
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| corrupt(name, format!("{e} in {s:?}")))
            })
            .transpose()
    }

    fn ts(&self, name: &str) -> StoreResult<DateTime<Utc>> {
        self.opt_ts(name)?
            .ok_or_else(|| corrupt(name, "unexpected NULL"))
    }

    fn opt_json(&self, name: &str) -> StoreResult<Option<Value>> {
        self.opt_text(name)?
            .map(|s| serde_json::from_str(s).map_err(|e| corrupt(name, e)))
            .transpose()
    }

    fn json(&self, name: &str) -> StoreResult<Value> {
        self.opt_json(name)?
            .ok_or_else(|| corrupt(name, "unexpected NULL"))
    }

    fn state(&self, name: &str) -> StoreResult<JobState> {
        self.text(name)?
            .parse()
            .map_err(|e: String| corrupt(name, e))
    }
}

fn tenant_from_row(row: &SqliteRow) -> StoreResult<Tenant> {
    let c = Cols(row);
    Ok(Tenant {
        id: c.uuid("id")?,
        name: c.get("name")?,
        created_at: c.ts("created_at")?,
    })
}

fn api_key_from_row(row: &SqliteRow) -> StoreResult<ApiKeyRow> {
    let c = Cols(row);
    Ok(ApiKeyRow {
        id: c.uuid("id")?,
        tenant_id: c.uuid("tenant_id")?,
        prefix: c.get("prefix")?,
        created_at: c.ts("created_at")?,
        revoked_at: c.opt_ts("revoked_at")?,
    })
}

fn model_from_row(row: &SqliteRow) -> StoreResult<ModelRow> {
    let c = Cols(row);
    Ok(ModelRow {
        id: c.uuid("id")?,
        tenant_id: c.uuid("tenant_id")?,
        name: c.get("name")?,
        format: c.get("format")?,
        artifact_key: c.get("artifact_key")?,
        sha256: c.get("sha256")?,
        bytes: c.get("bytes")?,
        n_params: c.get("n_params")?,
        inventory: c.json("inventory")?,
        architecture: c.opt_json("architecture")?,
        source_job_id: c.opt_uuid("source_job_id")?,
        files: c.opt_json("files")?,
        created_at: c.ts("created_at")?,
    })
}

fn model_list_row(row: &SqliteRow) -> StoreResult<ModelListRow> {
    let c = Cols(row);
    Ok(ModelListRow {
        id: c.uuid("id")?,
        tenant_id: c.uuid("tenant_id")?,
        name: c.get("name")?,
        format: c.get("format")?,
        sha256: c.get("sha256")?,
        bytes: c.get("bytes")?,
        n_params: c.get("n_params")?,
        summary: c.opt_json("summary")?,
        architecture: c.opt_json("architecture")?,
        source_job_id: c.opt_uuid("source_job_id")?,
        is_folder: c.get("is_folder")?,
        created_at: c.ts("created_at")?,
    })
}

fn dataset_from_row(row: &SqliteRow) -> StoreResult<DatasetRow> {
    let c = Cols(row);
    Ok(DatasetRow {
        id: c.uuid("id")?,
        tenant_id: c.uuid("tenant_id")?,
        name: c.get("name")?,
        format: c.get("format")?,
        artifact_key: c.get("artifact_key")?,
        sha256: c.get("sha256")?,
        bytes: c.get("bytes")?,
        rows: c.get("rows")?,
        features: c.get("features")?,
        feature_names: c.json("feature_names")?,
        target: c.get("target")?,
        task: c.get("task")?,
        classes: c.opt_json("classes")?,
        created_at: c.ts("created_at")?,
        modality: c.get("modality")?,
    })
}

fn job_from_row(row: &SqliteRow) -> StoreResult<JobRow> {
    let c = Cols(row);
    Ok(JobRow {
        id: c.uuid("id")?,
        tenant_id: c.uuid("tenant_id")?,
        kind: c.get("kind")?,
        spec: c.json("spec")?,
        state: c.state("state")?,
        priority: c.get("priority")?,
        attempt: c.get("attempt")?,
        max_attempts: c.get("max_attempts")?,
        scheduled_at: c.ts("scheduled_at")?,
        locked_by: c.get("locked_by")?,
        lease_expires_at: c.opt_ts("lease_expires_at")?,
        progress: c.get("progress")?,
        progress_message: c.get("progress_message")?,
        result: c.opt_json("result")?,
        errors: c.json("errors")?,
        idempotency_key: c.get("idempotency_key")?,
        cancel_requested_at: c.opt_ts("cancel_requested_at")?,
        parent_job_id: c.opt_uuid("parent_job_id")?,
        output_model_id: c.opt_uuid("output_model_id")?,
        created_at: c.ts("created_at")?,
        started_at: c.opt_ts("started_at")?,
        finished_at: c.opt_ts("finished_at")?,
    })
}

fn trial_from_row(row: &SqliteRow) -> StoreResult<TrialRow> {
    let c = Cols(row);
    Ok(TrialRow {
        job_id: c.uuid("job_id")?,
        number: c.get("number")?,
        params: c.json("params")?,
        state: c.get("state")?,
        value: c.get("value")?,
        intermediate: c.json("intermediate")?,
        error: c.get("error")?,
        started_at: c.opt_ts("started_at")?,
        finished_at: c.opt_ts("finished_at")?,
    })
}

fn event_from_row(row: &SqliteRow) -> StoreResult<JobEventRow> {
    let c = Cols(row);
    let at: String = c.get("at")?;
    Ok(JobEventRow {
        id: c.get("id")?,
        job_id: c.uuid("job_id")?,
        seq: c.get("seq")?,
        tenant_id: c.uuid("tenant_id")?,
        kind: c.get("kind")?,
        event_type: c.get("type")?,
        state: c.state("state")?,
        data: c.json("data")?,
        at: DateTime::parse_from_rfc3339(&at)
            .map_err(|e| corrupt("at", e))?
            .with_timezone(&Utc),
    })
}

fn webhook_from_row(row: &SqliteRow) -> StoreResult<WebhookRow> {
    let c = Cols(row);
    let events: Vec<String> =
        serde_json::from_value(c.json("events")?).map_err(|e| corrupt("events", e))?;
    Ok(WebhookRow {
        id: c.uuid("id")?,
        tenant_id: c.uuid("tenant_id")?,
        url: c.get("url")?,
        events,
        secret: c.get("secret")?,
        description: c.get("description")?,
        enabled: c.get("enabled")?,
        disabled_reason: c.get("disabled_reason")?,
        consecutive_failures: c.get("consecutive_failures")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
    })
}

fn attempt_error_text(error: &AttemptError) -> StoreResult<String> {
    serde_json::to_string(error).map_err(|e| StoreError::Corrupt(format!("attempt error: {e}")))
}

const INSERT_MODEL: &str = "INSERT INTO models (id, tenant_id, name, format, artifact_key, \
     sha256, bytes, n_params, inventory, architecture, source_job_id, created_at, summary, files) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *";

fn bind_model<'q>(
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    model: &'q NewModel,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    query
        .bind(id_text(model.id))
        .bind(id_text(model.tenant_id))
        .bind(&model.name)
        .bind(&model.format)
        .bind(&model.artifact_key)
        .bind(&model.sha256)
        .bind(model.bytes)
        .bind(model.n_params)
        .bind(model.inventory.to_string())
        .bind(model.architecture.as_ref().map(Value::to_string))
        .bind(model.source_job_id.map(id_text))
        .bind(ts_text(Utc::now()))
        .bind(model_summary(&model.inventory).to_string())
        .bind(model.files.as_ref().map(Value::to_string))
}

/// The fenced success update of `complete_job`.
fn complete_query<'q>(
    fence: &'q Fence,
    result: &Value,
    output_model_id: Option<Uuid>,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    sqlx::query(
        "UPDATE jobs SET state = 'succeeded', result = ?4, progress = 1, output_model_id = ?5, \
             finished_at = ?6, locked_by = NULL, lease_expires_at = NULL \
         WHERE id = ?1 AND state = 'running' AND locked_by = ?2 AND attempt = ?3",
    )
    .bind(id_text(fence.job_id))
    .bind(&fence.worker_id)
    .bind(fence.attempt)
    .bind(result.to_string())
    .bind(output_model_id.map(id_text))
    .bind(ts_text(Utc::now()))
}

impl SqliteStore {
    /// Shared body of `fail_job` and `rescue_job` (the latter also requires an expired lease).
    async fn fail_attempt(
        &self,
        fence: &Fence,
        error: &AttemptError,
        retry_at: Option<DateTime<Utc>>,
        only_if_lease_expired: bool,
    ) -> StoreResult<Option<JobState>> {
        let now = ts_text(Utc::now());
        // A requested cancel wins over a retry: the user asked for the job to stop.
        // Parameters: ?1 id, ?2 worker, ?3 attempt, ?4 error JSON, ?5 retry_at, ?6 now,
        // ?7 only-if-expired flag.
        let row = sqlx::query(
            "UPDATE jobs SET \
                 errors = json_insert(errors, '$[#]', json(?4)), \
                 state = CASE WHEN cancel_requested_at IS NOT NULL THEN 'canceled' \
                              WHEN ?5 IS NOT NULL THEN 'queued' ELSE 'failed' END, \
                 scheduled_at = CASE WHEN cancel_requested_at IS NULL AND ?5 IS NOT NULL \
                                     THEN ?5 ELSE scheduled_at END, \
                 finished_at = CASE WHEN cancel_requested_at IS NULL AND ?5 IS NOT NULL \
                                    THEN NULL ELSE ?6 END, \
                 locked_by = NULL, lease_expires_at = NULL \
             WHERE id = ?1 AND state = 'running' AND locked_by = ?2 AND attempt = ?3 \
               AND (NOT ?7 OR lease_expires_at < ?6) \
             RETURNING state",
        )
        .bind(id_text(fence.job_id))
        .bind(&fence.worker_id)
        .bind(fence.attempt)
        .bind(attempt_error_text(error)?)
        .bind(retry_at.map(ts_text))
        .bind(now)
        .bind(only_if_lease_expired)
        .fetch_optional(&self.pool)
        .await?;
        self.nudge();
        row.map(|r| Cols(&r).state("state")).transpose()
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn ensure_tenant(&self, name: &str) -> StoreResult<Tenant> {
        sqlx::query(
            "INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(id_text(Uuid::now_v7()))
        .bind(name)
        .bind(ts_text(Utc::now()))
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT * FROM tenants WHERE name = ?")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        tenant_from_row(&row)
    }

    async fn get_tenant(&self, id: Uuid) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT * FROM tenants WHERE id = ?")
            .bind(id_text(id))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(tenant_from_row).transpose()
    }

    async fn tenant_usage(&self, tenant_id: Uuid) -> StoreResult<TenantUsage> {
        let row = sqlx::query(
            "SELECT \
               (SELECT count(*) FROM jobs WHERE tenant_id = ?1 AND parent_job_id IS NULL \
                  AND state IN ('queued', 'running')) AS active_jobs, \
               (SELECT count(*) FROM models WHERE tenant_id = ?1) AS models, \
               (SELECT count(*) FROM datasets WHERE tenant_id = ?1) AS datasets, \
               (SELECT coalesce(sum(bytes), 0) FROM models WHERE tenant_id = ?1) \
                 + (SELECT coalesce(sum(bytes), 0) FROM datasets WHERE tenant_id = ?1) \
                 AS stored_bytes",
        )
        .bind(id_text(tenant_id))
        .fetch_one(&self.pool)
        .await?;
        let c = Cols(&row);
        Ok(TenantUsage {
            active_jobs: c.get("active_jobs")?,
            models: c.get("models")?,
            datasets: c.get("datasets")?,
            stored_bytes: c.get("stored_bytes")?,
        })
    }

    async fn create_api_key(
        &self,
        tenant_id: Uuid,
        key_sha256: &str,
        prefix: &str,
    ) -> StoreResult<ApiKeyRow> {
        let row = sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, sha256, prefix, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(id_text(Uuid::now_v7()))
        .bind(id_text(tenant_id))
        .bind(key_sha256)
        .bind(prefix)
        .bind(ts_text(Utc::now()))
        .fetch_one(&self.pool)
        .await?;
        api_key_from_row(&row)
    }

    async fn tenant_for_api_key(&self, key_sha256: &str) -> StoreResult<Option<Uuid>> {
        let row =
            sqlx::query("SELECT tenant_id FROM api_keys WHERE sha256 = ? AND revoked_at IS NULL")
                .bind(key_sha256)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Cols(&r).uuid("tenant_id")).transpose()
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<(ApiKeyRow, String)>> {
        let rows = sqlx::query(super::LIST_API_KEYS)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((api_key_from_row(r)?, Cols(r).get("tenant_name")?)))
            .collect()
    }

    async fn revoke_api_key(&self, id: Uuid) -> StoreResult<Option<ApiKeyRow>> {
        let row = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1 RETURNING *",
        )
        .bind(id_text(id))
        .bind(ts_text(Utc::now()))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    async fn count_active_api_keys(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL")
            .fetch_one(&self.pool)
            .await?;
        Cols(&row).get("n")
    }

    async fn insert_model(&self, model: &NewModel) -> StoreResult<ModelRow> {
        let row = bind_model(sqlx::query(INSERT_MODEL), model)
            .fetch_one(&self.pool)
            .await?;
        model_from_row(&row)
    }

    async fn get_model(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<ModelRow>> {
        let row = sqlx::query("SELECT * FROM models WHERE tenant_id = ? AND id = ?")
            .bind(id_text(tenant_id))
            .bind(id_text(id))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(model_from_row).transpose()
    }

    async fn list_models(
        &self,
        tenant_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<ModelListRow>> {
        let limit = page_limit(page.limit);
        let rows = sqlx::query(&format!(
            "SELECT {MODEL_LIST_COLUMNS} FROM models \
             WHERE tenant_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
        ))
        .bind(id_text(tenant_id))
        .bind(page.cursor.map(id_text))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(model_list_row)
            .collect::<StoreResult<_>>()?;
        Ok(into_page(items, limit, |m: &ModelListRow| m.id))
    }

    async fn delete_model(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<ModelRow>> {
        let row = sqlx::query("DELETE FROM models WHERE tenant_id = ? AND id = ? RETURNING *")
            .bind(id_text(tenant_id))
            .bind(id_text(id))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(model_from_row).transpose()
    }

    async fn insert_dataset(&self, dataset: &NewDataset) -> StoreResult<DatasetRow> {
        let row = sqlx::query(
            "INSERT INTO datasets (id, tenant_id, name, format, artifact_key, sha256, bytes, \
                 rows, features, feature_names, target, task, classes, created_at, modality) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(id_text(dataset.id))
        .bind(id_text(dataset.tenant_id))
        .bind(&dataset.name)
        .bind(&dataset.format)
        .bind(&dataset.artifact_key)
        .bind(&dataset.sha256)
        .bind(dataset.bytes)
        .bind(dataset.rows)
        .bind(dataset.features)
        .bind(dataset.feature_names.to_string())
        .bind(&dataset.target)
        .bind(&dataset.task)
        .bind(dataset.classes.as_ref().map(Value::to_string))
        .bind(ts_text(Utc::now()))
        .bind(&dataset.modality)
        .fetch_one(&self.pool)
        .await?;
        dataset_from_row(&row)
    }

    async fn get_dataset(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<DatasetRow>> {
        let row = sqlx::query("SELECT * FROM datasets WHERE tenant_id = ? AND id = ?")
            .bind(id_text(tenant_id))
            .bind(id_text(id))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(dataset_from_row).transpose()
    }

    async fn list_datasets(
        &self,
        tenant_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<DatasetRow>> {
        let limit = page_limit(page.limit);
        let rows = sqlx::query(
            "SELECT * FROM datasets WHERE tenant_id = ?1 AND (?2 IS NULL OR id < ?2) \
             ORDER BY id DESC LIMIT ?3",
        )
        .bind(id_text(tenant_id))
        .bind(page.cursor.map(id_text))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(dataset_from_row)
            .collect::<StoreResult<_>>()?;
        Ok(into_page(items, limit, |d: &DatasetRow| d.id))
    }

    async fn delete_dataset(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<DatasetRow>> {
        let row = sqlx::query("DELETE FROM datasets WHERE tenant_id = ? AND id = ? RETURNING *")
            .bind(id_text(tenant_id))
            .bind(id_text(id))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(dataset_from_row).transpose()
    }

    async fn insert_job(&self, job: &NewJob) -> StoreResult<InsertedJob> {
        let now = Utc::now();
        // Each statement is atomic and writers are serialized, so after DO NOTHING the
        // conflicting row is committed and the SELECT finds it.
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, tenant_id, kind, spec, priority, max_attempts, \
                 idempotency_key, parent_job_id, scheduled_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL \
             DO NOTHING RETURNING *",
        )
        .bind(id_text(job.id))
        .bind(id_text(job.tenant_id))
        .bind(&job.kind)
        .bind(job.spec.to_string())
        .bind(job.priority)
        .bind(job.max_attempts)
        .bind(&job.idempotency_key)
        .bind(job.parent_job_id.map(id_text))
        .bind(ts_text(job.scheduled_at.unwrap_or(now)))
        .bind(ts_text(now))
        .fetch_optional(&self.pool)
        .await?;
        self.nudge();
        if let Some(row) = inserted {
            return Ok(InsertedJob::Created(job_from_row(&row)?));
        }
        let existing = match &job.idempotency_key {
            Some(key) => self.get_job_by_idempotency_key(job.tenant_id, key).await?,
            None => None,
        };
        match existing {
            Some(row) => Ok(InsertedJob::Existing(row)),
            None => Err(StoreError::Corrupt(format!(
                "job insert with idempotency key {:?} neither inserted nor found an existing row",
                job.idempotency_key
            ))),
        }
    }

    async fn get_job_by_idempotency_key(
        &self,
        tenant_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<JobRow>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE tenant_id = ? AND idempotency_key = ?")
            .bind(id_text(tenant_id))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn get_job(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<JobRow>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE tenant_id = ? AND id = ?")
            .bind(id_text(tenant_id))
            .bind(id_text(id))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, tenant_id: Uuid, filter: &JobFilter) -> StoreResult<Page<JobRow>> {
        let limit = page_limit(filter.limit);
        let mut query = QueryBuilder::<Sqlite>::new("SELECT * FROM jobs WHERE tenant_id = ");
        query.push_bind(id_text(tenant_id));
        if let Some(state) = filter.state {
            query.push(" AND state = ").push_bind(state.as_str());
        }
        if let Some(kind) = &filter.kind {
            query.push(" AND kind = ").push_bind(kind.clone());
        }
        if let Some(parent) = filter.parent_job_id {
            query
                .push(" AND parent_job_id = ")
                .push_bind(id_text(parent));
        } else if filter.top_level_only {
            query.push(" AND parent_job_id IS NULL");
        }
        if let Some(cursor) = filter.cursor {
            query.push(" AND id < ").push_bind(id_text(cursor));
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = query.build().fetch_all(&self.pool).await?;
        let items = rows.iter().map(job_from_row).collect::<StoreResult<_>>()?;
        Ok(into_page(items, limit, |j: &JobRow| j.id))
    }

    async fn request_cancel(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<JobRow>> {
        let updated = sqlx::query(
            "UPDATE jobs SET \
                 state = CASE WHEN state = 'queued' THEN 'canceled' ELSE state END, \
                 finished_at = CASE WHEN state = 'queued' THEN ?3 ELSE finished_at END, \
                 cancel_requested_at = COALESCE(cancel_requested_at, ?3) \
             WHERE tenant_id = ?1 AND id = ?2 AND state IN ('queued', 'running') \
             RETURNING *",
        )
        .bind(id_text(tenant_id))
        .bind(id_text(id))
        .bind(ts_text(Utc::now()))
        .fetch_optional(&self.pool)
        .await?;
        self.nudge();
        match updated {
            Some(row) => Ok(Some(job_from_row(&row)?)),
            None => self.get_job(tenant_id, id).await,
        }
    }

    async fn list_child_jobs(&self, parent_id: Uuid) -> StoreResult<Vec<JobRow>> {
        let rows = sqlx::query("SELECT * FROM jobs WHERE parent_job_id = ? ORDER BY id")
            .bind(id_text(parent_id))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn claim_child_job(
        &self,
        worker_id: &str,
        parent_id: Uuid,
        lease: Duration,
    ) -> StoreResult<Option<JobRow>> {
        let now = Utc::now();
        let row = sqlx::query(claim_sql!("parent_job_id = ?4", "1"))
            .bind(worker_id)
            .bind(ts_text(lease_end(now, lease)))
            .bind(ts_text(now))
            .bind(id_text(parent_id))
            .fetch_optional(&self.pool)
            .await?;
        self.nudge();
        row.as_ref().map(job_from_row).transpose()
    }

    async fn claim_jobs(
        &self,
        worker_id: &str,
        kinds: &[String],
        limit: i64,
        lease: Duration,
    ) -> StoreResult<Vec<JobRow>> {
        if kinds.is_empty() || limit <= 0 {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let kinds_json = serde_json::to_string(kinds)
            .map_err(|e| StoreError::Corrupt(format!("job kinds: {e}")))?;
        // One statement = one atomic write; SQLite's single writer makes SKIP LOCKED moot.
        let rows = sqlx::query(claim_sql!(
            "kind IN (SELECT value FROM json_each(?4))",
            "?5"
        ))
        .bind(worker_id)
        .bind(ts_text(lease_end(now, lease)))
        .bind(ts_text(now))
        .bind(kinds_json)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.nudge();
        let mut jobs = rows
            .iter()
            .map(job_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING has no defined order; hand jobs out in claim order.
        jobs.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.scheduled_at.cmp(&b.scheduled_at))
                .then(a.id.cmp(&b.id))
        });
        Ok(jobs)
    }

    async fn heartbeat(
        &self,
        fence: &Fence,
        lease: Duration,
        progress: Option<(f64, Option<&str>)>,
    ) -> StoreResult<Option<Heartbeat>> {
        let (set_progress, value, message) = match progress {
            Some((value, message)) => (true, clamp_progress(value), message),
            None => (false, 0.0, None),
        };
        let row = sqlx::query(
            "UPDATE jobs SET \
                 lease_expires_at = ?4, \
                 progress = CASE WHEN ?5 THEN ?6 ELSE progress END, \
                 progress_message = CASE WHEN ?5 THEN ?7 ELSE progress_message END \
             WHERE id = ?1 AND state = 'running' AND locked_by = ?2 AND attempt = ?3 \
             RETURNING cancel_requested_at IS NOT NULL AS cancel_requested",
        )
        .bind(id_text(fence.job_id))
        .bind(&fence.worker_id)
        .bind(fence.attempt)
        .bind(ts_text(lease_end(Utc::now(), lease)))
        .bind(set_progress)
        .bind(value)
        .bind(message)
        .fetch_optional(&self.pool)
        .await?;
        self.nudge();
        row.map(|r| {
            Ok(Heartbeat {
                cancel_requested: Cols(&r).get("cancel_requested")?,
            })
        })
        .transpose()
    }

    async fn complete_job(
        &self,
        fence: &Fence,
        result: &Value,
        output_model: Option<&NewModel>,
    ) -> StoreResult<bool> {
        let Some(model) = output_model else {
            let updated = complete_query(fence, result, None)
                .execute(&self.pool)
                .await?;
            self.nudge();
            return Ok(updated.rows_affected() == 1);
        };
        // The model goes first because jobs.output_model_id references it; a failed fence
        // rolls the model back with the transaction.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        bind_model(sqlx::query(INSERT_MODEL), model)
            .execute(&mut *tx)
            .await?;
        let done = complete_query(fence, result, Some(model.id))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if done {
            tx.commit().await?;
            self.nudge();
        } else {
            tx.rollback().await?;
        }
        Ok(done)
    }

    async fn complete_jobs(&self, items: &[(Fence, Value)]) -> StoreResult<Vec<bool>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // One write transaction for the batch (one commit instead of one per job).
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut done = Vec::with_capacity(items.len());
        for (fence, result) in items {
            let updated = complete_query(fence, result, None)
                .execute(&mut *tx)
                .await?;
            done.push(updated.rows_affected() == 1);
        }
        tx.commit().await?;
        self.nudge();
        Ok(done)
    }

    async fn fail_job(
        &self,
        fence: &Fence,
        error: &AttemptError,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<Option<JobState>> {
        self.fail_attempt(fence, error, retry_at, false).await
    }

    async fn finish_canceled(&self, fence: &Fence) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'canceled', finished_at = ?4, locked_by = NULL, \
                 lease_expires_at = NULL, cancel_requested_at = COALESCE(cancel_requested_at, ?4) \
             WHERE id = ?1 AND state = 'running' AND locked_by = ?2 AND attempt = ?3",
        )
        .bind(id_text(fence.job_id))
        .bind(&fence.worker_id)
        .bind(fence.attempt)
        .bind(ts_text(Utc::now()))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        self.nudge();
        Ok(done)
    }

    async fn release_job(&self, fence: &Fence) -> StoreResult<bool> {
        // scheduled_at is kept, so the job keeps its place at the head of the queue.
        let done = sqlx::query(
            "UPDATE jobs SET \
                 state = CASE WHEN cancel_requested_at IS NULL THEN 'queued' ELSE 'canceled' END, \
                 attempt = CASE WHEN cancel_requested_at IS NULL THEN attempt - 1 ELSE attempt END, \
                 finished_at = CASE WHEN cancel_requested_at IS NULL THEN NULL ELSE ?4 END, \
                 locked_by = NULL, lease_expires_at = NULL \
             WHERE id = ?1 AND state = 'running' AND locked_by = ?2 AND attempt = ?3",
        )
        .bind(id_text(fence.job_id))
        .bind(&fence.worker_id)
        .bind(fence.attempt)
        .bind(ts_text(Utc::now()))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        self.nudge();
        Ok(done)
    }

    async fn list_expired_leases(&self, limit: i64) -> StoreResult<Vec<JobRow>> {
        let rows = sqlx::query(
            "SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < ? \
             ORDER BY lease_expires_at, id LIMIT ?",
        )
        .bind(ts_text(Utc::now()))
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn rescue_job(
        &self,
        fence: &Fence,
        error: &AttemptError,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<Option<JobState>> {
        self.fail_attempt(fence, error, retry_at, true).await
    }

    /// SQLite cannot notify: in-process wake-ups and polling cover it.
    async fn job_notifications(&self) -> StoreResult<Option<BoxStream<'static, ()>>> {
        Ok(None)
    }

    async fn record_job_metrics(&self, job_id: Uuid, points: &[MetricPoint]) -> StoreResult<()> {
        if points.is_empty() {
            return Ok(());
        }
        let job_id = id_text(job_id);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for point in points {
            sqlx::query(
                "INSERT INTO job_metrics (job_id, name, step, value) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (job_id, name, step) DO UPDATE SET value = excluded.value",
            )
            .bind(&job_id)
            .bind(&point.name)
            .bind(point.step)
            .bind(point.value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.nudge();
        Ok(())
    }

    async fn list_job_metrics(&self, job_id: Uuid) -> StoreResult<Vec<MetricPoint>> {
        let rows = sqlx::query(
            "SELECT name, step, value FROM job_metrics WHERE job_id = ? ORDER BY name, step",
        )
        .bind(id_text(job_id))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let c = Cols(r);
                Ok(MetricPoint {
                    name: c.get("name")?,
                    step: c.get("step")?,
                    // NULL is how SQLite stored a NaN.
                    value: c.get::<Option<f64>>("value")?.unwrap_or(f64::NAN),
                })
            })
            .collect()
    }

    async fn upsert_trial(&self, trial: &TrialRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO trials (job_id, number, params, state, value, intermediate, error, \
                 started_at, finished_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (job_id, number) DO UPDATE SET \
                 params = excluded.params, state = excluded.state, value = excluded.value, \
                 intermediate = excluded.intermediate, error = excluded.error, \
                 started_at = excluded.started_at, finished_at = excluded.finished_at",
        )
        .bind(id_text(trial.job_id))
        .bind(trial.number)
        .bind(trial.params.to_string())
        .bind(&trial.state)
        .bind(trial.value)
        .bind(trial.intermediate.to_string())
        .bind(&trial.error)
        .bind(trial.started_at.map(ts_text))
        .bind(trial.finished_at.map(ts_text))
        .execute(&self.pool)
        .await?;
        self.nudge();
        Ok(())
    }

    async fn list_trials(&self, job_id: Uuid) -> StoreResult<Vec<TrialRow>> {
        let rows = sqlx::query("SELECT * FROM trials WHERE job_id = ? ORDER BY number")
            .bind(id_text(job_id))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(trial_from_row).collect()
    }

    async fn job_counts(&self) -> StoreResult<Vec<JobCount>> {
        let rows = sqlx::query(
            "SELECT kind, state, count(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let c = Cols(r);
                Ok(JobCount {
                    kind: c.get("kind")?,
                    state: c.state("state")?,
                    count: c.get("n")?,
                })
            })
            .collect()
    }

    async fn list_job_events(
        &self,
        tenant_id: Uuid,
        job_id: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobEventRow>> {
        let rows = sqlx::query(
            "SELECT * FROM job_events WHERE job_id = ? AND tenant_id = ? AND seq > ? \
             ORDER BY seq LIMIT ?",
        )
        .bind(id_text(job_id))
        .bind(id_text(tenant_id))
        .bind(after_seq)
        .bind(page_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn list_tenant_events(
        &self,
        tenant_id: Uuid,
        after_id: i64,
        filter: &EventFilter,
        limit: i64,
    ) -> StoreResult<Vec<JobEventRow>> {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT * FROM job_events WHERE tenant_id = ");
        query.push_bind(id_text(tenant_id));
        query.push(" AND id > ").push_bind(after_id);
        push_in(&mut query, "kind", filter.kinds.iter().cloned());
        push_in(
            &mut query,
            "state",
            filter.states.iter().map(|s| s.as_str().to_string()),
        );
        push_in(&mut query, "type", filter.types.iter().cloned());
        query
            .push(" ORDER BY id LIMIT ")
            .push_bind(page_limit(limit));
        let rows = query.build().fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn list_events_after(&self, after_id: i64, limit: i64) -> StoreResult<Vec<JobEventRow>> {
        let rows = sqlx::query("SELECT * FROM job_events WHERE id > ? ORDER BY id LIMIT ?")
            .bind(after_id)
            .bind(page_limit(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn max_event_id(&self) -> StoreResult<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM job_events")
            .fetch_one(&self.pool)
            .await?;
        Ok(id.unwrap_or(0))
    }

    async fn last_event_id(&self, tenant_id: Uuid) -> StoreResult<i64> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT MAX(id) FROM job_events WHERE tenant_id = ?")
                .bind(id_text(tenant_id))
                .fetch_one(&self.pool)
                .await?;
        Ok(id.unwrap_or(0))
    }

    /// SQLite's single writer hands out ids in commit order: nothing to wait for.
    fn event_settle_time(&self) -> Duration {
        Duration::ZERO
    }

    async fn event_notifications(&self) -> StoreResult<BoxStream<'static, EventNotice>> {
        use futures::StreamExt;
        let pool = self.pool.clone();
        let changed = self.changed.subscribe();
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM job_events")
            .fetch_one(&pool)
            .await?;
        let state = (pool, changed, last.unwrap_or(0));
        let stream = futures::stream::unfold(state, |(pool, mut changed, mut last)| async move {
            loop {
                // This process's writes wake the reader at once; another process's within
                // one poll interval.
                if let Ok(Err(_)) = tokio::time::timeout(EVENT_POLL, changed.changed()).await {
                    return None; // the store is gone
                }
                let max: Option<i64> = match sqlx::query_scalar("SELECT MAX(id) FROM job_events")
                    .fetch_one(&pool)
                    .await
                {
                    Ok(max) => max,
                    Err(_) => return None,
                };
                let max = max.unwrap_or(0);
                if max != last {
                    last = max;
                    return Some((EventNotice::ANY, (pool, changed, last)));
                }
            }
        });
        Ok(stream.boxed())
    }

    async fn create_webhook(&self, webhook: &NewWebhook) -> StoreResult<WebhookRow> {
        let now = ts_text(Utc::now());
        let row = sqlx::query(
            "INSERT INTO webhooks (id, tenant_id, url, events, secret, description, created_at, \
                 updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(id_text(webhook.id))
        .bind(id_text(webhook.tenant_id))
        .bind(&webhook.url)
        .bind(Value::from(webhook.events.clone()).to_string())
        .bind(&webhook.secret)
        .bind(&webhook.description)
        .bind(&now)
        .bind(&now)
        .fetch_one(&self.pool)
        .await?;
        webhook_from_row(&row)
    }

    async fn get_webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookRow>> {
        let row = sqlx::query("SELECT * FROM webhooks WHERE tenant_id = ? AND id = ?")
            .bind(id_text(tenant_id))
            .bind(id_text(id))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    async fn list_webhooks(
        &self,
        tenant_id: Uuid,
        page: PageRequest,
    ) -> StoreResult<Page<WebhookRow>> {
        let limit = page_limit(page.limit);
        let rows = sqlx::query(
            "SELECT * FROM webhooks WHERE tenant_id = ?1 AND (?2 IS NULL OR id < ?2) \
             ORDER BY id DESC LIMIT ?3",
        )
        .bind(id_text(tenant_id))
        .bind(page.cursor.map(id_text))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(webhook_from_row)
            .collect::<StoreResult<_>>()?;
        Ok(into_page(items, limit, |w: &WebhookRow| w.id))
    }

    async fn update_webhook(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        update: &WebhookUpdate,
    ) -> StoreResult<Option<WebhookRow>> {
        let row = sqlx::query(
            "UPDATE webhooks SET url = COALESCE(?3, url), events = COALESCE(?4, events), \
                 description = CASE WHEN ?5 THEN ?6 ELSE description END, \
                 secret = COALESCE(?7, secret), enabled = COALESCE(?8, enabled), \
                 consecutive_failures = CASE WHEN ?8 = 1 THEN 0 ELSE consecutive_failures END, \
                 disabled_reason = CASE WHEN ?8 = 1 THEN NULL \
                                        WHEN ?8 = 0 AND enabled = 1 THEN 'disabled by request' \
                                        ELSE disabled_reason END, \
                 updated_at = ?9 \
             WHERE tenant_id = ?1 AND id = ?2 RETURNING *",
        )
        .bind(id_text(tenant_id))
        .bind(id_text(id))
        .bind(&update.url)
        .bind(
            update
                .events
                .as_ref()
                .map(|e| Value::from(e.clone()).to_string()),
        )
        .bind(update.description.is_some())
        .bind(update.description.clone().flatten())
        .bind(&update.secret)
        .bind(update.enabled)
        .bind(ts_text(Utc::now()))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    async fn delete_webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE tenant_id = ? AND id = ?")
            .bind(id_text(tenant_id))
            .bind(id_text(id))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_deliveries(
        &self,
        webhook_id: Uuid,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRow>> {
        let rows = sqlx::query(
            "SELECT d.*, e.type AS event_type, e.job_id FROM webhook_deliveries d \
             JOIN job_events e ON e.id = d.event_id \
             WHERE d.webhook_id = ?1 AND (?2 IS NULL OR d.id < ?2) ORDER BY d.id DESC LIMIT ?3",
        )
        .bind(id_text(webhook_id))
        .bind(before)
        .bind(page_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut deliveries = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = Cols(r);
            let state: String = c.get("state")?;
            deliveries.push(DeliveryRow {
                id: c.get("id")?,
                webhook_id: c.uuid("webhook_id")?,
                event_id: c.get("event_id")?,
                event_type: c.get("event_type")?,
                job_id: c.uuid("job_id")?,
                next_attempt_at: if state == "pending" {
                    Some(c.ts("next_attempt_at")?)
                } else {
                    None
                },
                state,
                attempts: c.get("attempts")?,
                created_at: c.ts("created_at")?,
                finished_at: c.opt_ts("finished_at")?,
                attempt_log: Vec::new(),
            });
        }
        if deliveries.is_empty() {
            return Ok(deliveries);
        }
        let ids = Value::from(deliveries.iter().map(|d| d.id).collect::<Vec<_>>()).to_string();
        let attempts = sqlx::query(
            "SELECT * FROM webhook_attempts WHERE delivery_id IN (SELECT value FROM json_each(?)) \
             ORDER BY delivery_id, attempt",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        for a in &attempts {
            let c = Cols(a);
            let delivery_id: i64 = c.get("delivery_id")?;
            let attempt = DeliveryAttemptRow {
                attempt: c.get("attempt")?,
                at: c.ts("at")?,
                status_code: c.get("status_code")?,
                latency_ms: c.get("latency_ms")?,
                error: c.get("error")?,
            };
            if let Some(d) = deliveries.iter_mut().find(|d| d.id == delivery_id) {
                d.attempt_log.push(attempt);
            }
        }
        Ok(deliveries)
    }

    async fn claim_deliveries(
        &self,
        limit: i64,
        lease: Duration,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let claimed = sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, locked_until = ?2 \
             WHERE id IN (SELECT d.id FROM webhook_deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= ?1 \
                   AND (d.locked_until IS NULL OR d.locked_until < ?1) AND w.enabled = 1 \
                 ORDER BY d.next_attempt_at, d.id LIMIT ?3) \
             RETURNING id, attempts, webhook_id, event_id",
        )
        .bind(ts_text(now))
        .bind(ts_text(lease_end(now, lease)))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(claimed.len());
        for r in &claimed {
            let c = Cols(r);
            let webhook = sqlx::query("SELECT * FROM webhooks WHERE id = ?")
                .bind(c.get::<String>("webhook_id")?)
                .fetch_one(&self.pool)
                .await?;
            let event = sqlx::query("SELECT * FROM job_events WHERE id = ?")
                .bind(c.get::<i64>("event_id")?)
                .fetch_one(&self.pool)
                .await?;
            out.push(ClaimedDelivery {
                id: c.get("id")?,
                attempt: c.get("attempts")?,
                webhook: webhook_from_row(&webhook)?,
                event: event_from_row(&event)?,
            });
        }
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    async fn record_delivery(
        &self,
        delivery_id: i64,
        outcome: &DeliveryOutcome,
        max_failures: i32,
    ) -> StoreResult<bool> {
        let now = ts_text(Utc::now());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let webhook_id: Option<String> = sqlx::query_scalar(
            "UPDATE webhook_deliveries SET \
                 state = CASE WHEN ?3 THEN 'succeeded' WHEN ?4 IS NOT NULL THEN 'pending' \
                              ELSE 'failed' END, \
                 next_attempt_at = COALESCE(?4, next_attempt_at), locked_until = NULL, \
                 finished_at = CASE WHEN ?3 OR ?4 IS NULL THEN ?5 END \
             WHERE id = ?1 AND attempts = ?2 AND state = 'pending' RETURNING webhook_id",
        )
        .bind(delivery_id)
        .bind(outcome.attempt)
        .bind(outcome.delivered)
        .bind(outcome.retry_at.map(ts_text))
        .bind(&now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(webhook_id) = webhook_id else {
            tx.rollback().await?;
            return Ok(false);
        };
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, \
                 error) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(delivery_id)
        .bind(outcome.attempt)
        .bind(&now)
        .bind(outcome.status_code)
        .bind(outcome.latency_ms)
        .bind(&outcome.error)
        .execute(&mut *tx)
        .await?;
        let reason = super::disabled_reason(max_failures, outcome);
        sqlx::query(
            "UPDATE webhooks SET \
                 consecutive_failures = CASE WHEN ?2 THEN 0 ELSE consecutive_failures + 1 END, \
                 disabled_reason = CASE WHEN NOT ?2 AND enabled = 1 \
                     AND consecutive_failures + 1 >= ?3 THEN ?4 ELSE disabled_reason END, \
                 enabled = CASE WHEN NOT ?2 AND consecutive_failures + 1 >= ?3 THEN 0 \
                     ELSE enabled END \
             WHERE id = ?1",
        )
        .bind(webhook_id)
        .bind(outcome.delivered)
        .bind(max_failures)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_worker(&self, worker_id: &str, kinds: &[String]) -> StoreResult<()> {
        let kinds = serde_json::to_string(kinds)
            .map_err(|e| StoreError::Corrupt(format!("worker kinds: {e}")))?;
        sqlx::query(
            "INSERT INTO workers (id, kinds, last_seen_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET kinds = excluded.kinds, last_seen_at = excluded.last_seen_at",
        )
        .bind(worker_id)
        .bind(kinds)
        .bind(ts_text(Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn live_worker_kinds(&self, since: DateTime<Utc>) -> StoreResult<Vec<String>> {
        // Timestamps are fixed-width RFC 3339 UTC text, so text order is time order.
        let rows = sqlx::query("SELECT kinds FROM workers WHERE last_seen_at >= ?1")
            .bind(ts_text(since))
            .fetch_all(&self.pool)
            .await?;
        let lists = rows
            .iter()
            .map(|r| Cols(r).get::<String>("kinds"))
            .collect::<StoreResult<Vec<String>>>()?;
        super::union_of_kinds(lists.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_are_fixed_width_and_sort_like_time() {
        let a = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(ts_text(a), "2025-01-02T03:04:05.000000Z");
        let b = a + TimeDelta::microseconds(1);
        assert_eq!(ts_text(b), "2025-01-02T03:04:05.000001Z");
        let c = a + TimeDelta::milliseconds(1500);
        assert_eq!(ts_text(c), "2025-01-02T03:04:06.500000Z");
        assert!(ts_text(a) < ts_text(b) && ts_text(b) < ts_text(c));
    }

    #[test]
    fn ids_are_lowercase_hyphenated_and_sort_like_uuids() {
        let a = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_00ff);
        let b = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0a00);
        assert_eq!(id_text(a), "00000000-0000-7000-8000-0000000000ff");
        assert!(a < b && id_text(a) < id_text(b));
    }

    #[tokio::test]
    async fn connect_creates_missing_parent_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("b").join("whittle.db");
        let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        assert!(path.is_file());
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[tokio::test]
    async fn in_memory_database_survives_across_calls() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let acme = store.ensure_tenant("acme").await.unwrap();
        assert_eq!(store.ensure_tenant("acme").await.unwrap(), acme);
    }

    #[tokio::test]
    async fn a_bad_row_is_corrupt_not_a_panic() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        // Written behind the store's back: an id that is not a UUID.
        sqlx::query(
            "INSERT INTO models (id, tenant_id, name, format, artifact_key, sha256, bytes, \
                 n_params, inventory, created_at) \
             VALUES ('not-a-uuid', ?, 'm', 'safetensors', 'k', 's', 1, 1, '{}', ?)",
        )
        .bind(id_text(crate::store::ANONYMOUS_TENANT))
        .bind(ts_text(Utc::now()))
        .execute(store.pool())
        .await
        .unwrap();
        let page = PageRequest {
            cursor: None,
            limit: 10,
        };
        let err = store
            .list_models(crate::store::ANONYMOUS_TENANT, page)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt(msg) if msg.contains("column id")),
            "{err}"
        );
    }

    #[test]
    fn page_limits_and_cursor() {
        assert_eq!(page_limit(0), DEFAULT_PAGE_LIMIT);
        assert_eq!(page_limit(5), 5);
        assert_eq!(page_limit(1_000_000), MAX_PAGE_LIMIT);
        let page = into_page(vec![5u128, 4, 3], 2, |x| Uuid::from_u128(*x));
        assert_eq!(page.items, vec![5, 4]);
        assert_eq!(page.next_cursor, Some(Uuid::from_u128(4)));
        let last = into_page(vec![2u128, 1], 2, |x| Uuid::from_u128(*x));
        assert_eq!(last.next_cursor, None);
    }
}

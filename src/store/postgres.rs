//! Postgres backend of [`Store`]: the production / scale-out store.
//!
//! Any number of `whittle worker` processes on any number of machines share one database, so
//! every instant the queue compares ("now", lease expiry) comes from the database clock
//! (`now()`), never from the caller. Claims use `FOR UPDATE SKIP LOCKED`; finishing updates are
//! fenced by `state = 'running' AND locked_by AND attempt`. A trigger (migration 0001) runs
//! `pg_notify('whittle_jobs', kind)` when a job becomes queued (insert, retry, release,
//! rescue); [`Store::job_notifications`] turns a `LISTEN` on that channel into a stream.
//!
//! Small refinements of the trait's contract, shared with the SQLite backend:
//! - `heartbeat` with `Some((progress, message))` stores both (a `None` message clears it);
//!   progress is clamped to `0..=1` (NaN → 0).
//! - `release_job` of a job whose cancel was requested ends it canceled instead of queued.
//! - Leases longer than [`MAX_LEASE`] are shortened to it.
//! - Page limits `<= 0` mean [`DEFAULT_PAGE_LIMIT`], larger than [`MAX_PAGE_LIMIT`] are capped.
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};
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

/// The `LISTEN`/`NOTIFY` channel that wakes workers.
pub const NOTIFY_CHANNEL: &str = "whittle_jobs";
/// The channel the job-event triggers notify (payload `<tenant> <job> <seq>`).
pub const EVENTS_CHANNEL: &str = "whittle_events";
/// How long a tenant-wide event reader leaves new events unread: ids come from a sequence,
/// so a transaction holding a lower id can commit after one holding a higher id; the
/// triggers' transactions are short, so after this long the order is settled.
pub const EVENT_SETTLE: Duration = Duration::from_millis(300);

/// A `WITH` clause whose `bound.upto` is the last id of the events that are final after the
/// cursor `cursor` (a placeholder, as `settle_secs`).
/// Ids come from one sequence, so a committed event after a missing id may belong to a
/// transaction that has not committed yet (or rolled back). The events up to the first
/// missing id after the cursor (every tenant's: ids are global) are final at once; beyond it
/// only those older than the settle time, by which the missing one is taken to have rolled
/// back. So a resumed stream never skips an event, and an event is read immediately unless a
/// concurrent writer holds an earlier id.
/// Lock a job's row before writing a row that references it (metric points, trials): the
/// insert's foreign-key check takes a share lock on the job, and the event trigger then needs
/// the row lock, so two writers for one job that each took the share lock first would wait
/// for each other (a deadlock). Taking the row lock first makes them queue instead.
async fn lock_job_for_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    job_id: Uuid,
) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE")
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn final_events(cursor: &str, settle_secs: &str) -> String {
    format!(
        "WITH seen AS ( \
           SELECT id, at, id - {cursor} - row_number() OVER (ORDER BY id) AS missing_before \
           FROM (SELECT id, at FROM job_events WHERE id > {cursor} ORDER BY id LIMIT 10000) s \
         ), bound AS ( \
           SELECT COALESCE(MAX(id) FILTER (WHERE missing_before = 0 \
               OR at <= clock_timestamp() - make_interval(secs => {settle_secs})), {cursor}) AS upto \
           FROM seen \
         )"
    )
}
/// Connections per process: API handlers + worker claim loops + heartbeats + one listener.
pub const POOL_SIZE: u32 = 16;
/// Page size when the caller asks for `limit <= 0`.
pub const DEFAULT_PAGE_LIMIT: i64 = 50;
/// Largest page a list call returns.
pub const MAX_PAGE_LIMIT: i64 = 1000;
/// Longest lease a claim or heartbeat grants (guards against overflow from silly configs).
pub const MAX_LEASE: Duration = Duration::from_secs(7 * 24 * 3600);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// [`Store`] over a Postgres connection pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connect to `postgres://…` with a pool of [`POOL_SIZE`]. Does not migrate.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?;
        Self::connect_with(options).await
    }

    /// Connect with explicit options (tests point these at a fresh database).
    pub async fn connect_with(options: PgConnectOptions) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// Wrap an existing pool.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn page_limit(limit: i64) -> i64 {
    if limit <= 0 {
        DEFAULT_PAGE_LIMIT
    } else {
        limit.min(MAX_PAGE_LIMIT)
    }
}

fn lease_secs(lease: Duration) -> f64 {
    lease.min(MAX_LEASE).as_secs_f64()
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

/// Read one column, reporting a type mismatch or missing column as a corrupt row.
fn col<'r, T>(row: &'r PgRow, name: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

fn parse_state(raw: &str) -> StoreResult<JobState> {
    raw.parse()
        .map_err(|e: String| StoreError::Corrupt(format!("column state: {e}")))
}

fn tenant_from_row(row: &PgRow) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: col(row, "id")?,
        name: col(row, "name")?,
        created_at: col(row, "created_at")?,
    })
}

fn api_key_from_row(row: &PgRow) -> StoreResult<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: col(row, "id")?,
        tenant_id: col(row, "tenant_id")?,
        prefix: col(row, "prefix")?,
        created_at: col(row, "created_at")?,
        revoked_at: col(row, "revoked_at")?,
    })
}

fn model_from_row(row: &PgRow) -> StoreResult<ModelRow> {
    Ok(ModelRow {
        id: col(row, "id")?,
        tenant_id: col(row, "tenant_id")?,
        name: col(row, "name")?,
        format: col(row, "format")?,
        artifact_key: col(row, "artifact_key")?,
        sha256: col(row, "sha256")?,
        bytes: col(row, "bytes")?,
        n_params: col(row, "n_params")?,
        inventory: col(row, "inventory")?,
        architecture: col(row, "architecture")?,
        source_job_id: col(row, "source_job_id")?,
        files: col(row, "files")?,
        created_at: col(row, "created_at")?,
    })
}

fn model_list_row(row: &PgRow) -> StoreResult<ModelListRow> {
    Ok(ModelListRow {
        id: col(row, "id")?,
        tenant_id: col(row, "tenant_id")?,
        name: col(row, "name")?,
        format: col(row, "format")?,
        sha256: col(row, "sha256")?,
        bytes: col(row, "bytes")?,
        n_params: col(row, "n_params")?,
        summary: col(row, "summary")?,
        architecture: col(row, "architecture")?,
        source_job_id: col(row, "source_job_id")?,
        is_folder: col(row, "is_folder")?,
        created_at: col(row, "created_at")?,
    })
}

fn dataset_from_row(row: &PgRow) -> StoreResult<DatasetRow> {
    Ok(DatasetRow {
        id: col(row, "id")?,
        tenant_id: col(row, "tenant_id")?,
        name: col(row, "name")?,
        format: col(row, "format")?,
        artifact_key: col(row, "artifact_key")?,
        sha256: col(row, "sha256")?,
        bytes: col(row, "bytes")?,
        rows: col(row, "rows")?,
        features: col(row, "features")?,
        feature_names: col(row, "feature_names")?,
        target: col(row, "target")?,
        task: col(row, "task")?,
        classes: col(row, "classes")?,
        created_at: col(row, "created_at")?,
        modality: col(row, "modality")?,
    })
}

fn job_from_row(row: &PgRow) -> StoreResult<JobRow> {
    let state: String = col(row, "state")?;
    Ok(JobRow {
        id: col(row, "id")?,
        tenant_id: col(row, "tenant_id")?,
        kind: col(row, "kind")?,
        spec: col(row, "spec")?,
        state: parse_state(&state)?,
        priority: col(row, "priority")?,
        attempt: col(row, "attempt")?,
        max_attempts: col(row, "max_attempts")?,
        scheduled_at: col(row, "scheduled_at")?,
        locked_by: col(row, "locked_by")?,
        lease_expires_at: col(row, "lease_expires_at")?,
        progress: col(row, "progress")?,
        progress_message: col(row, "progress_message")?,
        result: col(row, "result")?,
        errors: col(row, "errors")?,
        idempotency_key: col(row, "idempotency_key")?,
        cancel_requested_at: col(row, "cancel_requested_at")?,
        parent_job_id: col(row, "parent_job_id")?,
        output_model_id: col(row, "output_model_id")?,
        created_at: col(row, "created_at")?,
        started_at: col(row, "started_at")?,
        finished_at: col(row, "finished_at")?,
    })
}

fn trial_from_row(row: &PgRow) -> StoreResult<TrialRow> {
    Ok(TrialRow {
        job_id: col(row, "job_id")?,
        number: col(row, "number")?,
        params: col(row, "params")?,
        state: col(row, "state")?,
        value: col(row, "value")?,
        intermediate: col(row, "intermediate")?,
        error: col(row, "error")?,
        started_at: col(row, "started_at")?,
        finished_at: col(row, "finished_at")?,
    })
}

fn event_from_row(row: &PgRow) -> StoreResult<JobEventRow> {
    Ok(JobEventRow {
        id: col(row, "id")?,
        job_id: col(row, "job_id")?,
        seq: col(row, "seq")?,
        tenant_id: col(row, "tenant_id")?,
        kind: col(row, "kind")?,
        event_type: col(row, "type")?,
        state: parse_state(&col::<String>(row, "state")?)?,
        data: col(row, "data")?,
        at: col(row, "at")?,
    })
}

/// The payload of a `whittle_events` notification; anything else is a hint for everyone.
fn parse_event_notice(payload: &str) -> EventNotice {
    let mut parts = payload.split(' ');
    let tenant_id = parts.next().and_then(|p| Uuid::parse_str(p).ok());
    let job_id = parts.next().and_then(|p| Uuid::parse_str(p).ok());
    match (tenant_id, job_id) {
        (Some(t), Some(j)) => EventNotice {
            tenant_id: Some(t),
            job_id: Some(j),
        },
        _ => EventNotice::ANY,
    }
}

fn webhook_from_row(row: &PgRow) -> StoreResult<WebhookRow> {
    let events: Vec<String> = serde_json::from_value(col::<Value>(row, "events")?)
        .map_err(|e| StoreError::Corrupt(format!("webhooks.events: {e}")))?;
    Ok(WebhookRow {
        id: col(row, "id")?,
        tenant_id: col(row, "tenant_id")?,
        url: col(row, "url")?,
        events,
        secret: col(row, "secret")?,
        description: col(row, "description")?,
        enabled: col(row, "enabled")?,
        disabled_reason: col(row, "disabled_reason")?,
        consecutive_failures: col(row, "consecutive_failures")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

fn attempt_error_json(error: &AttemptError) -> StoreResult<Value> {
    serde_json::to_value(error).map_err(|e| StoreError::Corrupt(format!("attempt error: {e}")))
}

const INSERT_MODEL: &str =
    "INSERT INTO models (id, tenant_id, name, format, artifact_key, sha256, \
     bytes, n_params, inventory, architecture, source_job_id, summary, files) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *";

fn bind_model<'q>(
    query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    model: &'q NewModel,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(model.id)
        .bind(model.tenant_id)
        .bind(&model.name)
        .bind(&model.format)
        .bind(&model.artifact_key)
        .bind(&model.sha256)
        .bind(model.bytes)
        .bind(model.n_params)
        .bind(&model.inventory)
        .bind(&model.architecture)
        .bind(model.source_job_id)
        .bind(model_summary(&model.inventory))
        .bind(&model.files)
}

/// The fenced success update of `complete_job`.
fn complete_query<'q>(
    fence: &'q Fence,
    result: &'q Value,
    output_model_id: Option<Uuid>,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(
        "UPDATE jobs SET state = 'succeeded', result = $4, progress = 1, output_model_id = $5, \
             finished_at = now(), locked_by = NULL, lease_expires_at = NULL \
         WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempt = $3",
    )
    .bind(fence.job_id)
    .bind(&fence.worker_id)
    .bind(fence.attempt)
    .bind(result)
    .bind(output_model_id)
}

impl PostgresStore {
    /// Shared body of `fail_job` and `rescue_job` (the latter also requires an expired lease).
    async fn fail_attempt(
        &self,
        fence: &Fence,
        error: &AttemptError,
        retry_at: Option<DateTime<Utc>>,
        only_if_lease_expired: bool,
    ) -> StoreResult<Option<JobState>> {
        // A requested cancel wins over a retry: the user asked for the job to stop.
        let row = sqlx::query(
            "UPDATE jobs SET \
                 errors = errors || jsonb_build_array($4::jsonb), \
                 state = CASE WHEN cancel_requested_at IS NOT NULL THEN 'canceled' \
                              WHEN $5::timestamptz IS NOT NULL THEN 'queued' \
                              ELSE 'failed' END, \
                 scheduled_at = CASE WHEN cancel_requested_at IS NULL AND $5::timestamptz IS NOT NULL \
                                     THEN $5::timestamptz ELSE scheduled_at END, \
                 finished_at = CASE WHEN cancel_requested_at IS NULL AND $5::timestamptz IS NOT NULL \
                                    THEN NULL ELSE now() END, \
                 locked_by = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempt = $3 \
               AND (NOT $6 OR lease_expires_at < now()) \
             RETURNING state",
        )
        .bind(fence.job_id)
        .bind(&fence.worker_id)
        .bind(fence.attempt)
        .bind(attempt_error_json(error)?)
        .bind(retry_at)
        .bind(only_if_lease_expired)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => {
                let state: String = col(&row, "state")?;
                Ok(Some(parse_state(&state)?))
            }
            None => Ok(None),
        }
    }
}

/// The claim statement: queued rows matching `$filter` (which binds from `$3`), oldest of
/// the highest priority first, at most `$limit`, locked with SKIP LOCKED, become running for
/// worker `$1` with a lease of `$2` seconds.
macro_rules! claim_sql {
    ($filter:literal, $limit:literal) => {
        concat!(
            "WITH next AS (SELECT id FROM jobs ",
            "WHERE state = 'queued' AND scheduled_at <= now() AND ",
            $filter,
            " ORDER BY priority DESC, scheduled_at, id LIMIT ",
            $limit,
            " FOR UPDATE SKIP LOCKED) ",
            "UPDATE jobs SET state = 'running', attempt = jobs.attempt + 1, locked_by = $1, ",
            "lease_expires_at = now() + make_interval(secs => $2), started_at = now(), ",
            "progress = 0, progress_message = NULL ",
            "FROM next WHERE jobs.id = next.id RETURNING jobs.*"
        )
    };
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
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
        sqlx::query("INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(Uuid::now_v7())
            .bind(name)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT * FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        tenant_from_row(&row)
    }

    async fn get_tenant(&self, id: Uuid) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT * FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(tenant_from_row).transpose()
    }

    async fn tenant_usage(&self, tenant_id: Uuid) -> StoreResult<TenantUsage> {
        let row = sqlx::query(
            "SELECT \
               (SELECT count(*) FROM jobs WHERE tenant_id = $1 AND parent_job_id IS NULL \
                  AND state IN ('queued', 'running')) AS active_jobs, \
               (SELECT count(*) FROM models WHERE tenant_id = $1) AS models, \
               (SELECT count(*) FROM datasets WHERE tenant_id = $1) AS datasets, \
               (SELECT coalesce(sum(bytes), 0) FROM models WHERE tenant_id = $1)::bigint \
                 + (SELECT coalesce(sum(bytes), 0) FROM datasets WHERE tenant_id = $1)::bigint \
                 AS stored_bytes",
        )
        .bind(tenant_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(TenantUsage {
            active_jobs: col(&row, "active_jobs")?,
            models: col(&row, "models")?,
            datasets: col(&row, "datasets")?,
            stored_bytes: col(&row, "stored_bytes")?,
        })
    }

    async fn create_api_key(
        &self,
        tenant_id: Uuid,
        key_sha256: &str,
        prefix: &str,
    ) -> StoreResult<ApiKeyRow> {
        let row = sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, sha256, prefix) VALUES ($1, $2, $3, $4) \
             RETURNING *",
        )
        .bind(Uuid::now_v7())
        .bind(tenant_id)
        .bind(key_sha256)
        .bind(prefix)
        .fetch_one(&self.pool)
        .await?;
        api_key_from_row(&row)
    }

    async fn tenant_for_api_key(&self, key_sha256: &str) -> StoreResult<Option<Uuid>> {
        let row =
            sqlx::query("SELECT tenant_id FROM api_keys WHERE sha256 = $1 AND revoked_at IS NULL")
                .bind(key_sha256)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| col(&r, "tenant_id")).transpose()
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<(ApiKeyRow, String)>> {
        let rows = sqlx::query(super::LIST_API_KEYS)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((api_key_from_row(r)?, r.try_get("tenant_name")?)))
            .collect()
    }

    async fn revoke_api_key(&self, id: Uuid) -> StoreResult<Option<ApiKeyRow>> {
        let row = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 \
             RETURNING *",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    async fn count_active_api_keys(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL")
            .fetch_one(&self.pool)
            .await?;
        col(&row, "n")
    }

    async fn insert_model(&self, model: &NewModel) -> StoreResult<ModelRow> {
        let row = bind_model(sqlx::query(INSERT_MODEL), model)
            .fetch_one(&self.pool)
            .await?;
        model_from_row(&row)
    }

    async fn get_model(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<ModelRow>> {
        let row = sqlx::query("SELECT * FROM models WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
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
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(tenant_id)
        .bind(page.cursor)
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
        let row = sqlx::query("DELETE FROM models WHERE tenant_id = $1 AND id = $2 RETURNING *")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(model_from_row).transpose()
    }

    async fn insert_dataset(&self, dataset: &NewDataset) -> StoreResult<DatasetRow> {
        let row = sqlx::query(
            "INSERT INTO datasets (id, tenant_id, name, format, artifact_key, sha256, bytes, \
                 rows, features, feature_names, target, task, classes, modality) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *",
        )
        .bind(dataset.id)
        .bind(dataset.tenant_id)
        .bind(&dataset.name)
        .bind(&dataset.format)
        .bind(&dataset.artifact_key)
        .bind(&dataset.sha256)
        .bind(dataset.bytes)
        .bind(dataset.rows)
        .bind(dataset.features)
        .bind(&dataset.feature_names)
        .bind(&dataset.target)
        .bind(&dataset.task)
        .bind(&dataset.classes)
        .bind(&dataset.modality)
        .fetch_one(&self.pool)
        .await?;
        dataset_from_row(&row)
    }

    async fn get_dataset(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<DatasetRow>> {
        let row = sqlx::query("SELECT * FROM datasets WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
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
            "SELECT * FROM datasets WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant_id)
        .bind(page.cursor)
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
        let row = sqlx::query("DELETE FROM datasets WHERE tenant_id = $1 AND id = $2 RETURNING *")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(dataset_from_row).transpose()
    }

    async fn insert_job(&self, job: &NewJob) -> StoreResult<InsertedJob> {
        // ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit, so
        // the SELECT that follows sees the winner. Two rounds cover a winner that rolled back.
        for _ in 0..2 {
            let inserted = sqlx::query(
                "INSERT INTO jobs (id, tenant_id, kind, spec, priority, max_attempts, \
                     idempotency_key, parent_job_id, scheduled_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, now())) \
                 ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL \
                 DO NOTHING RETURNING *",
            )
            .bind(job.id)
            .bind(job.tenant_id)
            .bind(&job.kind)
            .bind(&job.spec)
            .bind(job.priority)
            .bind(job.max_attempts)
            .bind(&job.idempotency_key)
            .bind(job.parent_job_id)
            .bind(job.scheduled_at)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = inserted {
                return Ok(InsertedJob::Created(job_from_row(&row)?));
            }
            let existing = match &job.idempotency_key {
                Some(key) => self.get_job_by_idempotency_key(job.tenant_id, key).await?,
                None => None,
            };
            if let Some(row) = existing {
                return Ok(InsertedJob::Existing(row));
            }
        }
        Err(StoreError::Corrupt(format!(
            "job insert with idempotency key {:?} neither inserted nor found an existing row",
            job.idempotency_key
        )))
    }

    async fn get_job_by_idempotency_key(
        &self,
        tenant_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<JobRow>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE tenant_id = $1 AND idempotency_key = $2")
            .bind(tenant_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn get_job(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<JobRow>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, tenant_id: Uuid, filter: &JobFilter) -> StoreResult<Page<JobRow>> {
        let limit = page_limit(filter.limit);
        // Built per call so the planner sees only the filters in use (e.g. the parent index).
        let mut query = QueryBuilder::<Postgres>::new("SELECT * FROM jobs WHERE tenant_id = ");
        query.push_bind(tenant_id);
        if let Some(state) = filter.state {
            query.push(" AND state = ").push_bind(state.as_str());
        }
        if let Some(kind) = &filter.kind {
            query.push(" AND kind = ").push_bind(kind);
        }
        if let Some(parent) = filter.parent_job_id {
            query.push(" AND parent_job_id = ").push_bind(parent);
        } else if filter.top_level_only {
            query.push(" AND parent_job_id IS NULL");
        }
        if let Some(cursor) = filter.cursor {
            query.push(" AND id < ").push_bind(cursor);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let rows = query.build().fetch_all(&self.pool).await?;
        let items = rows.iter().map(job_from_row).collect::<StoreResult<_>>()?;
        Ok(into_page(items, limit, |j: &JobRow| j.id))
    }

    async fn request_cancel(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<JobRow>> {
        // The CASEs read the row as it was before the update (and, under a concurrent claim,
        // as the claim left it), so a job claimed meanwhile gets a cancel request instead.
        let updated = sqlx::query(
            "UPDATE jobs SET \
                 state = CASE WHEN state = 'queued' THEN 'canceled' ELSE state END, \
                 finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END, \
                 cancel_requested_at = COALESCE(cancel_requested_at, now()) \
             WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'running') \
             RETURNING *",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match updated {
            Some(row) => Ok(Some(job_from_row(&row)?)),
            None => self.get_job(tenant_id, id).await,
        }
    }

    async fn list_child_jobs(&self, parent_id: Uuid) -> StoreResult<Vec<JobRow>> {
        let rows = sqlx::query("SELECT * FROM jobs WHERE parent_job_id = $1 ORDER BY id")
            .bind(parent_id)
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
        let row = sqlx::query(claim_sql!("parent_job_id = $3", "1"))
            .bind(worker_id)
            .bind(lease_secs(lease))
            .bind(parent_id)
            .fetch_optional(&self.pool)
            .await?;
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
        let rows = sqlx::query(claim_sql!("kind = ANY($3)", "$4"))
            .bind(worker_id)
            .bind(lease_secs(lease))
            .bind(kinds)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
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
                 lease_expires_at = now() + make_interval(secs => $4), \
                 progress = CASE WHEN $5 THEN $6 ELSE progress END, \
                 progress_message = CASE WHEN $5 THEN $7 ELSE progress_message END \
             WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempt = $3 \
             RETURNING cancel_requested_at IS NOT NULL AS cancel_requested",
        )
        .bind(fence.job_id)
        .bind(&fence.worker_id)
        .bind(fence.attempt)
        .bind(lease_secs(lease))
        .bind(set_progress)
        .bind(value)
        .bind(message)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Heartbeat {
                cancel_requested: col(&r, "cancel_requested")?,
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
            return Ok(updated.rows_affected() == 1);
        };
        // The model goes first because jobs.output_model_id references it; a failed fence
        // rolls the model back with the transaction.
        let mut tx = self.pool.begin().await?;
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
        } else {
            tx.rollback().await?;
        }
        Ok(done)
    }

    async fn complete_jobs(&self, items: &[(Fence, Value)]) -> StoreResult<Vec<bool>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // One statement, one commit: the batch shares a WAL flush.
        let ids: Vec<Uuid> = items.iter().map(|(f, _)| f.job_id).collect();
        let workers: Vec<String> = items.iter().map(|(f, _)| f.worker_id.clone()).collect();
        let attempts: Vec<i32> = items.iter().map(|(f, _)| f.attempt).collect();
        let results: Vec<Value> = items.iter().map(|(_, r)| r.clone()).collect();
        let rows = sqlx::query(
            "UPDATE jobs AS j SET state = 'succeeded', result = b.result, progress = 1, \
                 output_model_id = NULL, finished_at = now(), locked_by = NULL, \
                 lease_expires_at = NULL \
             FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::jsonb[]) \
                 AS b(id, worker, attempt, result) \
             WHERE j.id = b.id AND j.state = 'running' AND j.locked_by = b.worker \
               AND j.attempt = b.attempt \
             RETURNING j.id",
        )
        .bind(&ids)
        .bind(&workers)
        .bind(&attempts)
        .bind(&results)
        .fetch_all(&self.pool)
        .await?;
        let done: std::collections::HashSet<Uuid> = rows
            .iter()
            .map(|r| r.try_get::<Uuid, _>(0))
            .collect::<Result<_, _>>()?;
        Ok(ids.iter().map(|id| done.contains(id)).collect())
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
            "UPDATE jobs SET state = 'canceled', finished_at = now(), locked_by = NULL, \
                 lease_expires_at = NULL, cancel_requested_at = COALESCE(cancel_requested_at, now()) \
             WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempt = $3",
        )
        .bind(fence.job_id)
        .bind(&fence.worker_id)
        .bind(fence.attempt)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(done)
    }

    async fn release_job(&self, fence: &Fence) -> StoreResult<bool> {
        // scheduled_at is kept, so the job keeps its place at the head of the queue.
        let done = sqlx::query(
            "UPDATE jobs SET \
                 state = CASE WHEN cancel_requested_at IS NULL THEN 'queued' ELSE 'canceled' END, \
                 attempt = CASE WHEN cancel_requested_at IS NULL THEN attempt - 1 ELSE attempt END, \
                 finished_at = CASE WHEN cancel_requested_at IS NULL THEN NULL ELSE now() END, \
                 locked_by = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempt = $3",
        )
        .bind(fence.job_id)
        .bind(&fence.worker_id)
        .bind(fence.attempt)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(done)
    }

    async fn list_expired_leases(&self, limit: i64) -> StoreResult<Vec<JobRow>> {
        let rows = sqlx::query(
            "SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at < now() \
             ORDER BY lease_expires_at, id LIMIT $1",
        )
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

    /// `LISTEN whittle_jobs` on a dedicated pooled connection. The stream yields `()` per
    /// notification, and also once after the listener silently reconnected (notifications
    /// sent meanwhile are lost, so the caller should poll). It ends on any other error,
    /// including the pool closing; the runner then keeps polling and may subscribe again.
    async fn job_notifications(&self) -> StoreResult<Option<BoxStream<'static, ()>>> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        let notifications = stream::unfold(listener, |mut listener| async move {
            match listener.try_recv().await {
                // Some(_) = a notification; None = connection lost and re-established.
                Ok(_) => Some(((), listener)),
                Err(_) => None,
            }
        });
        Ok(Some(notifications.boxed()))
    }

    async fn record_job_metrics(&self, job_id: Uuid, points: &[MetricPoint]) -> StoreResult<()> {
        // One statement per call; a point repeated within the batch keeps its last value
        // (ON CONFLICT may not touch the same row twice in one statement).
        let unique: BTreeMap<(&str, i64), f64> = points
            .iter()
            .map(|p| ((p.name.as_str(), p.step), p.value))
            .collect();
        if unique.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = unique.keys().map(|(name, _)| *name).collect();
        let steps: Vec<i64> = unique.keys().map(|(_, step)| *step).collect();
        let values: Vec<f64> = unique.values().copied().collect();
        let mut tx = self.pool.begin().await?;
        lock_job_for_events(&mut tx, job_id).await?;
        sqlx::query(
            "INSERT INTO job_metrics (job_id, name, step, value) \
             SELECT $1, * FROM UNNEST($2::text[], $3::bigint[], $4::float8[]) \
             ON CONFLICT (job_id, name, step) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(job_id)
        .bind(names)
        .bind(steps)
        .bind(values)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_job_metrics(&self, job_id: Uuid) -> StoreResult<Vec<MetricPoint>> {
        let rows = sqlx::query(
            "SELECT name, step, value FROM job_metrics WHERE job_id = $1 ORDER BY name, step",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MetricPoint {
                    name: col(r, "name")?,
                    step: col(r, "step")?,
                    value: col(r, "value")?,
                })
            })
            .collect()
    }

    async fn upsert_trial(&self, trial: &TrialRow) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        lock_job_for_events(&mut tx, trial.job_id).await?;
        sqlx::query(
            "INSERT INTO trials (job_id, number, params, state, value, intermediate, error, \
                 started_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (job_id, number) DO UPDATE SET \
                 params = EXCLUDED.params, state = EXCLUDED.state, value = EXCLUDED.value, \
                 intermediate = EXCLUDED.intermediate, error = EXCLUDED.error, \
                 started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at",
        )
        .bind(trial.job_id)
        .bind(trial.number)
        .bind(&trial.params)
        .bind(&trial.state)
        .bind(trial.value)
        .bind(&trial.intermediate)
        .bind(&trial.error)
        .bind(trial.started_at)
        .bind(trial.finished_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_trials(&self, job_id: Uuid) -> StoreResult<Vec<TrialRow>> {
        let rows = sqlx::query("SELECT * FROM trials WHERE job_id = $1 ORDER BY number")
            .bind(job_id)
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
                let state: String = col(r, "state")?;
                Ok(JobCount {
                    kind: col(r, "kind")?,
                    state: parse_state(&state)?,
                    count: col(r, "n")?,
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
            "SELECT * FROM job_events WHERE job_id = $1 AND tenant_id = $2 AND seq > $3 \
             ORDER BY seq LIMIT $4",
        )
        .bind(job_id)
        .bind(tenant_id)
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
        let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
        let sql = format!(
            "{} SELECT job_events.* FROM job_events, bound \
             WHERE tenant_id = $1 AND id > $2 AND id <= bound.upto \
               AND (cardinality($4::text[]) = 0 OR kind = ANY($4)) \
               AND (cardinality($5::text[]) = 0 OR state = ANY($5)) \
               AND (cardinality($6::text[]) = 0 OR type = ANY($6)) \
             ORDER BY id LIMIT $7",
            final_events("$2", "$3")
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(after_id)
            .bind(EVENT_SETTLE.as_secs_f64())
            .bind(&filter.kinds)
            .bind(states)
            .bind(&filter.types)
            .bind(page_limit(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn list_events_after(&self, after_id: i64, limit: i64) -> StoreResult<Vec<JobEventRow>> {
        let sql = format!(
            "{} SELECT job_events.* FROM job_events, bound \
             WHERE id > $1 AND id <= bound.upto ORDER BY id LIMIT $3",
            final_events("$1", "$2")
        );
        let rows = sqlx::query(&sql)
            .bind(after_id)
            .bind(EVENT_SETTLE.as_secs_f64())
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
            sqlx::query_scalar("SELECT MAX(id) FROM job_events WHERE tenant_id = $1")
                .bind(tenant_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(id.unwrap_or(0))
    }

    fn event_settle_time(&self) -> Duration {
        EVENT_SETTLE
    }

    async fn event_notifications(&self) -> StoreResult<BoxStream<'static, EventNotice>> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        let notices = stream::unfold(listener, |mut listener| async move {
            match listener.try_recv().await {
                Ok(Some(n)) => Some((parse_event_notice(n.payload()), listener)),
                // The connection was lost and re-established: notices may have been missed.
                Ok(None) => Some((EventNotice::ANY, listener)),
                Err(_) => None,
            }
        });
        Ok(notices.boxed())
    }

    async fn create_webhook(&self, webhook: &NewWebhook) -> StoreResult<WebhookRow> {
        let row = sqlx::query(
            "INSERT INTO webhooks (id, tenant_id, url, events, secret, description) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        )
        .bind(webhook.id)
        .bind(webhook.tenant_id)
        .bind(&webhook.url)
        .bind(Value::from(webhook.events.clone()))
        .bind(&webhook.secret)
        .bind(&webhook.description)
        .fetch_one(&self.pool)
        .await?;
        webhook_from_row(&row)
    }

    async fn get_webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookRow>> {
        let row = sqlx::query("SELECT * FROM webhooks WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
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
            "SELECT * FROM webhooks WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant_id)
        .bind(page.cursor)
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
            "UPDATE webhooks SET url = COALESCE($3, url), events = COALESCE($4, events), \
                 description = CASE WHEN $5 THEN $6 ELSE description END, \
                 secret = COALESCE($7, secret), enabled = COALESCE($8, enabled), \
                 consecutive_failures = CASE WHEN $8 THEN 0 ELSE consecutive_failures END, \
                 disabled_reason = CASE WHEN $8 THEN NULL \
                                        WHEN NOT $8 AND enabled THEN 'disabled by request' \
                                        ELSE disabled_reason END, \
                 updated_at = now() \
             WHERE tenant_id = $1 AND id = $2 RETURNING *",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(&update.url)
        .bind(update.events.as_ref().map(|e| Value::from(e.clone())))
        .bind(update.description.is_some())
        .bind(update.description.clone().flatten())
        .bind(&update.secret)
        .bind(update.enabled)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    async fn delete_webhook(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
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
             WHERE d.webhook_id = $1 AND ($2::bigint IS NULL OR d.id < $2) \
             ORDER BY d.id DESC LIMIT $3",
        )
        .bind(webhook_id)
        .bind(before)
        .bind(page_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut deliveries = Vec::with_capacity(rows.len());
        for r in &rows {
            let state: String = col(r, "state")?;
            deliveries.push(DeliveryRow {
                id: col(r, "id")?,
                webhook_id: col(r, "webhook_id")?,
                event_id: col(r, "event_id")?,
                event_type: col(r, "event_type")?,
                job_id: col(r, "job_id")?,
                next_attempt_at: if state == "pending" {
                    Some(col(r, "next_attempt_at")?)
                } else {
                    None
                },
                state,
                attempts: col(r, "attempts")?,
                created_at: col(r, "created_at")?,
                finished_at: col(r, "finished_at")?,
                attempt_log: Vec::new(),
            });
        }
        if deliveries.is_empty() {
            return Ok(deliveries);
        }
        let ids: Vec<i64> = deliveries.iter().map(|d| d.id).collect();
        let attempts = sqlx::query(
            "SELECT * FROM webhook_attempts WHERE delivery_id = ANY($1) \
             ORDER BY delivery_id, attempt",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        for a in &attempts {
            let delivery_id: i64 = col(a, "delivery_id")?;
            let attempt = DeliveryAttemptRow {
                attempt: col(a, "attempt")?,
                at: col(a, "at")?,
                status_code: col(a, "status_code")?,
                latency_ms: col(a, "latency_ms")?,
                error: col(a, "error")?,
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
        let claimed = sqlx::query(
            "WITH due AS ( \
                 SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= now() \
                   AND (d.locked_until IS NULL OR d.locked_until < now()) AND w.enabled \
                 ORDER BY d.next_attempt_at, d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED) \
             UPDATE webhook_deliveries d SET attempts = d.attempts + 1, \
                 locked_until = now() + make_interval(secs => $2) \
             FROM due WHERE d.id = due.id \
             RETURNING d.id, d.attempts, d.webhook_id, d.event_id",
        )
        .bind(limit)
        .bind(lease_secs(lease))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(claimed.len());
        for r in &claimed {
            let webhook = sqlx::query("SELECT * FROM webhooks WHERE id = $1")
                .bind(col::<Uuid>(r, "webhook_id")?)
                .fetch_one(&self.pool)
                .await?;
            let event = sqlx::query("SELECT * FROM job_events WHERE id = $1")
                .bind(col::<i64>(r, "event_id")?)
                .fetch_one(&self.pool)
                .await?;
            out.push(ClaimedDelivery {
                id: col(r, "id")?,
                attempt: col(r, "attempts")?,
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
        let mut tx = self.pool.begin().await?;
        let webhook_id: Option<Uuid> = sqlx::query_scalar(
            "UPDATE webhook_deliveries SET \
                 state = CASE WHEN $3 THEN 'succeeded' WHEN $4::timestamptz IS NOT NULL \
                              THEN 'pending' ELSE 'failed' END, \
                 next_attempt_at = COALESCE($4, next_attempt_at), locked_until = NULL, \
                 finished_at = CASE WHEN $3 OR $4::timestamptz IS NULL THEN now() END \
             WHERE id = $1 AND attempts = $2 AND state = 'pending' RETURNING webhook_id",
        )
        .bind(delivery_id)
        .bind(outcome.attempt)
        .bind(outcome.delivered)
        .bind(outcome.retry_at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(webhook_id) = webhook_id else {
            tx.rollback().await?;
            return Ok(false);
        };
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, error) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(delivery_id)
        .bind(outcome.attempt)
        .bind(outcome.status_code)
        .bind(outcome.latency_ms)
        .bind(&outcome.error)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhooks SET \
                 consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures + 1 END, \
                 disabled_reason = CASE WHEN NOT $2 AND enabled \
                     AND consecutive_failures + 1 >= $3 THEN $4 ELSE disabled_reason END, \
                 enabled = CASE WHEN NOT $2 AND consecutive_failures + 1 >= $3 THEN false \
                     ELSE enabled END \
             WHERE id = $1",
        )
        .bind(webhook_id)
        .bind(outcome.delivered)
        .bind(max_failures)
        .bind(super::disabled_reason(max_failures, outcome))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_worker(&self, worker_id: &str, kinds: &[String]) -> StoreResult<()> {
        let kinds = serde_json::to_value(kinds)
            .map_err(|e| StoreError::Corrupt(format!("worker kinds: {e}")))?;
        sqlx::query(
            "INSERT INTO workers (id, kinds, last_seen_at) VALUES ($1, $2, now()) \
             ON CONFLICT (id) DO UPDATE SET kinds = excluded.kinds, last_seen_at = excluded.last_seen_at",
        )
        .bind(worker_id)
        .bind(kinds)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn live_worker_kinds(&self, since: DateTime<Utc>) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT kinds::text AS kinds FROM workers WHERE last_seen_at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        let lists = rows
            .iter()
            .map(|r| col::<String>(r, "kinds"))
            .collect::<StoreResult<Vec<String>>>()?;
        super::union_of_kinds(lists.iter().map(String::as_str))
    }
}

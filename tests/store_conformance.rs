//! Store conformance suite: one set of behaviour tests, written once against `DynStore`, run
//! against every backend (the River `riverdrivertest` idea).
//!
//! - SQLite: a fresh file in a temp directory per test (always runs).
//! - Postgres: runs when `WHITTLE_TEST_DATABASE_URL` names a server we may create databases on
//!   (e.g. `postgres://postgres@127.0.0.1:5432/postgres`). Each test creates its own database
//!   `whittle_test_<random>`, migrates it and drops it afterwards, so tests run in parallel and
//!   `NOTIFY` (per database) cannot leak between them. Without the variable each Postgres test
//!   prints why it is skipped and passes.
//!
//! `macro_rules! conformance` stamps out one `#[tokio::test]` per (behaviour × backend):
//! `sqlite::claim_orders_by_priority_then_age`, `postgres::claim_orders_by_priority_then_age`, …
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use futures::StreamExt;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};
use uuid::Uuid;

use whittle::domain::JobState;
use whittle::store::postgres::PostgresStore;
use whittle::store::{
    AttemptError, DynStore, Fence, InsertedJob, JobCount, JobFilter, JobRow, MetricPoint,
    NewDataset, NewJob, NewModel, PageRequest, Store, TrialRow, ANONYMOUS_TENANT,
};

const LEASE: Duration = Duration::from_secs(60);
const PG_URL_VAR: &str = "WHITTLE_TEST_DATABASE_URL";

// ---------------------------------------------------------------------------------------------
// Backends

/// A migrated store plus whatever must outlive it (temp dir, database to drop). Fields drop in
/// order: the store's pool goes before its file or database.
struct TestDb {
    store: DynStore,
    _temp_dir: Option<tempfile::TempDir>,
    _database: Option<DropDatabase>,
}

async fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    // A missing parent directory must be created by the store.
    let url = format!(
        "sqlite://{}/nested/whittle.db?mode=rwc",
        dir.path().display()
    );
    let store = whittle::store::connect(&url).await.expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    TestDb {
        store,
        _temp_dir: Some(dir),
        _database: None,
    }
}

async fn postgres_db() -> Option<TestDb> {
    let Ok(url) = std::env::var(PG_URL_VAR) else {
        eprintln!(
            "skipping Postgres conformance test: {PG_URL_VAR} is not set \
             (e.g. {PG_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres)"
        );
        return None;
    };
    let admin = PgConnectOptions::from_str(&url)
        .expect("parse WHITTLE_TEST_DATABASE_URL")
        .disable_statement_logging();
    let name = format!("whittle_test_{}", Uuid::new_v4().simple());
    let mut conn = admin
        .connect()
        .await
        .expect("connect to WHITTLE_TEST_DATABASE_URL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    conn.close().await.ok();
    let database = DropDatabase {
        admin: admin.clone(),
        name: name.clone(),
    };
    let store = PostgresStore::connect_with(admin.database(&name))
        .await
        .expect("connect to test database");
    store.migrate().await.expect("migrate postgres");
    Some(TestDb {
        store: Arc::new(store),
        _temp_dir: None,
        _database: Some(database),
    })
}

/// Drops the test database when the test ends, pass or panic (best effort).
struct DropDatabase {
    admin: PgConnectOptions,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop cannot await; run the statement on a private runtime in a plain thread.
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = admin.connect().await {
                    conn.execute(sql.as_str()).await.ok();
                    conn.close().await.ok();
                }
            });
        });
        dropper.join().ok();
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::sqlite_db().await;
                    assert_eq!(db.store.backend(), "sqlite");
                    super::$name(db.store.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = super::postgres_db().await else { return };
                    assert_eq!(db.store.backend(), "postgres");
                    super::$name(db.store.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    migrate_twice_and_ping,
    tenants_anonymous_and_ensure_idempotent,
    api_keys_lookup_and_count,
    models_round_trip_and_tenant_isolation,
    models_keyset_pagination,
    datasets_round_trip_pagination_and_isolation,
    insert_job_defaults_and_parent_fk,
    idempotency_key_is_race_free,
    list_jobs_filters_and_pages,
    claim_orders_by_priority_then_age,
    claim_skips_future_other_kinds_and_non_queued,
    concurrent_claimers_never_share_a_job,
    stale_fences_update_nothing,
    lease_lost_then_reclaimed_discards_old_owner,
    complete_with_model_is_atomic,
    fail_with_retry_then_exhausted,
    fail_with_future_retry_waits,
    rescue_only_expired_leases,
    heartbeat_extends_lease_and_records_progress,
    release_returns_job_to_queue,
    cancel_queued_job,
    cancel_running_job,
    cancel_terminal_job_is_unchanged,
    metrics_upsert_and_order,
    trials_upsert_and_list,
    child_jobs_listed_and_claimed_by_parent,
    batched_completion_is_fenced_per_job,
    job_counts_by_kind_and_state,
    notifications,
);

// ---------------------------------------------------------------------------------------------
// Fixtures

fn new_job(tenant_id: Uuid, kind: &str) -> NewJob {
    NewJob {
        id: Uuid::now_v7(),
        tenant_id,
        kind: kind.to_string(),
        spec: json!({"model_id": "m", "epochs": 3}),
        priority: 0,
        max_attempts: 3,
        idempotency_key: None,
        parent_job_id: None,
        scheduled_at: None,
    }
}

async fn insert(s: &DynStore, job: &NewJob) -> JobRow {
    match s.insert_job(job).await.expect("insert job") {
        InsertedJob::Created(row) => row,
        InsertedJob::Existing(row) => panic!("expected a new job, got existing {}", row.id),
    }
}

async fn insert_kind(s: &DynStore, kind: &str) -> JobRow {
    insert(s, &new_job(ANONYMOUS_TENANT, kind)).await
}

async fn get(s: &DynStore, id: Uuid) -> JobRow {
    s.get_job(ANONYMOUS_TENANT, id)
        .await
        .expect("get job")
        .expect("job exists")
}

async fn claim_one(s: &DynStore, worker: &str, kind: &str, lease: Duration) -> JobRow {
    let mut claimed = s
        .claim_jobs(worker, &[kind.to_string()], 1, lease)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "expected one claimable {kind} job");
    claimed.remove(0)
}

fn fence_of(job: &JobRow) -> Fence {
    job.fence().expect("a claimed job has a fence")
}

fn attempt_error(attempt: i32, message: &str) -> AttemptError {
    AttemptError {
        attempt,
        at: Utc::now(),
        message: message.to_string(),
    }
}

fn errors_of(job: &JobRow) -> Vec<AttemptError> {
    serde_json::from_value(job.errors.clone()).expect("errors is an AttemptError array")
}

fn new_model(tenant_id: Uuid, name: &str) -> NewModel {
    NewModel {
        id: Uuid::now_v7(),
        tenant_id,
        name: name.to_string(),
        format: "safetensors".to_string(),
        artifact_key: format!("models/{name}.safetensors"),
        sha256: "ab".repeat(32),
        bytes: 1234,
        n_params: 567,
        inventory: json!({"tensors": [{"name": "layers.0.weight", "dtype": "F32", "shape": [4, 2]}]}),
        architecture: Some(json!({"arch": "mlp", "layers": [2, 4]})),
        source_job_id: None,
    }
}

fn new_dataset(tenant_id: Uuid, name: &str) -> NewDataset {
    NewDataset {
        id: Uuid::now_v7(),
        tenant_id,
        name: name.to_string(),
        format: "csv".to_string(),
        artifact_key: format!("datasets/{name}.csv"),
        sha256: "cd".repeat(32),
        bytes: 99,
        rows: 10,
        features: 2,
        feature_names: json!(["f0", "f1"]),
        target: "label".to_string(),
        task: "classification".to_string(),
        classes: Some(json!(["0", "1"])),
    }
}

/// Both backends keep microseconds.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Database clock and test clock are the same machine's, but allow for slow CI.
fn assert_recent(t: DateTime<Utc>, what: &str) {
    let age = Utc::now() - t;
    assert!(
        age > TimeDelta::seconds(-5) && age < TimeDelta::seconds(60),
        "{what} = {t} is not close to now"
    );
}

// ---------------------------------------------------------------------------------------------
// Behaviours

async fn migrate_twice_and_ping(s: DynStore) {
    s.migrate().await.expect("second migrate is a no-op");
    s.ping().await.expect("ping");
}

async fn tenants_anonymous_and_ensure_idempotent(s: DynStore) {
    let anonymous = s.ensure_tenant("anonymous").await.expect("anonymous");
    assert_eq!(anonymous.id, ANONYMOUS_TENANT);
    assert_eq!(anonymous.name, "anonymous");
    assert_recent(anonymous.created_at, "anonymous.created_at");

    let acme = s.ensure_tenant("acme").await.expect("acme");
    assert_ne!(acme.id, ANONYMOUS_TENANT);
    assert_eq!(acme.name, "acme");
    assert_eq!(s.ensure_tenant("acme").await.expect("acme again"), acme);
    let globex = s.ensure_tenant("globex").await.expect("globex");
    assert_ne!(globex.id, acme.id);
}

async fn api_keys_lookup_and_count(s: DynStore) {
    assert_eq!(s.count_active_api_keys().await.expect("count"), 0);
    let acme = s.ensure_tenant("acme").await.expect("acme").id;
    let sha_a = "a1".repeat(32);
    let sha_b = "b2".repeat(32);
    let key = s
        .create_api_key(acme, &sha_a, "wh_a1b2")
        .await
        .expect("create key");
    assert_eq!(key.tenant_id, acme);
    assert_eq!(key.prefix, "wh_a1b2");
    assert_eq!(key.revoked_at, None);
    assert_recent(key.created_at, "key.created_at");
    s.create_api_key(ANONYMOUS_TENANT, &sha_b, "wh_b2")
        .await
        .expect("second key");

    assert_eq!(
        s.tenant_for_api_key(&sha_a).await.expect("lookup"),
        Some(acme)
    );
    assert_eq!(
        s.tenant_for_api_key(&sha_b).await.expect("lookup"),
        Some(ANONYMOUS_TENANT)
    );
    assert_eq!(
        s.tenant_for_api_key(&"00".repeat(32))
            .await
            .expect("lookup"),
        None
    );
    assert_eq!(s.count_active_api_keys().await.expect("count"), 2);
    assert!(
        s.create_api_key(acme, &sha_a, "wh_dup").await.is_err(),
        "a key hash is unique"
    );
    assert_eq!(s.count_active_api_keys().await.expect("count"), 2);

    // Listing (with tenant names) and revocation.
    let listed = s.list_api_keys().await.expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[0].0.id, listed[0].1.as_str()), (key.id, "acme"));
    assert_eq!(listed[1].1, "anonymous");
    let revoked = s
        .revoke_api_key(key.id)
        .await
        .expect("revoke")
        .expect("key exists");
    let at = revoked.revoked_at.expect("revoked_at set");
    assert_eq!(s.tenant_for_api_key(&sha_a).await.expect("lookup"), None);
    assert_eq!(s.count_active_api_keys().await.expect("count"), 1);
    let again = s
        .revoke_api_key(key.id)
        .await
        .expect("revoke")
        .expect("key");
    assert_eq!(
        again.revoked_at,
        Some(at),
        "revoking twice keeps the first time"
    );
    assert_eq!(
        s.revoke_api_key(Uuid::now_v7()).await.expect("revoke"),
        None
    );
    assert_eq!(
        s.list_api_keys().await.expect("list").len(),
        2,
        "revoked keys stay listed"
    );
}

async fn models_round_trip_and_tenant_isolation(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let new = new_model(ANONYMOUS_TENANT, "mlp");
    let row = s.insert_model(&new).await.expect("insert model");
    assert_eq!(row.id, new.id);
    assert_eq!(row.tenant_id, ANONYMOUS_TENANT);
    assert_eq!(row.name, "mlp");
    assert_eq!(row.format, new.format);
    assert_eq!(row.artifact_key, new.artifact_key);
    assert_eq!(row.sha256, new.sha256);
    assert_eq!((row.bytes, row.n_params), (1234, 567));
    assert_eq!(row.inventory, new.inventory);
    assert_eq!(row.architecture, new.architecture);
    assert_eq!(row.source_job_id, None);
    assert_recent(row.created_at, "model.created_at");

    // No architecture is a NULL, not a JSON null.
    let plain = NewModel {
        architecture: None,
        ..new_model(ANONYMOUS_TENANT, "plain")
    };
    assert_eq!(
        s.insert_model(&plain).await.expect("insert").architecture,
        None
    );

    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, new.id).await.expect("get"),
        Some(row.clone())
    );
    assert_eq!(
        s.get_model(other, new.id).await.expect("get"),
        None,
        "other tenant"
    );
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, Uuid::now_v7())
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        s.delete_model(other, new.id).await.expect("delete"),
        None,
        "other tenant"
    );
    assert_eq!(
        s.delete_model(ANONYMOUS_TENANT, new.id)
            .await
            .expect("delete"),
        Some(row)
    );
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, new.id).await.expect("get"),
        None
    );
    assert_eq!(
        s.delete_model(ANONYMOUS_TENANT, new.id)
            .await
            .expect("delete"),
        None
    );
}

async fn models_keyset_pagination(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = new_model(ANONYMOUS_TENANT, &format!("m{i}"));
        s.insert_model(&m).await.expect("insert");
        ids.push(m.id);
    }
    s.insert_model(&new_model(other, "theirs"))
        .await
        .expect("insert");
    ids.sort_unstable_by(|a, b| b.cmp(a)); // newest first

    let page = |cursor, limit| PageRequest { cursor, limit };
    let p1 = s
        .list_models(ANONYMOUS_TENANT, page(None, 2))
        .await
        .expect("p1");
    let got: Vec<Uuid> = p1.items.iter().map(|m| m.id).collect();
    assert_eq!(got, ids[0..2]);
    assert_eq!(p1.next_cursor, Some(ids[1]));
    let p2 = s
        .list_models(ANONYMOUS_TENANT, page(p1.next_cursor, 2))
        .await
        .expect("p2");
    let got: Vec<Uuid> = p2.items.iter().map(|m| m.id).collect();
    assert_eq!(got, ids[2..4]);
    assert_eq!(p2.next_cursor, Some(ids[3]));
    let p3 = s
        .list_models(ANONYMOUS_TENANT, page(p2.next_cursor, 2))
        .await
        .expect("p3");
    let got: Vec<Uuid> = p3.items.iter().map(|m| m.id).collect();
    assert_eq!(got, ids[4..5]);
    assert_eq!(p3.next_cursor, None);

    let all = s
        .list_models(ANONYMOUS_TENANT, page(None, 5))
        .await
        .expect("all");
    assert_eq!(all.items.len(), 5);
    assert_eq!(
        all.next_cursor, None,
        "an exactly full last page has no cursor"
    );
    let theirs = s.list_models(other, page(None, 10)).await.expect("other");
    assert_eq!(theirs.items.len(), 1);
    assert_eq!(theirs.items[0].name, "theirs");
}

async fn datasets_round_trip_pagination_and_isolation(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let new = new_dataset(ANONYMOUS_TENANT, "digits");
    let row = s.insert_dataset(&new).await.expect("insert dataset");
    assert_eq!(row.id, new.id);
    assert_eq!(row.tenant_id, new.tenant_id);
    assert_eq!((row.name.as_str(), row.format.as_str()), ("digits", "csv"));
    assert_eq!(row.artifact_key, new.artifact_key);
    assert_eq!(row.sha256, new.sha256);
    assert_eq!((row.bytes, row.rows, row.features), (99, 10, 2));
    assert_eq!(row.feature_names, json!(["f0", "f1"]));
    assert_eq!(row.target, "label");
    assert_eq!(row.task, "classification");
    assert_eq!(row.classes, Some(json!(["0", "1"])));
    assert_recent(row.created_at, "dataset.created_at");

    let regression = NewDataset {
        task: "regression".to_string(),
        classes: None,
        ..new_dataset(ANONYMOUS_TENANT, "houses")
    };
    let reg = s.insert_dataset(&regression).await.expect("insert");
    assert_eq!(reg.classes, None);

    assert_eq!(
        s.get_dataset(ANONYMOUS_TENANT, new.id).await.expect("get"),
        Some(row.clone())
    );
    assert_eq!(s.get_dataset(other, new.id).await.expect("get"), None);

    let p1 = s
        .list_datasets(
            ANONYMOUS_TENANT,
            PageRequest {
                cursor: None,
                limit: 1,
            },
        )
        .await
        .expect("p1");
    let newest = new.id.max(reg.id);
    let oldest = new.id.min(reg.id);
    assert_eq!(
        p1.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![newest]
    );
    assert_eq!(p1.next_cursor, Some(newest));
    let p2 = s
        .list_datasets(
            ANONYMOUS_TENANT,
            PageRequest {
                cursor: p1.next_cursor,
                limit: 1,
            },
        )
        .await
        .expect("p2");
    assert_eq!(
        p2.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![oldest]
    );
    assert_eq!(p2.next_cursor, None);
    let theirs = s
        .list_datasets(
            other,
            PageRequest {
                cursor: None,
                limit: 10,
            },
        )
        .await
        .expect("other");
    assert!(theirs.items.is_empty());

    assert_eq!(s.delete_dataset(other, new.id).await.expect("delete"), None);
    assert_eq!(
        s.delete_dataset(ANONYMOUS_TENANT, new.id)
            .await
            .expect("delete"),
        Some(row)
    );
    assert_eq!(
        s.get_dataset(ANONYMOUS_TENANT, new.id).await.expect("get"),
        None
    );
}

async fn insert_job_defaults_and_parent_fk(s: DynStore) {
    let parent = insert_kind(&s, "tune").await;
    assert_eq!(parent.state, JobState::Queued);
    assert_eq!(parent.kind, "tune");
    assert_eq!(parent.tenant_id, ANONYMOUS_TENANT);
    assert_eq!(parent.spec, json!({"model_id": "m", "epochs": 3}));
    assert_eq!(
        (parent.priority, parent.attempt, parent.max_attempts),
        (0, 0, 3)
    );
    assert_eq!(parent.progress, 0.0);
    assert_eq!(parent.errors, json!([]));
    assert_eq!(parent.locked_by, None);
    assert_eq!(parent.lease_expires_at, None);
    assert_eq!(parent.result, None);
    assert_eq!(parent.output_model_id, None);
    assert_eq!(parent.cancel_requested_at, None);
    assert_eq!((parent.started_at, parent.finished_at), (None, None));
    assert_recent(parent.created_at, "created_at");
    assert_recent(parent.scheduled_at, "scheduled_at defaults to now");
    assert_eq!(get(&s, parent.id).await, parent);

    let at = Utc::now() + TimeDelta::minutes(10) + TimeDelta::nanoseconds(123_456_789);
    let child = insert(
        &s,
        &NewJob {
            priority: 7,
            max_attempts: 1,
            parent_job_id: Some(parent.id),
            scheduled_at: Some(at),
            idempotency_key: Some("k1".to_string()),
            ..new_job(ANONYMOUS_TENANT, "train")
        },
    )
    .await;
    assert_eq!(child.parent_job_id, Some(parent.id));
    assert_eq!(
        child.scheduled_at,
        micros(at),
        "timestamps keep microseconds"
    );
    assert_eq!((child.priority, child.max_attempts), (7, 1));
    assert_eq!(child.idempotency_key.as_deref(), Some("k1"));

    let orphan = NewJob {
        parent_job_id: Some(Uuid::now_v7()),
        ..new_job(ANONYMOUS_TENANT, "train")
    };
    assert!(
        s.insert_job(&orphan).await.is_err(),
        "parent_job_id is a foreign key"
    );
}

async fn idempotency_key_is_race_free(s: DynStore) {
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let job = NewJob {
                idempotency_key: Some("same-key".to_string()),
                ..new_job(ANONYMOUS_TENANT, "analyze")
            };
            s.insert_job(&job).await.expect("insert")
        }));
    }
    let mut created = 0;
    let mut ids = HashSet::new();
    for task in tasks {
        match task.await.expect("task") {
            InsertedJob::Created(row) => {
                created += 1;
                ids.insert(row.id);
            }
            InsertedJob::Existing(row) => {
                ids.insert(row.id);
            }
        }
    }
    assert_eq!(created, 1, "exactly one insert wins");
    assert_eq!(ids.len(), 1, "every caller sees the same job");
    let winner = ids.into_iter().next().expect("one id");

    let again = NewJob {
        idempotency_key: Some("same-key".to_string()),
        ..new_job(ANONYMOUS_TENANT, "analyze")
    };
    match s.insert_job(&again).await.expect("insert") {
        InsertedJob::Existing(row) => assert_eq!(row.id, winner),
        InsertedJob::Created(_) => panic!("key reuse must return the existing job"),
    }
    let page = s
        .list_jobs(
            ANONYMOUS_TENANT,
            &JobFilter {
                limit: 100,
                ..JobFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1);

    // Keys are per tenant, and jobs without a key never collide.
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let theirs = NewJob {
        idempotency_key: Some("same-key".to_string()),
        ..new_job(other, "analyze")
    };
    assert!(matches!(
        s.insert_job(&theirs).await.expect("insert"),
        InsertedJob::Created(_)
    ));
    insert_kind(&s, "analyze").await;
    insert_kind(&s, "analyze").await;
}

async fn list_jobs_filters_and_pages(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let parent = insert_kind(&s, "tune").await;
    let mut children = Vec::new();
    for _ in 0..3 {
        let child = NewJob {
            parent_job_id: Some(parent.id),
            ..new_job(ANONYMOUS_TENANT, "train")
        };
        children.push(insert(&s, &child).await.id);
    }
    let analyze = insert_kind(&s, "analyze").await;
    insert(&s, &new_job(other, "train")).await;
    let running = claim_one(&s, "w1", "analyze", LEASE).await;
    assert_eq!(running.id, analyze.id);

    let list = |filter: JobFilter| {
        let s = s.clone();
        async move { s.list_jobs(ANONYMOUS_TENANT, &filter).await.expect("list") }
    };
    let ids = |page: &whittle::store::Page<JobRow>| -> Vec<Uuid> {
        page.items.iter().map(|j| j.id).collect()
    };

    let all = list(JobFilter {
        limit: 10,
        ..JobFilter::default()
    })
    .await;
    let mut expected: Vec<Uuid> = children
        .iter()
        .copied()
        .chain([parent.id, analyze.id])
        .collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids(&all), expected, "newest first, own tenant only");
    assert_eq!(all.next_cursor, None);

    let trains = list(JobFilter {
        kind: Some("train".into()),
        limit: 10,
        ..JobFilter::default()
    })
    .await;
    let mut want = children.clone();
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids(&trains), want);

    let kids = list(JobFilter {
        parent_job_id: Some(parent.id),
        limit: 2,
        ..JobFilter::default()
    })
    .await;
    assert_eq!(ids(&kids), want[0..2]);
    assert_eq!(kids.next_cursor, Some(want[1]));
    let kids2 = list(JobFilter {
        parent_job_id: Some(parent.id),
        cursor: kids.next_cursor,
        limit: 2,
        ..JobFilter::default()
    })
    .await;
    assert_eq!(ids(&kids2), want[2..3]);
    assert_eq!(kids2.next_cursor, None);

    let running = list(JobFilter {
        state: Some(JobState::Running),
        limit: 10,
        ..JobFilter::default()
    })
    .await;
    assert_eq!(ids(&running), vec![analyze.id]);
    let none = list(JobFilter {
        state: Some(JobState::Running),
        kind: Some("train".into()),
        limit: 10,
        ..JobFilter::default()
    })
    .await;
    assert!(none.items.is_empty());

    assert_eq!(
        s.get_job(other, parent.id).await.expect("get"),
        None,
        "other tenant"
    );
}

async fn claim_orders_by_priority_then_age(s: DynStore) {
    let now = Utc::now();
    let mk = |priority: i32, secs_ago: i64| NewJob {
        priority,
        scheduled_at: Some(now - TimeDelta::seconds(secs_ago)),
        ..new_job(ANONYMOUS_TENANT, "train")
    };
    let a = insert(&s, &mk(0, 3)).await.id;
    let b = insert(&s, &mk(5, 1)).await.id;
    let c = insert(&s, &mk(0, 2)).await.id;
    let d = insert(&s, &mk(5, 2)).await.id;
    let e = insert(&s, &mk(-1, 100)).await.id;
    // Same priority and time: the smaller (older) id first.
    let same_time = Some(now - TimeDelta::seconds(50));
    let f = insert(
        &s,
        &NewJob {
            priority: -1,
            scheduled_at: same_time,
            ..new_job(ANONYMOUS_TENANT, "train")
        },
    )
    .await
    .id;
    let g = insert(
        &s,
        &NewJob {
            priority: -1,
            scheduled_at: same_time,
            ..new_job(ANONYMOUS_TENANT, "train")
        },
    )
    .await
    .id;
    assert!(f < g);

    let kinds = ["train".to_string()];
    let first = s.claim_jobs("w1", &kinds, 3, LEASE).await.expect("claim");
    assert_eq!(
        first.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![d, b, a]
    );
    let mut rest = Vec::new();
    loop {
        let batch = s.claim_jobs("w1", &kinds, 1, LEASE).await.expect("claim");
        if batch.is_empty() {
            break;
        }
        rest.extend(batch.into_iter().map(|j| j.id));
    }
    assert_eq!(rest, vec![c, e, f, g]);
}

async fn claim_skips_future_other_kinds_and_non_queued(s: DynStore) {
    let future = NewJob {
        scheduled_at: Some(Utc::now() + TimeDelta::hours(1)),
        priority: 100,
        ..new_job(ANONYMOUS_TENANT, "train")
    };
    insert(&s, &future).await;
    let other_kind = insert_kind(&s, "prune").await;
    let now_job = insert_kind(&s, "train").await;

    assert!(s
        .claim_jobs("w1", &[], 10, LEASE)
        .await
        .expect("claim")
        .is_empty());
    assert!(s
        .claim_jobs("w1", &["train".to_string()], 0, LEASE)
        .await
        .expect("claim")
        .is_empty());

    let before = Utc::now();
    let claimed = s
        .claim_jobs("w1", &["train".to_string(), "tune".to_string()], 10, LEASE)
        .await
        .expect("claim");
    assert_eq!(
        claimed.len(),
        1,
        "the future job and the prune job are not claimed"
    );
    let job = &claimed[0];
    assert_eq!(job.id, now_job.id);
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.attempt, 1);
    assert_eq!(job.locked_by.as_deref(), Some("w1"));
    assert_eq!(job.progress, 0.0);
    let lease_end = job.lease_expires_at.expect("lease set");
    assert!(
        lease_end > before + TimeDelta::seconds(50)
            && lease_end < Utc::now() + TimeDelta::seconds(70),
        "lease ≈ now + 60 s, got {lease_end}"
    );
    assert_recent(job.started_at.expect("started_at set"), "started_at");
    assert_eq!(get(&s, job.id).await, *job, "claim returns the stored row");

    // Running jobs are not claimed again.
    assert!(s
        .claim_jobs("w2", &["train".to_string()], 10, LEASE)
        .await
        .expect("claim")
        .is_empty());
    assert_eq!(get(&s, other_kind.id).await.state, JobState::Queued);
}

async fn concurrent_claimers_never_share_a_job(s: DynStore) {
    const JOBS: usize = 200;
    let mut all = HashSet::new();
    for _ in 0..JOBS {
        all.insert(insert_kind(&s, "quantize").await.id);
    }
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let worker_id = format!("worker-{worker}");
            let mut mine = Vec::new();
            loop {
                let batch = s
                    .claim_jobs(&worker_id, &["quantize".to_string()], 7, LEASE)
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    return mine;
                }
                for job in batch {
                    assert_eq!(job.locked_by.as_deref(), Some(worker_id.as_str()));
                    mine.push(job.id);
                }
            }
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await.expect("claimer") {
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    assert_eq!(seen, all, "every job claimed exactly once");
    let running = s
        .list_jobs(
            ANONYMOUS_TENANT,
            &JobFilter {
                state: Some(JobState::Running),
                limit: 1000,
                ..JobFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(running.items.len(), JOBS);
    assert!(
        running.items.iter().all(|j| j.attempt == 1),
        "no job was claimed twice"
    );
}

async fn stale_fences_update_nothing(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    let good = fence_of(&claimed);
    assert_eq!(
        good,
        Fence {
            job_id: job.id,
            worker_id: "w1".into(),
            attempt: 1
        }
    );
    let stale = [
        Fence {
            worker_id: "w2".into(),
            ..good.clone()
        },
        Fence {
            attempt: 2,
            ..good.clone()
        },
        Fence {
            attempt: 0,
            ..good.clone()
        },
        Fence {
            job_id: Uuid::now_v7(),
            ..good.clone()
        },
    ];
    for fence in &stale {
        assert_eq!(
            s.heartbeat(fence, LEASE, Some((0.5, Some("x"))))
                .await
                .expect("hb"),
            None
        );
        assert!(!s
            .complete_job(fence, &json!({"ok": 1}), None)
            .await
            .expect("complete"));
        assert_eq!(
            s.fail_job(fence, &attempt_error(1, "x"), None)
                .await
                .expect("fail"),
            None
        );
        assert_eq!(
            s.rescue_job(fence, &attempt_error(1, "x"), None)
                .await
                .expect("rescue"),
            None
        );
        assert!(!s.finish_canceled(fence).await.expect("cancel"));
        assert!(!s.release_job(fence).await.expect("release"));
    }
    assert_eq!(
        get(&s, job.id).await,
        claimed,
        "stale fences changed nothing"
    );

    let before = Utc::now();
    assert!(s
        .complete_job(&good, &json!({"accuracy": 0.97}), None)
        .await
        .expect("complete"));
    let done = get(&s, job.id).await;
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.result, Some(json!({"accuracy": 0.97})));
    assert_eq!(done.progress, 1.0);
    assert_eq!(done.output_model_id, None);
    assert_eq!(
        (done.locked_by.as_deref(), done.lease_expires_at),
        (None, None)
    );
    let finished = done.finished_at.expect("finished_at");
    assert!(finished >= micros(before) - TimeDelta::seconds(5));
    assert_eq!(done.attempt, 1);

    // The attempt is over: a repeat of any finishing call is a fence failure.
    assert!(!s
        .complete_job(&good, &json!({}), None)
        .await
        .expect("complete"));
    assert_eq!(
        s.fail_job(&good, &attempt_error(1, "late"), None)
            .await
            .expect("fail"),
        None
    );
    assert_eq!(s.heartbeat(&good, LEASE, None).await.expect("hb"), None);
    assert_eq!(get(&s, job.id).await, done);
}

async fn lease_lost_then_reclaimed_discards_old_owner(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let first = claim_one(&s, "w1", "train", Duration::from_millis(1)).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let past = Utc::now() - TimeDelta::seconds(1);
    assert_eq!(
        s.rescue_job(
            &fence_of(&first),
            &attempt_error(1, "lease expired"),
            Some(past)
        )
        .await
        .expect("rescue"),
        Some(JobState::Queued)
    );
    let second = claim_one(&s, "w2", "train", LEASE).await;
    assert_eq!((second.id, second.attempt), (job.id, 2));

    // The first owner wakes up and reports: everything it says is discarded.
    let model = new_model(ANONYMOUS_TENANT, "late");
    assert!(!s
        .complete_job(&fence_of(&first), &json!({"late": true}), Some(&model))
        .await
        .expect("complete"));
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, model.id).await.expect("get"),
        None
    );
    assert_eq!(
        s.heartbeat(&fence_of(&first), LEASE, None)
            .await
            .expect("hb"),
        None
    );
    assert_eq!(get(&s, job.id).await, second);
}

async fn complete_with_model_is_atomic(s: DynStore) {
    let job = insert_kind(&s, "quantize").await;
    let claimed = claim_one(&s, "w1", "quantize", LEASE).await;
    let good = fence_of(&claimed);
    let model = NewModel {
        source_job_id: Some(job.id),
        ..new_model(ANONYMOUS_TENANT, "int8")
    };

    let stale = Fence {
        attempt: 7,
        ..good.clone()
    };
    assert!(!s
        .complete_job(&stale, &json!({}), Some(&model))
        .await
        .expect("complete"));
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, model.id).await.expect("get"),
        None,
        "a failed fence leaves no model row"
    );
    assert_eq!(get(&s, job.id).await, claimed);

    assert!(s
        .complete_job(&good, &json!({"bytes_saved": 3}), Some(&model))
        .await
        .expect("complete"));
    let stored = s
        .get_model(ANONYMOUS_TENANT, model.id)
        .await
        .expect("get")
        .expect("model row written with the job");
    assert_eq!(stored.source_job_id, Some(job.id));
    let done = get(&s, job.id).await;
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.output_model_id, Some(model.id));

    // Deleting the model clears the job's reference instead of failing.
    assert!(s
        .delete_model(ANONYMOUS_TENANT, model.id)
        .await
        .expect("delete")
        .is_some());
    assert_eq!(get(&s, job.id).await.output_model_id, None);
}

async fn fail_with_retry_then_exhausted(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let mut messages = Vec::new();
    for attempt in 1..=2 {
        let claimed = claim_one(&s, "w1", "train", LEASE).await;
        assert_eq!(claimed.attempt, attempt);
        let retry_at = Utc::now() - TimeDelta::milliseconds(10);
        let error = attempt_error(attempt, &format!("boom {attempt}"));
        messages.push(error.clone());
        assert_eq!(
            s.fail_job(&fence_of(&claimed), &error, Some(retry_at))
                .await
                .expect("fail"),
            Some(JobState::Queued)
        );
        let row = get(&s, job.id).await;
        assert_eq!(row.state, JobState::Queued);
        assert_eq!(
            row.attempt, attempt,
            "the attempt count is kept across a retry"
        );
        assert_eq!(row.scheduled_at, micros(retry_at));
        assert_eq!(
            (
                row.locked_by.as_deref(),
                row.lease_expires_at,
                row.finished_at
            ),
            (None, None, None)
        );
        assert_eq!(errors_of(&row), messages);
    }
    let last = claim_one(&s, "w1", "train", LEASE).await;
    assert_eq!(last.attempt, 3);
    let error = attempt_error(3, "boom 3");
    messages.push(error.clone());
    assert_eq!(
        s.fail_job(&fence_of(&last), &error, None)
            .await
            .expect("fail"),
        Some(JobState::Failed)
    );
    let row = get(&s, job.id).await;
    assert_eq!(row.state, JobState::Failed);
    assert_eq!(errors_of(&row), messages, "errors appended oldest first");
    assert_recent(row.finished_at.expect("finished_at"), "finished_at");
    assert_eq!(row.locked_by, None);
    assert!(s
        .claim_jobs("w1", &["train".to_string()], 10, LEASE)
        .await
        .expect("claim")
        .is_empty());
}

async fn fail_with_future_retry_waits(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    let later = Utc::now() + TimeDelta::hours(1);
    assert_eq!(
        s.fail_job(&fence_of(&claimed), &attempt_error(1, "busy"), Some(later))
            .await
            .expect("fail"),
        Some(JobState::Queued)
    );
    assert!(
        s.claim_jobs("w1", &["train".to_string()], 10, LEASE)
            .await
            .expect("claim")
            .is_empty(),
        "a retry is not claimable before retry_at"
    );
    assert_eq!(get(&s, job.id).await.scheduled_at, micros(later));
}

async fn rescue_only_expired_leases(s: DynStore) {
    for kind in ["a", "b", "c", "d"] {
        insert_kind(&s, kind).await;
    }
    let healthy = claim_one(&s, "w1", "a", LEASE).await;
    let short = Duration::from_millis(1);
    let expired = claim_one(&s, "w1", "b", short).await;
    let revived = claim_one(&s, "w1", "c", short).await;
    let exhausted = claim_one(&s, "w1", "d", short).await;
    tokio::time::sleep(Duration::from_millis(30)).await;

    let listed: Vec<Uuid> = s
        .list_expired_leases(100)
        .await
        .expect("list")
        .into_iter()
        .map(|j| j.id)
        .collect();
    let mut want = vec![expired.id, revived.id, exhausted.id];
    want.sort_unstable();
    let mut got = listed.clone();
    got.sort_unstable();
    assert_eq!(got, want, "only expired running jobs are listed");
    assert_eq!(s.list_expired_leases(1).await.expect("list").len(), 1);

    let e = attempt_error(1, "lease expired");
    assert_eq!(
        s.rescue_job(&fence_of(&healthy), &e, None)
            .await
            .expect("rescue"),
        None,
        "a live lease is not rescued"
    );
    assert_eq!(get(&s, healthy.id).await.state, JobState::Running);

    // A heartbeat that arrives before the rescuer wins.
    assert!(s
        .heartbeat(&fence_of(&revived), LEASE, None)
        .await
        .expect("hb")
        .is_some());
    assert_eq!(
        s.rescue_job(&fence_of(&revived), &e, None)
            .await
            .expect("rescue"),
        None
    );
    assert_eq!(get(&s, revived.id).await.state, JobState::Running);

    let retry_at = Utc::now();
    assert_eq!(
        s.rescue_job(&fence_of(&expired), &e, Some(retry_at))
            .await
            .expect("rescue"),
        Some(JobState::Queued)
    );
    let row = get(&s, expired.id).await;
    assert_eq!(
        (row.state, row.attempt, row.locked_by.as_deref()),
        (JobState::Queued, 1, None)
    );
    assert_eq!(errors_of(&row), vec![e.clone()]);

    assert_eq!(
        s.rescue_job(&fence_of(&exhausted), &e, None)
            .await
            .expect("rescue"),
        Some(JobState::Failed)
    );
    assert!(get(&s, exhausted.id).await.finished_at.is_some());
    assert!(s.list_expired_leases(100).await.expect("list").is_empty());
}

async fn heartbeat_extends_lease_and_records_progress(s: DynStore) {
    insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", Duration::from_secs(1)).await;
    let fence = fence_of(&claimed);
    let first_end = claimed.lease_expires_at.expect("lease");

    let hb = s
        .heartbeat(&fence, LEASE, Some((0.5, Some("epoch 5/10"))))
        .await
        .expect("hb")
        .expect("fence holds");
    assert!(!hb.cancel_requested);
    let row = get(&s, claimed.id).await;
    let new_end = row.lease_expires_at.expect("lease");
    assert!(
        new_end > first_end + TimeDelta::seconds(30),
        "lease extended: {first_end} → {new_end}"
    );
    assert_eq!(row.progress, 0.5);
    assert_eq!(row.progress_message.as_deref(), Some("epoch 5/10"));
    assert_eq!(row.state, JobState::Running);

    // No progress: only the lease moves.
    s.heartbeat(&fence, LEASE, None)
        .await
        .expect("hb")
        .expect("fence holds");
    let row = get(&s, claimed.id).await;
    assert_eq!(
        (row.progress, row.progress_message.as_deref()),
        (0.5, Some("epoch 5/10"))
    );

    // Progress is clamped into 0..=1 and a missing message clears the old one.
    s.heartbeat(&fence, LEASE, Some((1.7, None)))
        .await
        .expect("hb")
        .expect("fence holds");
    let row = get(&s, claimed.id).await;
    assert_eq!((row.progress, row.progress_message), (1.0, None));
    s.heartbeat(&fence, LEASE, Some((f64::NAN, None)))
        .await
        .expect("hb")
        .expect("fence holds");
    assert_eq!(get(&s, claimed.id).await.progress, 0.0);
}

async fn release_returns_job_to_queue(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    s.heartbeat(&fence_of(&claimed), LEASE, Some((0.3, Some("warming up"))))
        .await
        .expect("hb");
    assert!(s.release_job(&fence_of(&claimed)).await.expect("release"));
    let row = get(&s, job.id).await;
    assert_eq!(row.state, JobState::Queued);
    assert_eq!(row.attempt, 0, "a released attempt does not count");
    assert_eq!(
        (
            row.locked_by.as_deref(),
            row.lease_expires_at,
            row.finished_at
        ),
        (None, None, None)
    );
    assert_eq!(
        row.scheduled_at, job.scheduled_at,
        "keeps its place in the queue"
    );
    assert_eq!(row.errors, json!([]));
    assert!(!s
        .release_job(&fence_of(&claimed))
        .await
        .expect("release twice"));

    let again = claim_one(&s, "w2", "train", LEASE).await;
    assert_eq!((again.id, again.attempt), (job.id, 1));
    assert_eq!(
        (again.progress, again.progress_message),
        (0.0, None),
        "claim resets progress"
    );
}

async fn cancel_queued_job(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let job = insert_kind(&s, "train").await;
    assert_eq!(
        s.request_cancel(other, job.id).await.expect("cancel"),
        None,
        "other tenant"
    );
    assert_eq!(get(&s, job.id).await.state, JobState::Queued);
    assert_eq!(
        s.request_cancel(ANONYMOUS_TENANT, Uuid::now_v7())
            .await
            .expect("cancel"),
        None
    );

    let canceled = s
        .request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel")
        .expect("row");
    assert_eq!(canceled.state, JobState::Canceled);
    assert_recent(canceled.finished_at.expect("finished_at"), "finished_at");
    assert_eq!(get(&s, job.id).await, canceled);
    assert!(
        s.claim_jobs("w1", &["train".to_string()], 10, LEASE)
            .await
            .expect("claim")
            .is_empty(),
        "a canceled job never runs"
    );
    let again = s
        .request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel")
        .expect("row");
    assert_eq!(again, canceled, "canceling twice changes nothing");
}

async fn cancel_running_job(s: DynStore) {
    // Path 1: the worker notices at its heartbeat and finishes canceled.
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    let fence = fence_of(&claimed);
    let hb = s
        .heartbeat(&fence, LEASE, None)
        .await
        .expect("hb")
        .expect("fence holds");
    assert!(!hb.cancel_requested);
    let row = s
        .request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel")
        .expect("row");
    assert_eq!(
        row.state,
        JobState::Running,
        "a running job is only asked to stop"
    );
    assert_recent(
        row.cancel_requested_at.expect("cancel_requested_at"),
        "cancel_requested_at",
    );
    assert_eq!(row.finished_at, None);
    let hb = s
        .heartbeat(&fence, LEASE, None)
        .await
        .expect("hb")
        .expect("fence holds");
    assert!(
        hb.cancel_requested,
        "the heartbeat reports the cancel request"
    );
    assert!(s.finish_canceled(&fence).await.expect("finish"));
    let row = get(&s, job.id).await;
    assert_eq!(row.state, JobState::Canceled);
    assert!(row.finished_at.is_some());
    assert_eq!(row.locked_by, None);

    // Path 2: the attempt fails after the request: canceled wins over a retry.
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    s.request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel");
    let state = s
        .fail_job(
            &fence_of(&claimed),
            &attempt_error(1, "interrupted"),
            Some(Utc::now()),
        )
        .await
        .expect("fail");
    assert_eq!(state, Some(JobState::Canceled));
    let row = get(&s, job.id).await;
    assert_eq!(row.state, JobState::Canceled);
    assert_eq!(
        errors_of(&row).len(),
        1,
        "the attempt's error is still recorded"
    );
    assert!(row.finished_at.is_some());

    // Path 3: a shutdown release of a job with a pending cancel ends it instead of requeueing.
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    s.request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel");
    assert!(s.release_job(&fence_of(&claimed)).await.expect("release"));
    assert_eq!(get(&s, job.id).await.state, JobState::Canceled);

    // Path 4: the rescuer honours the request too.
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", Duration::from_millis(1)).await;
    s.request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let state = s
        .rescue_job(
            &fence_of(&claimed),
            &attempt_error(1, "lease expired"),
            Some(Utc::now()),
        )
        .await
        .expect("rescue");
    assert_eq!(state, Some(JobState::Canceled));
}

async fn cancel_terminal_job_is_unchanged(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    assert!(s
        .complete_job(&fence_of(&claimed), &json!({"ok": true}), None)
        .await
        .expect("complete"));
    let done = get(&s, job.id).await;
    let after = s
        .request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel")
        .expect("row");
    assert_eq!(after, done);
    assert_eq!(after.state, JobState::Succeeded);
    assert_eq!(after.cancel_requested_at, None);
}

async fn metrics_upsert_and_order(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let other = insert_kind(&s, "train").await;
    let p = |name: &str, step: i64, value: f64| MetricPoint {
        name: name.to_string(),
        step,
        value,
    };
    s.record_job_metrics(job.id, &[])
        .await
        .expect("empty batch");
    s.record_job_metrics(
        job.id,
        &[
            p("train_loss", 1, 0.5),
            p("train_loss", 0, 1.0),
            p("accuracy", 0, 0.1),
        ],
    )
    .await
    .expect("record");
    // Upsert on (job, name, step); the last of repeated points in one batch wins.
    s.record_job_metrics(
        job.id,
        &[
            p("train_loss", 1, 0.3),
            p("train_loss", 1, 0.25),
            p("accuracy", 1, 0.6),
        ],
    )
    .await
    .expect("record");
    s.record_job_metrics(other.id, &[p("train_loss", 0, 9.0)])
        .await
        .expect("record");

    let got = s.list_job_metrics(job.id).await.expect("list");
    assert_eq!(
        got,
        vec![
            p("accuracy", 0, 0.1),
            p("accuracy", 1, 0.6),
            p("train_loss", 0, 1.0),
            p("train_loss", 1, 0.25),
        ]
    );
    assert_eq!(
        s.list_job_metrics(other.id).await.expect("list"),
        vec![p("train_loss", 0, 9.0)]
    );
    assert!(s
        .list_job_metrics(Uuid::now_v7())
        .await
        .expect("list")
        .is_empty());

    // A diverged loss is NaN; it must round-trip, not fail.
    s.record_job_metrics(other.id, &[p("train_loss", 1, f64::NAN)])
        .await
        .expect("record NaN");
    let got = s.list_job_metrics(other.id).await.expect("list");
    assert!(got[1].value.is_nan());

    assert!(
        s.record_job_metrics(Uuid::now_v7(), &[p("x", 0, 1.0)])
            .await
            .is_err(),
        "metrics belong to an existing job"
    );
}

async fn trials_upsert_and_list(s: DynStore) {
    let job = insert_kind(&s, "tune").await;
    let t0 = Utc::now() - TimeDelta::seconds(5);
    let trial = |number: i32| TrialRow {
        job_id: job.id,
        number,
        params: json!({"lr": 0.01 * f64::from(number + 1), "hidden": 64}),
        state: "running".to_string(),
        value: None,
        intermediate: json!([]),
        error: None,
        started_at: Some(t0),
        finished_at: None,
    };
    s.upsert_trial(&trial(1)).await.expect("trial 1");
    s.upsert_trial(&trial(0)).await.expect("trial 0");
    let done0 = TrialRow {
        state: "complete".to_string(),
        value: Some(0.93),
        intermediate: json!([0.5, 0.8, 0.93]),
        finished_at: Some(Utc::now()),
        ..trial(0)
    };
    let pruned1 = TrialRow {
        state: "pruned".to_string(),
        value: Some(0.2),
        intermediate: json!([0.2]),
        error: Some("pruned at epoch 1".to_string()),
        finished_at: Some(Utc::now()),
        ..trial(1)
    };
    s.upsert_trial(&done0).await.expect("update 0");
    s.upsert_trial(&pruned1).await.expect("update 1");

    let truncated = |t: &TrialRow| TrialRow {
        started_at: t.started_at.map(micros),
        finished_at: t.finished_at.map(micros),
        ..t.clone()
    };
    let got = s.list_trials(job.id).await.expect("list");
    assert_eq!(
        got,
        vec![truncated(&done0), truncated(&pruned1)],
        "ordered by number"
    );
    assert!(s
        .list_trials(Uuid::now_v7())
        .await
        .expect("list")
        .is_empty());
}

async fn job_counts_by_kind_and_state(s: DynStore) {
    assert!(s.job_counts().await.expect("counts").is_empty());
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    insert_kind(&s, "train").await;
    insert_kind(&s, "train").await;
    insert(&s, &new_job(other, "train")).await;
    insert_kind(&s, "analyze").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    assert!(s
        .complete_job(&fence_of(&claimed), &json!({}), None)
        .await
        .expect("complete"));
    claim_one(&s, "w1", "train", LEASE).await;

    let mut got = s.job_counts().await.expect("counts");
    got.sort_by(|a, b| (&a.kind, a.state.as_str()).cmp(&(&b.kind, b.state.as_str())));
    let c = |kind: &str, state, count| JobCount {
        kind: kind.to_string(),
        state,
        count,
    };
    assert_eq!(
        got,
        vec![
            c("analyze", JobState::Queued, 1),
            c("train", JobState::Queued, 1),
            c("train", JobState::Running, 1),
            c("train", JobState::Succeeded, 1),
        ],
        "counted across tenants"
    );
}

async fn child_jobs_listed_and_claimed_by_parent(s: DynStore) {
    let parent = insert_kind(&s, "tune").await;
    let other_parent = insert_kind(&s, "tune").await;
    let mut kids = Vec::new();
    for p in [parent.id, parent.id, other_parent.id] {
        kids.push(
            insert(
                &s,
                &NewJob {
                    parent_job_id: Some(p),
                    ..new_job(ANONYMOUS_TENANT, "trial")
                },
            )
            .await,
        );
    }
    let listed: Vec<Uuid> = s
        .list_child_jobs(parent.id)
        .await
        .expect("list children")
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(
        listed,
        vec![kids[0].id, kids[1].id],
        "own children, oldest first"
    );

    // Top-level listing leaves children out; naming the parent lists them.
    let top = s
        .list_jobs(
            ANONYMOUS_TENANT,
            &JobFilter {
                top_level_only: true,
                limit: 50,
                ..JobFilter::default()
            },
        )
        .await
        .expect("list");
    let top: Vec<Uuid> = top.items.iter().map(|j| j.id).collect();
    assert_eq!(top, vec![other_parent.id, parent.id]);

    // Claiming by parent takes only that parent's queued children, oldest first, once each.
    let first = s
        .claim_child_job("w1", parent.id, LEASE)
        .await
        .expect("claim")
        .expect("a child");
    assert_eq!(first.id, kids[0].id);
    assert_eq!((first.state, first.attempt), (JobState::Running, 1));
    assert_eq!(first.locked_by.as_deref(), Some("w1"));
    let second = s
        .claim_child_job("w2", parent.id, LEASE)
        .await
        .expect("claim")
        .expect("a child");
    assert_eq!(second.id, kids[1].id);
    assert!(s
        .claim_child_job("w1", parent.id, LEASE)
        .await
        .expect("claim")
        .is_none());
    // The other parent's child is still there for the normal queue.
    let any = claim_one(&s, "w3", "trial", LEASE).await;
    assert_eq!(any.id, kids[2].id);
}

async fn batched_completion_is_fenced_per_job(s: DynStore) {
    assert!(s.complete_jobs(&[]).await.expect("empty batch").is_empty());
    let mut jobs = Vec::new();
    for _ in 0..3 {
        insert_kind(&s, "train").await;
        jobs.push(claim_one(&s, "w1", "train", LEASE).await);
    }
    let stale = Fence {
        attempt: jobs[1].attempt + 1,
        ..fence_of(&jobs[1])
    };
    let done = s
        .complete_jobs(&[
            (fence_of(&jobs[0]), json!({"n": 0})),
            (stale, json!({"n": 1})),
            (fence_of(&jobs[2]), json!({"n": 2})),
        ])
        .await
        .expect("complete batch");
    assert_eq!(
        done,
        vec![true, false, true],
        "the stale fence writes nothing"
    );
    for (i, j) in jobs.iter().enumerate() {
        let row = get(&s, j.id).await;
        if i == 1 {
            assert_eq!(row.state, JobState::Running);
            assert_eq!(row.result, None);
        } else {
            assert_eq!(row.state, JobState::Succeeded);
            assert_eq!(row.result, Some(json!({"n": i})));
            assert_eq!(row.progress, 1.0);
            assert_eq!((row.locked_by, row.lease_expires_at), (None, None));
            assert!(row.finished_at.is_some());
        }
    }
    // Completing again: the fences no longer hold.
    let again = s
        .complete_jobs(&[(fence_of(&jobs[0]), json!({}))])
        .await
        .expect("complete again");
    assert_eq!(again, vec![false]);
}

async fn notifications(s: DynStore) {
    let stream = s.job_notifications().await.expect("subscribe");
    if s.backend() == "sqlite" {
        assert!(stream.is_none(), "SQLite has no LISTEN; workers poll");
        return;
    }
    let mut stream = stream.expect("Postgres notifies");
    let wait = Duration::from_secs(5);
    let job = insert_kind(&s, "train").await;
    tokio::time::timeout(wait, stream.next())
        .await
        .expect("a notification within 5 s of the insert")
        .expect("stream still open");

    // A job handed back to the queue wakes workers too.
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    assert_eq!(claimed.id, job.id);
    assert!(s.release_job(&fence_of(&claimed)).await.expect("release"));
    tokio::time::timeout(wait, stream.next())
        .await
        .expect("a notification within 5 s of the release")
        .expect("stream still open");
}

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
//!
//! The behaviours live in one module per area ([`jobs_claim`], [`leases`], …); this file holds
//! the harness: how a store is opened on each backend and the list of behaviours to run.

mod api_keys;
mod events;
mod fixtures;
mod jobs_cancel;
mod jobs_claim;
mod jobs_finish;
mod jobs_insert;
mod jobs_list;
mod leases;
mod models_datasets;
mod notifications;
mod setup;
mod tenant_usage;
mod trials_metrics;
mod workers;

use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};
use uuid::Uuid;

use whittle::store::postgres::PostgresStore;
use whittle::store::{DynStore, Store};

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
    ($($area:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        mod sqlite {
            $($(
                #[tokio::test]
                async fn $name() {
                    let db = super::sqlite_db().await;
                    assert_eq!(db.store.backend(), "sqlite");
                    super::$area::$name(db.store.clone()).await;
                }
            )*)*
        }
        mod postgres {
            $($(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = super::postgres_db().await else { return };
                    assert_eq!(db.store.backend(), "postgres");
                    super::$area::$name(db.store.clone()).await;
                }
            )*)*
        }
    };
}

conformance!(
    workers: [
        worker_presence_unions_live_kinds,
    ],
    setup: [
        migrate_twice_and_ping,
        tenants_anonymous_and_ensure_idempotent,
    ],
    api_keys: [
        api_keys_lookup_and_count,
    ],
    tenant_usage: [
        get_tenant_by_id,
        tenant_usage_counts_active_top_level_jobs_and_stored_bytes,
        nul_in_text_is_invalid_text_not_a_database_error,
    ],
    models_datasets: [
        models_round_trip_and_tenant_isolation,
        models_keyset_pagination,
        datasets_round_trip_pagination_and_isolation,
    ],
    jobs_insert: [
        insert_job_defaults_and_parent_fk,
        idempotency_key_is_race_free,
    ],
    jobs_list: [
        list_jobs_filters_and_pages,
        job_counts_by_kind_and_state,
    ],
    jobs_claim: [
        claim_orders_by_priority_then_age,
        claim_skips_future_other_kinds_and_non_queued,
        concurrent_claimers_never_share_a_job,
        child_jobs_listed_and_claimed_by_parent,
    ],
    leases: [
        stale_fences_update_nothing,
        lease_lost_then_reclaimed_discards_old_owner,
        rescue_only_expired_leases,
        heartbeat_extends_lease_and_records_progress,
        release_returns_job_to_queue,
    ],
    jobs_finish: [
        complete_with_model_is_atomic,
        fail_with_retry_then_exhausted,
        fail_with_future_retry_waits,
        batched_completion_is_fenced_per_job,
    ],
    jobs_cancel: [
        cancel_queued_job,
        cancel_running_job,
        cancel_terminal_job_is_unchanged,
    ],
    trials_metrics: [
        metrics_upsert_and_order,
        trials_upsert_and_list,
        concurrent_trial_and_metric_writers,
    ],
    notifications: [
        notifications,
    ],
    events: [
        every_transition_leaves_its_event,
    ],
);

/// Postgres only: the tenant stream sends an event at once when every earlier id is
/// committed, holds it while an earlier id is missing (a transaction still writing, or rolled
/// back), and sends it once the settle time has passed.
#[tokio::test]
async fn postgres_tenant_events_wait_only_behind_a_missing_id() {
    use whittle::store::EventFilter;
    let Some(db) = postgres_db().await else {
        return;
    };
    let name = db._database.as_ref().unwrap().name.clone();
    let admin = db._database.as_ref().unwrap().admin.clone();
    let s = db.store.clone();
    let tenant = whittle::store::ANONYMOUS_TENANT;
    let first = fixtures::insert_kind(&s, "train").await;
    let all = |after| {
        let s = s.clone();
        async move {
            s.list_tenant_events(tenant, after, &EventFilter::default(), 100)
                .await
                .expect("tenant events")
        }
    };
    // Contiguous ids: immediately visible, no settle wait.
    let now = all(0).await;
    assert_eq!(now.len(), 1, "the queued event is sent at once");
    assert_eq!(now[0].job_id, first.id);
    let cursor = now[0].id;
    // An id taken but never written (as by a transaction that rolls back or is still open).
    let mut conn = admin.database(&name).connect().await.expect("connect");
    let _: i64 = sqlx::query_scalar("SELECT nextval('job_events_id_seq')")
        .fetch_one(&mut conn)
        .await
        .expect("take an id");
    conn.close().await.ok();
    let second = fixtures::insert_kind(&s, "train").await;
    assert!(
        all(cursor).await.is_empty(),
        "held behind the missing id until the settle time"
    );
    assert!(
        s.list_events_after(cursor, 100).await.unwrap().is_empty(),
        "the feed's read holds too"
    );
    tokio::time::sleep(s.event_settle_time() + std::time::Duration::from_millis(50)).await;
    let later = all(cursor).await;
    assert_eq!(later.len(), 1);
    assert_eq!(s.list_events_after(cursor, 100).await.unwrap().len(), 1);
    assert_eq!(later[0].job_id, second.id);
    // Past the gap, contiguous ids are immediate again.
    let third = fixtures::insert_kind(&s, "train").await;
    let next = all(later[0].id).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].job_id, third.id);
}

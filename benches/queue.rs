//! Queue and API benchmarks, printed as JSON lines:
//! - claim→complete throughput (jobs/s) through the store with several worker tasks, and
//!   through the real runner with a no-op executor, on SQLite and Postgres;
//! - `GET /v1/jobs/{id}` latency p50/p99 under concurrent loopback load.
//!
//! `cargo bench --bench queue`. Postgres runs when `WHITTLE_TEST_DATABASE_URL` is set.
//! Knobs: `QUEUE_BENCH_JOBS` (default 20000), `QUEUE_BENCH_TASKS` (8), `QUEUE_BENCH_BATCH` (64).
use async_trait::async_trait;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;
use whittle::config::{ServeConfig, StorageConfig, WorkerConfig};
use whittle::jobs::{Executor, Executors, JobContext, JobError, JobOutput};
use whittle::store::{DynStore, NewJob, ANONYMOUS_TENANT};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Noop;

#[async_trait]
impl Executor for Noop {
    async fn run(&self, _ctx: &JobContext) -> Result<JobOutput, JobError> {
        Ok(JobOutput::result(json!({"ok": true})))
    }
}

async fn fresh_storage(
    backend: &str,
    dir: &std::path::Path,
) -> Option<(StorageConfig, Option<String>)> {
    let (url, db) = match backend {
        "sqlite" => (format!("sqlite://{}/bench.db", dir.display()), None),
        _ => {
            let admin = std::env::var("WHITTLE_TEST_DATABASE_URL").ok()?;
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
            let name = format!("whittle_bench_{}", Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .ok()?;
            let mut u = url::Url::parse(&admin).ok()?;
            u.set_path(&format!("/{name}"));
            (u.to_string(), Some(name))
        }
    };
    Some((
        StorageConfig {
            database_url: url,
            artifacts: dir.join("a").display().to_string(),
            scratch_dir: dir.join("s"),
            s3: Default::default(),
        },
        db,
    ))
}

async fn drop_db(name: Option<String>) {
    use sqlx::Connection;
    if let (Some(name), Ok(admin)) = (name, std::env::var("WHITTLE_TEST_DATABASE_URL")) {
        if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c)
                .await;
        }
    }
}

async fn enqueue(store: &DynStore, kind: &str, n: usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let next = next.clone();
        let kind = kind.to_string();
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                store
                    .insert_job(&NewJob {
                        id: Uuid::now_v7(),
                        tenant_id: ANONYMOUS_TENANT,
                        kind: kind.clone(),
                        spec: json!({}),
                        priority: 0,
                        max_attempts: 3,
                        idempotency_key: None,
                        parent_job_id: None,
                        scheduled_at: None,
                    })
                    .await
                    .expect("insert");
            }
        }));
    }
    for t in tasks {
        t.await.expect("enqueue task");
    }
}

/// Claim in batches and complete each job with its fenced update (or, `batched`, each claimed
/// batch with one fenced `complete_jobs`, as the runner's completion batcher does), from
/// `tasks` tasks.
async fn store_throughput(
    store: &DynStore,
    n: usize,
    tasks: usize,
    batch: i64,
    batched: bool,
) -> f64 {
    enqueue(store, "bench", n).await;
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let store = store.clone();
        let done = done.clone();
        handles.push(tokio::spawn(async move {
            let worker = format!("bench-{t}");
            let kinds = vec!["bench".to_string()];
            loop {
                let jobs = store
                    .claim_jobs(&worker, &kinds, batch, Duration::from_secs(60))
                    .await
                    .expect("claim");
                if jobs.is_empty() {
                    break;
                }
                if batched {
                    let items: Vec<_> = jobs
                        .iter()
                        .map(|j| (j.fence().expect("fence"), json!({"ok": true})))
                        .collect();
                    let ok = store.complete_jobs(&items).await.expect("complete");
                    assert!(ok.iter().all(|&b| b));
                    done.fetch_add(ok.len(), Ordering::Relaxed);
                    continue;
                }
                for j in jobs {
                    let fence = j.fence().expect("fence");
                    assert!(store
                        .complete_job(&fence, &json!({"ok": true}), None)
                        .await
                        .expect("complete"));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for h in handles {
        h.await.expect("worker task");
    }
    assert_eq!(done.load(Ordering::Relaxed), n);
    n as f64 / start.elapsed().as_secs_f64()
}

/// The real runner (claims, heartbeats, fenced completion) with a no-op executor.
async fn runner_throughput(storage: &StorageConfig, n: usize, slots: usize) -> f64 {
    let (store, artifacts) = whittle::app::open_storage(storage).await.expect("storage");
    enqueue(&store, "noop", n).await;
    let mut executors = Executors::default();
    executors.register("noop", Noop);
    let cfg = WorkerConfig {
        workers: slots,
        poll_ms: 20,
        ..WorkerConfig::default()
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let start = Instant::now();
    let handle = whittle::app::start_workers(
        store.clone(),
        artifacts,
        &cfg,
        executors,
        Arc::new(tokio::sync::Notify::new()),
        shutdown.clone(),
    )
    .expect("workers")
    .expect("some workers");
    loop {
        let counts = store.job_counts().await.expect("counts");
        let finished: i64 = counts
            .iter()
            .filter(|c| c.kind == "noop" && c.state.is_terminal())
            .map(|c| c.count)
            .sum();
        if finished as usize >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    shutdown.cancel();
    let _ = handle.await;
    rate
}

async fn get_latency(
    storage: &StorageConfig,
    concurrency: usize,
    duration: Duration,
) -> (f64, f64, f64, usize) {
    let (store, artifacts) = whittle::app::open_storage(storage).await.expect("storage");
    let cfg = ServeConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        insecure_no_auth: false,
        metrics_token: None,
        bootstrap: Default::default(),
        base_path: String::new(),
        limits: Default::default(),
        worker: WorkerConfig {
            workers: 0,
            ..WorkerConfig::default()
        },
    };
    let id = Uuid::now_v7();
    store
        .insert_job(&NewJob {
            id,
            tenant_id: ANONYMOUS_TENANT,
            kind: "analyze".into(),
            spec: json!({"model_id": Uuid::nil()}),
            priority: 0,
            max_attempts: 3,
            idempotency_key: None,
            parent_job_id: None,
            scheduled_at: None,
        })
        .await
        .expect("insert");
    let server = whittle::app::start_server(store, artifacts, &cfg, Executors::standard())
        .await
        .expect("server");
    let url = format!("http://{}/v1/jobs/{id}", server.addr);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + duration;
    let mut handles = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.clone();
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = client.get(&url).send().await.expect("get");
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await;
                lat.push(t.elapsed().as_secs_f64() * 1e3);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("client"));
    }
    all.sort_by(f64::total_cmp);
    let pct = |q: f64| all[((all.len() - 1) as f64 * q).round() as usize];
    let rps = all.len() as f64 / duration.as_secs_f64();
    let _ = server.stop().await;
    (pct(0.5), pct(0.99), rps, all.len())
}

fn main() {
    // `cargo bench` passes `--bench`; ignore criterion-style arguments.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let n = env_usize("QUEUE_BENCH_JOBS", 20_000);
        let tasks = env_usize("QUEUE_BENCH_TASKS", 8);
        let batch = env_usize("QUEUE_BENCH_BATCH", 64) as i64;
        for backend in ["sqlite", "postgres"] {
            let dir = tempfile::tempdir().expect("tempdir");
            let Some((storage, db)) = fresh_storage(backend, dir.path()).await else {
                println!("{}", json!({"bench": "queue", "backend": backend, "skipped": "WHITTLE_TEST_DATABASE_URL not set"}));
                continue;
            };
            let (store, _) = whittle::app::open_storage(&storage).await.expect("storage");
            for batched in [false, true] {
                let rate = store_throughput(&store, n, tasks, batch, batched).await;
                println!("{}", json!({"bench": "queue_claim_complete", "backend": backend, "jobs": n, "tasks": tasks, "claim_batch": batch, "batched_completion": batched, "jobs_per_s": rate.round()}));
            }
            let rate = runner_throughput(&storage, n / 2, 32).await;
            println!("{}", json!({"bench": "queue_runner_noop", "backend": backend, "jobs": n / 2, "slots": 32, "jobs_per_s": rate.round()}));
            let (p50, p99, rps, count) = get_latency(&storage, 16, Duration::from_secs(3)).await;
            println!("{}", json!({"bench": "get_job_latency", "backend": backend, "concurrency": 16, "requests": count, "req_per_s": rps.round(), "p50_ms": p50, "p99_ms": p99}));
            drop_db(db).await;
        }
    });
}

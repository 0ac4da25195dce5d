//! Job events as a client sees them, against real `whittle serve` / `whittle worker`
//! processes, printed as JSON lines:
//! - **latency** from a change (the event's `at`, stamped by the database in the writing
//!   transaction) to its arrival at an SSE client of `GET /v1/jobs/{id}/events`, p50/p99, for
//!   train jobs run in the API's process and in a separate `whittle worker` process, on SQLite
//!   and Postgres; and the same for the tenant stream `GET /v1/events`;
//! - **fan-out**: N concurrent SSE clients of `/v1/events` on one server: the server's RSS per
//!   client, and events delivered per second while train jobs run.
//!
//! `cargo bench --bench events`. Postgres runs when `WHITTLE_TEST_DATABASE_URL` is set.
//! Knobs: `EVENTS_JOBS` (jobs per latency run, default 10), `EVENTS_EPOCHS` (30),
//! `EVENTS_CLIENTS` (1000), `EVENTS_FANOUT_JOBS` (3). SQLite's `at` has millisecond
//! resolution, so its latencies carry up to 1 ms of rounding.
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn whittle(cmd: &str, db: &str, dir: &Path, env: &[(&str, String)]) -> Proc {
    let mut c = Command::new(env!("CARGO_BIN_EXE_whittle"));
    c.arg(cmd)
        .env("DATABASE_URL", db)
        .env("WHITTLE_ARTIFACTS", dir.join("artifacts"))
        .env("WHITTLE_SCRATCH_DIR", dir.join(format!("scratch-{cmd}")))
        .env("WHITTLE_INSECURE_NO_AUTH", "true")
        .env("WHITTLE_POLL_MS", "50")
        .env("WHITTLE_COMPUTE_THREADS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        c.env(k, v);
    }
    Proc(c.spawn().expect("start whittle"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} never became ready");
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1000.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    (sorted[i] * 1000.0).round() / 1000.0
}

/// Read server-sent events from `resp`, calling `each(event JSON, arrival)` until it returns
/// false or the stream ends.
async fn read_events(resp: reqwest::Response, mut each: impl FnMut(Value, DateTime<Utc>) -> bool) {
    let mut body = resp.bytes_stream();
    let mut text = String::new();
    while let Some(Ok(chunk)) = body.next().await {
        let arrived = Utc::now();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                    if !each(v, arrived) {
                        return;
                    }
                }
            }
        }
    }
}

fn lag_ms(event: &Value, arrived: DateTime<Utc>) -> Option<f64> {
    let at: DateTime<Utc> = event["at"].as_str()?.parse().ok()?;
    Some((arrived - at).num_microseconds()? as f64 / 1000.0)
}

async fn setup(client: &reqwest::Client, base: &str) -> Value {
    let csv = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/digits_train.csv"
    ))
    .expect("fixture");
    let r = client
        .post(format!("{base}/v1/datasets?name=digits&target=label"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn submit_train(
    client: &reqwest::Client,
    base: &str,
    dataset: &Value,
    epochs: usize,
) -> String {
    let r = client
        .post(format!("{base}/v1/jobs"))
        .json(&json!({"kind": "train", "spec": {"dataset_id": dataset["id"],
            "architecture": {"hidden": [64], "activation": "relu"},
            "optimizer": {"kind": "adam", "lr": 0.003}, "batch_size": 64, "epochs": epochs, "seed": 0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let job: Value = r.json().await.unwrap();
    job["id"].as_str().unwrap().to_string()
}

/// Per-job and tenant stream latencies of `jobs` train jobs, one after another.
async fn latency(
    client: &reqwest::Client,
    base: &str,
    jobs: usize,
    epochs: usize,
) -> (Vec<f64>, Vec<f64>) {
    let dataset = setup(client, base).await;
    let tenant_lags = Arc::new(Mutex::new(Vec::new()));
    let tenant = client
        .get(format!("{base}/v1/events"))
        .send()
        .await
        .unwrap();
    let lags = tenant_lags.clone();
    let tenant_reader = tokio::spawn(async move {
        read_events(tenant, |e, arrived| {
            if let Some(l) = lag_ms(&e, arrived) {
                lags.lock().unwrap().push(l);
            }
            true
        })
        .await
    });
    let mut job_lags = Vec::new();
    for _ in 0..jobs {
        let id = submit_train(client, base, &dataset, epochs).await;
        let opened = Utc::now();
        let resp = client
            .get(format!("{base}/v1/jobs/{id}/events"))
            .send()
            .await
            .unwrap();
        read_events(resp, |e, arrived| {
            // Events replayed from before the stream opened say nothing about latency.
            let at: Option<DateTime<Utc>> = e["at"].as_str().and_then(|a| a.parse().ok());
            if at.is_some_and(|at| at > opened) {
                if let Some(l) = lag_ms(&e, arrived) {
                    job_lags.push(l);
                }
            }
            true
        })
        .await;
    }
    // The tenant stream trails by its settle time on Postgres.
    tokio::time::sleep(Duration::from_millis(800)).await;
    tenant_reader.abort();
    let tenant = tenant_lags.lock().unwrap().clone();
    (job_lags, tenant)
}

async fn fresh_db(backend: &str, dir: &Path) -> Option<(String, Option<String>)> {
    match backend {
        "sqlite" => Some((format!("sqlite://{}/events.db", dir.display()), None)),
        _ => {
            let admin = std::env::var("WHITTLE_TEST_DATABASE_URL").ok()?;
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
            let name = format!("whittle_bench_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .ok()?;
            let mut u = url::Url::parse(&admin).ok()?;
            u.set_path(&format!("/{name}"));
            Some((u.to_string(), Some(name)))
        }
    }
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

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

async fn latency_runs(client: &reqwest::Client, backend: &str, jobs: usize, epochs: usize) {
    for placement in ["in_process", "separate_worker"] {
        let dir = tempfile::tempdir().unwrap();
        let Some((db, name)) = fresh_db(backend, dir.path()).await else {
            println!(
                "{}",
                json!({"bench": "events", "backend": backend, "skipped": "WHITTLE_TEST_DATABASE_URL not set"})
            );
            return;
        };
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let workers = if placement == "in_process" { "1" } else { "0" };
        let server = whittle(
            "serve",
            &db,
            dir.path(),
            &[
                ("WHITTLE_BIND", format!("127.0.0.1:{port}")),
                ("WHITTLE_WORKERS", workers.to_string()),
            ],
        );
        wait_ready(client, &base).await;
        let worker = (placement == "separate_worker").then(|| {
            whittle(
                "worker",
                &db,
                dir.path(),
                &[("WHITTLE_WORKERS", "1".into())],
            )
        });
        let (job, tenant) = latency(client, &base, jobs, epochs).await;
        let (job, tenant) = (sorted(job), sorted(tenant));
        for (stream, lags) in [("job", &job), ("tenant", &tenant)] {
            println!(
                "{}",
                json!({"bench": "events", "measure": "latency_ms", "backend": backend,
                "worker": placement, "stream": stream, "events": lags.len(),
                "p50": percentile(lags, 0.5), "p99": percentile(lags, 0.99)})
            );
        }
        drop(worker);
        drop(server);
        drop_db(name).await;
    }
}

async fn fanout(backend: &str, clients: usize, jobs: usize, epochs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let Some((db, name)) = fresh_db(backend, dir.path()).await else {
        return;
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = whittle(
        "serve",
        &db,
        dir.path(),
        &[
            ("WHITTLE_BIND", format!("127.0.0.1:{port}")),
            ("WHITTLE_WORKERS", "1".into()),
            ("WHITTLE_MAX_CONNECTIONS", (clients + 64).to_string()),
        ],
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients + 16)
        .build()
        .unwrap();
    wait_ready(&client, &base).await;
    let dataset = setup(&client, &base).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_mb(server.0.id());
    let delivered = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(AtomicUsize::new(0));
    let lags = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    let opened = Arc::new(AtomicUsize::new(0));
    for _ in 0..clients {
        let (client, base) = (client.clone(), base.clone());
        let (delivered, ended, lags, opened) = (
            delivered.clone(),
            ended.clone(),
            lags.clone(),
            opened.clone(),
        );
        readers.push(tokio::spawn(async move {
            let resp = client
                .get(format!("{base}/v1/events"))
                .send()
                .await
                .unwrap();
            opened.fetch_add(1, Ordering::SeqCst);
            let mut done = 0;
            read_events(resp, |e, arrived| {
                delivered.fetch_add(1, Ordering::Relaxed);
                if let Some(l) = lag_ms(&e, arrived) {
                    lags.lock().unwrap().push(l);
                }
                if e["type"] == "job.succeeded" {
                    done += 1;
                    if done == jobs {
                        ended.fetch_add(1, Ordering::SeqCst);
                        return false;
                    }
                }
                true
            })
            .await;
        }));
    }
    while opened.load(Ordering::SeqCst) < clients {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_mb(server.0.id());
    let start = Instant::now();
    for _ in 0..jobs {
        submit_train(&client, &base, &dataset, epochs).await;
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    while ended.load(Ordering::SeqCst) < clients && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = delivered.load(Ordering::SeqCst);
    let lags = sorted(lags.lock().unwrap().clone());
    println!(
        "{}",
        json!({"bench": "events", "measure": "fanout", "backend": backend,
        "clients": clients, "jobs": jobs, "events_per_client": total / clients.max(1),
        "clients_finished": ended.load(Ordering::SeqCst),
        "rss_mb_before": (before * 10.0).round() / 10.0, "rss_mb_with_clients": (after * 10.0).round() / 10.0,
        "kb_per_client": ((after - before) * 1000.0 / clients as f64).round(),
        "deliveries_per_s": (total as f64 / elapsed).round(), "seconds": (elapsed * 1000.0).round() / 1000.0,
        "lag_p50_ms": percentile(&lags, 0.5), "lag_p99_ms": percentile(&lags, 0.99)})
    );
    for r in readers {
        r.abort();
    }
    drop(server);
    drop_db(name).await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let jobs = env_usize("EVENTS_JOBS", 10);
    let epochs = env_usize("EVENTS_EPOCHS", 30);
    let clients = env_usize("EVENTS_CLIENTS", 1000);
    let fanout_jobs = env_usize("EVENTS_FANOUT_JOBS", 3);
    rt.block_on(async {
        let client = reqwest::Client::new();
        for backend in ["sqlite", "postgres"] {
            latency_runs(&client, backend, jobs, epochs).await;
        }
        for backend in ["sqlite", "postgres"] {
            fanout(backend, clients, fanout_jobs, epochs).await;
        }
    });
}

//! Test harness: a real server on port 0 over a fresh SQLite file or a fresh Postgres
//! database, with a reqwest client. Postgres tests skip (with a printed reason) when
//! `WHITTLE_TEST_DATABASE_URL` is not set; CI always sets it.
#![allow(dead_code)]

pub mod resume;
pub mod s3;
pub mod webdriver;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use whittle::app::{self, RunningServer};
use whittle::config::{LimitsConfig, S3Config, ServeConfig, StorageConfig, WorkerConfig};
use whittle::jobs::Executors;
use whittle::store::DynStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Knobs a test may turn.
pub struct TestOptions {
    pub workers: usize,
    pub executors: Executors,
    pub worker: WorkerConfig,
    pub limits: LimitsConfig,
    pub bind: SocketAddr,
    pub insecure_no_auth: bool,
    pub metrics_token: Option<String>,
    pub bootstrap: whittle::config::BootstrapKey,
    /// `WHITTLE_BASE_PATH`.
    pub base_path: String,
    /// The artifact store (default: a directory in the test's tempdir) and its S3 settings.
    pub artifacts: Option<String>,
    pub s3: S3Config,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            workers: 2,
            executors: Executors::standard(),
            worker: fast_worker_config(2),
            limits: LimitsConfig::default(),
            bind: "127.0.0.1:0".parse().unwrap(),
            insecure_no_auth: false,
            metrics_token: None,
            bootstrap: Default::default(),
            base_path: String::new(),
            artifacts: None,
            s3: S3Config::default(),
        }
    }
}

impl TestOptions {
    /// The defaults with `n` in-process worker slots (0: jobs stay queued).
    pub fn workers(n: usize) -> Self {
        Self {
            workers: n,
            ..Default::default()
        }
    }
}

/// Short leases and intervals so queue behaviour shows up in seconds.
pub fn fast_worker_config(workers: usize) -> WorkerConfig {
    WorkerConfig {
        workers,
        compute_threads: 2,
        lease_secs: 30,
        heartbeat_ms: 200,
        poll_ms: 100,
        rescue_ms: 200,
        shutdown_grace_secs: 5,
        worker_id: None,
        checkpoint_ms: 30_000,
        // Receivers in tests listen on loopback; retries come quickly.
        webhooks: whittle::config::WebhookConfig {
            allow_private: true,
            timeout_ms: 2_000,
            retry_ms: 100,
            ..Default::default()
        },
    }
}

/// A fresh database for one test: (url, database name to drop afterwards).
pub async fn fresh_database(
    backend: Backend,
    dir: &std::path::Path,
) -> Option<(String, Option<String>)> {
    match backend {
        Backend::Sqlite => Some((format!("sqlite://{}/whittle.db", dir.display()), None)),
        Backend::Postgres => {
            let Ok(admin) = std::env::var("WHITTLE_TEST_DATABASE_URL") else {
                eprintln!("skipping Postgres test: WHITTLE_TEST_DATABASE_URL is not set (CI sets it; see .ci/run)");
                return None;
            };
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to WHITTLE_TEST_DATABASE_URL");
            let name = format!("whittle_t_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let _ = conn.close().await;
            let mut url = url::Url::parse(&admin).expect("WHITTLE_TEST_DATABASE_URL is a URL");
            url.set_path(&format!("/{name}"));
            Some((url.to_string(), Some(name)))
        }
    }
}

/// Drop a database made by `fresh_database`.
pub async fn drop_database(name: &str) {
    use sqlx::Connection;
    if let Ok(admin) = std::env::var("WHITTLE_TEST_DATABASE_URL") {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: DynStore,
    pub server: Option<RunningServer>,
    pub storage: StorageConfig,
    pub dir: tempfile::TempDir,
    pub db_name: Option<String>,
}

/// Start a server; None when the backend is not available here.
pub async fn spawn_app(backend: Backend, opts: TestOptions) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, db_name) = fresh_database(backend, dir.path()).await?;
    let storage = StorageConfig {
        database_url: url,
        artifacts: opts
            .artifacts
            .clone()
            .unwrap_or_else(|| dir.path().join("artifacts").display().to_string()),
        scratch_dir: dir.path().join("scratch"),
        s3: opts.s3.clone(),
    };
    let (store, artifacts) = app::open_storage(&storage).await.expect("open storage");
    let mut worker = opts.worker;
    worker.workers = opts.workers;
    let cfg = ServeConfig {
        bind: opts.bind,
        insecure_no_auth: opts.insecure_no_auth,
        metrics_token: opts.metrics_token,
        bootstrap: opts.bootstrap,
        base_path: opts.base_path,
        limits: opts.limits,
        worker,
    };
    let server = app::start_server(store.clone(), artifacts, &cfg, opts.executors)
        .await
        .expect("start server");
    let base = format!("http://{}", server.addr);
    Some(TestApp {
        base,
        client: reqwest::Client::new(),
        store,
        server: Some(server),
        storage,
        dir,
        db_name,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stop the server and start a new one on the same database and artifacts (a restart),
    /// with `opts`' workers and limits.
    pub async fn restart(&mut self, opts: TestOptions) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("server stops cleanly");
        }
        let (store, artifacts) = app::open_storage(&self.storage)
            .await
            .expect("open storage");
        let mut worker = opts.worker;
        worker.workers = opts.workers;
        let cfg = ServeConfig {
            bind: opts.bind,
            insecure_no_auth: opts.insecure_no_auth,
            metrics_token: opts.metrics_token,
            bootstrap: opts.bootstrap,
            base_path: opts.base_path,
            limits: opts.limits,
            worker,
        };
        let server = app::start_server(store.clone(), artifacts, &cfg, opts.executors)
            .await
            .expect("restart server");
        self.base = format!("http://{}", server.addr);
        self.store = store;
        self.server = Some(server);
    }

    /// Stop the server and drop the test database.
    pub async fn finish(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("server stops cleanly");
        }
        if let Some(name) = self.db_name.take() {
            drop_database(&name).await;
        }
    }

    /// Upload a model file; returns the JSON response (asserts 201).
    pub async fn upload_model(&self, name: &str, bytes: Vec<u8>) -> Value {
        let resp = self
            .client
            .post(self.url(&format!("/v1/models?name={name}")))
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "upload failed: {body}");
        body
    }

    /// GET `path`: its status and body bytes.
    pub async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    /// Download a model's content (asserts 200).
    pub async fn download_model(&self, id: &str) -> Vec<u8> {
        let (status, bytes) = self.get_bytes(&format!("/v1/models/{id}/content")).await;
        assert_eq!(status, 200);
        bytes
    }

    /// POST a model folder as multipart, one part per file named by its path.
    pub async fn post_folder(
        &self,
        name: &str,
        files: &std::collections::BTreeMap<String, Vec<u8>>,
    ) -> reqwest::Response {
        let boundary = "whittle-folder-boundary-51c2";
        let mut body = Vec::new();
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n"
            )
            .as_bytes(),
        );
        for (path, bytes) in files {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        self.client
            .post(self.url("/v1/models"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Upload a fixture folder (`tests/fixtures/<dir>`, without `reference.json`); returns
    /// the model (asserts 201).
    pub async fn upload_fixture_folder(&self, name: &str, dir: &str) -> Value {
        let root = format!("{}/tests/fixtures/{dir}", env!("CARGO_MANIFEST_DIR"));
        let mut files = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(&root).expect("fixture folder") {
            let entry = entry.unwrap();
            let file = entry.file_name().to_string_lossy().to_string();
            if file != "reference.json" {
                files.insert(file, std::fs::read(entry.path()).unwrap());
            }
        }
        let r = self.post_folder(name, &files).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "folder upload failed: {body}");
        body
    }

    /// Upload a text dataset as JSON Lines; returns the JSON response (asserts 201).
    pub async fn upload_jsonl(&self, name: &str, lines: &[Value]) -> Value {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let resp = self
            .client
            .post(self.url(&format!("/v1/datasets?name={name}")))
            .header("content-type", "application/jsonl")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "text dataset upload failed: {body}");
        body
    }

    /// Upload a CSV dataset; returns the JSON response (asserts 201).
    pub async fn upload_csv(&self, name: &str, target: &str, csv: Vec<u8>) -> Value {
        let resp = self
            .client
            .post(self.url(&format!("/v1/datasets?name={name}&target={target}")))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "dataset upload failed: {body}");
        body
    }

    /// Submit a job; returns the JSON response (asserts 202).
    pub async fn submit(&self, body: Value) -> Value {
        let resp = self
            .client
            .post(self.url("/v1/jobs"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let json: Value = resp.json().await.unwrap();
        assert_eq!(status, 202, "submit failed: {json}");
        json
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Submit a job and assert a 422 problem whose field errors include `field`.
    pub async fn assert_rejected(&self, body: &Value, field: &str) {
        self.assert_rejected_with(body, field, "").await
    }

    /// Submit a job and assert a 422 problem with an error on `field` whose message contains
    /// `needle`.
    pub async fn assert_rejected_with(&self, body: &Value, field: &str, needle: &str) {
        let r = self
            .client
            .post(self.url("/v1/jobs"))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let p: Value = r.json().await.unwrap();
        let found = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == field && e["message"].as_str().unwrap().contains(needle));
        assert!(found, "expected {field}: …{needle}… in {p}");
    }

    /// Status of a GET with `Authorization: Bearer <key>`.
    pub async fn get_status_as(&self, path: &str, key: &str) -> u16 {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Submit a job, wait up to a minute and assert it succeeded; returns the final job.
    pub async fn run_job(&self, body: Value) -> Value {
        let job = self.submit(body).await;
        let done = self
            .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(60))
            .await;
        assert_eq!(done["state"], "succeeded", "{done}");
        done
    }

    /// Evaluate `model` (an id) on `dataset` (an id); returns the evaluate result.
    pub async fn evaluate(&self, model: &Value, dataset: &Value) -> Value {
        let done = self
            .run_job(serde_json::json!({"kind": "evaluate",
                "spec": {"model_id": model, "dataset_id": dataset}}))
            .await;
        done["result"].clone()
    }

    /// Cancel a job (asserts 202 Accepted); returns the job as the response shows it.
    pub async fn cancel(&self, id: &str) -> Value {
        let r = self
            .client
            .post(self.url(&format!("/v1/jobs/{id}/cancel")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "cancel of {id}");
        r.json().await.unwrap()
    }

    /// Poll a job until it reaches a terminal state or `timeout` passes.
    pub async fn wait_job(&self, id: &str, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let (status, job) = self.get_json(&format!("/v1/jobs/{id}")).await;
            assert_eq!(status, 200, "{job}");
            let state = job["state"].as_str().unwrap_or_default().to_string();
            if ["succeeded", "failed", "canceled"].contains(&state.as_str()) {
                return job;
            }
            assert!(
                start.elapsed() < timeout,
                "job {id} still {state} after {timeout:?}: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Poll until the job is in `state`.
    pub async fn wait_state(&self, id: &str, want: &str, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let (_, job) = self.get_json(&format!("/v1/jobs/{id}")).await;
            if job["state"] == want {
                return job;
            }
            assert!(
                start.elapsed() < timeout,
                "job {id} never reached {want}: {job}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// A child process (a `whittle` or a peer) killed when dropped, so a failing test leaves none.
pub struct Proc(pub std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free right now (for a process the test starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stamp out one `#[tokio::test]` per backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            }
        )*
    };
}

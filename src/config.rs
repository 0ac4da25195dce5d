//! The only reader of flags and environment variables. Every flag has a `WHITTLE_*` (or
//! `DATABASE_URL`) twin so containers can be configured without a command line.
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// whittle: analyze, train, evaluate, quantize, prune and tune models over a REST API.
#[derive(Debug, Parser)]
#[command(name = "whittle", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageConfig,
    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(
        long,
        env = "WHITTLE_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API with in-process workers.
    Serve(Box<ServeConfig>),
    /// Run workers only (scale-out: point several at the same Postgres and artifact store).
    Worker(WorkerCommand),
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Exit 0 when `url` answers 2xx within the timeout, 1 otherwise (a container health
    /// check that needs no curl in the image).
    Healthcheck {
        /// What to ask.
        #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 3)]
        timeout_secs: u64,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create a key for a tenant (created when new) and print it once.
    Create {
        /// Tenant name.
        #[arg(long)]
        tenant: String,
    },
    /// Create the first key when no key exists yet (active or revoked), else do nothing:
    /// the key is `WHITTLE_BOOTSTRAP_API_KEY` (or the file `WHITTLE_BOOTSTRAP_API_KEY_FILE`
    /// names) when set, else generated and printed once. For a deployment's init step.
    Bootstrap {
        #[command(flatten)]
        key: BootstrapKey,
    },
    /// List keys: id, tenant, prefix, created, revoked.
    List,
    /// Revoke a key by id or by its prefix (as `list` shows it); effective immediately.
    Revoke {
        /// The key's id or prefix.
        key: String,
    },
}

/// Where whittle keeps rows and blobs.
#[derive(Debug, Clone, Args)]
pub struct StorageConfig {
    /// `sqlite://path` (default, created on first start) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://./whittle-data/whittle.db",
        global = true
    )]
    pub database_url: String,
    /// Artifact store: a directory path, `file:///abs/path`, or `s3://bucket/prefix`
    /// (S3-compatible; credentials and endpoint from the usual `AWS_*` variables).
    #[arg(
        long,
        env = "WHITTLE_ARTIFACTS",
        default_value = "./whittle-data/artifacts",
        global = true
    )]
    pub artifacts: String,
    /// Local scratch directory: upload spooling and the cache of remote artifacts.
    #[arg(
        long,
        env = "WHITTLE_SCRATCH_DIR",
        default_value = "./whittle-data/scratch",
        global = true
    )]
    pub scratch_dir: PathBuf,
    #[command(flatten)]
    pub s3: S3Config,
}

/// An S3-compatible artifact store (`WHITTLE_ARTIFACTS=s3://bucket/prefix`). Every setting
/// left unset is read from the usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`,
/// `AWS_ENDPOINT_URL`/`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, web identity, container credentials).
#[derive(Debug, Clone, Default, Args)]
pub struct S3Config {
    /// Endpoint of an S3-compatible server, e.g. `http://minio:9000` (default: AWS).
    #[arg(long = "s3-endpoint", env = "WHITTLE_S3_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// Region (default `AWS_REGION`, else `us-east-1`).
    #[arg(long = "s3-region", env = "WHITTLE_S3_REGION", global = true)]
    pub region: Option<String>,
    /// Access key id.
    #[arg(
        long = "s3-access-key-id",
        env = "WHITTLE_S3_ACCESS_KEY_ID",
        global = true
    )]
    pub access_key_id: Option<String>,
    /// Secret access key (prefer `WHITTLE_S3_SECRET_ACCESS_KEY_FILE`).
    #[arg(
        long = "s3-secret-access-key",
        env = "WHITTLE_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_access_key: Option<String>,
    /// A file holding the secret access key (a Docker or Kubernetes secret).
    #[arg(
        long = "s3-secret-access-key-file",
        env = "WHITTLE_S3_SECRET_ACCESS_KEY_FILE",
        global = true
    )]
    pub secret_access_key_file: Option<PathBuf>,
    /// Session token of temporary credentials.
    #[arg(
        long = "s3-session-token",
        env = "WHITTLE_S3_SESSION_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub session_token: Option<String>,
    /// Permit a plain `http://` endpoint (an S3-compatible server on a private network).
    #[arg(
        long = "s3-allow-http",
        env = "WHITTLE_S3_ALLOW_HTTP",
        default_value_t = false,
        global = true
    )]
    pub allow_http: bool,
    /// Virtual-hosted-style requests (`bucket.host/key`) instead of path style (`host/bucket/key`).
    #[arg(
        long = "s3-virtual-hosted-style",
        env = "WHITTLE_S3_VIRTUAL_HOSTED_STYLE",
        default_value_t = false,
        global = true
    )]
    pub virtual_hosted_style: bool,
    /// Take credentials from the instance-metadata endpoint (EC2) when no other source is
    /// configured. Off by default: without credentials the store refuses to open.
    #[arg(
        long = "s3-instance-metadata",
        env = "WHITTLE_S3_INSTANCE_METADATA",
        default_value_t = false,
        global = true
    )]
    pub instance_metadata: bool,
    /// Bound of the local cache of remote artifacts under the scratch directory, bytes
    /// (least recently used entries are evicted). Unset: 20 GiB.
    #[arg(long = "cache-bytes", env = "WHITTLE_CACHE_BYTES", global = true)]
    pub cache_bytes: Option<u64>,
    /// Retries of one failed S3 request (network errors, 5xx, throttling); then the
    /// operation fails and a job using it is retried by the queue. Unset: 10.
    #[arg(long = "s3-max-retries", env = "WHITTLE_S3_MAX_RETRIES", global = true)]
    pub max_retries: Option<usize>,
    /// Seconds one S3 request may keep being retried. Unset: 180.
    #[arg(
        long = "s3-retry-timeout-secs",
        env = "WHITTLE_S3_RETRY_TIMEOUT_SECS",
        global = true
    )]
    pub retry_timeout_secs: Option<u64>,
}

impl S3Config {
    /// The artifact room's settings; reads the secret file when one is named.
    pub fn remote_options(&self) -> anyhow::Result<crate::artifacts::RemoteOptions> {
        let secret = match (&self.secret_access_key, &self.secret_access_key_file) {
            (Some(_), Some(_)) => anyhow::bail!(
                "set WHITTLE_S3_SECRET_ACCESS_KEY or WHITTLE_S3_SECRET_ACCESS_KEY_FILE, not both"
            ),
            (Some(s), None) => Some(s.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        };
        let defaults = crate::artifacts::RemoteOptions::default();
        Ok(crate::artifacts::RemoteOptions {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: secret,
            session_token: self.session_token.clone(),
            allow_http: self.allow_http,
            virtual_hosted_style: self.virtual_hosted_style,
            instance_metadata: self.instance_metadata,
            cache_bytes: self.cache_bytes.unwrap_or(defaults.cache_bytes),
            max_retries: self.max_retries.unwrap_or(defaults.max_retries),
            retry_timeout: self
                .retry_timeout_secs
                .map(std::time::Duration::from_secs)
                .unwrap_or(defaults.retry_timeout),
        })
    }
}

/// A first API key given by the deployment (a secret), for `whittle apikey bootstrap` and
/// `whittle serve`: created when no API key exists yet, ignored afterwards.
#[derive(Debug, Clone, Args)]
pub struct BootstrapKey {
    /// Tenant of the bootstrap key (created when new).
    #[arg(
        long = "bootstrap-tenant",
        env = "WHITTLE_BOOTSTRAP_TENANT",
        default_value = "default"
    )]
    pub tenant: String,
    /// The key: `wh_` followed by at least 32 letters, digits, `-` or `_` (e.g.
    /// `wh_$(openssl rand -hex 24)`). An empty value counts as unset.
    #[arg(
        long = "bootstrap-api-key",
        env = "WHITTLE_BOOTSTRAP_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// A file holding the key (a Docker or Kubernetes secret).
    #[arg(
        long = "bootstrap-api-key-file",
        env = "WHITTLE_BOOTSTRAP_API_KEY_FILE"
    )]
    pub api_key_file: Option<PathBuf>,
}

impl Default for BootstrapKey {
    fn default() -> Self {
        Self {
            tenant: "default".into(),
            api_key: None,
            api_key_file: None,
        }
    }
}

impl BootstrapKey {
    /// The configured key, checked; None when neither source is set.
    pub fn read(&self) -> anyhow::Result<Option<String>> {
        let key = match (
            self.api_key.as_deref().filter(|k| !k.trim().is_empty()),
            &self.api_key_file,
        ) {
            (Some(_), Some(_)) => anyhow::bail!(
                "set WHITTLE_BOOTSTRAP_API_KEY or WHITTLE_BOOTSTRAP_API_KEY_FILE, not both"
            ),
            (Some(k), None) => k.trim().to_string(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?
                .trim()
                .to_string(),
            (None, None) => return Ok(None),
        };
        let body = key.strip_prefix("wh_").unwrap_or("");
        anyhow::ensure!(
            body.len() >= 32
                && body.len() <= 200
                && body
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "the bootstrap API key must be `wh_` followed by 32 to 200 letters, digits, `-` or `_` \
             (e.g. wh_$(openssl rand -hex 24))"
        );
        Ok(Some(key))
    }
}

/// `whittle worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerCommand {
    /// Serve `/healthz`, `/readyz` and `/metrics` of this worker on this address (for
    /// container health checks and Prometheus; no key asked, no tenant data shown).
    #[arg(long, env = "WHITTLE_HEALTH_BIND")]
    pub health_bind: Option<SocketAddr>,
    #[command(flatten)]
    pub worker: WorkerConfig,
}

/// `whittle serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on. Binding beyond loopback requires API keys (or `--insecure-no-auth`).
    #[arg(long, env = "WHITTLE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Accept anonymous requests even when bound beyond loopback with no API keys.
    #[arg(long, env = "WHITTLE_INSECURE_NO_AUTH", default_value_t = false)]
    pub insecure_no_auth: bool,
    /// Bearer token for `/metrics`. When set, only this token opens `/metrics` (API keys do
    /// not, so no tenant sees the others' job counts); unset, `/metrics` needs an API key once
    /// keys exist.
    #[arg(long, env = "WHITTLE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// The path prefix a reverse proxy serves whittle under (`/whittle`; it strips it before
    /// forwarding): `Location` headers and the OpenAPI `servers` entry carry it. Empty: none.
    #[arg(long, env = "WHITTLE_BASE_PATH", default_value = "")]
    pub base_path: String,
    #[command(flatten)]
    pub bootstrap: BootstrapKey,
    #[command(flatten)]
    pub limits: LimitsConfig,
    #[command(flatten)]
    pub worker: WorkerConfig,
}

impl ServeConfig {
    /// [`ServeConfig::base_path`] checked and normalized: empty, or `/` + segments of
    /// letters, digits, `-`, `_`, `.`, without a trailing `/`.
    pub fn base_path(&self) -> anyhow::Result<String> {
        let p = self.base_path.trim().trim_end_matches('/');
        if p.is_empty() {
            return Ok(String::new());
        }
        anyhow::ensure!(
            p.starts_with('/')
                && !p.contains("//")
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
                && p.split('/').all(|seg| seg != ".." && seg != "."),
            "WHITTLE_BASE_PATH must look like /whittle (a path of letters, digits, '-', '_', '.')"
        );
        Ok(p.to_string())
    }
}

/// Request size caps, connection limits and per-tenant quotas.
#[derive(Debug, Clone, Args)]
pub struct LimitsConfig {
    /// Largest model upload, bytes.
    #[arg(long, env = "WHITTLE_MAX_MODEL_BYTES", default_value_t = 16 * 1024 * 1024 * 1024)]
    pub max_model_bytes: u64,
    /// Largest dataset upload, bytes.
    #[arg(long, env = "WHITTLE_MAX_DATASET_BYTES", default_value_t = 1024 * 1024 * 1024)]
    pub max_dataset_bytes: u64,
    /// Largest JSON request body, bytes.
    #[arg(long, env = "WHITTLE_MAX_JSON_BYTES", default_value_t = 1024 * 1024)]
    pub max_json_bytes: u64,
    /// Largest safetensors header accepted, bytes.
    #[arg(long, env = "WHITTLE_MAX_HEADER_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub max_header_bytes: u64,
    /// Seconds a client has to send the headers of a request; an idle keep-alive connection is
    /// closed after as long.
    #[arg(long, env = "WHITTLE_HEADER_TIMEOUT_SECS", default_value_t = 15)]
    pub header_timeout_secs: u64,
    /// Connections served at once; further ones wait in the listen backlog.
    #[arg(long, env = "WHITTLE_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// Queued plus running jobs one tenant may have (submissions beyond: 429). Unset: no quota.
    #[arg(long, env = "WHITTLE_TENANT_MAX_ACTIVE_JOBS")]
    pub tenant_max_active_jobs: Option<u64>,
    /// Bytes of models and datasets one tenant may store (uploads beyond: 413). Unset: no quota.
    #[arg(long, env = "WHITTLE_TENANT_MAX_STORED_BYTES")]
    pub tenant_max_stored_bytes: Option<u64>,
    /// Most tensors in one uploaded safetensors file.
    #[arg(long, env = "WHITTLE_MAX_TENSORS", default_value_t = 100_000)]
    pub max_tensors: usize,
    /// Largest `__metadata__` of an uploaded safetensors file, bytes (keys and values, plus
    /// 32 per entry).
    #[arg(long, env = "WHITTLE_MAX_METADATA_BYTES", default_value_t = 1024 * 1024)]
    pub max_metadata_bytes: usize,
    /// Largest side file of an uploaded model folder (tokenizer files, README…), bytes;
    /// configuration JSON files are capped at 4 MiB whatever this says.
    #[arg(long, env = "WHITTLE_MAX_SIDE_FILE_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_side_file_bytes: u64,
    /// Most feature columns (besides the target) in an uploaded CSV or NPY dataset.
    #[arg(long, env = "WHITTLE_MAX_DATASET_FEATURES", default_value_t = 100_000)]
    pub max_dataset_features: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_model_bytes: 16 * 1024 * 1024 * 1024,
            max_dataset_bytes: 1024 * 1024 * 1024,
            max_json_bytes: 1024 * 1024,
            max_header_bytes: 100 * 1024 * 1024,
            header_timeout_secs: 15,
            max_connections: 512,
            tenant_max_active_jobs: None,
            tenant_max_stored_bytes: None,
            max_tensors: 100_000,
            max_metadata_bytes: 1024 * 1024,
            max_side_file_bytes: 64 * 1024 * 1024,
            max_dataset_features: 100_000,
        }
    }
}

impl LimitsConfig {
    /// The header read (and keep-alive idle) timeout, at least one second.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs.max(1))
    }
}

/// Worker tuning, shared by `serve` and `worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerConfig {
    /// Jobs run at once by this process (0 = API only, no workers).
    #[arg(long, env = "WHITTLE_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Threads of the rayon pool that runs kernels (0 = one per core).
    #[arg(long, env = "WHITTLE_COMPUTE_THREADS", default_value_t = 0)]
    pub compute_threads: usize,
    /// Lease length: a job whose worker stops heartbeating is rescued after this long.
    #[arg(long, env = "WHITTLE_LEASE_SECS", default_value_t = 30)]
    pub lease_secs: u64,
    /// Heartbeat interval; also how quickly a running job sees a cancel.
    #[arg(long, env = "WHITTLE_HEARTBEAT_MS", default_value_t = 2000)]
    pub heartbeat_ms: u64,
    /// Poll interval when no notification arrives.
    #[arg(long, env = "WHITTLE_POLL_MS", default_value_t = 1000)]
    pub poll_ms: u64,
    /// How often the rescuer looks for expired leases.
    #[arg(long, env = "WHITTLE_RESCUE_MS", default_value_t = 5000)]
    pub rescue_ms: u64,
    /// On SIGTERM, how long in-flight jobs may run before they are handed back to the queue.
    #[arg(long, env = "WHITTLE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// Identity of this worker in `jobs.locked_by` (default: hostname-pid-random).
    #[arg(long, env = "WHITTLE_WORKER_ID")]
    pub worker_id: Option<String>,
    /// Training runs (train, fine-tune, QAT, gradual prune) checkpoint this often, so a
    /// rescued or handed-back job resumes instead of starting over (0 = only at hand-back).
    #[arg(long, env = "WHITTLE_CHECKPOINT_MS", default_value_t = 30_000)]
    pub checkpoint_ms: u64,
    #[command(flatten)]
    pub webhooks: WebhookConfig,
}

/// Webhook deliveries (run by the workers) and the addresses subscriptions may name.
#[derive(Debug, Clone, Args)]
pub struct WebhookConfig {
    /// Allow webhook URLs on loopback, private, link-local and other non-public addresses
    /// (refused by default: a subscription must not reach into the server's network).
    #[arg(
        long = "webhook-allow-private",
        env = "WHITTLE_WEBHOOK_ALLOW_PRIVATE",
        default_value_t = false
    )]
    pub allow_private: bool,
    /// How long one delivery attempt may take (connect, send, response head).
    #[arg(
        long = "webhook-timeout-ms",
        env = "WHITTLE_WEBHOOK_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub timeout_ms: u64,
    /// Delay before the first retry of a failed delivery; each further retry waits twice as
    /// long (capped at an hour).
    #[arg(
        long = "webhook-retry-ms",
        env = "WHITTLE_WEBHOOK_RETRY_MS",
        default_value_t = 5_000
    )]
    pub retry_ms: u64,
    /// Attempts of one delivery before it is given up.
    #[arg(
        long = "webhook-max-attempts",
        env = "WHITTLE_WEBHOOK_MAX_ATTEMPTS",
        default_value_t = 10
    )]
    pub max_attempts: u32,
    /// Consecutive failed attempts (across deliveries) after which a webhook is disabled.
    #[arg(
        long = "webhook-max-failures",
        env = "WHITTLE_WEBHOOK_MAX_FAILURES",
        default_value_t = 30
    )]
    pub max_failures: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout_ms: 10_000,
            retry_ms: 5_000,
            max_attempts: 10,
            max_failures: 30,
        }
    }
}

impl WebhookConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.clamp(100, 300_000))
    }
    /// The wait after failed attempt `attempt` (1-based): `retry_ms · 2^(attempt-1)`, at most
    /// an hour.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self.retry_ms.max(10) as f64 / 1000.0;
        let secs = base * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        Duration::from_secs_f64(secs.min(3600.0))
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            compute_threads: 0,
            lease_secs: 30,
            heartbeat_ms: 2000,
            poll_ms: 1000,
            rescue_ms: 5000,
            shutdown_grace_secs: 20,
            worker_id: None,
            checkpoint_ms: 30_000,
            webhooks: WebhookConfig::default(),
        }
    }
}

impl WorkerConfig {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.max(1))
    }
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.max(10))
    }
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms.max(10))
    }
    pub fn rescue(&self) -> Duration {
        Duration::from_millis(self.rescue_ms.max(10))
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
    /// `None` when periodic checkpoints are off.
    pub fn checkpoint_interval(&self) -> Option<Duration> {
        (self.checkpoint_ms > 0).then(|| Duration::from_millis(self.checkpoint_ms))
    }
}

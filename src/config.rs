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
    Serve(ServeConfig),
    /// Run workers only (scale-out: point several at the same Postgres and artifact store).
    Worker(WorkerConfig),
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
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
    #[command(flatten)]
    pub limits: LimitsConfig,
    #[command(flatten)]
    pub worker: WorkerConfig,
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

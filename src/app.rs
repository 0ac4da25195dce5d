//! Wiring: choose the store by URL scheme, migrate, start the API and the workers, and shut
//! down gracefully. No SQL and no kernels here.
use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

use crate::api::{self, AppState, AuthState};
use crate::artifacts::ArtifactStore;
use crate::config::{LimitsConfig, ServeConfig, StorageConfig, WorkerConfig};
use crate::jobs::{ComputePool, Executors, Runner};
use crate::store::{self, DynStore};

/// Open (creating when needed) and migrate the database, and open the artifact store.
pub async fn open_storage(cfg: &StorageConfig) -> anyhow::Result<(DynStore, Arc<ArtifactStore>)> {
    if let Some(path) = sqlite_file(&cfg.database_url) {
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
    }
    let store = store::connect(&cfg.database_url)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("migrating the database")?;
    let remote = cfg.s3.remote_options()?;
    let artifacts = ArtifactStore::open_with(&cfg.artifacts, &cfg.scratch_dir, &remote)
        .context("opening the artifact store")?;
    Ok((store, Arc::new(artifacts)))
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// The process-wide Prometheus recorder (installed once).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 1800.0,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            crate::telemetry::describe();
            Some(handle)
        })
        .clone()
}

/// A running server: its address, and the token that stops it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub store: DynStore,
    pub artifacts: Arc<ArtifactStore>,
    pub shutdown: CancellationToken,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Stop accepting requests and claims, let in-flight jobs finish or hand them back.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.handle.await.context("server task")?
    }
}

/// Start the API (and in-process workers unless `workers` is 0) on an opened store.
pub async fn start_server(
    store: DynStore,
    artifacts: Arc<ArtifactStore>,
    cfg: &ServeConfig,
    executors: Executors,
) -> anyhow::Result<RunningServer> {
    let loopback = cfg.bind.ip().is_loopback();
    if let Some(key) = cfg.bootstrap.read()? {
        match bootstrap_api_key(&store, &cfg.bootstrap.tenant, Some(key)).await? {
            Bootstrapped::Created { .. } => {
                info!(tenant = %cfg.bootstrap.tenant, "created the bootstrap API key")
            }
            Bootstrapped::Present => {}
            Bootstrapped::OtherKeysExist => {
                debug!("API keys exist; the bootstrap key is not needed")
            }
        }
    }
    let keys = store.count_active_api_keys().await?;
    if !loopback && keys == 0 && !cfg.insecure_no_auth {
        anyhow::bail!(
            "refusing to listen on {} without API keys: create one with `whittle apikey create --tenant NAME`, \
             bind to 127.0.0.1, or pass --insecure-no-auth",
            cfg.bind
        );
    }
    let wake = Arc::new(Notify::new());
    let shutdown = CancellationToken::new();
    let probe = watch_artifacts(artifacts.clone(), shutdown.clone()).await;
    let events = crate::jobs::events::EventHub::start(store.clone(), shutdown.clone());
    let state = AppState {
        base_path: cfg.base_path()?.into(),
        events: events.clone(),
        webhooks: cfg.worker.webhooks.clone(),
        store: store.clone(),
        artifacts: artifacts.clone(),
        limits: cfg.limits.clone(),
        auth: Arc::new(
            AuthState::new(loopback || cfg.insecure_no_auth)
                .with_metrics_token(cfg.metrics_token.as_deref()),
        ),
        wake: wake.clone(),
        metrics: metrics_handle(),
    };
    let router = api::router(state);
    let listener = tokio::net::TcpListener::bind(cfg.bind)
        .await
        .with_context(|| format!("binding {}", cfg.bind))?;
    let addr = listener.local_addr()?;
    let worker = start_workers_with_events(
        store.clone(),
        artifacts.clone(),
        &cfg.worker,
        executors,
        wake,
        events,
        shutdown.clone(),
    )?;
    let stop = shutdown.clone();
    let limits = cfg.limits.clone();
    let handle = tokio::spawn(async move {
        serve_http(listener, router, &limits, stop).await;
        if let Some(w) = worker {
            w.handle.await.context("worker task")?;
        }
        let _ = probe.await;
        Ok(())
    });
    info!(%addr, backend = store.backend(), artifacts = artifacts.description(), "whittle listening");
    Ok(RunningServer {
        addr,
        store,
        artifacts,
        shutdown,
        handle,
    })
}

/// How often the artifact store's writability is probed (see [`watch_artifacts`]).
pub const ARTIFACT_PROBE_INTERVAL: Duration = Duration::from_secs(30);

/// Probe the artifact store now and every [`ARTIFACT_PROBE_INTERVAL`] until `stop` fires, so
/// `/readyz` reports a store that cannot take writes (a volume owned by another user, a
/// missing bucket, lost credentials). A failure is logged when it starts and when it ends.
pub async fn watch_artifacts(
    artifacts: Arc<ArtifactStore>,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let first = artifacts.probe().await;
    if let Some(e) = &first.error {
        warn!(error = %e, store = artifacts.description(), "the artifact store is not writable");
    }
    tokio::spawn(async move {
        let mut failing = first.error.is_some();
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(ARTIFACT_PROBE_INTERVAL) => {}
            }
            let health = artifacts.probe().await;
            match (&health.error, failing) {
                (Some(e), false) => {
                    warn!(error = %e, store = artifacts.description(), "the artifact store is not writable")
                }
                (None, true) => info!(
                    store = artifacts.description(),
                    "the artifact store is writable again"
                ),
                _ => {}
            }
            failing = health.error.is_some();
        }
    })
}

/// Serve a worker process's `/healthz`, `/readyz` and `/metrics` on `bind` until `stop`.
pub async fn serve_worker_health(
    bind: SocketAddr,
    status: Arc<crate::jobs::status::WorkerStatus>,
    artifacts: Arc<ArtifactStore>,
    stop: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let router = api::worker_health::worker_health_router(api::worker_health::WorkerHealthState {
        status,
        artifacts,
        metrics: metrics_handle(),
    });
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding the health address {bind}"))?;
    info!(addr = %listener.local_addr()?, "worker health endpoints listening");
    let limits = LimitsConfig {
        max_connections: 64,
        ..Default::default()
    };
    Ok(tokio::spawn(async move {
        serve_http(listener, router, &limits, stop).await;
    }))
}

/// Serve `router` on `listener` until `stop` fires, then let in-flight requests finish.
///
/// Unlike `axum::serve`, a client must send a request's headers within the header timeout
/// (hyper's timer also runs while a keep-alive connection waits for its next request, so idle
/// connections close after as long), and at most `max_connections` connections are served at
/// once (each holds a permit; the rest wait in the listen backlog): slow or idle clients cannot
/// pile up connections.
async fn serve_http(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: &LimitsConfig,
    stop: CancellationToken,
) {
    let max = limits.max_connections.clamp(1, u32::MAX as usize);
    let permits = Arc::new(Semaphore::new(max));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout())
        .keep_alive(true);
    loop {
        let permit = tokio::select! {
            _ = stop.cancelled() => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                ended = conn.as_mut() => {
                    if let Err(e) = ended {
                        debug!(error = %e, "connection closed");
                    }
                    return;
                }
                _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    // Every connection task holds a permit: all of them back means every connection closed.
    let _ = permits.acquire_many(max as u32).await;
}

/// Start the job runner and the webhook deliveries unless `cfg.workers` is 0 (with an event
/// hub of their own: see [`start_workers_with_events`]).
pub fn start_workers(
    store: DynStore,
    artifacts: Arc<ArtifactStore>,
    cfg: &WorkerConfig,
    executors: Executors,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if cfg.workers == 0 {
        return Ok(None);
    }
    let events = crate::jobs::events::EventHub::start(store.clone(), shutdown.clone());
    Ok(
        start_workers_with_events(store, artifacts, cfg, executors, wake, events, shutdown)?
            .map(|w| w.handle),
    )
}

/// Running workers: the task that ends when they stopped, and their status.
pub struct Workers {
    pub handle: tokio::task::JoinHandle<()>,
    pub status: Arc<crate::jobs::status::WorkerStatus>,
}

/// Start the job runner and the webhook deliveries unless `cfg.workers` is 0; deliveries
/// wake on `events` (the process's hub, shared with the API).
pub fn start_workers_with_events(
    store: DynStore,
    artifacts: Arc<ArtifactStore>,
    cfg: &WorkerConfig,
    executors: Executors,
    wake: Arc<Notify>,
    events: Arc<crate::jobs::events::EventHub>,
    shutdown: CancellationToken,
) -> anyhow::Result<Option<Workers>> {
    if cfg.workers == 0 {
        return Ok(None);
    }
    let compute = ComputePool::new(cfg.compute_threads).context("building the compute pool")?;
    // Webhook deliveries run where jobs run: a queue of their own, beside the job runner.
    let deliverer =
        crate::jobs::webhooks::Deliverer::new(store.clone(), cfg, events).spawn(shutdown.clone());
    let runner = Runner::new(store, artifacts, compute, executors, cfg.clone(), wake);
    let status = runner.status();
    let jobs = runner.spawn(shutdown);
    let handle = tokio::spawn(async move {
        let _ = jobs.await;
        let _ = deliverer.await;
    });
    Ok(Some(Workers { handle, status }))
}

/// Resolve when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    info!("shutdown signal received");
}

/// Revoke the API key named by `selector`: its id, or a prefix of the key as `apikey list`
/// shows it (`wh_3f9a…`), matching exactly one active key. Requests with it get 401 at once.
pub async fn revoke_api_key(
    store: &DynStore,
    selector: &str,
) -> anyhow::Result<crate::store::ApiKeyRow> {
    let selector = selector.trim();
    let id = match uuid::Uuid::parse_str(selector) {
        Ok(id) => id,
        Err(_) => {
            anyhow::ensure!(
                selector.len() >= 4,
                "give the key's id or at least 4 characters of its prefix"
            );
            let keys = store.list_api_keys().await?;
            let matching: Vec<_> = keys
                .iter()
                .filter(|(k, _)| {
                    k.revoked_at.is_none()
                        && (k.prefix.starts_with(selector) || selector.starts_with(&k.prefix))
                })
                .collect();
            match matching.as_slice() {
                [(k, _)] => k.id,
                [] => anyhow::bail!("no active API key matches '{selector}'"),
                many => anyhow::bail!(
                    "'{selector}' matches {} active keys: give the id (see `whittle apikey list`)",
                    many.len()
                ),
            }
        }
    };
    store
        .revoke_api_key(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no API key with id {id}"))
}

/// What [`bootstrap_api_key`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrapped {
    /// No key existed: this one was created (`generated`: by us, so it must be shown once).
    Created { key: String, generated: bool },
    /// The given key exists already (a restart).
    Present,
    /// Other keys exist: nothing was done (the bootstrap key is for an empty deployment).
    OtherKeysExist,
}

/// Create the first API key when no key exists yet, active or revoked (so a revoked
/// bootstrap key is not brought back by a restart): `key` when given, else a generated one.
/// Safe to run from several processes at once.
pub async fn bootstrap_api_key(
    store: &DynStore,
    tenant: &str,
    key: Option<String>,
) -> anyhow::Result<Bootstrapped> {
    let hash = key.as_deref().map(api::extract::hash_api_key);
    let existing = || async {
        if store.list_api_keys().await?.is_empty() {
            return Ok::<_, anyhow::Error>(None);
        }
        Ok(Some(match &hash {
            Some(h) if store.tenant_for_api_key(h).await?.is_some() => Bootstrapped::Present,
            _ => Bootstrapped::OtherKeysExist,
        }))
    };
    if let Some(done) = existing().await? {
        return Ok(done);
    }
    let generated = key.is_none();
    let created = match key {
        Some(key) => insert_api_key(store, tenant, &key).await.map(|()| key),
        None => create_api_key(store, tenant).await,
    };
    match created {
        Ok(key) => Ok(Bootstrapped::Created { key, generated }),
        // Another process bootstrapped at the same moment.
        Err(e) => existing().await?.ok_or(e),
    }
}

async fn insert_api_key(store: &DynStore, tenant: &str, key: &str) -> anyhow::Result<()> {
    let tenant = tenant.trim();
    anyhow::ensure!(
        !tenant.is_empty() && tenant.chars().count() <= 100 && !tenant.contains('\0'),
        "the tenant must be 1 to 100 characters"
    );
    let t = store.ensure_tenant(tenant).await?;
    store
        .create_api_key(t.id, &api::extract::hash_api_key(key), &key[..10])
        .await?;
    Ok(())
}

/// Create an API key for a tenant; returns the key (shown once).
pub async fn create_api_key(store: &DynStore, tenant: &str) -> anyhow::Result<String> {
    use rand::RngCore;
    let tenant = tenant.trim();
    anyhow::ensure!(
        !tenant.is_empty() && tenant.chars().count() <= 100,
        "--tenant must be 1 to 100 characters"
    );
    let mut secret = [0u8; 24];
    rand::rng().fill_bytes(&mut secret);
    let key = format!("wh_{}", hex::encode(secret));
    let t = store.ensure_tenant(tenant).await?;
    store
        .create_api_key(t.id, &api::extract::hash_api_key(&key), &key[..10])
        .await?;
    Ok(key)
}

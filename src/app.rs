//! Wiring: choose the store by URL scheme, migrate, start the API and the workers, and shut
//! down gracefully. No SQL and no kernels here.
use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::api::{self, AppState, AuthState};
use crate::artifacts::ArtifactStore;
use crate::config::{ServeConfig, StorageConfig, WorkerConfig};
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
    let artifacts = ArtifactStore::open(&cfg.artifacts, &cfg.scratch_dir)
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
    let keys = store.count_active_api_keys().await?;
    if !loopback && keys == 0 && !cfg.insecure_no_auth {
        anyhow::bail!(
            "refusing to listen on {} without API keys: create one with `whittle apikey create --tenant NAME`, \
             bind to 127.0.0.1, or pass --insecure-no-auth",
            cfg.bind
        );
    }
    let wake = Arc::new(Notify::new());
    let state = AppState {
        store: store.clone(),
        artifacts: artifacts.clone(),
        limits: cfg.limits.clone(),
        auth: Arc::new(AuthState::new(loopback || cfg.insecure_no_auth)),
        wake: wake.clone(),
        metrics: metrics_handle(),
    };
    let router = api::router(state);
    let listener = tokio::net::TcpListener::bind(cfg.bind)
        .await
        .with_context(|| format!("binding {}", cfg.bind))?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let worker = start_workers(
        store.clone(),
        artifacts.clone(),
        &cfg.worker,
        executors,
        wake,
        shutdown.clone(),
    )?;
    let stop = shutdown.clone();
    let handle = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await?;
        if let Some(w) = worker {
            w.await.context("worker task")?;
        }
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

/// Start the job runner unless `cfg.workers` is 0.
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
    let compute = ComputePool::new(cfg.compute_threads).context("building the compute pool")?;
    let runner = Runner::new(store, artifacts, compute, executors, cfg.clone(), wake);
    Ok(Some(runner.spawn(shutdown)))
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

/// Create an API key for a tenant; returns the key (shown once).
pub async fn create_api_key(store: &DynStore, tenant: &str) -> anyhow::Result<String> {
    use rand::RngCore;
    let tenant = tenant.trim();
    anyhow::ensure!(
        !tenant.is_empty() && tenant.len() <= 100,
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

//! Blob storage for models and datasets over `object_store`: a local directory by default,
//! any S3-compatible bucket for clusters. Uploads are spooled to a local file while hashed
//! (never held in memory), validated, then published; publishing is atomic (readers never see
//! a partial object). Jobs read artifacts through a local path so they can memory-map them.
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod local;
pub use local::{HashingFile, WrittenFile};
use uuid::Uuid;

/// Errors of the artifact room.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("artifact store configuration: {0}")]
    Config(String),
    #[error("upload exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("reading the request body failed: {0}")]
    Body(String),
    #[error("artifact not found: {0}")]
    NotFound(String),
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// A file in the local scratch directory, deleted on drop unless kept.
#[derive(Debug)]
pub struct SpooledFile {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    /// The first bytes of the content (format sniffing without reopening the file).
    pub prefix: Vec<u8>,
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// How to reach an S3-compatible store and how much of it to cache locally. Each field left
/// unset falls back to the usual `AWS_*` environment variables (as `object_store` reads them:
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
/// `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` or `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, web identity
/// and container credentials).
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// Permit `http://` endpoints (local S3-compatible servers).
    pub allow_http: bool,
    /// `https://bucket.host/key` instead of `https://host/bucket/key`.
    pub virtual_hosted_style: bool,
    /// Fall back to the instance-metadata endpoint (EC2 IMDS) for credentials when none are
    /// configured. Off unless a deployment turns it on, so a misconfigured store fails at
    /// start instead of asking a link-local address.
    pub instance_metadata: bool,
    /// Bound of the local cache of remote objects, bytes; least recently used entries are
    /// evicted past it.
    pub cache_bytes: u64,
    /// Retries of one failed request (network errors, 5xx, throttling) before the operation
    /// fails (a job then fails transiently and is retried by the queue).
    pub max_retries: usize,
    /// How long one request may keep being retried.
    pub retry_timeout: std::time::Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            allow_http: false,
            virtual_hosted_style: false,
            instance_metadata: false,
            cache_bytes: 20 << 30,
            max_retries: 10,
            retry_timeout: std::time::Duration::from_secs(180),
        }
    }
}

/// Whether the store took a write lately (see [`ArtifactStore::probe`]).
#[derive(Debug, Clone)]
pub struct StoreHealth {
    /// `None`: writable at `checked_at`; otherwise why not.
    pub error: Option<String>,
    pub checked_at: std::time::SystemTime,
}

/// The artifact store plus the local scratch space that feeds it.
pub struct ArtifactStore {
    store: Arc<dyn ObjectStore>,
    /// Set when the store is a local directory: objects are read in place (mmap), no copy.
    local_root: Option<PathBuf>,
    spool_dir: PathBuf,
    cache_dir: PathBuf,
    cache_bytes: u64,
    /// Serialises cache eviction (downloads themselves run concurrently).
    evicting: tokio::sync::Mutex<()>,
    health: std::sync::Mutex<Option<StoreHealth>>,
    description: String,
}

const PREFIX_LEN: usize = 64;
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Body chunks queued between an upload and its spool writer.
const SPOOL_QUEUE: usize = 64;
/// Bytes per chunk when serving a mapped object.
const SERVE_CHUNK: usize = 4 << 20;

/// Whether a published object must survive a crash once `publish` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    Eventual,
}

/// A stored object opened for reading (see [`ArtifactStore::open_object`]).
pub struct StoredObject {
    pub size: u64,
    source: Source,
}

enum Source {
    Mapped(local::MappedObject),
    Remote {
        store: Arc<dyn ObjectStore>,
        location: ObjectPath,
    },
}

impl StoredObject {
    /// The bytes in `range` (clamped to the object).
    pub fn stream(
        self,
        range: std::ops::Range<u64>,
    ) -> BoxStream<'static, Result<Bytes, ArtifactError>> {
        let end = range.end.min(self.size);
        let start = range.start.min(end);
        match self.source {
            Source::Mapped(m) => {
                futures::stream::iter(m.chunks(start..end, SERVE_CHUNK).map(Ok)).boxed()
            }
            Source::Remote { .. } if start == end => futures::stream::empty().boxed(),
            Source::Remote { store, location } => futures::stream::once(async move {
                let options = object_store::GetOptions {
                    range: Some(object_store::GetRange::Bounded(start..end)),
                    ..Default::default()
                };
                let result = store.get_opts(&location, options).await?;
                Ok::<_, ArtifactError>(result.into_stream().map_err(ArtifactError::from))
            })
            .try_flatten()
            .boxed(),
        }
    }
}

impl ArtifactStore {
    /// Open the store an URL or path names; `scratch` holds spooled uploads and the cache.
    pub fn open(location: &str, scratch: &Path) -> Result<Self, ArtifactError> {
        Self::open_with(location, scratch, &RemoteOptions::default())
    }

    /// [`ArtifactStore::open`] with explicit settings for a remote store.
    pub fn open_with(
        location: &str,
        scratch: &Path,
        remote: &RemoteOptions,
    ) -> Result<Self, ArtifactError> {
        let spool_dir = scratch.join("spool");
        let cache_dir = scratch.join("cache");
        std::fs::create_dir_all(&spool_dir)?;
        std::fs::create_dir_all(&cache_dir)?;
        let with = |store: Arc<dyn ObjectStore>, local_root, description| Self {
            store,
            local_root,
            spool_dir: spool_dir.clone(),
            cache_dir: cache_dir.clone(),
            cache_bytes: remote.cache_bytes,
            evicting: tokio::sync::Mutex::new(()),
            health: std::sync::Mutex::new(None),
            description,
        };
        if location.starts_with("s3://") {
            let store = s3_store(location, remote)?;
            return Ok(with(store, None, location.to_string()));
        }
        let dir = match location.strip_prefix("file://") {
            Some(rest) => PathBuf::from(rest),
            None if location.contains("://") => {
                return Err(ArtifactError::Config(format!(
                    "unsupported artifact store '{location}' (use a directory, file:// or s3://)"
                )))
            }
            None => PathBuf::from(location),
        };
        std::fs::create_dir_all(&dir)?;
        let dir = std::fs::canonicalize(&dir)?;
        let store = LocalFileSystem::new_with_prefix(&dir)?;
        let description = dir.display().to_string();
        Ok(with(Arc::new(store), Some(dir), description))
    }

    /// Write, read back and delete a small object (and a spool file): whether uploads and job
    /// outputs can be stored right now. The outcome is kept for [`ArtifactStore::health`].
    pub async fn probe(&self) -> StoreHealth {
        let outcome = self.try_probe().await;
        let health = StoreHealth {
            error: outcome.err().map(|e| e.to_string()),
            checked_at: std::time::SystemTime::now(),
        };
        *self.health.lock().unwrap_or_else(|e| e.into_inner()) = Some(health.clone());
        health
    }

    async fn try_probe(&self) -> Result<(), ArtifactError> {
        let spool = self.scratch_path(".probe");
        let written = tokio::fs::write(&spool, b"whittle").await;
        let _ = tokio::fs::remove_file(&spool).await;
        written.map_err(|e| {
            ArtifactError::Io(std::io::Error::new(
                e.kind(),
                format!("scratch directory {}: {e}", self.spool_dir.display()),
            ))
        })?;
        let key = ObjectPath::from(format!("_whittle/probe/{}", Uuid::now_v7()));
        let body = Bytes::from_static(b"whittle readiness probe");
        self.store.put(&key, body.clone().into()).await?;
        let read = self.store.get(&key).await?.bytes().await;
        let _ = self.store.delete(&key).await;
        if read? != body {
            return Err(ArtifactError::Config(
                "the store returned other bytes than were written".into(),
            ));
        }
        Ok(())
    }

    /// The last [`ArtifactStore::probe`] outcome (`None` before the first).
    pub fn health(&self) -> Option<StoreHealth> {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Where blobs go, for logs.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// A fresh path in the spool directory for a job to write an output into.
    pub fn scratch_path(&self, suffix: &str) -> PathBuf {
        self.spool_dir.join(format!("{}{suffix}", Uuid::now_v7()))
    }

    /// Wrap a file a job wrote in the scratch directory: its digest from `written` when the
    /// writer hashed it on the way out (no re-read), else hashed now.
    pub async fn adopt(
        &self,
        path: PathBuf,
        written: &[WrittenFile],
    ) -> Result<SpooledFile, ArtifactError> {
        if let Some(w) = written.iter().find(|w| w.path == path) {
            return Ok(SpooledFile {
                path,
                sha256: w.sha256.clone(),
                bytes: w.bytes,
                prefix: Vec::new(),
            });
        }
        let mut file = tokio::fs::File::open(&path).await?;
        let mut hasher = Sha256::new();
        let mut prefix = Vec::new();
        let mut bytes = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            if prefix.len() < PREFIX_LEN {
                let take = (PREFIX_LEN - prefix.len()).min(n);
                prefix.extend_from_slice(&chunk[..take]);
            }
            hasher.update(chunk);
            bytes += n as u64;
        }
        Ok(SpooledFile {
            path,
            sha256: hex::encode(hasher.finalize()),
            bytes,
            prefix,
        })
    }

    /// Stream a request body into a spool file while hashing it, durable (fdatasync) before
    /// it returns; fails past `limit` bytes (after reading a bounded rest of the body, see
    /// [`drain`]). The file is written and hashed on a blocking thread while the body is
    /// read, with write-back started as the bytes arrive.
    pub async fn spool<S, E>(&self, body: S, limit: u64) -> Result<SpooledFile, ArtifactError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let path = self.scratch_path(".upload");
        let mut spooled = SpooledFile {
            path: path.clone(),
            sha256: String::new(),
            bytes: 0,
            prefix: Vec::new(),
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(SPOOL_QUEUE);
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<WrittenFile> {
            let mut file = HashingFile::create(&path, true)?;
            while let Some(chunk) = rx.blocking_recv() {
                file.write_all(&chunk)?;
            }
            file.finish()
        });
        let mut body = std::pin::pin!(body);
        let mut refused = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    refused = Some(ArtifactError::Body(e.to_string()));
                    break;
                }
            };
            spooled.bytes += chunk.len() as u64;
            if spooled.bytes > limit {
                drain(body.as_mut()).await;
                refused = Some(ArtifactError::TooLarge { limit });
                break;
            }
            if spooled.prefix.len() < PREFIX_LEN {
                let take = (PREFIX_LEN - spooled.prefix.len()).min(chunk.len());
                spooled.prefix.extend_from_slice(&chunk[..take]);
            }
            if tx.send(chunk).await.is_err() {
                break; // the writer failed: its error is reported below
            }
        }
        drop(tx);
        let written = writer
            .await
            .map_err(|e| ArtifactError::Io(std::io::Error::other(e.to_string())))?;
        if let Some(e) = refused {
            return Err(e);
        }
        let written = written?;
        debug_assert_eq!(written.bytes, spooled.bytes);
        spooled.sha256 = written.sha256;
        Ok(spooled)
    }

    /// Publish a local file under `key` (atomic: the object appears complete or not at all).
    /// On a local store the file is hard-linked into place (copied only across filesystems);
    /// a remote store gets a multipart upload with several parts in flight. `Durable`: on a
    /// local store the new name is synced too (the file itself must be synced already, as
    /// [`ArtifactStore::spool`] does); `Eventual` leaves both to the kernel's write-back (job
    /// outputs, which a rerun of the job reproduces).
    pub async fn publish(
        &self,
        file: &Path,
        key: &str,
        durability: Durability,
    ) -> Result<u64, ArtifactError> {
        if let Some(root) = &self.local_root {
            let (src, target) = (file.to_path_buf(), local::object_path(root, key));
            let durable = durability == Durability::Durable;
            return tokio::task::spawn_blocking(move || local::publish(&src, &target, durable))
                .await
                .map_err(|e| ArtifactError::Io(std::io::Error::other(e.to_string())))?
                .map_err(ArtifactError::Io);
        }
        let location = ObjectPath::from(key);
        let upload = self.store.put_multipart(&location).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut f = tokio::fs::File::open(file).await?;
        let mut total = 0u64;
        loop {
            let mut buf = vec![0u8; PART_SIZE];
            let mut filled = 0;
            while filled < PART_SIZE {
                let n = f.read(&mut buf[filled..]).await?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            writer.wait_for_capacity(4).await?;
            writer.put(Bytes::from(buf).slice(..filled));
            total += filled as u64;
        }
        writer.finish().await?;
        Ok(total)
    }

    /// Opens a stored object for reading whole or by byte ranges: mapped in place on a local
    /// store, ranged GETs on a remote one.
    pub async fn open_object(&self, key: &str) -> Result<StoredObject, ArtifactError> {
        if let Some(root) = &self.local_root {
            let path = local::object_path(root, key);
            let opened = tokio::task::spawn_blocking(move || local::MappedObject::open(&path))
                .await
                .map_err(|e| ArtifactError::Io(std::io::Error::other(e.to_string())))?;
            return match opened {
                Ok(m) => Ok(StoredObject {
                    size: m.size,
                    source: Source::Mapped(m),
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(ArtifactError::NotFound(key.to_string()))
                }
                Err(e) => Err(e.into()),
            };
        }
        let location = ObjectPath::from(key);
        let meta = self
            .store
            .head(&location)
            .await
            .map_err(|e| not_found(e, key))?;
        Ok(StoredObject {
            size: meta.size,
            source: Source::Remote {
                store: self.store.clone(),
                location,
            },
        })
    }

    /// A local path holding the object, for memory-mapping: the object itself on a local
    /// store, a cached download otherwise.
    pub async fn local_path(&self, key: &str) -> Result<PathBuf, ArtifactError> {
        if let Some(root) = &self.local_root {
            let p = root.join(key);
            return if tokio::fs::try_exists(&p).await? {
                Ok(p)
            } else {
                Err(ArtifactError::NotFound(key.into()))
            };
        }
        let cached = self.cache_dir.join(key.replace('/', "__"));
        if tokio::fs::try_exists(&cached).await? {
            touch(&cached);
            return Ok(cached);
        }
        let tmp = self.scratch_path(".download");
        self.download(key, &tmp).await?;
        tokio::fs::rename(&tmp, &cached).await?;
        self.evict(&cached).await;
        Ok(cached)
    }

    /// Copy an object into a local file (large sequential writes).
    async fn download(&self, key: &str, target: &Path) -> Result<u64, ArtifactError> {
        let result = self
            .store
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| not_found(e, key))?;
        let mut stream = result.into_stream();
        let file = tokio::fs::File::create(target).await?;
        let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
        let mut total = 0u64;
        while let Some(chunk) = stream.try_next().await? {
            total += chunk.len() as u64;
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        Ok(total)
    }

    /// Bound the cache of remote objects: while it holds more than `cache_bytes`, remove the
    /// least recently used entry (a cached object, or a cached folder as a whole), never
    /// `keep` (what the caller is about to use). A job that already opened an evicted file
    /// keeps reading it (the mapping outlives the name); the next use downloads it again.
    async fn evict(&self, keep: &Path) {
        let _guard = self.evicting.lock().await;
        let (dir, bound, keep) = (self.cache_dir.clone(), self.cache_bytes, keep.to_path_buf());
        let evicted = tokio::task::spawn_blocking(move || local::evict_lru(&dir, bound, &keep))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        match evicted {
            Ok(n) if n > 0 => tracing::debug!(entries = n, "evicted from the artifact cache"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "artifact cache eviction failed"),
        }
    }

    /// A local directory holding a stored folder's `files` (relative paths under `prefix`),
    /// for memory-mapping its shards: the folder itself on a local store, a cached download
    /// of every file otherwise.
    pub async fn local_dir(
        &self,
        prefix: &str,
        files: &[String],
    ) -> Result<PathBuf, ArtifactError> {
        if let Some(root) = &self.local_root {
            let dir = root.join(prefix.trim_end_matches('/'));
            return if tokio::fs::try_exists(&dir).await? {
                Ok(dir)
            } else {
                Err(ArtifactError::NotFound(prefix.into()))
            };
        }
        let dir = self
            .cache_dir
            .join(prefix.trim_end_matches('/').replace('/', "__"));
        let mut fetched = false;
        for path in files {
            let target = dir.join(path);
            if tokio::fs::try_exists(&target).await? {
                continue;
            }
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            let key = format!("{prefix}{path}");
            let tmp = self.scratch_path(".download");
            self.download(&key, &tmp).await?;
            tokio::fs::rename(&tmp, &target).await?;
            fetched = true;
        }
        touch(&dir);
        if fetched {
            self.evict(&dir).await;
        }
        Ok(dir)
    }

    /// Delete a stored folder's files and its cached copy.
    pub async fn delete_folder(&self, prefix: &str, files: &[String]) -> Result<(), ArtifactError> {
        for path in files {
            self.delete(&format!("{prefix}{path}")).await?;
        }
        let local = prefix.trim_end_matches('/');
        if let Some(root) = &self.local_root {
            let _ = tokio::fs::remove_dir_all(root.join(local)).await;
        }
        let _ = tokio::fs::remove_dir_all(self.cache_dir.join(local.replace('/', "__"))).await;
        Ok(())
    }

    /// Stream an object: its size and its bytes.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes, ArtifactError>>), ArtifactError> {
        let object = self.open_object(key).await?;
        let size = object.size;
        Ok((size, object.stream(0..size)))
    }

    /// Delete an object (missing is fine) and any cached copy.
    pub async fn delete(&self, key: &str) -> Result<(), ArtifactError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let _ = tokio::fs::remove_file(self.cache_dir.join(key.replace('/', "__"))).await;
        Ok(())
    }
}

/// Marks a cache entry as used now (its modification time orders eviction).
fn touch(path: &Path) {
    let now = std::time::SystemTime::now();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.set_modified(now);
    }
}

/// An S3 client for `s3://bucket/prefix`: `remote` first, then the `AWS_*` environment.
/// Refuses to start without a credential source unless the instance-metadata fallback is
/// turned on or requests are unsigned (`AWS_SKIP_SIGNATURE=true`, public buckets).
fn s3_store(location: &str, remote: &RemoteOptions) -> Result<Arc<dyn ObjectStore>, ArtifactError> {
    let url = url::Url::parse(location).map_err(|e| ArtifactError::Config(e.to_string()))?;
    let bucket = url
        .host_str()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ArtifactError::Config(format!("'{location}' names no bucket")))?
        .to_string();
    let mut b = AmazonS3Builder::from_env().with_bucket_name(&bucket);
    let mut set = |key: AmazonS3ConfigKey, value: &Option<String>| {
        if let Some(v) = value {
            b = std::mem::take(&mut b).with_config(key, v);
        }
    };
    set(AmazonS3ConfigKey::Endpoint, &remote.endpoint);
    set(AmazonS3ConfigKey::Region, &remote.region);
    set(AmazonS3ConfigKey::AccessKeyId, &remote.access_key_id);
    set(
        AmazonS3ConfigKey::SecretAccessKey,
        &remote.secret_access_key,
    );
    set(AmazonS3ConfigKey::Token, &remote.session_token);
    if remote.allow_http {
        b = b.with_allow_http(true);
    }
    if remote.virtual_hosted_style {
        b = b.with_virtual_hosted_style_request(true);
    }
    b = b.with_retry(object_store::RetryConfig {
        max_retries: remote.max_retries,
        retry_timeout: remote.retry_timeout,
        ..Default::default()
    });
    let configured = |key: AmazonS3ConfigKey| b.get_config_value(&key).is_some();
    let unsigned = b
        .get_config_value(&AmazonS3ConfigKey::SkipSignature)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let web_identity = std::env::var_os("AWS_WEB_IDENTITY_TOKEN_FILE").is_some()
        && std::env::var_os("AWS_ROLE_ARN").is_some();
    let has_credentials = configured(AmazonS3ConfigKey::AccessKeyId)
        || configured(AmazonS3ConfigKey::SecretAccessKey)
        || configured(AmazonS3ConfigKey::ContainerCredentialsRelativeUri)
        || configured(AmazonS3ConfigKey::ContainerCredentialsFullUri)
        || web_identity;
    if !(has_credentials || unsigned || remote.instance_metadata) {
        return Err(ArtifactError::Config(
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or \
             WHITTLE_S3_ACCESS_KEY_ID / WHITTLE_S3_SECRET_ACCESS_KEY), use web identity or \
             container credentials, or allow the instance-metadata endpoint with \
             WHITTLE_S3_INSTANCE_METADATA=true"
                .into(),
        ));
    }
    let store = b
        .build()
        .map_err(|e| ArtifactError::Config(e.to_string()))?;
    let prefix = ObjectPath::from(url.path().trim_matches('/'));
    Ok(if prefix.as_ref().is_empty() {
        Arc::new(store)
    } else {
        Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
    })
}

fn not_found(e: object_store::Error, key: &str) -> ArtifactError {
    match e {
        object_store::Error::NotFound { .. } => ArtifactError::NotFound(key.to_string()),
        other => ArtifactError::Store(other),
    }
}
/// Reads and discards what is left of a refused request body, up to [`DRAIN_BYTES`] and
/// [`DRAIN_TIME`], so a client still sending it gets to read the refusal instead of a broken
/// pipe; a larger or slower rest is left unread (the connection then closes).
async fn drain<S, E>(mut body: std::pin::Pin<&mut S>)
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let mut left = DRAIN_BYTES;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(chunk)) = body.next().await {
            left = left.saturating_sub(chunk.len() as u64);
            if left == 0 {
                break;
            }
        }
    })
    .await;
}

/// How much of a refused body [`drain`] reads at most.
const DRAIN_BYTES: u64 = 8 << 20;
/// How long [`drain`] waits at most.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Object key of a model's file.
pub fn model_key(tenant_id: Uuid, model_id: Uuid) -> String {
    format!("models/{tenant_id}/{model_id}.safetensors")
}

/// Key prefix of a model stored as a folder: its files are `<prefix><relative path>`.
pub fn model_folder_key(tenant_id: Uuid, model_id: Uuid) -> String {
    format!("models/{tenant_id}/{model_id}/")
}

/// Object key of a job's training checkpoint (one per job, replaced on every write).
pub fn checkpoint_key(job_id: Uuid) -> String {
    format!("checkpoints/{job_id}.safetensors")
}

/// Object key of a dataset's file.
pub fn dataset_key(tenant_id: Uuid, dataset_id: Uuid, format: &str) -> String {
    format!("datasets/{tenant_id}/{dataset_id}.{format}")
}

//! Blob storage for models and datasets over `object_store`: a local directory by default,
//! any S3-compatible bucket for clusters. Uploads are spooled to a local file while hashed
//! (never held in memory), validated, then published; publishing is atomic (readers never see
//! a partial object). Jobs read artifacts through a local path so they can memory-map them.
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
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

/// The artifact store plus the local scratch space that feeds it.
pub struct ArtifactStore {
    store: Arc<dyn ObjectStore>,
    /// Set when the store is a local directory: objects are read in place (mmap), no copy.
    local_root: Option<PathBuf>,
    spool_dir: PathBuf,
    cache_dir: PathBuf,
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
        let spool_dir = scratch.join("spool");
        let cache_dir = scratch.join("cache");
        std::fs::create_dir_all(&spool_dir)?;
        std::fs::create_dir_all(&cache_dir)?;
        if location.starts_with("s3://") {
            let url =
                url::Url::parse(location).map_err(|e| ArtifactError::Config(e.to_string()))?;
            let (store, prefix) = object_store::parse_url_opts(&url, std::env::vars())
                .map_err(|e| ArtifactError::Config(e.to_string()))?;
            let store: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
                Arc::from(store)
            } else {
                Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
            };
            return Ok(Self {
                store,
                local_root: None,
                spool_dir,
                cache_dir,
                description: location.to_string(),
            });
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
        Ok(Self {
            store: Arc::new(store),
            local_root: Some(dir.clone()),
            spool_dir,
            cache_dir,
            description: dir.display().to_string(),
        })
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
            return Ok(cached);
        }
        let tmp = self.scratch_path(".download");
        let result = self
            .store
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| not_found(e, key))?;
        let mut stream = result.into_stream();
        let mut out = tokio::io::BufWriter::new(tokio::fs::File::create(&tmp).await?);
        while let Some(chunk) = stream.try_next().await? {
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        tokio::fs::rename(&tmp, &cached).await?;
        Ok(cached)
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
            let result = self
                .store
                .get(&ObjectPath::from(key.as_str()))
                .await
                .map_err(|e| not_found(e, &key))?;
            let mut stream = result.into_stream();
            let mut out = tokio::io::BufWriter::new(tokio::fs::File::create(&tmp).await?);
            while let Some(chunk) = stream.try_next().await? {
                out.write_all(&chunk).await?;
            }
            out.flush().await?;
            tokio::fs::rename(&tmp, &target).await?;
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

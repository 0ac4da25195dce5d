//! What an executor sees of its job: the row, the store and artifacts, the compute pool,
//! progress reporting and the stop signal (cancel, shutdown, lost lease).
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

use super::{ComputePool, JobError};
use crate::artifacts::ArtifactStore;
use crate::domain::specs::DEFAULT_MAX_SHARD_BYTES;
use crate::formats::safetensors::OutputTarget;
use crate::store::{DatasetRow, DynStore, JobRow, MetricPoint, ModelRow};

/// Why a running job was told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The user asked for a cancel: the job ends `canceled`.
    CancelRequested,
    /// The process is shutting down: the job is handed back to the queue.
    Shutdown,
    /// Another worker may own the job now: whatever this attempt produces is discarded.
    LeaseLost,
}

/// Shared between a running job, its heartbeat task and the runner. Kernels poll
/// [`JobControl::should_stop`] between steps (tensors, batches, trials).
#[derive(Debug, Default)]
pub struct JobControl {
    stop: AtomicBool,
    reason: Mutex<Option<StopReason>>,
    progress: Mutex<Option<(f64, Option<String>)>>,
    checkpointed: AtomicBool,
}

impl JobControl {
    /// Ask the job to stop; the first reason wins.
    pub fn stop(&self, reason: StopReason) {
        if let Ok(mut r) = self.reason.lock() {
            r.get_or_insert(reason);
        }
        self.stop.store(true, Ordering::Release);
    }

    /// True once a stop was requested.
    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Why the job was stopped, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason.lock().ok().and_then(|r| *r)
    }

    /// Record progress (0..=1, clamped) and a short message; the next heartbeat stores it.
    pub fn set_progress(&self, fraction: f64, message: impl Into<Option<String>>) {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if let Ok(mut p) = self.progress.lock() {
            *p = Some((fraction, message.into()));
        }
    }

    /// Note that this attempt found or stored a training checkpoint (the runner deletes it
    /// once the job ends).
    pub fn mark_checkpointed(&self) {
        self.checkpointed.store(true, Ordering::Release);
    }

    /// Whether this attempt found or stored a training checkpoint.
    pub fn checkpointed(&self) -> bool {
        self.checkpointed.load(Ordering::Acquire)
    }

    /// Take the progress recorded since the last call.
    pub fn take_progress(&self) -> Option<(f64, Option<String>)> {
        self.progress.lock().ok().and_then(|mut p| p.take())
    }
}

/// Everything one attempt of one job needs.
pub struct JobContext {
    pub job: JobRow,
    pub store: DynStore,
    pub artifacts: Arc<ArtifactStore>,
    pub compute: ComputePool,
    pub control: Arc<JobControl>,
    /// Runs this job's queued children in its own slot (`None` outside a worker).
    pub children: Option<super::runner::ChildRunner>,
    /// How often training runs write a checkpoint (`None`: only at a shutdown hand-back).
    pub checkpoint_interval: Option<std::time::Duration>,
}

impl JobContext {
    /// `Err(Canceled)` once the job was asked to stop.
    pub fn check_stop(&self) -> Result<(), JobError> {
        if self.control.should_stop() {
            Err(JobError::Canceled)
        } else {
            Ok(())
        }
    }

    /// Record progress for the next heartbeat.
    pub fn progress(&self, fraction: f64, message: impl Into<String>) {
        self.control.set_progress(fraction, Some(message.into()));
    }

    /// A model of the job's tenant and a local path to its file (a directory for a folder).
    pub async fn model(&self, id: Uuid) -> Result<(ModelRow, PathBuf), JobError> {
        let row = self
            .store
            .get_model(self.job.tenant_id, id)
            .await?
            .ok_or_else(|| JobError::Invalid(format!("model {id} no longer exists")))?;
        let path = match &row.files {
            // A folder: a local directory of its files (shards are mapped from there).
            Some(files) => {
                let files: Vec<String> =
                    crate::formats::safetensors::folder::files_from_json(files)?
                        .into_iter()
                        .map(|f| f.path)
                        .collect();
                self.artifacts.local_dir(&row.artifact_key, &files).await?
            }
            None => self.artifacts.local_path(&row.artifact_key).await?,
        };
        Ok((row, path))
    }

    /// Where a model derived from the model at `input` is written: a scratch folder (shards
    /// of at most `max_shard_bytes`, default [`DEFAULT_MAX_SHARD_BYTES`]) when the input is
    /// a folder, a scratch file otherwise.
    pub fn output_target(&self, input: &Path, max_shard_bytes: Option<u64>) -> OutputTarget {
        if input.is_dir() {
            OutputTarget::Folder {
                dir: self.scratch_path(".folder"),
                max_shard_bytes: max_shard_bytes.unwrap_or(DEFAULT_MAX_SHARD_BYTES),
            }
        } else {
            OutputTarget::File(self.scratch_path(".safetensors"))
        }
    }

    /// A dataset of the job's tenant and a local path to its file.
    pub async fn dataset(&self, id: Uuid) -> Result<(DatasetRow, PathBuf), JobError> {
        let row = self
            .store
            .get_dataset(self.job.tenant_id, id)
            .await?
            .ok_or_else(|| JobError::Invalid(format!("dataset {id} no longer exists")))?;
        let path = self.artifacts.local_path(&row.artifact_key).await?;
        Ok((row, path))
    }

    /// The dataset `id` names, when it names one.
    pub async fn optional_dataset(
        &self,
        id: Option<Uuid>,
    ) -> Result<Option<(DatasetRow, PathBuf)>, JobError> {
        match id {
            Some(id) => Ok(Some(self.dataset(id).await?)),
            None => Ok(None),
        }
    }

    /// The model `id` names, when it names one.
    pub async fn optional_model(
        &self,
        id: Option<Uuid>,
    ) -> Result<Option<(ModelRow, PathBuf)>, JobError> {
        match id {
            Some(id) => Ok(Some(self.model(id).await?)),
            None => Ok(None),
        }
    }

    /// Store points of named series (loss per epoch…) for `/v1/jobs/{id}/metrics`.
    pub async fn record_metrics(&self, points: &[MetricPoint]) -> Result<(), JobError> {
        if points.is_empty() {
            return Ok(());
        }
        self.store.record_job_metrics(self.job.id, points).await?;
        Ok(())
    }

    /// A fresh path in the scratch directory for an output file.
    pub fn scratch_path(&self, suffix: &str) -> PathBuf {
        self.artifacts.scratch_path(suffix)
    }
}

//! Job orchestration: the claim loop, leases and heartbeats, the rescuer, the bridge that runs
//! kernels on a rayon pool, one executor per job kind and the kind registry (`exec/`,
//! `kinds`), and what executors share: loading inputs (`inputs`), per-epoch series (`epochs`),
//! checkpoints of training runs (`checkpoint`), fitting an MLP to a train spec (`fit`) and
//! measuring a model on a dataset (`measure`). No HTTP types here.
pub mod admission;
pub mod calibration;
pub mod checkpoint;
pub mod compute;
pub mod context;
pub mod epochs;
pub mod events;
pub mod exec;
pub mod fit;
pub mod inputs;
mod kinds;
pub mod measure;
pub mod runner;
pub mod status;
pub mod text_quality;
pub mod webhooks;

pub use compute::ComputePool;
pub use context::{JobContext, JobControl, StopReason};
pub use exec::{Executor, Executors, JobKind, JobOutput, KindExecutor, OutputFile, OutputModel};
pub use runner::Runner;

use crate::artifacts::ArtifactError;
use crate::formats::FormatError;
use crate::kernels::KernelError;
use crate::store::StoreError;

/// Why an attempt did not succeed. Decides whether the job is retried.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The job's input cannot work (wrong model, bad data): retrying would fail the same way.
    #[error("{0}")]
    Invalid(String),
    /// The job stopped because it was asked to (cancel, shutdown, lost lease).
    #[error("canceled")]
    Canceled,
    /// Something outside the job failed (database, storage): worth retrying.
    #[error("{0}")]
    Transient(String),
    /// The executor panicked; treated as a failed attempt.
    #[error("job panicked: {0}")]
    Panicked(String),
}

impl JobError {
    /// Whether another attempt could succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, JobError::Transient(_) | JobError::Panicked(_))
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Transient(e.to_string())
    }
}

impl From<ArtifactError> for JobError {
    fn from(e: ArtifactError) -> Self {
        match e {
            ArtifactError::NotFound(k) => JobError::Invalid(format!("artifact {k} is missing")),
            other => JobError::Transient(other.to_string()),
        }
    }
}

impl From<FormatError> for JobError {
    fn from(e: FormatError) -> Self {
        JobError::Invalid(e.to_string())
    }
}

impl From<KernelError> for JobError {
    fn from(e: KernelError) -> Self {
        match e {
            KernelError::Canceled => JobError::Canceled,
            other => JobError::Invalid(other.to_string()),
        }
    }
}

impl From<std::io::Error> for JobError {
    fn from(e: std::io::Error) -> Self {
        JobError::Transient(format!("i/o: {e}"))
    }
}

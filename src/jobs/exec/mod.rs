//! One executor per job kind, and the registry the runner dispatches on.
pub mod analyze;
pub mod data;
pub mod evaluate;
pub mod prune;
pub mod quantize;
pub mod train;
pub mod tune;

use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::{JobContext, JobError};
use crate::domain::JobKind;

/// What a successful attempt produced.
#[derive(Debug)]
pub struct JobOutput {
    /// The job's `result` JSON.
    pub result: Value,
    /// A model file written to the scratch directory, registered as the job's output model.
    pub output_model: Option<OutputModel>,
}

impl JobOutput {
    /// A result without an output model.
    pub fn result(result: Value) -> Self {
        Self {
            result,
            output_model: None,
        }
    }
}

/// A model file an executor wrote; the runner publishes it and inserts its row in the same
/// transaction that completes the job.
#[derive(Debug)]
pub struct OutputModel {
    pub path: PathBuf,
    pub name: String,
    pub format: String,
    pub n_params: i64,
    pub inventory: Value,
    pub architecture: Option<Value>,
}

impl JobOutput {
    /// A result with a model file (written by the executor) as the job's output model; the
    /// inventory is read back from the file itself.
    pub fn with_model(
        result: Value,
        path: PathBuf,
        name: String,
        format: &str,
        n_params: i64,
        architecture: Option<Value>,
    ) -> Result<Self, JobError> {
        let inventory = crate::formats::safetensors::MappedModel::open(&path)?
            .inventory()
            .clone();
        let inventory =
            serde_json::to_value(inventory).map_err(|e| JobError::Transient(e.to_string()))?;
        Ok(Self {
            result,
            output_model: Some(OutputModel {
                path,
                name,
                format: format.to_string(),
                n_params,
                inventory,
                architecture,
            }),
        })
    }
}

/// Runs one kind of job.
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError>;
}

/// Executors by kind name.
#[derive(Clone, Default)]
pub struct Executors {
    by_kind: HashMap<String, Arc<dyn Executor>>,
}

impl Executors {
    /// Every product job kind.
    pub fn standard() -> Self {
        let mut e = Self::default();
        e.register(JobKind::Analyze.as_str(), analyze::AnalyzeExecutor);
        e.register(JobKind::Train.as_str(), train::TrainExecutor);
        e.register(JobKind::Evaluate.as_str(), evaluate::EvaluateExecutor);
        e.register(JobKind::Quantize.as_str(), quantize::QuantizeExecutor);
        e.register(JobKind::Prune.as_str(), prune::PruneExecutor);
        e.register(JobKind::Tune.as_str(), tune::TuneExecutor);
        e.register(tune::TRIAL_KIND, tune::TrialExecutor);
        e
    }

    /// Add or replace the executor of `kind` (tests register failing or hanging kinds).
    pub fn register(&mut self, kind: &str, executor: impl Executor) {
        self.by_kind.insert(kind.to_string(), Arc::new(executor));
    }

    /// The executor of `kind`.
    pub fn get(&self, kind: &str) -> Option<Arc<dyn Executor>> {
        self.by_kind.get(kind).cloned()
    }

    /// Kind names this worker can run (what it claims).
    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.by_kind.keys().cloned().collect();
        k.sort();
        k
    }
}

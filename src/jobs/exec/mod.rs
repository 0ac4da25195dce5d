//! One executor per job kind, and the registry the runner dispatches on.
//!
//! An executor is a recipe: it declares its spec type ([`KindExecutor::Spec`]), which the
//! registry parses once, then loads its inputs, calls kernels, writes its outputs and reports.
//! Everything two executors share lives outside this folder (`jobs::inputs`, `jobs::epochs`,
//! `jobs::fit`, `jobs::measure`), never in a sibling executor.
//!
//! Adding a kind: a file here with a `KindExecutor` impl, and its arm in [`executor_for`] —
//! the match is exhaustive, so a `JobKind` without an executor does not compile.
pub mod analyze;
pub mod evaluate;
pub mod prune;
pub mod quantize;
pub mod train;
pub mod tune;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::{JobContext, JobError};
use crate::domain::specs::{parse_typed, Validate};
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

    /// A typed result without an output model.
    pub fn of<R: Serialize>(result: &R) -> Result<Self, JobError> {
        Ok(Self::result(to_result(result)?))
    }

    /// A result with a model file (written by the executor) as the job's output model; the
    /// inventory is read back from the file itself.
    pub fn with_model<R: Serialize>(result: &R, model: OutputFile) -> Result<Self, JobError> {
        let inventory = crate::formats::safetensors::MappedModel::open(&model.path)?
            .inventory()
            .clone();
        let inventory =
            serde_json::to_value(inventory).map_err(|e| JobError::Transient(e.to_string()))?;
        Ok(Self {
            result: to_result(result)?,
            output_model: Some(OutputModel {
                path: model.path,
                name: model.name,
                format: model.format.to_string(),
                n_params: i64::try_from(model.n_params).unwrap_or(i64::MAX),
                inventory,
                architecture: model.architecture,
            }),
        })
    }
}

/// A result struct as the JSON stored in the job row.
fn to_result<R: Serialize>(result: &R) -> Result<Value, JobError> {
    serde_json::to_value(result).map_err(|e| JobError::Transient(format!("result: {e}")))
}

/// A model file an executor wrote, before the runner publishes it.
#[derive(Debug)]
pub struct OutputFile {
    pub path: PathBuf,
    pub name: String,
    /// `safetensors` or `compressed-tensors`.
    pub format: &'static str,
    pub n_params: u64,
    /// The MLP architecture JSON, when the model is one whittle can run.
    pub architecture: Option<Value>,
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

/// Runs one kind of job from its raw row (the runner's view; tests register their own).
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError>;
}

/// A job kind's executor: its spec type, parsed and validated once by the registry.
#[async_trait]
pub trait KindExecutor: Send + Sync + 'static {
    /// The spec stored in the job row.
    type Spec: DeserializeOwned + Validate + Send + Sync + 'static;

    async fn execute(&self, ctx: &JobContext, spec: Self::Spec) -> Result<JobOutput, JobError>;
}

/// Parses the row's spec as `E::Spec`, then runs `E`.
struct Typed<E>(E);

#[async_trait]
impl<E: KindExecutor> Executor for Typed<E> {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let spec: E::Spec =
            parse_typed(&ctx.job.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        self.0.execute(ctx, spec).await
    }
}

/// The executor of each user-facing kind. Exhaustive: a new `JobKind` needs its arm here.
pub fn executor_for(kind: JobKind) -> Arc<dyn Executor> {
    match kind {
        JobKind::Analyze => Arc::new(Typed(analyze::AnalyzeExecutor)),
        JobKind::Train => Arc::new(Typed(train::TrainExecutor)),
        JobKind::Evaluate => Arc::new(Typed(evaluate::EvaluateExecutor)),
        JobKind::Quantize => Arc::new(Typed(quantize::QuantizeExecutor)),
        JobKind::Prune => Arc::new(Typed(prune::PruneExecutor)),
        JobKind::Tune => Arc::new(Typed(tune::StudyExecutor)),
    }
}

/// Kinds that only whittle itself queues (never submitted over the API), with executors.
fn internal_executors() -> Vec<(&'static str, Arc<dyn Executor>)> {
    vec![(tune::TRIAL_KIND, Arc::new(Typed(tune::TrialExecutor)))]
}

/// Executors by kind name.
#[derive(Clone, Default)]
pub struct Executors {
    by_kind: HashMap<String, Arc<dyn Executor>>,
}

impl Executors {
    /// Every product job kind, and the internal ones they queue.
    pub fn standard() -> Self {
        let mut e = Self::default();
        for kind in JobKind::ALL {
            e.by_kind
                .insert(kind.as_str().to_string(), executor_for(kind));
        }
        for (kind, executor) in internal_executors() {
            e.by_kind.insert(kind.to_string(), executor);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_an_executor_and_trials_are_internal() {
        let e = Executors::standard();
        for kind in JobKind::ALL {
            assert!(e.get(kind.as_str()).is_some(), "{kind} has no executor");
        }
        assert!(e.get(tune::TRIAL_KIND).is_some());
        assert!(
            tune::TRIAL_KIND.parse::<JobKind>().is_err(),
            "trials cannot be submitted"
        );
        assert_eq!(
            e.kinds().len(),
            JobKind::ALL.len() + internal_executors().len()
        );
    }
}

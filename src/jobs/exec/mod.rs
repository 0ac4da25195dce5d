//! One executor per job kind, and the registry the runner and admission dispatch on.
//!
//! An executor is a recipe: it declares its spec type ([`KindExecutor::Spec`]), which the
//! registry parses once, then loads its inputs, calls kernels, writes its outputs and reports.
//! Everything two executors share lives outside this folder (`jobs::inputs`, `jobs::epochs`,
//! `jobs::fit`, `jobs::measure`, `jobs::admission`), never in a sibling executor.
//!
//! Adding a kind is one file and one line: a module here whose executor implements
//! [`KindExecutor`] (its spec type — defined in the same file or in `domain::specs` — and,
//! when the kind has them, submit-time checks that need stored rows in
//! [`KindExecutor::admit`]), and its line in the [`job_kinds!`] list below, which declares the
//! module, the `JobKind` variant with its wire name, and the executor. Everything that
//! dispatches on a kind (runner, admission, the API's kind enum, metrics) is generated from
//! that list, so no other file changes.

job_kinds! {
    /// Per-tensor statistics of a model (shape, dtype, value histograms, outliers).
    Analyze = "analyze" => analyze::AnalyzeExecutor,
    /// Train an MLP on a dataset.
    Train = "train" => train::TrainExecutor,
    /// Measure a model on a labelled dataset.
    Evaluate = "evaluate" => evaluate::EvaluateExecutor,
    /// Quantize a model's weights (rtn, mse, hqq, gptq), optionally under an accuracy budget.
    Quantize = "quantize" => quantize::QuantizeExecutor,
    /// Prune a model's weights (magnitude, threshold, n:m, structured, wanda).
    Prune = "prune" => prune::PruneExecutor,
    /// A hyper-parameter study over a train spec.
    Tune = "tune" => tune::StudyExecutor,
}

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

use super::kinds::job_kinds;
use super::{JobContext, JobError};
use crate::artifacts::WrittenFile;
use crate::domain::specs::{parse_spec, KindSpec};
use crate::domain::ValidationErrors;
use crate::store::{DynStore, StoreError};

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
                written: model.written,
            }),
        })
    }
}

/// A result struct as the JSON stored in the job row.
fn to_result<R: Serialize>(result: &R) -> Result<Value, JobError> {
    crate::domain::json::to_value(result).map_err(|e| JobError::Transient(format!("result: {e}")))
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
    /// Files whose digest the writer computed on the way out (the runner does not re-read
    /// them); others are hashed when published.
    pub written: Vec<WrittenFile>,
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
    pub written: Vec<WrittenFile>,
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
    type Spec: KindSpec + utoipa::ToSchema;
    /// What [`KindExecutor::execute`] reports as the job's `result` (the kind's result schema
    /// in the API's document).
    type Result: utoipa::ToSchema;

    /// Submit-time checks that need stored rows (feature counts, tasks, architectures), run
    /// after the spec parsed and every model and dataset it references was found. Field paths
    /// start at `spec`.
    async fn admit(
        &self,
        _store: &DynStore,
        _tenant_id: Uuid,
        _spec: &Self::Spec,
    ) -> Result<ValidationErrors, StoreError> {
        Ok(ValidationErrors::new())
    }

    async fn execute(&self, ctx: &JobContext, spec: Self::Spec) -> Result<JobOutput, JobError>;
}

/// Parses the row's spec as `E::Spec`, then runs `E`.
struct Typed<E>(E);

#[async_trait]
impl<E: KindExecutor> Executor for Typed<E> {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let spec: E::Spec =
            parse_spec(&ctx.job.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        self.0.execute(ctx, spec).await
    }
}

/// `E` as the runner's executor.
fn typed<E: KindExecutor>(executor: E) -> Arc<dyn Executor> {
    Arc::new(Typed(executor))
}

/// The executor of each user-facing kind.
pub fn executor_for(kind: JobKind) -> Arc<dyn Executor> {
    kind.executor()
}

/// Kinds that only whittle itself queues (never submitted over the API), with executors.
fn internal_executors() -> Vec<(&'static str, Arc<dyn Executor>)> {
    vec![(tune::TRIAL_KIND, typed(tune::TrialExecutor))]
}

/// The OpenAPI schemas of one stored kind: its spec and result, and every schema they
/// reference, for the API's typed job schemas.
pub struct KindSchemas {
    /// The wire name.
    pub kind: &'static str,
    /// Whether `POST /v1/jobs` accepts it (trials are queued by their study).
    pub submittable: bool,
    /// Component name of the spec schema.
    pub spec: String,
    /// Component name of the result schema.
    pub result: String,
    /// `(name, schema)` of the spec, the result and everything they reference.
    pub schemas: Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )>,
}

pub(super) fn schemas_of<E: KindExecutor>(
    _: &E,
    kind: &'static str,
    submittable: bool,
) -> KindSchemas {
    use utoipa::{PartialSchema, ToSchema};
    let mut schemas = vec![
        (E::Spec::name().into_owned(), E::Spec::schema()),
        (E::Result::name().into_owned(), E::Result::schema()),
    ];
    E::Spec::schemas(&mut schemas);
    E::Result::schemas(&mut schemas);
    KindSchemas {
        kind,
        submittable,
        spec: E::Spec::name().into_owned(),
        result: E::Result::name().into_owned(),
        schemas,
    }
}

/// Schemas of every kind a job row can have: the submittable kinds, then the internal ones.
pub fn kind_schemas() -> Vec<KindSchemas> {
    let mut out: Vec<KindSchemas> = JobKind::ALL.iter().map(|k| k.schemas()).collect();
    out.push(schemas_of(&tune::TrialExecutor, tune::TRIAL_KIND, false));
    out
}

/// Every kind a stored job can have (what `GET /v1/jobs?kind=` accepts).
pub fn stored_kinds() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
    out.push(tune::TRIAL_KIND);
    out
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
        for &kind in JobKind::ALL {
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
        for &kind in JobKind::ALL {
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

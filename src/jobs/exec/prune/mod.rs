//! `prune`: zero the least important weights of any safetensors model, streamed one tensor at
//! a time (`stream.rs`: same dtypes out, signs of kept weights untouched), or — for MLPs
//! (`mlp.rs`) — remove whole neurons, use calibration activations (wanda), fine-tune with the
//! pruned weights held at zero, prune gradually between fine-tuning epochs, and measure the
//! model before and after.
mod mlp;
mod stream;

use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use uuid::Uuid;

use super::{JobOutput, KindExecutor, OutputFile};
use crate::formats::safetensors::OutputTarget;
use crate::domain::selection::TensorSelection;
use crate::domain::specs::prune::{PruneMethod, PruneSpec};
use crate::jobs::checkpoint::compute_with_checkpoints;
use crate::jobs::measure::EvaluationSummary;
use crate::domain::ValidationErrors;
use crate::jobs::calibration::CalibrationReport;
use crate::jobs::text_quality::{is_transformer, TextQualityChange};
use crate::jobs::{admission, JobContext, JobError};
use crate::kernels::prune::Scope;
use crate::store::{DatasetRow, DynStore, ModelRow, StoreError};

/// Runs `prune` jobs.
pub struct PruneExecutor;

/// Why unstructured and N:M masks do not make whittle's CPU inference faster.
const DENSE_NOTE: &str = "no CPU speed-up: pruned weights are stored as dense zeros and whittle's \
dense kernels do the same work; the gain is compressibility (and, for 2:4 patterns, hardware \
with sparse tensor cores). Use method structured for a smaller, faster dense model.";

/// Inputs resolved by the async side, handed to the compute pool.
struct Inputs {
    spec: PruneSpec,
    selection: TensorSelection,
    model: (ModelRow, PathBuf),
    eval: Option<(DatasetRow, PathBuf)>,
    finetune: Option<(DatasetRow, PathBuf)>,
    calibration: Option<(DatasetRow, PathBuf)>,
    output: OutputTarget,
    job_id: String,
    /// A transformer folder (quality on text, Wanda through the forward pass).
    transformer: bool,
}

/// The result of a `prune` job.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct PruneResult {
    pub model_id: Uuid,
    pub method: Option<PruneMethod>,
    /// The pruned tensors.
    pub tensors: Vec<TensorPruned>,
    /// Selected tensors left alone (streamed models: dtypes that cannot be pruned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_tensors: Option<Vec<SkippedTensor>>,
    /// Over the pruned tensors.
    pub global: Sparsity,
    pub params_before: u64,
    pub params_after: u64,
    pub nonzero_params_after: u64,
    pub bytes_before: i64,
    pub bytes_after: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_sizes_before: Option<Vec<usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_sizes_after: Option<Vec<usize>>,
    /// Always `dense`: pruned weights are stored as zeros.
    pub storage: &'static str,
    #[serde(flatten)]
    pub rule: RuleFields,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_sizes_before: Option<Vec<usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_sizes_after: Option<Vec<usize>>,
    pub speedup_note: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finetune: Option<FinetuneReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradual_rounds: Option<Vec<GradualRound>>,
    /// The eval dataset's verdict (with `eval_dataset_id`).
    #[serde(flatten)]
    pub quality: Option<PruneQuality>,
    /// The calibration text of a transformer's Wanda.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationReport>,
}

/// An MLP's or a transformer's quality before and after.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum PruneQuality {
    Mlp(QualityFields),
    Text(Box<TextQualityFields>),
}

/// A transformer's quality on a text eval dataset before and after.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TextQualityFields {
    /// `perplexity`, `accuracy` or `embedding_cosine` (see `evaluation.metric`).
    pub metric: &'static str,
    /// `<metric>_before` / `<metric>_after`.
    #[serde(flatten)]
    pub headline: BTreeMap<String, f64>,
    /// What `tolerable_loss` bounds: the relative perplexity increase, the accuracy drop or
    /// `1 − cosine`.
    pub loss: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_tolerable_loss: Option<bool>,
    pub evaluation: TextQualityChange,
}

/// The parameters of the rule that chose the weights.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct RuleFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_sparsity: Option<f64>,
    /// The global magnitude cutoff (streamed global magnitude).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cutoff_magnitude: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
    /// `n:m` of an N:M pattern.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// Zeros of one pruned tensor.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TensorPruned {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
    pub numel: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zeros_before: Option<u64>,
    pub zeros: u64,
    pub sparsity: f64,
}

/// Zeros over several tensors.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Sparsity {
    pub numel: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zeros_before: Option<u64>,
    pub zeros: u64,
    pub sparsity: f64,
}

impl Sparsity {
    fn of(numel: u64, zeros: u64, zeros_before: Option<u64>) -> Self {
        Sparsity {
            numel,
            zeros_before,
            zeros,
            sparsity: if numel == 0 {
                0.0
            } else {
                zeros as f64 / numel as f64
            },
        }
    }
}

/// A selected tensor that was not pruned, and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkippedTensor {
    pub name: String,
    pub dtype: String,
    pub reason: &'static str,
}

/// What fine-tuning after pruning did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FinetuneReport {
    pub epochs_run: usize,
    pub train_loss: Vec<f64>,
    pub final_train_loss: Option<f64>,
    /// The epoch this attempt continued from (a checkpoint of an earlier attempt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from_epoch: Option<usize>,
}

/// One round of a gradual prune.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GradualRound {
    pub round: usize,
    pub sparsity: f64,
    pub epochs: usize,
}

/// The headline metric before and after, and the evaluations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QualityFields {
    pub metric: &'static str,
    /// `accuracy_before`/`accuracy_after` (or `r2_…`).
    #[serde(flatten)]
    pub headline: BTreeMap<String, f64>,
    pub metric_drop: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_tolerable_loss: Option<bool>,
    pub rows_per_s_before: f64,
    pub rows_per_s_after: f64,
    pub eval_before: EvaluationSummary,
    pub eval_after: EvaluationSummary,
}

#[async_trait]
impl KindExecutor for PruneExecutor {
    type Spec = PruneSpec;
    type Result = PruneResult;

    async fn admit(
        &self,
        store: &DynStore,
        tenant_id: Uuid,
        spec: &PruneSpec,
    ) -> Result<ValidationErrors, StoreError> {
        admission::check_prune(store, tenant_id, spec).await
    }

    async fn execute(&self, ctx: &JobContext, spec: PruneSpec) -> Result<JobOutput, JobError> {
        let selection = spec
            .selection()
            .map_err(|e| JobError::Invalid(e.to_string()))?;
        let model = ctx.model(spec.model_id).await?;
        let eval = ctx.optional_dataset(spec.eval_dataset_id).await?;
        let finetune = ctx
            .optional_dataset(spec.finetune.as_ref().map(|f| f.dataset_id))
            .await?;
        let calibration = ctx.optional_dataset(spec.calibration_dataset_id).await?;
        let name = spec
            .output_name
            .clone()
            .unwrap_or_else(|| format!("{}-pruned", model.0.name));
        let output = ctx.output_target(&model.1, spec.max_shard_bytes);
        let transformer = is_transformer(model.0.architecture.as_ref());
        let inputs = Inputs {
            transformer,
            spec,
            selection,
            model,
            eval,
            finetune,
            calibration,
            output: output.clone(),
            job_id: ctx.job.id.to_string(),
        };
        let control = ctx.control.clone();
        let outcome = compute_with_checkpoints(ctx, move |tx, checkpoints| {
            if inputs.spec.needs_mlp() && !inputs.transformer {
                mlp::prune_mlp(inputs, control, tx, checkpoints).map(|(r, a)| (r, a, Vec::new()))
            } else {
                stream::prune_stream(inputs, &control)
            }
        })
        .await;
        let (result, architecture, written) = match outcome {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_file(output.path());
                let _ = std::fs::remove_dir_all(output.path());
                return Err(e);
            }
        };
        JobOutput::with_model(
            &result,
            OutputFile {
                path: output.path().to_path_buf(),
                name,
                format: "safetensors",
                n_params: result.params_after,
                architecture,
                written,
            },
        )
    }
}

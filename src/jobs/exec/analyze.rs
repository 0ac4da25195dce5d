//! `analyze`: statistics of every tensor of a model, streamed one tensor at a time from the
//! memory-mapped file so peak memory follows the largest tensor, not the model.
use async_trait::async_trait;
use serde::Serialize;
use std::path::Path;
use uuid::Uuid;

use super::{JobOutput, KindExecutor};
use crate::domain::selection::TensorSelection;
use crate::domain::specs::AnalyzeSpec;
use crate::formats::safetensors::{is_float, to_f32_into, MappedModel};
use crate::jobs::{JobContext, JobControl, JobError};
use crate::kernels::stats::{tensor_stats, ModelTotals, TensorStats};

/// Runs `analyze` jobs.
pub struct AnalyzeExecutor;

/// The result of an `analyze` job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnalyzeResult {
    pub model_id: Uuid,
    pub n_tensors: usize,
    pub tensors: Vec<TensorAnalysis>,
    /// Totals over the floating-point tensors.
    #[schema(value_type = Object)]
    pub totals: ModelTotals,
    /// Elements of integer tensors (no statistics).
    pub integer_elements: u64,
}

/// One tensor's statistics.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TensorAnalysis {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
    pub n_elements: u64,
    /// `null` for integer tensors.
    #[schema(value_type = Option<Object>)]
    pub stats: Option<TensorStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

const INTEGER_NOTE: &str =
    "integer tensor: statistics are computed for floating-point tensors only";

#[async_trait]
impl KindExecutor for AnalyzeExecutor {
    type Spec = AnalyzeSpec;

    async fn execute(&self, ctx: &JobContext, spec: AnalyzeSpec) -> Result<JobOutput, JobError> {
        let selection = TensorSelection::new(&spec.include, &spec.exclude, false)
            .map_err(|e| JobError::Invalid(e.to_string()))?;
        let (model, path) = ctx.model(spec.model_id).await?;
        let control = ctx.control.clone();
        let bins = spec.histogram_bins;
        let result = ctx
            .compute
            .run(move || analyze(&path, &selection, bins, &control, model.id))
            .await??;
        JobOutput::of(&result)
    }
}

/// Statistics of the selected tensors of the model at `path`, one tensor at a time.
fn analyze(
    path: &Path,
    selection: &TensorSelection,
    bins: usize,
    control: &JobControl,
    model_id: Uuid,
) -> Result<AnalyzeResult, JobError> {
    let mapped = MappedModel::open(path)?;
    let names: Vec<String> = mapped.names().into_iter().map(str::to_string).collect();
    let selected: Vec<&String> = names
        .iter()
        .filter(|n| {
            mapped
                .tensor(n)
                .map(|t| selection.matches(n, t.shape))
                .unwrap_or(false)
        })
        .collect();
    let total = selected.len().max(1);
    let mut totals = ModelTotals::default();
    let mut tensors = Vec::with_capacity(selected.len());
    let mut integer_elements: u64 = 0;
    // One conversion buffer for every non-F32 tensor (fresh allocations page-fault).
    let mut buffer: Vec<f32> = Vec::new();
    for (i, name) in selected.iter().enumerate() {
        if control.should_stop() {
            return Err(JobError::Canceled);
        }
        let t = mapped.tensor(name)?;
        let n: u64 = t.shape.iter().map(|&d| d as u64).product();
        let stats = if is_float(t.dtype) {
            let values: &[f32] = match t.as_f32_slice() {
                Some(v) => v,
                None => {
                    to_f32_into(&t, &mut buffer)?;
                    &buffer
                }
            };
            let stats = tensor_stats(values, bins)?;
            totals.add(&stats);
            Some(stats)
        } else {
            integer_elements += n;
            None
        };
        tensors.push(TensorAnalysis {
            name: name.to_string(),
            dtype: t.dtype.to_string(),
            shape: t.shape.to_vec(),
            n_elements: n,
            note: stats.is_none().then_some(INTEGER_NOTE),
            stats,
        });
        mapped.release(name);
        control.set_progress(
            (i + 1) as f64 / total as f64,
            Some(format!("analyzed {}/{}", i + 1, selected.len())),
        );
    }
    Ok(AnalyzeResult {
        model_id,
        n_tensors: tensors.len(),
        tensors,
        totals,
        integer_elements,
    })
}

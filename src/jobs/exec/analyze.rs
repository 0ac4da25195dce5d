//! `analyze`: statistics of every tensor of a model, streamed one tensor at a time from the
//! memory-mapped file so peak memory follows the largest tensor, not the model.
//!
//! The result is bounded too: every tensor keeps its summary statistics, but histograms are
//! kept only for the largest tensors, up to [`HISTOGRAM_BIN_BUDGET`] bins in all, so a model
//! with a great many tensors cannot make a result of hundreds of megabytes.
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
    /// Float tensors whose histogram was left out to keep the result small (the largest
    /// tensors keep theirs; see `note` on each tensor).
    pub histograms_omitted: usize,
}

/// Most histogram bins one analyze result keeps over all tensors (2^18: 4096 histograms of
/// the default 64 bins, 64 of the largest 4096).
pub const HISTOGRAM_BIN_BUDGET: usize = 1 << 18;

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
const HISTOGRAM_OMITTED_NOTE: &str =
    "histogram omitted: a result keeps histograms for the largest tensors only";

/// Which of the `sizes` (element counts, in order) keep a histogram of `bins` bins: the
/// largest first (ties in order), at most `budget / bins` of them.
fn histogram_keepers(sizes: &[u64], bins: usize, budget: usize) -> Vec<bool> {
    let allowed = budget / bins.max(1);
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut keep = vec![false; sizes.len()];
    for &i in order.iter().take(allowed) {
        keep[i] = true;
    }
    keep
}

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
    // Indices in file order: no copy of the names.
    let selected: Vec<usize> = mapped
        .tensors()
        .enumerate()
        .filter(|(_, t)| selection.matches(t.name, t.shape))
        .map(|(i, _)| i)
        .collect();
    let sizes: Vec<u64> = selected
        .iter()
        .map(|&i| {
            mapped
                .tensor_at(i)
                .filter(|t| is_float(t.dtype))
                .map_or(0, |t| t.n_elements())
        })
        .collect();
    let keep_histogram = histogram_keepers(&sizes, bins, HISTOGRAM_BIN_BUDGET);
    let mut histograms_omitted = 0usize;
    let total = selected.len().max(1);
    let mut totals = ModelTotals::default();
    let mut tensors = Vec::with_capacity(selected.len());
    let mut integer_elements: u64 = 0;
    // One conversion buffer for every non-F32 tensor (fresh allocations page-fault).
    let mut buffer: Vec<f32> = Vec::new();
    for (i, &index) in selected.iter().enumerate() {
        if control.should_stop() {
            return Err(JobError::Canceled);
        }
        let Some(t) = mapped.tensor_at(index) else {
            continue;
        };
        let name = t.name;
        let n: u64 = t.shape.iter().map(|&d| d as u64).product();
        let stats = if is_float(t.dtype) {
            let values: &[f32] = match t.as_f32_slice() {
                Some(v) => v,
                None => {
                    to_f32_into(&t, &mut buffer)?;
                    &buffer
                }
            };
            let mut stats = tensor_stats(values, bins)?;
            totals.add(&stats);
            if !keep_histogram.get(i).copied().unwrap_or(false) && stats.histogram.is_some() {
                stats.histogram = None;
                histograms_omitted += 1;
            }
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
            note: match &stats {
                None => Some(INTEGER_NOTE),
                Some(s) if s.histogram.is_none() && s.finite_count > 0 => {
                    Some(HISTOGRAM_OMITTED_NOTE)
                }
                Some(_) => None,
            },
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
        histograms_omitted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_tensors_keep_their_histograms_within_the_budget() {
        // Budget for two 64-bin histograms: the two largest (ties in file order) keep theirs.
        let keep = histogram_keepers(&[10, 500, 0, 500, 499], 64, 128);
        assert_eq!(keep, [false, true, false, true, false]);
        assert_eq!(histogram_keepers(&[1, 2, 3], 64, 1 << 18), [true; 3]);
        assert_eq!(histogram_keepers(&[1, 2], 4096, 100), [false, false]);
    }
}

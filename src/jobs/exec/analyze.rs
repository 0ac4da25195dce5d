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
use crate::formats::transformer::{tensor_role, TensorRole};
use std::collections::BTreeMap;
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
    pub totals: ModelTotals,
    /// Elements of integer tensors (no statistics).
    pub integer_elements: u64,
    /// Float tensors whose histogram was left out to keep the result small (the largest
    /// tensors keep theirs; see `note` on each tensor).
    pub histograms_omitted: usize,
    /// Transformer checkpoints: the analyzed tensors grouped by what they are (attention
    /// q/k/v/o, MLP gate/up/down, embeddings, norms, lm_head, task heads).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<ModuleGroup>,
    /// What to leave in float when quantizing or pruning, as `exclude` globs for those jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
}

/// The tensors of one role.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModuleGroup {
    pub role: TensorRole,
    pub tensors: usize,
    pub n_elements: u64,
    /// Largest |value| over the group's tensors.
    pub abs_max: Option<f64>,
    /// Largest `abs_max / std` of a tensor in the group: how far its outliers reach (the
    /// larger, the more a per-tensor or per-channel scale wastes levels).
    pub max_outlier_ratio: Option<f64>,
    pub nan_count: u64,
    pub inf_count: u64,
    /// Whether to leave the group in float, and why.
    pub keep_float: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// Tensors to leave out of quantization and pruning.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recommendation {
    /// Pass as `exclude` to quantize or prune (2-D tensors only: 1-D norms and biases are
    /// never selected by default).
    pub exclude: Vec<String>,
    pub note: String,
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
    type Result = AnalyzeResult;

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
    let (modules, recommendation) = group_modules(&tensors);
    Ok(AnalyzeResult {
        model_id,
        n_tensors: tensors.len(),
        tensors,
        totals,
        integer_elements,
        histograms_omitted,
        modules,
        recommendation,
    })
}

/// Groups tensors by role when the names are a transformer's (none otherwise), and the
/// tensors to leave in float.
fn group_modules(tensors: &[TensorAnalysis]) -> (Vec<ModuleGroup>, Option<Recommendation>) {
    let mut groups: BTreeMap<TensorRole, ModuleGroup> = BTreeMap::new();
    let mut exclude = Vec::new();
    let max = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    };
    for t in tensors {
        let role = tensor_role(&t.name);
        let g = groups.entry(role).or_insert_with(|| ModuleGroup {
            role,
            tensors: 0,
            n_elements: 0,
            abs_max: None,
            max_outlier_ratio: None,
            nan_count: 0,
            inf_count: 0,
            keep_float: role.keep_float_reason().is_some(),
            reason: role.keep_float_reason(),
        });
        g.tensors += 1;
        g.n_elements += t.n_elements;
        if let Some(st) = &t.stats {
            g.abs_max = max(g.abs_max, st.abs_max);
            let ratio = match (st.abs_max, st.std) {
                (Some(a), Some(s)) if s > 0.0 => Some(a / s),
                _ => None,
            };
            g.max_outlier_ratio = max(g.max_outlier_ratio, ratio);
            g.nan_count += st.nan_count;
            g.inf_count += st.inf_count;
        }
        if g.keep_float && t.shape.len() >= 2 {
            exclude.push(t.name.clone());
        }
    }
    let transformer = groups
        .keys()
        .any(|r| !matches!(r, TensorRole::Other | TensorRole::Norm));
    if !transformer {
        return (Vec::new(), None);
    }
    let note = format!(
        "leave {} in float; quantize or prune the attention and MLP projections ({} of the \
         model's elements). Embedding tables already stay in float by default.",
        if exclude.is_empty() {
            "nothing else".to_string()
        } else {
            exclude.join(", ")
        },
        {
            let total: u64 = groups.values().map(|g| g.n_elements).sum();
            let linear: u64 = groups
                .values()
                .filter(|g| !g.keep_float && g.role != TensorRole::Other)
                .map(|g| g.n_elements)
                .sum();
            format!("{:.1} %", 100.0 * linear as f64 / total.max(1) as f64)
        }
    );
    (
        groups.into_values().collect(),
        Some(Recommendation { exclude, note }),
    )
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

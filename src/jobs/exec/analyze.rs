//! `analyze`: statistics of every tensor of a model, streamed one tensor at a time from the
//! memory-mapped file so peak memory follows the largest tensor, not the model.
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Executor, JobOutput};
use crate::domain::selection::TensorSelection;
use crate::domain::specs::{parse_typed, AnalyzeSpec};
use crate::formats::safetensors::{is_float, to_f32_into, MappedModel};
use crate::jobs::{JobContext, JobError};
use crate::kernels::stats::{tensor_stats, ModelTotals};

/// Runs `analyze` jobs.
pub struct AnalyzeExecutor;

#[async_trait]
impl Executor for AnalyzeExecutor {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let spec: AnalyzeSpec =
            parse_typed(&ctx.job.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        let selection = TensorSelection::new(&spec.include, &spec.exclude, false)
            .map_err(|e| JobError::Invalid(e.to_string()))?;
        let (model, path) = ctx.model(spec.model_id).await?;
        let control = ctx.control.clone();
        let bins = spec.histogram_bins;
        let result = ctx
            .compute
            .run(move || -> Result<Value, JobError> {
                let mapped = MappedModel::open(&path)?;
                let names: Vec<String> = mapped.names().into_iter().map(str::to_string).collect();
                let selected: Vec<&String> = names
                    .iter()
                    .filter(|n| mapped.tensor(n).map(|t| selection.matches(n, t.shape)).unwrap_or(false))
                    .collect();
                let total = selected.len().max(1);
                let mut totals = ModelTotals::default();
                let mut tensors = Vec::with_capacity(selected.len());
                let mut integer_params: u64 = 0;
                // One conversion buffer for every non-F32 tensor (fresh allocations page-fault).
                let mut buffer: Vec<f32> = Vec::new();
                for (i, name) in selected.iter().enumerate() {
                    if control.should_stop() {
                        return Err(JobError::Canceled);
                    }
                    let t = mapped.tensor(name)?;
                    let n: u64 = t.shape.iter().map(|&d| d as u64).product();
                    if is_float(t.dtype) {
                        let values: &[f32] = match t.as_f32_slice() {
                            Some(v) => v,
                            None => {
                                to_f32_into(&t, &mut buffer)?;
                                &buffer
                            }
                        };
                        let stats = tensor_stats(values, bins)?;
                        totals.add(&stats);
                        tensors.push(json!({
                            "name": name, "dtype": t.dtype.to_string(), "shape": t.shape,
                            "n_elements": n, "stats": stats,
                        }));
                    } else {
                        integer_params += n;
                        tensors.push(json!({
                            "name": name, "dtype": t.dtype.to_string(), "shape": t.shape,
                            "n_elements": n, "stats": null,
                            "note": "integer tensor: statistics are computed for floating-point tensors only",
                        }));
                    }
                    mapped.release(name);
                    control.set_progress((i + 1) as f64 / total as f64, Some(format!("analyzed {}/{}", i + 1, selected.len())));
                }
                Ok(json!({
                    "model_id": model.id,
                    "n_tensors": tensors.len(),
                    "tensors": tensors,
                    "totals": totals,
                    "integer_elements": integer_params,
                }))
            })
            .await??;
        Ok(JobOutput::result(result))
    }
}

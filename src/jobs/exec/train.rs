//! `train`: fit an MLP (new, or continuing a base model) on a dataset, with per-epoch loss
//! series, progress and cancel between batches, and checkpoints an attempt after a crash or
//! hand-back resumes from; the trained model is the job's output.
use async_trait::async_trait;

use super::{JobOutput, KindExecutor, OutputFile};
use crate::domain::specs::TrainSpec;
use crate::domain::ValidationErrors;
use crate::jobs::checkpoint::compute_with_checkpoints;
use crate::jobs::fit::{fit_with_checkpoints, FitInputs};
use crate::jobs::{admission, JobContext, JobError};
use crate::store::{DynStore, StoreError};
use uuid::Uuid;

/// Runs `train` jobs.
pub struct TrainExecutor;

#[async_trait]
impl KindExecutor for TrainExecutor {
    type Spec = TrainSpec;
    type Result = crate::jobs::fit::FitResult;

    async fn admit(
        &self,
        store: &DynStore,
        tenant_id: Uuid,
        spec: &TrainSpec,
    ) -> Result<ValidationErrors, StoreError> {
        admission::check_train(store, tenant_id, spec).await
    }

    async fn execute(&self, ctx: &JobContext, spec: TrainSpec) -> Result<JobOutput, JobError> {
        let dataset = ctx.dataset(spec.dataset_id).await?;
        let validation = ctx
            .optional_dataset(spec.validation.as_ref().and_then(|v| v.dataset_id))
            .await?;
        let base = ctx.optional_model(spec.base_model_id).await?;
        let name = spec
            .output_name
            .clone()
            .unwrap_or_else(|| format!("{}-mlp", dataset.0.name));
        let inputs = FitInputs {
            spec,
            dataset,
            validation,
            base,
            output: ctx.scratch_path(".safetensors"),
            job_id: ctx.job.id.to_string(),
        };
        let control = ctx.control.clone();
        let fitted = compute_with_checkpoints(ctx, move |tx, checkpoints| {
            fit_with_checkpoints(inputs, Some(checkpoints), control, tx, "")
        })
        .await?;
        JobOutput::with_model(
            &fitted.result,
            OutputFile {
                path: fitted.path,
                name,
                format: "safetensors",
                n_params: fitted.result.n_params as u64,
                architecture: crate::domain::json::to_value(&fitted.arch).ok(),
                written: Vec::new(),
            },
        )
    }
}

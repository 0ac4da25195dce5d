//! `evaluate`: accuracy, F1, per-class precision/recall, confusion matrix and log-loss (or
//! MSE, RMSE, MAE, R²) of an MLP on a labelled dataset, plus inference throughput and
//! batch-1 latency.
use async_trait::async_trait;
use serde::Serialize;
use uuid::Uuid;

use super::{JobOutput, KindExecutor};
use crate::domain::specs::EvaluateSpec;
use crate::jobs::inputs::{load_dataset, load_model, targets};
use crate::jobs::measure::{measure, ModelEvaluation};
use crate::domain::ValidationErrors;
use crate::jobs::{admission, JobContext, JobError};
use crate::store::{DynStore, StoreError};

/// Runs `evaluate` jobs.
pub struct EvaluateExecutor;

/// The result of an `evaluate` job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvaluateResult {
    pub model_id: Uuid,
    pub dataset_id: Uuid,
    /// Class labels in output order (classification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    #[serde(flatten)]
    pub evaluation: ModelEvaluation,
}

#[async_trait]
impl KindExecutor for EvaluateExecutor {
    type Spec = EvaluateSpec;

    async fn admit(
        &self,
        store: &DynStore,
        tenant_id: Uuid,
        spec: &EvaluateSpec,
    ) -> Result<ValidationErrors, StoreError> {
        admission::check_evaluate(store, tenant_id, spec).await
    }

    async fn execute(&self, ctx: &JobContext, spec: EvaluateSpec) -> Result<JobOutput, JobError> {
        let (model_row, model_path) = ctx.model(spec.model_id).await?;
        let (ds_row, ds_path) = ctx.dataset(spec.dataset_id).await?;
        let control = ctx.control.clone();
        let result = ctx
            .compute
            .run(move || -> Result<EvaluateResult, JobError> {
                control.set_progress(0.1, Some("loading".into()));
                let (mlp, arch) = load_model(&model_row, &model_path)?;
                let ds = load_dataset(&ds_row, &ds_path)?;
                let y = targets(&ds, arch.classes.as_deref())?;
                control.set_progress(0.3, Some("predicting".into()));
                let evaluation = measure(&mlp, &arch, ds.x.view(), &y, spec.batch_size)?;
                Ok(EvaluateResult {
                    model_id: model_row.id,
                    dataset_id: ds_row.id,
                    classes: arch.classes.clone().or(ds.classes.clone()),
                    evaluation,
                })
            })
            .await??;
        JobOutput::of(&result)
    }
}

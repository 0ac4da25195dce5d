//! `evaluate`: accuracy, F1, per-class precision/recall, confusion matrix and log-loss (or
//! MSE, RMSE, MAE, R²) of an MLP on a labelled dataset, plus inference throughput and
//! batch-1 latency; for a transformer on a text dataset, perplexity or embedding fidelity
//! (and classifier quality) against an optional reference model, tokens/s and peak memory.
use async_trait::async_trait;
use serde::Serialize;
use uuid::Uuid;

use super::{JobOutput, KindExecutor};
use crate::domain::specs::EvaluateSpec;
use crate::jobs::inputs::{load_dataset, load_model, targets};
use crate::jobs::measure::{measure, ModelEvaluation};
use crate::jobs::text_quality::is_transformer;
use crate::jobs::text_quality::{
    classification_of, evaluation, load_text_dataset, load_transformer, run, ReferenceRun,
    TextEvaluation, TextRun, ENCODER_BATCH,
};
use crate::domain::specs::TextPooling;
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
    pub evaluation: Evaluation,
}

/// An MLP's or a transformer's figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Evaluation {
    Mlp(ModelEvaluation),
    Transformer(Box<TextEvaluation>),
}

#[async_trait]
impl KindExecutor for EvaluateExecutor {
    type Spec = EvaluateSpec;
    type Result = EvaluateResult;

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
        if is_transformer(model_row.architecture.as_ref()) {
            let reference = match spec.reference_model_id {
                Some(id) => Some(ctx.model(id).await?),
                None => None,
            };
            return evaluate_transformer(ctx, spec, (model_row.id, model_path), (ds_row, ds_path), reference).await;
        }
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
                    evaluation: Evaluation::Mlp(evaluation),
                })
            })
            .await??;
        JobOutput::of(&result)
    }
}

/// The options of a transformer run from an evaluate spec.
pub fn text_run(spec: &EvaluateSpec) -> TextRun {
    TextRun {
        max_length: spec.max_length,
        stride: spec.stride,
        pooling: spec.pooling.unwrap_or(TextPooling::Mean),
        normalize: spec.normalize.unwrap_or(true),
        batch_size: spec.batch_size.unwrap_or(ENCODER_BATCH),
        max_examples: spec.max_examples,
    }
}

async fn evaluate_transformer(
    ctx: &JobContext,
    spec: EvaluateSpec,
    (model_id, model_path): (Uuid, std::path::PathBuf),
    (ds_row, ds_path): (crate::store::DatasetRow, std::path::PathBuf),
    reference: Option<(crate::store::ModelRow, std::path::PathBuf)>,
) -> Result<JobOutput, JobError> {
    let control = ctx.control.clone();
    let opts = text_run(&spec);
    let result = ctx
        .compute
        .run(move || -> Result<EvaluateResult, JobError> {
            let data = load_text_dataset(&ds_row, &ds_path)?;
            // The reference first, so only one model is in memory at a time.
            let reference = match reference {
                Some((row, path)) => {
                    control.set_progress(0.02, Some("loading the reference model".into()));
                    let m = load_transformer(&path)?;
                    let (out, _) = run(&m, &data, &opts, &control, (0.05, 0.45))?;
                    let classification = classification_of(&m, &data, &out)?;
                    Some((row.id, m.config.family(), out, classification))
                }
                None => None,
            };
            control.set_progress(0.5, Some("loading the model".into()));
            let model = load_transformer(&model_path)?;
            if let Some((_, family, _, _)) = &reference {
                if *family != model.config.family() {
                    return Err(JobError::Invalid(format!(
                        "the reference is an {family} and the model a {}",
                        model.config.family()
                    )));
                }
            }
            let (out, stats) = run(&model, &data, &opts, &control, (0.55, 0.95))?;
            let ev = evaluation(
                &model,
                &data,
                &opts,
                (&out, stats),
                reference
                    .as_ref()
                    .map(|(model_id, _, outputs, classification)| ReferenceRun {
                        model_id: *model_id,
                        outputs,
                        classification: classification.clone(),
                    }),
            )?;
            Ok(EvaluateResult {
                model_id,
                dataset_id: ds_row.id,
                classes: data.classes.clone(),
                evaluation: Evaluation::Transformer(Box::new(ev)),
            })
        })
        .await??;
    JobOutput::of(&result)
}

//! `evaluate`: accuracy, F1, per-class precision/recall, confusion matrix and log-loss (or
//! MSE, RMSE, MAE, R²) of an MLP on a labelled dataset, plus inference throughput and
//! batch-1 latency.
use async_trait::async_trait;
use ndarray::{s, Array2, ArrayView2};
use serde_json::{json, Value};
use std::time::Instant;

use super::data::{load_dataset, load_model, targets};
use super::{Executor, JobOutput};
use crate::domain::specs::{parse_typed, EvaluateSpec};
use crate::formats::mlp::MlpArchitecture;
use crate::jobs::{JobContext, JobError};
use crate::kernels::nn::{metrics, Mlp, Targets};

/// Runs `evaluate` jobs.
pub struct EvaluateExecutor;

#[async_trait]
impl Executor for EvaluateExecutor {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let spec: EvaluateSpec =
            parse_typed(&ctx.job.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        let (model_row, model_path) = ctx.model(spec.model_id).await?;
        let (ds_row, ds_path) = ctx.dataset(spec.dataset_id).await?;
        let control = ctx.control.clone();
        let result = ctx
            .compute
            .run(move || -> Result<Value, JobError> {
                control.set_progress(0.1, Some("loading".into()));
                let (mlp, arch) = load_model(&model_row, &model_path)?;
                let ds = load_dataset(&ds_row, &ds_path)?;
                let y = targets(&ds, arch.classes.as_deref())?;
                control.set_progress(0.3, Some("predicting".into()));
                let mut out = evaluate_model(&mlp, &arch, ds.x.view(), &y, spec.batch_size)?;
                if let Some(obj) = out.as_object_mut() {
                    obj.insert("model_id".into(), json!(model_row.id));
                    obj.insert("dataset_id".into(), json!(ds_row.id));
                    if let Some(classes) = arch.classes.clone().or(ds.classes.clone()) {
                        obj.insert("classes".into(), json!(classes));
                    }
                }
                Ok(out)
            })
            .await??;
        Ok(JobOutput::result(result))
    }
}

/// The model that takes raw features: input standardization folded into the first layer.
pub fn inference_model(mlp: &Mlp, arch: &MlpArchitecture) -> Result<Mlp, JobError> {
    match (&arch.input_mean, &arch.input_std) {
        (Some(m), Some(s)) => Ok(mlp.with_input_standardization(m, s)?),
        _ => Ok(mlp.clone()),
    }
}

/// Every metric of `mlp` on `(x, y)` plus timing, as the job result JSON.
pub fn evaluate_model(
    mlp: &Mlp,
    arch: &MlpArchitecture,
    x: ArrayView2<f32>,
    y: &Targets,
    batch: Option<usize>,
) -> Result<Value, JobError> {
    if x.ncols() != mlp.n_inputs() {
        return Err(JobError::Invalid(format!(
            "the model takes {} features but the dataset has {}",
            mlp.n_inputs(),
            x.ncols()
        )));
    }
    let model = inference_model(mlp, arch)?;
    let rows = x.nrows();
    let batch = batch.unwrap_or(rows).max(1);
    // Throughput: best of a few passes over the whole set (the first warms caches).
    let mut outputs = Array2::<f32>::zeros((rows, model.n_outputs()));
    let mut best = f64::INFINITY;
    let passes = if rows >= 100_000 { 1 } else { 5 };
    for _ in 0..passes {
        let t = Instant::now();
        let mut start = 0;
        while start < rows {
            let end = (start + batch).min(rows);
            let o = model.forward(x.slice(s![start..end, ..]))?;
            outputs.slice_mut(s![start..end, ..]).assign(&o);
            start = end;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    // Batch-1 latency: mean of single-row forward passes.
    let n_single = rows.clamp(1, 200);
    let t = Instant::now();
    for i in 0..n_single {
        let _ = model.forward(x.slice(s![i..i + 1, ..]))?;
    }
    let latency_us = t.elapsed().as_secs_f64() * 1e6 / n_single as f64;
    let rows_per_s = if best > 0.0 { rows as f64 / best } else { 0.0 };

    let mut result = match y {
        Targets::Classification { labels, n_classes } => {
            let sigmoid = model
                .layers
                .last()
                .is_some_and(|l| l.activation == crate::kernels::nn::Activation::Sigmoid);
            let proba =
                crate::kernels::nn::outputs_to_proba(outputs, sigmoid || model.n_outputs() == 1);
            let proba = if proba.ncols() == 1 {
                // One sigmoid output: column 0 is P(class 1).
                let mut p2 = Array2::<f32>::zeros((rows, 2));
                for i in 0..rows {
                    p2[[i, 1]] = proba[[i, 0]];
                    p2[[i, 0]] = 1.0 - proba[[i, 0]];
                }
                p2
            } else {
                proba
            };
            let pred: Vec<usize> = proba
                .rows()
                .into_iter()
                .map(|r| crate::kernels::nn::argmax(r.as_slice().unwrap_or(&r.to_vec())))
                .collect();
            let report = metrics::classification_report(
                labels,
                &pred,
                Some(proba.view()),
                (*n_classes).max(proba.ncols()),
            )?;
            json!({
                "task": "classification",
                "accuracy": report.accuracy,
                "f1_macro": report.f1_macro,
                "f1_weighted": report.f1_weighted,
                "precision_macro": report.precision_macro,
                "recall_macro": report.recall_macro,
                "log_loss": report.log_loss,
                "per_class": report.per_class,
                "confusion_matrix": report.confusion,
                "predictions": pred.len(),
            })
        }
        Targets::Regression(yt) => {
            let report = metrics::regression_report(yt.view(), outputs.view())?;
            json!({"task": "regression", "mse": report.mse, "rmse": report.rmse, "mae": report.mae, "r2": report.r2})
        }
    };
    if let Some(obj) = result.as_object_mut() {
        obj.insert("rows".into(), json!(rows));
        obj.insert("throughput_rows_per_s".into(), json!(rows_per_s));
        obj.insert("latency_batch1_us".into(), json!(latency_us));
    }
    Ok(result)
}

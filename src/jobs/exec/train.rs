//! `train`: fit an MLP (new, or continuing a base model) on a dataset, with per-epoch loss
//! series, progress and cancel between batches; the trained model is the job's output.
use async_trait::async_trait;
use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

use super::data::{column_stats, load_dataset, load_model, standardize, targets};
use super::{Executor, JobOutput};
use crate::domain::specs::{parse_typed, TrainSpec};
use crate::formats::dataset::{Dataset, Task};
use crate::formats::mlp::{save_mlp, MlpArchitecture};
use crate::jobs::{JobContext, JobControl, JobError};
use crate::kernels::nn::{
    self, Activation, EpochReport, Init, Loss, Mlp, Targets, TrainConfig, TrainObserver,
};
use crate::store::{DatasetRow, MetricPoint, ModelRow};

/// Runs `train` jobs.
pub struct TrainExecutor;

/// Inputs resolved by the async side, handed to the compute pool.
pub(crate) struct TrainInputs {
    pub spec: TrainSpec,
    pub dataset: (DatasetRow, PathBuf),
    pub validation: Option<(DatasetRow, PathBuf)>,
    pub base: Option<(ModelRow, PathBuf)>,
    pub output: PathBuf,
    pub job_id: String,
}

#[async_trait]
impl Executor for TrainExecutor {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let spec: TrainSpec =
            parse_typed(&ctx.job.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        let dataset = ctx.dataset(spec.dataset_id).await?;
        let validation = match spec.validation.as_ref().and_then(|v| v.dataset_id) {
            Some(id) => Some(ctx.dataset(id).await?),
            None => None,
        };
        let base = match spec.base_model_id {
            Some(id) => Some(ctx.model(id).await?),
            None => None,
        };
        let name = spec
            .output_name
            .clone()
            .unwrap_or_else(|| format!("{}-mlp", dataset.0.name));
        let inputs = TrainInputs {
            spec,
            dataset,
            validation,
            base,
            output: ctx.scratch_path(".safetensors"),
            job_id: ctx.job.id.to_string(),
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let control = ctx.control.clone();
        let work = ctx
            .compute
            .run(move || train_blocking(inputs, control, tx, ""));
        let (outcome, ()) = tokio::join!(work, record_epochs(ctx, rx));
        let (result, path, n_params, arch) = outcome??;
        JobOutput::with_model(
            result,
            path,
            name,
            "safetensors",
            n_params as i64,
            serde_json::to_value(arch).ok(),
        )
    }
}

/// Store each epoch's series as it arrives (`train_loss`, `val_loss`, `val_accuracy`/`val_r2`, `lr`).
pub(crate) async fn record_epochs(
    ctx: &JobContext,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Vec<MetricPoint>>,
) {
    while let Some(points) = rx.recv().await {
        if let Err(e) = ctx.record_metrics(&points).await {
            tracing::warn!(error = %e, "recording epoch metrics failed");
        }
    }
}

/// Turns epoch reports into metric points, progress and stop checks.
pub(crate) struct JobObserver {
    pub control: Arc<JobControl>,
    pub tx: UnboundedSender<Vec<MetricPoint>>,
    pub epochs: usize,
    pub metric_name: &'static str,
    /// Added to epoch numbers (a later phase of a multi-phase job continues the series).
    pub step_offset: i64,
    pub prefix: &'static str,
}

impl TrainObserver for JobObserver {
    fn on_epoch(&mut self, r: &EpochReport) -> ControlFlow<()> {
        let step = self.step_offset + r.epoch as i64;
        let p = |name: &str, value: f64| MetricPoint {
            name: format!("{}{name}", self.prefix),
            step,
            value,
        };
        let mut points = vec![p("train_loss", r.train_loss), p("lr", r.lr as f64)];
        if let Some(v) = r.val_loss {
            points.push(p("val_loss", v));
        }
        if let Some(v) = r.val_metric {
            points.push(p(&format!("val_{}", self.metric_name), v));
        }
        let _ = self.tx.send(points);
        self.control.set_progress(
            r.epoch as f64 / self.epochs.max(1) as f64,
            Some(format!(
                "epoch {}/{}: train_loss {:.4}",
                r.epoch, self.epochs, r.train_loss
            )),
        );
        ControlFlow::Continue(())
    }

    fn should_stop(&self) -> bool {
        self.control.should_stop()
    }
}

/// Rows `idx` of `x`.
pub(crate) fn take_rows(x: &Array2<f32>, idx: &[usize]) -> Array2<f32> {
    x.select(Axis(0), idx)
}

/// Subset of targets.
pub(crate) fn take_targets(t: &Targets, idx: &[usize]) -> Targets {
    match t {
        Targets::Classification { labels, n_classes } => Targets::Classification {
            labels: idx.iter().map(|&i| labels[i]).collect(),
            n_classes: *n_classes,
        },
        Targets::Regression(y) => Targets::Regression(y.select(Axis(0), idx)),
    }
}

/// Hold out `fraction` of the rows, stratified by class for classification, seeded.
pub(crate) fn holdout_indices(t: &Targets, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5711);
    let groups: Vec<Vec<usize>> = match t {
        Targets::Classification { labels, n_classes } => {
            let mut g = vec![Vec::new(); *n_classes];
            for (i, &l) in labels.iter().enumerate() {
                if let Some(v) = g.get_mut(l) {
                    v.push(i);
                }
            }
            g
        }
        Targets::Regression(y) => vec![(0..y.nrows()).collect()],
    };
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for mut g in groups {
        g.shuffle(&mut rng);
        let k = ((g.len() as f64) * fraction).round() as usize;
        let k = k.min(g.len().saturating_sub(1));
        val.extend_from_slice(&g[..k]);
        train.extend_from_slice(&g[k..]);
    }
    train.sort_unstable();
    val.sort_unstable();
    (train, val)
}

/// The default loss of a task.
pub(crate) fn default_loss(task: Task) -> Loss {
    match task {
        Task::Classification => Loss::CrossEntropy,
        Task::Regression => Loss::Mse,
    }
}

/// A new MLP for `spec`'s architecture (`n_features` inputs, `n_out` outputs), seeded.
pub(crate) fn fresh_model(
    spec: &TrainSpec,
    n_features: usize,
    n_out: usize,
) -> Result<Mlp, JobError> {
    let arch = spec
        .architecture
        .as_ref()
        .ok_or_else(|| JobError::Invalid("architecture is required without a base model".into()))?;
    let hidden_activation = arch.activation;
    let mut sizes = vec![n_features];
    sizes.extend(&arch.hidden);
    sizes.push(n_out);
    let init = arch.init.unwrap_or(match hidden_activation {
        Activation::Tanh | Activation::Sigmoid | Activation::Identity => Init::GlorotUniform,
        _ => Init::HeUniform,
    });
    Ok(Mlp::new_initialized(
        &sizes,
        hidden_activation,
        Activation::Identity,
        init,
        spec.seed,
    )?)
}

/// The kernel's training settings of a train spec.
pub(crate) fn train_config(spec: &TrainSpec, loss: Loss) -> TrainConfig {
    TrainConfig {
        loss,
        optimizer: spec.optimizer,
        batch_size: spec.batch_size,
        epochs: spec.epochs,
        lr_schedule: spec.lr_schedule,
        weight_decay: spec.weight_decay,
        clip_grad_norm: spec.clip_grad_norm,
        dropout: spec.architecture.as_ref().and_then(|a| a.dropout),
        early_stopping: spec.early_stopping,
        seed: spec.seed,
        shuffle: true,
    }
}

/// Trains per `inputs` on the compute pool: the result JSON, the written model file, its
/// parameter count and architecture. Epoch series go to `tx` with names prefixed by `prefix`.
pub(crate) fn train_blocking(
    inputs: TrainInputs,
    control: Arc<JobControl>,
    tx: UnboundedSender<Vec<MetricPoint>>,
    prefix: &'static str,
) -> Result<(Value, PathBuf, usize, MlpArchitecture), JobError> {
    let TrainInputs {
        spec,
        dataset,
        validation,
        base,
        output,
        job_id,
    } = inputs;
    let ds: Dataset = load_dataset(&dataset.0, &dataset.1)?;
    let (mut model, base_arch) = match &base {
        Some((row, path)) => {
            let (m, a) = load_model(row, path)?;
            (Some(m), Some(a))
        }
        None => (None, None),
    };
    let model_classes = base_arch.as_ref().and_then(|a| a.classes.clone());
    let y_all = targets(&ds, model_classes.as_deref())?;
    let n_out = match &y_all {
        Targets::Classification { n_classes, .. } => *n_classes,
        Targets::Regression(y) => y.ncols(),
    };

    // Input standardization: a base model keeps its own; otherwise learn it from the data.
    let (mean, std) = match base_arch
        .as_ref()
        .and_then(|a| a.input_mean.clone().zip(a.input_std.clone()))
    {
        Some((m, s)) => (Some(m), Some(s)),
        None if spec.standardize => {
            let (m, s) = column_stats(&ds.x);
            (Some(m), Some(s))
        }
        None => (None, None),
    };
    let mut x_all = ds.x.clone();
    if let (Some(m), Some(s)) = (&mean, &std) {
        standardize(&mut x_all, m, s);
    }

    // Validation: another dataset, a held-out split, or (early stopping only) 10 %.
    let split = spec.validation.as_ref().and_then(|v| v.split).or(
        if spec.early_stopping.is_some() && validation.is_none() {
            Some(0.1)
        } else {
            None
        },
    );
    let (x_train, y_train, val) = if let Some((vrow, vpath)) = &validation {
        let vds = load_dataset(vrow, vpath)?;
        let mut vx = vds.x.clone();
        if let (Some(m), Some(s)) = (&mean, &std) {
            standardize(&mut vx, m, s);
        }
        let vy = targets(&vds, model_classes.as_deref().or(ds.classes.as_deref()))?;
        (x_all, y_all, Some((vx, vy)))
    } else if let Some(f) = split {
        let (tr, va) = holdout_indices(&y_all, f, spec.seed);
        let v = (take_rows(&x_all, &va), take_targets(&y_all, &va));
        (take_rows(&x_all, &tr), take_targets(&y_all, &tr), Some(v))
    } else {
        (x_all, y_all, None)
    };

    let mut mlp = match model.take() {
        Some(m) => m,
        None => fresh_model(&spec, ds.n_features(), n_out)?,
    };
    if mlp.n_inputs() != ds.n_features() {
        return Err(JobError::Invalid(format!(
            "the model takes {} features but the dataset has {}",
            mlp.n_inputs(),
            ds.n_features()
        )));
    }
    let loss = spec.loss.unwrap_or(default_loss(ds.task));
    let cfg = train_config(&spec, loss);
    let metric_name = if ds.task == Task::Classification {
        "accuracy"
    } else {
        "r2"
    };
    let mut observer = JobObserver {
        control,
        tx,
        epochs: spec.epochs,
        metric_name,
        step_offset: 0,
        prefix,
    };
    let started = Instant::now();
    let val_view = val.as_ref().map(|(vx, vy)| (vx.view(), vy));
    let report = nn::train(
        &mut mlp,
        x_train.view(),
        &y_train,
        val_view,
        &cfg,
        None,
        &mut observer,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let train_eval = nn::evaluate(&mlp, x_train.view(), &y_train, loss)?;

    let classes = model_classes.or(ds.classes.clone());
    let arch = MlpArchitecture {
        layer_sizes: mlp.layer_sizes(),
        activations: mlp.layers.iter().map(|l| l.activation).collect(),
        task: Some(ds.task.as_str().to_string()),
        classes,
        input_mean: mean,
        input_std: std,
        feature_names: Some(ds.feature_names.clone()),
    };
    let mut extra = BTreeMap::new();
    extra.insert("whittle_job_id".to_string(), job_id);
    let bytes = save_mlp(&mlp, &arch, &extra)?;
    std::fs::write(&output, bytes)?;
    let samples = (report.epochs_run * y_train.len()) as f64;
    let mut result = json!({
        "task": ds.task.as_str(),
        "loss": loss,
        "layer_sizes": arch.layer_sizes,
        "n_params": mlp.n_params(),
        "train_rows": y_train.len(),
        "validation_rows": val.as_ref().map(|(_, vy)| vy.len()),
        "epochs_run": report.epochs_run,
        "best_epoch": report.best_epoch,
        "stopped_early": report.stopped_early,
        "restored_best": report.restored_best,
        "final_train_loss": report.final_train_loss,
        "final_val_loss": report.final_val_loss,
        "train_seconds": seconds,
        "samples_per_second": if seconds > 0.0 { samples / seconds } else { 0.0 },
        "standardized_inputs": arch.input_mean.is_some(),
    });
    if let Some(obj) = result.as_object_mut() {
        obj.insert(
            format!("final_val_{metric_name}"),
            json!(report.final_val_metric),
        );
        obj.insert(format!("train_{metric_name}"), json!(train_eval.metric));
    }
    let n_params = mlp.n_params();
    Ok((result, output, n_params, arch))
}

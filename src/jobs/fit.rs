//! Fitting an MLP to a train spec: a new model (or a base model continued) on a dataset, with
//! input standardization, a validation set or split, per-epoch series and the written model
//! file. The `train` job is one fit; a study's refit is another.
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::checkpoint::TrainCheckpoints;
use super::epochs::{EpochSeries, MetricSender};
use super::inputs::{load_dataset, load_model, targets};
use super::{JobControl, JobError};
use crate::domain::specs::TrainSpec;
use crate::formats::dataset::Dataset;
use crate::formats::mlp::{save_mlp_named, MlpArchitecture};
use crate::jobs::inputs::output_tensor_names;
use crate::kernels::nn::{
    self, select_rows, Activation, Init, Loss, Mlp, Standardization, Targets, Task, TrainConfig,
};
use crate::kernels::tune::holdout_fold;
use crate::store::{DatasetRow, ModelRow};

/// What a fit reads and where it writes, resolved by the async side.
pub struct FitInputs {
    pub spec: TrainSpec,
    pub dataset: (DatasetRow, PathBuf),
    pub validation: Option<(DatasetRow, PathBuf)>,
    pub base: Option<(ModelRow, PathBuf)>,
    pub output: PathBuf,
    pub job_id: String,
}

/// The result of a fit (the `train` job's result, a study's `refit`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FitResult {
    pub task: Task,
    pub loss: Loss,
    pub layer_sizes: Vec<usize>,
    pub n_params: usize,
    pub train_rows: usize,
    pub validation_rows: Option<usize>,
    pub epochs_run: usize,
    pub best_epoch: Option<usize>,
    pub stopped_early: bool,
    pub restored_best: bool,
    pub final_train_loss: f64,
    pub final_val_loss: Option<f64>,
    /// Seconds this attempt trained (a resumed attempt counts its own epochs only).
    pub train_seconds: f64,
    pub samples_per_second: f64,
    pub standardized_inputs: bool,
    /// The epoch this attempt continued from, when a checkpoint of an earlier attempt (a
    /// crash, a lost lease, a shutdown hand-back) let it skip the epochs before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from_epoch: Option<usize>,
    /// `final_val_accuracy` + `train_accuracy`, or `final_val_r2` + `train_r2`.
    #[serde(flatten)]
    pub headline: HeadlineFit,
}

/// The task's headline metric at the end of a fit, named after it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum HeadlineFit {
    #[schema(title = "Classification")]
    Accuracy {
        final_val_accuracy: Option<f64>,
        train_accuracy: f64,
    },
    #[schema(title = "Regression")]
    R2 {
        final_val_r2: Option<f64>,
        train_r2: f64,
    },
}

impl FitResult {
    fn new(
        ds: &Dataset,
        loss: Loss,
        mlp: &Mlp,
        data: &Prepared,
        report: &nn::TrainReport,
        train_metric: f64,
        seconds: f64,
    ) -> Self {
        let samples = (report.epochs_run * data.y.len()) as f64;
        let headline = match ds.task {
            Task::Classification => HeadlineFit::Accuracy {
                final_val_accuracy: report.final_val_metric,
                train_accuracy: train_metric,
            },
            Task::Regression => HeadlineFit::R2 {
                final_val_r2: report.final_val_metric,
                train_r2: train_metric,
            },
        };
        FitResult {
            task: ds.task,
            loss,
            layer_sizes: mlp.layer_sizes(),
            n_params: mlp.n_params(),
            train_rows: data.y.len(),
            validation_rows: data.val.as_ref().map(|(_, vy)| vy.len()),
            epochs_run: report.epochs_run,
            best_epoch: report.best_epoch,
            stopped_early: report.stopped_early,
            restored_best: report.restored_best,
            final_train_loss: report.final_train_loss,
            final_val_loss: report.final_val_loss,
            train_seconds: seconds,
            samples_per_second: if seconds > 0.0 {
                samples / seconds
            } else {
                0.0
            },
            standardized_inputs: data.standardization.is_some(),
            resumed_from_epoch: None,
            headline,
        }
    }

    /// Records that training continued from `epoch`: throughput counts this attempt's epochs.
    fn resumed_from(&mut self, epoch: usize) {
        self.resumed_from_epoch = Some(epoch);
        let samples = (self.epochs_run.saturating_sub(epoch) * self.train_rows) as f64;
        self.samples_per_second = if self.train_seconds > 0.0 {
            samples / self.train_seconds
        } else {
            0.0
        };
    }
}

/// Name of a fit's training run in its job's checkpoint.
const FIT_RUN: &str = "fit";

/// A fitted model written to disk.
pub struct Fitted {
    pub result: FitResult,
    pub path: PathBuf,
    pub arch: MlpArchitecture,
}

/// Training rows, validation rows and the standardization both went through.
struct Prepared {
    x: ndarray::Array2<f32>,
    y: Targets,
    val: Option<(ndarray::Array2<f32>, Targets)>,
    standardization: Option<Standardization>,
}

/// Fits per `inputs` on the compute pool; epoch series go to `tx` prefixed by `prefix`.
pub fn fit(
    inputs: FitInputs,
    control: Arc<JobControl>,
    tx: MetricSender,
    prefix: &'static str,
) -> Result<Fitted, JobError> {
    fit_with_checkpoints(inputs, None, control, tx, prefix)
}

/// [`fit`], continuing from `checkpoints.stored` when it fits and writing checkpoints.
pub fn fit_with_checkpoints(
    inputs: FitInputs,
    checkpoints: Option<TrainCheckpoints>,
    control: Arc<JobControl>,
    tx: MetricSender,
    prefix: &'static str,
) -> Result<Fitted, JobError> {
    let FitInputs {
        spec,
        dataset,
        validation,
        base,
        output,
        job_id,
    } = inputs;
    let ds: Dataset = load_dataset(&dataset.0, &dataset.1)?;
    let (base_model, base_arch) = match &base {
        Some((row, path)) => {
            let (m, a) = load_model(row, path)?;
            (Some(m), Some(a))
        }
        None => (None, None),
    };
    let model_classes = base_arch.as_ref().and_then(|a| a.classes.clone());
    let data = prepare(&spec, &ds, base_arch.as_ref(), validation.as_ref())?;
    let mut mlp = match base_model {
        Some(m) => m,
        None => new_model(&spec, ds.n_features(), data.y.n_outputs())?,
    };
    if mlp.n_inputs() != ds.n_features() {
        return Err(JobError::Invalid(format!(
            "the model takes {} features but the dataset has {}",
            mlp.n_inputs(),
            ds.n_features()
        )));
    }
    let loss = spec.loss.unwrap_or(ds.task.default_loss());
    let cfg = train_config(&spec, loss);
    let mut series = EpochSeries::new(control, tx, spec.epochs, ds.task, prefix);
    let started = Instant::now();
    let val = data.val.as_ref().map(|(vx, vy)| (vx.view(), vy));
    let trainer = nn::Trainer::new(&mut mlp, data.x.view(), &data.y, val, &cfg, None)?;
    let (report, resumed_from) = run_checkpointed(trainer, checkpoints, &mut series)?;
    let seconds = started.elapsed().as_secs_f64();
    let train_eval = nn::evaluate(&mlp, data.x.view(), &data.y, loss)?;

    let standardization = data.standardization.clone();
    let arch = MlpArchitecture {
        layer_sizes: mlp.layer_sizes(),
        activations: mlp.layers.iter().map(|l| l.activation).collect(),
        task: Some(ds.task.as_str().to_string()),
        classes: model_classes.or(ds.classes.clone()),
        input_mean: standardization.as_ref().map(|s| s.mean.clone()),
        input_std: standardization.map(|s| s.std),
        feature_names: Some(ds.feature_names.clone()),
    };
    let extra = BTreeMap::from([("whittle_job_id".to_string(), job_id)]);
    let names = output_tensor_names(
        base.as_ref().map(|(_, p)| p.as_path()),
        mlp.layers.len(),
        spec.output_dtype,
    );
    std::fs::write(&output, save_mlp_named(&mlp, &arch, &extra, &names)?)?;
    let mut result = FitResult::new(&ds, loss, &mlp, &data, &report, train_eval.metric, seconds);
    if let Some(epoch) = resumed_from {
        result.resumed_from(epoch);
    }
    Ok(Fitted {
        result,
        path: output,
        arch,
    })
}

/// Runs `trainer` to the end, first restoring it from the stored checkpoint when there is
/// a usable one; returns the report and the epoch it resumed from.
fn run_checkpointed(
    mut trainer: nn::Trainer<'_>,
    checkpoints: Option<TrainCheckpoints>,
    series: &mut EpochSeries,
) -> Result<(nn::TrainReport, Option<usize>), JobError> {
    let Some(mut checkpoints) = checkpoints else {
        return Ok((trainer.run(series)?, None));
    };
    let resumed_from = checkpoints.begin(FIT_RUN, 0, &mut trainer);
    if let Some(epoch) = resumed_from {
        series.resumed(epoch, trainer.history());
    }
    Ok((
        trainer.run(&mut checkpoints.observer(series))?,
        resumed_from,
    ))
}

/// Standardizes the rows (a base model keeps its own statistics, else they are learnt from
/// the data when the spec asks) and sets the validation rows aside: another dataset, a
/// held-out split, or (early stopping only) 10 %.
fn prepare(
    spec: &TrainSpec,
    ds: &Dataset,
    base_arch: Option<&MlpArchitecture>,
    validation: Option<&(DatasetRow, PathBuf)>,
) -> Result<Prepared, JobError> {
    let model_classes = base_arch.and_then(|a| a.classes.clone());
    let y_all = targets(ds, model_classes.as_deref())?;
    let standardization = match base_arch.and_then(MlpArchitecture::standardization) {
        Some(s) => Some(s),
        None if spec.standardize => Some(Standardization::fit(ds.x.view())),
        None => None,
    };
    let standardized = |x: &ndarray::Array2<f32>| match &standardization {
        Some(s) => s.applied(x.view()),
        None => x.clone(),
    };
    let x_all = standardized(&ds.x);
    let split = spec.validation.as_ref().and_then(|v| v.split).or(
        if spec.early_stopping.is_some() && validation.is_none() {
            Some(0.1)
        } else {
            None
        },
    );
    let (x, y, val) = if let Some((vrow, vpath)) = validation {
        let vds = load_dataset(vrow, vpath)?;
        let vy = targets(&vds, model_classes.as_deref().or(ds.classes.as_deref()))?;
        (x_all, y_all, Some((standardized(&vds.x), vy)))
    } else if let Some(f) = split {
        let fold = holdout_fold(&y_all, f, spec.seed);
        let v = (
            select_rows(x_all.view(), &fold.test),
            y_all.select(&fold.test)?,
        );
        (
            select_rows(x_all.view(), &fold.train),
            y_all.select(&fold.train)?,
            Some(v),
        )
    } else {
        (x_all, y_all, None)
    };
    Ok(Prepared {
        x,
        y,
        val,
        standardization,
    })
}

/// A new MLP for `spec`'s architecture (`n_features` inputs, `n_out` outputs), seeded.
pub fn new_model(spec: &TrainSpec, n_features: usize, n_out: usize) -> Result<Mlp, JobError> {
    let arch = spec
        .architecture
        .as_ref()
        .ok_or_else(|| JobError::Invalid("architecture is required without a base model".into()))?;
    let mut sizes = vec![n_features];
    sizes.extend(&arch.hidden);
    sizes.push(n_out);
    let init = arch.init.unwrap_or(match arch.activation {
        Activation::Tanh | Activation::Sigmoid | Activation::Identity => Init::GlorotUniform,
        _ => Init::HeUniform,
    });
    Ok(Mlp::new_initialized(
        &sizes,
        arch.activation,
        Activation::Identity,
        init,
        spec.seed,
    )?)
}

/// The kernel's training settings of a train spec.
pub fn train_config(spec: &TrainSpec, loss: Loss) -> TrainConfig {
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

//! What a training run is asked to do ([`TrainConfig`], [`EarlyStopping`]), what it reports
//! ([`EpochReport`], [`TrainReport`], [`Evaluation`]) and who watches it ([`TrainObserver`]).

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::snapshot::TrainSnapshot;
use crate::kernels::nn::loss::{HuberLoss, Loss};
use crate::kernels::nn::optim::{LrSchedule, OptimizerConfig};
use crate::kernels::KernelError;

/// What early stopping watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Validation loss (lower is better).
    #[default]
    ValLoss,
    /// Validation metric: accuracy or R² (higher is better).
    ValMetric,
    /// Training loss (lower is better), for runs without a validation set.
    TrainLoss,
}

fn default_true() -> bool {
    true
}

/// Stop when the monitored value has not improved by `min_delta` for `patience` epochs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping (≥ 1).
    #[schema(minimum = 1)]
    pub patience: usize,
    /// Minimum change that counts as an improvement.
    #[serde(default)]
    #[schema(minimum = 0.0)]
    pub min_delta: f32,
    /// The watched value.
    #[serde(default)]
    pub monitor: Monitor,
    /// Put back the weights of the best epoch at the end.
    #[serde(default = "default_true")]
    pub restore_best: bool,
}

fn default_batch_size() -> usize {
    64
}

/// Everything that controls one training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Objective.
    pub loss: Loss,
    /// Optimizer and its hyper-parameters.
    pub optimizer: OptimizerConfig,
    /// Rows per mini-batch (the last batch of an epoch may be smaller).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Learning-rate schedule.
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// Weight decay on weights (not biases): L2 on the gradient, decoupled for AdamW.
    #[serde(default)]
    pub weight_decay: f32,
    /// Rescale gradients whose global L2 norm exceeds this.
    #[serde(default)]
    pub clip_grad_norm: Option<f32>,
    /// Dropout probability on hidden-layer outputs.
    #[serde(default)]
    pub dropout: Option<f32>,
    /// Early stopping on a monitored value.
    #[serde(default)]
    pub early_stopping: Option<EarlyStopping>,
    /// Seed of shuffling and dropout.
    #[serde(default)]
    pub seed: u64,
    /// Reshuffle rows every epoch.
    #[serde(default = "default_true")]
    pub shuffle: bool,
}

impl TrainConfig {
    /// A config with the given loss, optimizer and epochs and defaults elsewhere
    /// (batch 64, constant lr, no decay/clipping/dropout/early stopping, seed 0, shuffle).
    pub fn new(loss: Loss, optimizer: OptimizerConfig, epochs: usize) -> Self {
        TrainConfig {
            loss,
            optimizer,
            batch_size: default_batch_size(),
            epochs,
            lr_schedule: LrSchedule::default(),
            weight_decay: 0.0,
            clip_grad_norm: None,
            dropout: None,
            early_stopping: None,
            seed: 0,
            shuffle: true,
        }
    }

    /// Every out-of-range setting at once (empty = valid).
    pub fn problems(&self) -> Vec<KernelError> {
        let mut out = self.optimizer.problems();
        out.extend(self.lr_schedule.problems());
        if self.batch_size == 0 {
            out.push(KernelError::invalid("batch_size", "must be ≥ 1"));
        }
        if self.epochs == 0 {
            out.push(KernelError::invalid("epochs", "must be ≥ 1"));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            out.push(KernelError::invalid("weight_decay", "must be ≥ 0"));
        }
        if let Some(c) = self.clip_grad_norm {
            if !(c > 0.0 && c.is_finite()) {
                out.push(KernelError::invalid("clip_grad_norm", "must be positive"));
            }
        }
        if let Some(p) = self.dropout {
            if !(0.0..1.0).contains(&p) {
                out.push(KernelError::invalid("dropout", "must be in [0, 1)"));
            }
        }
        if let Some(es) = &self.early_stopping {
            if es.patience == 0 {
                out.push(KernelError::invalid(
                    "early_stopping.patience",
                    "must be ≥ 1",
                ));
            }
            if !(es.min_delta >= 0.0 && es.min_delta.is_finite()) {
                out.push(KernelError::invalid(
                    "early_stopping.min_delta",
                    "must be ≥ 0",
                ));
            }
        }
        if let Loss::Huber(HuberLoss { delta }) = self.loss {
            if !(delta > 0.0 && delta.is_finite()) {
                out.push(KernelError::invalid("loss.delta", "must be positive"));
            }
        }
        out
    }
}

/// Metrics of one finished epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// Epochs completed so far (1-based).
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (with dropout, before the epoch's last
    /// update took effect).
    pub train_loss: f64,
    /// Loss on the validation set after the epoch.
    pub val_loss: Option<f64>,
    /// Accuracy (classification) or R² (regression) on the validation set.
    pub val_metric: Option<f64>,
    /// Learning rate of the epoch's last step.
    pub lr: f32,
}

/// Receives progress and may stop training.
pub trait TrainObserver {
    /// Called after every epoch; `Break` ends training normally (e.g. a tuner's pruner).
    fn on_epoch(&mut self, _report: &EpochReport) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// Polled between batches; `true` aborts with [`KernelError::Canceled`]. Must be cheap.
    fn should_stop(&self) -> bool {
        false
    }

    /// Asked after every epoch but the last (`stopping` false) and once when `should_stop`
    /// ended the run (`stopping` true): whether [`TrainObserver::on_snapshot`] should get
    /// the run's state now.
    fn wants_snapshot(&mut self, _stopping: bool) -> bool {
        false
    }

    /// Receives the snapshot asked for by [`TrainObserver::wants_snapshot`].
    fn on_snapshot(&mut self, _snapshot: TrainSnapshot) {}
}

/// An observer that never stops training.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopObserver;

impl TrainObserver for NoopObserver {}

/// Outcome of a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Epochs completed.
    pub epochs_run: usize,
    /// Epoch (1-based) with the best monitored value, when early stopping was configured.
    pub best_epoch: Option<usize>,
    /// Early stopping ended the run before `epochs`.
    pub stopped_early: bool,
    /// The observer ended the run (`on_epoch` returned `Break`).
    pub stopped_by_observer: bool,
    /// The weights of `best_epoch` were put back.
    pub restored_best: bool,
    /// Optimizer steps taken.
    pub steps: u64,
    /// One entry per epoch.
    pub history: Vec<EpochReport>,
    /// Training loss of the returned model's epoch.
    pub final_train_loss: f64,
    /// Validation loss of the returned model.
    pub final_val_loss: Option<f64>,
    /// Validation metric of the returned model.
    pub final_val_metric: Option<f64>,
}

/// Loss and metric of a model on a labelled set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean loss (as in training, without regularization).
    pub loss: f64,
    /// Accuracy (classification) or mean R² over outputs (regression).
    pub metric: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_serde_round_trip() {
        let json = r#"{"loss":"cross_entropy","optimizer":{"kind":"adamw","lr":0.001},"epochs":5,
            "lr_schedule":{"decay":{"kind":"step","step_size":2,"gamma":0.5},"warmup_epochs":1},
            "weight_decay":0.01,"clip_grad_norm":1.0,"dropout":0.1,
            "early_stopping":{"patience":3,"monitor":"val_metric"}}"#;
        let cfg: TrainConfig = serde_json::from_str(json).unwrap();
        assert_eq!(cfg.batch_size, 64);
        assert!(cfg.shuffle);
        assert_eq!(cfg.early_stopping.unwrap().monitor, Monitor::ValMetric);
        assert!(cfg.early_stopping.unwrap().restore_best);
        let back: TrainConfig =
            serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
        assert!(serde_json::from_str::<TrainConfig>(
            r#"{"loss":"mse","optimizer":{"kind":"sgd","lr":0.1},"epochs":1,"typo":1}"#
        )
        .is_err());
    }
}

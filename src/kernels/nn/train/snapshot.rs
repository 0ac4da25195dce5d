//! A training run's whole state at a batch boundary ([`TrainSnapshot`]): what a checkpoint
//! keeps so that a stopped run, restored into a new [`Trainer`](super::Trainer), continues
//! bitwise as if it had never stopped.

use serde::{Deserialize, Serialize};

use super::config::{EpochReport, TrainConfig};
use crate::kernels::nn::model::Dense;

/// Optimizer moments of one layer (empty buffers where the optimizer keeps none).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LayerMoments {
    /// First and second moments of the weight.
    pub weight: (Vec<f32>, Vec<f32>),
    /// First and second moments of the bias.
    pub bias: (Vec<f32>, Vec<f32>),
}

/// The scalar part of a snapshot (everything but tensors), serializable as is. Floats whose
/// exact bits matter for the continuation are kept as bits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotState {
    /// The config the run was started with: a snapshot only continues the same run.
    pub config: TrainConfig,
    /// Epochs completed.
    pub epochs_run: usize,
    /// Optimizer steps taken.
    pub steps: u64,
    /// One entry per completed epoch.
    pub history: Vec<EpochReport>,
    /// Early stopping: the best epoch so far.
    pub best_epoch: Option<usize>,
    /// Early stopping: the best score's bits (lower is better).
    pub best_score_bits: Option<u64>,
    /// Early stopping: epochs without improvement.
    pub since_best: usize,
    /// Early stopping fired / the observer ended the run.
    pub stopped_early: bool,
    /// The observer ended the run.
    pub stopped_by_observer: bool,
    /// The run is over.
    pub done: bool,
    /// Word positions of the shuffle and dropout RNG streams.
    pub shuffle_word_pos: u128,
    /// See `shuffle_word_pos`.
    pub dropout_word_pos: u128,
    /// Inside an epoch: batches already taken and the bits of their loss sum (`None` at an
    /// epoch boundary, before the shuffle).
    pub in_epoch: Option<(usize, u64)>,
}

/// A training run's complete state; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSnapshot {
    /// Counters, history, RNG positions and early-stopping state.
    pub state: SnapshotState,
    /// The model's layers after the last completed step.
    pub layers: Vec<Dense>,
    /// Optimizer moments by layer.
    pub moments: Vec<LayerMoments>,
    /// Row order of the current epoch (the shuffle permutes it in place every epoch).
    pub order: Vec<usize>,
    /// Early stopping with `restore_best`: the best epoch's layers (empty otherwise).
    pub best_layers: Vec<Dense>,
}

impl TrainSnapshot {
    /// Epochs completed when the snapshot was taken.
    pub fn epochs_run(&self) -> usize {
        self.state.epochs_run
    }
}

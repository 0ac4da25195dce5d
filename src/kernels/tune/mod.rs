//! Hyperparameter search kernels: search spaces, samplers (grid, random, TPE), trial pruners
//! (median, ASHA), cross-validation splits and cross-validated training runs.
//!
//! Everything here is a pure function of its inputs. A sampler draws trial `k` from
//! `(seed, k, history)` alone, so any worker can draw any trial reproducibly; a pruner decides
//! from the trial's own intermediate values and the other trials' records. The study state
//! (trial rows) lives in the store, never here.

pub mod cv;
mod draw;
pub mod pruner;
pub mod sampler;
pub mod space;
pub mod split;
mod tpe;

pub use cv::{cross_validate, holdout_fold, study_folds, CvRun, FoldData, FoldScore, Schedule};
pub use pruner::{should_prune, Pruner};
pub use sampler::{sample, Sampler, TpeConfig};
pub use space::{grid_size, Distribution, SearchSpace};
pub use split::{holdout_split, kfold_indices, stratified_holdout, stratified_kfold_indices, Fold};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Whether the objective is minimized or maximized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower is better (losses, errors).
    #[default]
    Minimize,
    /// Higher is better (accuracy, F1).
    Maximize,
}

impl Direction {
    /// The value as a loss (lower is better).
    pub fn loss(self, value: f64) -> f64 {
        match self {
            Direction::Minimize => value,
            Direction::Maximize => -value,
        }
    }
}

/// Lifecycle state of a trial as the study records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialState {
    /// Still running (its intermediate values so far count for pruners).
    Running,
    /// Finished with a final value.
    Complete,
    /// Stopped early by a pruner.
    Pruned,
    /// Errored; ignored by samplers and pruners.
    Failed,
}

/// One trial of a study, as samplers and pruners see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Trial number within the study (0-based, unique).
    pub number: usize,
    /// Parameter values by name.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Current state.
    pub state: TrialState,
    /// Final objective value (for complete trials).
    pub value: Option<f64>,
    /// Reported `(step, value)` pairs in increasing step order (step = resource used so
    /// far, e.g. epochs completed).
    #[serde(default)]
    pub intermediate: Vec<(u32, f64)>,
}

impl TrialRecord {
    /// The finite final value of a complete trial.
    fn complete_value(&self) -> Option<f64> {
        match (self.state, self.value) {
            (TrialState::Complete, Some(v)) if v.is_finite() => Some(v),
            _ => None,
        }
    }
}

//! MLP training and evaluation kernels: dense layers, activations, losses, optimizers,
//! learning-rate schedules, mini-batch training with early stopping and constraint hooks
//! (pruning masks, fake quantization), and evaluation metrics. Pure and synchronous;
//! deterministic for a given seed.
//!
//! Entry points: [`Mlp::new_initialized`], [`train()`], [`evaluate`], [`Mlp::forward`] /
//! [`Mlp::predict_proba`], and the [`metrics`] module.

pub mod activation;
pub mod constraint;
pub mod data;
pub mod loss;
pub mod matmul;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod quality;
pub mod train;

pub use activation::{Activation, UnknownActivation};
pub use constraint::{MaskConstraint, WeightConstraint};
pub use data::{select_rows, Standardization, Task};
pub use loss::{HuberLoss, Loss};
pub use model::{argmax, outputs_to_proba, Dense, Init, Mlp};
pub use optim::{LrDecay, LrSchedule, OptimizerConfig};
pub use quality::{inference_speed, quality, InferenceSpeed, Quality};
pub use train::{
    evaluate, train, EarlyStopping, EpochReport, Evaluation, LayerMoments, Monitor, NoopObserver,
    SnapshotState, Targets, TrainConfig, TrainObserver, TrainReport, TrainSnapshot, Trainer,
};

/// Test fixtures shared by the nn and MLP-format tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use ndarray::Array2;

    /// Reads `tests/fixtures/<name>` (header `f0..f63,label`) into features and labels.
    pub(crate) fn read_digits(name: &str) -> (Array2<f32>, Vec<usize>) {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut features = Vec::new();
        let mut labels = Vec::new();
        let mut cols = 0;
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').collect();
            cols = fields.len() - 1;
            features.extend(
                fields[..cols]
                    .iter()
                    .map(|f| f.trim().parse::<f32>().unwrap()),
            );
            labels.push(fields[cols].trim().parse::<f64>().unwrap() as usize);
        }
        let x = Array2::from_shape_vec((labels.len(), cols), features).unwrap();
        (x, labels)
    }
}

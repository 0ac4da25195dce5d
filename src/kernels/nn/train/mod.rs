//! Mini-batch training of an [`Mlp`](super::Mlp): shuffling, forward/backward passes over
//! preallocated feature-major buffers, gradient clipping, optimizer steps, constraints,
//! validation, early stopping and cancellation.
//!
//! Layout: activations live feature-major (`[features × batch]`) so every product is
//! [`matmul`](super::matmul::matmul)'s broadcast-A form without packing; the weight gradient
//! reads a batch-major copy of the layer input made by one small transpose. All buffers are
//! allocated once per call.
//!
//! Parts: [`config`] (what a run is asked to do and what it reports), [`targets`] (labels or
//! values per row), [`backprop`] (the buffers and the forward/backward pass of one batch),
//! [`trainer`] (the epoch loop, [`train()`] and [`evaluate`]) and [`snapshot`] (a run's
//! whole state, to continue it bitwise after a stop).

mod backprop;
mod config;
mod snapshot;
mod targets;
mod trainer;

pub use config::{
    EarlyStopping, EpochReport, Evaluation, Monitor, NoopObserver, TrainConfig, TrainObserver,
    TrainReport,
};
pub use snapshot::{LayerMoments, SnapshotState, TrainSnapshot};
pub use targets::Targets;
pub use trainer::{evaluate, train, Trainer};

/// A `rows × cols` matrix of standard normal draws, reproducible from `seed`.
#[cfg(test)]
fn gaussian(rows: usize, cols: usize, seed: u64) -> ndarray::Array2<f32> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).unwrap();
    ndarray::Array2::from_shape_fn((rows, cols), |_| normal.sample(&mut rng))
}

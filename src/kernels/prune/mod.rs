//! Pruning kernels: choose which weights (or whole neurons) to zero or remove.
//!
//! Every function is pure and works on `[out, in]` weight matrices (the `layers.N.weight`
//! layout). Masks use `true = keep`. Pruning never touches the sign of a kept weight and writes
//! `+0.0` into pruned slots.
//!
//! Shared rules, stated once:
//! - **Count rounding:** a sparsity `s ∈ [0, 1)` over `n` elements prunes exactly
//!   `round(s·n)` elements, rounding half away from zero (`f64::round`).
//! - **Ties:** elements are ranked by `(|w|, position)`; among equal magnitudes the lower
//!   position is pruned first. Positions are row-major flat indices; in global scope they run
//!   across tensors in the order given (tensor 0 first). NaN ranks above `+inf` (kept).
//!
//! Submodules: [`magnitude`] (unstructured magnitude and threshold masks), [`semi`] (N:M),
//! [`wanda`] (activation-aware scores), [`structured`] (remove whole neurons), [`schedule`]
//! (gradual-pruning sparsity schedule).

pub mod magnitude;
pub mod schedule;
pub mod semi;
pub mod structured;
pub mod wanda;

pub use magnitude::{
    global_magnitude_cutoff, magnitude_masks, threshold_masks, MagnitudeCutoff, PassCounts, Scope,
};
pub use schedule::PolynomialDecay;
pub use semi::nm_mask;
pub use structured::{
    neuron_scores, remove_neurons, structured_prune_per_layer, Norm, StructuredReport,
};
pub use wanda::{input_feature_norms, wanda_mask, wanda_nm_mask};

use ndarray::{Array2, ArrayView2, Zip};
use rayon::prelude::*;
use serde::Serialize;

use crate::kernels::KernelError;

/// Elements per rayon task in the flat-slice kernels (256 KiB of f32: big enough to amortize
/// scheduling, small enough to balance two cores).
pub(crate) const CHUNK: usize = 1 << 16;

/// Checks `sparsity ∈ [0, 1)`; the error names the field `sparsity`.
pub(crate) fn check_sparsity(sparsity: f64) -> Result<(), KernelError> {
    if !(0.0..1.0).contains(&sparsity) {
        return Err(KernelError::invalid(
            "sparsity",
            format!("must be in [0, 1), got {sparsity}"),
        ));
    }
    Ok(())
}

/// Number of elements a sparsity prunes out of `n`: `round(s·n)`, half away from zero.
pub fn pruned_count(n: u64, sparsity: f64) -> u64 {
    // s < 1 keeps the product below n + 0.5, so the cast cannot exceed n.
    ((sparsity * n as f64).round() as u64).min(n)
}

/// Zeroes `w` where `mask` is false (sets `+0.0`); kept weights are untouched, signs included.
pub fn apply_mask(w: &mut Array2<f32>, mask: &Array2<bool>) -> Result<(), KernelError> {
    if w.dim() != mask.dim() {
        return Err(KernelError::Shape(format!(
            "mask is {:?} but weights are {:?}",
            mask.dim(),
            w.dim()
        )));
    }
    Zip::from(w).and(mask).par_for_each(|x, &keep| {
        if !keep {
            *x = 0.0;
        }
    });
    Ok(())
}

/// Fraction of exact zeros in `w` (`-0.0` counts as zero); 0 for an empty tensor.
pub fn sparsity(w: ArrayView2<f32>) -> f64 {
    let t = TensorSparsity::from_weights(w);
    t.sparsity
}

/// Zero count of one tensor (or of all of them, in [`SparsityReport::global`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TensorSparsity {
    /// Number of elements.
    pub numel: u64,
    /// Number of zero weights (or of `false` mask entries).
    pub zeros: u64,
    /// `zeros / numel`, 0 when empty.
    pub sparsity: f64,
}

impl TensorSparsity {
    fn new(numel: u64, zeros: u64) -> Self {
        let sparsity = if numel == 0 {
            0.0
        } else {
            zeros as f64 / numel as f64
        };
        TensorSparsity {
            numel,
            zeros,
            sparsity,
        }
    }

    /// Counts zero weights.
    pub fn from_weights(w: ArrayView2<f32>) -> Self {
        let zeros = match w.as_slice() {
            Some(s) => s
                .par_chunks(CHUNK)
                .map(|c| c.iter().filter(|&&x| x == 0.0).count() as u64)
                .sum(),
            None => w.iter().filter(|&&x| x == 0.0).count() as u64,
        };
        TensorSparsity::new(w.len() as u64, zeros)
    }

    /// Counts pruned (`false`) mask entries.
    pub fn from_mask(mask: &Array2<bool>) -> Self {
        let zeros = mask.iter().filter(|&&keep| !keep).count() as u64;
        TensorSparsity::new(mask.len() as u64, zeros)
    }
}

/// Per-tensor and global sparsity, for job results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SparsityReport {
    /// One entry per tensor, in input order.
    pub tensors: Vec<TensorSparsity>,
    /// All tensors together.
    pub global: TensorSparsity,
}

impl SparsityReport {
    fn from_parts(tensors: Vec<TensorSparsity>) -> Self {
        let numel = tensors.iter().map(|t| t.numel).sum();
        let zeros = tensors.iter().map(|t| t.zeros).sum();
        SparsityReport {
            tensors,
            global: TensorSparsity::new(numel, zeros),
        }
    }

    /// Report over weight tensors (counts exact zeros).
    pub fn from_weights(weights: &[ArrayView2<f32>]) -> Self {
        Self::from_parts(
            weights
                .iter()
                .map(|w| TensorSparsity::from_weights(w.view()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn pruned_count_rounds_half_away_from_zero() {
        assert_eq!(pruned_count(10, 0.25), 3); // 2.5 → 3
        assert_eq!(pruned_count(10, 0.24), 2);
        assert_eq!(pruned_count(3, 0.5), 2); // 1.5 → 2
        assert_eq!(pruned_count(0, 0.5), 0);
        assert_eq!(pruned_count(4, 0.99), 4); // 3.96 → 4
    }

    #[test]
    fn check_sparsity_names_field() {
        for bad in [-0.1, 1.0, 1.5, f64::NAN] {
            match check_sparsity(bad) {
                Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "sparsity"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(check_sparsity(0.0).is_ok());
        assert!(check_sparsity(0.999).is_ok());
    }

    #[test]
    fn apply_mask_keeps_signs_and_zeroes_pruned() {
        let mut w = array![[-1.0f32, 2.0], [3.0, -4.0]];
        let mask = array![[true, false], [false, true]];
        apply_mask(&mut w, &mask).unwrap();
        assert_eq!(w, array![[-1.0f32, 0.0], [0.0, -4.0]]);
        let bad = Array2::from_elem((1, 2), true);
        assert!(matches!(
            apply_mask(&mut w, &bad),
            Err(KernelError::Shape(_))
        ));
    }

    #[test]
    fn report_counts_zeros() {
        let a = array![[0.0f32, -0.0], [1.0, 2.0]];
        let b = array![[0.0f32, 5.0, 6.0, 7.0]];
        let r = SparsityReport::from_weights(&[a.view(), b.view()]);
        assert_eq!(r.tensors[0].zeros, 2);
        assert_eq!(r.tensors[1].zeros, 1);
        assert_eq!(
            r.global,
            TensorSparsity {
                numel: 8,
                zeros: 3,
                sparsity: 0.375
            }
        );
        assert_eq!(sparsity(a.view()), 0.5);
        assert_eq!(
            TensorSparsity::from_mask(&array![[true, false, false]]).zeros,
            2
        );
    }
}

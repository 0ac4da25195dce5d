//! Structured pruning of whole hidden neurons of an MLP.
//!
//! Neuron `j` of layer `i` is row `j` of `W_i` (`[out, in]`) and entry `j` of `b_i`; removing
//! it also removes input column `j` of `W_{i+1}`. The result is a smaller dense model, not a
//! mask. The output layer's neurons are never removed. Scores are the L1 or L2 norm of each
//! neuron's incoming weight row, all computed on the model as given (one shot), so the result
//! does not depend on the order layers are visited.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::{check_sparsity, pruned_count};
use crate::kernels::KernelError;

/// Norm used to score a neuron's incoming weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Sum of absolute values.
    L1,
    /// Euclidean norm.
    L2,
}

/// Per-row (per output neuron) norm of `w: [out, in]`, accumulated in f64.
pub fn neuron_scores(w: ArrayView2<f32>, norm: Norm) -> Array1<f32> {
    w.rows()
        .into_iter()
        .map(|row| match norm {
            Norm::L1 => row.iter().map(|&x| f64::from(x).abs()).sum::<f64>() as f32,
            Norm::L2 => row
                .iter()
                .map(|&x| f64::from(x) * f64::from(x))
                .sum::<f64>()
                .sqrt() as f32,
        })
        .collect()
}

/// What structured pruning removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StructuredReport {
    /// Per hidden layer, the original indices of the neurons kept (ascending).
    pub kept: Vec<Vec<usize>>,
    /// Hidden layer widths before pruning.
    pub sizes_before: Vec<usize>,
    /// Hidden layer widths after pruning.
    pub sizes_after: Vec<usize>,
}

/// Checks that `weights`/`biases` chain as an MLP: `W_i: [out_i, in_i]`, `b_i: [out_i]`,
/// `in_{i+1} = out_i`.
fn check_chain(weights: &[Array2<f32>], biases: &[Array1<f32>]) -> Result<(), KernelError> {
    if weights.len() != biases.len() {
        return Err(KernelError::Shape(format!(
            "{} weight matrices but {} bias vectors",
            weights.len(),
            biases.len()
        )));
    }
    for (i, (w, b)) in weights.iter().zip(biases).enumerate() {
        if b.len() != w.nrows() {
            return Err(KernelError::Shape(format!(
                "layer {i}: bias has {} entries, weight has {} rows",
                b.len(),
                w.nrows()
            )));
        }
        if let Some(next) = weights.get(i + 1) {
            if next.ncols() != w.nrows() {
                return Err(KernelError::Shape(format!(
                    "layer {}: takes {} inputs but layer {i} has {} outputs",
                    i + 1,
                    next.ncols(),
                    w.nrows()
                )));
            }
        }
    }
    Ok(())
}

/// Removes `round(sparsity · width)` neurons (at most `width − 1`) from every hidden layer,
/// lowest norm first (ties: lower index first). Tests use it for the uniform case.
#[cfg(test)]
fn structured_prune(
    weights: &mut [Array2<f32>],
    biases: &mut [Array1<f32>],
    sparsity: f64,
    norm: Norm,
) -> Result<StructuredReport, KernelError> {
    let hidden = weights.len().saturating_sub(1);
    structured_prune_per_layer(weights, biases, &vec![sparsity; hidden], norm)
}

/// Removes `round(sparsity · width)` neurons (at most `width − 1`) of each hidden layer at
/// its own sparsity, lowest norm first (ties: lower index first); `layer_sparsity.len()` must be
/// the number of layers − 1.
pub fn structured_prune_per_layer(
    weights: &mut [Array2<f32>],
    biases: &mut [Array1<f32>],
    layer_sparsity: &[f64],
    norm: Norm,
) -> Result<StructuredReport, KernelError> {
    check_chain(weights, biases)?;
    let hidden = weights.len().saturating_sub(1);
    if layer_sparsity.len() != hidden {
        return Err(KernelError::invalid(
            "sparsity",
            format!(
                "expected {hidden} per-layer values (one per hidden layer), got {}",
                layer_sparsity.len()
            ),
        ));
    }
    for &s in layer_sparsity {
        check_sparsity(s)?;
    }
    let mut kept = Vec::with_capacity(hidden);
    for (w, &s) in weights.iter().zip(layer_sparsity) {
        let width = w.nrows();
        let remove = (pruned_count(width as u64, s) as usize).min(width.saturating_sub(1));
        let scores = neuron_scores(w.view(), norm);
        let mut order: Vec<(u32, usize)> = scores
            .iter()
            .enumerate()
            .map(|(j, &v)| (v.to_bits() & 0x7fff_ffff, j))
            .collect();
        order.sort_unstable();
        let mut keep: Vec<usize> = order.iter().skip(remove).map(|&(_, j)| j).collect();
        keep.sort_unstable();
        kept.push(keep);
    }
    let sizes_before = weights.iter().take(hidden).map(|w| w.nrows()).collect();
    remove_neurons(weights, biases, &kept)?;
    let sizes_after = kept.iter().map(Vec::len).collect();
    Ok(StructuredReport {
        kept,
        sizes_before,
        sizes_after,
    })
}

/// Physically keeps only the neurons `kept[i]` of hidden layer `i` (rows of `W_i`, entries of
/// `b_i`, columns of `W_{i+1}`). Validates everything before changing anything.
pub fn remove_neurons(
    weights: &mut [Array2<f32>],
    biases: &mut [Array1<f32>],
    kept: &[Vec<usize>],
) -> Result<(), KernelError> {
    check_chain(weights, biases)?;
    if kept.len() != weights.len().saturating_sub(1) {
        return Err(KernelError::Shape(format!(
            "kept lists {} layers, the model has {} hidden layers",
            kept.len(),
            weights.len().saturating_sub(1)
        )));
    }
    for (i, (k, w)) in kept.iter().zip(weights.iter()).enumerate() {
        if k.is_empty() || k.windows(2).any(|p| p[0] >= p[1]) || k.iter().any(|&j| j >= w.nrows()) {
            return Err(KernelError::invalid(
                "kept",
                format!(
                    "layer {i}: indices must be non-empty, ascending, unique and < {}",
                    w.nrows()
                ),
            ));
        }
    }
    for (i, k) in kept.iter().enumerate() {
        if let Some(w) = weights.get_mut(i) {
            *w = w.select(Axis(0), k);
        }
        if let Some(b) = biases.get_mut(i) {
            *b = b.select(Axis(0), k);
        }
        if let Some(next) = weights.get_mut(i + 1) {
            // `select` along columns yields a column-major array; kernels expect row-major.
            *next = next.select(Axis(1), k).as_standard_layout().into_owned();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn pruned_layers_stay_row_major() {
        let mut w = vec![
            Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f32 + 1.0),
            Array2::from_shape_fn((2, 4), |(i, j)| (i * 4 + j) as f32 + 1.0),
        ];
        let mut b = vec![Array1::zeros(4), Array1::zeros(2)];
        remove_neurons(&mut w, &mut b, &[vec![1, 3]]).unwrap();
        assert!(w.iter().all(|m| m.is_standard_layout()));
        assert_eq!(w[1], ndarray::array![[2.0, 4.0], [6.0, 8.0]]);
    }
    use super::*;
    use ndarray::{array, Array1};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Tiny forward pass: relu on hidden layers, identity on the output layer.
    fn forward(ws: &[Array2<f32>], bs: &[Array1<f32>], x: &Array2<f32>) -> Array2<f32> {
        let mut h = x.clone();
        for (i, (w, b)) in ws.iter().zip(bs).enumerate() {
            h = h.dot(&w.t()) + b;
            if i + 1 < ws.len() {
                h.mapv_inplace(|v| v.max(0.0));
            }
        }
        h
    }

    fn random_mlp(sizes: &[usize], seed: u64) -> (Vec<Array2<f32>>, Vec<Array1<f32>>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut ws = Vec::new();
        let mut bs = Vec::new();
        for p in sizes.windows(2) {
            ws.push(Array2::from_shape_simple_fn((p[1], p[0]), || {
                rng.random::<f32>() - 0.5
            }));
            bs.push(Array1::from_shape_simple_fn(p[1], || {
                rng.random::<f32>() - 0.5
            }));
        }
        (ws, bs)
    }

    #[test]
    fn scores_hand_example() {
        let w = array![[3.0f32, -4.0], [1.0, 0.0]];
        assert_eq!(neuron_scores(w.view(), Norm::L1), array![7.0f32, 1.0]);
        assert_eq!(neuron_scores(w.view(), Norm::L2), array![5.0f32, 1.0]);
    }

    #[test]
    fn pruned_model_equals_masked_model() {
        let (ws, bs) = random_mlp(&[6, 10, 8, 3], 4);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x = Array2::from_shape_simple_fn((7, 6), || rng.random::<f32>() * 2.0 - 1.0);
        for norm in [Norm::L1, Norm::L2] {
            let (mut pw, mut pb) = (ws.clone(), bs.clone());
            let rep = structured_prune(&mut pw, &mut pb, 0.4, norm).unwrap();
            // round(0.4·10) = 4 removed, round(0.4·8) = 3.2 → 3 removed; output layer intact.
            assert_eq!(rep.sizes_before, vec![10, 8]);
            assert_eq!(rep.sizes_after, vec![6, 5]);
            assert_eq!(pw[0].dim(), (6, 6));
            assert_eq!(pw[1].dim(), (5, 6));
            assert_eq!(pw[2].dim(), (3, 5));
            assert_eq!(pb[2].len(), 3);
            // Masked model: zero the removed neurons' rows and biases (relu(0) = 0 feeds 0).
            let (mut mw, mut mb) = (ws.clone(), bs.clone());
            for ((keep, w), b) in rep.kept.iter().zip(&mut mw).zip(&mut mb) {
                for (j, (mut row, bj)) in w.rows_mut().into_iter().zip(b.iter_mut()).enumerate() {
                    if !keep.contains(&j) {
                        row.fill(0.0);
                        *bj = 0.0;
                    }
                }
            }
            let a = forward(&pw, &pb, &x);
            let b = forward(&mw, &mb, &x);
            // Same sums in the same order minus exact zeros: equal to f32 rounding (1e-5).
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() <= 1e-5, "{p} vs {q}");
            }
        }
    }

    #[test]
    fn removes_lowest_norm_neurons_with_index_ties() {
        // Hidden layer of 4: L1 norms 2, 1, 1, 3 → removing round(0.5·4) = 2 drops neurons
        // 1 and 2 (the tie at 1 goes to the lower index first, then index 2).
        let ws = vec![
            array![[2.0f32], [-1.0], [1.0], [3.0]],
            array![[1.0f32, 2.0, 3.0, 4.0]],
        ];
        let bs = vec![array![0.1f32, 0.2, 0.3, 0.4], array![0.5f32]];
        let (mut w, mut b) = (ws.clone(), bs.clone());
        let rep = structured_prune(&mut w, &mut b, 0.5, Norm::L1).unwrap();
        assert_eq!(rep.kept, vec![vec![0, 3]]);
        assert_eq!(w[0], array![[2.0f32], [3.0]]);
        assert_eq!(b[0], array![0.1f32, 0.4]);
        assert_eq!(w[1], array![[1.0f32, 4.0]]);
        // 3/4 removal keeps only neuron 3; 0.99 would remove all 4 but one is always kept.
        let (mut w, mut b) = (ws.clone(), bs.clone());
        assert_eq!(
            structured_prune(&mut w, &mut b, 0.99, Norm::L1)
                .unwrap()
                .kept,
            vec![vec![3]]
        );
    }

    #[test]
    fn bad_inputs_leave_model_untouched() {
        let (ws, bs) = random_mlp(&[3, 4, 2], 1);
        let (mut w, mut b) = (ws.clone(), bs.clone());
        match structured_prune(&mut w, &mut b, 1.0, Norm::L2) {
            Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "sparsity"),
            other => panic!("{other:?}"),
        }
        assert_eq!((w.clone(), b.clone()), (ws.clone(), bs.clone()));
        let mut short_b = vec![bs[0].clone()];
        assert!(matches!(
            structured_prune(&mut w, &mut short_b, 0.5, Norm::L2),
            Err(KernelError::Shape(_))
        ));
        assert!(remove_neurons(&mut w, &mut b, &[vec![1, 0]]).is_err());
        assert!(remove_neurons(&mut w, &mut b, &[vec![4]]).is_err());
        assert_eq!((w, b), (ws, bs));
    }
}

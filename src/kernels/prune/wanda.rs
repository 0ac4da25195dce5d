//! Wanda pruning (Sun et al., 2023, "A Simple and Effective Pruning Approach for LLMs"):
//! score `S_ij = |W_ij| · ‖X_j‖₂`, where `X_j` is input feature `j` over a calibration set,
//! and each output row `i` independently drops its lowest-scoring weights.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use super::semi::{check_nm, nm_mask_scored, score_bits};
use super::{check_sparsity, pruned_count};
use crate::kernels::KernelError;

/// Column L2 norms `‖X_j‖₂` of calibration activations `x: [samples, in_features]` (the
/// inputs of the layer being pruned); accumulated in f64.
pub fn input_feature_norms(x: ArrayView2<f32>) -> Array1<f32> {
    let cols = x.ncols();
    let sums = x
        .axis_chunks_iter(Axis(0), 256)
        .into_par_iter()
        .map(|block| {
            let mut acc = vec![0.0f64; cols];
            for row in block.rows() {
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += f64::from(v) * f64::from(v);
                }
            }
            acc
        })
        .reduce(
            || vec![0.0f64; cols],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                a
            },
        );
    sums.into_iter().map(|s| s.sqrt() as f32).collect()
}

fn check_norms(w: &ArrayView2<f32>, norms: &ArrayView1<f32>) -> Result<(), KernelError> {
    if norms.len() != w.ncols() {
        return Err(KernelError::Shape(format!(
            "input_norms has {} entries, weights have {} input features",
            norms.len(),
            w.ncols()
        )));
    }
    if let Some(bad) = norms.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
        return Err(KernelError::invalid(
            "input_norms",
            format!("must be finite and ≥ 0, found {bad}"),
        ));
    }
    Ok(())
}

/// Wanda mask (`true = keep`): each output row prunes `round(sparsity · in)` weights with the
/// lowest `|W_ij| · norms_j` (ties: lower column first).
pub fn wanda_mask(
    w: ArrayView2<f32>,
    input_norms: ArrayView1<f32>,
    sparsity: f64,
) -> Result<Array2<bool>, KernelError> {
    check_sparsity(sparsity)?;
    check_norms(&w, &input_norms)?;
    let (rows, cols) = w.dim();
    if rows == 0 || cols == 0 {
        return Ok(Array2::from_elem((rows, cols), true));
    }
    let k = pruned_count(cols as u64, sparsity) as usize;
    let norms = input_norms.as_standard_layout();
    let norms = norms.as_slice().unwrap_or_default();
    let w = w.as_standard_layout();
    let data = w.as_slice().unwrap_or_default();
    let mut out = vec![true; rows * cols];
    out.par_chunks_mut(cols)
        .zip(data.par_chunks(cols))
        .for_each_init(
            || Vec::with_capacity(cols),
            |keys: &mut Vec<(u32, u32)>, (o, row)| {
                if k == 0 {
                    return;
                }
                keys.clear();
                keys.extend(
                    row.iter()
                        .zip(norms)
                        .enumerate()
                        .map(|(j, (&x, &s))| (score_bits(x.abs() * s), j as u32)),
                );
                keys.select_nth_unstable(k - 1);
                for &(_, j) in &keys[..k] {
                    if let Some(o) = o.get_mut(j as usize) {
                        *o = false;
                    }
                }
            },
        );
    Array2::from_shape_vec((rows, cols), out).map_err(|e| KernelError::Shape(e.to_string()))
}

/// Wanda scores under an N:M pattern (the paper's 2:4 / 4:8 variant): each group of `m`
/// consecutive inputs keeps its `n` highest scores (tail rule as in [`super::nm_mask`]).
pub fn wanda_nm_mask(
    w: ArrayView2<f32>,
    input_norms: ArrayView1<f32>,
    n: usize,
    m: usize,
) -> Result<Array2<bool>, KernelError> {
    check_nm(n, m)?;
    check_norms(&w, &input_norms)?;
    let norms = input_norms.to_vec();
    Ok(nm_mask_scored(w, Some(&norms), n, m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::prune::semi::nm_mask_reference;
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Reference implementation for tests: full sort of each row's scores.
    fn wanda_reference(w: ArrayView2<f32>, norms: &[f32], sparsity: f64) -> Array2<bool> {
        let k = pruned_count(w.ncols() as u64, sparsity) as usize;
        let mut out = Array2::from_elem(w.dim(), true);
        for (r, row) in w.rows().into_iter().enumerate() {
            let mut s: Vec<(f32, usize)> = row
                .iter()
                .enumerate()
                .map(|(j, &x)| (x.abs() * norms[j], j))
                .collect();
            s.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(_, j) in &s[..k] {
                out[(r, j)] = false;
            }
        }
        out
    }

    #[test]
    fn norms_are_column_l2() {
        // Column 0: (3, 4) → 5; column 1: (0, -2) → 2.
        let x = array![[3.0f32, 0.0], [4.0, -2.0]];
        assert_eq!(input_feature_norms(x.view()), array![5.0f32, 2.0]);
    }

    #[test]
    fn hand_example_differs_from_magnitude() {
        // W = [[4, -1, 2], [1, 3, -3]], ‖X_j‖ = [0.1, 10, 1].
        // Scores row 0: 0.4, 10, 2 ; row 1: 0.1, 30, 3.
        // 1/3 sparsity → round(1) = 1 per row: row 0 drops col 0 (the largest |w|!), row 1 col 0.
        let w = array![[4.0f32, -1.0, 2.0], [1.0, 3.0, -3.0]];
        let norms = array![0.1f32, 10.0, 1.0];
        let m = wanda_mask(w.view(), norms.view(), 1.0 / 3.0).unwrap();
        assert_eq!(m, array![[false, true, true], [false, true, true]]);
        // 2/3 → 2 per row: row 0 keeps col 1; row 1 keeps col 1.
        let m = wanda_mask(w.view(), norms.view(), 2.0 / 3.0).unwrap();
        assert_eq!(m, array![[false, true, false], [false, true, false]]);
    }

    #[test]
    fn matches_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let w = Array2::from_shape_simple_fn((40, 90), || rng.random::<f32>() - 0.5);
        let norms: Vec<f32> = (0..90).map(|_| rng.random::<f32>() * 3.0).collect();
        let nv = ArrayView1::from(&norms);
        for s in [0.0, 0.2, 0.5, 0.9] {
            assert_eq!(
                wanda_mask(w.view(), nv, s).unwrap(),
                wanda_reference(w.view(), &norms, s)
            );
        }
        assert_eq!(
            wanda_nm_mask(w.view(), nv, 2, 4).unwrap(),
            nm_mask_reference(w.view(), Some(&norms), 2, 4)
        );
    }

    #[test]
    fn bad_inputs() {
        let w = array![[1.0f32, 2.0]];
        let short = array![1.0f32];
        assert!(matches!(
            wanda_mask(w.view(), short.view(), 0.5),
            Err(KernelError::Shape(_))
        ));
        let neg = array![1.0f32, -1.0];
        match wanda_mask(w.view(), neg.view(), 0.5) {
            Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "input_norms"),
            other => panic!("{other:?}"),
        }
        let ok = array![1.0f32, 1.0];
        match wanda_mask(w.view(), ok.view(), 1.0) {
            Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "sparsity"),
            other => panic!("{other:?}"),
        }
        match wanda_nm_mask(w.view(), ok.view(), 2, 2) {
            Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "n"),
            other => panic!("{other:?}"),
        }
    }
}

//! N:M semi-structured sparsity (2:4, 4:8, …) along the input dimension.
//!
//! Each row of a `[out, in]` matrix is cut into groups of `m` consecutive weights; each group
//! keeps its `n` highest-ranked entries, rank = `(score, position)` with the lower position
//! losing ties. **Tail rule:** when `in % m = r ≠ 0` the last group has `r` weights and keeps
//! `min(n, r)` of them, exactly what the group would keep if the row were zero-padded to a
//! multiple of `m` (the pads rank lowest). So the zero-padded result is a valid N:M matrix,
//! which is what a padded sparse kernel needs, and the tail is not left denser than necessary.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::kernels::KernelError;

/// Checks `1 ≤ n < m`; errors name the field `n` or `m`.
pub(crate) fn check_nm(n: usize, m: usize) -> Result<(), KernelError> {
    if m == 0 {
        return Err(KernelError::invalid("m", "must be ≥ 1"));
    }
    if n == 0 || n >= m {
        return Err(KernelError::invalid(
            "n",
            format!("must satisfy 1 ≤ n < m = {m}, got {n}"),
        ));
    }
    Ok(())
}

/// N:M mask (`true = keep`) by weight magnitude.
pub fn nm_mask(w: ArrayView2<f32>, n: usize, m: usize) -> Result<Array2<bool>, KernelError> {
    check_nm(n, m)?;
    Ok(nm_mask_scored(w, None, n, m))
}

/// Bit pattern of a non-negative score, ordered like its value (NaN highest).
#[inline(always)]
pub(crate) fn score_bits(x: f32) -> u32 {
    x.to_bits() & 0x7fff_ffff
}

/// N:M mask over scores `|w_ij| · scale_j` (`scale = None` → plain magnitude). Assumes
/// validated `n`, `m` and `scale.len() == cols`.
pub(crate) fn nm_mask_scored(
    w: ArrayView2<f32>,
    scale: Option<&[f32]>,
    n: usize,
    m: usize,
) -> Array2<bool> {
    let (rows, cols) = w.dim();
    let mut out = vec![false; rows * cols];
    if rows == 0 || cols == 0 {
        return Array2::from_elem((rows, cols), false);
    }
    let w = w.as_standard_layout();
    let data = w.as_slice().unwrap_or_default();
    out.par_chunks_mut(cols)
        .zip(data.par_chunks(cols))
        .for_each_init(
            || Vec::with_capacity(m),
            |keys, (o_row, w_row)| {
                // Common patterns take an unrolled fixed-size path for their full groups.
                let done = match m {
                    4 => nm_row_fixed::<4>(o_row, w_row, scale, n),
                    8 => nm_row_fixed::<8>(o_row, w_row, scale, n),
                    16 => nm_row_fixed::<16>(o_row, w_row, scale, n),
                    _ => 0,
                };
                nm_row_generic(o_row, w_row, scale, n, m, done, keys);
            },
        );
    Array2::from_shape_vec((rows, cols), out)
        .unwrap_or_else(|_| Array2::from_elem((rows, cols), true))
}

/// Group score as a non-negative `i32` bit pattern (ordered like the value).
#[inline(always)]
fn group_key(x: f32, scale: Option<f32>) -> i32 {
    let s = match scale {
        Some(c) => x.abs() * c,
        None => x,
    };
    score_bits(s) as i32
}

/// Full groups of a row for a compile-time `M`; returns how many elements it handled.
#[inline(always)]
fn nm_row_fixed<const M: usize>(
    o_row: &mut [bool],
    w_row: &[f32],
    scale: Option<&[f32]>,
    n: usize,
) -> usize {
    let prune = M - n.min(M);
    let mut done = 0;
    for (o, ws) in o_row.chunks_exact_mut(M).zip(w_row.chunks_exact(M)) {
        let (Ok(o), Ok(ws)) = (<&mut [bool; M]>::try_from(o), <&[f32; M]>::try_from(ws)) else {
            break;
        };
        let mut k = [0i32; M];
        for i in 0..M {
            k[i] = group_key(ws[i], scale.and_then(|s| s.get(done + i).copied()));
        }
        // rank_i = #{j : (k_j, j) < (k_i, i)}; `j < i` is a constant once unrolled.
        for i in 0..M {
            let mut rank = 0usize;
            for j in 0..M {
                let less = if j < i { k[j] <= k[i] } else { k[j] < k[i] };
                rank += usize::from(less);
            }
            o[i] = rank >= prune;
        }
        done += M;
    }
    done
}

/// Groups of a row starting at element `start` (a multiple of `m`), any `m`, tail included.
fn nm_row_generic(
    o_row: &mut [bool],
    w_row: &[f32],
    scale: Option<&[f32]>,
    n: usize,
    m: usize,
    start: usize,
    keys: &mut Vec<(i32, usize)>,
) {
    let (Some(o_rest), Some(w_rest)) = (o_row.get_mut(start..), w_row.get(start..)) else {
        return;
    };
    for (g, (o, ws)) in o_rest.chunks_mut(m).zip(w_rest.chunks(m)).enumerate() {
        let prune = ws.len() - n.min(ws.len());
        let base = start + g * m;
        keys.clear();
        keys.extend(ws.iter().enumerate().map(|(i, &x)| {
            (
                group_key(x, scale.and_then(|s| s.get(base + i).copied())),
                i,
            )
        }));
        if m <= 32 {
            // Rank by counting: branch-free, and cheaper than sorting tiny groups.
            for (i, &ki) in keys.iter().enumerate() {
                let rank = keys.iter().filter(|&&kj| kj < ki).count();
                o[i] = rank >= prune;
            }
        } else {
            o.iter_mut().for_each(|x| *x = true);
            if prune > 0 {
                keys.select_nth_unstable(prune - 1);
                for &(_, i) in &keys[..prune] {
                    o[i] = false;
                }
            }
        }
    }
}

/// Reference implementation for tests: sort every group's `(score, position)` keys.
#[cfg(test)]
pub(crate) fn nm_mask_reference(
    w: ArrayView2<f32>,
    scale: Option<&[f32]>,
    n: usize,
    m: usize,
) -> Array2<bool> {
    let (rows, cols) = w.dim();
    let mut out = Array2::from_elem((rows, cols), true);
    for r in 0..rows {
        let mut start = 0;
        while start < cols {
            let end = (start + m).min(cols);
            let mut keys: Vec<(f32, usize)> = (start..end)
                .map(|j| (w[(r, j)].abs() * scale.map_or(1.0, |s| s[j]), j))
                .collect();
            keys.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let prune = (end - start) - n.min(end - start);
            for &(_, j) in &keys[..prune] {
                out[(r, j)] = false;
            }
            start = end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || rng.random::<f32>() * 2.0 - 1.0)
    }

    #[test]
    fn two_four_pattern_holds_in_every_group() {
        let w = random(64, 128, 5);
        let mask = nm_mask(w.view(), 2, 4).unwrap();
        for row in mask.rows() {
            for g in row.as_slice().unwrap().chunks(4) {
                assert_eq!(g.iter().filter(|&&k| k).count(), 2);
            }
        }
        // Every kept weight outranks every pruned one in its group.
        for (r, row) in w.rows().into_iter().enumerate() {
            for g in 0..32 {
                let kept_min = (0..4)
                    .filter(|&i| mask[(r, 4 * g + i)])
                    .map(|i| row[4 * g + i].abs())
                    .fold(f32::INFINITY, f32::min);
                let pruned_max = (0..4)
                    .filter(|&i| !mask[(r, 4 * g + i)])
                    .map(|i| row[4 * g + i].abs())
                    .fold(0.0, f32::max);
                assert!(kept_min >= pruned_max);
            }
        }
    }

    #[test]
    fn hand_example_with_ties_and_tail() {
        // Row of 10 with 2:4 → groups [0..4], [4..8], tail [8..10].
        // g0: |.| = 1, 4, 3, 2 → keep 4, 3 (positions 1, 2).
        // g1: all equal → the lower positions lose ties: keep positions 6, 7.
        // tail (2 weights ≤ n = 2): both kept, as in the zero-padded group.
        let w = array![[1.0f32, -4.0, 3.0, -2.0, 5.0, -5.0, 5.0, -5.0, 0.1, -0.2]];
        let m = nm_mask(w.view(), 2, 4).unwrap();
        assert_eq!(
            m,
            array![[false, true, true, false, false, false, true, true, true, true]]
        );
        // 1:4 on the same row: tail keeps min(1, 2) = 1, the larger |-0.2|.
        let m = nm_mask(w.view(), 1, 4).unwrap();
        assert_eq!(
            m,
            array![[false, true, false, false, false, false, false, true, false, true]]
        );
    }

    #[test]
    fn matches_reference_for_several_patterns() {
        let w = random(33, 77, 6);
        for (n, m) in [
            (2, 4),
            (4, 8),
            (1, 4),
            (3, 4),
            (5, 16),
            (1, 3),
            (3, 40),
            (7, 64),
        ] {
            assert_eq!(
                nm_mask(w.view(), n, m).unwrap(),
                nm_mask_reference(w.view(), None, n, m)
            );
        }
        let t = w.t();
        assert_eq!(nm_mask(t, 4, 8).unwrap(), nm_mask_reference(t, None, 4, 8));
    }

    #[test]
    fn invalid_params_name_fields() {
        let w = random(2, 8, 1);
        for (n, m, field) in [(2, 0, "m"), (4, 4, "n"), (5, 4, "n"), (0, 4, "n")] {
            match nm_mask(w.view(), n, m) {
                Err(KernelError::InvalidParameter { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{n}:{m} {other:?}"),
            }
        }
    }
}

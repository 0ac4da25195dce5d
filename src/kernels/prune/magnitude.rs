//! Unstructured magnitude pruning to an exact sparsity (per tensor or global) and the fixed
//! threshold mode (`|w| < t → 0`).
//!
//! Selection is linear time and never sorts the weights: a stratified sample of `|w|` brackets
//! the cutoff rank with a band `(lo, hi]`; one parallel pass counts `|w| < lo` and `|w| == lo`
//! and collects the (~1.6 %) band members; `select_nth_unstable` on the band gives the exact
//! cutoff magnitude, and ties at it are resolved by position (rescanning only the one chunk
//! holding the boundary). If the sample was unlucky and the band misses the rank, the pass is
//! repeated on the side that holds it, so the result is always exact. Magnitudes are compared
//! as the bit patterns of `|w|`, which order like the values (NaN above `+inf`). The result is
//! a [`MagnitudeCutoff`], applied per tensor as a mask or in place (one more pass).

use ndarray::{Array2, ArrayView2, ArrayViewMut2, CowArray, Ix2, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{check_sparsity, pruned_count, CHUNK};
use crate::kernels::KernelError;

/// Where a sparsity target applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Each tensor reaches the sparsity on its own.
    Layer,
    /// The selected tensors together reach it; one magnitude cutoff across all of them.
    Global,
}

/// Sample size used to bracket the cutoff; the band then holds about `4/sqrt(SAMPLE)` of the
/// elements (1.6 %), cheap to select exactly.
const SAMPLE: usize = 1 << 16;

/// Bit pattern of `|x|`: orders like `|x|` for all non-NaN values, NaN above `+inf`.
#[inline(always)]
fn mag_bits(x: f32) -> u32 {
    x.to_bits() & 0x7fff_ffff
}

/// `mag_bits` as a non-negative `i32` (same order).
#[inline(always)]
fn mag_i32(x: f32) -> i32 {
    (x.to_bits() & 0x7fff_ffff) as i32
}

/// Above every `mag_bits` value: a cutoff at this class prunes everything.
const ALL: u32 = 0x8000_0000;

/// What [`MagnitudeCutoff::apply_into`] counted on its way through a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassCounts {
    pub zeros_before: u64,
    pub zeros_after: u64,
    /// No NaN or infinity in the input.
    pub finite: bool,
}

/// An exact magnitude cutoff over a list of tensors: an element at global position `g` with
/// magnitude bits `b` is pruned iff `b < bits`, or `b == bits` and `g < tie_end`.
#[derive(Debug, Clone, PartialEq)]
pub struct MagnitudeCutoff {
    bits: u32,
    tie_end: u64,
    offsets: Vec<u64>,
    lens: Vec<u64>,
    pruned: u64,
}

impl MagnitudeCutoff {
    /// Magnitude of the cutoff class (the largest pruned `|w|` when anything is pruned).
    pub fn threshold(&self) -> f32 {
        f32::from_bits(self.bits.min(0x7f80_0000))
    }

    /// Total number of elements this cutoff prunes.
    pub fn pruned(&self) -> u64 {
        self.pruned
    }

    /// Number of tensors the cutoff was computed over.
    pub fn tensors(&self) -> usize {
        self.lens.len()
    }

    fn check(&self, tensor: usize, len: usize) -> Result<u64, KernelError> {
        match (self.offsets.get(tensor), self.lens.get(tensor)) {
            (Some(&off), Some(&n)) if n == len as u64 => Ok(off),
            (Some(_), Some(&n)) => Err(KernelError::Shape(format!(
                "tensor {tensor} has {len} elements, the cutoff was computed for {n}"
            ))),
            _ => Err(KernelError::Shape(format!(
                "tensor {tensor} out of range: the cutoff covers {} tensors",
                self.lens.len()
            ))),
        }
    }

    /// For a global range `[g0, g1)` that does not straddle the tie boundary, the largest
    /// pruned magnitude as `i32` bits: prune iff `mag_i32(w) <= p` (`p = -1` prunes nothing).
    /// Signed compares because SSE2 (the default target) has no unsigned vector compare.
    #[inline]
    fn uniform_prune_max(&self, g0: u64, g1: u64) -> Option<i32> {
        let p = if self.tie_end <= g0 {
            i64::from(self.bits) - 1
        } else if self.tie_end >= g1 {
            i64::from(self.bits)
        } else {
            return None;
        };
        Some(p.clamp(-1, i64::from(i32::MAX)) as i32)
    }

    #[inline]
    fn keeps(&self, b: u32, g: u64) -> bool {
        b > self.bits || (b == self.bits && g >= self.tie_end)
    }

    /// Mask (`true = keep`) for tensor `tensor` of the list the cutoff was computed on.
    pub fn mask(&self, tensor: usize, w: ArrayView2<f32>) -> Result<Array2<bool>, KernelError> {
        let offset = self.check(tensor, w.len())?;
        let w = standard(w);
        let data = w.as_slice().unwrap_or_default();
        let mut out = vec![false; data.len()];
        out.par_chunks_mut(CHUNK)
            .zip(data.par_chunks(CHUNK))
            .enumerate()
            .for_each(|(ci, (o, d))| {
                let g0 = offset + (ci * CHUNK) as u64;
                match self.uniform_prune_max(g0, g0 + d.len() as u64) {
                    Some(p) => o.iter_mut().zip(d).for_each(|(o, &x)| *o = mag_i32(x) > p),
                    None => o
                        .iter_mut()
                        .zip(d)
                        .enumerate()
                        .for_each(|(i, (o, &x))| *o = self.keeps(mag_bits(x), g0 + i as u64)),
                }
            });
        Array2::from_shape_vec(w.raw_dim(), out).map_err(|e| KernelError::Shape(e.to_string()))
    }

    /// [`MagnitudeCutoff::apply`] from `src` (row-major, tensor `tensor`) into `dst` in one
    /// pass that also counts: zeros before and after, and whether every weight is finite
    /// (`dst`'s allocation is reused; it ends holding the pruned weights).
    pub fn apply_into(
        &self,
        tensor: usize,
        src: &[f32],
        dst: &mut Vec<f32>,
    ) -> Result<PassCounts, KernelError> {
        let offset = self.check(tensor, src.len())?;
        dst.clear();
        dst.resize(src.len(), 0.0);
        let counts = dst
            .par_chunks_mut(CHUNK)
            .zip(src.par_chunks(CHUNK))
            .enumerate()
            .map(|(ci, (o, d))| {
                let g0 = offset + (ci * CHUNK) as u64;
                let (mut before, mut after, mut finite) = (0u64, 0u64, true);
                match self.uniform_prune_max(g0, g0 + d.len() as u64) {
                    Some(p) => o.iter_mut().zip(d).for_each(|(o, &x)| {
                        let y = if mag_i32(x) > p { x } else { 0.0 };
                        before += u64::from(x == 0.0);
                        after += u64::from(y == 0.0);
                        finite &= x.is_finite();
                        *o = y;
                    }),
                    None => o.iter_mut().zip(d).enumerate().for_each(|(i, (o, &x))| {
                        let y = if self.keeps(mag_bits(x), g0 + i as u64) {
                            x
                        } else {
                            0.0
                        };
                        before += u64::from(x == 0.0);
                        after += u64::from(y == 0.0);
                        finite &= x.is_finite();
                        *o = y;
                    }),
                }
                PassCounts {
                    zeros_before: before,
                    zeros_after: after,
                    finite,
                }
            })
            .reduce(
                || PassCounts {
                    zeros_before: 0,
                    zeros_after: 0,
                    finite: true,
                },
                |a, b| PassCounts {
                    zeros_before: a.zeros_before + b.zeros_before,
                    zeros_after: a.zeros_after + b.zeros_after,
                    finite: a.finite && b.finite,
                },
            );
        Ok(counts)
    }

    /// Zeroes the pruned weights of tensor `tensor` in place (kept signs untouched).
    pub fn apply(&self, tensor: usize, mut w: ArrayViewMut2<f32>) -> Result<(), KernelError> {
        let offset = self.check(tensor, w.len())?;
        match w.as_slice_mut() {
            Some(data) => data.par_chunks_mut(CHUNK).enumerate().for_each(|(ci, d)| {
                let g0 = offset + (ci * CHUNK) as u64;
                match self.uniform_prune_max(g0, g0 + d.len() as u64) {
                    // Unconditional store of a select, so the loop vectorizes.
                    Some(p) => d
                        .iter_mut()
                        .for_each(|x| *x = if mag_i32(*x) > p { *x } else { 0.0 }),
                    None => d.iter_mut().enumerate().for_each(|(i, x)| {
                        if !self.keeps(mag_bits(*x), g0 + i as u64) {
                            *x = 0.0;
                        }
                    }),
                }
            }),
            // Non-standard layout: positions are still logical row-major indices.
            None => {
                for (i, x) in w.iter_mut().enumerate() {
                    if !self.keeps(mag_bits(*x), offset + i as u64) {
                        *x = 0.0;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A row-major contiguous view (borrowed when it already is one).
fn standard(w: ArrayView2<'_, f32>) -> CowArray<'_, f32, Ix2> {
    if w.is_standard_layout() {
        CowArray::from(w)
    } else {
        CowArray::from(w.as_standard_layout().into_owned())
    }
}

/// Exact global cutoff pruning `round(sparsity · total)` elements across `weights`.
pub fn global_magnitude_cutoff(
    weights: &[ArrayView2<f32>],
    sparsity: f64,
) -> Result<MagnitudeCutoff, KernelError> {
    check_sparsity(sparsity)?;
    let owned: Vec<CowArray<f32, Ix2>> = weights.iter().map(|w| standard(w.view())).collect();
    let slices: Vec<&[f32]> = owned
        .iter()
        .map(|w| w.as_slice().unwrap_or_default())
        .collect();
    let total: u64 = slices.iter().map(|s| s.len() as u64).sum();
    Ok(cutoff_for_slices(
        &slices,
        pruned_count(total, sparsity),
        SAMPLE,
    ))
}

/// Masks (`true = keep`) reaching `sparsity` per tensor ([`Scope::Layer`]) or over all
/// tensors together ([`Scope::Global`]), by `(|w|, position)` rank.
pub fn magnitude_masks(
    weights: &[ArrayView2<f32>],
    sparsity: f64,
    scope: Scope,
) -> Result<Vec<Array2<bool>>, KernelError> {
    check_sparsity(sparsity)?;
    match scope {
        Scope::Global => {
            let cut = global_magnitude_cutoff(weights, sparsity)?;
            weights
                .iter()
                .enumerate()
                .map(|(i, w)| cut.mask(i, w.view()))
                .collect()
        }
        Scope::Layer => weights
            .iter()
            .map(|w| global_magnitude_cutoff(std::slice::from_ref(w), sparsity)?.mask(0, w.view()))
            .collect(),
    }
}

/// Masks for the threshold mode: `|w| < threshold` is pruned; `threshold` must be finite and ≥ 0.
pub fn threshold_masks(
    weights: &[ArrayView2<f32>],
    threshold: f32,
) -> Result<Vec<Array2<bool>>, KernelError> {
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(KernelError::invalid(
            "threshold",
            format!("must be a finite number ≥ 0, got {threshold}"),
        ));
    }
    // |w| < t  ⇔  bits(|w|) < bits(t) for non-negative t (and never for NaN).
    let thr = mag_i32(threshold);
    Ok(weights
        .iter()
        .map(|w| {
            let mut out = Array2::from_elem(w.raw_dim(), false);
            Zip::from(&mut out)
                .and(w)
                .par_for_each(|o, &x| *o = mag_i32(x) >= thr);
            out
        })
        .collect())
}

/// One contiguous piece of the concatenated input, with its global start position.
struct Piece<'a> {
    data: &'a [f32],
    start: u64,
}

/// What one pass over a piece learns for a band `(lo, hi]`.
struct PieceStats {
    below: u64,
    at_lo: u64,
    /// Magnitude bits of the piece's band members, in position order. Positions are not
    /// stored: ties at the final cutoff are located by rescanning one piece.
    band: Vec<u32>,
}

/// Block width of the scan: per-lane counters fit in registers with SSE2.
const B: usize = 8;

fn scan_piece(p: &Piece, lo: u32, hi: u32, scratch: &mut Vec<u32>) -> PieceStats {
    // Every magnitude is ≤ i32::MAX, so clamping keeps the meaning and allows signed compares
    // (SSE2 has no unsigned ones); `lo` never exceeds a real magnitude (it comes from the data
    // or from `hi + 1` with `hi` below the maximum).
    let lo = lo.min(i32::MAX as u32) as i32;
    let hi = hi.min(i32::MAX as u32) as i32;
    // Band members are compacted branch-free into a reused scratch buffer (no allocation or
    // call inside the loop, so the counters stay in registers); grown, never cleared.
    if scratch.len() < p.data.len() + B {
        scratch.resize(p.data.len() + B, 0);
    }
    let buf = scratch.as_mut_slice();
    let mut n = 0usize;
    let mut below = [0u32; B];
    let mut at_lo = [0u32; B];
    let mut blocks = p.data.chunks_exact(B);
    for block in blocks.by_ref() {
        let Ok(arr) = <&[f32; B]>::try_from(block) else {
            continue;
        };
        let mut hit = 0u32;
        for i in 0..B {
            let b = mag_i32(arr[i]);
            below[i] += u32::from(b < lo);
            at_lo[i] += u32::from(b == lo);
            hit |= u32::from((b > lo) & (b <= hi));
        }
        // Only a minority of blocks hold a band member (the band is ~1.6 % of the data).
        if hit != 0 {
            for &x in arr {
                let b = mag_i32(x);
                if let Some(slot) = buf.get_mut(n) {
                    *slot = b as u32;
                }
                n += usize::from((b > lo) & (b <= hi));
            }
        }
    }
    let mut below: u64 = below.iter().map(|&c| u64::from(c)).sum();
    let mut at_lo: u64 = at_lo.iter().map(|&c| u64::from(c)).sum();
    for &x in blocks.remainder() {
        let b = mag_i32(x);
        below += u64::from(b < lo);
        at_lo += u64::from(b == lo);
        if let Some(slot) = buf.get_mut(n) {
            *slot = b as u32;
        }
        n += usize::from((b > lo) & (b <= hi));
    }
    PieceStats {
        below,
        at_lo,
        band: buf.get(..n).unwrap_or_default().to_vec(),
    }
}

/// Position just after the `m`-th (1-based) element with magnitude bits `v`, in global order,
/// given how many such elements each piece holds.
fn tie_end(pieces: &[Piece], per_piece: impl Iterator<Item = u64>, v: u32, m: u64) -> u64 {
    let mut seen = 0u64;
    for (p, count) in pieces.iter().zip(per_piece) {
        if seen + count < m {
            seen += count;
            continue;
        }
        for (i, &x) in p.data.iter().enumerate() {
            if mag_bits(x) == v {
                seen += 1;
                if seen == m {
                    return p.start + i as u64 + 1;
                }
            }
        }
    }
    // Unreachable when the counts are right: then every tie is pruned.
    u64::MAX
}

/// splitmix64: a cheap deterministic hash to jitter sample positions inside their strata.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Consecutive elements read per sampled position: one cache line serves several samples,
/// which makes sampling ~4× cheaper than isolated reads while keeping 16 K independent strata.
const RUN: u64 = 4;

/// Initial band `(lo, hi]` from a stratified sample: a run of `RUN` elements drawn from each
/// of `sample / RUN` equal strata, so row or column structure cannot bias it.
fn sample_band(slices: &[&[f32]], total: u64, k: u64, sample: usize) -> (u32, u32) {
    let strata = (sample as u64 / RUN).max(1);
    if total <= 2 * strata * RUN {
        // Small input: the band is everything nonzero; selection is exact and cheap anyway.
        return (0, u32::MAX);
    }
    let mut bits = Vec::with_capacity(sample);
    let (mut t, mut t_start) = (0usize, 0u64);
    for i in 0..strata {
        let a = i * total / strata;
        let b = (i + 1) * total / strata;
        // b − a ≥ 2·RUN here, so the run fits inside the stratum.
        let start = a + mix(i) % (b - a - RUN + 1);
        for pos in start..start + RUN {
            while let Some(sl) = slices.get(t) {
                if pos < t_start + sl.len() as u64 {
                    break;
                }
                t_start += sl.len() as u64;
                t += 1;
            }
            if let Some(&x) = slices
                .get(t)
                .and_then(|sl| sl.get((pos - t_start) as usize))
            {
                bits.push(mag_bits(x));
            }
        }
    }
    let m = bits.len();
    if m == 0 {
        return (0, u32::MAX);
    }
    let q = k as f64 / total as f64;
    let center = q * m as f64;
    // Four standard deviations of the sample rank, plus slack for tiny q.
    let delta = 4.0 * (m as f64 * q * (1.0 - q)).sqrt() + 2.0;
    let lo_rank = center - delta;
    let hi_rank = (center + delta).ceil();
    let lo = if lo_rank < 0.0 {
        0
    } else {
        let r = (lo_rank as usize).min(m - 1);
        *bits.select_nth_unstable(r).1
    };
    let hi = if hi_rank >= m as f64 {
        u32::MAX
    } else {
        *bits.select_nth_unstable(hi_rank as usize).1
    };
    (lo, hi.max(lo))
}

/// The exact cutoff pruning the `k` lowest `(|w|, position)` ranks of the concatenated slices.
fn cutoff_for_slices(slices: &[&[f32]], k: u64, sample: usize) -> MagnitudeCutoff {
    let total = slices.iter().map(|s| s.len() as u64).sum();
    cutoff_with_band(slices, k, |k| sample_band(slices, total, k, sample))
}

/// [`cutoff_for_slices`] with the initial band chosen by `band(k)` (tests force bands that
/// miss the cutoff to exercise the retries).
fn cutoff_with_band(
    slices: &[&[f32]],
    k: u64,
    band: impl FnOnce(u64) -> (u32, u32),
) -> MagnitudeCutoff {
    let mut offsets = Vec::with_capacity(slices.len());
    let mut total = 0u64;
    for s in slices {
        offsets.push(total);
        total += s.len() as u64;
    }
    let lens = slices.iter().map(|s| s.len() as u64).collect();
    let (bits, tie_end) = if k == 0 {
        (0, 0)
    } else if k >= total {
        (ALL, 0)
    } else {
        select_cutoff(slices, &offsets, k, band(k))
    };
    MagnitudeCutoff {
        bits,
        tie_end,
        offsets,
        lens,
        pruned: k,
    }
}

fn select_cutoff(
    slices: &[&[f32]],
    offsets: &[u64],
    k: u64,
    (mut lo, mut hi): (u32, u32),
) -> (u32, u64) {
    let pieces: Vec<Piece> = slices
        .iter()
        .zip(offsets)
        .flat_map(|(s, &off)| {
            s.chunks(CHUNK).enumerate().map(move |(ci, data)| Piece {
                data,
                start: off + (ci * CHUNK) as u64,
            })
        })
        .collect();
    // 0-based rank of the last pruned element.
    let r = k - 1;
    loop {
        let stats: Vec<PieceStats> = pieces
            .par_iter()
            .map_init(Vec::new, |scratch, p| scan_piece(p, lo, hi, scratch))
            .collect();
        let below: u64 = stats.iter().map(|s| s.below).sum();
        let at_lo: u64 = stats.iter().map(|s| s.at_lo).sum();
        let in_band: u64 = stats.iter().map(|s| s.band.len() as u64).sum();
        if r < below {
            // The cutoff lies below the band: retry on [0, lo), which covers every rank < below
            // (lo > 0 here because something is below it).
            hi = lo - 1;
            lo = 0;
        } else if r < below + at_lo {
            // The cutoff class is `lo` itself; prune its first m members in global order.
            let m = r - below + 1;
            if m == at_lo {
                return (lo, u64::MAX);
            }
            return (lo, tie_end(&pieces, stats.iter().map(|s| s.at_lo), lo, m));
        } else if r < below + at_lo + in_band {
            let mut band: Vec<u32> = Vec::with_capacity(in_band as usize);
            stats.iter().for_each(|s| band.extend_from_slice(&s.band));
            let idx = (r - below - at_lo) as usize;
            let t = band
                .get_mut(..)
                .map_or(lo, |b| *b.select_nth_unstable(idx).1);
            // Every element equal to t is in the band (lo < t ≤ hi).
            let less = band.iter().filter(|&&b| b < t).count() as u64;
            let equal = band.iter().filter(|&&b| b == t).count() as u64;
            let m = r - below - at_lo - less + 1;
            if m == equal {
                return (t, u64::MAX);
            }
            let per_piece = stats
                .iter()
                .map(|s| s.band.iter().filter(|&&b| b == t).count() as u64);
            return (t, tie_end(&pieces, per_piece, t, m));
        } else {
            // Above the band: retry on (hi, max], which covers every rank ≥ below+at_lo+in_band.
            lo = hi.saturating_add(1);
            hi = u32::MAX;
        }
    }
}

/// Reference implementation for tests: sort every `(|w| bits, position)` key and keep all but
/// the first `k`.
#[cfg(test)]
fn magnitude_masks_reference(weights: &[ArrayView2<f32>], k: u64) -> Vec<Array2<bool>> {
    let mut keys = Vec::new();
    for (t, w) in weights.iter().enumerate() {
        for (i, &x) in w.iter().enumerate() {
            keys.push((mag_bits(x), t, i));
        }
    }
    keys.sort_unstable();
    let mut masks: Vec<Vec<bool>> = weights.iter().map(|w| vec![true; w.len()]).collect();
    for &(_, t, i) in keys.iter().take(k as usize) {
        masks[t][i] = false;
    }
    masks
        .into_iter()
        .zip(weights)
        .map(|(m, w)| Array2::from_shape_vec(w.raw_dim(), m).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::prune::{apply_mask, SparsityReport};
    use ndarray::array;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_simple_fn((rows, cols), || rng.random::<f32>() * 2.0 - 1.0)
    }

    fn pruned(masks: &[Array2<bool>]) -> Vec<u64> {
        masks
            .iter()
            .map(|m| m.iter().filter(|&&k| !k).count() as u64)
            .collect()
    }

    #[test]
    fn exact_sparsity_layer_and_global() {
        let a = random(37, 53, 1);
        let b = random(64, 129, 2);
        let views = [a.view(), b.view()];
        for s in [0.0, 0.1, 0.5, 0.73, 0.999] {
            let layer = magnitude_masks(&views, s, Scope::Layer).unwrap();
            assert_eq!(
                pruned(&layer),
                vec![
                    pruned_count(a.len() as u64, s),
                    pruned_count(b.len() as u64, s)
                ]
            );
            let global = magnitude_masks(&views, s, Scope::Global).unwrap();
            let total = (a.len() + b.len()) as u64;
            assert_eq!(pruned(&global).iter().sum::<u64>(), pruned_count(total, s));
            // After applying, zeros are exactly the pruned count (inputs have no zeros).
            let mut pa = a.clone();
            let mut pb = b.clone();
            apply_mask(&mut pa, &global[0]).unwrap();
            apply_mask(&mut pb, &global[1]).unwrap();
            let rep = SparsityReport::from_weights(&[pa.view(), pb.view()]);
            assert_eq!(rep.global.zeros, pruned_count(total, s));
        }
    }

    #[test]
    fn apply_into_equals_copy_then_apply_and_counts() {
        let a = random(70, 900, 3);
        let mut b = random(33, 1000, 4);
        b[[0, 0]] = 0.0;
        b[[5, 7]] = 0.0;
        let cut = global_magnitude_cutoff(&[a.view(), b.view()], 0.5).unwrap();
        for (i, w) in [a, b].into_iter().enumerate() {
            let mut want = w.clone();
            cut.apply(i, want.view_mut()).unwrap();
            let mut got = vec![7.0f32; 3];
            let counts = cut.apply_into(i, w.as_slice().unwrap(), &mut got).unwrap();
            assert_eq!(got, want.as_slice().unwrap());
            let zeros = |v: &[f32]| v.iter().filter(|x| **x == 0.0).count() as u64;
            assert_eq!(counts.zeros_before, zeros(w.as_slice().unwrap()));
            assert_eq!(counts.zeros_after, zeros(&got));
            assert!(counts.finite);
        }
        let mut bad = random(2, 3, 5);
        bad[[1, 1]] = f32::NAN;
        let cut = global_magnitude_cutoff(&[bad.view()], 0.5).unwrap();
        assert!(
            !cut.apply_into(0, bad.as_slice().unwrap(), &mut Vec::new())
                .unwrap()
                .finite
        );
    }

    #[test]
    fn signs_are_kept() {
        let a = random(20, 30, 3);
        let masks = magnitude_masks(&[a.view()], 0.5, Scope::Layer).unwrap();
        let mut p = a.clone();
        apply_mask(&mut p, &masks[0]).unwrap();
        let mut negatives = 0;
        for (&orig, &new) in a.iter().zip(&p) {
            assert!(new == 0.0 || new == orig, "{orig} became {new}");
            negatives += (new < 0.0) as usize;
        }
        assert!(negatives > 50, "negative weights must survive");
    }

    #[test]
    fn global_and_layer_differ_on_hand_example() {
        // A has small weights, B large ones. 50 % sparsity:
        // - layer scope prunes 2 of 4 in each: A keeps {-0.3, 0.4}, B keeps {-30, 40}.
        // - global scope prunes round(0.5·8) = 4 smallest of all 8 → all of A, none of B.
        let a = array![[0.1f32, -0.2], [-0.3, 0.4]];
        let b = array![[10.0f32, -20.0], [-30.0, 40.0]];
        let layer = magnitude_masks(&[a.view(), b.view()], 0.5, Scope::Layer).unwrap();
        assert_eq!(layer[0], array![[false, false], [true, true]]);
        assert_eq!(layer[1], array![[false, false], [true, true]]);
        let global = magnitude_masks(&[a.view(), b.view()], 0.5, Scope::Global).unwrap();
        assert_eq!(global[0], array![[false, false], [false, false]]);
        assert_eq!(global[1], array![[true, true], [true, true]]);
    }

    #[test]
    fn ties_prune_lower_position_first_across_tensors() {
        // Six equal magnitudes; prune round(0.5·6) = 3: the first three positions in
        // (tensor, row-major index) order, regardless of sign.
        let a = array![[1.0f32, -1.0]];
        let b = array![[1.0f32, -1.0], [1.0, -1.0]];
        let g = magnitude_masks(&[a.view(), b.view()], 0.5, Scope::Global).unwrap();
        assert_eq!(g[0], array![[false, false]]);
        assert_eq!(g[1], array![[false, true], [true, true]]);
    }

    #[test]
    fn nan_is_kept_and_zeros_go_first() {
        let a = array![[f32::NAN, 0.0, 5.0, -0.0]];
        let m = magnitude_masks(&[a.view()], 0.74, Scope::Layer).unwrap(); // round(2.96) = 3
        assert_eq!(m[0], array![[true, false, false, false]]);
        // The cutoff class is exactly zero and every zero is pruned (k equals the zero count).
        let b = array![[0.0f32, 3.0, -0.0, 1.0]];
        let m = magnitude_masks(&[b.view()], 0.5, Scope::Layer).unwrap();
        assert_eq!(m[0], array![[false, true, false, true]]);
    }

    #[test]
    fn optimized_matches_reference_including_fallback_paths() {
        // Inputs with heavy ties (quantized grid, many zeros) and forced initial bands reach
        // every branch of the band search: retries below and above the band, cutoff at `lo`.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let grid = Array2::from_shape_simple_fn((300, 700), || {
            let v = (rng.random_range(-8i32..=8) as f32) * 0.25;
            if rng.random::<f32>() < 0.3 {
                0.0
            } else {
                v
            }
        });
        let cont = random(257, 513, 9);
        let inputs = [
            vec![grid.view()],
            vec![cont.view()],
            vec![grid.view(), cont.view()],
        ];
        for views in &inputs {
            let owned: Vec<_> = views.iter().map(|v| standard(v.view())).collect();
            let slices: Vec<&[f32]> = owned.iter().map(|w| w.as_slice().unwrap()).collect();
            let total: u64 = slices.iter().map(|s| s.len() as u64).sum();
            for s in [0.05, 0.3, 0.31, 0.5, 0.77, 0.95] {
                let k = pruned_count(total, s);
                let want = magnitude_masks_reference(views, k);
                let fixed = |lo: f32, hi: f32| move |_| (mag_bits(lo), mag_bits(hi));
                let cuts = [
                    cutoff_for_slices(&slices, k, 64),
                    cutoff_for_slices(&slices, k, SAMPLE),
                    cutoff_with_band(&slices, k, fixed(0.0, 0.0)),
                    cutoff_with_band(&slices, k, fixed(0.0, 0.3)),
                    cutoff_with_band(&slices, k, fixed(0.5, 0.5)),
                    cutoff_with_band(&slices, k, fixed(0.75, 0.9)),
                    cutoff_with_band(&slices, k, fixed(1.5, 3.0)),
                    cutoff_with_band(&slices, k, |_| (0, u32::MAX)),
                ];
                for (c, cut) in cuts.iter().enumerate() {
                    for (i, v) in views.iter().enumerate() {
                        assert_eq!(
                            cut.mask(i, v.view()).unwrap(),
                            want[i],
                            "s={s} band case {c}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn apply_matches_mask_and_handles_transposed_views() {
        let a = random(100, 900, 11);
        let cut = global_magnitude_cutoff(&[a.view()], 0.6).unwrap();
        let mask = cut.mask(0, a.view()).unwrap();
        let mut p = a.clone();
        cut.apply(0, p.view_mut()).unwrap();
        let mut q = a.clone();
        apply_mask(&mut q, &mask).unwrap();
        assert_eq!(p, q);
        // A transposed (column-major) view ranks by its own logical row-major positions.
        let t = a.t();
        let mt = magnitude_masks(&[t], 0.6, Scope::Layer).unwrap();
        assert_eq!(
            mt,
            magnitude_masks_reference(&[t], pruned_count(a.len() as u64, 0.6))
        );
        assert!(matches!(cut.mask(1, a.view()), Err(KernelError::Shape(_))));
        assert!(matches!(
            cut.mask(0, t.slice(ndarray::s![..2, ..])),
            Err(KernelError::Shape(_))
        ));
    }

    #[test]
    fn threshold_mode() {
        let a = array![[0.5f32, -0.5, 0.49, -0.51, f32::NAN, 0.0]];
        let m = threshold_masks(&[a.view()], 0.5).unwrap();
        assert_eq!(m[0], array![[true, true, false, true, true, false]]);
        for bad in [-1.0, f32::NAN, f32::INFINITY] {
            match threshold_masks(&[a.view()], bad) {
                Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "threshold"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn invalid_sparsity_names_field() {
        let a = random(2, 2, 1);
        for s in [-0.5, 1.0] {
            match magnitude_masks(&[a.view()], s, Scope::Global) {
                Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "sparsity"),
                other => panic!("{other:?}"),
            }
        }
    }
}

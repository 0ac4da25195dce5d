//! Per-tensor statistics for the `analyze` job: moments, extremes, zero/NaN/inf counts, exact
//! tail percentiles and an equal-width histogram, plus per-model totals combined from the
//! per-tensor results.
//!
//! Definitions (all over the *finite* values unless said otherwise; NaN and ±inf are only
//! counted):
//! - `mean`, `std`: population moments computed in f64. Each 64 Ki-element chunk is swept
//!   while it is in cache (sum, then squared deviations from the chunk mean), and chunks are
//!   merged with Chan's formula in chunk order, so the result does not depend on thread
//!   scheduling.
//! - `p0_1`, `p99_9`: exact percentiles with numpy's default linear interpolation, i.e.
//!   `np.percentile(a[np.isfinite(a)], q)`: with the finite values sorted as `s[0..n)`,
//!   `h = (n-1)·q/100`, `i = ⌊h⌋`, `t = h - i`, result = `s[i] + t·(s[i+1] - s[i])`
//!   (evaluated as `s[i+1] - (1-t)·(s[i+1]-s[i])` when `t ≥ 0.5`, like numpy's `_lerp`),
//!   in f64. The two order statistics are found by selection, restricted to the histogram
//!   bins that contain them, so the cost is one extra pass instead of a sort.
//! - histogram: `bins` equal-width bins from `min` to `max`; bin `i` covers
//!   `[lo + i·w, lo + (i+1)·w)` with `w = (hi-lo)/bins`, the last bin also includes `hi`
//!   (numpy's convention; when `min == max` the range is `[min-0.5, max+0.5]`, as numpy does).
//! - `zero_fraction`: exact zeros (either sign) over *all* elements, NaN included.
//!
//! Cost: three passes over the tensor (summary, histogram, percentile gather), rayon over
//! 64 Ki-element chunks; the hot loops are plain Rust compiled a second time with AVX2
//! enabled and picked at run time (same operation order, bit-identical results).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::kernels::KernelError;

/// Histogram size used by the analyze job unless the spec says otherwise.
pub const DEFAULT_BINS: usize = 64;

/// Largest accepted number of histogram bins.
pub const MAX_BINS: usize = 1 << 20;

/// Elements per work unit: 256 KiB of f32, small enough to stay in L2 for the second pass.
const CHUNK: usize = 1 << 16;

/// Lanes of independent accumulators so the compiler can vectorize the reductions.
const LANES: usize = 8;

/// Equal-width histogram of the finite values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Histogram {
    /// Left edge of the first bin.
    pub lo: f64,
    /// Right edge of the last bin (inclusive).
    pub hi: f64,
    /// Count per bin.
    pub counts: Vec<u64>,
}

/// Statistics of one tensor (see the module docs for exact definitions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TensorStats {
    /// All elements, NaN and infinities included.
    pub count: u64,
    /// Elements that are neither NaN nor infinite.
    pub finite_count: u64,
    /// NaN elements.
    pub nan_count: u64,
    /// ±inf elements.
    pub inf_count: u64,
    /// Elements equal to 0.0 or -0.0.
    pub zero_count: u64,
    /// `zero_count / count` (0 for an empty tensor).
    pub zero_fraction: f64,
    /// Smallest finite value.
    pub min: Option<f64>,
    /// Largest finite value.
    pub max: Option<f64>,
    /// Largest absolute finite value.
    pub abs_max: Option<f64>,
    /// Mean of the finite values.
    pub mean: Option<f64>,
    /// Population standard deviation of the finite values.
    pub std: Option<f64>,
    /// 0.1th percentile (numpy linear interpolation).
    pub p0_1: Option<f64>,
    /// 99.9th percentile (numpy linear interpolation).
    pub p99_9: Option<f64>,
    /// Histogram of the finite values (`None` when there are none).
    pub histogram: Option<Histogram>,
}

/// Per-model totals combined from [`TensorStats`] (no percentiles or histogram: those do not
/// combine exactly).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModelTotals {
    /// Tensors added.
    pub n_tensors: u64,
    /// All elements.
    pub count: u64,
    /// Finite elements.
    pub finite_count: u64,
    /// NaN elements.
    pub nan_count: u64,
    /// ±inf elements.
    pub inf_count: u64,
    /// Exact zeros.
    pub zero_count: u64,
    /// `zero_count / count`.
    pub zero_fraction: f64,
    /// Smallest finite value over all tensors.
    pub min: Option<f64>,
    /// Largest finite value over all tensors.
    pub max: Option<f64>,
    /// Largest absolute finite value.
    pub abs_max: Option<f64>,
    /// Mean of all finite values.
    pub mean: Option<f64>,
    /// Population standard deviation of all finite values.
    pub std: Option<f64>,
}

impl ModelTotals {
    /// Empty totals.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fold one tensor in (mean/std merged with Chan's formula, which stays accurate when
    /// tensors have very different means).
    pub fn add(&mut self, s: &TensorStats) {
        let mine = Moments {
            n: self.finite_count,
            mean: self.mean.unwrap_or(0.0),
            m2: self
                .std
                .map_or(0.0, |sd| sd * sd * self.finite_count as f64),
        };
        let theirs = Moments {
            n: s.finite_count,
            mean: s.mean.unwrap_or(0.0),
            m2: s.std.map_or(0.0, |sd| sd * sd * s.finite_count as f64),
        };
        let merged = mine.merge(theirs);
        self.n_tensors += 1;
        self.count += s.count;
        self.finite_count += s.finite_count;
        self.nan_count += s.nan_count;
        self.inf_count += s.inf_count;
        self.zero_count += s.zero_count;
        self.zero_fraction = ratio(self.zero_count, self.count);
        self.min = min_opt(self.min, s.min);
        self.max = max_opt(self.max, s.max);
        self.abs_max = max_opt(self.abs_max, s.abs_max);
        (self.mean, self.std) = merged.mean_std();
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) | (None, x) => x,
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) | (None, x) => x,
    }
}

/// Count, mean and sum of squared deviations of a set of values.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Chan et al. pairwise combination.
    fn merge(self, o: Moments) -> Moments {
        if self.n == 0 {
            return o;
        }
        if o.n == 0 {
            return self;
        }
        let n = self.n + o.n;
        let delta = o.mean - self.mean;
        let w = o.n as f64 / n as f64;
        Moments {
            n,
            mean: self.mean + delta * w,
            m2: self.m2 + o.m2 + delta * delta * self.n as f64 * w,
        }
    }

    fn mean_std(self) -> (Option<f64>, Option<f64>) {
        if self.n == 0 {
            (None, None)
        } else {
            (
                Some(self.mean),
                Some((self.m2 / self.n as f64).max(0.0).sqrt()),
            )
        }
    }
}

/// Everything pass 1 learns about one chunk.
#[derive(Debug, Clone, Copy)]
struct ChunkSummary {
    moments: Moments,
    nan: u64,
    inf: u64,
    zeros: u64,
    min: f32,
    max: f32,
}

impl ChunkSummary {
    fn empty() -> Self {
        ChunkSummary {
            moments: Moments::default(),
            nan: 0,
            inf: 0,
            zeros: 0,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
        }
    }

    fn merge(self, o: ChunkSummary) -> ChunkSummary {
        ChunkSummary {
            moments: self.moments.merge(o.moments),
            nan: self.nan + o.nan,
            inf: self.inf + o.inf,
            zeros: self.zeros + o.zeros,
            min: if o.min < self.min { o.min } else { self.min },
            max: if o.max > self.max { o.max } else { self.max },
        }
    }
}

#[inline(always)]
fn is_finite_bits(x: f32) -> bool {
    // Exponent not all ones: cheaper to vectorize than `is_finite`.
    (x.to_bits() & 0x7fff_ffff) < 0x7f80_0000
}

/// Pass 1 over one chunk, compiled for AVX2 when the CPU has it (same code, wider vectors).
fn summarize_chunk(c: &[f32]) -> ChunkSummary {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 support was just checked.
        return unsafe { summarize_chunk_avx2(c) };
    }
    summarize_chunk_portable(c)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn summarize_chunk_avx2(c: &[f32]) -> ChunkSummary {
    summarize_chunk_portable(c)
}

/// Three sweeps over a chunk that sits in L2: extremes and counts (f32 lanes), the f64 sum,
/// then squared deviations from the chunk mean. Keeping f32 and f64 work in separate loops
/// lets each vectorize at full width.
#[inline(always)]
fn summarize_chunk_portable(c: &[f32]) -> ChunkSummary {
    let blocks = c.chunks_exact(LANES);
    let tail = blocks.remainder();

    let mut lo = [f32::INFINITY; LANES];
    let mut hi = [f32::NEG_INFINITY; LANES];
    let mut non_finite = [0u32; LANES];
    let mut zeros = [0u32; LANES];
    for block in blocks.clone() {
        for i in 0..LANES {
            let x = block[i];
            let finite = is_finite_bits(x);
            let for_min = if finite { x } else { f32::INFINITY };
            let for_max = if finite { x } else { f32::NEG_INFINITY };
            lo[i] = lo[i].min(for_min);
            hi[i] = hi[i].max(for_max);
            non_finite[i] += u32::from(!finite);
            zeros[i] += u32::from(x == 0.0);
        }
    }
    let mut s = ChunkSummary::empty();
    let mut n_non_finite = 0u64;
    for i in 0..LANES {
        s.min = if lo[i] < s.min { lo[i] } else { s.min };
        s.max = if hi[i] > s.max { hi[i] } else { s.max };
        n_non_finite += u64::from(non_finite[i]);
        s.zeros += u64::from(zeros[i]);
    }
    for &x in tail {
        if is_finite_bits(x) {
            s.min = s.min.min(x);
            s.max = s.max.max(x);
        } else {
            n_non_finite += 1;
        }
        s.zeros += u64::from(x == 0.0);
    }
    if n_non_finite > 0 {
        // Rare: split the non-finite count into NaN and inf.
        s.nan = c.iter().filter(|x| x.is_nan()).count() as u64;
        s.inf = n_non_finite - s.nan;
    }
    let n = c.len() as u64 - n_non_finite;
    if n == 0 {
        return s;
    }

    let mut sum = [0.0f64; LANES];
    for block in blocks.clone() {
        for i in 0..LANES {
            let x = block[i];
            sum[i] += if is_finite_bits(x) { f64::from(x) } else { 0.0 };
        }
    }
    let mut total: f64 = sum.iter().sum();
    total += tail
        .iter()
        .filter(|&&x| is_finite_bits(x))
        .map(|&x| f64::from(x))
        .sum::<f64>();
    let mean = total / n as f64;

    let mut m2 = [0.0f64; LANES];
    for block in blocks {
        for i in 0..LANES {
            let x = block[i];
            let d = if is_finite_bits(x) {
                f64::from(x) - mean
            } else {
                0.0
            };
            m2[i] += d * d;
        }
    }
    let mut m2_total: f64 = m2.iter().sum();
    for &x in tail {
        if is_finite_bits(x) {
            let d = f64::from(x) - mean;
            m2_total += d * d;
        }
    }
    s.moments = Moments {
        n,
        mean,
        m2: m2_total,
    };
    s
}

/// Equal-width bin assignment: `bin(x)` is the largest `i < bins` with `edges[i] ≤ x`.
/// Being monotone in `x`, every run of bins is a contiguous value interval, which the
/// percentile gather exploits.
#[derive(Debug, Clone)]
struct Binning {
    lo: f64,
    hi: f64,
    /// `edges[i] = lo + i·w` for `i < bins`, `edges[bins] = hi` (numpy's linspace).
    edges: Vec<f64>,
    /// `up[i]` = smallest f32 ≥ `edges[i]`, so `x ≥ edges[i]` ⇔ `x ≥ up[i]` for f32 `x`;
    /// `up[bins]` = +inf because the last bin is closed.
    up: Vec<f32>,
    /// f32 copies of `lo` and `bins/(hi-lo)` for the first guess.
    lo32: f32,
    scale32: f32,
    /// The f32 guess is provably within one bin (see [`Binning::new`]).
    fast: bool,
    /// When `min == max` every finite value is that value and lands in this bin.
    single: Option<usize>,
}

/// Smallest f32 that is ≥ `e`.
fn f32_at_or_above(e: f64) -> f32 {
    let r = e as f32;
    if f64::from(r) >= e {
        r
    } else if r == 0.0 {
        f32::from_bits(1)
    } else if r > 0.0 {
        // The next f32 up (`f32::next_up` needs Rust 1.86; the MSRV is 1.85).
        f32::from_bits(r.to_bits() + 1)
    } else {
        f32::from_bits(r.to_bits() - 1)
    }
}

impl Binning {
    fn new(min: f32, max: f32, bins: usize) -> Binning {
        let (min64, max64) = (f64::from(min), f64::from(max));
        let (lo, hi) = if min == max {
            (min64 - 0.5, max64 + 0.5)
        } else {
            (min64, max64)
        };
        let width = (hi - lo) / bins as f64;
        let mut edges: Vec<f64> = (0..bins).map(|i| lo + i as f64 * width).collect();
        edges.push(hi);
        let mut up: Vec<f32> = edges.iter().map(|&e| f32_at_or_above(e)).collect();
        if let Some(last) = up.last_mut() {
            *last = f32::INFINITY;
        }
        let scale = bins as f64 / (hi - lo);
        let scale32 = scale as f32;
        // With lo = min exact in f32, x - lo ≤ range and at most 2^20 bins, the f32 guess
        // (x - lo)·scale has relative error ≤ 3·2^-24, i.e. < 0.25 bins; rounded to the
        // nearest integer it is the true bin or the next one, so one correction step
        // suffices. Ranges near f32 overflow or with an infinite scale take the exact walk.
        let fast = min != max
            && scale32.is_finite()
            && scale32 > 0.0
            && (max64 - min64) < f64::from(f32::MAX) / 4.0
            && bins <= MAX_BINS
            && bins < (1 << 22);
        let mut b = Binning {
            lo,
            hi,
            edges,
            up,
            lo32: min,
            scale32,
            fast,
            single: None,
        };
        if min == max {
            b.single = Some(b.walk(bins / 2, min64));
        }
        b
    }

    fn bins(&self) -> usize {
        self.edges.len() - 1
    }

    /// First guess in f32 arithmetic, clamped to `[0, bins)`; branch-free so it vectorizes.
    #[inline(always)]
    fn guess(&self, x: f32) -> usize {
        let last = (self.bins() - 1) as f32;
        // max/min also map NaN to 0, and the clamp keeps the cast in range.
        let t = ((x - self.lo32) * self.scale32).max(0.0).min(last);
        t as usize
    }

    /// Exact bin by walking the edges; correct for any starting guess.
    fn walk(&self, mut i: usize, x: f64) -> usize {
        let last = self.bins() - 1;
        while i > 0 && x < self.edges[i] {
            i -= 1;
        }
        while i < last && x >= self.edges[i + 1] {
            i += 1;
        }
        i
    }

    /// Exact bin of a finite value in `[lo, hi]`.
    #[inline(always)]
    fn bin(&self, x: f32) -> usize {
        if let Some(b) = self.single {
            return b;
        }
        let g = self.guess(x);
        if self.fast {
            // One step either way, branch-free: the guess is never off by more than one.
            let down = usize::from(x < self.up[g]);
            let up = usize::from(x >= self.up[g + 1]);
            g + up - down
        } else {
            self.walk(g, f64::from(x))
        }
    }

    /// Smallest f32 in `[min, max]` whose bin is at least `b` (+inf if none), by bisection
    /// over the ordered f32 bit patterns, valid because `bin` is monotone.
    fn first_value_in(&self, b: usize, min: f32, max: f32) -> f32 {
        // Order-preserving map of finite f32 to u32 and back.
        let key = |x: f32| {
            let u = x.to_bits();
            if u >> 31 == 1 {
                !u
            } else {
                u | 0x8000_0000
            }
        };
        let unkey = |k: u32| f32::from_bits(if k >> 31 == 1 { k & 0x7fff_ffff } else { !k });
        if self.bin(min) >= b {
            return min;
        }
        if self.bin(max) < b {
            return f32::INFINITY;
        }
        // Invariant: bin(unkey(lo)) < b <= bin(unkey(hi)).
        let (mut lo, mut hi) = (key(min), key(max));
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.bin(unkey(mid)) >= b {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        unkey(hi)
    }
}

/// Add one chunk's finite values to `WAYS` interleaved sub-histograms (`bins + 1` slots each,
/// the extra slot swallows non-finite values), so consecutive hits on one bin do not wait on
/// each other's store.
fn histogram_chunk<const WAYS: usize>(c: &[f32], b: &Binning, sub: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 support was just checked.
        return unsafe { histogram_chunk_avx2::<WAYS>(c, b, sub) };
    }
    histogram_chunk_portable::<WAYS>(c, b, sub)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn histogram_chunk_avx2<const WAYS: usize>(c: &[f32], b: &Binning, sub: &mut [u64]) {
    histogram_chunk_portable::<WAYS>(c, b, sub)
}

#[inline(always)]
fn histogram_chunk_portable<const WAYS: usize>(c: &[f32], b: &Binning, sub: &mut [u64]) {
    let bins = b.bins();
    if let Some(only) = b.single {
        sub[only] += c.iter().filter(|&&x| is_finite_bits(x)).count() as u64;
        return;
    }
    if !b.fast {
        for &x in c.iter().filter(|&&x| is_finite_bits(x)) {
            sub[b.bin(x)] += 1;
        }
        return;
    }
    let stride = bins + 1;
    let last = (bins - 1) as f32;
    let up = &b.up[..];
    let blocks = c.chunks_exact(LANES);
    let tail = blocks.remainder();
    for block in blocks {
        // Vectorizable guess; NaN maps to 0 and ±inf to the ends, then goes to the trash slot.
        // Adding 2^23 to t ∈ [0, 2^22) rounds it to an integer held in the low mantissa bits
        // (a saturating `as` cast would not vectorize); rounding instead of flooring keeps
        // the guess within one bin, which the correction below absorbs.
        let mut guess = [0u32; LANES];
        for k in 0..LANES {
            let t = ((block[k] - b.lo32) * b.scale32).max(0.0).min(last);
            guess[k] = (t + 8_388_608.0).to_bits() & 0x007f_ffff;
        }
        for k in 0..LANES {
            let x = block[k];
            let g = guess[k] as usize;
            // One step either way (the guess is off by at most one bin when `fast`).
            let i = (g + usize::from(x >= up[g + 1])).wrapping_sub(usize::from(x < up[g]));
            let i = if is_finite_bits(x) { i } else { bins };
            sub[(k % WAYS) * stride + i] += 1;
        }
    }
    for &x in tail {
        if is_finite_bits(x) {
            sub[b.bin(x)] += 1;
        }
    }
}

fn histogram(values: &[f32], b: &Binning) -> Vec<u64> {
    // Interleaving costs memory per task; only worth it for small histograms.
    if b.bins() <= 4096 {
        histogram_ways::<4>(values, b)
    } else {
        histogram_ways::<1>(values, b)
    }
}

fn histogram_ways<const WAYS: usize>(values: &[f32], b: &Binning) -> Vec<u64> {
    let bins = b.bins();
    let stride = bins + 1;
    let sub = values
        .par_chunks(CHUNK)
        .fold(
            || vec![0u64; WAYS * stride],
            |mut acc, c| {
                histogram_chunk::<WAYS>(c, b, &mut acc);
                acc
            },
        )
        .reduce(
            || vec![0u64; WAYS * stride],
            |mut a, x| {
                a.iter_mut().zip(&x).for_each(|(p, q)| *p += q);
                a
            },
        );
    (0..bins)
        .map(|i| (0..WAYS).map(|w| sub[w * stride + i]).sum())
        .collect()
}

/// Statistics of one tensor's values. `bins` must be in `1..=MAX_BINS`.
pub fn tensor_stats(values: &[f32], bins: usize) -> Result<TensorStats, KernelError> {
    if bins == 0 || bins > MAX_BINS {
        return Err(KernelError::invalid(
            "bins",
            format!("must be between 1 and {MAX_BINS}, got {bins}"),
        ));
    }
    let summaries: Vec<ChunkSummary> = values.par_chunks(CHUNK).map(summarize_chunk).collect();
    // Sequential merge in chunk order keeps the floating-point result deterministic.
    let s = summaries
        .into_iter()
        .fold(ChunkSummary::empty(), ChunkSummary::merge);
    let count = values.len() as u64;
    let finite = s.moments.n;
    let (mean, std) = s.moments.mean_std();
    let mut stats = TensorStats {
        count,
        finite_count: finite,
        nan_count: s.nan,
        inf_count: s.inf,
        zero_count: s.zeros,
        zero_fraction: ratio(s.zeros, count),
        min: None,
        max: None,
        abs_max: None,
        mean,
        std,
        p0_1: None,
        p99_9: None,
        histogram: None,
    };
    if finite == 0 {
        return Ok(stats);
    }
    let (min, max) = (f64::from(s.min), f64::from(s.max));
    stats.min = Some(min);
    stats.max = Some(max);
    stats.abs_max = Some(min.abs().max(max.abs()));

    let binning = Binning::new(s.min, s.max, bins);
    let counts = histogram(values, &binning);
    let [p_lo, p_hi] = exact_percentiles(values, &binning, &counts, (s.min, s.max), [0.1, 99.9]);
    stats.p0_1 = Some(p_lo);
    stats.p99_9 = Some(p_hi);
    stats.histogram = Some(Histogram {
        lo: binning.lo,
        hi: binning.hi,
        counts,
    });
    Ok(stats)
}

/// numpy's linear-interpolation position: (index of the lower order statistic, weight).
fn percentile_position(n: u64, q: f64) -> (u64, f64) {
    // numpy divides q by 100 first, then multiplies by n-1.
    let h = (n - 1) as f64 * (q / 100.0);
    let i = (h.floor() as u64).min(n - 1);
    (i, h - i as f64)
}

/// numpy's `_lerp`: the two branches keep the result monotone and exact at t = 0 and t = 1.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// Exact percentiles of the finite values: locate the bins holding the needed order
/// statistics from the histogram, gather only the values in those bins (a value-range test,
/// since bins are contiguous intervals), and select within them.
fn exact_percentiles<const K: usize>(
    values: &[f32],
    binning: &Binning,
    counts: &[u64],
    (min, max): (f32, f32),
    qs: [f64; K],
) -> [f64; K] {
    // cumulative[b] = number of finite values in bins before b.
    let mut cumulative = Vec::with_capacity(counts.len() + 1);
    let mut running = 0u64;
    cumulative.push(0);
    for &c in counts {
        running += c;
        cumulative.push(running);
    }
    let n = running;
    let bin_of_rank = |r: u64| -> usize {
        // Last bin whose cumulative start is <= r.
        cumulative.partition_point(|&c| c <= r).saturating_sub(1)
    };
    let positions = qs.map(|q| percentile_position(n, q));
    let last_bin = counts.len() - 1;
    // Per percentile: the bins holding ranks i and i+1, as a value interval [from, to).
    let ranges: [(usize, f32, f32); K] = positions.map(|(i, _)| {
        let (first, last) = (bin_of_rank(i), bin_of_rank((i + 1).min(n - 1)));
        let from = binning.first_value_in(first, min, max);
        let to = if last >= last_bin {
            f32::INFINITY
        } else {
            binning.first_value_in(last + 1, min, max)
        };
        (first, from, to)
    });
    let bounds: [(f32, f32); K] = ranges.map(|(_, from, to)| (from, to));
    let gathered: Vec<[Vec<f32>; K]> = values
        .par_chunks(CHUNK)
        .map(|c| gather_chunk(c, &bounds))
        .collect();
    let mut result = [0.0; K];
    for k in 0..K {
        let mut group: Vec<f32> = gathered.iter().flat_map(|g| g[k].iter().copied()).collect();
        let (i, t) = positions[k];
        let base = cumulative[ranges[k].0];
        let (a, b) = order_pair(&mut group, (i - base) as usize);
        let b = if i + 1 < n { b } else { a };
        result[k] = lerp(f64::from(a), f64::from(b), t);
    }
    result
}

/// Finite values of one chunk inside each `[from, to)` interval, compiled for AVX2 when the
/// CPU has it.
fn gather_chunk<const K: usize>(c: &[f32], bounds: &[(f32, f32); K]) -> [Vec<f32>; K] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 support was just checked.
        return unsafe { gather_chunk_avx2(c, bounds) };
    }
    gather_chunk_portable(c, bounds)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gather_chunk_avx2<const K: usize>(c: &[f32], bounds: &[(f32, f32); K]) -> [Vec<f32>; K] {
    gather_chunk_portable(c, bounds)
}

#[inline(always)]
fn gather_chunk_portable<const K: usize>(c: &[f32], bounds: &[(f32, f32); K]) -> [Vec<f32>; K] {
    let mut out: [Vec<f32>; K] = std::array::from_fn(|_| Vec::new());
    // NaN fails every comparison and ±inf lie outside [min, max], except +inf against an
    // open upper end, hence the finiteness test when pushing.
    let blocks = c.chunks_exact(LANES);
    let tail = blocks.remainder();
    let push = |x: f32, out: &mut [Vec<f32>; K]| {
        for (k, &(from, to)) in bounds.iter().enumerate() {
            if x >= from && x < to && is_finite_bits(x) {
                out[k].push(x);
            }
        }
    };
    for block in blocks {
        // Branch-free test of the whole block first: hits are rare.
        let mut hit = false;
        for &x in block {
            for &(from, to) in bounds {
                hit |= x >= from && x < to;
            }
        }
        if hit {
            block.iter().for_each(|&x| push(x, &mut out));
        }
    }
    tail.iter().for_each(|&x| push(x, &mut out));
    out
}

/// The `k`-th and `(k+1)`-th smallest values (the second equals the first at the end).
fn order_pair(group: &mut [f32], k: usize) -> (f32, f32) {
    if group.is_empty() {
        return (f32::NAN, f32::NAN);
    }
    let k = k.min(group.len() - 1);
    let (_, &mut a, right) = group.select_nth_unstable_by(k, f32::total_cmp);
    let b = right.iter().copied().min_by(f32::total_cmp).unwrap_or(a);
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Reference implementation for tests: naive two-pass f64 moments, a full sort for the
    /// percentiles and a linear scan of the bin edges, written straight from the definitions.
    fn tensor_stats_reference(values: &[f32], bins: usize) -> TensorStats {
        let finite: Vec<f64> = values
            .iter()
            .filter(|x| x.is_finite())
            .map(|&x| f64::from(x))
            .collect();
        let count = values.len() as u64;
        let zeros = values.iter().filter(|&&x| x == 0.0).count() as u64;
        let nan = values.iter().filter(|x| x.is_nan()).count() as u64;
        let inf = values.iter().filter(|x| x.is_infinite()).count() as u64;
        let mut s = TensorStats {
            count,
            finite_count: finite.len() as u64,
            nan_count: nan,
            inf_count: inf,
            zero_count: zeros,
            zero_fraction: if count == 0 {
                0.0
            } else {
                zeros as f64 / count as f64
            },
            min: None,
            max: None,
            abs_max: None,
            mean: None,
            std: None,
            p0_1: None,
            p99_9: None,
            histogram: None,
        };
        if finite.is_empty() {
            return s;
        }
        let n = finite.len() as f64;
        let mean = finite.iter().sum::<f64>() / n;
        let var = finite.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        let mut sorted = finite.clone();
        sorted.sort_by(f64::total_cmp);
        let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
        let percentile = |q: f64| {
            let h = (sorted.len() - 1) as f64 * (q / 100.0);
            let i = h.floor() as usize;
            let t = h - i as f64;
            let a = sorted[i];
            let b = sorted[(i + 1).min(sorted.len() - 1)];
            if t >= 0.5 {
                b - (b - a) * (1.0 - t)
            } else {
                a + (b - a) * t
            }
        };
        let (lo, hi) = if min == max {
            (min - 0.5, max + 0.5)
        } else {
            (min, max)
        };
        let w = (hi - lo) / bins as f64;
        let edge = |i: usize| if i == bins { hi } else { lo + i as f64 * w };
        let mut counts = vec![0u64; bins];
        for &x in &finite {
            let b = (0..bins).rev().find(|&i| edge(i) <= x).unwrap_or(0);
            counts[b] += 1;
        }
        s.min = Some(min);
        s.max = Some(max);
        s.abs_max = Some(min.abs().max(max.abs()));
        s.mean = Some(mean);
        s.std = Some(var.sqrt());
        s.p0_1 = Some(percentile(0.1));
        s.p99_9 = Some(percentile(99.9));
        s.histogram = Some(Histogram { lo, hi, counts });
        s
    }

    fn close(a: Option<f64>, b: Option<f64>, rel: f64, what: &str) {
        match (a, b) {
            (Some(x), Some(y)) => {
                let tol = rel * x.abs().max(y.abs()).max(1e-300);
                assert!((x - y).abs() <= tol, "{what}: {x} vs {y} (tolerance {tol})");
            }
            (x, y) => assert_eq!(x, y, "{what}"),
        }
    }

    /// Tolerance: 1e-12 relative on mean/std (f64 summation order differs); everything else
    /// (counts, extremes, order statistics, histogram) must match exactly.
    fn assert_matches_reference(values: &[f32], bins: usize) {
        let got = tensor_stats(values, bins).unwrap();
        let want = tensor_stats_reference(values, bins);
        assert_eq!(
            (
                got.count,
                got.finite_count,
                got.nan_count,
                got.inf_count,
                got.zero_count
            ),
            (
                want.count,
                want.finite_count,
                want.nan_count,
                want.inf_count,
                want.zero_count
            )
        );
        assert_eq!(got.zero_fraction, want.zero_fraction);
        assert_eq!(
            (got.min, got.max, got.abs_max),
            (want.min, want.max, want.abs_max)
        );
        close(got.mean, want.mean, 1e-12, "mean");
        close(got.std, want.std, 1e-12, "std");
        assert_eq!(got.p0_1, want.p0_1, "p0.1");
        assert_eq!(got.p99_9, want.p99_9, "p99.9");
        assert_eq!(got.histogram, want.histogram);
    }

    #[test]
    fn hand_worked_small_example() {
        // np.mean = 2.5, np.std = sqrt(1.25); np.percentile([1,2,3,4], 0.1) = 1 + 0.003·1,
        // np.percentile(.., 99.9): h = 3·0.999 = 2.997 → 4 - 0.003 = 3.997.
        let s = tensor_stats(&[4.0, 1.0, 3.0, 2.0], 4).unwrap();
        assert_eq!(s.mean, Some(2.5));
        close(s.std, Some(1.25f64.sqrt()), 1e-15, "std");
        close(s.p0_1, Some(1.003), 1e-12, "p0.1");
        close(s.p99_9, Some(3.997), 1e-12, "p99.9");
        assert_eq!((s.min, s.max, s.abs_max), (Some(1.0), Some(4.0), Some(4.0)));
        // np.histogram([1,2,3,4], 4) → edges 1, 1.75, 2.5, 3.25, 4 → [1, 1, 1, 1].
        let h = s.histogram.unwrap();
        assert_eq!((h.lo, h.hi, h.counts), (1.0, 4.0, vec![1, 1, 1, 1]));
    }

    #[test]
    fn hand_worked_percentiles_and_histogram() {
        // 0..=10: np.percentile(a, 0.1) = 10·0.001 = 0.01, np.percentile(a, 99.9) = 9.99.
        let a: Vec<f32> = (0..=10).map(|i| i as f32).collect();
        let s = tensor_stats(&a, 5).unwrap();
        close(s.p0_1, Some(0.01), 1e-12, "p0.1");
        close(s.p99_9, Some(9.99), 1e-12, "p99.9");
        // np.histogram(a, 5): edges 0,2,4,6,8,10, last bin closed → [2, 2, 2, 2, 3].
        assert_eq!(s.histogram.unwrap().counts, vec![2, 2, 2, 2, 3]);
        // 0..=1000: h = 1000·0.001 = 1 exactly → p0.1 = 1. For p99.9 numpy first rounds
        // 99.9/100 to the double 0.9990000000000001, so h = 999.0000000000001 and
        // np.percentile(np.arange(1001), 99.9) = 999.0000000000001, not 999.
        let a: Vec<f32> = (0..=1000).map(|i| i as f32).collect();
        let s = tensor_stats(&a, 64).unwrap();
        assert_eq!((s.p0_1, s.p99_9), (Some(1.0), Some(999.000_000_000_000_1)));
        assert_eq!(s.mean, Some(500.0));
    }

    #[test]
    fn nan_inf_and_zeros_are_counted_not_averaged() {
        let v = [
            f32::NAN,
            1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            3.0,
        ];
        let s = tensor_stats(&v, 8).unwrap();
        assert_eq!(
            (
                s.count,
                s.finite_count,
                s.nan_count,
                s.inf_count,
                s.zero_count
            ),
            (7, 4, 1, 2, 2)
        );
        assert_eq!(s.zero_fraction, 2.0 / 7.0);
        // Finite values 1, 0, -0, 3: mean 1, deviations 0, -1, -1, 2 → var 6/4.
        assert_eq!(s.mean, Some(1.0));
        close(s.std, Some(1.5f64.sqrt()), 1e-15, "std");
        assert_eq!(s.min, Some(0.0));
        assert_eq!(s.max, Some(3.0));
        assert_eq!(s.histogram.unwrap().counts.iter().sum::<u64>(), 4);
    }

    #[test]
    fn degenerate_inputs() {
        let empty = tensor_stats(&[], 64).unwrap();
        assert_eq!(
            (empty.count, empty.mean, empty.p0_1, empty.histogram),
            (0, None, None, None)
        );
        assert_eq!(empty.zero_fraction, 0.0);
        let nan = tensor_stats(&[f32::NAN; 5], 64).unwrap();
        assert_eq!((nan.nan_count, nan.finite_count, nan.min), (5, 0, None));
        // One distinct value: numpy widens the range to [v-0.5, v+0.5]; the value lands in
        // the middle bin.
        let same = tensor_stats(&[2.0; 10], 4).unwrap();
        assert_eq!(
            (same.p0_1, same.p99_9, same.std),
            (Some(2.0), Some(2.0), Some(0.0))
        );
        let h = same.histogram.unwrap();
        assert_eq!((h.lo, h.hi, h.counts), (1.5, 2.5, vec![0, 0, 10, 0]));
        let one = tensor_stats(&[-7.0], 1).unwrap();
        assert_eq!(
            (one.p0_1, one.p99_9, one.abs_max),
            (Some(-7.0), Some(-7.0), Some(7.0))
        );
    }

    #[test]
    fn bins_are_validated() {
        assert!(matches!(
            tensor_stats(&[1.0], 0),
            Err(KernelError::InvalidParameter { .. })
        ));
        assert!(tensor_stats(&[1.0], MAX_BINS + 1).is_err());
        assert!(tensor_stats(&[1.0], MAX_BINS).is_ok());
    }

    fn random_values(seed: u64, n: usize) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                // Sum of uniforms: roughly normal, centred away from zero to stress the mean.
                let s: f32 = (0..4).map(|_| rng.random::<f32>()).sum();
                (s - 2.0) * 0.02 + 0.5
            })
            .collect()
    }

    #[test]
    fn matches_reference_on_random_tensors() {
        for (seed, n) in [
            (1u64, 7usize),
            (2, 1000),
            (3, CHUNK + 17),
            (4, 5 * CHUNK + 3),
        ] {
            let v = random_values(seed, n);
            assert_matches_reference(&v, 64);
            assert_matches_reference(&v, 7);
        }
    }

    #[test]
    fn matches_reference_with_outliers_duplicates_and_non_finite() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut v = random_values(5, 3 * CHUNK);
        // One huge outlier crowds nearly everything into a single histogram bin, so the
        // percentile gather must handle a bin holding most of the tensor.
        v[17] = 1000.0;
        v[40_000] = -3.0;
        for _ in 0..50 {
            let i = rng.random_range(0..v.len());
            v[i] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0][i % 4];
        }
        assert_matches_reference(&v, 64);
        // Heavily quantized values: many exact ties around the order statistics.
        let q: Vec<f32> = (0..200_003)
            .map(|_| rng.random_range(-3i32..=3) as f32 * 0.25)
            .collect();
        assert_matches_reference(&q, 64);
        assert_matches_reference(&q, 1);
    }

    #[test]
    fn slow_binning_paths_match_reference() {
        // A range of a few subnormal steps makes the f32 scale infinite, and a range near
        // the f32 limits overflows x - lo: both take the exact edge walk.
        let tiny: Vec<f32> = [1u32, 2, 3, 2, 1, 3, 3].map(f32::from_bits).to_vec();
        assert_matches_reference(&tiny, 64);
        let huge = vec![-3e38f32, 3e38, 0.0, 1e38, -2e38, 2.9e38];
        assert_matches_reference(&huge, 8);
        // More than 4096 bins uses a single (non-interleaved) histogram.
        assert_matches_reference(&random_values(31, 50_000), 5000);
    }

    #[test]
    fn dispatched_kernels_equal_portable_code() {
        // The AVX2 build must not change a single bit: same code, same operation order.
        let mut v = random_values(41, CHUNK);
        v[3] = f32::NAN;
        v[9] = f32::NEG_INFINITY;
        let a = summarize_chunk(&v);
        let b = summarize_chunk_portable(&v);
        assert_eq!(a.moments.mean.to_bits(), b.moments.mean.to_bits());
        assert_eq!(a.moments.m2.to_bits(), b.moments.m2.to_bits());
        assert_eq!(
            (a.moments.n, a.nan, a.inf, a.zeros),
            (b.moments.n, b.nan, b.inf, b.zeros)
        );
        assert_eq!(
            (a.min.to_bits(), a.max.to_bits()),
            (b.min.to_bits(), b.max.to_bits())
        );
        let binning = Binning::new(a.min, a.max, 64);
        let mut h1 = vec![0u64; 4 * 65];
        let mut h2 = vec![0u64; 4 * 65];
        histogram_chunk::<4>(&v, &binning, &mut h1);
        histogram_chunk_portable::<4>(&v, &binning, &mut h2);
        assert_eq!(h1, h2);
        let bounds = [(0.49f32, 0.5f32), (0.51, f32::INFINITY)];
        assert_eq!(
            gather_chunk(&v, &bounds),
            gather_chunk_portable(&v, &bounds)
        );
    }

    #[test]
    fn deterministic_across_runs() {
        let v = random_values(11, 4 * CHUNK + 5);
        let a = tensor_stats(&v, 64).unwrap();
        let b = tensor_stats(&v, 64).unwrap();
        assert_eq!(a.mean.map(f64::to_bits), b.mean.map(f64::to_bits));
        assert_eq!(a.std.map(f64::to_bits), b.std.map(f64::to_bits));
        assert_eq!(a, b);
    }

    #[test]
    fn model_totals_equal_stats_of_concatenation() {
        let parts = [
            random_values(21, 3000),
            vec![1e3; 10],
            vec![f32::NAN, 0.0, -5.0],
            Vec::new(),
            random_values(22, CHUNK + 1),
        ];
        let mut totals = ModelTotals::new();
        for p in &parts {
            totals.add(&tensor_stats(p, 16).unwrap());
        }
        let all: Vec<f32> = parts.concat();
        let want = tensor_stats_reference(&all, 16);
        assert_eq!(totals.n_tensors, 5);
        assert_eq!(
            (
                totals.count,
                totals.finite_count,
                totals.nan_count,
                totals.zero_count
            ),
            (
                want.count,
                want.finite_count,
                want.nan_count,
                want.zero_count
            )
        );
        assert_eq!(
            (totals.min, totals.max, totals.abs_max),
            (want.min, want.max, want.abs_max)
        );
        close(totals.mean, want.mean, 1e-12, "total mean");
        close(totals.std, want.std, 1e-12, "total std");
        assert_eq!(totals.zero_fraction, want.zero_fraction);
        let json = serde_json::to_string(&totals).unwrap();
        assert_eq!(serde_json::from_str::<ModelTotals>(&json).unwrap(), totals);
    }
}

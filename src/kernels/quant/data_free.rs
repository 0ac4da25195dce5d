//! The data-free quantizers: one row-parallel driver shared by `rtn`, `mse` and `hqq`, which
//! need only the weights and differ only in how a group's parameters are chosen; plus
//! dequantization, fake quantization, and the scalar RTN reference twin used by the tests.
//! (`gptq` needs calibration inputs and lives in its own module.)
//!
//! One pass over memory: each rayon task takes whole rows; for every group of a row the
//! parameters are chosen and the group is encoded while it is still in L1, straight into the
//! preallocated output.
use std::borrow::Cow;
use std::mem::MaybeUninit;

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::params::{decode_group, encode_group, encode_one, fake_group, rtn_params, GroupParams};
use super::{Granularity, QuantScheme, QuantizedTensor};
use crate::kernels::KernelError;

/// Aim for about this many weights per rayon task so small rows are batched.
const TASK_ELEMS: usize = 1 << 15;

/// Contiguous row-major data of `w` (copied only when `w` is not in standard layout).
fn contiguous<'a>(w: &'a ArrayView2<'_, f32>) -> Result<Cow<'a, [f32]>, KernelError> {
    let (rows, cols) = w.dim();
    if rows == 0 || cols == 0 {
        return Err(KernelError::Shape(format!(
            "cannot quantize an empty {rows}x{cols} matrix"
        )));
    }
    match w.as_slice() {
        Some(s) => Ok(Cow::Borrowed(s)),
        None => Ok(Cow::Owned(w.iter().copied().collect())),
    }
}

/// Chooses the parameters of one group (a row segment, a row, or the whole tensor).
pub(crate) trait ParamRule: Sync {
    /// Parameters for the weights `x` of one group.
    fn choose(&self, x: &[f32], scheme: &QuantScheme) -> Result<GroupParams, KernelError>;
}

/// Min-max parameters.
pub(crate) struct RtnRule;
/// Clipping-ratio search.
pub(crate) struct MseRule;
/// Half-quadratic optimisation.
pub(crate) struct HqqRule;

impl ParamRule for RtnRule {
    #[inline(always)]
    fn choose(&self, x: &[f32], scheme: &QuantScheme) -> Result<GroupParams, KernelError> {
        rtn_params(x, scheme)
    }
}

impl ParamRule for MseRule {
    #[inline(always)]
    fn choose(&self, x: &[f32], scheme: &QuantScheme) -> Result<GroupParams, KernelError> {
        super::search::mse_params(x, scheme)
    }
}

impl ParamRule for HqqRule {
    #[inline(always)]
    fn choose(&self, x: &[f32], scheme: &QuantScheme) -> Result<GroupParams, KernelError> {
        super::search::hqq_params(x, scheme)
    }
}

/// Writes one group's output (codes or fake-quantized floats) given its parameters; a
/// measuring sink also returns the group's reconstruction error (zeros otherwise).
trait GroupSink<T>: Sync {
    fn emit(&self, x: &[f32], p: GroupParams, out: &mut [MaybeUninit<T>]) -> GroupError;
}

/// Sums over the groups of a tensor: `Σx²`, `Σ(x − x̂)²` (`x̂` the f32 decode; f32 terms
/// summed in f64 blocks) and the largest `|x − x̂|`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct GroupError {
    pub signal: f64,
    pub noise: f64,
    pub max: f64,
}

impl GroupError {
    #[inline(always)]
    fn merge(self, o: GroupError) -> GroupError {
        GroupError {
            signal: self.signal + o.signal,
            noise: self.noise + o.noise,
            max: self.max.max(o.max),
        }
    }
}

/// Integer codes, with the reconstruction error measured in the same pass.
struct MeasureSink {
    qmin: f32,
    qmax: f32,
}

impl GroupSink<i8> for MeasureSink {
    #[inline(always)]
    fn emit(&self, x: &[f32], p: GroupParams, out: &mut [MaybeUninit<i8>]) -> GroupError {
        // Eight f32 lanes (one AVX2 register) per step; every BLOCK elements the lane sums go
        // into f64, so no f32 sum holds more than BLOCK / L terms (relative error ~1e-7).
        const L: usize = 8;
        const BLOCK: usize = 64;
        let (inv, z, s) = (p.inv, p.zero as f32, p.scale);
        let (qmin, qmax) = (self.qmin, self.qmax);
        let (mut signal, mut noise) = (0.0f64, 0.0f64);
        let mut max = [0.0f32; L];
        let mut xs = x.chunks_exact(BLOCK);
        let mut os = out.chunks_exact_mut(BLOCK);
        for (xb, ob) in (&mut xs).zip(&mut os) {
            let mut sig = [0.0f32; L];
            let mut err = [0.0f32; L];
            for (xc, oc) in xb.chunks_exact(L).zip(ob.chunks_exact_mut(L)) {
                let mut c = [0i8; L];
                for l in 0..L {
                    c[l] = encode_one(xc[l], inv, z, qmin, qmax);
                }
                for l in 0..L {
                    oc[l].write(c[l]);
                    let d = xc[l] - (f32::from(c[l]) - z) * s;
                    sig[l] += xc[l] * xc[l];
                    err[l] += d * d;
                    let a = d.abs();
                    max[l] = if a > max[l] { a } else { max[l] };
                }
            }
            signal += sig.iter().map(|&v| f64::from(v)).sum::<f64>();
            noise += err.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
        let mut m = max.iter().copied().fold(0.0f32, f32::max);
        for (v, o) in xs.remainder().iter().zip(os.into_remainder()) {
            let c = encode_one(*v, inv, z, qmin, qmax);
            o.write(c);
            let d = *v - (f32::from(c) - z) * s;
            signal += f64::from(*v) * f64::from(*v);
            noise += f64::from(d) * f64::from(d);
            m = m.max(d.abs());
        }
        GroupError {
            signal,
            noise,
            max: f64::from(m),
        }
    }
}

/// Integer codes.
struct EncodeSink {
    qmin: f32,
    qmax: f32,
}

/// Quantize-dequantize floats.
struct FakeSink {
    qmin: f32,
    qmax: f32,
}

impl GroupSink<i8> for EncodeSink {
    #[inline(always)]
    fn emit(&self, x: &[f32], p: GroupParams, out: &mut [MaybeUninit<i8>]) -> GroupError {
        encode_group(x, p, self.qmin, self.qmax, out);
        GroupError::default()
    }
}

impl GroupSink<f32> for FakeSink {
    #[inline(always)]
    fn emit(&self, x: &[f32], p: GroupParams, out: &mut [MaybeUninit<f32>]) -> GroupError {
        fake_group(x, p, self.qmin, self.qmax, out);
        GroupError::default()
    }
}

/// Asks the CPU to start loading `x` into cache (one hint per 64-byte line).
#[inline(always)]
fn prefetch(x: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in x.chunks(16) {
        // SAFETY: prefetch is only a hint; the pointer comes from a live slice.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr().cast(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// All groups of one row: choose parameters, then emit while the group is in L1. Each group
/// first prefetches the same columns of the next row (`ahead`), one row ahead of use, which
/// keeps the memory stream busy while this row's groups are computed.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn row_body<T, R: ParamRule, S: GroupSink<T>>(
    xr: &[f32],
    ahead: &[f32],
    or: &mut [MaybeUninit<T>],
    pr: &mut [GroupParams],
    g: usize,
    scheme: &QuantScheme,
    rule: &R,
    sink: &S,
) -> Result<GroupError, KernelError> {
    let mut next = ahead.chunks(g);
    let mut total = GroupError::default();
    for ((xg, og), p) in xr.chunks(g).zip(or.chunks_mut(g)).zip(pr.iter_mut()) {
        if let Some(n) = next.next() {
            prefetch(n);
        }
        *p = rule.choose(xg, scheme)?;
        total = total.merge(sink.emit(xg, *p, og));
    }
    Ok(total)
}

/// Defines `unsafe fn $name`: [`row_body`] compiled with the target features `$features`,
/// so the same generic body gets wider vector instructions without a separate copy.
macro_rules! row_body_with_features {
    ($(#[$doc:meta])* $name:ident, $features:literal) => {
        $(#[$doc])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $name<T, R: ParamRule, S: GroupSink<T>>(
            xr: &[f32],
            ahead: &[f32],
            or: &mut [MaybeUninit<T>],
            pr: &mut [GroupParams],
            g: usize,
            scheme: &QuantScheme,
            rule: &R,
            sink: &S,
        ) -> Result<GroupError, KernelError> {
            row_body(xr, ahead, or, pr, g, scheme, rule, sink)
        }
    };
}

row_body_with_features!(
    /// [`row_body`] compiled for AVX-512 (16 lanes per min/max/convert instruction).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F/BW/VL/DQ (checked by [`row_kernel`]).
    row_avx512,
    "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"
);

row_body_with_features!(
    /// [`row_body`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA (checked by [`row_kernel`]).
    row_avx2,
    "avx2,fma"
);

/// Runtime dispatch: the widest instruction set the CPU has (the build stays baseline x86-64).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn row_kernel<T, R: ParamRule, S: GroupSink<T>>(
    xr: &[f32],
    ahead: &[f32],
    or: &mut [MaybeUninit<T>],
    pr: &mut [GroupParams],
    g: usize,
    scheme: &QuantScheme,
    rule: &R,
    sink: &S,
) -> Result<GroupError, KernelError> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512dq")
        {
            // SAFETY: the features were detected at runtime just above.
            return unsafe { row_avx512(xr, ahead, or, pr, g, scheme, rule, sink) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the features were detected at runtime just above.
            return unsafe { row_avx2(xr, ahead, or, pr, g, scheme, rule, sink) };
        }
    }
    row_body(xr, ahead, or, pr, g, scheme, rule, sink)
}

/// Runs `rule` on every group of `x` (`[rows, cols]` row-major) and `sink`s each group into
/// `out` (cleared and refilled in the same layout, each slot written exactly once: no
/// zero-fill pass); returns the parameters, row-major `[scale rows, groups]`, and the sinks'
/// summed error.
fn drive<T: Send, R: ParamRule, S: GroupSink<T>>(
    x: &[f32],
    rows: usize,
    cols: usize,
    scheme: &QuantScheme,
    rule: &R,
    sink: &S,
    out: &mut Vec<T>,
) -> Result<(Vec<GroupParams>, GroupError), KernelError> {
    let n = rows * cols;
    out.clear();
    out.reserve(n);
    let buf = &mut out.spare_capacity_mut()[..n];
    let rows_per_task = (TASK_ELEMS / cols).max(1);
    let result = if scheme.granularity == Granularity::Tensor {
        // One group spanning the whole tensor: choose once, then emit row chunks in parallel
        // (each row as a "group" with the fixed parameters, prefetching the next chunk).
        let p = rule.choose(x, scheme)?;
        let chunk = cols * rows_per_task;
        let error = x
            .par_chunks(chunk)
            .zip(buf.par_chunks_mut(chunk))
            .enumerate()
            .map(|(ci, (xc, oc))| {
                let ahead = x.get((ci + 1) * chunk..).unwrap_or(&[]);
                let ahead = &ahead[..ahead.len().min(chunk)];
                let mut fixed = vec![p; xc.len().div_ceil(cols)];
                row_kernel(xc, ahead, oc, &mut fixed, cols, scheme, &Fixed(p), sink)
            })
            .try_reduce(GroupError::default, |a, b| Ok(a.merge(b)))?;
        (vec![p], error)
    } else {
        let g = scheme.group_len(cols);
        let n_groups = cols.div_ceil(g);
        let mut params = vec![GroupParams::new(1.0, 0); rows * n_groups];
        let error = x
            .par_chunks(cols)
            .zip(buf.par_chunks_mut(cols))
            .zip(params.par_chunks_mut(n_groups))
            .enumerate()
            .with_min_len(rows_per_task)
            .map(|(r, ((xr, or), pr))| {
                let ahead = x.get((r + 1) * cols..(r + 2) * cols).unwrap_or(&[]);
                row_kernel(xr, ahead, or, pr, g, scheme, rule, sink)
            })
            .try_reduce(GroupError::default, |a, b| Ok(a.merge(b)))?;
        (params, error)
    };
    // SAFETY: `buf` is the first `n` slots of `out`'s spare capacity, and the loops above
    // emitted every one of them: chunks of `x` and `buf` have equal lengths, every group sink
    // writes its whole group, and any error returned before this point.
    unsafe { out.set_len(n) };
    Ok(result)
}

/// A rule that returns parameters chosen beforehand (the per-tensor case).
struct Fixed(GroupParams);

impl ParamRule for Fixed {
    #[inline(always)]
    fn choose(&self, _x: &[f32], _scheme: &QuantScheme) -> Result<GroupParams, KernelError> {
        Ok(self.0)
    }
}

/// Packs per-group parameters into the scale / zero-point matrices of a [`QuantizedTensor`].
pub(crate) fn assemble(
    rows: usize,
    cols: usize,
    scheme: &QuantScheme,
    q: Vec<i8>,
    params: &[GroupParams],
) -> Result<QuantizedTensor, KernelError> {
    let shape = scheme.scale_shape(rows, cols);
    let scales = Array2::from_shape_vec(shape, params.iter().map(|p| p.scale).collect())
        .map_err(|e| KernelError::Shape(e.to_string()))?;
    let zero_points = if scheme.symmetric {
        None
    } else {
        let z = params.iter().map(|p| p.zero as i8).collect();
        Some(Array2::from_shape_vec(shape, z).map_err(|e| KernelError::Shape(e.to_string()))?)
    };
    Ok(QuantizedTensor {
        rows,
        cols,
        scheme: *scheme,
        q,
        scales,
        zero_points,
    })
}

/// Quantizes `w` with group parameters from `rule` (RTN, MSE or HQQ).
pub(crate) fn quantize_with<R: ParamRule>(
    w: ArrayView2<f32>,
    scheme: &QuantScheme,
    rule: &R,
) -> Result<QuantizedTensor, KernelError> {
    scheme.validate()?;
    let (rows, cols) = w.dim();
    let x = contiguous(&w)?;
    let sink = EncodeSink {
        qmin: scheme.qmin() as f32,
        qmax: scheme.qmax() as f32,
    };
    let mut q = Vec::new();
    let (params, _) = drive(&x, rows, cols, scheme, rule, &sink, &mut q)?;
    assemble(rows, cols, scheme, q, &params)
}

/// [`quantize_with`] that also measures the reconstruction error in the same pass (equal to
/// [`super::error_report`] of `dequantize` up to f64 summation order), writing the codes into
/// `codes` (its allocation is reused).
pub(crate) fn quantize_measured_with<R: ParamRule>(
    w: ArrayView2<f32>,
    scheme: &QuantScheme,
    rule: &R,
    mut codes: Vec<i8>,
) -> Result<(QuantizedTensor, GroupError), KernelError> {
    scheme.validate()?;
    let (rows, cols) = w.dim();
    let x = contiguous(&w)?;
    let sink = MeasureSink {
        qmin: scheme.qmin() as f32,
        qmax: scheme.qmax() as f32,
    };
    let (params, error) = drive(&x, rows, cols, scheme, rule, &sink, &mut codes)?;
    Ok((assemble(rows, cols, scheme, codes, &params)?, error))
}

/// Parameters of every group of `q`, row-major `[scale rows, groups]`.
pub(crate) fn group_params(q: &QuantizedTensor) -> Vec<GroupParams> {
    let zeros = q.zero_points.as_ref();
    q.scales
        .indexed_iter()
        .map(|(ix, &s)| GroupParams::new(s, zeros.and_then(|z| z.get(ix)).map_or(0, |&z| z as i32)))
        .collect()
}

/// Reconstructs the float matrix `x̂ = (q − z)·s` (checks `q` first).
pub fn dequantize(q: &QuantizedTensor) -> Result<Array2<f32>, KernelError> {
    q.check()?;
    let (rows, cols) = (q.rows, q.cols);
    let params = group_params(q);
    let n = rows * cols;
    if n == 0 {
        // A zero-sized tensor (a `[k, 0]` or `[0, k]` shape) decodes to itself.
        return Ok(Array2::zeros((rows, cols)));
    }
    let mut out: Vec<f32> = Vec::with_capacity(n);
    let buf = &mut out.spare_capacity_mut()[..n];
    match q.scheme.granularity {
        Granularity::Tensor => {
            let p = params[0];
            q.q.par_chunks(TASK_ELEMS)
                .zip(buf.par_chunks_mut(TASK_ELEMS))
                .for_each(|(qc, oc)| decode_group(qc, p, oc));
        }
        Granularity::Channel | Granularity::Group(_) => {
            let g = q.scheme.group_len(cols);
            let n_groups = cols.div_ceil(g);
            q.q.par_chunks(cols)
                .zip(buf.par_chunks_mut(cols))
                .zip(params.par_chunks(n_groups))
                .with_min_len((TASK_ELEMS / cols).max(1))
                .for_each(|((qr, or), pr)| {
                    for ((qg, og), p) in qr.chunks(g).zip(or.chunks_mut(g)).zip(pr) {
                        decode_group(qg, *p, og);
                    }
                });
        }
    }
    // SAFETY: `q.check()` guarantees `q.q.len() == n` and one parameter per group, so the
    // chunk loops above wrote all `n` slots of the spare capacity.
    unsafe { out.set_len(n) };
    Array2::from_shape_vec((rows, cols), out).map_err(|e| KernelError::Shape(e.to_string()))
}

/// Quantize-dequantize with RTN parameters in one pass, for quantization-aware training
/// (the caller applies the straight-through estimator). Equals
/// `dequantize(quantize(w, scheme, Rtn))` exactly.
pub fn fake_quantize(w: ArrayView2<f32>, scheme: &QuantScheme) -> Result<Array2<f32>, KernelError> {
    scheme.validate()?;
    let (rows, cols) = w.dim();
    let x = contiguous(&w)?;
    let sink = FakeSink {
        qmin: scheme.qmin() as f32,
        qmax: scheme.qmax() as f32,
    };
    let mut out = Vec::new();
    drive(&x, rows, cols, scheme, &RtnRule, &sink, &mut out)?;
    Array2::from_shape_vec((rows, cols), out).map_err(|e| KernelError::Shape(e.to_string()))
}

/// Reference implementation for tests: plain scalar RTN (iterator min/max, `round_ties_even`,
/// `clamp`), one group at a time. Must produce exactly the codes of the fast path.
#[cfg(test)]
fn quantize_rtn_reference(
    w: ArrayView2<f32>,
    scheme: &QuantScheme,
) -> Result<QuantizedTensor, KernelError> {
    use super::params::{non_finite_error, store_scale_up};

    scheme.validate()?;
    let (rows, cols) = w.dim();
    if rows == 0 || cols == 0 {
        return Err(KernelError::Shape("empty matrix".into()));
    }
    let (qmin, qmax) = (scheme.qmin() as f32, scheme.qmax() as f32);
    let choose = |vals: &[f32]| -> Result<GroupParams, KernelError> {
        if vals.iter().any(|v| !v.is_finite()) {
            return Err(non_finite_error());
        }
        let lo = vals.iter().fold(0.0f32, |a, &v| a.min(v));
        let hi = vals.iter().fold(0.0f32, |a, &v| a.max(v));
        if scheme.symmetric {
            let s = store_scale_up(lo.abs().max(hi) / qmax, scheme.scale_dtype)?;
            Ok(GroupParams::new(s, 0))
        } else {
            let s = store_scale_up((hi - lo) / (qmax - qmin), scheme.scale_dtype)?;
            let z = (qmin - lo / s).round_ties_even().clamp(qmin, qmax);
            Ok(GroupParams::new(s, z as i32))
        }
    };
    let encode = |v: f32, p: GroupParams| -> i8 {
        (v * (1.0 / p.scale) + p.zero as f32)
            .clamp(qmin, qmax)
            .round_ties_even() as i8
    };
    let mut q = vec![0i8; rows * cols];
    let mut params = Vec::new();
    match scheme.granularity {
        Granularity::Tensor => {
            let all: Vec<f32> = w.iter().copied().collect();
            let p = choose(&all)?;
            for (o, &v) in q.iter_mut().zip(w.iter()) {
                *o = encode(v, p);
            }
            params.push(p);
        }
        Granularity::Channel | Granularity::Group(_) => {
            let g = scheme.group_len(cols);
            for r in 0..rows {
                for start in (0..cols).step_by(g) {
                    let end = (start + g).min(cols);
                    let vals: Vec<f32> = (start..end).map(|c| w[[r, c]]).collect();
                    let p = choose(&vals)?;
                    for c in start..end {
                        q[r * cols + c] = encode(w[[r, c]], p);
                    }
                    params.push(p);
                }
            }
        }
    }
    assemble(rows, cols, scheme, q, &params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::quant::QuantMethod;

    fn rtn(w: ArrayView2<f32>, scheme: &QuantScheme) -> QuantizedTensor {
        crate::kernels::quant::quantize(w, scheme, QuantMethod::Rtn).expect("valid test input")
    }
    use crate::kernels::quant::ScaleDtype;
    use ndarray::array;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    fn gaussian(rows: usize, cols: usize, std: f32, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = Normal::new(0.0f32, std).unwrap();
        Array2::from_shape_simple_fn((rows, cols), || n.sample(&mut rng))
    }

    #[test]
    fn golden_int4_symmetric_per_channel() {
        // Row 0: absmax 1.4 → s = 1.4/7 = 0.2; x/s = [5, -7, 0.5, 1.5] → ties to even
        // gives [5, -7, 0, 2]. Row 1: absmax 7 → s = 1; [3.5, -0.5, 7, -2.5] → [4, 0, 7, -2].
        let w = array![[1.0f32, -1.4, 0.1, 0.3], [3.5, -0.5, 7.0, -2.5]];
        let q = rtn(w.view(), &QuantScheme::new(4, true, Granularity::Channel));
        assert_eq!(q.q, vec![5, -7, 0, 2, 4, 0, 7, -2]);
        assert!((q.scales[[0, 0]] - 0.2).abs() < 1e-7);
        assert_eq!(q.scales[[1, 0]], 1.0);
        assert!(q.zero_points.is_none());
        let d = dequantize(&q).unwrap();
        assert_eq!(d[[1, 0]], 4.0);
        assert_eq!(d[[1, 3]], -2.0);
    }

    #[test]
    fn golden_int4_asymmetric_groups_with_partial_last_group() {
        // Row [0, 3, 1.5 | -1, 2], group 3 (last group has 2 columns), 4 bits → qmin = -8.
        // Group 0: range [0, 3] → s = 3/15 = 0.2, z = round(-8 - 0/0.2) = -8;
        //   codes: 0/0.2-8 = -8, 3/0.2-8 = 7, 1.5/0.2-8 = -0.5 → 0 (ties to even).
        // Group 1: range [-1, 2] → s = 0.2, z = round(-8 + 5) = -3;
        //   codes: -1/0.2-3 = -8, 2/0.2-3 = 7.
        let w = array![[0.0f32, 3.0, 1.5, -1.0, 2.0]];
        let q = rtn(w.view(), &QuantScheme::new(4, false, Granularity::Group(3)));
        assert_eq!(q.q, vec![-8, 7, 0, -8, 7]);
        assert_eq!(q.scales.dim(), (1, 2));
        assert_eq!(
            q.zero_points.as_ref().unwrap().row(0).to_vec(),
            vec![-8, -3]
        );
        let d = dequantize(&q).unwrap();
        // 1.5 decodes to (0 + 8)·0.2 = 1.6 (the tie went to the even code 0).
        assert!((d[[0, 2]] - 1.6).abs() < 1e-6);
        assert!((d[[0, 3]] + 1.0).abs() < 1e-6);
    }

    #[test]
    fn golden_int8_per_tensor() {
        // absmax 2.54 → s = 0.02; 1.0/0.02 = 50, -0.03/0.02 = -1.5 → -2 (even), 2.54 → 127.
        let w = array![[1.0f32, -0.03], [2.54, 0.0]];
        let q = rtn(w.view(), &QuantScheme::new(8, true, Granularity::Tensor));
        assert_eq!(q.q, vec![50, -2, 127, 0]);
        assert_eq!(q.scales.dim(), (1, 1));
    }

    #[test]
    fn fast_path_equals_reference_exactly() {
        let w = gaussian(67, 300, 0.02, 7);
        for bits in [2u8, 3, 4, 5, 8] {
            for symmetric in [true, false] {
                for gran in [
                    Granularity::Tensor,
                    Granularity::Channel,
                    Granularity::Group(32),
                    Granularity::Group(128),
                    Granularity::Group(7),
                    Granularity::Group(1000),
                ] {
                    for dt in [ScaleDtype::F32, ScaleDtype::F16, ScaleDtype::BF16] {
                        let s = QuantScheme::new(bits, symmetric, gran).with_scale_dtype(dt);
                        let fast = rtn(w.view(), &s);
                        let slow = quantize_rtn_reference(w.view(), &s).unwrap();
                        assert_eq!(fast, slow, "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn multi_task_tensors_equal_reference() {
        // 250×300 spans several rayon tasks (109 rows each), for per-tensor and per-channel.
        let w = gaussian(250, 300, 0.05, 9);
        for gran in [
            Granularity::Tensor,
            Granularity::Channel,
            Granularity::Group(64),
        ] {
            let s = QuantScheme::new(4, false, gran).with_scale_dtype(ScaleDtype::F16);
            assert_eq!(
                rtn(w.view(), &s),
                quantize_rtn_reference(w.view(), &s).unwrap()
            );
        }
    }

    #[test]
    fn non_standard_layout_is_handled() {
        let w = gaussian(40, 24, 1.0, 3);
        let t = w.t();
        let s = QuantScheme::new(4, false, Granularity::Group(16));
        let a = rtn(t, &s);
        let b = rtn(t.as_standard_layout().view(), &s);
        assert_eq!(a, b);
    }

    #[test]
    fn fake_quantize_equals_dequantize_of_quantize() {
        let w = gaussian(33, 130, 0.5, 11);
        for s in [
            QuantScheme::new(4, true, Granularity::Group(32)),
            QuantScheme::new(4, false, Granularity::Group(64)),
            QuantScheme::new(8, true, Granularity::Channel),
            QuantScheme::new(3, false, Granularity::Tensor).with_scale_dtype(ScaleDtype::F16),
        ] {
            let fq = fake_quantize(w.view(), &s).unwrap();
            let dq = dequantize(&rtn(w.view(), &s)).unwrap();
            assert_eq!(fq, dq, "{s:?}");
        }
    }

    #[test]
    fn non_finite_and_empty_inputs_are_errors() {
        let mut w = gaussian(4, 8, 1.0, 1);
        w[[2, 5]] = f32::NAN;
        for gran in [
            Granularity::Tensor,
            Granularity::Channel,
            Granularity::Group(4),
        ] {
            let s = QuantScheme::new(8, true, gran);
            for m in [QuantMethod::Rtn, QuantMethod::Mse, QuantMethod::Hqq] {
                assert!(matches!(
                    crate::kernels::quant::quantize(w.view(), &s, m),
                    Err(KernelError::Numerical(_))
                ));
            }
        }
        let empty = Array2::<f32>::zeros((0, 5));
        let s = QuantScheme::new(8, true, Granularity::Channel);
        assert!(matches!(
            crate::kernels::quant::quantize(empty.view(), &s, QuantMethod::Rtn),
            Err(KernelError::Shape(_))
        ));
    }

    #[test]
    fn all_zero_rows_round_trip_to_zero() {
        let w = Array2::<f32>::zeros((3, 10));
        for sym in [true, false] {
            let s =
                QuantScheme::new(4, sym, Granularity::Group(4)).with_scale_dtype(ScaleDtype::F16);
            let q = rtn(w.view(), &s);
            assert!(dequantize(&q).unwrap().iter().all(|&v| v == 0.0));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// RTN never clips: every element is within half a step of its reconstruction.
        #[test]
        fn rtn_round_trip_error_is_at_most_half_a_step(
            rows in 1usize..6,
            cols in 1usize..40,
            bits in 2u8..=8,
            symmetric in any::<bool>(),
            gran_kind in 0usize..3,
            group in 1usize..20,
            f16_scales in any::<bool>(),
            seed in any::<u64>(),
            scale_exp in -6i32..4,
        ) {
            let gran = match gran_kind {
                0 => Granularity::Tensor,
                1 => Granularity::Channel,
                _ => Granularity::Group(group),
            };
            let dt = if f16_scales { ScaleDtype::F16 } else { ScaleDtype::F32 };
            let s = QuantScheme::new(bits, symmetric, gran).with_scale_dtype(dt);
            let w = gaussian(rows, cols, 10f32.powi(scale_exp), seed);
            let q = rtn(w.view(), &s);
            let d = dequantize(&q).unwrap();
            let g = s.group_len(cols);
            for r in 0..rows {
                for c in 0..cols {
                    let step = match gran {
                        Granularity::Tensor => q.scales[[0, 0]],
                        Granularity::Channel => q.scales[[r, 0]],
                        Granularity::Group(_) => q.scales[[r, c / g]],
                    };
                    let err = (w[[r, c]] - d[[r, c]]).abs();
                    // Half a step, plus float rounding of x·(1/s) and (q−z)·s.
                    let tol = step * 0.5 * (1.0 + 1e-5) + w[[r, c]].abs() * 1e-6;
                    prop_assert!(err <= tol, "err {err} step {step} at ({r},{c}) {s:?}");
                }
            }
        }
    }
}

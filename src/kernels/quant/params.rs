//! Group parameters (scale, zero point), min-max statistics, scale storage rounding and the
//! vectorizable inner loops shared by every method: encode a group, measure its error.
use std::mem::MaybeUninit;

use half::{bf16, f16};
use rayon::prelude::*;

use super::{QuantScheme, ScaleDtype};
use crate::kernels::KernelError;

/// Adding then subtracting `1.5·2^23` rounds an f32 with `|x| < 2^22` to an integer,
/// ties to even (the default FP rounding mode); the integer sits in the low mantissa bits.
pub(crate) const MAGIC: f32 = 12_582_912.0;
/// Bit pattern of [`MAGIC`]; `(v + MAGIC).to_bits() − MAGIC_BITS` is `round(v)` as an i32.
const MAGIC_BITS: i32 = 0x4B40_0000;

/// Scale and zero point of one group; `inv` is `1/scale`, the multiplier used when encoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GroupParams {
    pub scale: f32,
    pub inv: f32,
    pub zero: i32,
}

impl GroupParams {
    pub(crate) fn new(scale: f32, zero: i32) -> Self {
        GroupParams {
            scale,
            inv: 1.0 / scale,
            zero,
        }
    }
}

/// Min and max of a slice, plus whether any value was NaN or infinite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RangeStats {
    pub min: f32,
    pub max: f32,
    pub finite: bool,
}

impl RangeStats {
    fn merge(self, o: RangeStats) -> RangeStats {
        RangeStats {
            min: self.min.min(o.min),
            max: self.max.max(o.max),
            finite: self.finite && o.finite,
        }
    }
}

/// Range of a slice for a symmetric (`[−max|x|, max|x|]`) or asymmetric (`[min, max]`)
/// scheme; large slices (the per-tensor case) are split over the rayon pool.
#[inline(always)]
pub(crate) fn range_stats(x: &[f32], symmetric: bool) -> RangeStats {
    if x.len() > PAR_MIN {
        range_stats_parallel(x, symmetric)
    } else {
        range_stats_serial(x, symmetric)
    }
}

const PAR_MIN: usize = 1 << 18;

fn range_stats_parallel(x: &[f32], symmetric: bool) -> RangeStats {
    x.par_chunks(PAR_MIN)
        .map(|c| range_stats_serial(c, symmetric))
        .reduce(
            || RangeStats {
                min: f32::INFINITY,
                max: f32::NEG_INFINITY,
                finite: true,
            },
            RangeStats::merge,
        )
}

/// Bits of `|v|`: for non-negative floats the integer order is the float order, and NaN
/// sorts above infinity, so one integer max gives max|x| and whether any value is non-finite.
const ABS_MASK: u32 = 0x7FFF_FFFF;
const INF_BITS: u32 = 0x7F80_0000;

/// Serial range with 16 independent lanes so the loops vectorize (integer max of `|x|` bits;
/// float min/max for the asymmetric case).
#[inline(always)]
fn range_stats_serial(x: &[f32], symmetric: bool) -> RangeStats {
    const L: usize = 16;
    let chunks = x.chunks_exact(L);
    let tail = chunks.remainder();
    let mut abs = [0u32; L];
    if symmetric {
        for c in chunks {
            for i in 0..L {
                abs[i] = abs[i].max(c[i].to_bits() & ABS_MASK);
            }
        }
        for (i, &v) in tail.iter().enumerate() {
            abs[i] = abs[i].max(v.to_bits() & ABS_MASK);
        }
        let m = abs.iter().fold(0u32, |a, &b| a.max(b));
        let absmax = f32::from_bits(m);
        return RangeStats {
            min: -absmax,
            max: absmax,
            finite: m < INF_BITS,
        };
    }
    let mut mn = [f32::INFINITY; L];
    let mut mx = [f32::NEG_INFINITY; L];
    for c in chunks {
        for i in 0..L {
            let v = c[i];
            mn[i] = if v < mn[i] { v } else { mn[i] };
            mx[i] = if v > mx[i] { v } else { mx[i] };
            abs[i] = abs[i].max(v.to_bits() & ABS_MASK);
        }
    }
    for (i, &v) in tail.iter().enumerate() {
        mn[i] = if v < mn[i] { v } else { mn[i] };
        mx[i] = if v > mx[i] { v } else { mx[i] };
        abs[i] = abs[i].max(v.to_bits() & ABS_MASK);
    }
    let mut s = RangeStats {
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
        finite: true,
    };
    for i in 0..L {
        s.min = if mn[i] < s.min { mn[i] } else { s.min };
        s.max = if mx[i] > s.max { mx[i] } else { s.max };
        s.finite &= abs[i] < INF_BITS;
    }
    s
}

/// The error for weights containing NaN or ±inf.
pub(crate) fn non_finite_error() -> KernelError {
    KernelError::Numerical("weights contain NaN or infinite values".into())
}

/// Rounds a positive scale **up** to its storage precision (so a min-max range is never
/// clipped), with a floor that keeps `1/scale` finite. Bit arithmetic on the f32 (inlined in
/// the per-group hot path); [`store_scale_up_reference`] is the `half`-crate twin.
#[inline(always)]
pub(crate) fn store_scale_up(s: f32, dtype: ScaleDtype) -> Result<f32, KernelError> {
    let s = if s.is_nan() { 0.0 } else { s };
    let out = match dtype {
        ScaleDtype::F32 => s.max(f32::MIN_POSITIVE),
        ScaleDtype::F16 => {
            // f16 normals (≥ 2^-14) keep 10 of f32's 23 mantissa bits: clear the low 13 bits,
            // carrying up when any was set. Below, f16 subnormals are multiples of 2^-24.
            const F16_MIN_NORMAL: f32 = 6.103_515_6e-5; // 2^-14
            const F16_TINY: f32 = 5.960_464_5e-8; // 2^-24
            if s >= F16_MIN_NORMAL {
                round_up_bits(s, 13)
            } else {
                ((s / F16_TINY).ceil() * F16_TINY).max(F16_TINY)
            }
        }
        // bf16 keeps 7 mantissa bits and f32's exponent range.
        ScaleDtype::BF16 => round_up_bits(s, 16).max(f32::MIN_POSITIVE),
    };
    // f16's largest finite value is 65504; anything rounded above it overflows.
    let limit = if dtype == ScaleDtype::F16 {
        65504.0
    } else {
        f32::MAX
    };
    if out.is_finite() && out <= limit {
        Ok(out)
    } else {
        Err(scale_range_error(s, dtype))
    }
}

/// Clears the low `drop` mantissa bits of a positive f32, rounding up if any was set.
#[inline(always)]
fn round_up_bits(s: f32, drop: u32) -> f32 {
    let mask = (1u32 << drop) - 1;
    let b = s.to_bits();
    if b & mask == 0 {
        s
    } else {
        f32::from_bits((b | mask) + 1)
    }
}

/// Reference implementation for tests: [`store_scale_up`] through the `half` crate's
/// conversions (round to nearest, then step up one value if that fell below `s`).
#[cfg(test)]
pub(crate) fn store_scale_up_reference(s: f32, dtype: ScaleDtype) -> Option<f32> {
    let out = match dtype {
        ScaleDtype::F32 => s.max(f32::MIN_POSITIVE),
        ScaleDtype::F16 => {
            let h = f16::from_f32(s);
            let h = if h.to_f32() < s {
                f16::from_bits(h.to_bits() + 1)
            } else {
                h
            };
            h.to_f32().max(f16::from_bits(1).to_f32())
        }
        ScaleDtype::BF16 => {
            let h = bf16::from_f32(s);
            let h = if h.to_f32() < s {
                bf16::from_bits(h.to_bits() + 1)
            } else {
                h
            };
            h.to_f32().max(f32::MIN_POSITIVE)
        }
    };
    out.is_finite().then_some(out)
}

/// Rounds a positive scale to the nearest value of its storage precision (same floor).
pub(crate) fn store_scale_nearest(s: f32, dtype: ScaleDtype) -> Result<f32, KernelError> {
    let out = match dtype {
        ScaleDtype::F32 => s.max(f32::MIN_POSITIVE),
        ScaleDtype::F16 => f16::from_f32(s).to_f32().max(f16::from_bits(1).to_f32()),
        ScaleDtype::BF16 => bf16::from_f32(s).to_f32().max(f32::MIN_POSITIVE),
    };
    if out.is_finite() {
        Ok(out)
    } else {
        Err(scale_range_error(s, dtype))
    }
}

fn scale_range_error(s: f32, dtype: ScaleDtype) -> KernelError {
    KernelError::invalid(
        "scheme.scale_dtype",
        format!("scale {s:e} does not fit {dtype:?}; use f32 scales"),
    )
}

/// Min-max parameters for the range `[lo, hi]` (already widened to contain 0).
#[inline]
pub(crate) fn params_for_range(
    lo: f32,
    hi: f32,
    scheme: &QuantScheme,
) -> Result<GroupParams, KernelError> {
    if scheme.symmetric {
        let absmax = (-lo).max(hi);
        let s = store_scale_up(absmax / scheme.qmax() as f32, scheme.scale_dtype)?;
        Ok(GroupParams::new(s, 0))
    } else {
        let levels = ((1u32 << scheme.bits) - 1) as f32;
        let s = store_scale_up((hi - lo) / levels, scheme.scale_dtype)?;
        let z = round_half_even(scheme.qmin() as f32 - lo / s) as i32;
        Ok(GroupParams::new(s, z.clamp(scheme.qmin(), scheme.qmax())))
    }
}

/// RTN (min-max) parameters of a group.
#[inline(always)]
pub(crate) fn rtn_params(x: &[f32], scheme: &QuantScheme) -> Result<GroupParams, KernelError> {
    let st = range_stats(x, scheme.symmetric);
    if !st.finite {
        return Err(non_finite_error());
    }
    params_for_range(st.min.min(0.0), st.max.max(0.0), scheme)
}

/// Ties-to-even rounding of a value with `|v| < 2^22` (see [`MAGIC`]).
#[inline(always)]
pub(crate) fn round_half_even(v: f32) -> f32 {
    (v + MAGIC) - MAGIC
}

/// Encodes one value: `q = clamp(round(x·inv + z), qmin, qmax)`. Clamping first keeps the
/// magic-number rounding in range; the integer is read from the mantissa bits.
#[inline(always)]
pub(crate) fn encode_one(v: f32, inv: f32, z: f32, qmin: f32, qmax: f32) -> i8 {
    let a = v * inv + z;
    let a = if a < qmin { qmin } else { a };
    let a = if a > qmax { qmax } else { a };
    ((a + MAGIC).to_bits() as i32 - MAGIC_BITS) as i8
}

/// Encodes one group into (possibly uninitialized) output.
#[inline(always)]
pub(crate) fn encode_group(
    x: &[f32],
    p: GroupParams,
    qmin: f32,
    qmax: f32,
    out: &mut [MaybeUninit<i8>],
) {
    let (inv, z) = (p.inv, p.zero as f32);
    for (o, &v) in out.iter_mut().zip(x) {
        o.write(encode_one(v, inv, z, qmin, qmax));
    }
}

/// Decodes one group: `x̂ = (q − z)·s`.
#[inline(always)]
pub(crate) fn decode_group(q: &[i8], p: GroupParams, out: &mut [MaybeUninit<f32>]) {
    let (s, z) = (p.scale, p.zero as f32);
    for (o, &c) in out.iter_mut().zip(q) {
        o.write((f32::from(c) - z) * s);
    }
}

/// Encode then decode one group without storing codes (fake quantization).
#[inline(always)]
pub(crate) fn fake_group(
    x: &[f32],
    p: GroupParams,
    qmin: f32,
    qmax: f32,
    out: &mut [MaybeUninit<f32>],
) {
    let (inv, z, s) = (p.inv, p.zero as f32, p.scale);
    for (o, &v) in out.iter_mut().zip(x) {
        let a = v * inv + z;
        let a = if a < qmin { qmin } else { a };
        let a = if a > qmax { qmax } else { a };
        o.write((round_half_even(a) - z) * s);
    }
}

/// Sum of squared reconstruction errors of one group under `p`, accumulated in f64 so that
/// candidates compare exactly as the final MSE would.
pub(crate) fn group_sq_error(x: &[f32], p: GroupParams, qmin: f32, qmax: f32) -> f64 {
    const L: usize = 8;
    let (inv, z, s) = (p.inv, p.zero as f32, p.scale);
    let err = |v: f32| {
        let a = v * inv + z;
        let a = if a < qmin { qmin } else { a };
        let a = if a > qmax { qmax } else { a };
        let d = v - (round_half_even(a) - z) * s;
        f64::from(d * d)
    };
    let mut acc = [0.0f64; L];
    let chunks = x.chunks_exact(L);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..L {
            acc[i] += err(c[i]);
        }
    }
    let mut total: f64 = acc.iter().sum();
    for &v in tail {
        total += err(v);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::quant::Granularity;

    #[test]
    fn magic_rounding_is_ties_to_even() {
        for (v, want) in [
            (0.5f32, 0.0f32),
            (1.5, 2.0),
            (2.5, 2.0),
            (-0.5, 0.0),
            (-1.5, -2.0),
            (-7.49, -7.0),
            (127.0, 127.0),
        ] {
            assert_eq!(round_half_even(v), want, "{v}");
            assert_eq!(round_half_even(v), v.round_ties_even(), "{v}");
        }
        let codes: Vec<i8> = [-130.0f32, -0.5, 0.5, 1.5, 126.5, 300.0]
            .iter()
            .map(|&v| encode_one(v, 1.0, 0.0, -128.0, 127.0))
            .collect();
        assert_eq!(codes, [-128, 0, 0, 2, 126, 127]);
    }

    #[test]
    fn stats_see_nan_and_inf() {
        for sym in [true, false] {
            let mut x = vec![0.5f32; 37];
            assert!(range_stats(&x, sym).finite);
            for bad in [f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                x[35] = bad;
                assert!(!range_stats(&x, sym).finite, "{bad}");
                x[4] = bad;
                x[35] = 0.0;
                assert!(!range_stats(&x, sym).finite, "{bad}");
                x[4] = 0.5;
            }
            x[35] = -3.0;
            x[3] = 2.0;
            let s = range_stats(&x, sym);
            let want = if sym { (-3.0, 3.0) } else { (-3.0, 2.0) };
            assert_eq!((s.min, s.max), want);
        }
        // The parallel path (per-tensor) agrees.
        let mut big = vec![0.25f32; (1 << 19) + 3];
        big[300_001] = -7.0;
        assert_eq!(range_stats(&big, false).min, -7.0);
        assert_eq!(range_stats(&big, true).max, 7.0);
        big[400_000] = f32::NAN;
        assert!(!range_stats(&big, true).finite);
    }

    #[test]
    fn scales_round_up_to_storage() {
        // 0.1 is not a f16 value; the stored scale must be the next f16 at or above 0.1.
        let s = store_scale_up(0.1, ScaleDtype::F16).unwrap();
        assert!(s >= 0.1 && f16::from_f32(s).to_f32() == s);
        assert!(s - 0.1 < 0.1 / 1024.0);
        let s = store_scale_up(0.1, ScaleDtype::BF16).unwrap();
        assert!(s >= 0.1 && bf16::from_f32(s).to_f32() == s);
        assert_eq!(store_scale_up(0.1, ScaleDtype::F32).unwrap(), 0.1);
        // Zero ranges get the floor, and 1/s stays finite.
        let s = store_scale_up(0.0, ScaleDtype::F16).unwrap();
        assert!(s > 0.0 && (1.0 / s).is_finite());
        assert!(store_scale_up(1e6, ScaleDtype::F16).is_err());
        assert!(store_scale_up(65504.5, ScaleDtype::F16).is_err());
        assert_eq!(store_scale_up(65504.0, ScaleDtype::F16).unwrap(), 65504.0);
    }

    #[test]
    fn scale_rounding_matches_half_reference() {
        // Tolerance: exact equality, over every magnitude from f16 subnormals to f32 large.
        let mut rng_state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng_state ^= rng_state << 13;
            rng_state ^= rng_state >> 7;
            rng_state ^= rng_state << 17;
            rng_state
        };
        for _ in 0..200_000 {
            let bits = (next() as u32) & 0x7fff_ffff;
            let s = f32::from_bits(bits);
            if !s.is_finite() {
                continue;
            }
            for dt in [ScaleDtype::F32, ScaleDtype::F16, ScaleDtype::BF16] {
                let fast = store_scale_up(s, dt).ok();
                let slow = store_scale_up_reference(s, dt);
                assert_eq!(fast, slow, "{s:e} {dt:?}");
            }
        }
    }

    #[test]
    fn asymmetric_params_hand_worked() {
        // 4-bit asym, range [-1, 2]: s = 3/15 = 0.2, z = round(-8 - (-1/0.2)) = round(-3) = -3.
        let scheme = QuantScheme::new(4, false, Granularity::Channel);
        let p = params_for_range(-1.0, 2.0, &scheme).unwrap();
        assert!((p.scale - 0.2).abs() < 1e-7);
        assert_eq!(p.zero, -3);
    }
}

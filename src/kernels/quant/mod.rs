//! Weight quantization: integer codes plus per-tensor, per-channel or per-group scales
//! (and zero points), with four ways to choose the scales — `rtn`, `mse`, `hqq`, `gptq` —
//! dequantization, fake quantization for QAT, and an error report.
//!
//! # Mapping
//!
//! A weight matrix `w` is `[rows, cols]` = `[out_features, in_features]`. Scales are kept per
//! *group*: the whole tensor ([`Granularity::Tensor`]), one output row
//! ([`Granularity::Channel`]) or `g` consecutive input columns of one row
//! ([`Granularity::Group`]`(g)`; the last group of a row may be shorter when `g` does not
//! divide `cols`). With `b` bits the codes live in the **signed** range
//! `qmin = −2^(b−1) ..= qmax = 2^(b−1) − 1`, for both symmetric and asymmetric schemes:
//!
//! ```text
//! q  = clamp(round_half_even(x · (1/s) + z), qmin, qmax)      (z = 0 when symmetric)
//! x̂  = (q − z) · s
//! ```
//!
//! Asymmetric codes and zero points are therefore the usual unsigned ones shifted by
//! `−2^(b−1)` — the convention of compressed-tensors (`calculate_range`, `pack_to_int32`),
//! which lets [`crate::formats::compressed_tensors`] write them without conversion. Rounding is
//! ties-to-even (numpy's and torch's `round`), done with the `1.5·2^23` magic-number add so the
//! loops vectorize on a baseline x86-64 build; `x · (1/s)` (one multiply by the reciprocal)
//! replaces `x / s`, which can move a value by one ulp — the reference twin does the same so the
//! codes match exactly.
//!
//! RTN ("min-max") picks `s = max|x| / qmax` (symmetric, codes then stay in `−qmax..=qmax`)
//! or `s = (max' − min') / (2^b − 1)`, `z = round(qmin − min'/s)` with `min' = min(min, 0)`,
//! `max' = max(max, 0)` (asymmetric, so 0.0 is exact, as compressed-tensors does). Scales are
//! rounded **up** to their storage precision ([`ScaleDtype`]) before the codes are computed, so
//! nothing is clipped and `|x − x̂| ≤ s/2` holds for every element.
//!
//! The textbook 4-bit example `q = round(x · scale)` is the symmetric per-tensor case
//! with `scale = 1/s` here (our `s` multiplies the codes back).
//!
//! `mse` proposes code assignments from shrunk min-max ranges (clipping ratios 1.10…0.55),
//! fits each one's scale (and integer zero) by least squares in O(1) from running sums, keeps
//! the best and polishes it with Lloyd steps; `hqq` runs the half-quadratic solver of HQQ
//! (Badri & Shaji 2023) per group; `gptq` ([`quantize_gptq`]) quantizes column by column and
//! spreads each column's error over the not-yet-quantized columns through the inverse Hessian
//! of the layer inputs. `mse` and `hqq` keep a group's RTN parameters unless they find
//! parameters with a strictly smaller squared error, so they are never worse than `rtn` in MSE.
//!
//! Scales are always positive. (GGUF Q4_0 lets the scale's sign follow the largest-magnitude
//! weight so that weight always gets the extra code −8; compressed-tensors never writes
//! negative scales, so whittle does not either.)
//!
//! Speed: `quantize` processes rows in parallel on the current rayon pool, prefetching one
//! row ahead, with AVX-512 / AVX2 code chosen at run time (the build stays baseline x86-64).
use ndarray::{Array2, ArrayView2};

use crate::kernels::KernelError;

mod data_free;
mod gptq;
mod params;
mod qat;
mod report;
mod search;

pub use data_free::{dequantize, fake_quantize};
pub use gptq::{layer_hessian, quantize_gptq, GptqOptions};
pub use qat::FakeQuantLayers;
pub use report::{error_report, quantized_error_report, ErrorReport};

/// Which weights share one scale (and zero point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One scale for the whole tensor.
    Tensor,
    /// One scale per output row.
    Channel,
    /// One scale per `group_size` consecutive input columns of each row.
    Group(usize),
}

/// Precision in which scales are stored; scales are rounded to it before codes are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleDtype {
    /// 32-bit IEEE float.
    F32,
    /// 16-bit IEEE half.
    F16,
    /// bfloat16.
    BF16,
}

impl ScaleDtype {
    /// Storage bits of one scale.
    pub fn bits(self) -> u32 {
        match self {
            ScaleDtype::F32 => 32,
            ScaleDtype::F16 | ScaleDtype::BF16 => 16,
        }
    }
}

/// How a tensor is quantized: bit width, symmetry, granularity and scale storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantScheme {
    /// Bits per code, 2..=8.
    pub bits: u8,
    /// Symmetric (no zero point) or asymmetric (integer zero point per group).
    pub symmetric: bool,
    /// Which weights share a scale.
    pub granularity: Granularity,
    /// Storage precision of the scales.
    pub scale_dtype: ScaleDtype,
}

impl QuantScheme {
    /// A scheme with `f32` scales.
    pub fn new(bits: u8, symmetric: bool, granularity: Granularity) -> Self {
        QuantScheme {
            bits,
            symmetric,
            granularity,
            scale_dtype: ScaleDtype::F32,
        }
    }

    /// The same scheme with another scale storage precision.
    pub fn with_scale_dtype(self, scale_dtype: ScaleDtype) -> Self {
        QuantScheme {
            scale_dtype,
            ..self
        }
    }

    /// Checks the parameters; errors name the field (`scheme.bits`, `scheme.group_size`).
    pub fn validate(&self) -> Result<(), KernelError> {
        if !(2..=8).contains(&self.bits) {
            return Err(KernelError::invalid(
                "scheme.bits",
                format!("must be between 2 and 8, got {}", self.bits),
            ));
        }
        if let Granularity::Group(0) = self.granularity {
            return Err(KernelError::invalid(
                "scheme.group_size",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// Smallest code, `−2^(bits−1)`.
    pub fn qmin(&self) -> i32 {
        -(1i32 << (self.bits - 1))
    }

    /// Largest code, `2^(bits−1) − 1`.
    pub fn qmax(&self) -> i32 {
        (1i32 << (self.bits - 1)) - 1
    }

    /// Shape `[rows, groups]` of the scale (and zero point) matrix for a `[rows, cols]` weight.
    pub fn scale_shape(&self, rows: usize, cols: usize) -> (usize, usize) {
        match self.granularity {
            Granularity::Tensor => (1, 1),
            Granularity::Channel => (rows, 1),
            Granularity::Group(g) => (rows, cols.div_ceil(g.max(1))),
        }
    }

    /// Number of consecutive columns sharing one scale within a row.
    pub(crate) fn group_len(&self, cols: usize) -> usize {
        match self.granularity {
            Granularity::Tensor | Granularity::Channel => cols.max(1),
            Granularity::Group(g) => g.clamp(1, cols.max(1)),
        }
    }

    /// Storage bits per weight: codes plus scales plus zero points (zero points at `bits`
    /// each, as packed by compressed-tensors).
    pub fn bits_per_weight(&self, rows: usize, cols: usize) -> f64 {
        let n = (rows * cols) as f64;
        if n == 0.0 {
            return f64::from(self.bits);
        }
        let (sr, sc) = self.scale_shape(rows, cols);
        let groups = (sr * sc) as f64;
        let per_group = f64::from(self.scale_dtype.bits())
            + if self.symmetric {
                0.0
            } else {
                f64::from(self.bits)
            };
        f64::from(self.bits) + groups * per_group / n
    }
}

/// How `quantize` chooses scales and zero points (`gptq` is [`quantize_gptq`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantMethod {
    /// Round-to-nearest with min-max ranges.
    Rtn,
    /// Grid search of clipping ratios minimising the squared error of each group.
    Mse,
    /// Half-quadratic optimisation of scale and zero (HQQ), data-free.
    Hqq,
}

/// A quantized matrix: codes, scales and optional zero points.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedTensor {
    /// Rows (output features) of the original matrix.
    pub rows: usize,
    /// Columns (input features) of the original matrix.
    pub cols: usize,
    /// The scheme the codes follow.
    pub scheme: QuantScheme,
    /// Signed codes in `qmin..=qmax`, row-major `[rows, cols]`.
    pub q: Vec<i8>,
    /// Scales, `[rows, groups]`: `[1, 1]` per tensor, `[rows, 1]` per channel.
    pub scales: Array2<f32>,
    /// Zero points in `qmin..=qmax`, same shape as `scales`; `None` when symmetric.
    pub zero_points: Option<Array2<i8>>,
}

impl QuantizedTensor {
    /// Storage bits per weight with scales and zero points counted.
    pub fn bits_per_weight(&self) -> f64 {
        self.scheme.bits_per_weight(self.rows, self.cols)
    }

    /// Checks that codes, scales and zero points agree with the scheme and the shape, so a
    /// tensor read from a file cannot make [`dequantize`] index out of bounds.
    pub fn check(&self) -> Result<(), KernelError> {
        self.scheme.validate()?;
        let n = self
            .rows
            .checked_mul(self.cols)
            .ok_or_else(|| KernelError::Shape(format!("{}x{} overflows", self.rows, self.cols)))?;
        if self.q.len() != n {
            return Err(KernelError::Shape(format!(
                "{} codes for a {}x{} matrix",
                self.q.len(),
                self.rows,
                self.cols
            )));
        }
        let want = self.scheme.scale_shape(self.rows, self.cols);
        if self.scales.dim() != want {
            return Err(KernelError::Shape(format!(
                "scales are {:?}, expected {:?}",
                self.scales.dim(),
                want
            )));
        }
        match (&self.zero_points, self.scheme.symmetric) {
            (Some(z), false) if z.dim() == want => {}
            (None, true) => {}
            (Some(z), false) => {
                return Err(KernelError::Shape(format!(
                    "zero points are {:?}, expected {:?}",
                    z.dim(),
                    want
                )))
            }
            (Some(_), true) => {
                return Err(KernelError::invalid(
                    "zero_points",
                    "a symmetric scheme has no zero points",
                ))
            }
            (None, false) => {
                return Err(KernelError::invalid(
                    "zero_points",
                    "an asymmetric scheme needs zero points",
                ))
            }
        }
        let (lo, hi) = (self.scheme.qmin(), self.scheme.qmax());
        let in_range = |v: &i8| (lo..=hi).contains(&i32::from(*v));
        // One min/max sweep (vectorizes) instead of a per-code range test.
        let (min, max) = self
            .q
            .iter()
            .fold((i8::MAX, i8::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        if !self.q.is_empty() && (i32::from(min) < lo || i32::from(max) > hi) {
            return Err(KernelError::invalid(
                "q",
                format!("codes must lie in {lo}..={hi}"),
            ));
        }
        if let Some(z) = &self.zero_points {
            if !z.iter().all(in_range) {
                return Err(KernelError::invalid(
                    "zero_points",
                    format!("zero points must lie in {lo}..={hi}"),
                ));
            }
        }
        if !self.scales.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(KernelError::invalid(
                "scales",
                "scales must be finite and positive",
            ));
        }
        Ok(())
    }
}

/// Quantizes `w` (`[rows, cols]`) with `scheme`, choosing scales by `method`.
///
/// Rows are processed in parallel on the current rayon pool. Errors: invalid scheme
/// (`scheme.bits`, `scheme.group_size`), an empty matrix, non-finite weights, or a scale that
/// does not fit its storage dtype.
pub fn quantize(
    w: ArrayView2<f32>,
    scheme: &QuantScheme,
    method: QuantMethod,
) -> Result<QuantizedTensor, KernelError> {
    scheme.validate()?;
    match method {
        QuantMethod::Rtn => data_free::quantize_with(w, scheme, &data_free::RtnRule),
        QuantMethod::Mse => data_free::quantize_with(w, scheme, &data_free::MseRule),
        QuantMethod::Hqq => data_free::quantize_with(w, scheme, &data_free::HqqRule),
    }
}

/// [`quantize`] that measures the reconstruction error in the same pass over the weights:
/// returns the codes with the [`ErrorReport`] of their decode against `w` (equal to
/// [`quantized_error_report`] within 1e-5 relative: differences are taken in f32 and summed
/// in f32 blocks of 64 before f64). `codes` is an allocation to
/// reuse for the codes (pass `Vec::new()` for a fresh one).
pub fn quantize_measured(
    w: ArrayView2<f32>,
    scheme: &QuantScheme,
    method: QuantMethod,
    codes: Vec<i8>,
) -> Result<(QuantizedTensor, ErrorReport), KernelError> {
    scheme.validate()?;
    let (q, e) = match method {
        QuantMethod::Rtn => {
            data_free::quantize_measured_with(w, scheme, &data_free::RtnRule, codes)
        }
        QuantMethod::Mse => {
            data_free::quantize_measured_with(w, scheme, &data_free::MseRule, codes)
        }
        QuantMethod::Hqq => {
            data_free::quantize_measured_with(w, scheme, &data_free::HqqRule, codes)
        }
    }?;
    let n = (q.rows * q.cols) as f64;
    let report = ErrorReport {
        mse: e.noise / n,
        sqnr_db: if e.noise == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (e.signal / e.noise).log10()
        },
        max_abs_error: e.max,
        bits_per_weight: Some(q.bits_per_weight()),
        signal: e.signal,
    };
    Ok((q, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn measured_quantization_equals_quantize_then_report() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let normal = Normal::new(0.0f32, 0.02).unwrap();
        let w = ndarray::Array2::from_shape_fn((37, 300), |_| normal.sample(&mut rng));
        let schemes = [
            QuantScheme::new(8, true, Granularity::Channel),
            QuantScheme::new(4, false, Granularity::Group(128)),
            QuantScheme::new(3, true, Granularity::Tensor),
            QuantScheme::new(4, true, Granularity::Group(7)).with_scale_dtype(ScaleDtype::F16),
        ];
        for scheme in schemes {
            for method in [QuantMethod::Rtn, QuantMethod::Mse, QuantMethod::Hqq] {
                let reference = quantize(w.view(), &scheme, method).unwrap();
                let want = quantized_error_report(w.view(), &reference).unwrap();
                let (q, got) = quantize_measured(w.view(), &scheme, method, vec![5; 3]).unwrap();
                assert_eq!(q, reference, "{scheme:?} {method:?}");
                // f32 differences and block sums against the reference's f64 ones.
                let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * 1e-5;
                assert!(close(got.max_abs_error, want.max_abs_error), "{scheme:?}");
                assert_eq!(got.bits_per_weight, want.bits_per_weight);
                assert!(
                    close(got.mse, want.mse),
                    "{scheme:?} {} {}",
                    got.mse,
                    want.mse
                );
                assert!((got.sqnr_db - want.sqnr_db).abs() < 1e-4, "{scheme:?}");
                assert!(close(got.signal, want.signal));
            }
        }
    }

    #[test]
    fn invalid_bits_and_group_size_name_the_field() {
        let w = array![[1.0f32, 2.0], [3.0, 4.0]];
        for bits in [0u8, 1, 9, 16] {
            let s = QuantScheme::new(bits, true, Granularity::Channel);
            match quantize(w.view(), &s, QuantMethod::Rtn) {
                Err(KernelError::InvalidParameter { field, .. }) => {
                    assert_eq!(field, "scheme.bits")
                }
                other => panic!("bits {bits}: expected InvalidParameter, got {other:?}"),
            }
        }
        let s = QuantScheme::new(4, true, Granularity::Group(0));
        for method in [QuantMethod::Rtn, QuantMethod::Mse, QuantMethod::Hqq] {
            match quantize(w.view(), &s, method) {
                Err(KernelError::InvalidParameter { field, .. }) => {
                    assert_eq!(field, "scheme.group_size")
                }
                other => panic!("expected InvalidParameter, got {other:?}"),
            }
        }
        assert!(fake_quantize(w.view(), &s).is_err());
    }

    #[test]
    fn ranges_and_shapes() {
        let s = QuantScheme::new(4, false, Granularity::Group(32));
        assert_eq!((s.qmin(), s.qmax()), (-8, 7));
        assert_eq!(s.scale_shape(3, 100), (3, 4));
        assert_eq!(
            QuantScheme::new(8, true, Granularity::Channel).scale_shape(3, 100),
            (3, 1)
        );
        assert_eq!(
            QuantScheme::new(8, true, Granularity::Tensor).scale_shape(3, 100),
            (1, 1)
        );
    }

    #[test]
    fn bits_per_weight_counts_scales_and_zero_points() {
        // g128 asym, f16 scale + 4-bit zero: 4 + (16 + 4) / 128 = 4.15625.
        let s =
            QuantScheme::new(4, false, Granularity::Group(128)).with_scale_dtype(ScaleDtype::F16);
        assert!((s.bits_per_weight(4096, 4096) - 4.15625).abs() < 1e-12);
        // g32 sym, f16 scale: 4 + 16 / 32 = 4.5 (GGUF Q4_0's budget).
        let s = QuantScheme::new(4, true, Granularity::Group(32)).with_scale_dtype(ScaleDtype::F16);
        assert!((s.bits_per_weight(4096, 4096) - 4.5).abs() < 1e-12);
        // int8 per channel, f32 scale: 8 + 32 / 4096.
        let s = QuantScheme::new(8, true, Granularity::Channel);
        assert!((s.bits_per_weight(4096, 4096) - (8.0 + 32.0 / 4096.0)).abs() < 1e-12);
    }

    #[test]
    fn check_rejects_inconsistent_tensors() {
        let w = array![[0.5f32, -1.0, 0.25], [2.0, 0.0, -0.5]];
        let s = QuantScheme::new(4, false, Granularity::Group(2));
        let q = quantize(w.view(), &s, QuantMethod::Rtn).unwrap();
        assert!(q.check().is_ok());
        let mut bad = q.clone();
        bad.q.pop();
        assert!(matches!(bad.check(), Err(KernelError::Shape(_))));
        let mut bad = q.clone();
        bad.q[0] = 8;
        assert!(bad.check().is_err());
        let mut bad = q.clone();
        bad.zero_points = None;
        assert!(bad.check().is_err());
        let mut bad = q;
        bad.scales[[0, 0]] = 0.0;
        assert!(bad.check().is_err());
    }
}

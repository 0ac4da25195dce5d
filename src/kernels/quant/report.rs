//! Reconstruction error of a quantized tensor: MSE, SQNR, max abs error, bits per weight.
use ndarray::{ArrayView2, Zip};

use super::{dequantize, QuantizedTensor};
use crate::kernels::KernelError;

/// Error of a reconstruction `ŵ` against the original `w`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorReport {
    /// Mean of `(w − ŵ)²`.
    pub mse: f64,
    /// `10·log10(Σw² / Σ(w − ŵ)²)`; `+inf` when the reconstruction is exact.
    pub sqnr_db: f64,
    /// Largest `|w − ŵ|`.
    pub max_abs_error: f64,
    /// Storage bits per weight with scales and zero points counted, when known.
    pub bits_per_weight: Option<f64>,
    /// `Σw²` of the original (the SQNR's numerator, for totals over several tensors).
    pub signal: f64,
}

/// Compares `w` with its reconstruction `w_hat` (same shape); sums in f64.
pub fn error_report(
    w: ArrayView2<f32>,
    w_hat: ArrayView2<f32>,
) -> Result<ErrorReport, KernelError> {
    if w.dim() != w_hat.dim() {
        return Err(KernelError::Shape(format!(
            "original is {:?}, reconstruction is {:?}",
            w.dim(),
            w_hat.dim()
        )));
    }
    let n = w.len();
    if n == 0 {
        return Err(KernelError::Shape(
            "cannot report on an empty matrix".into(),
        ));
    }
    // Per-row partial sums in parallel, then a serial f64 total.
    let (signal, noise, max_err) = Zip::from(w.rows())
        .and(w_hat.rows())
        .par_map_collect(|a, b| {
            let (mut s, mut e, mut m) = (0.0f64, 0.0f64, 0.0f64);
            for (&x, &y) in a.iter().zip(b.iter()) {
                let d = f64::from(x) - f64::from(y);
                s += f64::from(x) * f64::from(x);
                e += d * d;
                m = m.max(d.abs());
            }
            (s, e, m)
        })
        .iter()
        .fold((0.0, 0.0, 0.0f64), |acc, r| {
            (acc.0 + r.0, acc.1 + r.1, acc.2.max(r.2))
        });
    let sqnr_db = if noise == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (signal / noise).log10()
    };
    Ok(ErrorReport {
        mse: noise / n as f64,
        sqnr_db,
        max_abs_error: max_err,
        bits_per_weight: None,
        signal,
    })
}

/// [`error_report`] of `dequantize(q)` against `w`, with bits per weight filled in.
pub fn quantized_error_report(
    w: ArrayView2<f32>,
    q: &QuantizedTensor,
) -> Result<ErrorReport, KernelError> {
    let w_hat = dequantize(q)?;
    let mut r = error_report(w, w_hat.view())?;
    r.bits_per_weight = Some(q.bits_per_weight());
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_worked_report() {
        // Σw² = 1 + 4 + 9 + 16 = 30; errors 0.1, 0, −0.2, 0 → Σd² = 0.05, MSE = 0.0125,
        // SQNR = 10·log10(30 / 0.05) = 10·log10(600) ≈ 27.7815 dB.
        let w = array![[1.0f32, 2.0], [3.0, 4.0]];
        let h = array![[0.9f32, 2.0], [3.2, 4.0]];
        let r = error_report(w.view(), h.view()).unwrap();
        assert!((r.mse - 0.0125).abs() < 1e-7);
        assert!((r.sqnr_db - 27.7815).abs() < 1e-3);
        assert!((r.max_abs_error - 0.2).abs() < 1e-6);
        assert_eq!(r.bits_per_weight, None);
        let exact = error_report(w.view(), w.view()).unwrap();
        assert_eq!(exact.sqnr_db, f64::INFINITY);
        assert!(error_report(w.view(), h.t()).is_ok());
        assert!(error_report(w.view(), array![[1.0f32]].view()).is_err());
    }
}

//! Parameter searches that improve on min-max: `mse` (clipping-ratio search with
//! least-squares fits) and `hqq` (half-quadratic optimisation). Both work on one group at a
//! time and keep the RTN parameters unless a candidate has a strictly smaller squared error,
//! so neither is ever worse than `rtn` in MSE.
use super::params::{
    group_sq_error, non_finite_error, params_for_range, range_stats, round_half_even,
    store_scale_nearest, GroupParams,
};
use super::QuantScheme;
use crate::kernels::KernelError;

/// Clipping ratios tried by `mse`: a coarse grid 1.10, 1.05, …, 0.55, then ±0.01…0.04 around
/// the best coarse ratio. Ratios above 1 are useful too: each ratio only proposes a code
/// assignment, whose scale (and zero) are then fitted by least squares.
const GRID_HI: f32 = 1.10;
const COARSE_STEP: f32 = 0.05;
const COARSE_STEPS: usize = 12;
const FINE_STEP: f32 = 0.01;
const FINE_STEPS: i32 = 4;
/// Lloyd steps after the grid (re-round with the fitted scale, refit).
const REFINE_STEPS: usize = 4;

/// HQQ settings (the paper's defaults): `lp_norm` p < 1 of the sparse error, penalty `beta`
/// growing by `kappa` each iteration, at most `iters` iterations.
const HQQ_LP_NORM: f32 = 0.7;
const HQQ_BETA: f32 = 10.0;
const HQQ_KAPPA: f32 = 1.01;
const HQQ_ITERS: usize = 20;

/// A least-squares fit of scale and integer zero to fixed codes.
#[derive(Debug, Clone, Copy)]
struct Fit {
    /// Squared error of the fit (before the scale is rounded to storage).
    err: f64,
    scale: f64,
    zero: i32,
}

/// Sums over a group's codes needed to fit a scale and zero in O(1).
#[derive(Clone, Copy)]
struct CodeSums {
    sq: f64,
    sqq: f64,
    sqx: f64,
}

/// One group being searched: its weights, scheme, code range and `Σx`, `Σx²`.
struct Group<'a> {
    x: &'a [f32],
    scheme: &'a QuantScheme,
    qmin: f32,
    qmax: f32,
    n: f64,
    sx: f64,
    sxx: f64,
}

impl<'a> Group<'a> {
    /// Checks the weights and precomputes moments; also returns the widened min-max range.
    #[inline(always)]
    fn new(x: &'a [f32], scheme: &'a QuantScheme) -> Result<(Self, f32, f32), KernelError> {
        let st = range_stats(x, scheme.symmetric);
        if !st.finite {
            return Err(non_finite_error());
        }
        let (sx, sxx) = x.iter().fold((0.0f64, 0.0f64), |(a, b), &v| {
            let v = f64::from(v);
            (a + v, b + v * v)
        });
        let g = Group {
            x,
            scheme,
            qmin: scheme.qmin() as f32,
            qmax: scheme.qmax() as f32,
            n: x.len() as f64,
            sx,
            sxx,
        };
        Ok((g, st.min.min(0.0), st.max.max(0.0)))
    }

    /// Exact squared error under stored parameters.
    #[inline(always)]
    fn sq_error(&self, p: GroupParams) -> f64 {
        group_sq_error(self.x, p, self.qmin, self.qmax)
    }

    /// Sums `Σq`, `Σq²`, `Σq·x` of the codes under (`1/s`, `z`), in 16 f32 lanes so the loop
    /// vectorizes. Code sums are exact below 2^24 per lane; for huge groups (per tensor) they
    /// round slightly, which only blurs the fit — the exact error of the result decides.
    #[inline(always)]
    fn code_sums(&self, inv: f32, z: f32) -> CodeSums {
        const L: usize = 16;
        let (qmin, qmax) = (self.qmin, self.qmax);
        let (mut aq, mut aqq, mut aqx) = ([0.0f32; L], [0.0f32; L], [0.0f32; L]);
        let chunks = self.x.chunks_exact(L);
        let tail = chunks.remainder();
        for c in chunks {
            for i in 0..L {
                let q = round_half_even((c[i] * inv + z).clamp(qmin, qmax));
                aq[i] += q;
                aqq[i] += q * q;
                aqx[i] += q * c[i];
            }
        }
        let mut s = CodeSums {
            sq: 0.0,
            sqq: 0.0,
            sqx: 0.0,
        };
        for i in 0..L {
            s.sq += f64::from(aq[i]);
            s.sqq += f64::from(aqq[i]);
            s.sqx += f64::from(aqx[i]);
        }
        for &v in tail {
            let q = round_half_even((v * inv + z).clamp(qmin, qmax));
            s.sq += f64::from(q);
            s.sqq += f64::from(q * q);
            s.sqx += f64::from(q * v);
        }
        s
    }

    /// Least-squares scale and best integer zero for the codes under (`1/s`, `z`): with
    /// `d = q − z`, `s = Σd·x / Σd²` and the error is `Σx² − (Σd·x)²/Σd²`. The zero is the
    /// better of the two integers around the continuous optimum `z* = −c/s` of the regression
    /// `x ≈ s·q + c`, clamped to the code range.
    #[inline(always)]
    fn fit(&self, inv: f32, z: f32) -> Option<Fit> {
        let c = self.code_sums(inv, z);
        // (Σd·x, Σd²) for a zero point z.
        let moments = |z: f64| (c.sqx - z * self.sx, c.sqq - 2.0 * z * c.sq + self.n * z * z);
        let finish = |zero: i32, (sdx, sdd): (f64, f64)| -> Option<Fit> {
            let scale = sdx / sdd;
            (sdd > 0.0 && scale.is_finite() && scale > 0.0).then_some(Fit {
                err: self.sxx - sdx * scale,
                scale,
                zero,
            })
        };
        if self.scheme.symmetric {
            return finish(0, moments(0.0));
        }
        let (lo, hi) = (self.scheme.qmin(), self.scheme.qmax());
        let var_q = c.sqq - c.sq * c.sq / self.n;
        let cov = c.sqx - c.sq * self.sx / self.n;
        // z* = −c/s with s = cov/var_q and c = mean(x) − s·mean(q).
        let z_star = (c.sq - self.sx * var_q / cov) / self.n;
        if !(var_q > 0.0 && z_star.is_finite()) {
            return finish(0, moments(0.0));
        }
        let z_star = z_star.clamp(f64::from(lo), f64::from(hi));
        let z_lo = z_star.floor() as i32;
        let z_hi = (z_lo + 1).min(hi);
        // Compare without dividing: the larger (Σd·x)²/Σd² has the smaller error.
        let (a, b) = (moments(f64::from(z_lo)), moments(f64::from(z_hi)));
        if b.1 <= 0.0 || (a.1 > 0.0 && a.0 * a.0 * b.1 >= b.0 * b.0 * a.1) {
            finish(z_lo, a)
        } else {
            finish(z_hi, b)
        }
    }

    /// Stored parameters of a fit (scale rounded to its dtype), if usable.
    fn stored(&self, fit: Option<Fit>) -> Result<Option<GroupParams>, KernelError> {
        match fit {
            Some(f) if (f.scale as f32).is_finite() && f.scale as f32 > 0.0 => {
                let s = store_scale_nearest(f.scale as f32, self.scheme.scale_dtype)?;
                Ok(Some(GroupParams::new(s, f.zero)))
            }
            _ => Ok(None),
        }
    }
}

/// `mse`: each clipping ratio `r` of the grid proposes the codes of the range
/// `[r·min, r·max]`; their least-squares scale (and best integer zero) are fitted in O(1) from
/// running sums, and the proposal with the smallest fitted error wins. Lloyd steps (re-round
/// the codes with the fitted scale, refit) follow while they lower the exact error. The
/// result is kept only if its exact squared error beats RTN's.
#[inline(always)]
pub(crate) fn mse_params(x: &[f32], scheme: &QuantScheme) -> Result<GroupParams, KernelError> {
    let (g, lo, hi) = Group::new(x, scheme)?;
    let rtn = params_for_range(lo, hi, scheme)?;
    let rtn_e = g.sq_error(rtn);
    if rtn_e == 0.0 {
        return Ok(rtn);
    }
    // Coarse ratios, then ±FINE_STEPS around the best coarse one.
    let mut best: Option<(Fit, f32)> = None;
    let coarse = (0..COARSE_STEPS).map(|k| GRID_HI - COARSE_STEP * k as f32);
    for r in coarse {
        best = better_proposal(&g, best, r, lo, hi)?;
    }
    let center = best.map_or(1.0, |b| b.1);
    for k in (-FINE_STEPS..=FINE_STEPS).filter(|&k| k != 0) {
        best = better_proposal(&g, best, center + FINE_STEP * k as f32, lo, hi)?;
    }
    let (mut best_p, mut best_e) = (rtn, rtn_e);
    let mut cand = g.stored(best.map(|b| b.0))?;
    for _ in 0..=REFINE_STEPS {
        let Some(p) = cand else { break };
        let e = g.sq_error(p);
        if e >= best_e {
            break;
        }
        (best_p, best_e) = (p, e);
        cand = g.stored(g.fit(p.inv, p.zero as f32))?;
    }
    Ok(best_p)
}

/// The fit of the codes of `[r·lo, r·hi]`, if it beats `best` (kept with its ratio).
#[inline(always)]
fn better_proposal(
    g: &Group<'_>,
    best: Option<(Fit, f32)>,
    r: f32,
    lo: f32,
    hi: f32,
) -> Result<Option<(Fit, f32)>, KernelError> {
    let p = params_for_range(lo * r, hi * r, g.scheme)?;
    Ok(match g.fit(p.inv, p.zero as f32) {
        Some(f) if best.is_none_or(|b| f.err < b.0.err) => Some((f, r)),
        _ => best,
    })
}

/// Proximal operator of `|e|^p / beta` (generalised soft threshold, p < 1). `dead` is
/// `beta^(−1/(2−p))`: below it the result is 0 (`|e| ≤ |e|^(p−1)/beta`), which skips the
/// `powf` for the small errors that dominate real weights.
#[inline(always)]
fn shrink_lp(e: f32, beta: f32, dead: f32) -> f32 {
    let a = e.abs();
    if a <= dead {
        return 0.0;
    }
    let t = a - a.powf(HQQ_LP_NORM - 1.0) / beta;
    if t > 0.0 {
        t.copysign(e)
    } else {
        0.0
    }
}

/// Half-quadratic optimisation of one group (HQQ, Badri & Shaji 2023), started from RTN, in
/// weight units as the reference implementation. Each iteration:
/// (1) codes `q = clamp(round(x/s + z))`, reconstruction `x̂ = s(q − z)`;
/// (2) shrinkage step on the error: `E = shrink_lp(x − x̂)` (sparse outlier error, p < 1);
/// (3) closed-form updates of the quadratic sub-problem on the target `t = x − E`: zero
///     `z = mean(q − t/s)` (the paper's update), then scale `s = Σ(q−z)·t / Σ(q−z)²` (least
///     squares for the fixed codes — our zero points are integers, so the scale must absorb
///     what rounding `z` loses).
///
/// It stops when the mean absolute error stops decreasing, as the reference does. Each float
/// iterate is projected onto storable parameters twice — rounded (scale dtype, integer
/// zero), and refitted to its codes by least squares — and the best by exact squared error,
/// RTN included, is returned.
pub(crate) fn hqq_params(x: &[f32], scheme: &QuantScheme) -> Result<GroupParams, KernelError> {
    let (g, lo, hi) = Group::new(x, scheme)?;
    let (qmin, qmax) = (g.qmin, g.qmax);
    let rtn = params_for_range(lo, hi, scheme)?;
    let (mut best_p, mut best_e) = (rtn, g.sq_error(rtn));
    if best_e == 0.0 {
        return Ok(best_p);
    }
    let (mut s, mut z) = (rtn.scale, rtn.zero as f32);
    let mut beta = HQQ_BETA;
    let mut best_l1 = f64::INFINITY;
    for _ in 0..HQQ_ITERS {
        let inv = 1.0 / s;
        let dead = beta.powf(-1.0 / (2.0 - HQQ_LP_NORM));
        // One pass: Σ|x − x̂| for the stopping rule; Σq, Σq², Σt, Σq·t for the updates.
        let (mut l1, mut sq, mut sqq, mut st, mut sqt) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for &v in x {
            let q = round_half_even((v * inv + z).clamp(qmin, qmax));
            let r = v - s * (q - z);
            l1 += f64::from(r.abs());
            let t = f64::from(v - shrink_lp(r, beta, dead));
            let q = f64::from(q);
            sq += q;
            sqq += q * q;
            st += t;
            sqt += q * t;
        }
        if l1 >= best_l1 {
            break;
        }
        best_l1 = l1;
        beta *= HQQ_KAPPA;
        // z = mean(q − t/s); then with d = q − z: Σd·t = Σq·t − zΣt, Σd² = Σq² − 2zΣq + nz².
        let new_z = if scheme.symmetric {
            0.0
        } else {
            (sq - st / f64::from(s)) / g.n
        };
        let sdt = sqt - new_z * st;
        let sdd = sqq - 2.0 * new_z * sq + g.n * new_z * new_z;
        let new_s = sdt / sdd;
        if !(sdd > 0.0 && new_s.is_finite() && new_s > 0.0 && new_z.is_finite()) {
            break;
        }
        (s, z) = (new_s as f32, new_z as f32);
        let rounded = GroupParams::new(
            store_scale_nearest(s, scheme.scale_dtype)?,
            (round_half_even(z.clamp(qmin, qmax)) as i32).clamp(scheme.qmin(), scheme.qmax()),
        );
        let fitted = g.stored(g.fit(1.0 / s, z))?;
        for cand in std::iter::once(rounded).chain(fitted) {
            let e = g.sq_error(cand);
            if e < best_e {
                (best_p, best_e) = (cand, e);
            }
        }
    }
    Ok(best_p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::quant::{
        dequantize, error_report, quantize, Granularity, QuantMethod, ScaleDtype,
    };
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal, StudentT};

    fn mse_of(w: &Array2<f32>, s: &QuantScheme, m: QuantMethod) -> f64 {
        let q = quantize(w.view(), s, m).unwrap();
        error_report(w.view(), dequantize(&q).unwrap().view())
            .unwrap()
            .mse
    }

    #[test]
    fn shrink_hand_worked() {
        // |e| = 1, beta = 10: 1 − 1^(−0.3)/10 = 0.9; |e| = 0.1: 0.1 − 0.1^(−0.3)/10 < 0 → 0.
        // The dead zone is 10^(−1/1.3) ≈ 0.170: 0.17^1.3 ≈ 0.1 = 1/beta.
        let dead = 10f32.powf(-1.0 / 1.3);
        assert!((dead - 0.1700).abs() < 1e-3);
        assert!((shrink_lp(-1.0, 10.0, dead) + 0.9).abs() < 1e-6);
        assert_eq!(shrink_lp(0.1, 10.0, dead), 0.0);
        assert_eq!(shrink_lp(0.0, 10.0, dead), 0.0);
        // Just above the dead zone: 0.2 − 0.2^(−0.3)/10 = 0.2 − 0.1621 = 0.0379, sign kept.
        let e = shrink_lp(-0.2, 10.0, dead);
        assert!((e + 0.0379).abs() < 1e-3, "{e}");
    }

    #[test]
    fn mse_and_hqq_never_worse_than_rtn() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let normal = Normal::new(0.0f32, 0.02).unwrap();
        let heavy = StudentT::new(3.0f32).unwrap();
        let a = Array2::from_shape_simple_fn((48, 200), || normal.sample(&mut rng));
        let b = Array2::from_shape_simple_fn((48, 200), || 0.01 * heavy.sample(&mut rng));
        for w in [&a, &b] {
            for bits in [2u8, 3, 4, 8] {
                for sym in [true, false] {
                    for gran in [
                        Granularity::Tensor,
                        Granularity::Channel,
                        Granularity::Group(32),
                        Granularity::Group(48),
                    ] {
                        let s = QuantScheme::new(bits, sym, gran).with_scale_dtype(ScaleDtype::F16);
                        let rtn = mse_of(w, &s, QuantMethod::Rtn);
                        for m in [QuantMethod::Mse, QuantMethod::Hqq] {
                            let got = mse_of(w, &s, m);
                            assert!(got <= rtn * (1.0 + 1e-9), "{m:?} {s:?}: {got} > rtn {rtn}");
                        }
                    }
                }
            }
        }
        // And on 4-bit Gaussian groups the searches must actually help.
        let s = QuantScheme::new(4, true, Granularity::Group(32));
        assert!(mse_of(&a, &s, QuantMethod::Mse) < 0.95 * mse_of(&a, &s, QuantMethod::Rtn));
        let s = QuantScheme::new(4, false, Granularity::Group(128));
        assert!(mse_of(&a, &s, QuantMethod::Hqq) < 0.97 * mse_of(&a, &s, QuantMethod::Rtn));
    }
}

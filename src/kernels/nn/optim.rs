//! Optimizers (SGD with momentum/Nesterov, Adam, AdamW, RMSprop) and learning-rate
//! schedules.
//!
//! Updates follow PyTorch's formulas so hyper-parameters carry over. Each update is one fused
//! element-wise pass over a parameter tensor (L2 decay, moments and the step together); the
//! pass is compiled twice, plain and with AVX-512, and picked at run time. Adam's AVX-512 pass
//! replaces the square root and division (whose throughput bounded the update) by refined
//! `rsqrt14`/`rcp14` estimates, within a few ulp of the exact formula.

use crate::kernels::KernelError;
use serde::{Deserialize, Serialize};

fn default_beta1() -> f32 {
    0.9
}
fn default_beta2() -> f32 {
    0.999
}
fn default_eps() -> f32 {
    1e-8
}
fn default_alpha() -> f32 {
    0.99
}

/// Optimizer choice and its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum.
    Sgd {
        /// Base learning rate.
        lr: f32,
        /// Momentum factor in `[0, 1)`.
        #[serde(default)]
        momentum: f32,
        /// Use Nesterov momentum (requires `momentum > 0`).
        #[serde(default)]
        nesterov: bool,
    },
    /// Adam; `TrainConfig::weight_decay` is applied as L2 on the gradient.
    Adam {
        /// Base learning rate.
        lr: f32,
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f32,
        /// Second-moment decay.
        #[serde(default = "default_beta2")]
        beta2: f32,
        /// Denominator floor.
        #[serde(default = "default_eps")]
        eps: f32,
    },
    /// AdamW; `TrainConfig::weight_decay` is decoupled (`w -= lr·wd·w`).
    #[serde(rename = "adamw")]
    AdamW {
        /// Base learning rate.
        lr: f32,
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f32,
        /// Second-moment decay.
        #[serde(default = "default_beta2")]
        beta2: f32,
        /// Denominator floor.
        #[serde(default = "default_eps")]
        eps: f32,
    },
    /// RMSprop (PyTorch form, optional momentum).
    #[serde(rename = "rmsprop")]
    RmsProp {
        /// Base learning rate.
        lr: f32,
        /// Decay of the squared-gradient average.
        #[serde(default = "default_alpha")]
        alpha: f32,
        /// Denominator floor.
        #[serde(default = "default_eps")]
        eps: f32,
        /// Momentum factor in `[0, 1)`.
        #[serde(default)]
        momentum: f32,
    },
}

impl OptimizerConfig {
    /// Adam with PyTorch's default betas and eps.
    pub fn adam(lr: f32) -> Self {
        OptimizerConfig::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// The base learning rate.
    pub fn lr(&self) -> f32 {
        match *self {
            OptimizerConfig::Sgd { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::AdamW { lr, .. }
            | OptimizerConfig::RmsProp { lr, .. } => lr,
        }
    }

    /// All out-of-range hyper-parameters (field name, message).
    pub fn problems(&self) -> Vec<KernelError> {
        let mut out = Vec::new();
        let mut check = |ok: bool, field: &str, msg: &str| {
            if !ok {
                out.push(KernelError::invalid(format!("optimizer.{field}"), msg));
            }
        };
        let lr = self.lr();
        check(
            lr.is_finite() && lr > 0.0,
            "lr",
            "must be a positive number",
        );
        let unit = |v: f32| (0.0..1.0).contains(&v);
        match *self {
            OptimizerConfig::Sgd {
                momentum, nesterov, ..
            } => {
                check(unit(momentum), "momentum", "must be in [0, 1)");
                check(
                    !nesterov || momentum > 0.0,
                    "nesterov",
                    "needs momentum > 0",
                );
            }
            OptimizerConfig::Adam {
                beta1, beta2, eps, ..
            }
            | OptimizerConfig::AdamW {
                beta1, beta2, eps, ..
            } => {
                check(unit(beta1), "beta1", "must be in [0, 1)");
                check(unit(beta2), "beta2", "must be in [0, 1)");
                check(
                    eps.is_normal() && eps > 0.0,
                    "eps",
                    "must be a positive normal float",
                );
            }
            OptimizerConfig::RmsProp {
                alpha,
                eps,
                momentum,
                ..
            } => {
                check(unit(alpha), "alpha", "must be in [0, 1)");
                check(eps.is_finite() && eps > 0.0, "eps", "must be positive");
                check(unit(momentum), "momentum", "must be in [0, 1)");
            }
        }
        out
    }
}

/// How the learning rate decays over training (after any warmup).
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrDecay {
    /// Keep the base learning rate.
    #[default]
    Constant,
    /// Multiply by `gamma` every `step_size` epochs (PyTorch `StepLR`).
    Step {
        /// Epochs between decays (≥ 1).
        step_size: usize,
        /// Decay factor in `(0, 1]`.
        gamma: f32,
    },
    /// Cosine annealing from the base rate to `min_lr` over the remaining steps.
    Cosine {
        /// Final learning rate.
        #[serde(default)]
        min_lr: f32,
    },
}

/// Learning-rate schedule: optional linear warmup followed by a decay.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LrSchedule {
    /// Decay after warmup.
    #[serde(default)]
    pub decay: LrDecay,
    /// Epochs of linear warmup from `lr/steps` to `lr` (0 = none).
    #[serde(default)]
    pub warmup_epochs: usize,
}

impl LrSchedule {
    /// Out-of-range settings.
    pub fn problems(&self) -> Vec<KernelError> {
        let mut out = Vec::new();
        match self.decay {
            LrDecay::Step { step_size, gamma } => {
                if step_size == 0 {
                    out.push(KernelError::invalid("lr_schedule.step_size", "must be ≥ 1"));
                }
                if !(gamma > 0.0 && gamma <= 1.0) {
                    out.push(KernelError::invalid(
                        "lr_schedule.gamma",
                        "must be in (0, 1]",
                    ));
                }
            }
            LrDecay::Cosine { min_lr } => {
                if !(min_lr >= 0.0 && min_lr.is_finite()) {
                    out.push(KernelError::invalid("lr_schedule.min_lr", "must be ≥ 0"));
                }
            }
            LrDecay::Constant => {}
        }
        out
    }

    /// Learning rate for optimizer step `step` (0-based) of `epoch` (0-based), with
    /// `steps_per_epoch` steps per epoch and `epochs` epochs in total.
    pub fn lr_at(
        &self,
        base: f32,
        epoch: usize,
        step: usize,
        steps_per_epoch: usize,
        epochs: usize,
    ) -> f32 {
        let spe = steps_per_epoch.max(1);
        let global = epoch * spe + step;
        let warmup = self.warmup_epochs * spe;
        if global < warmup {
            return base * (global + 1) as f32 / warmup as f32;
        }
        match self.decay {
            LrDecay::Constant => base,
            LrDecay::Step { step_size, gamma } => {
                base * gamma.powi((epoch / step_size.max(1)) as i32)
            }
            LrDecay::Cosine { min_lr } => {
                let span = (epochs * spe).saturating_sub(warmup).max(1);
                let t = ((global - warmup) as f64 / span as f64).min(1.0);
                let cos = 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
                (min_lr as f64 + (base as f64 - min_lr as f64) * cos) as f32
            }
        }
    }
}

/// Per-tensor optimizer state (moment buffers, allocated lazily by kind).
#[derive(Clone, Debug, Default)]
pub struct ParamState {
    first: Vec<f32>,
    second: Vec<f32>,
}

/// Scalars shared by every tensor in one optimizer step.
#[derive(Clone, Copy, Debug)]
pub struct StepScalars {
    /// Learning rate of this step.
    pub lr: f32,
    /// L2 (coupled) weight decay added to the gradient.
    pub l2: f32,
    /// Decoupled weight decay (AdamW).
    pub decoupled: f32,
    /// 1-based step count (Adam bias correction).
    pub t: u64,
}

impl ParamState {
    /// State for a tensor of `len` parameters.
    pub fn new(config: &OptimizerConfig, len: usize) -> Self {
        let (first, second) = match config {
            OptimizerConfig::Sgd { momentum, .. } => (if *momentum > 0.0 { len } else { 0 }, 0),
            OptimizerConfig::Adam { .. } | OptimizerConfig::AdamW { .. } => (len, len),
            OptimizerConfig::RmsProp { momentum, .. } => {
                (if *momentum > 0.0 { len } else { 0 }, len)
            }
        };
        ParamState {
            first: vec![0.0; first],
            second: vec![0.0; second],
        }
    }

    /// The moment buffers `(first, second)`; empty when the optimizer keeps none.
    pub fn moments(&self) -> (&[f32], &[f32]) {
        (&self.first, &self.second)
    }

    /// State with saved moments, for a tensor of `len` parameters under `config`; the
    /// buffers must have the lengths [`ParamState::new`] would give them.
    pub fn with_moments(
        config: &OptimizerConfig,
        len: usize,
        first: Vec<f32>,
        second: Vec<f32>,
    ) -> Result<Self, KernelError> {
        let fresh = ParamState::new(config, len);
        if first.len() != fresh.first.len() || second.len() != fresh.second.len() {
            return Err(KernelError::Shape(format!(
                "optimizer moments have {} and {} values, this optimizer keeps {} and {}",
                first.len(),
                second.len(),
                fresh.first.len(),
                fresh.second.len()
            )));
        }
        Ok(ParamState { first, second })
    }
}

/// Applies one optimizer update to `params` given `grads`.
pub fn step(
    config: &OptimizerConfig,
    state: &mut ParamState,
    params: &mut [f32],
    grads: &[f32],
    s: StepScalars,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the feature was detected at run time.
            unsafe { step_avx512(config, state, params, grads, s) };
            return;
        }
    }
    step_body(
        config,
        &mut state.first,
        &mut state.second,
        params,
        grads,
        s,
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn step_avx512(
    config: &OptimizerConfig,
    state: &mut ParamState,
    params: &mut [f32],
    grads: &[f32],
    s: StepScalars,
) {
    match *config {
        OptimizerConfig::Adam {
            beta1, beta2, eps, ..
        }
        | OptimizerConfig::AdamW {
            beta1, beta2, eps, ..
        } => {
            let n = params
                .len()
                .min(grads.len())
                .min(state.first.len())
                .min(state.second.len());
            let done = n / 16 * 16;
            adam_avx512(
                &mut params[..done],
                &grads[..done],
                &mut state.first[..done],
                &mut state.second[..done],
                AdamScalars::new(beta1, beta2, eps, s),
            );
            step_body(
                config,
                &mut state.first[done..],
                &mut state.second[done..],
                &mut params[done..],
                &grads[done..],
                s,
            );
        }
        _ => step_body(
            config,
            &mut state.first,
            &mut state.second,
            params,
            grads,
            s,
        ),
    }
}

/// Per-step constants of an Adam update.
#[derive(Clone, Copy, Debug)]
struct AdamScalars {
    beta1: f32,
    beta2: f32,
    eps: f32,
    l2: f32,
    /// `lr / (1 − β1^t)`.
    step_size: f32,
    /// `1 / √(1 − β2^t)`.
    inv_sqrt_bc2: f32,
    /// `1 − lr·decoupled_decay`.
    shrink: f32,
}

impl AdamScalars {
    fn new(beta1: f32, beta2: f32, eps: f32, s: StepScalars) -> Self {
        let bc1 = 1.0 - (beta1 as f64).powf(s.t as f64);
        let bc2 = 1.0 - (beta2 as f64).powf(s.t as f64);
        AdamScalars {
            beta1,
            beta2,
            eps,
            l2: s.l2,
            step_size: (s.lr as f64 / bc1) as f32,
            inv_sqrt_bc2: (1.0 / bc2.sqrt()) as f32,
            shrink: 1.0 - s.lr * s.decoupled,
        }
    }
}

/// Adam on whole 16-lane vectors (`params.len()` a multiple of 16, all slices equally long).
///
/// # Safety
/// AVX-512F must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn adam_avx512(
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    k: AdamScalars,
) {
    use std::arch::x86_64::*;
    let set = _mm512_set1_ps;
    let (l2, b1, c1) = (set(k.l2), set(k.beta1), set(1.0 - k.beta1));
    let (b2, c2) = (set(k.beta2), set(1.0 - k.beta2));
    let (isbc2, eps, step, shrink) = (
        set(k.inv_sqrt_bc2),
        set(k.eps),
        set(k.step_size),
        set(k.shrink),
    );
    let (half, three_halves, two) = (set(0.5), set(1.5), set(2.0));
    for (((w, g), m), v) in params
        .chunks_exact_mut(16)
        .zip(grads.chunks_exact(16))
        .zip(m.chunks_exact_mut(16))
        .zip(v.chunks_exact_mut(16))
    {
        let wv = _mm512_loadu_ps(w.as_ptr());
        let g = _mm512_fmadd_ps(l2, wv, _mm512_loadu_ps(g.as_ptr()));
        let mv = _mm512_fmadd_ps(b1, _mm512_loadu_ps(m.as_ptr()), _mm512_mul_ps(c1, g));
        let vv = _mm512_fmadd_ps(
            b2,
            _mm512_loadu_ps(v.as_ptr()),
            _mm512_mul_ps(_mm512_mul_ps(c2, g), g),
        );
        // √v = v·rsqrt(v), the estimate refined by one Newton step; v = 0 gives 0.
        let y = _mm512_rsqrt14_ps(vv);
        let y = _mm512_mul_ps(
            y,
            _mm512_fnmadd_ps(_mm512_mul_ps(_mm512_mul_ps(half, vv), y), y, three_halves),
        );
        let positive = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(vv, _mm512_setzero_ps());
        let root = _mm512_maskz_mul_ps(positive, vv, y);
        // 1 / (√v̂ + eps) with one Newton step on the reciprocal estimate.
        let d = _mm512_fmadd_ps(root, isbc2, eps);
        let r = _mm512_rcp14_ps(d);
        let r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, two));
        let updated = _mm512_fnmadd_ps(_mm512_mul_ps(step, mv), r, _mm512_mul_ps(wv, shrink));
        _mm512_storeu_ps(w.as_mut_ptr(), updated);
        _mm512_storeu_ps(m.as_mut_ptr(), mv);
        _mm512_storeu_ps(v.as_mut_ptr(), vv);
    }
}

/// The plain update; `first`/`second` are the tensor's moment buffers (empty when unused).
#[inline(always)]
fn step_body(
    config: &OptimizerConfig,
    first: &mut [f32],
    second: &mut [f32],
    params: &mut [f32],
    grads: &[f32],
    s: StepScalars,
) {
    let StepScalars {
        lr,
        l2,
        decoupled,
        t,
    } = s;
    match *config {
        OptimizerConfig::Sgd {
            momentum, nesterov, ..
        } => {
            if momentum > 0.0 {
                for ((w, &g), buf) in params.iter_mut().zip(grads).zip(first.iter_mut()) {
                    let g = g + l2 * *w;
                    *buf = momentum * *buf + g;
                    let d = if nesterov { g + momentum * *buf } else { *buf };
                    *w -= lr * d;
                }
            } else {
                for (w, &g) in params.iter_mut().zip(grads) {
                    *w -= lr * (g + l2 * *w);
                }
            }
        }
        OptimizerConfig::Adam {
            beta1, beta2, eps, ..
        }
        | OptimizerConfig::AdamW {
            beta1, beta2, eps, ..
        } => {
            let bc1 = 1.0 - (beta1 as f64).powf(t as f64);
            let bc2 = 1.0 - (beta2 as f64).powf(t as f64);
            let step_size = (lr as f64 / bc1) as f32;
            let inv_sqrt_bc2 = (1.0 / bc2.sqrt()) as f32;
            let (c1, c2) = (1.0 - beta1, 1.0 - beta2);
            let shrink = 1.0 - lr * decoupled;
            for (((w, &g), m), v) in params
                .iter_mut()
                .zip(grads)
                .zip(first.iter_mut())
                .zip(second.iter_mut())
            {
                let g = g + l2 * *w;
                *m = beta1 * *m + c1 * g;
                *v = beta2 * *v + c2 * g * g;
                *w = *w * shrink - step_size * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
            }
        }
        OptimizerConfig::RmsProp {
            alpha,
            eps,
            momentum,
            ..
        } => {
            let c = 1.0 - alpha;
            if momentum > 0.0 {
                for (((w, &g), sq), buf) in params
                    .iter_mut()
                    .zip(grads)
                    .zip(second.iter_mut())
                    .zip(first.iter_mut())
                {
                    let g = g + l2 * *w;
                    *sq = alpha * *sq + c * g * g;
                    *buf = momentum * *buf + g / (sq.sqrt() + eps);
                    *w -= lr * *buf;
                }
            } else {
                for ((w, &g), sq) in params.iter_mut().zip(grads).zip(second.iter_mut()) {
                    let g = g + l2 * *w;
                    *sq = alpha * *sq + c * g * g;
                    *w -= lr * g / (sq.sqrt() + eps);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalars(lr: f32, t: u64) -> StepScalars {
        StepScalars {
            lr,
            l2: 0.0,
            decoupled: 0.0,
            t,
        }
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // With bias correction the first Adam step is lr·g/(|g| + eps) ≈ lr·sign(g).
        let cfg = OptimizerConfig::adam(0.1);
        let mut st = ParamState::new(&cfg, 2);
        let mut w = [1.0f32, -1.0];
        step(&cfg, &mut st, &mut w, &[0.5, -2.0], scalars(0.1, 1));
        assert!(
            (w[0] - 0.9).abs() < 1e-6 && (w[1] + 0.9).abs() < 1e-6,
            "{w:?}"
        );
    }

    #[test]
    fn sgd_momentum_and_nesterov_hand_worked() {
        // momentum 0.5, g = 1 twice, lr 0.1: buf 1 then 1.5 → w = 1 − 0.1 − 0.15 = 0.75.
        let cfg = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.5,
            nesterov: false,
        };
        let mut st = ParamState::new(&cfg, 1);
        let mut w = [1.0f32];
        step(&cfg, &mut st, &mut w, &[1.0], scalars(0.1, 1));
        step(&cfg, &mut st, &mut w, &[1.0], scalars(0.1, 2));
        assert!((w[0] - 0.75).abs() < 1e-6);
        // Nesterov: d = g + m·buf: step 1 d = 1.5, step 2 buf = 1.5, d = 1.75 → w = 1 − 0.325.
        let cfg = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.5,
            nesterov: true,
        };
        let mut st = ParamState::new(&cfg, 1);
        let mut w = [1.0f32];
        step(&cfg, &mut st, &mut w, &[1.0], scalars(0.1, 1));
        step(&cfg, &mut st, &mut w, &[1.0], scalars(0.1, 2));
        assert!((w[0] - 0.675).abs() < 1e-6);
    }

    #[test]
    fn weight_decay_coupled_and_decoupled() {
        // SGD + L2 0.5 with zero gradient: w −= lr·0.5·w → 1 − 0.05 = 0.95.
        let cfg = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.0,
            nesterov: false,
        };
        let mut st = ParamState::new(&cfg, 1);
        let mut w = [1.0f32];
        step(
            &cfg,
            &mut st,
            &mut w,
            &[0.0],
            StepScalars {
                lr: 0.1,
                l2: 0.5,
                decoupled: 0.0,
                t: 1,
            },
        );
        assert!((w[0] - 0.95).abs() < 1e-7);
        // AdamW with zero gradient only shrinks: w·(1 − lr·wd) = 1 − 0.01.
        let cfg = OptimizerConfig::AdamW {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let mut st = ParamState::new(&cfg, 1);
        let mut w = [1.0f32];
        step(
            &cfg,
            &mut st,
            &mut w,
            &[0.0],
            StepScalars {
                lr: 0.1,
                l2: 0.0,
                decoupled: 0.1,
                t: 1,
            },
        );
        assert!((w[0] - 0.99).abs() < 1e-7);
    }

    #[test]
    fn rmsprop_hand_worked() {
        // alpha 0.9, g = 2: sq = 0.1·4 = 0.4, w −= 0.01·2/√0.4 = 0.0316228.
        let cfg = OptimizerConfig::RmsProp {
            lr: 0.01,
            alpha: 0.9,
            eps: 0.0,
            momentum: 0.0,
        };
        let mut st = ParamState::new(&cfg, 1);
        let mut w = [0.0f32];
        step(&cfg, &mut st, &mut w, &[2.0], scalars(0.01, 1));
        assert!((w[0] + 0.031_622_8).abs() < 1e-6);
    }

    #[test]
    fn simd_adam_matches_plain_formula() {
        // The AVX-512 pass uses refined rsqrt/rcp estimates (≤ ~3 ulp each), so each update
        // lr·m/(√v+eps) is within ~1e-6 relative of the exact one (≤ 1e-9 absolute here), but
        // the rounded weights may then land one ulp apart per step: after 5 steps allow
        // 5 ulp of |w| (ε = 1.19e-7) plus 1e-8.
        for cfg in [
            OptimizerConfig::adam(1e-3),
            OptimizerConfig::AdamW {
                lr: 1e-3,
                beta1: 0.8,
                beta2: 0.99,
                eps: 1e-6,
            },
        ] {
            let grads: Vec<f32> = (0..1003)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) * 1e-3)
                .collect();
            let mut w1: Vec<f32> = (0..1003).map(|i| (i as f32).sin()).collect();
            let mut w2 = w1.clone();
            let (mut s1, mut s2) = (ParamState::new(&cfg, 1003), ParamState::new(&cfg, 1003));
            for t in 1..6 {
                let sc = StepScalars {
                    lr: 1e-3,
                    l2: 0.01,
                    decoupled: 0.1,
                    t,
                };
                step(&cfg, &mut s1, &mut w1, &grads, sc);
                step_body(&cfg, &mut s2.first, &mut s2.second, &mut w2, &grads, sc);
            }
            for (a, b) in w1.iter().zip(&w2) {
                assert!(
                    (a - b).abs() <= 1e-8 + 5.0 * f32::EPSILON * b.abs(),
                    "{a} vs {b}"
                );
            }
            assert_eq!(s1.first[1000..], s2.first[1000..]);
        }
    }

    #[test]
    fn schedules_hand_worked() {
        let step = LrSchedule {
            decay: LrDecay::Step {
                step_size: 2,
                gamma: 0.5,
            },
            warmup_epochs: 0,
        };
        assert_eq!(step.lr_at(1.0, 0, 0, 10, 6), 1.0);
        assert_eq!(step.lr_at(1.0, 2, 3, 10, 6), 0.5);
        assert_eq!(step.lr_at(1.0, 5, 0, 10, 6), 0.25);
        let cos = LrSchedule {
            decay: LrDecay::Cosine { min_lr: 0.0 },
            warmup_epochs: 1,
        };
        // Warmup: step 0 of 4 → 1/4, step 3 → 1.
        assert_eq!(cos.lr_at(1.0, 0, 0, 4, 3), 0.25);
        assert_eq!(cos.lr_at(1.0, 0, 3, 4, 3), 1.0);
        // Half-way through the 8 post-warmup steps: cos(π/2) → 0.5.
        assert!((cos.lr_at(1.0, 2, 0, 4, 3) - 0.5).abs() < 1e-6);
        assert!(
            LrSchedule {
                decay: LrDecay::Step {
                    step_size: 0,
                    gamma: 0.5
                },
                warmup_epochs: 0
            }
            .problems()
            .len()
                == 1
        );
    }

    #[test]
    fn config_serde_and_validation() {
        let cfg: OptimizerConfig = serde_json::from_str(r#"{"kind":"adamw","lr":0.001}"#).unwrap();
        assert_eq!(
            cfg,
            OptimizerConfig::AdamW {
                lr: 0.001,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8
            }
        );
        let cfg: OptimizerConfig =
            serde_json::from_str(r#"{"kind":"sgd","lr":0.1,"nesterov":true}"#).unwrap();
        assert_eq!(cfg.problems().len(), 1);
        assert!(
            serde_json::from_str::<OptimizerConfig>(r#"{"kind":"adam","lr":0.1,"bogus":1}"#)
                .is_err()
        );
        assert!(OptimizerConfig::adam(-1.0).problems().len() == 1);
    }
}

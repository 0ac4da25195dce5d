//! Training losses: per-sample value and gradient with respect to the output layer's
//! pre-activation.
//!
//! Conventions (PyTorch's `reduction="mean"`): cross-entropy is summed over classes and
//! averaged over samples; the other losses are averaged over every output of every sample.
//! Softmax + cross-entropy and sigmoid + binary cross-entropy are fused so the gradient is
//! the stable `p − y`.

use super::activation::Activation;
use crate::kernels::KernelError;
use serde::{Deserialize, Serialize};

/// Probability floor used in logarithms so a confident wrong prediction costs a finite loss.
pub const PROBABILITY_EPS: f64 = 1e-7;

/// The objective minimized by training.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Softmax cross-entropy over logits (output activation must be identity).
    CrossEntropy,
    /// Binary cross-entropy per output; on logits (identity output) or probabilities (sigmoid).
    BinaryCrossEntropy,
    /// Mean squared error.
    Mse,
    /// Mean absolute error.
    Mae,
    /// Huber loss: quadratic within `delta` of the target, linear outside.
    Huber(HuberLoss),
}

/// The settings of [`Loss::Huber`] (`{"huber": {"delta": 1.0}}` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HuberLoss {
    /// Width of the quadratic zone (> 0).
    pub delta: f32,
}

/// The target of one sample.
#[derive(Clone, Copy, Debug)]
pub enum SampleTarget<'a> {
    /// A class index.
    Class(usize),
    /// One value per output.
    Values(&'a [f32]),
}

impl Loss {
    /// Checks that the loss fits the output layer (`n_outputs`, `activation`) and the kind of
    /// targets (`n_classes` for classification, `None` for regression).
    pub fn check(
        self,
        n_outputs: usize,
        activation: Activation,
        n_classes: Option<usize>,
    ) -> Result<(), KernelError> {
        let err = |m: String| Err(KernelError::invalid("loss", m));
        match (self, n_classes) {
            (Loss::CrossEntropy, Some(k)) => {
                if activation != Activation::Identity {
                    return err(format!(
                        "cross_entropy needs an identity (logit) output layer, not {activation}"
                    ));
                }
                if k != n_outputs || k < 2 {
                    return err(format!(
                        "cross_entropy needs one output per class: {k} classes, {n_outputs} outputs"
                    ));
                }
                Ok(())
            }
            (Loss::BinaryCrossEntropy, n_classes) => {
                if !matches!(activation, Activation::Identity | Activation::Sigmoid) {
                    return err(format!(
                        "binary_cross_entropy needs an identity or sigmoid output, not {activation}"
                    ));
                }
                match n_classes {
                    Some(2) if n_outputs == 1 => Ok(()),
                    Some(k) => err(format!(
                        "binary_cross_entropy on class labels needs 2 classes and 1 output, got {k} classes and {n_outputs} outputs"
                    )),
                    None => Ok(()),
                }
            }
            (Loss::CrossEntropy, None) => err("cross_entropy needs class labels as targets".into()),
            (Loss::Huber(HuberLoss { delta }), _) if !(delta > 0.0 && delta.is_finite()) => {
                err(format!("huber delta must be positive, got {delta}"))
            }
            (_, Some(_)) => err(format!(
                "{self:?} is a regression loss; targets are class labels"
            )),
            (_, None) => Ok(()),
        }
    }

    /// Loss of one sample given the pre-activation `z` and output `h = activation(z)` of the
    /// last layer. When `grad` is given it receives `∂loss/∂z` (same length as `h`).
    /// `check` must have accepted the combination; a class index out of range counts as
    /// no class (every output pushed towards 0).
    pub fn sample(
        self,
        activation: Activation,
        z: &[f32],
        h: &[f32],
        target: SampleTarget<'_>,
        grad: Option<&mut [f32]>,
    ) -> f64 {
        let n = h.len().max(1) as f64;
        match self {
            Loss::CrossEntropy => {
                let class = match target {
                    SampleTarget::Class(c) => c,
                    SampleTarget::Values(_) => usize::MAX,
                };
                let max = h.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
                let sum: f64 = h.iter().map(|&v| (v as f64 - max).exp()).sum();
                let log_sum = sum.ln() + max;
                if let Some(g) = grad {
                    for (j, (gj, &v)) in g.iter_mut().zip(h).enumerate() {
                        let p = (v as f64 - log_sum).exp();
                        *gj = (p - if j == class { 1.0 } else { 0.0 }) as f32;
                    }
                }
                h.get(class).map_or(log_sum, |&v| log_sum - v as f64)
            }
            Loss::BinaryCrossEntropy => {
                let mut total = 0.0;
                let mut grad = grad;
                for (j, &hj) in h.iter().enumerate() {
                    let y = target_value(target, j);
                    let (l, dz) = if activation == Activation::Sigmoid {
                        let p = (hj as f64).clamp(PROBABILITY_EPS, 1.0 - PROBABILITY_EPS);
                        (-(y * p.ln() + (1.0 - y) * (1.0 - p).ln()), hj as f64 - y)
                    } else {
                        // Stable log(1 + e^z) form: max(z,0) − z·y + log(1 + e^−|z|).
                        let zj = hj as f64;
                        let l = zj.max(0.0) - zj * y + (-zj.abs()).exp().ln_1p();
                        (l, 1.0 / (1.0 + (-zj).exp()) - y)
                    };
                    total += l;
                    if let Some(g) = grad.as_deref_mut().and_then(|g| g.get_mut(j)) {
                        *g = (dz / n) as f32;
                    }
                }
                total / n
            }
            Loss::Mse | Loss::Mae | Loss::Huber(_) => {
                let mut total = 0.0;
                let mut grad = grad;
                for (j, &hj) in h.iter().enumerate() {
                    let d = hj as f64 - target_value(target, j);
                    let (l, dh) = match self {
                        Loss::Mse => (d * d, 2.0 * d),
                        Loss::Mae => (d.abs(), d.signum() * if d == 0.0 { 0.0 } else { 1.0 }),
                        Loss::Huber(HuberLoss { delta }) => {
                            let delta = delta as f64;
                            if d.abs() <= delta {
                                (0.5 * d * d, d)
                            } else {
                                (delta * (d.abs() - 0.5 * delta), delta * d.signum())
                            }
                        }
                        _ => (0.0, 0.0),
                    };
                    total += l;
                    if let Some(g) = grad.as_deref_mut().and_then(|g| g.get_mut(j)) {
                        let zj = z.get(j).copied().unwrap_or(hj);
                        *g = (dh / n) as f32 * activation.derivative(zj, hj);
                    }
                }
                total / n
            }
        }
    }
}

fn target_value(target: SampleTarget<'_>, j: usize) -> f64 {
    match target {
        SampleTarget::Class(c) => {
            if c == 1 && j == 0 {
                1.0
            } else {
                0.0
            }
        }
        SampleTarget::Values(v) => v.get(j).copied().unwrap_or(0.0) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn losses() -> Vec<(Loss, Activation, bool)> {
        // (loss, output activation, classification)
        vec![
            (Loss::CrossEntropy, Activation::Identity, true),
            (Loss::BinaryCrossEntropy, Activation::Identity, false),
            (Loss::BinaryCrossEntropy, Activation::Sigmoid, false),
            (Loss::Mse, Activation::Identity, false),
            (Loss::Mse, Activation::Tanh, false),
            (Loss::Mse, Activation::Gelu, false),
            (Loss::Mae, Activation::Identity, false),
            (
                Loss::Huber(HuberLoss { delta: 0.5 }),
                Activation::Sigmoid,
                false,
            ),
        ]
    }

    #[test]
    fn gradients_match_central_differences() {
        let z = [0.3f32, -1.1, 0.8];
        let y = [0.2f32, 0.9, -0.4];
        let y01 = [0.2f32, 0.9, 0.0];
        for (loss, act, classification) in losses() {
            let target = if classification {
                SampleTarget::Class(1)
            } else if loss == Loss::BinaryCrossEntropy {
                SampleTarget::Values(&y01)
            } else {
                SampleTarget::Values(&y)
            };
            let eval = |z: &[f32]| {
                let h: Vec<f32> = z.iter().map(|&v| act.apply(v)).collect();
                loss.sample(act, z, &h, target, None)
            };
            let h: Vec<f32> = z.iter().map(|&v| act.apply(v)).collect();
            let mut g = vec![0.0f32; 3];
            loss.sample(act, &z, &h, target, Some(&mut g));
            // Central differences with h = 1e-3 on smooth points (no |d| = 0 or delta kinks):
            // f32 rounding of the outputs (~1e-7 relative) divided by 2h gives ~1e-4 noise.
            for j in 0..3 {
                let step = 1e-3f32;
                let mut zp = z;
                let mut zm = z;
                zp[j] += step;
                zm[j] -= step;
                let numeric = (eval(&zp) - eval(&zm)) / (2.0 * step as f64);
                assert!(
                    (numeric - g[j] as f64).abs() < 5e-4,
                    "{loss:?}/{act}: output {j} numeric {numeric} analytic {}",
                    g[j]
                );
            }
        }
    }

    #[test]
    fn hand_worked_values() {
        // CE of logits [0, 0] with class 1 = ln 2.
        let l = Loss::CrossEntropy.sample(
            Activation::Identity,
            &[0.0, 0.0],
            &[0.0, 0.0],
            SampleTarget::Class(1),
            None,
        );
        assert!((l - 2f64.ln()).abs() < 1e-12);
        // MSE of [1, 3] vs [0, 0] = (1 + 9) / 2 = 5.
        let l = Loss::Mse.sample(
            Activation::Identity,
            &[1.0, 3.0],
            &[1.0, 3.0],
            SampleTarget::Values(&[0.0, 0.0]),
            None,
        );
        assert!((l - 5.0).abs() < 1e-12);
        // Huber δ=1 of d=3: 1·(3 − 0.5) = 2.5; MAE of d=−2: 2.
        let l = Loss::Huber(HuberLoss { delta: 1.0 }).sample(
            Activation::Identity,
            &[3.0],
            &[3.0],
            SampleTarget::Values(&[0.0]),
            None,
        );
        assert!((l - 2.5).abs() < 1e-12);
        let l = Loss::Mae.sample(
            Activation::Identity,
            &[-2.0],
            &[-2.0],
            SampleTarget::Values(&[0.0]),
            None,
        );
        assert!((l - 2.0).abs() < 1e-12);
        // BCE on logit 0 = ln 2 for either label; class 1 → y = 1.
        let mut g = [0.0f32];
        let l = Loss::BinaryCrossEntropy.sample(
            Activation::Identity,
            &[0.0],
            &[0.0],
            SampleTarget::Class(1),
            Some(&mut g),
        );
        assert!((l - 2f64.ln()).abs() < 1e-12);
        assert!((g[0] + 0.5).abs() < 1e-7);
    }

    #[test]
    fn check_rejects_mismatches() {
        assert!(Loss::CrossEntropy
            .check(10, Activation::Identity, Some(10))
            .is_ok());
        assert!(Loss::CrossEntropy
            .check(10, Activation::Relu, Some(10))
            .is_err());
        assert!(Loss::CrossEntropy
            .check(3, Activation::Identity, Some(10))
            .is_err());
        assert!(Loss::CrossEntropy
            .check(3, Activation::Identity, None)
            .is_err());
        assert!(Loss::BinaryCrossEntropy
            .check(1, Activation::Sigmoid, Some(2))
            .is_ok());
        assert!(Loss::BinaryCrossEntropy
            .check(2, Activation::Sigmoid, Some(2))
            .is_err());
        assert!(Loss::Mse.check(1, Activation::Identity, Some(2)).is_err());
        assert!(Loss::Huber(HuberLoss { delta: 0.0 })
            .check(1, Activation::Identity, None)
            .is_err());
        assert!(Loss::Huber(HuberLoss { delta: 1.0 })
            .check(1, Activation::Identity, None)
            .is_ok());
        let json = serde_json::to_string(&Loss::Huber(HuberLoss { delta: 1.5 })).unwrap();
        assert_eq!(json, r#"{"huber":{"delta":1.5}}"#);
        assert_eq!(
            serde_json::from_str::<Loss>("\"cross_entropy\"").unwrap(),
            Loss::CrossEntropy
        );
    }
}

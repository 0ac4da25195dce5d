//! Element-wise activation functions and their derivatives.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Slope of `leaky_relu` for negative inputs (PyTorch's default).
pub const LEAKY_RELU_SLOPE: f32 = 0.01;

/// The non-linearity applied after a dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `x` for `x > 0`, else `0.01·x`.
    LeakyRelu,
    /// Gaussian error linear unit, tanh approximation (PyTorch `approximate="tanh"`).
    Gelu,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid `1 / (1 + e^-x)`.
    Sigmoid,
    /// No activation (raw outputs / logits).
    #[serde(alias = "none", alias = "linear")]
    Identity,
}

impl Activation {
    /// All activations, in declaration order.
    pub const ALL: [Activation; 6] = [
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Gelu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Identity,
    ];

    /// The canonical snake_case name (`"relu"`, `"identity"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Gelu => "gelu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Identity => "identity",
        }
    }

    /// Applies the activation to one value.
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::LeakyRelu => {
                if x > 0.0 {
                    x
                } else {
                    LEAKY_RELU_SLOPE * x
                }
            }
            Activation::Gelu => gelu(x),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => sigmoid(x),
            Activation::Identity => x,
        }
    }

    /// True when the derivative can be computed from the output alone, so training does not
    /// have to keep the pre-activation values.
    pub fn derivative_from_output(self) -> bool {
        !matches!(self, Activation::Gelu)
    }

    /// Derivative `f'(z)` given the pre-activation `z` and the output `y = f(z)`.
    #[inline]
    pub fn derivative(self, z: f32, y: f32) -> f32 {
        match self {
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu => {
                if y > 0.0 {
                    1.0
                } else {
                    LEAKY_RELU_SLOPE
                }
            }
            Activation::Gelu => gelu_derivative(z),
            Activation::Tanh => 1.0 - y * y,
            Activation::Sigmoid => y * (1.0 - y),
            Activation::Identity => 1.0,
        }
    }

    /// Applies the activation in place; the match is hoisted out of the loop so each arm
    /// vectorizes.
    pub fn apply_slice(self, values: &mut [f32]) {
        match self {
            Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::LeakyRelu => values
                .iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { LEAKY_RELU_SLOPE * *v }),
            Activation::Gelu => values.iter_mut().for_each(|v| *v = gelu(*v)),
            Activation::Tanh => values.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Sigmoid => values.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Identity => {}
        }
    }
}

impl Activation {
    /// Multiplies `grad` element-wise by `f'(z)`, with outputs `h = f(z)`; `z` is only read
    /// for activations whose derivative needs it (gelu) and may be `h` otherwise.
    pub fn mul_derivative_slice(self, grad: &mut [f32], z: &[f32], h: &[f32]) {
        match self {
            // Selects with an unconditional store, not `if y <= 0 { *g = 0 }`: a conditional
            // store does not vectorize and mispredicts on random signs.
            Activation::Relu => grad.iter_mut().zip(h).for_each(|(g, &y)| {
                *g = if y > 0.0 { *g } else { 0.0 };
            }),
            Activation::LeakyRelu => grad.iter_mut().zip(h).for_each(|(g, &y)| {
                *g = if y > 0.0 { *g } else { *g * LEAKY_RELU_SLOPE };
            }),
            Activation::Gelu => grad
                .iter_mut()
                .zip(z)
                .for_each(|(g, &x)| *g *= gelu_derivative(x)),
            Activation::Tanh => grad.iter_mut().zip(h).for_each(|(g, &y)| *g *= 1.0 - y * y),
            Activation::Sigmoid => grad
                .iter_mut()
                .zip(h)
                .for_each(|(g, &y)| *g *= y * (1.0 - y)),
            Activation::Identity => {}
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An activation name that whittle does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activation {0:?} (expected relu, leaky_relu, gelu, tanh, sigmoid or identity)")]
pub struct UnknownActivation(pub String);

impl FromStr for Activation {
    type Err = UnknownActivation;

    /// Accepts the canonical names plus common spellings from PyTorch, Keras and sklearn
    /// (`ReLU`, `LeakyReLU`, `logistic`, `none`, `linear`, …), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Ok(match key.as_str() {
            "relu" => Activation::Relu,
            "leakyrelu" => Activation::LeakyRelu,
            "gelu" => Activation::Gelu,
            "tanh" => Activation::Tanh,
            "sigmoid" | "logistic" => Activation::Sigmoid,
            "identity" | "none" | "linear" | "" => Activation::Identity,
            _ => return Err(UnknownActivation(s.to_string())),
        })
    }
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const GELU_CUBIC: f32 = 0.044_715;

#[inline]
fn gelu(x: f32) -> f32 {
    let u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
    0.5 * x * (1.0 + u.tanh())
}

#[inline]
fn gelu_derivative(x: f32) -> f32 {
    let u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
    let t = u.tanh();
    let du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_central_differences() {
        // Points away from the kinks of relu/leaky_relu at 0. f64 central differences of the
        // f32 function with h = 1e-2 have truncation error O(h²·f''') ≈ 1e-4 and rounding error
        // ε/h ≈ 1e-5; 2e-3 leaves margin for both.
        let h = 1e-2f32;
        for act in Activation::ALL {
            for &z in &[-3.0f32, -1.2, -0.3, 0.4, 1.1, 2.5] {
                let numeric =
                    (act.apply(z + h) as f64 - act.apply(z - h) as f64) / (2.0 * h as f64);
                let analytic = act.derivative(z, act.apply(z)) as f64;
                assert!(
                    (numeric - analytic).abs() < 2e-3,
                    "{act}: z={z} numeric {numeric} analytic {analytic}"
                );
            }
        }
    }

    #[test]
    fn slice_derivative_matches_scalar() {
        let z = [-1.5f32, -0.2, 0.0, 0.7, 2.0];
        for act in Activation::ALL {
            let h: Vec<f32> = z.iter().map(|&v| act.apply(v)).collect();
            let mut g = [2.0f32; 5];
            act.mul_derivative_slice(&mut g, &z, &h);
            for i in 0..5 {
                assert_eq!(g[i], 2.0 * act.derivative(z[i], h[i]), "{act} at {}", z[i]);
            }
        }
    }

    #[test]
    fn hand_worked_values() {
        assert_eq!(Activation::Relu.apply(-2.0), 0.0);
        assert_eq!(Activation::LeakyRelu.apply(-2.0), -0.02);
        assert!((Activation::Sigmoid.apply(0.0) - 0.5).abs() < 1e-7);
        // gelu(1) with the tanh approximation = 0.5·(1 + tanh(0.79788·1.044715)) = 0.841192
        assert!((Activation::Gelu.apply(1.0) - 0.841_192).abs() < 1e-5);
        let mut v = [-1.0, 0.5, 2.0];
        Activation::Relu.apply_slice(&mut v);
        assert_eq!(v, [0.0, 0.5, 2.0]);
    }

    #[test]
    fn parses_common_spellings() {
        assert_eq!("ReLU".parse::<Activation>().unwrap(), Activation::Relu);
        assert_eq!(
            "leaky_relu".parse::<Activation>().unwrap(),
            Activation::LeakyRelu
        );
        assert_eq!(
            "LeakyReLU".parse::<Activation>().unwrap(),
            Activation::LeakyRelu
        );
        assert_eq!("none".parse::<Activation>().unwrap(), Activation::Identity);
        assert_eq!(
            "logistic".parse::<Activation>().unwrap(),
            Activation::Sigmoid
        );
        assert!("softplus".parse::<Activation>().is_err());
        for act in Activation::ALL {
            assert_eq!(act.name().parse::<Activation>().unwrap(), act);
            let json = serde_json::to_string(&act).unwrap();
            assert_eq!(json, format!("\"{}\"", act.name()));
            assert_eq!(serde_json::from_str::<Activation>(&json).unwrap(), act);
        }
        assert_eq!(
            serde_json::from_str::<Activation>("\"none\"").unwrap(),
            Activation::Identity
        );
    }
}

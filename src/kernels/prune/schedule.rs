//! Gradual-pruning sparsity schedule: TF-MOT's `PolynomialDecay`.
//!
//! `s(t) = s_f + (s_i − s_f) · (1 − p)^power` with `p = clamp((t − begin) / (end − begin), 0, 1)`,
//! as in `tfmot.sparsity.keras.PolynomialDecay`. A gradual prune job evaluates it once per
//! pruning round (its steps are rounds, so TF-MOT's `frequency` is always 1 here).

use serde::{Deserialize, Serialize};

use crate::kernels::KernelError;

/// Polynomial-decay schedule parameters (TF-MOT names and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolynomialDecay {
    /// Sparsity at `begin_step` (and before).
    pub initial_sparsity: f64,
    /// Sparsity at `end_step` (and after).
    pub final_sparsity: f64,
    /// First step that prunes.
    pub begin_step: u64,
    /// Last step that may prune; must be > `begin_step`.
    pub end_step: u64,
    /// Exponent of the decay (TF-MOT default 3).
    #[serde(default = "default_power")]
    pub power: f64,
}

fn default_power() -> f64 {
    3.0
}

impl PolynomialDecay {
    /// Checks ranges; errors name the offending field.
    pub fn validate(&self) -> Result<(), KernelError> {
        for (field, v) in [
            ("initial_sparsity", self.initial_sparsity),
            ("final_sparsity", self.final_sparsity),
        ] {
            if !(0.0..1.0).contains(&v) {
                return Err(KernelError::invalid(
                    field,
                    format!("must be in [0, 1), got {v}"),
                ));
            }
        }
        if self.end_step <= self.begin_step {
            return Err(KernelError::invalid(
                "end_step",
                "must be greater than begin_step",
            ));
        }
        if !(self.power.is_finite() && self.power > 0.0) {
            return Err(KernelError::invalid("power", "must be a finite number > 0"));
        }
        Ok(())
    }

    /// Target sparsity at `step`.
    pub fn sparsity_at(&self, step: u64) -> f64 {
        let span = self.end_step.saturating_sub(self.begin_step).max(1) as f64;
        let p = (step.saturating_sub(self.begin_step) as f64 / span).clamp(0.0, 1.0);
        self.final_sparsity
            + (self.initial_sparsity - self.final_sparsity) * (1.0 - p).powf(self.power)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched() -> PolynomialDecay {
        PolynomialDecay {
            initial_sparsity: 0.2,
            final_sparsity: 0.8,
            begin_step: 100,
            end_step: 300,
            power: 3.0,
        }
    }

    #[test]
    fn values_at_begin_middle_end() {
        let s = sched();
        assert!((s.sparsity_at(0) - 0.2).abs() < 1e-12); // before begin: initial
        assert!((s.sparsity_at(100) - 0.2).abs() < 1e-12);
        // Middle: p = 0.5 → 0.8 + (0.2 − 0.8)·0.5³ = 0.8 − 0.075 = 0.725.
        assert!((s.sparsity_at(200) - 0.725).abs() < 1e-12);
        // p = 0.25 → 0.8 − 0.6·0.421875 = 0.546875.
        assert!((s.sparsity_at(150) - 0.546875).abs() < 1e-12);
        assert!((s.sparsity_at(300) - 0.8).abs() < 1e-12);
        assert!((s.sparsity_at(10_000) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn validation_and_serde_defaults() {
        let s: PolynomialDecay = serde_json::from_str(
            r#"{"initial_sparsity":0.0,"final_sparsity":0.5,"begin_step":0,"end_step":1000}"#,
        )
        .unwrap();
        assert_eq!(s.power, 3.0);
        assert!(s.validate().is_ok());
        let cases = [
            (
                PolynomialDecay {
                    final_sparsity: 1.0,
                    ..sched()
                },
                "final_sparsity",
            ),
            (
                PolynomialDecay {
                    initial_sparsity: -0.1,
                    ..sched()
                },
                "initial_sparsity",
            ),
            (
                PolynomialDecay {
                    end_step: 100,
                    ..sched()
                },
                "end_step",
            ),
            (
                PolynomialDecay {
                    power: 0.0,
                    ..sched()
                },
                "power",
            ),
        ];
        for (s, want) in cases {
            match s.validate() {
                Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, want),
                other => panic!("{want}: {other:?}"),
            }
        }
    }
}

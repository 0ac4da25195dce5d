//! Samplers: `grid` (enumerate the product), `random` and `tpe`.
//!
//! Trial `k` is a pure function of `(sampler, space, k, history)`: randomness comes from a
//! ChaCha8 stream seeded with `seed` and selected by `k`, so workers can draw any trial
//! independently and a retried trial draws the same parameters.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::draw::{sample_random, trial_rng};
use super::space::{grid_size, Distribution, SearchSpace};
use super::{tpe, Direction, TrialRecord};
use crate::kernels::KernelError;

pub use super::tpe::TpeConfig;

/// How the next trial's parameters are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Sampler {
    /// Trial `k` is grid point `k` (first parameter slowest); `grid_points` values per
    /// continuous float or log int (default 5).
    Grid {
        /// Values per continuous float / log int.
        #[serde(default = "default_grid_points")]
        grid_points: usize,
    },
    /// Independent uniform (or log-uniform) draws.
    Random {
        /// Stream seed.
        #[serde(default)]
        seed: u64,
    },
    /// Tree-structured Parzen estimator (univariate, Optuna's defaults).
    Tpe(TpeConfig),
}

fn default_grid_points() -> usize {
    5
}

impl Sampler {
    /// Checks the sampler's own parameters; errors name the field.
    pub fn validate(&self) -> Result<(), KernelError> {
        match self {
            Sampler::Grid { grid_points } if *grid_points < 2 => {
                Err(KernelError::invalid("grid_points", "must be ≥ 2"))
            }
            Sampler::Tpe(c) => {
                if c.n_ei_candidates == 0 {
                    return Err(KernelError::invalid("n_ei_candidates", "must be ≥ 1"));
                }
                if !(c.gamma > 0.0 && c.gamma <= 1.0) {
                    return Err(KernelError::invalid("gamma", "must be in (0, 1]"));
                }
                if c.max_good_trials == 0 {
                    return Err(KernelError::invalid("max_good_trials", "must be ≥ 1"));
                }
                if !(c.prior_weight.is_finite() && c.prior_weight > 0.0) {
                    return Err(KernelError::invalid(
                        "prior_weight",
                        "must be a finite number > 0",
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Parameters for trial `trial_number`. `history` is every trial the study knows about (any
/// state, any order); grid and random ignore it.
pub fn sample(
    sampler: &Sampler,
    space: &SearchSpace,
    history: &[TrialRecord],
    trial_number: usize,
    direction: Direction,
) -> Result<BTreeMap<String, Value>, KernelError> {
    space.validate()?;
    sampler.validate()?;
    match sampler {
        Sampler::Grid { grid_points } => {
            let size = grid_size(space, *grid_points).ok_or_else(|| {
                KernelError::invalid(
                    "search_space",
                    "the grid has more points than fit in memory",
                )
            })?;
            space.grid_point(trial_number, *grid_points).ok_or_else(|| {
                KernelError::invalid(
                    "trial_number",
                    format!("the grid has {size} points; trial {trial_number} is past its end"),
                )
            })
        }
        Sampler::Random { seed } => {
            if let Some(point) = without_replacement(space, *seed, trial_number) {
                return Ok(point);
            }
            let mut rng = trial_rng(*seed, trial_number);
            Ok(sample_random(space, &mut rng))
        }
        Sampler::Tpe(cfg) => Ok(tpe::sample_tpe(
            cfg,
            space,
            history,
            trial_number,
            direction,
        )),
    }
}

/// Largest all-categorical space drawn without replacement.
const WITHOUT_REPLACEMENT_MAX: usize = 100_000;

/// When every parameter is categorical (a list of choices), random search draws grid points
/// without replacement, like scikit-learn's `ParameterSampler` over lists: trial `k` takes
/// point `perm[k mod size]` of a permutation seeded by `seed`, so no combination repeats
/// before all were tried. None for spaces with ranges (or too many points).
fn without_replacement(
    space: &SearchSpace,
    seed: u64,
    trial_number: usize,
) -> Option<BTreeMap<String, Value>> {
    if !space
        .params
        .iter()
        .all(|(_, d)| matches!(d, Distribution::Categorical { .. }))
    {
        return None;
    }
    let size = grid_size(space, 2).filter(|&s| s > 0 && s <= WITHOUT_REPLACEMENT_MAX)?;
    let mut perm: Vec<usize> = (0..size).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::MAX);
    perm.shuffle(&mut rng);
    space.grid_point(perm[trial_number % size], 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeSet;

    fn space() -> SearchSpace {
        serde_json::from_value(json!({
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": true},
            "units": {"type": "int", "low": 16, "high": 64, "step": 16},
            "act": {"type": "categorical", "choices": ["relu", "tanh"]},
            "drop": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.25}
        }))
        .unwrap()
    }

    #[test]
    fn grid_enumerates_exactly_its_points() {
        let s = space();
        let g = Sampler::Grid { grid_points: 3 };
        // 3 (lr) · 4 (units 16, 32, 48, 64) · 2 (act) · 3 (drop 0, .25, .5) = 72.
        assert_eq!(grid_size(&s, 3), Some(72));
        let mut seen = BTreeSet::new();
        for k in 0..72 {
            let p = sample(&g, &s, &[], k, Direction::Minimize).unwrap();
            assert_eq!(p.len(), 4);
            assert!(
                seen.insert(serde_json::to_string(&p).unwrap()),
                "duplicate at {k}"
            );
        }
        assert_eq!(seen.len(), 72);
        match sample(&g, &s, &[], 72, Direction::Minimize) {
            Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "trial_number"),
            other => panic!("{other:?}"),
        }
        // First parameter (act) is slowest: trial 0 and 35 share act, 36 flips it.
        let first = |k| sample(&g, &s, &[], k, Direction::Minimize).unwrap()["act"].clone();
        assert_eq!(first(0), json!("relu"));
        assert_eq!(first(35), json!("relu"));
        assert_eq!(first(36), json!("tanh"));
    }

    #[test]
    fn random_is_reproducible_and_in_range() {
        let s = space();
        let r = Sampler::Random { seed: 42 };
        let a: Vec<_> = (0..50)
            .map(|k| sample(&r, &s, &[], k, Direction::Minimize).unwrap())
            .collect();
        let b: Vec<_> = (0..50)
            .rev()
            .map(|k| sample(&r, &s, &[], k, Direction::Minimize).unwrap())
            .collect();
        let b: Vec<_> = b.into_iter().rev().collect();
        assert_eq!(
            a, b,
            "trial k does not depend on the order trials are drawn"
        );
        let other = sample(
            &Sampler::Random { seed: 43 },
            &s,
            &[],
            0,
            Direction::Minimize,
        )
        .unwrap();
        assert_ne!(a[0], other);
        for p in &a {
            let lr = p["lr"].as_f64().unwrap();
            assert!((1e-4..=1e-1).contains(&lr));
            assert!([16, 32, 48, 64].contains(&p["units"].as_i64().unwrap()));
            assert!([0.0, 0.25, 0.5].contains(&p["drop"].as_f64().unwrap()));
        }
        // Distinct trials differ.
        assert_ne!(a[0], a[1]);
    }

    #[test]
    fn log_float_spreads_over_decades() {
        let s: SearchSpace = serde_json::from_value(
            json!({"lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": true}}),
        )
        .unwrap();
        let r = Sampler::Random { seed: 1 };
        let below_1e2 = (0..2000)
            .filter(|&k| {
                sample(&r, &s, &[], k, Direction::Minimize).unwrap()["lr"]
                    .as_f64()
                    .unwrap()
                    < 1e-2
            })
            .count();
        // Log-uniform: half the decades lie below 1e-2 → ≈ 1000 of 2000 (uniform would give 20).
        assert!((900..1100).contains(&below_1e2), "{below_1e2}");
    }

    #[test]
    fn sampler_json_and_validation() {
        let t: Sampler = serde_json::from_value(json!({"type": "tpe", "seed": 3})).unwrap();
        assert_eq!(
            t,
            Sampler::Tpe(TpeConfig {
                seed: 3,
                ..TpeConfig::default()
            })
        );
        let g: Sampler = serde_json::from_value(json!({"type": "grid"})).unwrap();
        assert_eq!(g, Sampler::Grid { grid_points: 5 });
        assert!(serde_json::from_value::<Sampler>(json!({"type": "tpe", "sed": 3})).is_err());
        let bad = Sampler::Tpe(TpeConfig {
            gamma: 0.0,
            ..TpeConfig::default()
        });
        match sample(&bad, &space(), &[], 0, Direction::Minimize) {
            Err(KernelError::InvalidParameter { field, .. }) => assert_eq!(field, "gamma"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn random_over_lists_draws_without_replacement() {
        let space: SearchSpace = serde_json::from_value(serde_json::json!({
            "lr": {"type": "categorical", "choices": [0.001, 0.01, 0.1]},
            "batch": {"type": "categorical", "choices": [32, 64, 128]}
        }))
        .unwrap();
        let sampler = Sampler::Random { seed: 3 };
        let draw = |k| sample(&sampler, &space, &[], k, Direction::Minimize).unwrap();
        let first: Vec<_> = (0..9).map(draw).collect();
        let distinct: std::collections::BTreeSet<String> = first
            .iter()
            .map(|p| serde_json::to_string(p).unwrap())
            .collect();
        assert_eq!(
            distinct.len(),
            9,
            "every combination once in the first 9 trials"
        );
        // Then the same order again, and reproducible for the seed.
        assert_eq!(draw(9), first[0]);
        assert_eq!(draw(4), first[4]);
        let other = Sampler::Random { seed: 4 };
        let other: Vec<_> = (0..9)
            .map(|k| sample(&other, &space, &[], k, Direction::Minimize).unwrap())
            .collect();
        assert_ne!(other, first, "another seed, another order");
    }
}

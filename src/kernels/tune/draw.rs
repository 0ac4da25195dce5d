//! Per-trial randomness shared by the samplers: the ChaCha8 stream of a trial and uniform
//! (log-uniform for log parameters) draws from a search-space distribution. Random search
//! uses them directly; TPE uses them for its startup trials.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use super::space::{float_value, Distribution, SearchSpace};

/// The random stream of trial `trial_number`.
pub(crate) fn trial_rng(seed: u64, trial_number: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(trial_number as u64);
    rng
}

/// Independent draws for every parameter, in space order.
pub(crate) fn sample_random(space: &SearchSpace, rng: &mut ChaCha8Rng) -> BTreeMap<String, Value> {
    space
        .params
        .iter()
        .map(|(name, d)| (name.clone(), random_value(d, rng)))
        .collect()
}

/// One uniform (log-uniform for log parameters) draw; assumes a validated distribution.
fn random_value(d: &Distribution, rng: &mut ChaCha8Rng) -> Value {
    match *d {
        Distribution::Float {
            low,
            high,
            step: Some(step),
            ..
        } => {
            let n = Distribution::float_steps(low, high, step);
            let i = rng.random_range(0..=n);
            Distribution::float_step_value(low, high, step, i)
        }
        Distribution::Float {
            low,
            high,
            log,
            step: None,
        } => {
            let u: f64 = rng.random();
            float_value(Distribution::float_at(low, high, log, u).clamp(low, high))
        }
        Distribution::Int {
            low,
            high,
            log: true,
            ..
        } => {
            // Log-uniform over [low − ½, high + ½] then rounded, so every integer has the
            // mass of its log-width (as Optuna does).
            let (a, b) = ((low as f64 - 0.5).ln(), (high as f64 + 0.5).ln());
            let u: f64 = rng.random();
            let v = (a + u * (b - a)).exp().round() as i64;
            Value::from(v.clamp(low, high))
        }
        Distribution::Int {
            low, high, step, ..
        } => {
            let n = Distribution::int_steps(low, high, step);
            Value::from(low + rng.random_range(0..=n) as i64 * step)
        }
        Distribution::Categorical { ref choices } => {
            let i = rng.random_range(0..choices.len().max(1));
            choices.get(i).cloned().unwrap_or(Value::Null)
        }
    }
}

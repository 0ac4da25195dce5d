//! Trial pruners: `none`, `median` (Optuna's `MedianPruner`) and `asha` (asynchronous
//! successive halving, Optuna's `SuccessiveHalvingPruner`).
//!
//! Stateless: a decision is computed from the trial's own `(step, value)` reports and the other
//! trials' records (running ones included). ASHA evaluates a rung exactly at the report where
//! the trial first reaches that rung's step, so calling [`should_prune`] after every report
//! makes the same decisions as Optuna's stateful pruner.

use serde::{Deserialize, Serialize};

use super::{Direction, TrialRecord, TrialState};
use crate::kernels::KernelError;

/// Early-stopping rule for trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Pruner {
    /// Never prune.
    #[default]
    None,
    /// Prune when the trial's best value so far is worse than the median of the complete
    /// trials' values at the same step.
    Median {
        /// Complete trials needed before anything is pruned (default 5).
        #[serde(default = "default_startup")]
        n_startup_trials: usize,
        /// Steps before which a trial is never pruned (default 0).
        #[serde(default)]
        n_warmup_steps: u32,
        /// Complete trials that must have reported the step (default 1).
        #[serde(default = "default_min_trials")]
        n_min_trials: usize,
    },
    /// Successive halving: rung `r` sits at step `min_resource · η^(min_early_stopping_rate + r)`;
    /// a trial reaching a rung continues only if it is in the top `1/η` of the values recorded
    /// at that rung (the best one while fewer than `η` trials are there).
    Asha {
        /// Resource (steps) of the first rung (default 1).
        #[serde(default = "default_min_resource")]
        min_resource: u32,
        /// η, the promotion ratio (default 3).
        #[serde(default = "default_reduction")]
        reduction_factor: u32,
        /// Skips the first rungs (default 0).
        #[serde(default)]
        min_early_stopping_rate: u32,
    },
}

fn default_startup() -> usize {
    5
}
fn default_min_trials() -> usize {
    1
}
fn default_min_resource() -> u32 {
    1
}
fn default_reduction() -> u32 {
    3
}

impl Pruner {
    /// Checks parameters; errors name the field.
    pub fn validate(&self) -> Result<(), KernelError> {
        match *self {
            Pruner::Median {
                n_min_trials: 0, ..
            } => Err(KernelError::invalid("n_min_trials", "must be ≥ 1")),
            Pruner::Asha {
                min_resource: 0, ..
            } => Err(KernelError::invalid("min_resource", "must be ≥ 1")),
            Pruner::Asha {
                reduction_factor, ..
            } if reduction_factor < 2 => {
                Err(KernelError::invalid("reduction_factor", "must be ≥ 2"))
            }
            _ => Ok(()),
        }
    }

    fn rung_step(&self, rung: u32) -> Option<u64> {
        match *self {
            Pruner::Asha {
                min_resource,
                reduction_factor,
                min_early_stopping_rate,
            } => {
                let e = min_early_stopping_rate.checked_add(rung)?;
                let p = u64::from(reduction_factor.max(2)).checked_pow(e)?;
                u64::from(min_resource.max(1)).checked_mul(p)
            }
            _ => None,
        }
    }
}

/// Whether `trial` (running, with its reports so far) should stop now. `others` are the
/// study's other trials in any state; a record with the trial's own number is ignored.
pub fn should_prune(
    pruner: &Pruner,
    direction: Direction,
    trial: &TrialRecord,
    others: &[TrialRecord],
) -> bool {
    let Some(&(step, value)) = trial.intermediate.last() else {
        return false;
    };
    let others = others.iter().filter(|o| o.number != trial.number);
    match *pruner {
        Pruner::None => false,
        Pruner::Median {
            n_startup_trials,
            n_warmup_steps,
            n_min_trials,
        } => {
            let complete: Vec<&TrialRecord> =
                others.filter(|o| o.state == TrialState::Complete).collect();
            if complete.is_empty() || complete.len() < n_startup_trials || step < n_warmup_steps {
                return false;
            }
            // Best (as a loss) over the trial's reports; NaN reports are skipped, all-NaN prunes.
            let best = trial
                .intermediate
                .iter()
                .map(|&(_, v)| direction.loss(v))
                .filter(|v| !v.is_nan())
                .fold(f64::NAN, f64::min);
            if best.is_nan() {
                return true;
            }
            let mut at_step: Vec<f64> = complete
                .iter()
                .filter_map(|o| o.intermediate.iter().find(|&&(s, _)| s == step))
                .map(|&(_, v)| direction.loss(v))
                .filter(|v| !v.is_nan())
                .collect();
            if at_step.len() < n_min_trials.max(1) {
                return false;
            }
            best > median(&mut at_step)
        }
        Pruner::Asha {
            reduction_factor, ..
        } => {
            let others: Vec<&TrialRecord> =
                others.filter(|o| o.state != TrialState::Failed).collect();
            let mut rung = 0;
            while let Some(rs) = pruner.rung_step(rung) {
                if rs > u64::from(step) {
                    return false;
                }
                rung += 1;
                // The report where this trial first reached the rung; earlier reports decided it.
                let crossing = trial
                    .intermediate
                    .iter()
                    .find(|&&(s, _)| u64::from(s) >= rs);
                if crossing.map(|c| c.0) != Some(step) {
                    continue;
                }
                if value.is_nan() {
                    return true;
                }
                let mut competing: Vec<f64> = others
                    .iter()
                    .filter_map(|o| o.intermediate.iter().find(|&&(s, _)| u64::from(s) >= rs))
                    .map(|&(_, v)| direction.loss(v))
                    .filter(|v| !v.is_nan())
                    .collect();
                let loss = direction.loss(value);
                competing.push(loss);
                competing.sort_by(f64::total_cmp);
                // Top 1/η; while fewer than η trials reached the rung, only the best continues.
                let idx = (competing.len() / reduction_factor.max(2) as usize).saturating_sub(1);
                if competing.get(idx).is_some_and(|&cut| loss > cut) {
                    return true;
                }
            }
            false
        }
    }
}

/// Median with linear interpolation (numpy's default percentile 50).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn trial(number: usize, state: TrialState, reports: &[(u32, f64)]) -> TrialRecord {
        TrialRecord {
            number,
            params: BTreeMap::new(),
            state,
            value: (state == TrialState::Complete).then(|| reports.last().map_or(0.0, |r| r.1)),
            intermediate: reports.to_vec(),
        }
    }

    fn running(reports: &[(u32, f64)]) -> TrialRecord {
        trial(99, TrialState::Running, reports)
    }

    #[test]
    fn median_pruner() {
        let p = Pruner::Median {
            n_startup_trials: 3,
            n_warmup_steps: 1,
            n_min_trials: 1,
        };
        // Complete trials' losses at step 2: 0.5, 0.7, 0.9 → median 0.7.
        let done: Vec<_> = [0.5, 0.7, 0.9]
            .iter()
            .enumerate()
            .map(|(i, &v)| trial(i, TrialState::Complete, &[(1, 1.0), (2, v), (3, v)]))
            .collect();
        let min = Direction::Minimize;
        assert!(should_prune(
            &p,
            min,
            &running(&[(1, 2.0), (2, 0.8)]),
            &done
        ));
        assert!(!should_prune(
            &p,
            min,
            &running(&[(1, 2.0), (2, 0.6)]),
            &done
        ));
        // Best-so-far counts: an earlier 0.65 keeps a worse current value alive.
        assert!(!should_prune(
            &p,
            min,
            &running(&[(1, 0.65), (2, 0.8)]),
            &done
        ));
        // Warm-up: step 0 < 1.
        assert!(!should_prune(&p, min, &running(&[(0, 9.0)]), &done));
        // Startup: only two complete trials.
        assert!(!should_prune(
            &p,
            min,
            &running(&[(1, 2.0), (2, 0.8)]),
            &done[..2]
        ));
        // No complete trial reported step 7.
        assert!(!should_prune(&p, min, &running(&[(7, 9.0)]), &done));
        // Maximize flips the comparison: 0.8 > 0.7 is good.
        assert!(!should_prune(
            &p,
            Direction::Maximize,
            &running(&[(2, 0.8)]),
            &done
        ));
        assert!(should_prune(
            &p,
            Direction::Maximize,
            &running(&[(2, 0.6)]),
            &done
        ));
        // Running and pruned trials do not count as complete.
        let mut not_done = done.clone();
        not_done
            .iter_mut()
            .for_each(|t| t.state = TrialState::Running);
        assert!(!should_prune(&p, min, &running(&[(2, 0.8)]), &not_done));
        assert!(!should_prune(
            &Pruner::None,
            min,
            &running(&[(2, 100.0)]),
            &done
        ));
    }

    #[test]
    fn asha_stops_trials_that_are_behind() {
        // η = 2, rungs at steps 1, 2, 4, 8.
        let p = Pruner::Asha {
            min_resource: 1,
            reduction_factor: 2,
            min_early_stopping_rate: 0,
        };
        let rungs: Vec<u64> = (0..)
            .map_while(|r| p.rung_step(r))
            .take_while(|&s| s <= 10)
            .collect();
        assert_eq!(rungs, vec![1, 2, 4, 8]);
        let min = Direction::Minimize;
        let others = vec![
            trial(0, TrialState::Complete, &[(1, 0.1), (2, 0.05), (4, 0.01)]),
            trial(1, TrialState::Pruned, &[(1, 0.2)]),
            trial(2, TrialState::Running, &[(1, 0.3), (2, 0.25)]),
        ];
        // Rung 1 values: 0.1, 0.2, 0.3 + own → 4 values, top 1/2 = the 2 best.
        assert!(should_prune(&p, min, &running(&[(1, 0.5)]), &others)); // 0.5 > 0.2
        assert!(!should_prune(&p, min, &running(&[(1, 0.15)]), &others)); // 0.15 ≤ 0.2
                                                                          // Step 3 is no rung step and rung 2 was decided at step 2: never re-judged here.
        assert!(!should_prune(
            &p,
            min,
            &running(&[(1, 0.15), (2, 0.04), (3, 5.0)]),
            &others
        ));
        // Rung 2 (step 2): values 0.05, 0.25 + own; idx = 3/2 − 1 = 0 → must beat 0.05.
        assert!(should_prune(
            &p,
            min,
            &running(&[(1, 0.15), (2, 0.1)]),
            &others
        ));
        assert!(!should_prune(
            &p,
            min,
            &running(&[(1, 0.15), (2, 0.04)]),
            &others
        ));
        // Reports that skip rungs are judged for every rung crossed at once.
        assert!(should_prune(&p, min, &running(&[(5, 0.02)]), &others)); // rung 4: 0.01 best
                                                                         // First trial at a rung continues (it is the best of one).
        assert!(!should_prune(&p, min, &running(&[(8, 9.0)]), &[]));
        assert!(should_prune(&p, min, &running(&[(1, f64::NAN)]), &others));
        assert_eq!(
            Pruner::Asha {
                min_resource: 1,
                reduction_factor: 1,
                min_early_stopping_rate: 0
            }
            .validate(),
            Err(KernelError::invalid("reduction_factor", "must be ≥ 2"))
        );
    }

    #[test]
    fn pruner_json() {
        let p: Pruner = serde_json::from_str(r#"{"type":"asha","reduction_factor":4}"#).unwrap();
        assert_eq!(
            p,
            Pruner::Asha {
                min_resource: 1,
                reduction_factor: 4,
                min_early_stopping_rate: 0
            }
        );
        let n: Pruner = serde_json::from_str(r#"{"type":"none"}"#).unwrap();
        assert_eq!(n, Pruner::None);
        let m: Pruner = serde_json::from_str(r#"{"type":"median"}"#).unwrap();
        assert_eq!(
            m,
            Pruner::Median {
                n_startup_trials: 5,
                n_warmup_steps: 0,
                n_min_trials: 1
            }
        );
    }
}

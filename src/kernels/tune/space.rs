//! Search-space types: float (uniform / log / stepped), int (uniform / log, step) and
//! categorical parameters, their validation, and grid enumeration.
//!
//! JSON form: `{"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": true},
//! "hidden": {"type": "int", "low": 32, "high": 256, "step": 32},
//! "act": {"type": "categorical", "choices": ["relu", "tanh"]}}`. Parameters are kept in name
//! order (a JSON object has no reliable order), which fixes grid order and sampling streams.
//!
//! Grid rule: categorical → every choice; int → every value on its step grid, except log ints,
//! which take `grid_points` log-spaced values rounded and deduplicated (16..256 with 5 points
//! gives 16, 32, 64, 128, 256); float with `step` → every step value; other floats →
//! `grid_points` evenly spaced values (log-spaced for log floats), ends included.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::kernels::KernelError;

/// The distribution of one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Distribution {
    /// Real number in `[low, high]`; `log` samples uniformly in log space; `step` restricts to
    /// `low + i·step` (not with `log`).
    Float {
        /// Lower bound (inclusive).
        low: f64,
        /// Upper bound (inclusive).
        high: f64,
        /// Log-uniform (requires `low > 0`).
        #[serde(default)]
        log: bool,
        /// Optional discretization step.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<f64>,
    },
    /// Integer in `[low, high]` on the grid `low + i·step`; `log` requires `low ≥ 1` and
    /// `step = 1`.
    Int {
        /// Lower bound (inclusive).
        low: i64,
        /// Upper bound (inclusive; values past the last step are never drawn).
        high: i64,
        /// Log-uniform.
        #[serde(default)]
        log: bool,
        /// Step between values (default 1).
        #[serde(default = "one")]
        step: i64,
    },
    /// One of a list of JSON values (numbers, strings, bools, arrays, …).
    Categorical {
        /// The distinct choices.
        choices: Vec<Value>,
    },
}

fn one() -> i64 {
    1
}

impl Distribution {
    /// Checks the bounds; the error's field is `low`, `high`, `step` or `choices`.
    pub fn validate(&self) -> Result<(), KernelError> {
        match *self {
            Distribution::Float {
                low,
                high,
                log,
                step,
            } => {
                if !low.is_finite() {
                    return Err(KernelError::invalid("low", "must be a finite number"));
                }
                if !high.is_finite() {
                    return Err(KernelError::invalid("high", "must be a finite number"));
                }
                if low > high {
                    return Err(KernelError::invalid(
                        "low",
                        format!("low ({low}) must be ≤ high ({high})"),
                    ));
                }
                if log && low <= 0.0 {
                    return Err(KernelError::invalid("low", "must be > 0 when log is true"));
                }
                if let Some(step) = step {
                    if !(step.is_finite() && step > 0.0) {
                        return Err(KernelError::invalid("step", "must be a finite number > 0"));
                    }
                    if log {
                        return Err(KernelError::invalid("step", "cannot be combined with log"));
                    }
                }
                Ok(())
            }
            Distribution::Int {
                low,
                high,
                log,
                step,
            } => {
                if low > high {
                    return Err(KernelError::invalid(
                        "low",
                        format!("low ({low}) must be ≤ high ({high})"),
                    ));
                }
                if step <= 0 {
                    return Err(KernelError::invalid("step", "must be ≥ 1"));
                }
                if log && low < 1 {
                    return Err(KernelError::invalid("low", "must be ≥ 1 when log is true"));
                }
                if log && step != 1 {
                    return Err(KernelError::invalid("step", "must be 1 when log is true"));
                }
                // Keeps `high - low` and step arithmetic inside i64.
                if high.checked_sub(low).is_none() {
                    return Err(KernelError::invalid("high", "range too large"));
                }
                Ok(())
            }
            Distribution::Categorical { ref choices } => {
                if choices.is_empty() {
                    return Err(KernelError::invalid("choices", "must not be empty"));
                }
                let mut seen = BTreeSet::new();
                for c in choices {
                    if !seen.insert(c.to_string()) {
                        return Err(KernelError::invalid(
                            "choices",
                            format!("duplicate choice {c}"),
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// Number of step positions after `low` for stepped floats (`high` is rounded down to
    /// the last step, with a small tolerance for decimal steps like 0.1).
    pub(crate) fn float_steps(low: f64, high: f64, step: f64) -> u64 {
        ((high - low) / step + 1e-9).floor().max(0.0) as u64
    }

    /// The point a fraction `t` ∈ [0, 1] of the way from `low` to `high`, on a log scale
    /// when `log`.
    pub(crate) fn float_at(low: f64, high: f64, log: bool, t: f64) -> f64 {
        if log {
            (low.ln() + t * (high.ln() - low.ln())).exp()
        } else {
            low + t * (high - low)
        }
    }

    /// The `i`-th step position of a stepped float (never past `high`).
    pub(crate) fn float_step_value(low: f64, high: f64, step: f64, i: u64) -> Value {
        float_value((low + i as f64 * step).min(high))
    }

    /// Largest `i` with `low + i·step ≤ high` for ints.
    pub(crate) fn int_steps(low: i64, high: i64, step: i64) -> u64 {
        (high.saturating_sub(low) / step.max(1)).max(0) as u64
    }

    /// Grid values of this parameter (see the module doc for the rule).
    pub fn grid_values(&self, grid_points: usize) -> Vec<Value> {
        let points = grid_points.max(2);
        match *self {
            Distribution::Categorical { ref choices } => choices.clone(),
            Distribution::Float {
                low,
                high,
                step: Some(step),
                ..
            } => {
                let n = Self::float_steps(low, high, step);
                (0..=n)
                    .map(|i| Self::float_step_value(low, high, step, i))
                    .collect()
            }
            Distribution::Float {
                low,
                high,
                log,
                step: None,
            } => {
                if low == high {
                    return vec![float_value(low)];
                }
                (0..points)
                    .map(|i| {
                        let t = i as f64 / (points - 1) as f64;
                        let v = Self::float_at(low, high, log, t);
                        // The ends exactly, whatever the rounding of exp/ln.
                        float_value(if i == 0 { low } else { v.min(high) })
                    })
                    .collect()
            }
            Distribution::Int {
                low,
                high,
                log: true,
                ..
            } => {
                let mut seen = BTreeSet::new();
                for i in 0..points {
                    let t = i as f64 / (points - 1) as f64;
                    let v =
                        ((low as f64).ln() + t * ((high as f64).ln() - (low as f64).ln())).exp();
                    seen.insert((v.round() as i64).clamp(low, high));
                }
                seen.into_iter().map(Value::from).collect()
            }
            Distribution::Int {
                low, high, step, ..
            } => {
                let n = Self::int_steps(low, high, step);
                (0..=n)
                    .map(|i| Value::from(low + i as i64 * step))
                    .collect()
            }
        }
    }

    /// Number of grid values without building them (`None` if it overflows).
    fn grid_len(&self, grid_points: usize) -> Option<usize> {
        match *self {
            Distribution::Categorical { ref choices } => Some(choices.len()),
            Distribution::Float {
                low,
                high,
                step: Some(step),
                ..
            } => usize::try_from(Self::float_steps(low, high, step))
                .ok()?
                .checked_add(1),
            Distribution::Float {
                low,
                high,
                step: None,
                ..
            } if low == high => Some(1),
            Distribution::Float { .. } => Some(grid_points.max(2)),
            Distribution::Int { log: true, .. } => Some(self.grid_values(grid_points).len()),
            Distribution::Int {
                low, high, step, ..
            } => usize::try_from(Self::int_steps(low, high, step))
                .ok()?
                .checked_add(1),
        }
    }
}

/// A JSON number for a float parameter (finite by construction).
pub(crate) fn float_value(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// An ordered set of named parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchSpace {
    /// `(name, distribution)` in name order.
    pub params: Vec<(String, Distribution)>,
}

impl SearchSpace {
    /// Builds a space, sorting by name (the order JSON deserialization gives).
    pub fn new(params: impl IntoIterator<Item = (String, Distribution)>) -> Self {
        let mut params: Vec<_> = params.into_iter().collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        SearchSpace { params }
    }

    /// Checks every parameter; the error's field is `<name>.<field>` (e.g. `lr.low`), or
    /// `search_space` for an empty space / duplicate name.
    pub fn validate(&self) -> Result<(), KernelError> {
        if self.params.is_empty() {
            return Err(KernelError::invalid(
                "search_space",
                "must have at least one parameter",
            ));
        }
        let mut names = BTreeSet::new();
        for (name, dist) in &self.params {
            if name.is_empty() || !names.insert(name.as_str()) {
                return Err(KernelError::invalid(
                    "search_space",
                    format!("parameter names must be non-empty and unique, got {name:?}"),
                ));
            }
            dist.validate().map_err(|e| match e {
                KernelError::InvalidParameter { field, message } => KernelError::InvalidParameter {
                    field: format!("{name}.{field}"),
                    message,
                },
                other => other,
            })?;
        }
        Ok(())
    }

    /// The `index`-th grid point in mixed-radix order (first parameter slowest), or `None`
    /// past the end.
    pub(crate) fn grid_point(
        &self,
        index: usize,
        grid_points: usize,
    ) -> Option<BTreeMap<String, Value>> {
        if index >= grid_size(self, grid_points)? {
            return None;
        }
        let mut rest = index;
        let mut out = BTreeMap::new();
        for (name, dist) in self.params.iter().rev() {
            let values = dist.grid_values(grid_points);
            let v = values.get(rest % values.len().max(1))?.clone();
            rest /= values.len().max(1);
            out.insert(name.clone(), v);
        }
        Some(out)
    }
}

/// Number of grid points of `space` with `grid_points` values per continuous float (`None`
/// when it overflows `usize`).
pub fn grid_size(space: &SearchSpace, grid_points: usize) -> Option<usize> {
    space.params.iter().try_fold(1usize, |acc, (_, d)| {
        acc.checked_mul(d.grid_len(grid_points)?)
    })
}

impl Serialize for SearchSpace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.params.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for SearchSpace {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, Distribution>::deserialize(d)?;
        Ok(SearchSpace {
            params: map.into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(r: Result<(), KernelError>) -> String {
        match r {
            Err(KernelError::InvalidParameter { field, .. }) => field,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn deserializes_json_space() {
        let space: SearchSpace = serde_json::from_value(json!({
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": true},
            "hidden": {"type": "int", "low": 32, "high": 256, "step": 32},
            "act": {"type": "categorical", "choices": ["relu", "tanh", true, 3, [64, 32]]}
        }))
        .unwrap();
        let names: Vec<&str> = space.params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["act", "hidden", "lr"]);
        assert!(space.validate().is_ok());
        assert_eq!(
            space.params[1].1,
            Distribution::Int {
                low: 32,
                high: 256,
                log: false,
                step: 32
            }
        );
        let back: SearchSpace =
            serde_json::from_value(serde_json::to_value(&space).unwrap()).unwrap();
        assert_eq!(back, space);
        let bad = serde_json::from_value::<SearchSpace>(
            json!({"x": {"type": "float", "low": 0, "high": 1, "lo": 2}}),
        );
        assert!(bad.is_err(), "unknown fields are rejected");
    }

    #[test]
    fn bad_spaces_name_the_field() {
        let f = |low, high, log, step| Distribution::Float {
            low,
            high,
            log,
            step,
        };
        let i = |low, high, log, step| Distribution::Int {
            low,
            high,
            log,
            step,
        };
        assert_eq!(field_of(f(2.0, 1.0, false, None).validate()), "low");
        assert_eq!(field_of(f(0.0, 1.0, true, None).validate()), "low");
        assert_eq!(field_of(f(-1.0, 1.0, true, None).validate()), "low");
        assert_eq!(field_of(f(0.0, 1.0, false, Some(0.0)).validate()), "step");
        assert_eq!(field_of(f(0.0, 1.0, false, Some(-0.5)).validate()), "step");
        assert_eq!(
            field_of(f(0.0, f64::INFINITY, false, None).validate()),
            "high"
        );
        assert_eq!(field_of(i(5, 1, false, 1).validate()), "low");
        assert_eq!(field_of(i(0, 10, true, 1).validate()), "low");
        assert_eq!(field_of(i(0, 10, false, 0).validate()), "step");
        assert_eq!(field_of(i(0, 10, false, -2).validate()), "step");
        assert_eq!(field_of(i(1, 10, true, 2).validate()), "step");
        let empty = Distribution::Categorical { choices: vec![] };
        assert_eq!(field_of(empty.validate()), "choices");
        let dup = Distribution::Categorical {
            choices: vec![json!(1), json!("a"), json!(1)],
        };
        assert_eq!(field_of(dup.validate()), "choices");
        let space = SearchSpace::new([("lr".to_string(), f(1.0, 0.5, false, None))]);
        assert_eq!(field_of(space.validate()), "lr.low");
        assert_eq!(field_of(SearchSpace::default().validate()), "search_space");
    }

    #[test]
    fn grid_values_follow_the_documented_rule() {
        let f = Distribution::Float {
            low: 0.0,
            high: 1.0,
            log: false,
            step: None,
        };
        assert_eq!(
            f.grid_values(5),
            vec![json!(0.0), json!(0.25), json!(0.5), json!(0.75), json!(1.0)]
        );
        let lf = Distribution::Float {
            low: 1e-3,
            high: 1e-1,
            log: true,
            step: None,
        };
        let v: Vec<f64> = lf
            .grid_values(3)
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(v[0], 1e-3);
        assert!((v[1] - 1e-2).abs() < 1e-12 && (v[2] - 1e-1).abs() < 1e-12);
        let sf = Distribution::Float {
            low: 0.0,
            high: 0.35,
            log: false,
            step: Some(0.1),
        };
        assert_eq!(sf.grid_values(5).len(), 4); // 0, 0.1, 0.2, 0.3
        let i = Distribution::Int {
            low: 32,
            high: 100,
            log: false,
            step: 32,
        };
        assert_eq!(i.grid_values(5), vec![json!(32), json!(64), json!(96)]);
        let li = Distribution::Int {
            low: 16,
            high: 256,
            log: true,
            step: 1,
        };
        assert_eq!(
            li.grid_values(5),
            vec![json!(16), json!(32), json!(64), json!(128), json!(256)]
        );
        let small = Distribution::Int {
            low: 1,
            high: 3,
            log: true,
            step: 1,
        };
        assert_eq!(small.grid_values(5), vec![json!(1), json!(2), json!(3)]);
    }
}

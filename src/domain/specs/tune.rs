//! `tune`: search hyper-parameters of a train spec by cross-validation, then refit the best.
//!
//! The search space names fields of the train spec by path (`optimizer.lr`, `batch_size`,
//! `architecture.hidden[*]`, …). A trial's train spec is the `base` object with every sampled
//! value written at its path, parsed as a [`TrainSpec`]: the train spec's own schema and checks
//! are the tunable-field schema, and submit-time validation writes each parameter's extreme
//! values (and every categorical choice) into `base` to prove they parse.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::checks::check_output_name;
use super::{optional_ref, parse_typed, KindSpec, Reference, TrainSpec, Validate};
use crate::domain::ValidationErrors;
use crate::kernels::nn::Quality;
use crate::kernels::tune::{grid_size, Direction, Distribution, Pruner, Sampler, SearchSpace};

/// Most trials one study may have.
pub const MAX_TRIALS: usize = 1000;
/// Most trials of one study running at once.
pub const MAX_PARALLELISM: usize = 64;

/// The objective a study scores each trial's held-out predictions with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TuneMetric {
    /// Fraction of correct classes (maximize).
    Accuracy,
    /// Unweighted mean of per-class recall (maximize).
    BalancedAccuracy,
    /// Macro-averaged F1 (maximize).
    F1,
    /// Support-weighted F1 (maximize).
    F1Weighted,
    /// Mean negative log-likelihood of the true class (minimize).
    LogLoss,
    /// Mean squared error (minimize).
    Mse,
    /// Root mean squared error (minimize).
    Rmse,
    /// Mean absolute error (minimize).
    Mae,
    /// Coefficient of determination (maximize).
    R2,
}

impl TuneMetric {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TuneMetric::Accuracy => "accuracy",
            TuneMetric::BalancedAccuracy => "balanced_accuracy",
            TuneMetric::F1 => "f1",
            TuneMetric::F1Weighted => "f1_weighted",
            TuneMetric::LogLoss => "log_loss",
            TuneMetric::Mse => "mse",
            TuneMetric::Rmse => "rmse",
            TuneMetric::Mae => "mae",
            TuneMetric::R2 => "r2",
        }
    }

    /// The metric's value in `quality` (an error when it is the other task's metric).
    pub fn value_of(self, quality: &Quality) -> Result<f64, String> {
        let wrong = |task: &str| format!("'{}' is a {task} metric", self.as_str());
        match quality {
            Quality::Classification { report: r, .. } => match self {
                TuneMetric::Accuracy => Ok(r.accuracy),
                TuneMetric::BalancedAccuracy => Ok(r.recall_macro),
                TuneMetric::F1 => Ok(r.f1_macro),
                TuneMetric::F1Weighted => Ok(r.f1_weighted),
                TuneMetric::LogLoss => Ok(r.log_loss.unwrap_or(f64::NAN)),
                _ => Err(wrong("regression")),
            },
            Quality::Regression(r) => match self {
                TuneMetric::Mse => Ok(r.mse),
                TuneMetric::Rmse => Ok(r.rmse),
                TuneMetric::Mae => Ok(r.mae),
                TuneMetric::R2 => Ok(r.r2),
                _ => Err(wrong("classification")),
            },
        }
    }

    /// The direction that makes sense for the metric.
    pub fn natural_direction(self) -> Direction {
        match self {
            TuneMetric::LogLoss | TuneMetric::Mse | TuneMetric::Rmse | TuneMetric::Mae => {
                Direction::Minimize
            }
            _ => Direction::Maximize,
        }
    }

    /// True for metrics of classifiers.
    pub fn is_classification(self) -> bool {
        matches!(
            self,
            TuneMetric::Accuracy
                | TuneMetric::BalancedAccuracy
                | TuneMetric::F1
                | TuneMetric::F1Weighted
                | TuneMetric::LogLoss
        )
    }
}

/// Spec of a `tune` job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TuneSpec {
    /// Training data: every trial cross-validates on it, the best configuration is refit on
    /// all of it.
    pub dataset_id: Uuid,
    /// A train spec without `dataset_id` (architecture, optimizer, batch_size, epochs, seed…);
    /// the values trials start from.
    #[schema(schema_with = train_base_schema)]
    pub base: Value,
    /// Parameter path → distribution: `{"type":"float","low","high","log"?,"step"?}`,
    /// `{"type":"int","low","high","log"?,"step"?}` or `{"type":"categorical","choices":[…]}`.
    /// Paths name train-spec fields (`optimizer.lr`, `batch_size`, `weight_decay` or
    /// `optimizer.weight_decay`, `architecture.hidden`, `architecture.hidden[*]` (every layer),
    /// `architecture.hidden[0]`, `architecture.activation`, `architecture.dropout`, …).
    pub search_space: BTreeMap<String, Distribution>,
    /// `grid`, `random` or `tpe` (default), or an object with the sampler's settings, e.g.
    /// `{"type":"tpe","n_startup_trials":10,"gamma":0.1}`; `{"type":"grid","grid_points":5}`.
    #[serde(default = "default_sampler")]
    #[schema(schema_with = sampler_schema)]
    pub sampler: Value,
    /// Trials to run (default: the grid's size for `grid`, else 20; at most 1000).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub n_trials: Option<usize>,
    /// Folds of k-fold cross-validation (stratified for classification); default 3 unless
    /// `holdout_fraction` is given.
    #[serde(default)]
    #[schema(minimum = 2, maximum = 20)]
    pub cv_folds: Option<usize>,
    /// Score on one held-out fraction of the rows instead of k folds, in (0, 0.5].
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, maximum = 0.5)]
    pub holdout_fraction: Option<f64>,
    /// Objective (default accuracy for classification, r2 for regression).
    #[serde(default)]
    pub metric: Option<TuneMetric>,
    /// `maximize` or `minimize` (default: the metric's natural direction).
    #[serde(default)]
    pub direction: Option<Direction>,
    /// Trials running at once, spread over every worker of the queue (default 2).
    #[serde(default = "default_parallelism")]
    #[schema(minimum = 1, maximum = 64)]
    pub parallelism: usize,
    /// `none` (default), `median` or `asha`, or an object with the pruner's settings, e.g.
    /// `{"type":"asha","min_resource":1,"reduction_factor":3}`. Intermediate values are the
    /// metric after every epoch, averaged over folds.
    #[serde(default = "default_pruner")]
    #[schema(schema_with = pruner_schema)]
    pub pruner: Value,
    /// Seeds the sampler and the folds.
    #[serde(default)]
    pub seed: u64,
    /// Test the refit model on this dataset.
    #[serde(default)]
    pub eval_dataset_id: Option<Uuid>,
    /// Train the best configuration on all of `dataset_id` as the job's output model
    /// (default true).
    #[serde(default = "default_true")]
    pub refit: bool,
    /// Name of the output model.
    #[serde(default)]
    pub output_name: Option<String>,
}

/// `TrainBase`: the train spec's schema without `dataset_id` (the API's document adds it).
fn train_base_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::Ref::from_schema_name("TrainBase").into()
}

/// A sampler or pruner field: one of `names`, or the `component` object with settings.
fn name_or_settings(
    names: &[&str],
    component: &str,
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names.iter().copied())),
        )
        .item(utoipa::openapi::Ref::from_schema_name(component))
        .description(Some(description))
        .into()
}

fn sampler_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    name_or_settings(
        &["grid", "random", "tpe"],
        "Sampler",
        "`grid`, `random` or `tpe` (default), or a `Sampler` object with its settings.",
    )
}

fn pruner_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    name_or_settings(
        &["none", "median", "asha"],
        "Pruner",
        "`none` (default), `median` or `asha`, or a `Pruner` object with its settings.",
    )
}

fn default_sampler() -> Value {
    json!("tpe")
}
fn default_pruner() -> Value {
    json!("none")
}
fn default_parallelism() -> usize {
    2
}
fn default_true() -> bool {
    true
}

/// One segment of a parameter path: a field, optionally indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Index {
    None,
    At(usize),
    Every,
}

/// Splits `a.b[2].c[*]` into `(field, index)` segments.
fn parse_path(path: &str) -> Result<Vec<(String, Index)>, String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    path.split('.')
        .map(|seg| {
            let (name, index) = match seg.find('[') {
                None => (seg, Index::None),
                Some(open) => {
                    let inner = seg[open..]
                        .strip_prefix('[')
                        .and_then(|r| r.strip_suffix(']'))
                        .ok_or_else(|| format!("bad index in '{seg}' (use [*] or [0])"))?;
                    let index = if inner == "*" {
                        Index::Every
                    } else {
                        Index::At(
                            inner
                                .parse()
                                .map_err(|_| format!("bad index in '{seg}' (use [*] or [0])"))?,
                        )
                    };
                    (&seg[..open], index)
                }
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("'{seg}' is not a field name"));
            }
            Ok((name.to_string(), index))
        })
        .collect()
}

/// Writes `value` at `path` into `doc` (a train-spec object). Missing objects on the way are
/// created; indexes need an existing list.
pub fn set_path(doc: &mut Value, path: &str, value: &Value) -> Result<(), String> {
    let segments = parse_path(path)?;
    // `optimizer.weight_decay` is where PyTorch users look for it; the train spec keeps it
    // beside the optimizer.
    if path == "optimizer.weight_decay" {
        return set_path(doc, "weight_decay", value);
    }
    set_segments(doc, &segments, value, path)
}

fn set_segments(
    doc: &mut Value,
    segments: &[(String, Index)],
    value: &Value,
    path: &str,
) -> Result<(), String> {
    let Some(((name, index), rest)) = segments.split_first() else {
        *doc = value.clone();
        return Ok(());
    };
    if doc.is_null() {
        *doc = Value::Object(Map::new());
    }
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| format!("'{path}': the value before '{name}' is not an object"))?;
    let slot = obj.entry(name.clone()).or_insert(Value::Null);
    match index {
        Index::None => set_segments(slot, rest, value, path),
        Index::At(i) => {
            let list = slot
                .as_array_mut()
                .ok_or_else(|| format!("'{path}': base has no list at '{name}'"))?;
            let len = list.len();
            let item = list.get_mut(*i).ok_or_else(|| {
                format!("'{path}': index {i} is past the end of '{name}' (length {len})")
            })?;
            set_segments(item, rest, value, path)
        }
        Index::Every => {
            let list = slot
                .as_array_mut()
                .ok_or_else(|| format!("'{path}': base has no list at '{name}'"))?;
            if list.is_empty() {
                return Err(format!("'{path}': the list '{name}' is empty in base"));
            }
            for item in list {
                set_segments(item, rest, value, path)?;
            }
            Ok(())
        }
    }
}

/// Moves `optimizer.weight_decay` (the PyTorch place) to the train spec's `weight_decay`.
pub fn normalize_train_value(doc: &mut Value) -> Result<(), (String, String)> {
    let Some(obj) = doc.as_object_mut() else {
        return Ok(());
    };
    let wd = obj
        .get_mut("optimizer")
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove("weight_decay"));
    if let Some(wd) = wd {
        match obj.get("weight_decay") {
            Some(existing) if existing != &wd => return Err((
                "optimizer.weight_decay".into(),
                "weight_decay is given twice (here and beside the optimizer) with different values"
                    .into(),
            )),
            _ => {
                obj.insert("weight_decay".into(), wd);
            }
        }
    }
    Ok(())
}

impl TuneSpec {
    /// The search space in kernel form (parameters in name order).
    pub fn space(&self) -> SearchSpace {
        SearchSpace::new(self.search_space.clone())
    }

    /// The sampler, with the spec's seed unless the sampler object names its own.
    pub fn sampler(&self) -> Result<Sampler, String> {
        let v = match &self.sampler {
            Value::String(name) => match name.as_str() {
                "grid" => json!({"type": "grid"}),
                "random" | "tpe" => json!({"type": name, "seed": self.seed}),
                other => {
                    return Err(format!(
                        "unknown sampler '{other}' (expected grid, random or tpe)"
                    ))
                }
            },
            Value::Object(o) => {
                let mut o = o.clone();
                if matches!(
                    o.get("type").and_then(Value::as_str),
                    Some("random" | "tpe")
                ) {
                    o.entry("seed").or_insert(json!(self.seed));
                }
                Value::Object(o)
            }
            _ => return Err("must be a name (grid, random, tpe) or an object".into()),
        };
        let s: Sampler = serde_json::from_value(v).map_err(|e| e.to_string())?;
        s.validate().map_err(|e| e.to_string())?;
        Ok(s)
    }

    /// The pruner.
    pub fn pruner(&self) -> Result<Pruner, String> {
        let v = match &self.pruner {
            Value::String(name) => match name.as_str() {
                "none" | "median" | "asha" => json!({ "type": name }),
                other => {
                    return Err(format!(
                        "unknown pruner '{other}' (expected none, median or asha)"
                    ))
                }
            },
            Value::Object(_) => self.pruner.clone(),
            Value::Null => json!({"type": "none"}),
            _ => return Err("must be a name (none, median, asha) or an object".into()),
        };
        let p: Pruner = serde_json::from_value(v).map_err(|e| e.to_string())?;
        p.validate().map_err(|e| e.to_string())?;
        Ok(p)
    }

    /// Trials the study runs: `n_trials`, capped at the grid's size for grid search.
    pub fn trial_count(&self) -> usize {
        let grid = match self.sampler() {
            Ok(Sampler::Grid { grid_points }) => grid_size(&self.space(), grid_points),
            _ => None,
        };
        match (self.n_trials, grid) {
            (Some(n), Some(g)) => n.min(g),
            (Some(n), None) => n,
            (None, Some(g)) => g.min(MAX_TRIALS),
            (None, None) => 20,
        }
    }

    /// Folds of cross-validation, or None for a holdout split.
    pub fn folds(&self) -> Option<usize> {
        match (self.cv_folds, self.holdout_fraction) {
            (Some(k), _) => Some(k),
            (None, Some(_)) => None,
            (None, None) => Some(3),
        }
    }

    /// The objective, defaulting by task.
    pub fn metric_for(&self, classification: bool) -> TuneMetric {
        self.metric.unwrap_or(if classification {
            TuneMetric::Accuracy
        } else {
            TuneMetric::R2
        })
    }

    /// The direction, defaulting by metric.
    pub fn direction_for(&self, metric: TuneMetric) -> Direction {
        self.direction.unwrap_or(metric.natural_direction())
    }

    /// The base train spec with `params` written in, as JSON (before parsing).
    pub fn trial_value(&self, params: &BTreeMap<String, Value>) -> Result<Value, (String, String)> {
        let mut doc = self.base.clone();
        if let Some(o) = doc.as_object_mut() {
            o.insert("dataset_id".into(), json!(self.dataset_id));
        }
        // Start from the base with every default filled in, so a path like `optimizer.lr`
        // works when the base leaves the optimizer at its default.
        let mut normalized = doc.clone();
        if normalize_train_value(&mut normalized).is_ok() {
            if let Ok(full) = parse_typed::<TrainSpec>(&normalized) {
                if let Ok(v) = serde_json::to_value(&full) {
                    doc = v;
                }
            }
        }
        for (path, value) in params {
            set_path(&mut doc, path, value).map_err(|m| (format!("search_space.{path}"), m))?;
        }
        normalize_train_value(&mut doc).map_err(|(f, m)| (format!("base.{f}"), m))?;
        Ok(doc)
    }

    /// The train spec of a trial with `params`.
    pub fn trial_spec(&self, params: &BTreeMap<String, Value>) -> Result<TrainSpec, String> {
        let doc = self
            .trial_value(params)
            .map_err(|(f, m)| format!("{f}: {m}"))?;
        parse_typed::<TrainSpec>(&doc).map_err(|e| e.to_string())
    }
}

/// The values submit-time validation writes for one parameter: both ends and the middle of a
/// range (every choice of a categorical).
pub fn probe_values(d: &Distribution) -> Vec<Value> {
    match d {
        Distribution::Float { low, high, .. } => {
            vec![json!(low), json!(high), json!((low + high) / 2.0)]
        }
        Distribution::Int { low, high, .. } => vec![json!(low), json!(high)],
        Distribution::Categorical { choices } => choices.clone(),
    }
}

impl Validate for TuneSpec {
    fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        let base_ok = match self.base.as_object() {
            None => {
                e.add("base", "must be an object holding a train spec");
                false
            }
            Some(o) if o.contains_key("dataset_id") => {
                e.add(
                    "base.dataset_id",
                    "give the dataset once, as spec.dataset_id",
                );
                false
            }
            Some(_) => true,
        };
        // The base on its own must be a valid train spec.
        let base_parsed = base_ok
            && match self.trial_value(&BTreeMap::new()) {
                Ok(doc) => match parse_typed::<TrainSpec>(&doc) {
                    Ok(t) => {
                        if t.base_model_id.is_some() {
                            e.add(
                                "base.base_model_id",
                                "tuning starts every trial from a fresh model: give an architecture",
                            );
                        }
                        if t.validation.is_some() {
                            e.add(
                                "base.validation",
                                "the study holds out its own folds: drop validation",
                            );
                        }
                        true
                    }
                    Err(errs) => {
                        e.extend(rename_prefix(errs, "spec.", "base."));
                        false
                    }
                },
                Err((f, m)) => {
                    e.add(f, m);
                    false
                }
            };
        if self.search_space.is_empty() {
            e.add("search_space", "must have at least one parameter");
        }
        for (path, dist) in &self.search_space {
            let field = format!("search_space.{path}");
            if let Err(err) = dist.validate() {
                match err {
                    crate::kernels::KernelError::InvalidParameter { field: f, message } => {
                        e.add(format!("{field}.{f}"), message)
                    }
                    other => e.add(field.clone(), other.to_string()),
                }
                continue;
            }
            if let Err(m) = parse_path(path) {
                e.add(field, m);
                continue;
            }
            if !base_parsed {
                continue;
            }
            // Every probe value must make a valid train spec on its own.
            for v in probe_values(dist) {
                let params = BTreeMap::from([(path.clone(), v.clone())]);
                let problem = match self.trial_value(&params) {
                    Err((_, m)) => Some(m),
                    Ok(doc) => parse_typed::<TrainSpec>(&doc)
                        .err()
                        .map(|errs| describe(&errs)),
                };
                if let Some(m) = problem {
                    e.add(
                        field.clone(),
                        format!("'{path}' is not a tunable train-spec field for {v}: {m}"),
                    );
                    break;
                }
            }
        }
        match self.sampler() {
            Err(m) => e.add("sampler", m),
            Ok(Sampler::Grid { grid_points }) => {
                if !self.search_space.is_empty()
                    && grid_size(&self.space(), grid_points).is_none_or(|g| g > 1_000_000)
                {
                    e.add(
                        "sampler",
                        "the grid has more than 1,000,000 points: give steps or fewer values",
                    );
                }
            }
            Ok(_) => {}
        }
        if let Err(m) = self.pruner() {
            e.add("pruner", m);
        }
        if let Some(n) = self.n_trials {
            e.check(
                (1..=MAX_TRIALS).contains(&n),
                "n_trials",
                format!("must be between 1 and {MAX_TRIALS}"),
            );
        }
        match (self.cv_folds, self.holdout_fraction) {
            (Some(_), Some(_)) => e.add(
                "holdout_fraction",
                "give cv_folds or holdout_fraction, not both",
            ),
            (Some(k), None) => e.check((2..=20).contains(&k), "cv_folds", "must be 2 to 20"),
            (None, Some(f)) => e.check(
                f > 0.0 && f <= 0.5,
                "holdout_fraction",
                "must be in (0, 0.5]",
            ),
            (None, None) => {}
        }
        e.check(
            (1..=MAX_PARALLELISM).contains(&self.parallelism),
            "parallelism",
            format!("must be between 1 and {MAX_PARALLELISM}"),
        );
        check_output_name(&mut e, self.output_name.as_deref());
        e
    }
}

/// Errors of a nested parse (`spec.x`) re-rooted (`base.x`).
fn rename_prefix(errs: ValidationErrors, from: &str, to: &str) -> ValidationErrors {
    let mut out = ValidationErrors::new();
    for f in errs.0 {
        let field = match f.field.strip_prefix(from) {
            Some(rest) => format!("{to}{rest}"),
            None if f.field == "spec" => to.trim_end_matches('.').to_string(),
            None => f.field,
        };
        out.add(field, f.message);
    }
    out
}

/// One line naming each problem of a nested parse.
fn describe(errs: &ValidationErrors) -> String {
    errs.0
        .iter()
        .map(|f| {
            let field = f.field.strip_prefix("spec.").unwrap_or(&f.field);
            format!("{field}: {}", f.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl KindSpec for TuneSpec {
    fn references(&self) -> Vec<(String, Reference)> {
        let mut r = vec![(
            "spec.dataset_id".into(),
            Reference::Dataset(self.dataset_id),
        )];
        r.extend(optional_ref(
            "spec.eval_dataset_id",
            self.eval_dataset_id,
            Reference::Dataset,
        ));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_pick_their_field_and_refuse_the_other_task() {
        use crate::kernels::nn::metrics::{ClassificationReport, RegressionReport};
        let c = Quality::Classification {
            report: ClassificationReport {
                accuracy: 0.9,
                precision_macro: 0.1,
                recall_macro: 0.8,
                f1_macro: 0.7,
                f1_weighted: 0.6,
                per_class: Vec::new(),
                confusion: Vec::new(),
                log_loss: Some(0.3),
            },
            predictions: Vec::new(),
        };
        assert_eq!(TuneMetric::Accuracy.value_of(&c), Ok(0.9));
        assert_eq!(TuneMetric::BalancedAccuracy.value_of(&c), Ok(0.8));
        assert_eq!(TuneMetric::F1.value_of(&c), Ok(0.7));
        assert_eq!(TuneMetric::F1Weighted.value_of(&c), Ok(0.6));
        assert_eq!(TuneMetric::LogLoss.value_of(&c), Ok(0.3));
        assert!(TuneMetric::R2.value_of(&c).is_err());
        let r = Quality::Regression(RegressionReport {
            mse: 4.0,
            rmse: 2.0,
            mae: 1.5,
            r2: 0.5,
        });
        assert_eq!(TuneMetric::Rmse.value_of(&r), Ok(2.0));
        assert_eq!(TuneMetric::R2.value_of(&r), Ok(0.5));
        assert!(TuneMetric::Accuracy
            .value_of(&r)
            .unwrap_err()
            .contains("classification metric"));
    }

    fn spec(v: Value) -> Result<TuneSpec, ValidationErrors> {
        parse_typed::<TuneSpec>(&v)
    }

    fn issue_example() -> Value {
        json!({"dataset_id": Uuid::nil(),
          "base":{"architecture":{"hidden":[64,64],"activation":"relu"},
                  "optimizer":{"kind":"adam","lr":0.001},"batch_size":64,"epochs":20,"seed":0},
          "search_space":{
            "architecture.hidden[*]":{"type":"int","low":16,"high":256},
            "optimizer.lr":{"type":"float","low":1e-4,"high":1e-1,"log":true},
            "batch_size":{"type":"categorical","choices":[32,64,128,256]},
            "optimizer.weight_decay":{"type":"float","low":1e-6,"high":1e-2,"log":true}},
          "sampler":"tpe","n_trials":30,"cv_folds":3,"metric":"accuracy","direction":"maximize",
          "parallelism":2,"pruner":"none","seed":0})
    }

    fn fields(r: Result<TuneSpec, ValidationErrors>) -> Vec<String> {
        r.unwrap_err().0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn the_issue_example_parses_and_applies_every_path() {
        let s = spec(issue_example()).unwrap();
        assert_eq!(s.trial_count(), 30);
        assert_eq!(s.folds(), Some(3));
        assert!(matches!(s.sampler().unwrap(), Sampler::Tpe(c) if c.seed == 0));
        let params = BTreeMap::from([
            ("architecture.hidden[*]".to_string(), json!(100)),
            ("optimizer.lr".to_string(), json!(0.01)),
            ("batch_size".to_string(), json!(128)),
            ("optimizer.weight_decay".to_string(), json!(0.001)),
        ]);
        let t = s.trial_spec(&params).unwrap();
        assert_eq!(t.architecture.unwrap().hidden, vec![100, 100]);
        assert!((t.optimizer.lr() - 0.01).abs() < 1e-9);
        assert_eq!(t.batch_size, 128);
        assert!((t.weight_decay - 0.001).abs() < 1e-9);
        assert_eq!(t.epochs, 20);
    }

    #[test]
    fn bad_search_spaces_name_the_field() {
        let mut v = issue_example();
        v["search_space"]["optimizer.lr"] = json!({"type":"float","low":0.1,"high":0.01});
        assert!(fields(spec(v)).contains(&"spec.search_space.optimizer.lr.low".to_string()));

        let mut v = issue_example();
        v["search_space"]["optimizer.lr"] = json!({"type":"float","low":0.0,"high":0.1,"log":true});
        let f = fields(spec(v));
        assert!(
            f.iter()
                .any(|f| f.starts_with("spec.search_space.optimizer.lr")),
            "{f:?}"
        );

        let mut v = issue_example();
        v["search_space"]["optimizer.learning_rate"] =
            json!({"type":"float","low":0.01,"high":0.1});
        assert_eq!(
            fields(spec(v)),
            vec!["spec.search_space.optimizer.learning_rate".to_string()]
        );

        let mut v = issue_example();
        v["search_space"]["batch_size"] = json!({"type":"categorical","choices":[]});
        assert!(fields(spec(v)).contains(&"spec.search_space.batch_size.choices".to_string()));

        // A value the train spec refuses (batch size 0) is caught at submit time.
        let mut v = issue_example();
        v["search_space"]["batch_size"] = json!({"type":"int","low":0,"high":64});
        assert_eq!(
            fields(spec(v)),
            vec!["spec.search_space.batch_size".to_string()]
        );

        // A string where the train spec wants a number.
        let mut v = issue_example();
        v["search_space"]["epochs"] = json!({"type":"categorical","choices":["many"]});
        assert_eq!(
            fields(spec(v)),
            vec!["spec.search_space.epochs".to_string()]
        );

        let mut v = issue_example();
        v["sampler"] = json!("bayes");
        assert_eq!(fields(spec(v)), vec!["spec.sampler".to_string()]);

        let mut v = issue_example();
        v["base"]["optimizer"]["lr"] = json!(-1.0);
        assert!(fields(spec(v)).contains(&"spec.base.optimizer.lr".to_string()));

        let mut v = issue_example();
        v["cv_folds"] = json!(1);
        assert_eq!(fields(spec(v)), vec!["spec.cv_folds".to_string()]);
    }

    #[test]
    fn grid_trial_count_is_the_grid_size() {
        let mut v = issue_example();
        v["search_space"] = json!({
            "optimizer.lr": {"type":"categorical","choices":[0.001,0.01,0.1]},
            "batch_size": {"type":"categorical","choices":[32,64,128]}});
        v["sampler"] = json!("grid");
        v.as_object_mut().unwrap().remove("n_trials");
        assert_eq!(spec(v.clone()).unwrap().trial_count(), 9);
        v["n_trials"] = json!(4);
        assert_eq!(spec(v).unwrap().trial_count(), 4);
    }

    #[test]
    fn paths_index_single_layers_and_refuse_bad_syntax() {
        let mut doc = json!({"architecture": {"hidden": [8, 8, 8]}});
        set_path(&mut doc, "architecture.hidden[1]", &json!(32)).unwrap();
        assert_eq!(doc["architecture"]["hidden"], json!([8, 32, 8]));
        assert!(set_path(&mut doc, "architecture.hidden[3]", &json!(1)).is_err());
        assert!(set_path(&mut doc, "architecture.hidden[x]", &json!(1)).is_err());
        assert!(set_path(&mut doc, "a..b", &json!(1)).is_err());
    }
}

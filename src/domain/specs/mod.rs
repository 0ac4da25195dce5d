//! Typed job specs, one struct per kind. Parsed from the request's `spec` object with
//! unknown fields refused, then `validate()`d so every field error is reported at once.
pub mod analyze;
pub mod checks;
pub mod prune;
pub mod quantize;
pub mod train;
pub mod tune;

use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::{JobKind, ValidationErrors};

pub use analyze::AnalyzeSpec;
pub use prune::PruneSpec;
pub use quantize::QuantizeSpec;
pub use train::{EvaluateSpec, TrainSpec};
pub use tune::TuneSpec;

/// The spec of one job, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum JobSpec {
    Analyze(AnalyzeSpec),
    Train(TrainSpec),
    Evaluate(EvaluateSpec),
    Prune(PruneSpec),
    Quantize(QuantizeSpec),
    Tune(TuneSpec),
}

/// A resource a spec points at, so the API can check it exists for the caller's tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    Model(Uuid),
    Dataset(Uuid),
}

impl JobSpec {
    /// Parse and validate the `spec` object for `kind`. Field paths in errors start at `spec`.
    pub fn parse(kind: JobKind, spec: &Value) -> Result<JobSpec, ValidationErrors> {
        match kind {
            JobKind::Analyze => parse_typed::<AnalyzeSpec>(spec).map(JobSpec::Analyze),
            JobKind::Train => {
                let mut spec = spec.clone();
                tune::normalize_train_value(&mut spec)
                    .map_err(|(f, m)| ValidationErrors::single(format!("spec.{f}"), m))?;
                parse_typed::<TrainSpec>(&spec).map(JobSpec::Train)
            }
            JobKind::Evaluate => parse_typed::<EvaluateSpec>(spec).map(JobSpec::Evaluate),
            JobKind::Prune => parse_typed::<PruneSpec>(spec).map(JobSpec::Prune),
            JobKind::Quantize => parse_typed::<QuantizeSpec>(spec).map(JobSpec::Quantize),
            JobKind::Tune => parse_typed::<TuneSpec>(spec).map(JobSpec::Tune),
        }
    }

    /// The kind this spec belongs to.
    pub fn kind(&self) -> JobKind {
        match self {
            JobSpec::Analyze(_) => JobKind::Analyze,
            JobSpec::Train(_) => JobKind::Train,
            JobSpec::Evaluate(_) => JobKind::Evaluate,
            JobSpec::Prune(_) => JobKind::Prune,
            JobSpec::Quantize(_) => JobKind::Quantize,
            JobSpec::Tune(_) => JobKind::Tune,
        }
    }

    /// Models and datasets the spec refers to, with the field that names each.
    pub fn references(&self) -> Vec<(String, Reference)> {
        match self {
            JobSpec::Analyze(s) => vec![("spec.model_id".into(), Reference::Model(s.model_id))],
            JobSpec::Train(s) => {
                let mut r = vec![("spec.dataset_id".into(), Reference::Dataset(s.dataset_id))];
                if let Some(id) = s.base_model_id {
                    r.push(("spec.base_model_id".into(), Reference::Model(id)));
                }
                if let Some(id) = s.validation.as_ref().and_then(|v| v.dataset_id) {
                    r.push(("spec.validation.dataset_id".into(), Reference::Dataset(id)));
                }
                r
            }
            JobSpec::Evaluate(s) => vec![
                ("spec.model_id".into(), Reference::Model(s.model_id)),
                ("spec.dataset_id".into(), Reference::Dataset(s.dataset_id)),
            ],
            JobSpec::Prune(s) => {
                let mut r = vec![("spec.model_id".into(), Reference::Model(s.model_id))];
                if let Some(f) = &s.finetune {
                    r.push((
                        "spec.finetune.dataset_id".into(),
                        Reference::Dataset(f.dataset_id),
                    ));
                }
                if let Some(id) = s.eval_dataset_id {
                    r.push(("spec.eval_dataset_id".into(), Reference::Dataset(id)));
                }
                if let Some(id) = s.calibration_dataset_id {
                    r.push(("spec.calibration_dataset_id".into(), Reference::Dataset(id)));
                }
                r
            }
            JobSpec::Quantize(s) => {
                let mut r = vec![("spec.model_id".into(), Reference::Model(s.model_id))];
                if let Some(id) = s.eval_dataset_id {
                    r.push(("spec.eval_dataset_id".into(), Reference::Dataset(id)));
                }
                if let Some(id) = s.calibration_dataset_id {
                    r.push(("spec.calibration_dataset_id".into(), Reference::Dataset(id)));
                }
                if let Some(f) = &s.finetune {
                    r.push((
                        "spec.finetune.dataset_id".into(),
                        Reference::Dataset(f.dataset_id),
                    ));
                }
                r
            }
            JobSpec::Tune(s) => {
                let mut r = vec![("spec.dataset_id".into(), Reference::Dataset(s.dataset_id))];
                if let Some(id) = s.eval_dataset_id {
                    r.push(("spec.eval_dataset_id".into(), Reference::Dataset(id)));
                }
                r
            }
        }
    }
}

/// A spec struct that can check its own values.
pub trait Validate {
    /// Every problem, with field paths relative to the spec object.
    fn validate(&self) -> ValidationErrors;
}

/// Deserialize with the failing field's path, then validate.
pub fn parse_typed<T: DeserializeOwned + Validate>(spec: &Value) -> Result<T, ValidationErrors> {
    let parsed: T = serde_path_to_error::deserialize(spec).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "spec".to_string()
        } else {
            format!("spec.{path}")
        };
        ValidationErrors::single(field, e.inner().to_string())
    })?;
    parsed.validate().nest("spec").into_result()?;
    Ok(parsed)
}

impl JobSpec {
    /// The normalized spec (defaults filled in) as stored in the job row.
    pub fn to_value(&self) -> Value {
        let v = match self {
            JobSpec::Analyze(s) => serde_json::to_value(s),
            JobSpec::Train(s) => serde_json::to_value(s),
            JobSpec::Evaluate(s) => serde_json::to_value(s),
            JobSpec::Prune(s) => serde_json::to_value(s),
            JobSpec::Quantize(s) => serde_json::to_value(s),
            JobSpec::Tune(s) => serde_json::to_value(s),
        };
        v.unwrap_or(Value::Null)
    }
}

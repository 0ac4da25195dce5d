//! Typed job specs, one struct per kind. Parsed from the request's `spec` object with
//! unknown fields refused, then `validate()`d so every field error is reported at once.
pub mod analyze;
pub mod checks;
pub mod prune;
pub mod quantize;
pub mod train;
pub mod tune;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use uuid::Uuid;

use super::ValidationErrors;

pub use analyze::AnalyzeSpec;
pub use checks::DEFAULT_MAX_SHARD_BYTES;
pub use prune::PruneSpec;
pub use quantize::QuantizeSpec;
pub use train::{EvaluateSpec, TextPooling, TrainSpec, MAX_TEXT_LENGTH};
pub use tune::TuneSpec;

/// A resource a spec points at, so the API can check it exists for the caller's tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    Model(Uuid),
    Dataset(Uuid),
}

/// The spec of one job kind: what the registry (`jobs::exec`) parses from a job row or a
/// request, checks and stores.
pub trait KindSpec: DeserializeOwned + Serialize + Validate + Send + Sync + 'static {
    /// Models and datasets the spec refers to, with the field (from `spec`) that names each.
    fn references(&self) -> Vec<(String, Reference)> {
        Vec::new()
    }

    /// Rewrites a request's spec before it is parsed (shorthands, aliases); errors name
    /// fields relative to the spec object.
    fn normalize(spec: &Value) -> Result<Cow<'_, Value>, ValidationErrors> {
        Ok(Cow::Borrowed(spec))
    }
}

/// Normalize, parse and validate a request's (or a row's) spec as `S`. Field paths in
/// errors start at `spec`.
pub fn parse_spec<S: KindSpec>(spec: &Value) -> Result<S, ValidationErrors> {
    let spec = S::normalize(spec).map_err(|e| e.nest("spec"))?;
    parse_typed(&spec)
}

/// What a job over a stored model names: the model, and the datasets it fine-tunes on,
/// evaluates on and calibrates with (quantize and prune).
pub fn model_job_references(
    model_id: Uuid,
    finetune_dataset: Option<Uuid>,
    eval_dataset: Option<Uuid>,
    calibration_dataset: Option<Uuid>,
) -> Vec<(String, Reference)> {
    let mut r = vec![("spec.model_id".into(), Reference::Model(model_id))];
    r.extend(optional_ref(
        "spec.finetune.dataset_id",
        finetune_dataset,
        Reference::Dataset,
    ));
    r.extend(optional_ref(
        "spec.eval_dataset_id",
        eval_dataset,
        Reference::Dataset,
    ));
    r.extend(optional_ref(
        "spec.calibration_dataset_id",
        calibration_dataset,
        Reference::Dataset,
    ));
    r
}

/// `(field, reference)` for an optional id, for [`KindSpec::references`].
pub fn optional_ref(
    field: &str,
    id: Option<Uuid>,
    reference: fn(Uuid) -> Reference,
) -> Option<(String, Reference)> {
    id.map(|id| (field.to_string(), reference(id)))
}

/// A spec struct that can check its own values.
pub trait Validate {
    /// Every problem, with field paths relative to the spec object.
    fn validate(&self) -> ValidationErrors;
}

/// Deserialize with the failing field's path, then validate.
/// Text holding U+0000 is refused first (the database cannot store it).
pub fn parse_typed<T: DeserializeOwned + Validate>(spec: &Value) -> Result<T, ValidationErrors> {
    if let Some(path) = super::validation::nul_in_json(spec) {
        let field = if path.is_empty() {
            "spec".to_string()
        } else {
            format!("spec.{path}")
        };
        return Err(ValidationErrors::single(
            field,
            super::validation::NUL_REFUSED,
        ));
    }
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

//! `analyze`: per-tensor statistics of a model (parameter statistics, "统计参数").
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{KindSpec, Reference, Validate};
use crate::domain::selection::TensorSelection;
use crate::domain::ValidationErrors;

/// Spec of an `analyze` job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeSpec {
    /// The model to analyze.
    pub model_id: Uuid,
    /// Histogram bins per tensor (1..=4096).
    #[serde(default = "default_bins")]
    #[schema(minimum = 1, maximum = 4096)]
    pub histogram_bins: usize,
    /// Only tensors whose names match one of these globs (default: all).
    #[serde(default)]
    pub include: Vec<String>,
    /// Skip tensors whose names match one of these globs.
    #[serde(default)]
    pub exclude: Vec<String>,
}

fn default_bins() -> usize {
    64
}

impl Validate for AnalyzeSpec {
    fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        e.check(
            (1..=4096).contains(&self.histogram_bins),
            "histogram_bins",
            "must be between 1 and 4096",
        );
        if let Err(globs) = TensorSelection::new(&self.include, &self.exclude, false) {
            e.extend(globs);
        }
        e
    }
}

impl KindSpec for AnalyzeSpec {
    fn references(&self) -> Vec<(String, Reference)> {
        vec![("spec.model_id".into(), Reference::Model(self.model_id))]
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_spec, parse_typed};
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_unknown_fields() {
        let id = Uuid::nil();
        let s: AnalyzeSpec = parse_typed(&json!({"model_id": id})).unwrap();
        assert_eq!(s.histogram_bins, 64);
        let err = parse_typed::<AnalyzeSpec>(&json!({"model_id": id, "bogus": 1})).unwrap_err();
        assert_eq!(err.0[0].field, "spec.bogus");
        assert!(err.0[0].message.contains("bogus"));
    }

    #[test]
    fn reports_every_bad_field() {
        let err = parse_spec::<AnalyzeSpec>(
            &json!({"model_id": Uuid::nil(), "histogram_bins": 0, "include": ["a[", "ok"], "exclude": ["[z"]}),
        )
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["spec.histogram_bins", "spec.include[0]", "spec.exclude[0]"]
        );
    }

    #[test]
    fn bad_type_names_the_field() {
        let err = parse_spec::<AnalyzeSpec>(&json!({"model_id": "nope"})).unwrap_err();
        assert_eq!(err.0[0].field, "spec.model_id");
    }
}

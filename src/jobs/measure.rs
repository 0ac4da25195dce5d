//! Measuring an MLP on a labelled set, as evaluate, quantize, prune and tune report it:
//! every quality metric of its predictions plus inference throughput and batch-1 latency.
use ndarray::ArrayView2;
use serde::Serialize;

use super::JobError;
use crate::formats::mlp::{inference_model, MlpArchitecture};
use crate::kernels::nn::metrics::ClassMetrics;
use crate::kernels::nn::{inference_speed, quality, Mlp, Quality, Targets};

/// The metrics of a model on a dataset (the `evaluate` result and the before/after reports
/// of quantize and prune).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ModelEvaluation {
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Rows evaluated.
    pub rows: usize,
    /// Rows per second in batches (best of a few passes).
    pub throughput_rows_per_s: f64,
    /// Mean single-row latency in microseconds.
    pub latency_batch1_us: f64,
}

/// Quality metrics by task (`task` names which).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Metrics {
    #[schema(title = "Classification")]
    Classification {
        accuracy: f64,
        f1_macro: f64,
        f1_weighted: f64,
        precision_macro: f64,
        recall_macro: f64,
        log_loss: Option<f64>,
        per_class: Vec<ClassMetrics>,
        /// `confusion_matrix[true][predicted]` counts.
        confusion_matrix: Vec<Vec<u64>>,
        /// Number of predictions made.
        predictions: usize,
        /// Predicted class per row (kept for agreement measures, not reported).
        #[serde(skip)]
        predicted: Vec<usize>,
    },
    #[schema(title = "Regression")]
    Regression {
        mse: f64,
        rmse: f64,
        mae: f64,
        r2: f64,
    },
}

impl ModelEvaluation {
    /// The headline metric: `("accuracy", …)` or `("r2", …)`.
    pub fn headline(&self) -> (&'static str, f64) {
        match &self.metrics {
            Metrics::Classification { accuracy, .. } => ("accuracy", *accuracy),
            Metrics::Regression { r2, .. } => ("r2", *r2),
        }
    }

    /// Predicted class per row (classification only).
    pub fn predicted(&self) -> Option<&[usize]> {
        match &self.metrics {
            Metrics::Classification { predicted, .. } => Some(predicted),
            Metrics::Regression { .. } => None,
        }
    }

    /// The fraction of rows on which two evaluations of the same rows predict the same class.
    pub fn agreement_with(&self, other: &ModelEvaluation) -> Option<f64> {
        let (a, b) = (self.predicted()?, other.predicted()?);
        if a.is_empty() || a.len() != b.len() {
            return None;
        }
        Some(a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64)
    }

    /// The headline figures (what prune keeps of each evaluation).
    pub fn summary(&self) -> EvaluationSummary {
        let headline = match &self.metrics {
            Metrics::Classification {
                accuracy,
                f1_macro,
                log_loss,
                ..
            } => SummaryMetrics::Classification {
                accuracy: *accuracy,
                f1_macro: *f1_macro,
                log_loss: *log_loss,
            },
            Metrics::Regression { mse, rmse, mae, r2 } => SummaryMetrics::Regression {
                mse: *mse,
                rmse: *rmse,
                mae: *mae,
                r2: *r2,
            },
        };
        EvaluationSummary {
            headline,
            rows: self.rows,
            throughput_rows_per_s: self.throughput_rows_per_s,
            latency_batch1_us: self.latency_batch1_us,
        }
    }
}

/// Headline figures of a [`ModelEvaluation`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluationSummary {
    #[serde(flatten)]
    pub headline: SummaryMetrics,
    pub rows: usize,
    pub throughput_rows_per_s: f64,
    pub latency_batch1_us: f64,
}

/// The headline metrics of a task.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SummaryMetrics {
    #[schema(title = "Classification")]
    Classification {
        accuracy: f64,
        f1_macro: f64,
        log_loss: Option<f64>,
    },
    #[schema(title = "Regression")]
    Regression {
        mse: f64,
        rmse: f64,
        mae: f64,
        r2: f64,
    },
}

/// Measures `mlp` (with `arch`'s standardization folded in) on raw features `x` and targets
/// `y`; `batch` rows per forward pass for the throughput (default: all rows).
pub fn measure(
    mlp: &Mlp,
    arch: &MlpArchitecture,
    x: ArrayView2<f32>,
    y: &Targets,
    batch: Option<usize>,
) -> Result<ModelEvaluation, JobError> {
    if x.ncols() != mlp.n_inputs() {
        return Err(JobError::Invalid(format!(
            "the model takes {} features but the dataset has {}",
            mlp.n_inputs(),
            x.ncols()
        )));
    }
    let model = inference_model(mlp, arch)?;
    let rows = x.nrows();
    let speed = inference_speed(&model, x, batch.unwrap_or(rows))?;
    let metrics = match quality(&model, x, y, true)? {
        Quality::Classification {
            report,
            predictions,
        } => Metrics::Classification {
            accuracy: report.accuracy,
            f1_macro: report.f1_macro,
            f1_weighted: report.f1_weighted,
            precision_macro: report.precision_macro,
            recall_macro: report.recall_macro,
            log_loss: report.log_loss,
            per_class: report.per_class,
            confusion_matrix: report.confusion,
            predictions: predictions.len(),
            predicted: predictions,
        },
        Quality::Regression(r) => Metrics::Regression {
            mse: r.mse,
            rmse: r.rmse,
            mae: r.mae,
            r2: r.r2,
        },
    };
    Ok(ModelEvaluation {
        metrics,
        rows,
        throughput_rows_per_s: speed.rows_per_s,
        latency_batch1_us: speed.latency_batch1_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::nn::{Activation, Dense};
    use ndarray::{arr1, arr2};

    /// Two inputs, two logits: class = the larger input.
    fn argmax_model() -> (Mlp, MlpArchitecture) {
        let mlp = Mlp::new(vec![Dense {
            weight: arr2(&[[1.0, 0.0], [0.0, 1.0]]),
            bias: arr1(&[0.0, 0.0]),
            activation: Activation::Identity,
        }])
        .unwrap();
        let arch = MlpArchitecture::of(&mlp);
        (mlp, arch)
    }

    #[test]
    fn classification_measures_agree_with_a_hand_count() {
        let (mlp, arch) = argmax_model();
        let x = arr2(&[[1.0f32, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]]);
        let y = Targets::Classification {
            labels: vec![0, 1, 1, 1],
            n_classes: 2,
        };
        let m = measure(&mlp, &arch, x.view(), &y, Some(2)).unwrap();
        assert_eq!(m.headline(), ("accuracy", 0.75));
        assert_eq!(m.predicted(), Some(&[0, 1, 0, 1][..]));
        assert_eq!(m.agreement_with(&m), Some(1.0));
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["task"], "classification");
        assert_eq!(
            json["confusion_matrix"],
            serde_json::json!([[1, 0], [1, 2]])
        );
        assert!(
            json.get("predicted").is_none(),
            "per-row predictions stay out"
        );
        let summary = serde_json::to_value(m.summary()).unwrap();
        assert_eq!(summary["accuracy"], 0.75);
        assert!(summary.get("mse").is_none());
    }

    #[test]
    fn a_feature_mismatch_is_the_users_error() {
        let (mlp, arch) = argmax_model();
        let x = arr2(&[[1.0f32, 0.0, 0.0]]);
        let y = Targets::Classification {
            labels: vec![0],
            n_classes: 2,
        };
        assert!(matches!(
            measure(&mlp, &arch, x.view(), &y, None),
            Err(JobError::Invalid(_))
        ));
    }
}

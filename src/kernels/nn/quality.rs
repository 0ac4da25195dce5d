//! How good and how fast a model is on a labelled set: the metrics of its predictions
//! (classes from [`Mlp::predict_proba`], the one definition of a predicted class) and its
//! inference throughput and batch-1 latency.
use ndarray::{s, Array2, ArrayView2};
use std::time::Instant;

use super::metrics::{classification_report, regression_report};
use super::metrics::{ClassificationReport, RegressionReport};
use super::{argmax, Mlp, Targets};
use crate::kernels::KernelError;

/// The metrics of a model's predictions.
#[derive(Debug, Clone, PartialEq)]
pub enum Quality {
    Classification {
        report: ClassificationReport,
        /// Predicted class per row.
        predictions: Vec<usize>,
    },
    Regression(RegressionReport),
}

impl Quality {
    /// The headline metric: `("accuracy", …)` or `("r2", …)`.
    #[cfg(test)]
    pub(crate) fn headline(&self) -> (&'static str, f64) {
        match self {
            Quality::Classification { report, .. } => ("accuracy", report.accuracy),
            Quality::Regression(r) => ("r2", r.r2),
        }
    }

    /// Predicted classes (classification only).
    #[cfg(test)]
    pub(crate) fn predictions(&self) -> Option<&[usize]> {
        match self {
            Quality::Classification { predictions, .. } => Some(predictions),
            Quality::Regression(_) => None,
        }
    }
}

/// Predicted class of each row of class probabilities (first class on ties).
fn classes_of(proba: ArrayView2<f32>) -> Vec<usize> {
    proba
        .rows()
        .into_iter()
        .map(|r| match r.as_slice() {
            Some(s) => argmax(s),
            None => argmax(&r.to_vec()),
        })
        .collect()
}

/// The metrics of `model` on `(x, y)`; `with_log_loss` adds the log-loss of classifiers.
pub fn quality(
    model: &Mlp,
    x: ArrayView2<f32>,
    y: &Targets,
    with_log_loss: bool,
) -> Result<Quality, KernelError> {
    if y.len() != x.nrows() {
        return Err(KernelError::Shape(format!(
            "{} feature rows but {} targets",
            x.nrows(),
            y.len()
        )));
    }
    match y {
        Targets::Classification { labels, n_classes } => {
            let proba = model.predict_proba(x)?;
            let predictions = classes_of(proba.view());
            let report = classification_report(
                labels,
                &predictions,
                with_log_loss.then(|| proba.view()),
                (*n_classes).max(proba.ncols()),
            )?;
            Ok(Quality::Classification {
                report,
                predictions,
            })
        }
        Targets::Regression(t) => {
            let outputs = model.forward(x)?;
            Ok(Quality::Regression(regression_report(
                t.view(),
                outputs.view(),
            )?))
        }
    }
}

/// How fast a model answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferenceSpeed {
    /// Rows per second over the whole set in batches (best of a few passes).
    pub rows_per_s: f64,
    /// Mean time of a single-row forward pass, in microseconds.
    pub latency_batch1_us: f64,
}

/// Throughput over `x` in batches of `batch` rows (best of five passes, one for 100k rows or
/// more: the first warms caches) and the mean batch-1 latency over up to 200 rows.
pub fn inference_speed(
    model: &Mlp,
    x: ArrayView2<f32>,
    batch: usize,
) -> Result<InferenceSpeed, KernelError> {
    let rows = x.nrows();
    let batch = batch.max(1);
    let mut outputs = Array2::<f32>::zeros((rows, model.n_outputs()));
    let passes = if rows >= 100_000 { 1 } else { 5 };
    let mut best = f64::INFINITY;
    for _ in 0..passes {
        let t = Instant::now();
        let mut start = 0;
        while start < rows {
            let end = (start + batch).min(rows);
            let o = model.forward(x.slice(s![start..end, ..]))?;
            outputs.slice_mut(s![start..end, ..]).assign(&o);
            start = end;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let n_single = rows.clamp(1, 200).min(rows);
    let t = Instant::now();
    for i in 0..n_single {
        model.forward(x.slice(s![i..i + 1, ..]))?;
    }
    let latency_batch1_us = if n_single == 0 {
        0.0
    } else {
        t.elapsed().as_secs_f64() * 1e6 / n_single as f64
    };
    Ok(InferenceSpeed {
        rows_per_s: if best > 0.0 && best.is_finite() {
            rows as f64 / best
        } else {
            0.0
        },
        latency_batch1_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::nn::{Activation, Dense};
    use ndarray::{arr1, arr2};

    /// One input, one sigmoid output: p = sigmoid(w·x + b).
    fn sigmoid_model() -> Mlp {
        Mlp::new(vec![Dense {
            weight: arr2(&[[2.0]]),
            bias: arr1(&[-1.0]),
            activation: Activation::Sigmoid,
        }])
        .unwrap()
    }

    #[test]
    fn a_single_sigmoid_output_is_class_one_above_one_half() {
        // Every output of a sigmoid is > 0: thresholding at 0 would call every row class 1.
        let x = arr2(&[[0.0], [0.4], [0.6], [2.0]]);
        let y = Targets::Classification {
            labels: vec![0, 0, 1, 1],
            n_classes: 2,
        };
        let q = quality(&sigmoid_model(), x.view(), &y, true).unwrap();
        // By hand: logits −1, −0.2, 0.2, 3 → p < 0.5, < 0.5, > 0.5, > 0.5.
        assert_eq!(q.predictions().unwrap(), &[0, 0, 1, 1]);
        assert_eq!(q.headline(), ("accuracy", 1.0));
        assert_eq!(
            sigmoid_model().predict_classes(x.view()).unwrap(),
            vec![0, 0, 1, 1]
        );
    }

    #[test]
    fn a_single_identity_output_is_a_logit() {
        let m = Mlp::new(vec![Dense {
            weight: arr2(&[[1.0]]),
            bias: arr1(&[0.0]),
            activation: Activation::Identity,
        }])
        .unwrap();
        // Logit 0.3 is p = 0.574 → class 1; a raw value read as a probability would say 0.
        let x = arr2(&[[-0.3], [0.3]]);
        let y = Targets::Classification {
            labels: vec![0, 1],
            n_classes: 2,
        };
        let q = quality(&m, x.view(), &y, false).unwrap();
        assert_eq!(q.predictions().unwrap(), &[0, 1]);
    }

    #[test]
    fn speed_is_positive_and_rows_must_match() {
        let x = Array2::from_shape_fn((50, 1), |(i, _)| i as f32 / 50.0);
        let s = inference_speed(&sigmoid_model(), x.view(), 16).unwrap();
        assert!(s.rows_per_s > 0.0 && s.latency_batch1_us > 0.0);
        let y = Targets::Classification {
            labels: vec![0],
            n_classes: 2,
        };
        assert!(quality(&sigmoid_model(), x.view(), &y, false).is_err());
    }
}

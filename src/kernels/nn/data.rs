//! Data preparation for the MLP kernels: the task a dataset describes, input standardization
//! learnt from training rows, and row subsets of features and targets.
use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::{Loss, Targets};
use crate::kernels::KernelError;

// What a dataset's target means: one spelling for datasets, specs, kernels and results.
/// `classification` or `regression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = TaskKind)]
pub enum Task {
    /// Targets are class labels.
    Classification,
    /// Targets are real values.
    Regression,
}

impl Task {
    /// The serde name ("classification" / "regression").
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }

    /// The task a stored name stands for (anything but "regression" is classification, as
    /// datasets are stored with one of the two names).
    pub fn from_name(name: &str) -> Task {
        if name == "regression" {
            Task::Regression
        } else {
            Task::Classification
        }
    }

    /// The loss a model of this task trains with unless told otherwise.
    pub fn default_loss(self) -> Loss {
        match self {
            Task::Classification => Loss::CrossEntropy,
            Task::Regression => Loss::Mse,
        }
    }

    /// The headline metric of the task: `accuracy` or `r2`.
    pub fn headline_metric(self) -> &'static str {
        match self {
            Task::Classification => "accuracy",
            Task::Regression => "r2",
        }
    }
}

/// Per-column `(x − mean) / std`, learnt from training rows (population statistics, a zero
/// std counts as 1 so a constant column is centred, not divided by zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Standardization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardization {
    /// Column means and standard deviations of `x`, accumulated in f64.
    pub fn fit(x: ArrayView2<f32>) -> Standardization {
        let n = x.nrows().max(1) as f64;
        let mut mean = vec![0f64; x.ncols()];
        let mut sq = vec![0f64; x.ncols()];
        for row in x.rows() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        for row in x.rows() {
            for ((s, &v), m) in sq.iter_mut().zip(row).zip(&mean) {
                let d = f64::from(v) - m;
                *s += d * d;
            }
        }
        Standardization {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std: sq.iter().map(|s| (s / n).sqrt() as f32).collect(),
        }
    }

    /// Standardize `x` in place (columns past the statistics are left as they are).
    pub fn apply(&self, x: &mut Array2<f32>) {
        for mut row in x.rows_mut() {
            for (j, v) in row.iter_mut().enumerate() {
                let s = self.std.get(j).copied().filter(|s| *s > 0.0).unwrap_or(1.0);
                *v = (*v - self.mean.get(j).copied().unwrap_or(0.0)) / s;
            }
        }
    }

    /// A standardized copy of `x`.
    pub fn applied(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let mut out = x.to_owned();
        self.apply(&mut out);
        out
    }
}

/// Rows `idx` of `x`.
pub fn select_rows(x: ArrayView2<f32>, idx: &[usize]) -> Array2<f32> {
    x.select(Axis(0), idx)
}

impl Targets {
    /// The targets of rows `idx` (indices past the end are an error).
    pub fn select(&self, idx: &[usize]) -> Result<Targets, KernelError> {
        if let Some(&bad) = idx.iter().find(|&&i| i >= self.len()) {
            return Err(KernelError::Shape(format!(
                "row {bad} out of range for {} targets",
                self.len()
            )));
        }
        Ok(match self {
            Targets::Classification { labels, n_classes } => Targets::Classification {
                labels: idx.iter().map(|&i| labels[i]).collect(),
                n_classes: *n_classes,
            },
            Targets::Regression(y) => Targets::Regression(y.select(Axis(0), idx)),
        })
    }

    /// Outputs a model needs for these targets: one per class, or one per target column.
    pub fn n_outputs(&self) -> usize {
        match self {
            Targets::Classification { n_classes, .. } => *n_classes,
            Targets::Regression(y) => y.ncols(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardization_matches_a_hand_computation() {
        let mut x = Array2::from_shape_vec((3, 2), vec![1.0, 5.0, 2.0, 5.0, 3.0, 5.0]).unwrap();
        let s = Standardization::fit(x.view());
        assert_eq!(s.mean, vec![2.0, 5.0]);
        // Population std of 1, 2, 3 is sqrt(2/3).
        assert!((s.std[0] - (2.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(s.std[1], 0.0);
        s.apply(&mut x);
        assert!((x[[0, 0]] + 1.2247449).abs() < 1e-5);
        assert!((x[[2, 0]] - 1.2247449).abs() < 1e-5);
        assert_eq!(
            x[[1, 1]],
            0.0,
            "a constant column is centred, not divided by zero"
        );
    }

    #[test]
    fn standardization_of_large_offsets_keeps_precision() {
        // f64 accumulation: a column at 1e6 ± 1 still has std 1 (f32 sums would lose it).
        let x = Array2::from_shape_fn((1000, 1), |(i, _)| {
            1.0e6 + if i % 2 == 0 { 1.0 } else { -1.0 }
        });
        let s = Standardization::fit(x.view());
        assert!((s.std[0] - 1.0).abs() < 1e-3, "std {}", s.std[0]);
    }

    #[test]
    fn select_keeps_rows_in_the_given_order() {
        let y = Targets::Classification {
            labels: vec![0, 1, 2, 1],
            n_classes: 3,
        };
        match y.select(&[3, 0]).unwrap() {
            Targets::Classification { labels, n_classes } => {
                assert_eq!(labels, vec![1, 0]);
                assert_eq!(n_classes, 3);
            }
            Targets::Regression(_) => panic!("task changed"),
        }
        assert!(y.select(&[4]).is_err());
        let r = Targets::Regression(Array2::from_shape_vec((3, 1), vec![1.0, 2.0, 3.0]).unwrap());
        match r.select(&[2, 2]).unwrap() {
            Targets::Regression(v) => assert_eq!(v.column(0).to_vec(), vec![3.0, 3.0]),
            Targets::Classification { .. } => panic!("task changed"),
        }
        assert_eq!(r.n_outputs(), 1);
        assert_eq!(y.n_outputs(), 3);
        let x = Array2::from_shape_vec((3, 1), vec![10.0, 20.0, 30.0]).unwrap();
        assert_eq!(select_rows(x.view(), &[1]).column(0).to_vec(), vec![20.0]);
    }

    #[test]
    fn task_names_and_defaults() {
        assert_eq!(Task::from_name("regression"), Task::Regression);
        assert_eq!(Task::from_name("classification"), Task::Classification);
        assert_eq!(Task::Regression.default_loss(), Loss::Mse);
        assert_eq!(Task::Classification.headline_metric(), "accuracy");
        assert_eq!(
            serde_json::to_value(Task::Regression).unwrap(),
            serde_json::json!("regression")
        );
    }
}

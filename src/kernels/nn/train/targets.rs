//! Training targets: class labels or regression values, and allocation-free row access to
//! them for the loss.

use ndarray::Array2;

use crate::kernels::nn::loss::SampleTarget;
use crate::kernels::KernelError;

/// Training targets.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// One class index per row, each `< n_classes`.
    Classification {
        /// Class index per row.
        labels: Vec<usize>,
        /// Number of classes.
        n_classes: usize,
    },
    /// `[n, n_outputs]` target values.
    Regression(Array2<f32>),
}

impl Targets {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classification { labels, .. } => labels.len(),
            Targets::Regression(y) => y.nrows(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of classes for classification targets.
    pub fn n_classes(&self) -> Option<usize> {
        match self {
            Targets::Classification { n_classes, .. } => Some(*n_classes),
            Targets::Regression(_) => None,
        }
    }

    pub(super) fn check(
        &self,
        rows: usize,
        n_outputs: usize,
        what: &str,
    ) -> Result<(), KernelError> {
        if self.len() != rows {
            return Err(KernelError::Shape(format!(
                "{what}: {rows} feature rows but {} targets",
                self.len()
            )));
        }
        match self {
            Targets::Classification { labels, n_classes } => {
                if let Some(bad) = labels.iter().find(|&&c| c >= *n_classes) {
                    return Err(KernelError::invalid(
                        "labels",
                        format!("{what}: class {bad} out of range for {n_classes} classes"),
                    ));
                }
            }
            Targets::Regression(y) => {
                if y.ncols() != n_outputs {
                    return Err(KernelError::Shape(format!(
                        "{what}: {} target columns for a model with {n_outputs} outputs",
                        y.ncols()
                    )));
                }
                if y.iter().any(|v| !v.is_finite()) {
                    return Err(KernelError::invalid(
                        "targets",
                        format!("{what}: not finite"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Row access to targets without per-row allocation.
pub(super) enum TargetRows<'a> {
    Classes(&'a [usize]),
    Values(&'a [f32], usize),
}

impl<'a> TargetRows<'a> {
    pub(super) fn new(
        t: &'a Targets,
        storage: &'a Option<Array2<f32>>,
    ) -> Result<Self, KernelError> {
        Ok(match t {
            Targets::Classification { labels, .. } => TargetRows::Classes(labels),
            Targets::Regression(y) => {
                let slice = storage
                    .as_ref()
                    .and_then(|s| s.as_slice())
                    .ok_or_else(|| KernelError::Shape("targets are not contiguous".into()))?;
                TargetRows::Values(slice, y.ncols())
            }
        })
    }

    pub(super) fn row(&self, r: usize) -> SampleTarget<'a> {
        match self {
            TargetRows::Classes(c) => SampleTarget::Class(c.get(r).copied().unwrap_or(usize::MAX)),
            TargetRows::Values(v, cols) => {
                SampleTarget::Values(v.get(r * cols..(r + 1) * cols).unwrap_or(&[]))
            }
        }
    }
}

/// Standard-layout copy of regression targets (None for classification).
pub(super) fn contiguous_values(t: &Targets) -> Option<Array2<f32>> {
    match t {
        Targets::Regression(y) => Some(y.as_standard_layout().into_owned()),
        Targets::Classification { .. } => None,
    }
}

//! Evaluation metrics computed from predictions: classification (accuracy, precision /
//! recall / F1 per class with macro and weighted averages, confusion matrix, log-loss) and
//! regression (MSE, RMSE, MAE, R²). Definitions follow scikit-learn's, including its
//! zero-division convention (a ratio with an empty denominator counts as 0).

use crate::kernels::KernelError;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// Probabilities are clipped to `[LOG_LOSS_EPS, 1 − LOG_LOSS_EPS]` before the logarithm.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Precision, recall, F1 and support of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClassMetrics {
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Number of true samples of the class.
    pub support: u64,
}

/// Everything an evaluate job reports for a classifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// Unweighted mean of per-class precision.
    pub precision_macro: f64,
    /// Unweighted mean of per-class recall.
    pub recall_macro: f64,
    /// Unweighted mean of per-class F1.
    pub f1_macro: f64,
    /// Support-weighted mean of per-class F1.
    pub f1_weighted: f64,
    /// One entry per class index.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<u64>>,
    /// Mean negative log-likelihood of the true class, when probabilities were given.
    pub log_loss: Option<f64>,
}

/// Regression errors averaged uniformly over outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    /// Mean squared error.
    pub mse: f64,
    /// Square root of the MSE (of each output, then averaged).
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination.
    pub r2: f64,
}

fn check_labels(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<(), KernelError> {
    if y_true.len() != y_pred.len() {
        return Err(KernelError::Shape(format!(
            "{} true labels but {} predictions",
            y_true.len(),
            y_pred.len()
        )));
    }
    if n_classes == 0 {
        return Err(KernelError::invalid("n_classes", "must be at least 1"));
    }
    if let Some(bad) = y_true.iter().chain(y_pred).find(|&&c| c >= n_classes) {
        return Err(KernelError::invalid(
            "labels",
            format!("class index {bad} is out of range for {n_classes} classes"),
        ));
    }
    Ok(())
}

/// Fraction of positions where `y_pred == y_true` (0 for empty input).
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64, KernelError> {
    if y_true.len() != y_pred.len() {
        return Err(KernelError::Shape(
            "labels and predictions differ in length".into(),
        ));
    }
    if y_true.is_empty() {
        return Ok(0.0);
    }
    let hits = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(hits as f64 / y_true.len() as f64)
}

/// `confusion[true][predicted]` counts over `n_classes` classes.
pub fn confusion_matrix(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
) -> Result<Vec<Vec<u64>>, KernelError> {
    check_labels(y_true, y_pred, n_classes)?;
    let mut m = vec![vec![0u64; n_classes]; n_classes];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        if let Some(cell) = m.get_mut(t).and_then(|row| row.get_mut(p)) {
            *cell += 1;
        }
    }
    Ok(m)
}

/// Mean `−ln p[true class]` with probabilities clipped to `[1e-15, 1 − 1e-15]`; `proba` is
/// `[n, n_classes]`.
pub fn log_loss(y_true: &[usize], proba: ArrayView2<f32>) -> Result<f64, KernelError> {
    if proba.nrows() != y_true.len() {
        return Err(KernelError::Shape(format!(
            "{} labels but {} probability rows",
            y_true.len(),
            proba.nrows()
        )));
    }
    if y_true.is_empty() {
        return Ok(0.0);
    }
    let mut total = 0.0;
    for (&t, row) in y_true.iter().zip(proba.outer_iter()) {
        let p = row.get(t).copied().ok_or_else(|| {
            KernelError::invalid("labels", format!("class {t} has no probability column"))
        })?;
        total -= (p as f64).clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS).ln();
    }
    Ok(total / y_true.len() as f64)
}

/// Full classification report; `proba` (`[n, n_classes]`) adds the log-loss.
pub fn classification_report(
    y_true: &[usize],
    y_pred: &[usize],
    proba: Option<ArrayView2<f32>>,
    n_classes: usize,
) -> Result<ClassificationReport, KernelError> {
    let confusion = confusion_matrix(y_true, y_pred, n_classes)?;
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    let per_class: Vec<ClassMetrics> = (0..n_classes)
        .map(|c| {
            let tp = confusion[c][c];
            let support: u64 = confusion[c].iter().sum();
            let predicted: u64 = confusion.iter().map(|row| row[c]).sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassMetrics {
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let k = n_classes as f64;
    let total: u64 = per_class.iter().map(|c| c.support).sum();
    let f1_weighted = if total == 0 {
        0.0
    } else {
        per_class
            .iter()
            .map(|c| c.f1 * c.support as f64)
            .sum::<f64>()
            / total as f64
    };
    Ok(ClassificationReport {
        accuracy: accuracy(y_true, y_pred)?,
        precision_macro: per_class.iter().map(|c| c.precision).sum::<f64>() / k,
        recall_macro: per_class.iter().map(|c| c.recall).sum::<f64>() / k,
        f1_macro: per_class.iter().map(|c| c.f1).sum::<f64>() / k,
        f1_weighted,
        per_class,
        confusion,
        log_loss: proba.map(|p| log_loss(y_true, p)).transpose()?,
    })
}

/// Regression report for `[n, outputs]` predictions against targets of the same shape.
/// R² of an output whose targets are constant is 1 when predicted exactly, else 0.
pub fn regression_report(
    y_true: ArrayView2<f32>,
    y_pred: ArrayView2<f32>,
) -> Result<RegressionReport, KernelError> {
    if y_true.dim() != y_pred.dim() {
        return Err(KernelError::Shape(format!(
            "targets are {:?} but predictions are {:?}",
            y_true.dim(),
            y_pred.dim()
        )));
    }
    let (n, outputs) = y_true.dim();
    if n == 0 || outputs == 0 {
        return Err(KernelError::Shape(
            "regression metrics need at least one value".into(),
        ));
    }
    let (mut mse, mut rmse, mut mae, mut r2) = (0.0, 0.0, 0.0, 0.0);
    for (t, p) in y_true.columns().into_iter().zip(y_pred.columns()) {
        let mean = t.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let (mut ss_res, mut ss_tot, mut abs) = (0.0, 0.0, 0.0);
        for (&tv, &pv) in t.iter().zip(p.iter()) {
            let d = tv as f64 - pv as f64;
            ss_res += d * d;
            abs += d.abs();
            ss_tot += (tv as f64 - mean).powi(2);
        }
        let col_mse = ss_res / n as f64;
        mse += col_mse;
        rmse += col_mse.sqrt();
        mae += abs / n as f64;
        r2 += if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else if ss_res == 0.0 {
            1.0
        } else {
            0.0
        };
    }
    let k = outputs as f64;
    Ok(RegressionReport {
        mse: mse / k,
        rmse: rmse / k,
        mae: mae / k,
        r2: r2 / k,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_worked_classification() {
        // true: 0 0 1 1 1 2, pred: 0 1 1 1 0 2
        // confusion rows=true: [1 1 0] [1 2 0] [0 0 1]
        // class 0: P = 1/2, R = 1/2, F1 = 0.5; class 1: P = 2/3, R = 2/3, F1 = 2/3;
        // class 2: P = R = F1 = 1. macro F1 = (0.5 + 0.6667 + 1)/3 = 0.72222;
        // weighted F1 = (2·0.5 + 3·0.6667 + 1·1)/6 = 0.66667; accuracy 4/6.
        let t = [0, 0, 1, 1, 1, 2];
        let p = [0, 1, 1, 1, 0, 2];
        let r = classification_report(&t, &p, None, 3).unwrap();
        assert_eq!(
            r.confusion,
            vec![vec![1, 1, 0], vec![1, 2, 0], vec![0, 0, 1]]
        );
        assert!((r.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((r.per_class[0].f1 - 0.5).abs() < 1e-12);
        assert!((r.per_class[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.per_class[2].support, 1);
        assert!((r.f1_macro - 0.722_222_222_2).abs() < 1e-9);
        assert!((r.f1_weighted - 2.0 / 3.0).abs() < 1e-12);
        assert!(r.log_loss.is_none());
    }

    #[test]
    fn unpredicted_class_counts_zero() {
        // Class 2 is never predicted nor present: precision and recall are 0 by convention.
        let r = classification_report(&[0, 1], &[0, 1], None, 3).unwrap();
        assert_eq!(r.per_class[2].f1, 0.0);
        assert!((r.f1_macro - 2.0 / 3.0).abs() < 1e-12);
        assert!(classification_report(&[0, 3], &[0, 1], None, 3).is_err());
        assert!(classification_report(&[0], &[0, 1], None, 3).is_err());
    }

    #[test]
    fn log_loss_hand_worked_and_clipped() {
        // −(ln 0.5 + ln 0.25)/2 = (0.693147 + 1.386294)/2 = 1.039721
        let proba = array![[0.5f32, 0.5], [0.75, 0.25]];
        let l = log_loss(&[0, 1], proba.view()).unwrap();
        assert!((l - 1.039_720_77).abs() < 1e-7);
        // p = 0 is clipped to 1e-15: −ln 1e-15 = 34.538776
        let l = log_loss(&[1], array![[1.0f32, 0.0]].view()).unwrap();
        assert!((l - 34.538_776).abs() < 1e-5);
    }

    #[test]
    fn hand_worked_regression() {
        // t = [1,2,3], p = [1,2,5]: SSres = 4, SStot = 2, MSE = 4/3, MAE = 2/3, R² = 1 − 2 = −1.
        let t = array![[1.0f32], [2.0], [3.0]];
        let p = array![[1.0f32], [2.0], [5.0]];
        let r = regression_report(t.view(), p.view()).unwrap();
        assert!((r.mse - 4.0 / 3.0).abs() < 1e-12);
        assert!((r.rmse - (4.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((r.mae - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.r2 + 1.0).abs() < 1e-12);
        let perfect = regression_report(t.view(), t.view()).unwrap();
        assert_eq!(perfect.r2, 1.0);
        assert!(regression_report(t.view(), array![[1.0f32, 2.0]].view()).is_err());
    }
}

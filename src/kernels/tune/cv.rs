//! Cross-validation of MLP training runs: the folds of a study, each fold's data standardized
//! with statistics of its own training rows, and the folds trained either independently or
//! in lockstep, with the mean fold score reported after every epoch so a pruner can stop the
//! run.
use ndarray::ArrayView2;
use rayon::prelude::*;

use super::split::{holdout_split, kfold_indices, stratified_holdout, stratified_kfold_indices};
use super::Fold;
use crate::kernels::nn::{select_rows, Mlp, Standardization, Targets, TrainConfig};
use crate::kernels::nn::{TrainObserver, Trainer};
use crate::kernels::KernelError;

/// A training run's validation split: `fraction` of every class (of all rows for regression)
/// held out, seeded.
pub fn holdout_fold(y: &Targets, fraction: f64, seed: u64) -> Fold {
    match y {
        Targets::Classification { labels, n_classes } => {
            stratified_holdout(labels, *n_classes, fraction, seed)
        }
        Targets::Regression(v) => stratified_holdout(&vec![0; v.nrows()], 1, fraction, seed),
    }
}

/// The folds of a study: `folds`-fold CV (stratified for classification) shuffled by `seed`,
/// so every trial sees the same folds, or one holdout split of `holdout` (default 0.2).
pub fn study_folds(
    y: &Targets,
    folds: Option<usize>,
    holdout: Option<f64>,
    seed: u64,
) -> Result<Vec<Fold>, KernelError> {
    let n = y.len();
    let fraction = holdout.unwrap_or(0.2);
    Ok(match (folds, y) {
        (Some(k), Targets::Classification { labels, .. }) => {
            stratified_kfold_indices(labels, k, seed, true)?
        }
        (Some(k), Targets::Regression(_)) => kfold_indices(n, k, seed, true)?,
        (None, Targets::Classification { .. }) => vec![holdout_fold(y, fraction, seed)],
        (None, Targets::Regression(_)) => vec![holdout_split(n, fraction, seed, true)?],
    })
}

/// One fold's rows, ready to train on.
#[derive(Debug, Clone)]
pub struct FoldData {
    pub x_train: ndarray::Array2<f32>,
    pub y_train: Targets,
    pub x_test: ndarray::Array2<f32>,
    pub y_test: Targets,
}

impl FoldData {
    /// The rows of `fold`; with `standardize`, both sides are standardized with the fold's
    /// training statistics, so nothing leaks from the test rows.
    pub fn new(
        x: ArrayView2<f32>,
        y: &Targets,
        fold: &Fold,
        standardize: bool,
    ) -> Result<FoldData, KernelError> {
        let mut x_train = select_rows(x, &fold.train);
        let mut x_test = select_rows(x, &fold.test);
        if standardize {
            let s = Standardization::fit(x_train.view());
            s.apply(&mut x_train);
            s.apply(&mut x_test);
        }
        Ok(FoldData {
            x_train,
            y_train: y.select(&fold.train)?,
            x_test,
            y_test: y.select(&fold.test)?,
        })
    }
}

/// The score of a model on a fold's test rows.
pub type FoldScore<'a> =
    dyn Fn(&Mlp, ArrayView2<f32>, &Targets) -> Result<f64, KernelError> + Sync + 'a;

/// Receives the `(epoch, mean fold score)` series; `true` asks to stop the run.
pub type EpochScores<'a> = dyn FnMut(&[(u32, f64)]) -> bool + 'a;

/// Polled between batches; `true` aborts the run with [`KernelError::Canceled`].
pub type StopCheck<'a> = dyn Fn() -> bool + Sync + 'a;

/// What the folds of one run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CvRun {
    /// Final score of each fold.
    pub values: Vec<f64>,
    /// `(epoch, mean fold score)` after each epoch.
    pub intermediate: Vec<(u32, f64)>,
    /// The report callback stopped the run.
    pub pruned: bool,
}

impl CvRun {
    /// Mean of the fold values.
    pub fn mean(&self) -> f64 {
        self.values.iter().sum::<f64>() / self.values.len().max(1) as f64
    }
}

/// How the folds of a run advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Each fold trains on its own (no per-epoch barrier); the report is called once at the
    /// end with every epoch's mean score and cannot stop the run.
    Independent,
    /// Folds advance one epoch at a time; after each epoch `report` sees the mean scores so
    /// far and returning `true` stops the run (a pruned trial).
    Lockstep,
}

/// Stops training when `stop` says so (cancel, shutdown).
struct StopWhen<'a>(&'a StopCheck<'a>);

impl TrainObserver for StopWhen<'_> {
    fn should_stop(&self) -> bool {
        (self.0)()
    }
}

/// Trains `models[i]` on `data[i]` with `cfg` (one thread per fold), scoring every fold's
/// test rows after every epoch. `report` receives the `(epoch, mean fold score)` series.
pub fn cross_validate(
    models: &mut [Mlp],
    data: &[FoldData],
    cfg: &TrainConfig,
    score: &FoldScore<'_>,
    schedule: Schedule,
    stop: &StopCheck<'_>,
    report: &mut EpochScores<'_>,
) -> Result<CvRun, KernelError> {
    if models.len() != data.len() || data.is_empty() {
        return Err(KernelError::Shape(format!(
            "{} models for {} folds",
            models.len(),
            data.len()
        )));
    }
    match schedule {
        Schedule::Independent => independent(models, data, cfg, score, stop, report),
        Schedule::Lockstep => lockstep(models, data, cfg, score, stop, report),
    }
}

fn independent(
    models: &mut [Mlp],
    data: &[FoldData],
    cfg: &TrainConfig,
    score: &FoldScore<'_>,
    stop: &StopCheck<'_>,
    report: &mut EpochScores<'_>,
) -> Result<CvRun, KernelError> {
    let per_fold: Vec<(Vec<f64>, f64)> = models
        .par_iter_mut()
        .zip(data)
        .map(|(m, d)| {
            let mut t =
                Trainer::new(m, d.x_train.view(), &d.y_train, None, cfg, None)?.single_threaded();
            let mut scores = Vec::with_capacity(cfg.epochs);
            while !t.is_done() {
                t.run_epoch(&mut StopWhen(stop))?;
                scores.push(score(t.model(), d.x_test.view(), &d.y_test)?);
            }
            t.finish();
            // Early stopping may put back earlier weights: score what training returns.
            let last = score(m, d.x_test.view(), &d.y_test)?;
            Ok((scores, last))
        })
        .collect::<Result<_, KernelError>>()?;
    let epochs = per_fold.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
    let intermediate: Vec<(u32, f64)> = (0..epochs)
        .map(|e| {
            // A fold that stopped early keeps its last score.
            let sum: f64 = per_fold
                .iter()
                .map(|(s, _)| s.get(e).or(s.last()).copied().unwrap_or(f64::NAN))
                .sum();
            (e as u32 + 1, sum / per_fold.len() as f64)
        })
        .collect();
    report(&intermediate);
    Ok(CvRun {
        values: per_fold.iter().map(|(_, v)| *v).collect(),
        intermediate,
        pruned: false,
    })
}

fn lockstep(
    models: &mut [Mlp],
    data: &[FoldData],
    cfg: &TrainConfig,
    score: &FoldScore<'_>,
    stop: &StopCheck<'_>,
    report: &mut EpochScores<'_>,
) -> Result<CvRun, KernelError> {
    let mut trainers: Vec<Trainer<'_>> = models
        .iter_mut()
        .zip(data)
        .map(|(m, d)| {
            Trainer::new(m, d.x_train.view(), &d.y_train, None, cfg, None)
                .map(Trainer::single_threaded)
        })
        .collect::<Result<_, _>>()?;
    let mut last: Vec<f64> = vec![f64::NAN; trainers.len()];
    let mut intermediate = Vec::new();
    while trainers.iter().any(|t| !t.is_done()) {
        let scores: Vec<Option<f64>> = trainers
            .par_iter_mut()
            .zip(data)
            .map(|(t, d)| {
                if t.is_done() {
                    return Ok(None);
                }
                t.run_epoch(&mut StopWhen(stop))?;
                Ok(Some(score(t.model(), d.x_test.view(), &d.y_test)?))
            })
            .collect::<Result<_, KernelError>>()?;
        for (slot, s) in last.iter_mut().zip(scores) {
            if let Some(v) = s {
                *slot = v;
            }
        }
        let epoch = trainers.iter().map(Trainer::epochs_run).max().unwrap_or(0) as u32;
        intermediate.push((epoch, last.iter().sum::<f64>() / last.len() as f64));
        let more = !trainers.iter().all(Trainer::is_done);
        if report(&intermediate) && more {
            return Ok(CvRun {
                values: last,
                intermediate,
                pruned: true,
            });
        }
    }
    for t in trainers {
        t.finish();
    }
    // Early stopping may put back earlier weights: score what training returns.
    let values = models
        .iter()
        .zip(data)
        .map(|(m, d)| score(m, d.x_test.view(), &d.y_test))
        .collect::<Result<_, _>>()?;
    Ok(CvRun {
        values,
        intermediate,
        pruned: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::nn::{quality, Activation, Init, Loss, OptimizerConfig};
    use ndarray::Array2;

    /// Two separable Gaussian blobs in 2-D, `n` rows per class.
    fn blobs(n: usize) -> (Array2<f32>, Targets) {
        let x = Array2::from_shape_fn((2 * n, 2), |(i, j)| {
            let centre = if i < n { -2.0 } else { 2.0 };
            // A deterministic spread without an RNG: a small wave per row and column.
            centre + ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.5
        });
        let labels = (0..2 * n).map(|i| usize::from(i >= n)).collect();
        (
            x,
            Targets::Classification {
                labels,
                n_classes: 2,
            },
        )
    }

    /// `k` stratified folds of `blobs(n)`.
    fn blob_folds(n: usize, k: usize, standardize: bool) -> Vec<FoldData> {
        let (x, y) = blobs(n);
        study_folds(&y, Some(k), None, 0)
            .unwrap()
            .iter()
            .map(|f| FoldData::new(x.view(), &y, f, standardize).unwrap())
            .collect()
    }

    fn accuracy(m: &Mlp, x: ArrayView2<f32>, y: &Targets) -> Result<f64, KernelError> {
        Ok(quality(m, x, y, false)?.headline().1)
    }

    fn models(k: usize) -> Vec<Mlp> {
        (0..k)
            .map(|_| {
                Mlp::new_initialized(
                    &[2, 8, 2],
                    Activation::Relu,
                    Activation::Identity,
                    Init::HeUniform,
                    0,
                )
                .unwrap()
            })
            .collect()
    }

    fn config(epochs: usize) -> TrainConfig {
        let mut cfg = TrainConfig::new(Loss::CrossEntropy, OptimizerConfig::adam(0.05), epochs);
        cfg.batch_size = 8;
        cfg
    }

    #[test]
    fn folds_cover_every_row_once_as_test() {
        let (_, y) = blobs(20);
        let folds = study_folds(&y, Some(4), None, 3).unwrap();
        let mut tested: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
        tested.sort_unstable();
        assert_eq!(tested, (0..40).collect::<Vec<_>>());
        let holdout = study_folds(&y, None, Some(0.25), 3).unwrap();
        assert_eq!(holdout.len(), 1);
        assert_eq!(holdout[0].test.len(), 10, "5 of each class");
    }

    #[test]
    fn fold_data_standardizes_with_training_rows_only() {
        let x = Array2::from_shape_vec((4, 1), vec![0.0, 2.0, 100.0, 4.0]).unwrap();
        let y = Targets::Regression(Array2::zeros((4, 1)));
        let fold = Fold {
            train: vec![0, 1],
            test: vec![2, 3],
        };
        let d = FoldData::new(x.view(), &y, &fold, true).unwrap();
        // Training rows 0 and 1: mean 1, std 1 → the test rows are (100−1)/1 and (4−1)/1.
        assert_eq!(d.x_train.column(0).to_vec(), vec![-1.0, 1.0]);
        assert_eq!(d.x_test.column(0).to_vec(), vec![99.0, 3.0]);
    }

    #[test]
    fn both_schedules_learn_separable_blobs_and_agree() {
        let data = blob_folds(30, 3, true);
        let cfg = config(5);
        let mut runs = Vec::new();
        for schedule in [Schedule::Independent, Schedule::Lockstep] {
            let mut reports = 0;
            let mut ms = models(3);
            let run = cross_validate(
                &mut ms,
                &data,
                &cfg,
                &accuracy,
                schedule,
                &|| false,
                &mut |_| {
                    reports += 1;
                    false
                },
            )
            .unwrap();
            assert!(run.mean() > 0.95, "{schedule:?}: {run:?}");
            assert_eq!(run.intermediate.len(), 5);
            assert!(!run.pruned);
            assert_eq!(reports, if schedule == Schedule::Lockstep { 5 } else { 1 });
            runs.push(run);
        }
        // Same seeds, same data: training is deterministic whichever way folds advance.
        assert_eq!(runs[0], runs[1]);
    }

    #[test]
    fn lockstep_stops_when_the_report_says_so_and_honours_stop() {
        let data = blob_folds(10, 2, false);
        let cfg = config(10);
        let mut ms = models(2);
        let run = cross_validate(
            &mut ms,
            &data,
            &cfg,
            &accuracy,
            Schedule::Lockstep,
            &|| false,
            &mut |r| r.len() >= 2,
        )
        .unwrap();
        assert!(run.pruned);
        assert_eq!(run.intermediate.len(), 2);
        let mut ms = models(2);
        let err = cross_validate(
            &mut ms,
            &data,
            &cfg,
            &accuracy,
            Schedule::Lockstep,
            &|| true,
            &mut |_| false,
        )
        .unwrap_err();
        assert!(matches!(err, KernelError::Canceled), "{err:?}");
        assert!(cross_validate(
            &mut models(1),
            &data,
            &cfg,
            &accuracy,
            Schedule::Lockstep,
            &|| false,
            &mut |_| false
        )
        .is_err());
    }
}

//! The trial side of a `tune` job: one configuration drawn from the study's history,
//! cross-validated on the compute pool with its mean fold score reported after every epoch
//! (stored as it comes, and judged by the study's pruner), then recorded in `trials`.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

use super::{record_of, top_up, trial_state_str, TrialJobSpec};
use crate::domain::specs::tune::TuneMetric;
use crate::domain::specs::{TrainSpec, TuneSpec};
use crate::jobs::exec::{JobOutput, KindExecutor};
use crate::jobs::fit::{new_model, train_config};
use crate::jobs::inputs::{load_dataset_cached, targets};
use crate::jobs::{JobContext, JobControl, JobError, StopReason};
use crate::kernels::nn::{quality, Mlp};
use crate::kernels::tune::{
    cross_validate, sample, should_prune, study_folds, CvRun, Direction, FoldData, Pruner,
    Schedule, TrialRecord, TrialState,
};
use crate::kernels::KernelError;
use crate::store::{DatasetRow, DynStore, TrialRow};

/// Runs `trial` jobs (one configuration, cross-validated).
pub struct TrialExecutor;

/// The result of a `trial` job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrialResult {
    pub study_job_id: Uuid,
    pub number: usize,
    pub state: String,
    /// Mean of the fold values.
    pub value: f64,
    pub fold_values: Vec<f64>,
    pub epochs_per_fold: usize,
    pub params: BTreeMap<String, Value>,
    pub worker_id: Option<String>,
    pub seconds: f64,
}

/// What a trial works from.
struct TrialSetup {
    study: TuneSpec,
    dataset: (DatasetRow, std::path::PathBuf),
    metric: TuneMetric,
    direction: Direction,
    pruner: Pruner,
    params: BTreeMap<String, Value>,
    /// The other trials of the study when this one started.
    others: Vec<TrialRecord>,
}

#[async_trait]
impl KindExecutor for TrialExecutor {
    type Spec = TrialJobSpec;
    type Result = TrialResult;

    async fn execute(&self, ctx: &JobContext, spec: TrialJobSpec) -> Result<JobOutput, JobError> {
        let setup = set_up(ctx, &spec).await?;
        let started_at = Utc::now();
        let mut row = TrialRow {
            job_id: spec.study_job_id,
            number: spec.number as i32,
            params: json!(setup.params),
            state: "running".into(),
            value: None,
            intermediate: json!([]),
            error: None,
            started_at: Some(started_at),
            finished_at: None,
        };
        ctx.store.upsert_trial(&row).await?;
        let train = match setup.study.trial_spec(&setup.params) {
            Ok(t) => t,
            Err(e) => {
                return fail_trial(ctx, &mut row, format!("the sampled train spec: {e}")).await;
            }
        };
        let (outcome, mut row) = run_folds(ctx, &spec, &setup, train, row).await;
        match outcome {
            Ok(cv) => finish(ctx, &spec, &setup, &mut row, cv, started_at).await,
            Err(JobError::Invalid(m)) => fail_trial(ctx, &mut row, m).await,
            Err(JobError::Canceled)
                if ctx.control.reason() == Some(StopReason::CancelRequested) =>
            {
                row.state = "failed".into();
                row.error = Some("canceled".into());
                row.finished_at = Some(Utc::now());
                ctx.store.upsert_trial(&row).await?;
                Err(JobError::Canceled)
            }
            Err(other) => Err(other),
        }
    }
}

/// The study, its dataset and settings, and this trial's parameters: kept from an earlier
/// attempt, else drawn from the study's history now.
async fn set_up(ctx: &JobContext, spec: &TrialJobSpec) -> Result<TrialSetup, JobError> {
    let study_row = ctx
        .store
        .get_job(ctx.job.tenant_id, spec.study_job_id)
        .await?
        .ok_or_else(|| JobError::Invalid("the study job no longer exists".into()))?;
    if study_row.state.is_terminal() || study_row.cancel_requested_at.is_some() {
        return Err(JobError::Canceled);
    }
    let study: TuneSpec = crate::domain::specs::parse_typed(&study_row.spec)
        .map_err(|e| JobError::Invalid(e.to_string()))?;
    let dataset = ctx.dataset(study.dataset_id).await?;
    let metric = study.metric_for(dataset.0.task == "classification");
    let direction = study.direction_for(metric);
    let pruner = study.pruner().map_err(JobError::Invalid)?;
    let sampler = study.sampler().map_err(JobError::Invalid)?;
    let rows = ctx.store.list_trials(spec.study_job_id).await?;
    let own = rows.iter().find(|t| {
        t.number as usize == spec.number && t.params.as_object().is_some_and(|o| !o.is_empty())
    });
    let params: BTreeMap<String, Value> = match own {
        Some(t) => serde_json::from_value(t.params.clone()).unwrap_or_default(),
        None => {
            let history: Vec<TrialRecord> = rows.iter().filter_map(record_of).collect();
            sample(&sampler, &study.space(), &history, spec.number, direction)
                .map_err(|e| JobError::Invalid(format!("sampling trial {}: {e}", spec.number)))?
        }
    };
    let others = rows
        .iter()
        .filter(|t| t.number as usize != spec.number)
        .filter_map(record_of)
        .collect();
    Ok(TrialSetup {
        study,
        dataset,
        metric,
        direction,
        pruner,
        params,
        others,
    })
}

/// Cross-validates `train` on the compute pool. Intermediate values go to the store from
/// this side; the pruner decides on the compute side from the trials known when the trial
/// started, refreshed after every report (exact when trials run one at a time, a report
/// behind otherwise). Returns the outcome and the trial row as last stored.
async fn run_folds(
    ctx: &JobContext,
    spec: &TrialJobSpec,
    setup: &TrialSetup,
    train: TrainSpec,
    row: TrialRow,
) -> (Result<CvRun, JobError>, TrialRow) {
    let others = Arc::new(std::sync::Mutex::new(setup.others.clone()));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let recorder = tokio::spawn(record_reports(
        ctx.store.clone(),
        row.clone(),
        rx,
        (setup.pruner != Pruner::None).then(|| others.clone()),
    ));
    let judge = Judge {
        tx,
        others,
        me: TrialRecord {
            number: spec.number,
            params: setup.params.clone(),
            state: TrialState::Running,
            value: None,
            intermediate: Vec::new(),
        },
        pruner: setup.pruner.clone(),
        direction: setup.direction,
    };
    let study = &setup.study;
    let folds = (study.folds(), study.holdout_fraction, study.seed);
    let (dataset, metric) = (setup.dataset.clone(), setup.metric);
    let control = ctx.control.clone();
    // A cancel of the study reaches its trials wherever they run.
    let watcher = tokio::spawn(watch_study(
        ctx.store.clone(),
        ctx.job.tenant_id,
        spec.study_job_id,
        ctx.control.clone(),
    ));
    let outcome = ctx
        .compute
        .run(move || cross_validate_spec(&train, &dataset, folds, metric, &control, judge))
        .await
        .and_then(|r| r);
    watcher.abort();
    // The judge (and its sender) is gone: the recorder stores what is left and ends, so no
    // late report overwrites the final row.
    let row = recorder.await.unwrap_or(row);
    (outcome, row)
}

/// One fold per split of the study, a fresh model each, trained with `train`'s settings and
/// scored with `metric`; lockstep when a pruner may stop the trial after an epoch.
fn cross_validate_spec(
    train: &TrainSpec,
    (row, path): &(DatasetRow, std::path::PathBuf),
    (folds, holdout, seed): (Option<usize>, Option<f64>, u64),
    metric: TuneMetric,
    control: &JobControl,
    judge: Judge,
) -> Result<CvRun, JobError> {
    let ds = load_dataset_cached(row, path)?;
    let y = targets(&ds, None)?;
    let data: Vec<FoldData> = study_folds(&y, folds, holdout, seed)?
        .iter()
        .map(|f| FoldData::new(ds.x.view(), &y, f, train.standardize))
        .collect::<Result<_, _>>()?;
    let cfg = train_config(train, train.loss.unwrap_or(ds.task.default_loss()));
    let mut models: Vec<Mlp> = data
        .iter()
        .map(|_| new_model(train, ds.n_features(), y.n_outputs()))
        .collect::<Result<_, _>>()?;
    let score = |m: &Mlp, x: ndarray::ArrayView2<f32>, y: &crate::kernels::nn::Targets| {
        let q = quality(m, x, y, metric == TuneMetric::LogLoss)?;
        metric
            .value_of(&q)
            .map_err(|e| KernelError::invalid("metric", e))
    };
    let schedule = if judge.pruner == Pruner::None {
        Schedule::Independent
    } else {
        Schedule::Lockstep
    };
    let run = cross_validate(
        &mut models,
        &data,
        &cfg,
        &score,
        schedule,
        &|| control.should_stop(),
        &mut |intermediate| judge.report(intermediate),
    )?;
    if !run.mean().is_finite() {
        return Err(JobError::Invalid(format!(
            "the trial's {} is not finite",
            metric.as_str()
        )));
    }
    Ok(run)
}

/// Records a finished trial, tops the study's queue up and builds the job result.
async fn finish(
    ctx: &JobContext,
    spec: &TrialJobSpec,
    setup: &TrialSetup,
    row: &mut TrialRow,
    cv: CvRun,
    started_at: DateTime<Utc>,
) -> Result<JobOutput, JobError> {
    let value = cv.mean();
    row.state = trial_state_str(if cv.pruned {
        TrialState::Pruned
    } else {
        TrialState::Complete
    })
    .into();
    row.value = Some(value);
    row.intermediate = json!(cv.intermediate);
    row.finished_at = Some(Utc::now());
    ctx.store.upsert_trial(row).await?;
    let children = ctx.store.list_child_jobs(spec.study_job_id).await?;
    top_up(
        ctx,
        spec.study_job_id,
        &setup.study,
        &children,
        Some(ctx.job.id),
    )
    .await?;
    JobOutput::of(&TrialResult {
        study_job_id: spec.study_job_id,
        number: spec.number,
        state: row.state.clone(),
        value,
        fold_values: cv.values,
        epochs_per_fold: cv.intermediate.len(),
        params: setup.params.clone(),
        worker_id: ctx.job.locked_by.clone(),
        seconds: (Utc::now() - started_at).num_milliseconds() as f64 / 1000.0,
    })
}

/// Stops a trial once its study is canceled or has ended.
async fn watch_study(store: DynStore, tenant: Uuid, study: Uuid, control: Arc<JobControl>) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        match store.get_job(tenant, study).await {
            Ok(Some(j)) if j.cancel_requested_at.is_none() && !j.state.is_terminal() => {}
            Ok(_) => {
                control.stop(StopReason::CancelRequested);
                return;
            }
            Err(e) => tracing::warn!(error = %e, "checking the study's state failed"),
        }
    }
}

async fn fail_trial(
    ctx: &JobContext,
    row: &mut TrialRow,
    message: String,
) -> Result<JobOutput, JobError> {
    row.state = "failed".into();
    row.error = Some(message.clone());
    row.finished_at = Some(Utc::now());
    ctx.store.upsert_trial(row).await?;
    Err(JobError::Invalid(message))
}

/// Hands a trial's intermediate values to the recorder and asks the pruner after every
/// epoch, without waiting on the store (it runs on the compute pool).
struct Judge {
    tx: tokio::sync::mpsc::UnboundedSender<Vec<(u32, f64)>>,
    others: Arc<std::sync::Mutex<Vec<TrialRecord>>>,
    me: TrialRecord,
    pruner: Pruner,
    direction: Direction,
}

impl Judge {
    /// Record the reports so far and decide whether the trial stops here.
    fn report(&self, intermediate: &[(u32, f64)]) -> bool {
        let _ = self.tx.send(intermediate.to_vec());
        if self.pruner == Pruner::None {
            return false;
        }
        let me = TrialRecord {
            intermediate: intermediate.to_vec(),
            ..self.me.clone()
        };
        let Ok(others) = self.others.lock().map(|o| o.clone()) else {
            return false;
        };
        should_prune(&self.pruner, self.direction, &me, &others)
    }
}

/// Stores each report of a running trial (and refreshes the other trials for the pruner);
/// returns the row as last stored once the judge is dropped.
async fn record_reports(
    store: DynStore,
    mut row: TrialRow,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Vec<(u32, f64)>>,
    others: Option<Arc<std::sync::Mutex<Vec<TrialRecord>>>>,
) -> TrialRow {
    while let Some(mut latest) = rx.recv().await {
        // Only the newest report matters when several queued up.
        while let Ok(newer) = rx.try_recv() {
            latest = newer;
        }
        row.intermediate = json!(latest);
        if let Err(e) = store.upsert_trial(&row).await {
            tracing::warn!(error = %e, "recording a trial's intermediate value failed");
        }
        if let Some(others) = &others {
            if let Ok(rows) = store.list_trials(row.job_id).await {
                let fresh: Vec<TrialRecord> = rows
                    .iter()
                    .filter(|t| t.number != row.number)
                    .filter_map(record_of)
                    .collect();
                if let Ok(mut o) = others.lock() {
                    *o = fresh;
                }
            }
        }
    }
    row
}

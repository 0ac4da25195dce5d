//! The study side of a `tune` job: keeps `parallelism` trials queued, runs queued ones in its
//! own slot while it waits, records the study's series, and when every trial has ended picks
//! the best, refits it on all rows and tests the refit.
use async_trait::async_trait;
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;
use uuid::Uuid;

use super::{is_finished_trial, record_of, top_up, TrialJobSpec};
use crate::domain::specs::TuneSpec;
use crate::domain::{JobState, ValidationErrors};
use crate::jobs::epochs::compute_with_metrics;
use crate::jobs::exec::{JobOutput, KindExecutor, OutputFile};
use crate::jobs::fit::{fit, FitInputs, FitResult};
use crate::jobs::inputs::{load_dataset, load_model_file, targets};
use crate::jobs::measure::{measure, ModelEvaluation};
use crate::jobs::{admission, JobContext, JobError, StopReason};
use crate::kernels::tune::{Direction, Pruner, Sampler, TrialRecord, TrialState};
use crate::store::{DatasetRow, DynStore, JobRow, MetricPoint, StoreError, TrialRow};

/// Runs `tune` jobs (the study).
pub struct StudyExecutor;

/// The result of a `tune` job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StudyResult {
    pub metric: &'static str,
    pub direction: Direction,
    pub best_value: Option<f64>,
    pub best_params: BTreeMap<String, Value>,
    pub best_trial: usize,
    pub n_trials: usize,
    pub trials_complete: usize,
    pub trials_pruned: usize,
    pub trials_failed: usize,
    pub cv_folds: Option<usize>,
    pub holdout_fraction: Option<f64>,
    pub sampler: Option<Sampler>,
    pub pruner: Option<Pruner>,
    /// Epochs the trials trained (per fold), pruned ones stopping early.
    pub epochs_trained: usize,
    /// Epochs the trials would have trained without pruning (per fold).
    pub epochs_budget: usize,
    /// The train spec of the best trial (what the refit trained), `null` without one.
    #[schema(value_type = Option<crate::domain::specs::TrainSpec>)]
    pub best_train_spec: Value,
    pub search_seconds: f64,
    /// The best configuration trained on every row (the job's output model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refit: Option<FitResult>,
    /// The refit measured on `eval_dataset_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<ModelEvaluation>,
    /// Search and refit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

#[async_trait]
impl KindExecutor for StudyExecutor {
    type Spec = TuneSpec;
    type Result = StudyResult;

    async fn admit(
        &self,
        store: &DynStore,
        tenant_id: Uuid,
        spec: &TuneSpec,
    ) -> Result<ValidationErrors, StoreError> {
        admission::check_tune(store, tenant_id, spec).await
    }

    async fn execute(&self, ctx: &JobContext, spec: TuneSpec) -> Result<JobOutput, JobError> {
        let started = Instant::now();
        let dataset = ctx.dataset(spec.dataset_id).await?;
        let classification = dataset.0.task == "classification";
        let metric = spec.metric_for(classification);
        let direction = spec.direction_for(metric);
        run_trials(ctx, &spec, direction).await?;

        let trials = ctx.store.list_trials(ctx.job.id).await?;
        record_study_metrics(ctx, &trials, direction).await;
        let mut result = summarize(&spec, &trials, metric.as_str(), direction)?;
        result.search_seconds = started.elapsed().as_secs_f64();
        let best = format!(
            "{} trials finished, best {} {:.4} (trial {})",
            trials.len(),
            metric.as_str(),
            result.best_value.unwrap_or(f64::NAN),
            result.best_trial
        );
        if !spec.refit {
            ctx.progress(1.0, best);
            return JobOutput::of(&result);
        }
        let n_trials = spec.trial_count() as f64;
        ctx.progress(
            n_trials / (n_trials + 1.0),
            "refitting the best configuration",
        );
        let output = refit(ctx, &spec, &mut result, dataset).await?;
        ctx.progress(1.0, format!("{best}; refit done"));
        result.seconds = Some(started.elapsed().as_secs_f64());
        JobOutput::with_model(&result, output)
    }
}

/// Keeps trials queued and runs them until every one has ended (or the study is stopped).
async fn run_trials(
    ctx: &JobContext,
    spec: &TuneSpec,
    direction: Direction,
) -> Result<(), JobError> {
    let study = ctx.job.id;
    let n_trials = spec.trial_count();
    let mut recorded_finished = usize::MAX;
    loop {
        if ctx.control.should_stop() {
            if ctx.control.reason() == Some(StopReason::CancelRequested) {
                cancel_children(&ctx.store, ctx.job.tenant_id, study).await;
            }
            return Err(JobError::Canceled);
        }
        let children = ctx.store.list_child_jobs(study).await?;
        let mut trials = ctx.store.list_trials(study).await?;
        if reconcile(&ctx.store, study, &children, &mut trials).await? {
            continue;
        }
        let (created, queued_any) = top_up(ctx, study, spec, &children, None).await?;
        let finished = trials.iter().filter(|t| is_finished_trial(t)).count();
        if finished != recorded_finished {
            record_study_metrics(ctx, &trials, direction).await;
            recorded_finished = finished;
            ctx.progress(
                finished as f64 / (n_trials as f64 + 1.0),
                format!("{finished}/{n_trials} trials finished"),
            );
        }
        let all_ended = created >= n_trials
            && !children.is_empty()
            && children.iter().all(|c| c.state.is_terminal())
            && children.len() >= n_trials;
        if all_ended && !queued_any {
            return Ok(());
        }
        // Run a queued trial in this slot, or wait for the ones other workers run.
        let ran = match &ctx.children {
            Some(c) => c.run_next(study).await?,
            None => false,
        };
        if !ran {
            let wait = ctx
                .children
                .as_ref()
                .map_or(std::time::Duration::from_millis(50), |c| c.poll_interval());
            tokio::time::sleep(wait).await;
        }
    }
}

/// The study's result from its ended trials (an error when none completed).
fn summarize(
    spec: &TuneSpec,
    trials: &[TrialRow],
    metric: &'static str,
    direction: Direction,
) -> Result<StudyResult, JobError> {
    let records: Vec<TrialRecord> = trials.iter().filter_map(record_of).collect();
    let count = |s: TrialState| records.iter().filter(|r| r.state == s).count();
    let Some(best) = best_trial(&records, direction) else {
        let first_error = trials
            .iter()
            .find_map(|t| t.error.clone())
            .unwrap_or_else(|| "no trial completed".into());
        return Err(JobError::Invalid(format!(
            "all {} trials failed or were pruned; first error: {first_error}",
            trials.len()
        )));
    };
    let best_spec = spec
        .trial_spec(&best.params)
        .map_err(|e| JobError::Invalid(format!("the best trial's spec: {e}")))?;
    Ok(StudyResult {
        metric,
        direction,
        best_value: best.value,
        best_params: best.params.clone(),
        best_trial: best.number,
        n_trials: trials.len(),
        trials_complete: count(TrialState::Complete),
        trials_pruned: count(TrialState::Pruned),
        trials_failed: count(TrialState::Failed),
        cv_folds: spec.folds(),
        holdout_fraction: spec.holdout_fraction,
        sampler: spec.sampler().ok(),
        pruner: spec.pruner().ok(),
        epochs_trained: epochs_trained(trials),
        epochs_budget: epochs_budget(spec, &records),
        best_train_spec: crate::domain::json::to_value(&best_spec).unwrap_or(Value::Null),
        search_seconds: 0.0,
        refit: None,
        test: None,
        seconds: None,
    })
}

/// Trains the best configuration on every row (`refit_*` series) and measures it on the
/// eval dataset; fills `refit` and `test` and returns the model file.
async fn refit(
    ctx: &JobContext,
    spec: &TuneSpec,
    result: &mut StudyResult,
    dataset: (DatasetRow, std::path::PathBuf),
) -> Result<OutputFile, JobError> {
    let name = spec
        .output_name
        .clone()
        .unwrap_or_else(|| format!("{}-tuned-mlp", dataset.0.name));
    let best_spec = spec
        .trial_spec(&result.best_params)
        .map_err(|e| JobError::Invalid(format!("the best trial's spec: {e}")))?;
    let eval = ctx.optional_dataset(spec.eval_dataset_id).await?;
    let inputs = FitInputs {
        spec: best_spec,
        dataset,
        validation: None,
        base: None,
        output: ctx.scratch_path(".safetensors"),
        job_id: ctx.job.id.to_string(),
    };
    let control = ctx.control.clone();
    let (fitted, test) = compute_with_metrics(ctx, move |tx| {
        let fitted = fit(inputs, control, tx, "refit_")?;
        let test = match eval {
            Some((row, p)) => {
                let (mlp, arch) = load_model_file(&fitted.path)?;
                let ds = load_dataset(&row, &p)?;
                let y = targets(&ds, arch.classes.as_deref())?;
                Some(measure(&mlp, &arch, ds.x.view(), &y, None)?)
            }
            None => None,
        };
        Ok((fitted, test))
    })
    .await?;
    let output = OutputFile {
        path: fitted.path,
        name,
        format: "safetensors",
        n_params: fitted.result.n_params as u64,
        architecture: crate::domain::json::to_value(&fitted.arch).ok(),
        written: Vec::new(),
    };
    result.refit = Some(fitted.result);
    result.test = test;
    Ok(output)
}

/// Epochs trained by the trials that did not fail (per fold), from their intermediate values.
fn epochs_trained(trials: &[TrialRow]) -> usize {
    trials
        .iter()
        .filter(|t| t.state != "failed")
        .map(|t| t.intermediate.as_array().map_or(0, Vec::len))
        .sum()
}

/// Epochs the trials would have trained without pruning (per fold).
fn epochs_budget(spec: &TuneSpec, records: &[TrialRecord]) -> usize {
    records
        .iter()
        .filter(|r| r.state != TrialState::Failed)
        .filter_map(|r| spec.trial_spec(&r.params).ok())
        .map(|t| t.epochs)
        .sum()
}

/// The best complete trial (lowest number wins a tie).
fn best_trial(records: &[TrialRecord], direction: Direction) -> Option<&TrialRecord> {
    records
        .iter()
        .filter(|r| r.state == TrialState::Complete && r.value.is_some_and(f64::is_finite))
        .min_by(|a, b| {
            let (la, lb) = (
                direction.loss(a.value.unwrap_or(f64::NAN)),
                direction.loss(b.value.unwrap_or(f64::NAN)),
            );
            la.total_cmp(&lb).then(a.number.cmp(&b.number))
        })
}

/// Trials whose job ended without the trial recording an end (a crash past its last retry,
/// a cancel) are recorded as failed. True when something changed.
async fn reconcile(
    store: &DynStore,
    study: Uuid,
    children: &[JobRow],
    trials: &mut [TrialRow],
) -> Result<bool, JobError> {
    let mut changed = false;
    for child in children {
        if !matches!(child.state, JobState::Failed | JobState::Canceled) {
            continue;
        }
        let Ok(spec) = serde_json::from_value::<TrialJobSpec>(child.spec.clone()) else {
            continue;
        };
        let existing = trials.iter().find(|t| t.number as usize == spec.number);
        if existing.is_some_and(is_finished_trial) {
            continue;
        }
        let message = child
            .errors
            .as_array()
            .and_then(|e| e.last())
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("the trial's job ended {}", child.state));
        let row = TrialRow {
            job_id: study,
            number: spec.number as i32,
            params: existing.map_or(json!({}), |t| t.params.clone()),
            state: "failed".into(),
            value: None,
            intermediate: existing.map_or(json!([]), |t| t.intermediate.clone()),
            error: Some(message),
            started_at: existing.and_then(|t| t.started_at).or(child.started_at),
            finished_at: child.finished_at.or(Some(Utc::now())),
        };
        store.upsert_trial(&row).await?;
        changed = true;
    }
    Ok(changed)
}

/// Ask every unfinished trial job to stop (queued ones never run).
async fn cancel_children(store: &DynStore, tenant: Uuid, study: Uuid) {
    let Ok(children) = store.list_child_jobs(study).await else {
        return;
    };
    for c in children.iter().filter(|c| !c.state.is_terminal()) {
        if let Err(e) = store.request_cancel(tenant, c.id).await {
            tracing::warn!(error = %e, trial_job = %c.id, "canceling a trial failed");
        }
    }
}

/// `trial_value` and `best_value` (best so far, in trial-number order) series.
async fn record_study_metrics(ctx: &JobContext, trials: &[TrialRow], direction: Direction) {
    let mut points = Vec::new();
    let mut best: Option<f64> = None;
    for t in trials.iter().filter(|t| t.state == "complete") {
        let Some(v) = t.value.filter(|v| v.is_finite()) else {
            continue;
        };
        points.push(MetricPoint {
            name: "trial_value".into(),
            step: i64::from(t.number),
            value: v,
        });
        if best.is_none_or(|b| direction.loss(v) < direction.loss(b)) {
            best = Some(v);
        }
        if let Some(b) = best {
            points.push(MetricPoint {
                name: "best_value".into(),
                step: i64::from(t.number),
                value: b,
            });
        }
    }
    if let Err(e) = ctx.record_metrics(&points).await {
        tracing::warn!(error = %e, "recording study metrics failed");
    }
}

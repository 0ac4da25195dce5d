//! `tune`: a hyper-parameter study. The study job queues its trials as child jobs of kind
//! `trial` (at most `parallelism` at a time) and runs queued ones itself while it waits, so
//! any worker on the same database can take trials and a single slot still finishes the
//! study. A trial samples its parameters from the study's history when it starts
//! (`kernels::tune::sample`), cross-validates the resulting train spec with its folds in
//! lockstep, reports the mean fold score after every epoch (the pruner's intermediate values)
//! and records itself in the `trials` table. When every trial has ended, the study refits the
//! best configuration on all rows (the job's output model) and tests it on `eval_dataset_id`.
use async_trait::async_trait;
use chrono::Utc;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use super::data::{column_stats, load_dataset, load_dataset_cached, standardize, targets};
use super::evaluate::evaluate_model;
use super::train::{
    default_loss, fresh_model, record_epochs, take_rows, take_targets, train_blocking,
    train_config, TrainInputs,
};
use super::{Executor, JobOutput};
use crate::domain::specs::tune::TuneMetric;
use crate::domain::specs::{parse_typed, TrainSpec, TuneSpec};
use crate::domain::JobState;
use crate::formats::dataset::Task;
use crate::formats::mlp::load_mlp;
use crate::jobs::{JobContext, JobControl, JobError, StopReason};
use crate::kernels::nn::{self, metrics, Mlp, Targets, TrainObserver, Trainer};
use crate::kernels::tune::{
    holdout_split, kfold_indices, sample, should_prune, stratified_kfold_indices, Direction, Fold,
    Pruner, TrialRecord, TrialState,
};
use crate::store::{DynStore, JobRow, MetricPoint, NewJob, TrialRow};

/// Kind name of a study's child jobs (not submittable over the API).
pub const TRIAL_KIND: &str = "trial";

/// Spec of a `trial` child job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrialJobSpec {
    /// The tune job this trial belongs to.
    study_job_id: Uuid,
    /// Trial number within the study (0-based).
    number: usize,
}

impl crate::domain::specs::Validate for TrialJobSpec {
    fn validate(&self) -> crate::domain::ValidationErrors {
        crate::domain::ValidationErrors::new()
    }
}

/// Runs `tune` jobs (the study).
pub struct TuneExecutor;

/// Runs `trial` jobs (one configuration, cross-validated).
pub struct TrialExecutor;

fn study_spec(job: &JobRow) -> Result<TuneSpec, JobError> {
    parse_typed::<TuneSpec>(&job.spec).map_err(|e| JobError::Invalid(e.to_string()))
}

fn trial_state_str(s: TrialState) -> &'static str {
    match s {
        TrialState::Running => "running",
        TrialState::Complete => "complete",
        TrialState::Pruned => "pruned",
        TrialState::Failed => "failed",
    }
}

/// A stored trial as samplers and pruners see it (None for a row that does not parse).
fn record_of(row: &TrialRow) -> Option<TrialRecord> {
    let state = match row.state.as_str() {
        "running" => TrialState::Running,
        "complete" => TrialState::Complete,
        "pruned" => TrialState::Pruned,
        "failed" => TrialState::Failed,
        _ => return None,
    };
    Some(TrialRecord {
        number: usize::try_from(row.number).ok()?,
        params: serde_json::from_value(row.params.clone()).unwrap_or_default(),
        state,
        value: row.value,
        intermediate: serde_json::from_value(row.intermediate.clone()).unwrap_or_default(),
    })
}

fn is_finished_trial(row: &TrialRow) -> bool {
    matches!(row.state.as_str(), "complete" | "pruned" | "failed")
}

#[async_trait]
impl Executor for TuneExecutor {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let started = Instant::now();
        let spec = study_spec(&ctx.job)?;
        let n_trials = spec.trial_count();
        let study = ctx.job.id;
        let (ds_row, ds_path) = ctx.dataset(spec.dataset_id).await?;
        let classification = ds_row.task == "classification";
        let metric = spec.metric_for(classification);
        let direction = spec.direction_for(metric);
        let mut recorded_best = usize::MAX;

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
            let (created, queued_any) = top_up(ctx, study, &spec, &children, None).await?;
            let finished = trials.iter().filter(|t| is_finished_trial(t)).count();
            if finished != recorded_best {
                record_study_metrics(ctx, &trials, direction).await;
                recorded_best = finished;
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
                break;
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

        let trials = ctx.store.list_trials(study).await?;
        record_study_metrics(ctx, &trials, direction).await;
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
        let best_params: BTreeMap<String, Value> = best.params.clone();
        let best_spec = spec
            .trial_spec(&best_params)
            .map_err(|e| JobError::Invalid(format!("the best trial's spec: {e}")))?;
        let epochs_trained = epochs_trained(&trials);
        let folds = spec.folds();
        let mut result = json!({
            "metric": metric.as_str(),
            "direction": direction,
            "best_value": best.value,
            "best_params": best_params,
            "best_trial": best.number,
            "n_trials": trials.len(),
            "trials_complete": count(TrialState::Complete),
            "trials_pruned": count(TrialState::Pruned),
            "trials_failed": count(TrialState::Failed),
            "cv_folds": folds,
            "holdout_fraction": spec.holdout_fraction,
            "sampler": spec.sampler().ok(),
            "pruner": spec.pruner().ok(),
            "epochs_trained": epochs_trained,
            "epochs_budget": epochs_budget(&spec, &records),
            "best_train_spec": serde_json::to_value(&best_spec).unwrap_or(Value::Null),
            "search_seconds": started.elapsed().as_secs_f64(),
        });
        if !spec.refit {
            ctx.progress(
                1.0,
                format!(
                    "{} trials finished, best {} {:.4} (trial {})",
                    trials.len(),
                    metric.as_str(),
                    best.value.unwrap_or(f64::NAN),
                    best.number
                ),
            );
            return Ok(JobOutput::result(result));
        }

        // Refit the best configuration on every row.
        ctx.progress(
            n_trials as f64 / (n_trials as f64 + 1.0),
            "refitting the best configuration",
        );
        let name = spec
            .output_name
            .clone()
            .unwrap_or_else(|| format!("{}-tuned-mlp", ds_row.name));
        let eval = match spec.eval_dataset_id {
            Some(id) => Some(ctx.dataset(id).await?),
            None => None,
        };
        let inputs = TrainInputs {
            spec: best_spec,
            dataset: (ds_row, ds_path),
            validation: None,
            base: None,
            output: ctx.scratch_path(".safetensors"),
            job_id: ctx.job.id.to_string(),
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let control = ctx.control.clone();
        let work = ctx.compute.run(move || {
            let (refit, path, n_params, arch) = train_blocking(inputs, control, tx, "refit_")?;
            let test = match eval {
                Some((row, p)) => {
                    let bytes = std::fs::read(&path)?;
                    let (mlp, arch) = load_mlp(&bytes, None)?;
                    let ds = load_dataset(&row, &p)?;
                    let y = targets(&ds, arch.classes.as_deref())?;
                    Some(evaluate_model(&mlp, &arch, ds.x.view(), &y, None)?)
                }
                None => None,
            };
            Ok::<_, JobError>((refit, test, path, n_params, arch))
        });
        let (outcome, ()) = tokio::join!(work, record_epochs(ctx, rx));
        let (refit, test, path, n_params, arch) = outcome??;
        ctx.progress(
            1.0,
            format!(
                "{} trials finished, best {} {:.4} (trial {}); refit done",
                trials.len(),
                metric.as_str(),
                best.value.unwrap_or(f64::NAN),
                best.number
            ),
        );
        if let Some(obj) = result.as_object_mut() {
            obj.insert("refit".into(), refit);
            if let Some(t) = test {
                obj.insert("test".into(), t);
            }
            obj.insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
        }
        JobOutput::with_model(
            result,
            path,
            name,
            "safetensors",
            n_params as i64,
            serde_json::to_value(arch).ok(),
        )
    }
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

/// Queue trials until `parallelism` of them are queued or running (not counting `finishing`,
/// a trial about to end) or all are queued; returns (trials queued so far, queued any now).
/// The study and every trial call this, so a free slot gets its next trial as soon as one
/// ends; idempotency keys make concurrent calls queue each number once.
async fn top_up(
    ctx: &JobContext,
    study: Uuid,
    spec: &TuneSpec,
    children: &[JobRow],
    finishing: Option<Uuid>,
) -> Result<(usize, bool), JobError> {
    let n_trials = spec.trial_count();
    let active = children
        .iter()
        .filter(|c| !c.state.is_terminal() && Some(c.id) != finishing)
        .count();
    let mut created = children.len();
    let mut queued_any = false;
    let mut slots = spec.parallelism.saturating_sub(active);
    while slots > 0 && created < n_trials {
        queue_trial(ctx, study, created).await?;
        created += 1;
        slots -= 1;
        queued_any = true;
    }
    if queued_any {
        if let Some(c) = &ctx.children {
            c.wake();
        }
    }
    Ok((created, queued_any))
}

/// Queue trial `number` (idempotent: a retried study finds the trials it queued before).
async fn queue_trial(ctx: &JobContext, study: Uuid, number: usize) -> Result<(), JobError> {
    // Trials run one priority step ahead of studies, so started studies finish first.
    let priority = if ctx.job.kind == TRIAL_KIND {
        ctx.job.priority
    } else {
        ctx.job.priority.saturating_add(1)
    };
    let spec = serde_json::to_value(TrialJobSpec {
        study_job_id: study,
        number,
    })
    .map_err(|e| JobError::Transient(e.to_string()))?;
    ctx.store
        .insert_job(&NewJob {
            id: Uuid::now_v7(),
            tenant_id: ctx.job.tenant_id,
            kind: TRIAL_KIND.into(),
            spec,
            priority,
            max_attempts: ctx.job.max_attempts.clamp(1, 3),
            idempotency_key: Some(format!("whittle-trial:{study}:{number}")),
            parent_job_id: Some(study),
            scheduled_at: None,
        })
        .await?;
    Ok(())
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

#[async_trait]
impl Executor for TrialExecutor {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let spec: TrialJobSpec =
            parse_typed(&ctx.job.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        let study_row = ctx
            .store
            .get_job(ctx.job.tenant_id, spec.study_job_id)
            .await?
            .ok_or_else(|| JobError::Invalid("the study job no longer exists".into()))?;
        if study_row.state.is_terminal() || study_row.cancel_requested_at.is_some() {
            return Err(JobError::Canceled);
        }
        let study = study_spec(&study_row)?;
        let (ds_row, ds_path) = ctx.dataset(study.dataset_id).await?;
        let classification = ds_row.task == "classification";
        let metric = study.metric_for(classification);
        let direction = study.direction_for(metric);
        let pruner = study.pruner().map_err(JobError::Invalid)?;
        let sampler = study.sampler().map_err(JobError::Invalid)?;

        // Parameters: kept from an earlier attempt, else drawn from the study's history now.
        let rows = ctx.store.list_trials(spec.study_job_id).await?;
        let own = rows.iter().find(|t| {
            t.number as usize == spec.number && t.params.as_object().is_some_and(|o| !o.is_empty())
        });
        let params: BTreeMap<String, Value> = match own {
            Some(t) => serde_json::from_value(t.params.clone()).unwrap_or_default(),
            None => {
                let history: Vec<TrialRecord> = rows.iter().filter_map(record_of).collect();
                sample(&sampler, &study.space(), &history, spec.number, direction).map_err(|e| {
                    JobError::Invalid(format!("sampling trial {}: {e}", spec.number))
                })?
            }
        };
        let started_at = Utc::now();
        let mut row = TrialRow {
            job_id: spec.study_job_id,
            number: spec.number as i32,
            params: json!(params),
            state: "running".into(),
            value: None,
            intermediate: json!([]),
            error: None,
            started_at: Some(started_at),
            finished_at: None,
        };
        ctx.store.upsert_trial(&row).await?;
        let train = match study.trial_spec(&params) {
            Ok(t) => t,
            Err(e) => {
                return fail_trial(ctx, &mut row, format!("the sampled train spec: {e}")).await;
            }
        };

        // Intermediate values go to the store from this side; the pruner decides on the
        // compute side from the trials known when the trial started, refreshed after every
        // report (exact when trials run one at a time, a report behind otherwise).
        let others: Vec<TrialRecord> = rows
            .iter()
            .filter(|t| t.number as usize != spec.number)
            .filter_map(record_of)
            .collect();
        let others = Arc::new(std::sync::Mutex::new(others));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let recorder = tokio::spawn(record_reports(
            ctx.store.clone(),
            row.clone(),
            rx,
            (pruner != Pruner::None).then(|| others.clone()),
        ));
        let judge = Judge {
            tx,
            others,
            me: TrialRecord {
                number: spec.number,
                params: params.clone(),
                state: TrialState::Running,
                value: None,
                intermediate: Vec::new(),
            },
            pruner,
            direction,
        };
        let inputs = CvInputs {
            train,
            dataset: (ds_row, ds_path),
            folds: study.folds(),
            holdout: study.holdout_fraction,
            seed: study.seed,
            metric,
        };
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
            .run(move || cross_validate(inputs, &control, &judge))
            .await;
        watcher.abort();
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => Err(e),
        };
        // The judge (and its sender) is gone: the recorder stores what is left and ends, so
        // no late report overwrites the final row.
        let mut row = recorder.await.unwrap_or(row);
        match outcome {
            Ok(cv) => {
                row.state = trial_state_str(if cv.pruned {
                    TrialState::Pruned
                } else {
                    TrialState::Complete
                })
                .into();
                row.value = Some(cv.value);
                row.intermediate = json!(cv.intermediate);
                row.finished_at = Some(Utc::now());
                ctx.store.upsert_trial(&row).await?;
                let study_live = ctx
                    .store
                    .get_job(ctx.job.tenant_id, spec.study_job_id)
                    .await?
                    .is_some_and(|j| !j.state.is_terminal() && j.cancel_requested_at.is_none());
                if study_live {
                    let children = ctx.store.list_child_jobs(spec.study_job_id).await?;
                    top_up(ctx, spec.study_job_id, &study, &children, Some(ctx.job.id)).await?;
                }
                Ok(JobOutput::result(json!({
                    "study_job_id": spec.study_job_id,
                    "number": spec.number,
                    "state": row.state,
                    "value": cv.value,
                    "fold_values": cv.fold_values,
                    "epochs_per_fold": cv.intermediate.len(),
                    "params": params,
                    "worker_id": ctx.job.locked_by,
                    "seconds": (Utc::now() - started_at).num_milliseconds() as f64 / 1000.0,
                })))
            }
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

struct CvInputs {
    train: TrainSpec,
    dataset: (crate::store::DatasetRow, std::path::PathBuf),
    folds: Option<usize>,
    holdout: Option<f64>,
    seed: u64,
    metric: TuneMetric,
}

struct CvOutcome {
    value: f64,
    fold_values: Vec<f64>,
    intermediate: Vec<(u32, f64)>,
    pruned: bool,
}

struct StopOnCancel<'a>(&'a JobControl);

impl TrainObserver for StopOnCancel<'_> {
    fn should_stop(&self) -> bool {
        self.0.should_stop()
    }
}

/// One fold's standardized data.
struct FoldData {
    x_train: Array2<f32>,
    y_train: Targets,
    x_test: Array2<f32>,
    y_test: Targets,
}

/// The study's folds: stratified k-fold for classification, shuffled with the study seed
/// (every trial sees the same folds), or one holdout split.
fn make_folds(
    y: &Targets,
    folds: Option<usize>,
    holdout: Option<f64>,
    seed: u64,
) -> Result<Vec<Fold>, JobError> {
    let n = y.len();
    Ok(match (folds, y) {
        (Some(k), Targets::Classification { labels, .. }) => {
            stratified_kfold_indices(labels, k, seed, true)?
        }
        (Some(k), Targets::Regression(_)) => kfold_indices(n, k, seed, true)?,
        (None, Targets::Classification { .. }) => {
            let (train, test) = super::train::holdout_indices(y, holdout.unwrap_or(0.2), seed);
            vec![Fold { train, test }]
        }
        (None, Targets::Regression(_)) => {
            vec![holdout_split(n, holdout.unwrap_or(0.2), seed, true)?]
        }
    })
}

/// Cross-validates one train spec: folds train in lockstep, the mean fold score after each
/// epoch goes to the judge, which may stop the trial.
fn cross_validate(
    inputs: CvInputs,
    control: &JobControl,
    judge: &Judge,
) -> Result<CvOutcome, JobError> {
    let CvInputs {
        train,
        dataset,
        folds,
        holdout,
        seed,
        metric,
    } = inputs;
    let ds = load_dataset_cached(&dataset.0, &dataset.1)?;
    let y = targets(&ds, None)?;
    let n_out = match &y {
        Targets::Classification { n_classes, .. } => *n_classes,
        Targets::Regression(v) => v.ncols(),
    };
    let data: Vec<FoldData> = make_folds(&y, folds, holdout, seed)?
        .into_iter()
        .map(|f| {
            let mut x_train = take_rows(&ds.x, &f.train);
            let mut x_test = take_rows(&ds.x, &f.test);
            if train.standardize {
                // Statistics of the fold's own training rows: nothing leaks from the test rows.
                let (m, s) = column_stats(&x_train);
                standardize(&mut x_train, &m, &s);
                standardize(&mut x_test, &m, &s);
            }
            FoldData {
                x_train,
                y_train: take_targets(&y, &f.train),
                x_test,
                y_test: take_targets(&y, &f.test),
            }
        })
        .collect();
    let loss = train.loss.unwrap_or(default_loss(ds.task));
    let cfg = train_config(&train, loss);
    let mut models: Vec<Mlp> = data
        .iter()
        .map(|_| fresh_model(&train, ds.n_features(), n_out))
        .collect::<Result<_, _>>()?;
    let classification = ds.task == Task::Classification;
    let run = if judge.pruner == Pruner::None {
        // Nothing stops a trial early: every fold trains on its own (no per-epoch barrier),
        // keeping its per-epoch scores for the intermediate values.
        let per_fold: Vec<Result<(Vec<f64>, f64), JobError>> = models
            .par_iter_mut()
            .zip(&data)
            .map(|(m, d)| {
                let mut t = Trainer::new(m, d.x_train.view(), &d.y_train, None, &cfg, None)?
                    .single_threaded();
                let mut scores = Vec::with_capacity(cfg.epochs);
                while !t.is_done() {
                    t.run_epoch(&mut StopOnCancel(control))?;
                    scores.push(score(
                        t.model(),
                        d.x_test.view(),
                        &d.y_test,
                        metric,
                        classification,
                    )?);
                }
                t.finish();
                // Early stopping may put back earlier weights: score what training returns.
                let last = score(m, d.x_test.view(), &d.y_test, metric, classification)?;
                Ok((scores, last))
            })
            .collect();
        let per_fold: Vec<(Vec<f64>, f64)> = per_fold.into_iter().collect::<Result<_, _>>()?;
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
        judge.report(&intermediate);
        FoldRun {
            values: per_fold.iter().map(|(_, v)| *v).collect(),
            intermediate,
            pruned: false,
        }
    } else {
        lockstep(
            &mut models,
            &data,
            &cfg,
            control,
            judge,
            metric,
            classification,
        )?
    };
    let FoldRun {
        values: fold_values,
        intermediate,
        pruned,
    } = run;
    let value = fold_values.iter().sum::<f64>() / fold_values.len() as f64;
    if !value.is_finite() {
        return Err(JobError::Invalid(format!(
            "the trial's {} is not finite",
            metric.as_str()
        )));
    }
    Ok(CvOutcome {
        value,
        fold_values,
        intermediate,
        pruned,
    })
}

/// Folds advance one epoch at a time; after each epoch the mean fold score goes to the judge,
/// which may stop the trial. Returns (fold values, intermediate values, pruned).
fn lockstep(
    models: &mut [Mlp],
    data: &[FoldData],
    cfg: &nn::TrainConfig,
    control: &JobControl,
    judge: &Judge,
    metric: TuneMetric,
    classification: bool,
) -> Result<FoldRun, JobError> {
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
        let scores: Vec<Result<Option<f64>, JobError>> = trainers
            .par_iter_mut()
            .zip(data)
            .map(|(t, d)| {
                if t.is_done() {
                    return Ok(None);
                }
                t.run_epoch(&mut StopOnCancel(control))?;
                Ok(Some(score(
                    t.model(),
                    d.x_test.view(),
                    &d.y_test,
                    metric,
                    classification,
                )?))
            })
            .collect();
        for (slot, s) in last.iter_mut().zip(scores) {
            if let Some(v) = s? {
                *slot = v;
            }
        }
        let epoch = trainers.iter().map(Trainer::epochs_run).max().unwrap_or(0) as u32;
        let mean = last.iter().sum::<f64>() / last.len() as f64;
        intermediate.push((epoch, mean));
        let more = !trainers.iter().all(Trainer::is_done);
        if judge.report(&intermediate) && more {
            return Ok(FoldRun {
                values: last,
                intermediate,
                pruned: true,
            });
        }
    }
    // Early stopping may put back earlier weights: score what training returns.
    for t in trainers {
        t.finish();
    }
    let values = models
        .iter()
        .zip(data)
        .map(|(m, d)| score(m, d.x_test.view(), &d.y_test, metric, classification))
        .collect::<Result<_, _>>()?;
    Ok(FoldRun {
        values,
        intermediate,
        pruned: false,
    })
}

/// What the folds of one trial produced.
struct FoldRun {
    /// Final score of each fold.
    values: Vec<f64>,
    /// `(epoch, mean fold score)` after each epoch.
    intermediate: Vec<(u32, f64)>,
    /// The pruner stopped the trial.
    pruned: bool,
}

/// `metric` of `model` on `(x, y)`.
fn score(
    model: &Mlp,
    x: ArrayView2<f32>,
    y: &Targets,
    metric: TuneMetric,
    classification: bool,
) -> Result<f64, JobError> {
    let outputs = model.forward(x)?;
    match y {
        Targets::Classification { labels, n_classes } if classification => {
            let proba = nn::outputs_to_proba(outputs, false);
            let pred: Vec<usize> = proba
                .rows()
                .into_iter()
                .map(|r| nn::argmax(&r.to_vec()))
                .collect();
            let with_proba = (metric == TuneMetric::LogLoss).then(|| proba.view());
            let r = metrics::classification_report(
                labels,
                &pred,
                with_proba,
                (*n_classes).max(proba.ncols()),
            )?;
            Ok(match metric {
                TuneMetric::Accuracy => r.accuracy,
                TuneMetric::BalancedAccuracy => r.recall_macro,
                TuneMetric::F1 => r.f1_macro,
                TuneMetric::F1Weighted => r.f1_weighted,
                TuneMetric::LogLoss => r.log_loss.unwrap_or(f64::NAN),
                other => {
                    return Err(JobError::Invalid(format!(
                        "'{}' is a regression metric",
                        other.as_str()
                    )))
                }
            })
        }
        Targets::Regression(t) => {
            let r = metrics::regression_report(t.view(), outputs.view())?;
            Ok(match metric {
                TuneMetric::Mse => r.mse,
                TuneMetric::Rmse => r.rmse,
                TuneMetric::Mae => r.mae,
                TuneMetric::R2 => r.r2,
                other => {
                    return Err(JobError::Invalid(format!(
                        "'{}' is a classification metric",
                        other.as_str()
                    )))
                }
            })
        }
        _ => Err(JobError::Invalid("targets do not fit the task".into())),
    }
}

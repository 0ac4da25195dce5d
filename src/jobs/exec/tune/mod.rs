//! `tune`: a hyper-parameter study. The study job (`study.rs`) queues its trials as child
//! jobs of kind `trial` (at most `parallelism` at a time) and runs queued ones itself while it
//! waits, so any worker on the same database can take trials and a single slot still finishes
//! the study. A trial (`trial.rs`) samples its parameters from the study's history when it
//! starts (`kernels::tune::sample`), cross-validates the resulting train spec
//! (`kernels::tune::cross_validate`), reports the mean fold score after every epoch (the
//! pruner's intermediate values) and records itself in the `trials` table. When every trial
//! has ended, the study refits the best configuration on all rows (the job's output model) and
//! tests it on `eval_dataset_id`. This file holds what both sides share: the trial job's spec,
//! trial records, and queueing trials.
mod study;
mod trial;

pub use study::{StudyExecutor, StudyResult};
pub use trial::{TrialExecutor, TrialResult};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::specs::TuneSpec;
use crate::jobs::{JobContext, JobError};
use crate::kernels::tune::{TrialRecord, TrialState};
use crate::store::{JobRow, NewJob, TrialRow};

/// Kind name of a study's child jobs (not submittable over the API).
pub const TRIAL_KIND: &str = "trial";

/// Spec of a `trial` child job.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrialJobSpec {
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

/// Trials are queued by their study, never submitted: nothing to reference or normalize.
impl crate::domain::specs::KindSpec for TrialJobSpec {}

/// The stored spelling of a trial state.
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
    if slots > 0 && created < n_trials && !study_accepts_trials(ctx, study).await? {
        // A cancel of the study reaches its trials (which then end) before the study's own
        // heartbeat tells it: ended trials must not be replaced meanwhile.
        return Ok((created, false));
    }
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

/// Whether the study still runs and nobody asked to cancel it.
async fn study_accepts_trials(ctx: &JobContext, study: Uuid) -> Result<bool, JobError> {
    Ok(ctx
        .store
        .get_job(ctx.job.tenant_id, study)
        .await?
        .is_some_and(|j| !j.state.is_terminal() && j.cancel_requested_at.is_none()))
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

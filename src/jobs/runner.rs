//! The worker: claims jobs in batches, runs each with a heartbeat that renews its lease and
//! carries progress and cancel requests, finishes it with a fenced update, and rescues jobs
//! whose worker stopped heartbeating. Wake-ups come from Postgres NOTIFY or the in-process
//! API; polling guarantees pickup when neither arrives.
use chrono::Utc;
use futures::{FutureExt, StreamExt};
use rand::Rng;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, instrument, warn};
use uuid::Uuid;

use super::compute::panic_message;
use super::{ComputePool, Executors, JobContext, JobControl, JobError, JobOutput, StopReason};
use crate::artifacts::{model_folder_key, model_key, ArtifactStore, Durability, WrittenFile};
use crate::config::WorkerConfig;
use crate::domain::retry::retry_delay;
use crate::domain::JobState;
use crate::formats::safetensors::folder;
use crate::store::{AttemptError, DynStore, Fence, JobRow, NewModel};

/// How often a running worker records its presence and kinds.
pub const PRESENCE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Workers seen since this instant count as running (three presence intervals ago).
pub fn live_since() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::TimeDelta::seconds(3 * PRESENCE_INTERVAL.as_secs() as i64)
}

/// One worker process's job runner (`slots` jobs at a time).
pub struct Runner {
    store: DynStore,
    artifacts: Arc<ArtifactStore>,
    compute: ComputePool,
    executors: Arc<Executors>,
    cfg: WorkerConfig,
    worker_id: String,
    wake: Arc<Notify>,
    completions: CompletionQueue,
    status: Arc<super::status::WorkerStatus>,
}

/// A completion waiting for the batcher, and where its answer goes.
type PendingCompletion = (
    Fence,
    serde_json::Value,
    tokio::sync::oneshot::Sender<Result<bool, crate::store::StoreError>>,
);

/// Completions without output models go through one batching task, so jobs that finish
/// together share one store round trip (and one commit).
struct CompletionQueue {
    tx: tokio::sync::mpsc::UnboundedSender<PendingCompletion>,
    rx: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<PendingCompletion>>>,
}

/// Most completions written in one batch.
const COMPLETION_BATCH: usize = 256;

impl Runner {
    pub fn new(
        store: DynStore,
        artifacts: Arc<ArtifactStore>,
        compute: ComputePool,
        executors: Executors,
        cfg: WorkerConfig,
        wake: Arc<Notify>,
    ) -> Self {
        let worker_id = cfg.worker_id.clone().unwrap_or_else(default_worker_id);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let status = Arc::new(super::status::WorkerStatus::new(&worker_id, cfg.workers));
        Self {
            status,
            store,
            artifacts,
            compute,
            executors: Arc::new(executors),
            cfg,
            worker_id,
            wake,
            completions: CompletionQueue {
                tx,
                rx: std::sync::Mutex::new(Some(rx)),
            },
        }
    }

    /// This worker's `locked_by` identity.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Slots, busy slots and when the database last answered (for health endpoints).
    pub fn status(&self) -> Arc<super::status::WorkerStatus> {
        self.status.clone()
    }

    /// Start the claim loop and the rescuer. Cancelling `shutdown` stops claiming; in-flight
    /// jobs get `shutdown_grace` to finish, then are stopped and handed back to the queue.
    pub fn spawn(self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        // In-flight jobs await their completion before the claim loop returns, so nothing is
        // pending when the runner goes; the batcher ends once its last sender is dropped.
        if let Some(rx) = self.completions.rx.lock().ok().and_then(|mut rx| rx.take()) {
            tokio::spawn(complete_batches(self.store.clone(), rx));
        }
        let runner = Arc::new(self);
        tokio::spawn(async move {
            let rescuer = tokio::spawn(runner.clone().rescue_loop(shutdown.clone()));
            let presence = tokio::spawn(runner.clone().presence_loop(shutdown.clone()));
            runner.claim_loop(shutdown).await;
            let _ = rescuer.await;
            let _ = presence.await;
        })
    }

    /// `complete_job` without an output model, through the batcher when it runs.
    async fn complete_plain(
        &self,
        fence: &Fence,
        result: &serde_json::Value,
    ) -> Result<bool, crate::store::StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self
            .completions
            .tx
            .send((fence.clone(), result.clone(), tx))
            .is_ok()
        {
            if let Ok(answer) = rx.await {
                return answer;
            }
        }
        self.store.complete_job(fence, result, None).await
    }

    async fn claim_loop(self: Arc<Self>, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.cfg.workers));
        let hard_stop = CancellationToken::new();
        let kinds = self.executors.kinds();
        let mut tasks = JoinSet::new();
        let mut notifications = match self.store.job_notifications().await {
            Ok(n) => n,
            Err(e) => {
                warn!(error = %e, "job notifications unavailable; polling only");
                None
            }
        };
        info!(worker_id = %self.worker_id, slots = self.cfg.workers, kinds = ?kinds, "worker started");
        loop {
            let free = slots.available_permits();
            if free > 0 && !shutdown.is_cancelled() {
                match self
                    .store
                    .claim_jobs(&self.worker_id, &kinds, free as i64, self.cfg.lease())
                    .await
                {
                    Ok(jobs) => {
                        self.status.claimed(jobs.len());
                        let full = jobs.len() == free;
                        let now = Utc::now();
                        for job in jobs {
                            let waited = (now - job.scheduled_at).to_std().unwrap_or_default();
                            metrics::histogram!("whittle_job_queue_wait_seconds", "kind" => job.kind.clone())
                                .record(waited.as_secs_f64());
                            let Ok(permit) = slots.clone().try_acquire_owned() else {
                                // Cannot happen (we claimed at most `free`); hand it back.
                                if let Some(f) = job.fence() {
                                    let _ = self.store.release_job(&f).await;
                                }
                                continue;
                            };
                            let me = self.clone();
                            let hard = hard_stop.clone();
                            tasks.spawn(async move {
                                me.execute(job, hard).await;
                                drop(permit);
                            });
                        }
                        self.status
                            .set_busy(self.cfg.workers - slots.available_permits());
                        if full {
                            // There may be more work: claim again as soon as a slot frees.
                            if slots.available_permits() > 0 {
                                continue;
                            }
                        }
                    }
                    Err(e) => {
                        self.status.store_failed(&e.to_string());
                        warn!(error = %e, "claiming jobs failed")
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                Some(()) = next_notification(&mut notifications) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                    self.status.set_busy(self.cfg.workers - slots.available_permits());
                }
                _ = tokio::time::sleep(self.cfg.poll()) => {}
            }
        }
        info!(in_flight = tasks.len(), "worker stopping: no new claims");
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.cfg.shutdown_grace(), drain)
            .await
            .is_err()
        {
            warn!(
                in_flight = tasks.len(),
                "grace period over: handing in-flight jobs back"
            );
            hard_stop.cancel();
            while tasks.join_next().await.is_some() {}
        }
    }

    /// Tells the store, now and every [`PRESENCE_INTERVAL`], that this worker runs its kinds
    /// (admission refuses kinds that live workers exist for but none executes).
    async fn presence_loop(self: Arc<Self>, shutdown: CancellationToken) {
        let kinds = self.executors.kinds();
        loop {
            match self.store.record_worker(&self.worker_id, &kinds).await {
                Ok(_) => self.status.store_ok(),
                Err(e) => {
                    self.status.store_failed(&e.to_string());
                    warn!(error = %e, "recording this worker's presence failed");
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(PRESENCE_INTERVAL) => {}
            }
        }
    }

    async fn rescue_loop(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.cfg.rescue()) => {}
            }
            if let Err(e) = self.rescue_once().await {
                warn!(error = %e, "rescuing expired leases failed");
            }
        }
    }

    /// Return jobs with expired leases to the queue (or fail them at `max_attempts`).
    pub async fn rescue_once(&self) -> Result<usize, crate::store::StoreError> {
        let expired = self.store.list_expired_leases(100).await?;
        let mut rescued = 0;
        for job in expired {
            let Some(fence) = job.fence() else { continue };
            let error = AttemptError {
                attempt: job.attempt,
                at: Utc::now(),
                message: format!(
                    "lease expired: worker {} stopped heartbeating",
                    fence.worker_id
                ),
            };
            let retry_at = next_retry(&job);
            if let Some(state) = self.store.rescue_job(&fence, &error, retry_at).await? {
                if state.is_terminal() {
                    self.discard_checkpoint(job.id).await;
                }
                rescued += 1;
                metrics::counter!("whittle_jobs_rescued_total", "kind" => job.kind.clone())
                    .increment(1);
                info!(job.id = %job.id, %state, "rescued job with expired lease");
            }
        }
        Ok(rescued)
    }

    #[instrument(skip_all, fields(job.id = %job.id, job.kind = %job.kind, job.attempt = job.attempt))]
    async fn execute(self: Arc<Self>, job: JobRow, hard_stop: CancellationToken) {
        let Some(fence) = job.fence() else {
            error!("claimed job has no lock owner");
            return;
        };
        let started = Instant::now();
        let kind = job.kind.clone();
        let Some(executor) = self.executors.get(&kind) else {
            // We only claim kinds we have, so this is a programming error: fail without retry.
            let err = AttemptError {
                attempt: job.attempt,
                at: Utc::now(),
                message: format!("no executor for kind '{kind}'"),
            };
            let _ = self.store.fail_job(&fence, &err, None).await;
            return;
        };
        let control = Arc::new(JobControl::default());
        let heartbeat_done = CancellationToken::new();
        let heartbeat = tokio::spawn(heartbeat_loop(
            self.store.clone(),
            fence.clone(),
            self.cfg.clone(),
            control.clone(),
            heartbeat_done.clone(),
            hard_stop.clone(),
        ));
        let ctx = JobContext {
            job: job.clone(),
            store: self.store.clone(),
            artifacts: self.artifacts.clone(),
            compute: self.compute.clone(),
            control: control.clone(),
            children: Some(ChildRunner {
                runner: self.clone(),
                hard_stop: hard_stop.clone(),
            }),
            checkpoint_interval: self.cfg.checkpoint_interval(),
        };
        debug!("running");
        let outcome = AssertUnwindSafe(executor.run(&ctx))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Err(JobError::Panicked(panic_message(panic.as_ref()))));
        heartbeat_done.cancel();
        let _ = heartbeat.await;
        // Progress recorded since the last heartbeat (a job shorter than one heartbeat, or
        // the last step of a longer one) is stored before the job finishes.
        if control.reason() != Some(StopReason::LeaseLost) {
            if let Some((fraction, message)) = control.take_progress() {
                let p = Some((fraction, message.as_deref()));
                if let Err(e) = self.store.heartbeat(&fence, self.cfg.lease(), p).await {
                    warn!(error = %e, "storing the final progress failed");
                }
            }
        }
        let label = self.finish(&job, &fence, &control, outcome).await;
        // A job that ended (rather than being handed back or retried) needs no checkpoint.
        // Only attempts that saw one, or that follow another attempt, can have one.
        if matches!(label, "succeeded" | "canceled" | "failed")
            && (control.checkpointed() || job.attempt > 1)
        {
            self.discard_checkpoint(job.id).await;
        }
        metrics::histogram!("whittle_job_duration_seconds", "kind" => kind.clone(), "outcome" => label)
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("whittle_jobs_finished_total", "kind" => kind, "outcome" => label)
            .increment(1);
    }

    /// Record the attempt's outcome with a fenced update; returns a metrics label.
    async fn finish(
        &self,
        job: &JobRow,
        fence: &Fence,
        control: &JobControl,
        outcome: Result<JobOutput, JobError>,
    ) -> &'static str {
        if control.reason() == Some(StopReason::LeaseLost) {
            if let Ok(JobOutput {
                output_model: Some(m),
                ..
            }) = &outcome
            {
                let _ = tokio::fs::remove_file(&m.path).await;
            }
            warn!("lease lost: discarding this attempt's result");
            return "lease_lost";
        }
        match outcome {
            Ok(output) => match self.complete(job, fence, output).await {
                Ok(true) => "succeeded",
                Ok(false) => {
                    warn!("fence failed at completion: result discarded");
                    "lease_lost"
                }
                Err(e) => {
                    error!(error = %e, "completing the job failed");
                    self.record_failure(job, fence, &JobError::Transient(e.to_string()))
                        .await
                }
            },
            Err(JobError::Canceled) if control.reason() == Some(StopReason::Shutdown) => {
                match self.store.release_job(fence).await {
                    Ok(true) => {
                        // A cancel requested while it ran makes the hand-back final.
                        let state = self.store.get_job(job.tenant_id, job.id).await;
                        if matches!(state, Ok(Some(ref j)) if j.state == JobState::Canceled) {
                            info!("canceled at shutdown");
                            self.discard_checkpoint(job.id).await;
                            return "canceled";
                        }
                        info!("handed back to the queue at shutdown")
                    }
                    Ok(false) => warn!("fence failed while handing the job back"),
                    Err(e) => error!(error = %e, "handing the job back failed; the rescuer will"),
                }
                "released"
            }
            Err(JobError::Canceled) => match self.store.finish_canceled(fence).await {
                Ok(_) => "canceled",
                Err(e) => {
                    error!(error = %e, "recording the cancel failed");
                    "canceled"
                }
            },
            Err(e) => self.record_failure(job, fence, &e).await,
        }
    }

    /// Deletes a job's training checkpoint, if it has one.
    async fn discard_checkpoint(&self, job_id: Uuid) {
        super::checkpoint::discard(&self.artifacts, job_id).await;
    }

    async fn record_failure(&self, job: &JobRow, fence: &Fence, e: &JobError) -> &'static str {
        let retry_at = if e.is_retryable() {
            next_retry(job)
        } else {
            None
        };
        let err = AttemptError {
            attempt: job.attempt,
            at: Utc::now(),
            message: e.to_string(),
        };
        match self.store.fail_job(fence, &err, retry_at).await {
            Ok(Some(state)) => {
                info!(%state, error = %e, "attempt failed");
                if retry_at.is_some() {
                    "retried"
                } else {
                    "failed"
                }
            }
            Ok(None) => {
                warn!("fence failed while recording a failure");
                "lease_lost"
            }
            Err(db) => {
                error!(error = %db, "recording the failure failed; the rescuer will retry the job");
                "failed"
            }
        }
    }

    /// Publish the output model (if any) and complete the job in one fenced transaction.
    async fn complete(
        &self,
        job: &JobRow,
        fence: &Fence,
        output: JobOutput,
    ) -> Result<bool, JobError> {
        let Some(model) = output.output_model else {
            return Ok(self.complete_plain(fence, &output.result).await?);
        };
        let id = Uuid::now_v7();
        let stored = if model.path.is_dir() {
            self.publish_folder(
                &model.path,
                model_folder_key(job.tenant_id, id),
                &model.written,
            )
            .await?
        } else {
            let spooled = self.artifacts.adopt(model.path, &model.written).await?;
            let key = model_key(job.tenant_id, id);
            self.artifacts
                .publish(&spooled.path, &key, Durability::Eventual)
                .await?;
            StoredOutput {
                key,
                sha256: spooled.sha256.clone(),
                bytes: spooled.bytes,
                files: None,
            }
        };
        let new_model = NewModel {
            id,
            tenant_id: job.tenant_id,
            name: model.name,
            format: model.format,
            artifact_key: stored.key.clone(),
            sha256: stored.sha256.clone(),
            bytes: stored.bytes as i64,
            n_params: model.n_params,
            inventory: model.inventory,
            architecture: model.architecture,
            source_job_id: Some(job.id),
            files: stored
                .files
                .as_ref()
                .map(|f| serde_json::to_value(f).unwrap_or_default()),
        };
        let done = match self
            .store
            .complete_job(fence, &output.result, Some(&new_model))
            .await
        {
            Ok(done) => done,
            Err(e) => {
                self.unpublish(&stored).await;
                return Err(e.into());
            }
        };
        if !done {
            self.unpublish(&stored).await;
        }
        Ok(done)
    }

    /// Publishes an output folder file by file (hashing each), then removes the scratch copy.
    async fn publish_folder(
        &self,
        dir: &Path,
        prefix: String,
        written: &[WrittenFile],
    ) -> Result<StoredOutput, JobError> {
        let mut files = Vec::new();
        let mut stored = StoredOutput {
            key: prefix,
            sha256: String::new(),
            bytes: 0,
            files: None,
        };
        let result: Result<(), JobError> = async {
            for rel in folder::list_files(dir)? {
                let spooled = self.artifacts.adopt(dir.join(&rel), written).await?;
                self.artifacts
                    .publish(
                        &spooled.path,
                        &format!("{}{rel}", stored.key),
                        Durability::Eventual,
                    )
                    .await?;
                stored.bytes += spooled.bytes;
                files.push(folder::ModelFile {
                    role: folder::classify(&rel).unwrap_or(folder::FileRole::Side),
                    path: rel,
                    bytes: spooled.bytes,
                    sha256: spooled.sha256.clone(),
                });
            }
            Ok(())
        }
        .await;
        let _ = tokio::fs::remove_dir_all(dir).await;
        stored.sha256 = folder::folder_digest(&files);
        stored.files = Some(files);
        if let Err(e) = result {
            self.unpublish(&stored).await;
            return Err(e);
        }
        Ok(stored)
    }

    /// Deletes a published output whose job did not complete.
    async fn unpublish(&self, stored: &StoredOutput) {
        let _ = match &stored.files {
            Some(files) => {
                let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
                self.artifacts.delete_folder(&stored.key, &paths).await
            }
            None => self.artifacts.delete(&stored.key).await,
        };
    }
}

/// Where a published output model lives.
struct StoredOutput {
    key: String,
    sha256: String,
    bytes: u64,
    files: Option<Vec<folder::ModelFile>>,
}

/// Lets a running job execute its own queued children (a tune study's trials) in the slot it
/// already holds, with the same leases, heartbeats and fenced finish as any claimed job. Other
/// workers claim the same children through the normal queue, so a study spreads over every
/// worker and still finishes when only one slot exists.
#[derive(Clone)]
pub struct ChildRunner {
    runner: Arc<Runner>,
    hard_stop: CancellationToken,
}

impl ChildRunner {
    /// Claim one queued child of `parent` and run it to its end here; false when none was
    /// queued.
    pub async fn run_next(&self, parent: Uuid) -> Result<bool, crate::store::StoreError> {
        let Some(child) = self
            .runner
            .store
            .claim_child_job(&self.runner.worker_id, parent, self.runner.cfg.lease())
            .await?
        else {
            return Ok(false);
        };
        let run: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
            Box::pin(self.runner.clone().execute(child, self.hard_stop.clone()));
        run.await;
        Ok(true)
    }

    /// Wake this process's claim loop (new children were queued).
    pub fn wake(&self) {
        self.runner.wake.notify_one();
    }

    /// How long to wait between looks at children other workers run.
    pub fn poll_interval(&self) -> std::time::Duration {
        self.runner
            .cfg
            .poll()
            .min(std::time::Duration::from_millis(200))
    }
}

/// Writes queued completions in batches: waits for one, takes whatever else is already
/// waiting (up to [`COMPLETION_BATCH`]), and writes them with one `complete_jobs`. Under load
/// batches grow on their own; an idle queue adds no delay.
async fn complete_batches(
    store: DynStore,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<PendingCompletion>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < COMPLETION_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let items: Vec<(Fence, serde_json::Value)> = batch
            .iter()
            .map(|(f, r, _)| (f.clone(), r.clone()))
            .collect();
        match store.complete_jobs(&items).await {
            Ok(done) if done.len() == batch.len() => {
                for ((_, _, reply), ok) in batch.into_iter().zip(done) {
                    let _ = reply.send(Ok(ok));
                }
            }
            outcome => {
                if let Err(e) = outcome {
                    warn!(error = %e, jobs = batch.len(), "batched completion failed; completing one by one");
                }
                // Each job gets its own answer (and its own error).
                for (fence, result, reply) in batch {
                    let _ = reply.send(store.complete_job(&fence, &result, None).await);
                }
            }
        }
    }
}

/// When a failed attempt should run again, or None when attempts are used up.
fn next_retry(job: &JobRow) -> Option<chrono::DateTime<Utc>> {
    if job.attempt >= job.max_attempts {
        return None;
    }
    let jitter: f64 = rand::rng().random();
    let delay = retry_delay(job.attempt, jitter);
    chrono::Duration::from_std(delay)
        .ok()
        .map(|d| Utc::now() + d)
}

/// Renew the lease, store progress, and turn cancel requests and lost leases into stops.
async fn heartbeat_loop(
    store: DynStore,
    fence: Fence,
    cfg: WorkerConfig,
    control: Arc<JobControl>,
    done: CancellationToken,
    hard_stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = done.cancelled() => return,
            _ = hard_stop.cancelled(), if !control.should_stop() => {
                control.stop(StopReason::Shutdown);
                continue;
            }
            _ = tokio::time::sleep(cfg.heartbeat()) => {}
        }
        let progress = control.take_progress();
        let p = progress.as_ref().map(|(f, m)| (*f, m.as_deref()));
        match store.heartbeat(&fence, cfg.lease(), p).await {
            Ok(Some(hb)) if hb.cancel_requested => control.stop(StopReason::CancelRequested),
            Ok(Some(_)) => {}
            Ok(None) => {
                control.stop(StopReason::LeaseLost);
                return;
            }
            Err(e) => warn!(error = %e, "heartbeat failed; will retry"),
        }
    }
}

async fn next_notification(n: &mut Option<futures::stream::BoxStream<'static, ()>>) -> Option<()> {
    match n {
        Some(stream) => match stream.next().await {
            Some(()) => Some(()),
            None => {
                // The listener ended (connection lost): fall back to polling.
                *n = None;
                None
            }
        },
        None => std::future::pending().await,
    }
}

fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "whittle".into());
    let suffix: u32 = rand::rng().random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

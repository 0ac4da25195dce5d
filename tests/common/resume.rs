//! Kill-and-resume over real processes: a job's first attempt runs in a `whittle worker`
//! process that is `kill -9`'d once a checkpoint is stored; a fresh worker rescues the job,
//! and the attempt that finishes must have resumed and must equal an uninterrupted twin
//! bitwise (weights and the epoch series).
use serde_json::Value;
use std::time::{Duration, Instant};

use super::TestApp;

/// How the first attempt's worker process is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `kill -9`: the lease expires, the rescuer requeues the job (attempt 2 resumes).
    Kill,
    /// SIGTERM: the worker checkpoints, hands the job back and exits (the attempt is not
    /// counted, so attempt 1 resumes).
    Term,
}

/// What a resumable job reports and where.
pub struct ResumeCase<'a> {
    /// Epochs of the resumable run.
    pub epochs: u64,
    /// JSON pointer of `resumed_from_epoch` in the result (`/resumed_from_epoch`,
    /// `/finetune/resumed_from_epoch`).
    pub resumed_at: &'a str,
    /// The epoch series of the run (`train_loss`, `qat_train_loss`).
    pub series: &'a str,
    /// The job's last progress message still names the resume (train: fine-tuning inside
    /// quantize and prune is followed by later stages with their own messages).
    pub message_names_resume: bool,
}

/// A worker process on the app's storage: 1 slot, 1 compute thread, 100 ms checkpoints,
/// a 1 s lease, no shutdown grace.
pub fn spawn_worker_process(app: &TestApp) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_whittle"))
        .arg("worker")
        .env("DATABASE_URL", &app.storage.database_url)
        .env("WHITTLE_ARTIFACTS", &app.storage.artifacts)
        .env("WHITTLE_SCRATCH_DIR", app.dir.path().join("child-scratch"))
        .env("WHITTLE_WORKERS", "1")
        .env("WHITTLE_COMPUTE_THREADS", "1")
        .env("WHITTLE_LEASE_SECS", "1")
        .env("WHITTLE_HEARTBEAT_MS", "100")
        .env("WHITTLE_POLL_MS", "100")
        .env("WHITTLE_CHECKPOINT_MS", "100")
        .env("WHITTLE_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("WHITTLE_WEBHOOK_RETRY_MS", "100")
        // SIGTERM stops running jobs at once (hand-back) instead of letting them finish.
        .env("WHITTLE_SHUTDOWN_GRACE_SECS", "0")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start a whittle worker process")
}

/// The tensors of a model file: name → raw bytes (the metadata names the job, so differs).
pub async fn model_tensors(app: &TestApp, id: &str) -> Vec<(String, Vec<u8>)> {
    let bytes = app
        .client
        .get(app.url(&format!("/v1/models/{id}/content")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let path = app.dir.path().join(format!("{id}.safetensors"));
    std::fs::write(&path, &bytes).unwrap();
    let file = whittle::formats::safetensors::MappedModel::open(&path).unwrap();
    file.tensors()
        .map(|t| (t.name.to_string(), t.data.to_vec()))
        .collect()
}

/// A job's epoch series: (step, value) pairs.
pub async fn series(app: &TestApp, id: &str, name: &str) -> Vec<(i64, f64)> {
    let (_, metrics) = app.get_json(&format!("/v1/jobs/{id}/metrics")).await;
    metrics["series"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name} series in {metrics}"))
        .iter()
        .map(|p| (p["step"].as_i64().unwrap(), p["value"].as_f64().unwrap()))
        .collect()
}

/// Submits `spec` with no in-process worker running (the app was spawned with 0 workers),
/// kills the worker process running it mid-run, finishes it with an in-process worker and
/// checks the resume against an uninterrupted twin. Returns the resumed job.
pub async fn resume_after_kill(app: &TestApp, spec: Value, case: ResumeCase<'_>) -> Value {
    resume_after(app, spec, case, Stop::Kill).await
}

/// The checkpoint file of job `id` in the app's local artifact store.
pub fn checkpoint_path(app: &TestApp, id: &str) -> std::path::PathBuf {
    std::path::Path::new(&app.storage.artifacts)
        .join("checkpoints")
        .join(format!("{id}.safetensors"))
}

/// Submits `spec` and stops the worker process running it once a checkpoint is stored and
/// the run is under way; returns the job id. After a [`Stop::Term`] the job is back in the
/// queue.
pub async fn start_and_stop(app: &TestApp, spec: Value, stop: Stop) -> String {
    let job = app.submit(spec).await;
    let id = job["id"].as_str().unwrap().to_string();
    let checkpoint = checkpoint_path(app, &id);
    let mut child = spawn_worker_process(app);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, j) = app.get_json(&format!("/v1/jobs/{id}")).await;
        assert_ne!(j["state"], "succeeded", "finished before the stop: {j}");
        if checkpoint.exists() && j["progress"].as_f64().unwrap_or(0.0) >= 0.05 {
            break;
        }
        assert!(Instant::now() < deadline, "no checkpoint: {j}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    match stop {
        Stop::Kill => child.kill().unwrap(),
        Stop::Term => {
            let status = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    let status = child.wait().unwrap();
    if stop == Stop::Term {
        assert!(
            status.success(),
            "the worker exits cleanly on SIGTERM: {status}"
        );
        let (_, j) = app.get_json(&format!("/v1/jobs/{id}")).await;
        assert_eq!(j["state"], "queued", "handed back: {j}");
        assert_eq!(
            j["attempt"], 0,
            "a hand-back does not count as an attempt: {j}"
        );
    }
    id
}

/// [`resume_after_kill`] with either way of stopping the first worker.
pub async fn resume_after(app: &TestApp, spec: Value, case: ResumeCase<'_>, stop: Stop) -> Value {
    let id = start_and_stop(app, spec.clone(), stop).await;
    let checkpoint = checkpoint_path(app, &id);

    // A live worker rescues the job; attempt 2 continues from the checkpoint.
    let (store, artifacts) = whittle::app::open_storage(&app.storage).await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut cfg = super::fast_worker_config(1);
    cfg.checkpoint_ms = 100;
    let handle = whittle::app::start_workers(
        store,
        artifacts,
        &cfg,
        whittle::jobs::Executors::standard(),
        std::sync::Arc::new(tokio::sync::Notify::new()),
        shutdown.clone(),
    )
    .unwrap()
    .unwrap();
    let done = app.wait_job(&id, Duration::from_secs(180)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let attempt = if stop == Stop::Kill { 2 } else { 1 };
    assert_eq!(done["attempt"], attempt, "{done}");
    let resumed = done["result"]
        .pointer(case.resumed_at)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{} in {done}", case.resumed_at));
    assert!(resumed > 0 && resumed < case.epochs, "{done}");
    let message = done["progress_message"].as_str().unwrap_or_default();
    assert!(
        !case.message_names_resume
            || message.contains(&format!("resumed from a checkpoint at epoch {resumed}")),
        "{done}"
    );
    assert!(!checkpoint.exists(), "the checkpoint is deleted at the end");

    // The same spec, never interrupted: bitwise the same weights and the same series.
    let twin = app.run_job(spec).await;
    assert!(twin["result"].pointer(case.resumed_at).is_none(), "{twin}");
    let resumed_tensors = model_tensors(app, done["output_model_id"].as_str().unwrap()).await;
    let twin_tensors = model_tensors(app, twin["output_model_id"].as_str().unwrap()).await;
    assert!(!resumed_tensors.is_empty());
    assert!(
        resumed_tensors == twin_tensors,
        "weights differ from an uninterrupted run"
    );
    let points = series(app, &id, case.series).await;
    let steps: Vec<i64> = points.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        steps,
        (1..=case.epochs as i64).collect::<Vec<_>>(),
        "one point per epoch"
    );
    assert_eq!(
        points,
        series(app, twin["id"].as_str().unwrap(), case.series).await
    );
    shutdown.cancel();
    handle.await.unwrap();
    done
}

//! Checkpoints of training runs, so an attempt that follows a crash, a lost lease or a
//! shutdown hand-back continues where the last one stopped instead of starting over.
//!
//! A job has at most one checkpoint, under [`checkpoint_key`]; each write replaces it. It is a
//! safetensors file: the model's layers, the optimizer moments, the best epoch's layers and
//! the row order as tensors, and a JSON header in the metadata (job, spec digest, which run of
//! the job it belongs to, the kernel's [`SnapshotState`]: counters, history, RNG positions).
//! The trainer is deterministic, so a run continued from any checkpoint of the same job ends
//! with bitwise the weights of an uninterrupted run.
//!
//! Writes happen at epoch boundaries once `interval` has passed since the last one, and when
//! a shutdown stops the run (the hand-back). Encoding runs on the compute thread into a
//! scratch file; the async side publishes it. [`discard`] deletes it when the job reaches a
//! terminal state: the runner when an attempt ends, the cancel endpoint when a queued job
//! (handed back with its checkpoint) is canceled.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_util::io::StreamReader;
use uuid::Uuid;

use super::epochs::{store_points, MetricSender};
use super::{JobContext, JobControl, JobError, StopReason};
use crate::artifacts::{checkpoint_key, ArtifactStore, Durability};
use crate::formats::safetensors::{from_f32, to_f32, Dtype, MappedModel, SafetensorsWriter};
use crate::formats::safetensors::{TensorPlan, TensorRef};
use crate::kernels::nn::{
    Activation, Dense, LayerMoments, SnapshotState, TrainObserver, TrainSnapshot, Trainer,
};

/// Metadata key of the header.
const HEADER_KEY: &str = "whittle_checkpoint";
/// Version of the layout; a checkpoint of another version is ignored.
const FORMAT: u32 = 1;

/// What a checkpoint says about itself.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: u32,
    job_id: Uuid,
    /// SHA-256 of the job's spec as stored.
    spec_sha256: String,
    /// Which training run of the job (a job may train more than once)…
    run: String,
    /// …and its place among the job's runs: a replayed earlier run never overwrites it.
    stage: usize,
    /// The attempt that wrote it.
    attempt: i32,
    activations: Vec<Activation>,
    state: SnapshotState,
}

/// Deletes a job's checkpoint, if it has one (failures are logged: a stale checkpoint costs
/// storage, never correctness, since a checkpoint only serves its own job).
pub async fn discard(artifacts: &ArtifactStore, job_id: Uuid) {
    if let Err(e) = artifacts.delete(&checkpoint_key(job_id)).await {
        tracing::warn!(error = %e, %job_id, "deleting the job's checkpoint failed");
    }
}

/// The job a checkpoint belongs to: identity, interval, and where files go.
#[derive(Clone)]
struct Checkpoints {
    artifacts: Arc<ArtifactStore>,
    control: Arc<JobControl>,
    key: String,
    job_id: Uuid,
    spec_sha256: String,
    attempt: i32,
    interval: Option<Duration>,
}

impl Checkpoints {
    /// The checkpoints of `ctx`'s job.
    fn of(ctx: &JobContext) -> Self {
        Checkpoints {
            artifacts: ctx.artifacts.clone(),
            control: ctx.control.clone(),
            key: checkpoint_key(ctx.job.id),
            job_id: ctx.job.id,
            spec_sha256: hex::encode(Sha256::digest(ctx.job.spec.to_string().as_bytes())),
            attempt: ctx.job.attempt,
            interval: ctx.checkpoint_interval,
        }
    }

    /// Downloads the stored checkpoint to a scratch file (deleted on drop), when there is
    /// one. A checkpoint that cannot be read is logged and ignored: the job starts over.
    async fn fetch(&self) -> Option<StoredCheckpoint> {
        let path = self.artifacts.scratch_path(".checkpoint");
        match self.download(&path).await {
            Ok(true) => {
                self.control.mark_checkpointed();
                Some(StoredCheckpoint { path })
            }
            Ok(false) => None,
            Err(e) => {
                let _ = tokio::fs::remove_file(&path).await;
                tracing::warn!(error = %e, "reading the job's checkpoint failed; starting over");
                None
            }
        }
    }

    /// Copies the checkpoint to `path`. Not `ArtifactStore::local_path`: that caches remote
    /// objects by key, and a checkpoint key is overwritten while the job runs.
    async fn download(&self, path: &Path) -> Result<bool, JobError> {
        let stream = match self.artifacts.get(&self.key).await {
            Ok((_, stream)) => stream,
            Err(crate::artifacts::ArtifactError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let mut reader = StreamReader::new(futures::TryStreamExt::map_err(stream, |e| {
            std::io::Error::other(e.to_string())
        }));
        let mut file = tokio::fs::File::create(path).await?;
        tokio::io::copy(&mut reader, &mut file).await?;
        file.sync_all().await?;
        Ok(true)
    }

    /// A writer for training run `run` of this job, sending files to `tx`.
    fn writer(&self, tx: UnboundedSender<PathBuf>) -> CheckpointWriter {
        CheckpointWriter {
            checkpoints: self.clone(),
            run: String::new(),
            stage: 0,
            floor: 0,
            tx,
            last: Instant::now(),
        }
    }

    /// Publishes the files the writer sends (only the newest of several waiting ones).
    async fn publish(&self, mut rx: UnboundedReceiver<PathBuf>) {
        while let Some(mut path) = rx.recv().await {
            while let Ok(newer) = rx.try_recv() {
                let _ = tokio::fs::remove_file(&path).await;
                path = newer;
            }
            let started = Instant::now();
            match self
                .artifacts
                .publish(&path, &self.key, Durability::Durable)
                .await
            {
                Ok(bytes) => {
                    self.control.mark_checkpointed();
                    tracing::debug!(
                        bytes,
                        seconds = started.elapsed().as_secs_f64(),
                        "checkpoint stored"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "storing a checkpoint failed"),
            }
            let _ = tokio::fs::remove_file(&path).await;
        }
    }
}

/// A job's checkpoint downloaded to a scratch file.
struct StoredCheckpoint {
    path: PathBuf,
}

impl Drop for StoredCheckpoint {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The compute side of a job's checkpoints: the stored one an attempt may continue from,
/// and the writer of new ones.
pub struct TrainCheckpoints {
    /// The stored checkpoint, once read and found to be this job's.
    stored: Option<(Header, TrainSnapshot)>,
    writer: CheckpointWriter,
}

impl TrainCheckpoints {
    /// Reads the stored checkpoint, if any; one that is unreadable or of another job or spec
    /// is logged and ignored.
    fn open(stored: Option<StoredCheckpoint>, mut writer: CheckpointWriter) -> Self {
        let c = &writer.checkpoints;
        let stored = stored.and_then(|s| match decode(&s.path) {
            Ok((h, _)) if h.job_id != c.job_id || h.spec_sha256 != c.spec_sha256 => {
                tracing::warn!("ignoring a checkpoint of another job or spec");
                None
            }
            Ok(found) => Some(found),
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an unreadable checkpoint; starting over");
                None
            }
        });
        writer.floor = stored.as_ref().map_or(0, |(h, _)| h.stage);
        TrainCheckpoints { stored, writer }
    }

    /// Starts the job's training run `run`, its `stage`-th: restores `trainer` from the
    /// stored checkpoint when it was taken of this run and fits it, and returns the epoch the
    /// run continues from.
    pub fn begin(&mut self, run: &str, stage: usize, trainer: &mut Trainer<'_>) -> Option<usize> {
        self.writer.run = run.to_string();
        self.writer.stage = stage;
        let matches = self
            .stored
            .as_ref()
            .is_some_and(|(h, _)| h.run == run && h.stage == stage);
        if !matches {
            return None;
        }
        let (header, snapshot) = self.stored.take()?;
        let epoch = snapshot.epochs_run();
        match trainer.restore(snapshot) {
            Ok(()) => {
                tracing::info!(
                    epoch,
                    written_by_attempt = header.attempt,
                    run,
                    "resuming from a checkpoint"
                );
                Some(epoch)
            }
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a checkpoint that does not fit the run; starting over");
                None
            }
        }
    }

    /// `inner` with this job's checkpoints taken at the writer's pace.
    pub fn observer<'a>(&'a mut self, inner: &'a mut dyn TrainObserver) -> WithCheckpoints<'a> {
        WithCheckpoints {
            inner,
            writer: &mut self.writer,
        }
    }
}

/// Runs `work` on the compute pool like
/// [`compute_with_metrics`](super::epochs::compute_with_metrics), handing it the job's
/// [`TrainCheckpoints`], and publishes the checkpoints it writes before returning.
pub async fn compute_with_checkpoints<T, F>(ctx: &JobContext, work: F) -> Result<T, JobError>
where
    F: FnOnce(MetricSender, TrainCheckpoints) -> Result<T, JobError> + Send + 'static,
    T: Send + 'static,
{
    let checkpoints = Checkpoints::of(ctx);
    let stored = checkpoints.fetch().await;
    let (tx, rx) = unbounded_channel();
    let (files_tx, files_rx) = unbounded_channel();
    let writer = checkpoints.writer(files_tx);
    let (outcome, (), ()) = tokio::join!(
        ctx.compute
            .run(move || work(tx, TrainCheckpoints::open(stored, writer))),
        store_points(ctx, rx),
        checkpoints.publish(files_rx)
    );
    outcome?
}

/// The compute side of checkpointing: decides when a snapshot is due and encodes it.
pub struct CheckpointWriter {
    checkpoints: Checkpoints,
    run: String,
    stage: usize,
    /// The stored checkpoint's stage: earlier runs (replayed on the way back to it) do not
    /// overwrite it.
    floor: usize,
    tx: UnboundedSender<PathBuf>,
    last: Instant,
}

impl CheckpointWriter {
    /// Whether a snapshot is due: the interval has passed (and the job is not stopping), or
    /// the run is stopping for a shutdown hand-back.
    fn due(&self, stopping: bool) -> bool {
        let control = &self.checkpoints.control;
        if self.stage < self.floor {
            return false;
        }
        if stopping {
            return control.reason() == Some(StopReason::Shutdown);
        }
        !control.should_stop()
            && self
                .checkpoints
                .interval
                .is_some_and(|i| self.last.elapsed() >= i)
    }

    /// Encodes `snapshot` to a scratch file and hands it to the async side.
    fn write(&mut self, snapshot: &TrainSnapshot) {
        self.last = Instant::now();
        let c = &self.checkpoints;
        let path = c.artifacts.scratch_path(".checkpoint");
        let header = Header {
            format: FORMAT,
            job_id: c.job_id,
            spec_sha256: c.spec_sha256.clone(),
            run: self.run.clone(),
            stage: self.stage,
            attempt: c.attempt,
            activations: snapshot.layers.iter().map(|l| l.activation).collect(),
            state: snapshot.state.clone(),
        };
        match encode(&path, &header, snapshot) {
            Ok(()) => {
                let _ = self.tx.send(path);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                tracing::warn!(error = %e, "writing a checkpoint failed");
            }
        }
    }
}

/// A training run's observer with checkpoints taken beside it.
pub struct WithCheckpoints<'a> {
    inner: &'a mut dyn TrainObserver,
    writer: &'a mut CheckpointWriter,
}

impl TrainObserver for WithCheckpoints<'_> {
    fn on_epoch(&mut self, report: &crate::kernels::nn::EpochReport) -> std::ops::ControlFlow<()> {
        self.inner.on_epoch(report)
    }

    fn should_stop(&self) -> bool {
        self.inner.should_stop()
    }

    fn wants_snapshot(&mut self, stopping: bool) -> bool {
        self.writer.due(stopping)
    }

    fn on_snapshot(&mut self, snapshot: TrainSnapshot) {
        self.writer.write(&snapshot);
    }
}

/// One tensor to write: name, dtype, shape, little-endian bytes.
type Planned = (String, Dtype, Vec<usize>, Vec<u8>);

/// Adds an F32 tensor (empty ones are left out: optimizers without moments keep none).
fn push_f32(
    out: &mut Vec<Planned>,
    name: String,
    shape: Vec<usize>,
    v: &[f32],
) -> Result<(), JobError> {
    if !v.is_empty() {
        out.push((name, Dtype::F32, shape, from_f32(v, Dtype::F32)?));
    }
    Ok(())
}

/// Adds the weights and biases of `layers` as `<prefix>.<l>.weight|bias`.
fn push_layers(out: &mut Vec<Planned>, prefix: &str, layers: &[Dense]) -> Result<(), JobError> {
    for (l, d) in layers.iter().enumerate() {
        let w = d.weight.as_standard_layout();
        let values = w.as_slice().unwrap_or(&[]);
        push_f32(
            out,
            format!("{prefix}.{l}.weight"),
            w.shape().to_vec(),
            values,
        )?;
        let b = d.bias.to_vec();
        push_f32(out, format!("{prefix}.{l}.bias"), vec![b.len()], &b)?;
    }
    Ok(())
}

/// Tensors of a snapshot, by name, in file order.
fn tensors(s: &TrainSnapshot) -> Result<Vec<Planned>, JobError> {
    let mut out = Vec::new();
    push_layers(&mut out, "layers", &s.layers)?;
    push_layers(&mut out, "best", &s.best_layers)?;
    for (l, m) in s.moments.iter().enumerate() {
        for (part, (first, second)) in [("weight", &m.weight), ("bias", &m.bias)] {
            push_f32(
                &mut out,
                format!("moments.{l}.{part}.first"),
                vec![first.len()],
                first,
            )?;
            push_f32(
                &mut out,
                format!("moments.{l}.{part}.second"),
                vec![second.len()],
                second,
            )?;
        }
    }
    let order = s
        .order
        .iter()
        .map(|&i| u32::try_from(i).map(u32::to_le_bytes))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| JobError::Invalid("too many rows for a checkpoint".into()))?;
    if !order.is_empty() {
        out.push((
            "order".into(),
            Dtype::U32,
            vec![order.len()],
            order.concat(),
        ));
    }
    Ok(out)
}

/// Writes `snapshot` with `header` as a safetensors file at `path`.
fn encode(path: &Path, header: &Header, snapshot: &TrainSnapshot) -> Result<(), JobError> {
    let tensors = tensors(snapshot)?;
    let json = serde_json::to_string(header).map_err(|e| JobError::Transient(e.to_string()))?;
    let plans = tensors
        .iter()
        .map(|(name, dtype, shape, _)| TensorPlan {
            name: name.clone(),
            dtype: *dtype,
            shape: shape.clone(),
        })
        .collect();
    let metadata = BTreeMap::from([(HEADER_KEY.to_string(), json)]);
    let mut writer = SafetensorsWriter::create(path, plans, metadata)?;
    for (name, _, _, bytes) in &tensors {
        writer.write_tensor(name, bytes)?;
    }
    let file = writer.finish()?.finish()?;
    std::fs::File::open(&file.path)?.sync_all()?;
    Ok(())
}

/// Reads a checkpoint file back.
fn decode(path: &Path) -> Result<(Header, TrainSnapshot), JobError> {
    let file = MappedModel::open(path)?;
    let json = file
        .inventory()
        .metadata
        .get(HEADER_KEY)
        .ok_or_else(|| JobError::Invalid("not a whittle checkpoint".into()))?;
    let header: Header = serde_json::from_str(json)
        .map_err(|e| JobError::Invalid(format!("checkpoint header: {e}")))?;
    if header.format != FORMAT {
        return Err(JobError::Invalid(format!(
            "checkpoint format {} (this worker reads {FORMAT})",
            header.format
        )));
    }
    let optional = |name: &str| -> Result<Vec<f32>, JobError> {
        match file.tensor(name) {
            Ok(t) => Ok(to_f32(&t)?),
            Err(_) => Ok(Vec::new()),
        }
    };
    let layers = |prefix: &str, required: bool| -> Result<Vec<Dense>, JobError> {
        let mut out = Vec::new();
        for (l, &activation) in header.activations.iter().enumerate() {
            let w = match file.tensor(&format!("{prefix}.{l}.weight")) {
                Ok(t) => t,
                Err(_) if !required => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            out.push(Dense {
                weight: matrix(&w)?,
                bias: ndarray::Array1::from(optional(&format!("{prefix}.{l}.bias"))?),
                activation,
            });
        }
        Ok(out)
    };
    let layers_now = layers("layers", true)?;
    let best_layers = layers("best", false)?;
    let moments = (0..layers_now.len())
        .map(|l| {
            let pair = |part: &str| -> Result<(Vec<f32>, Vec<f32>), JobError> {
                Ok((
                    optional(&format!("moments.{l}.{part}.first"))?,
                    optional(&format!("moments.{l}.{part}.second"))?,
                ))
            };
            Ok(LayerMoments {
                weight: pair("weight")?,
                bias: pair("bias")?,
            })
        })
        .collect::<Result<Vec<_>, JobError>>()?;
    let order = match file.tensor("order") {
        Ok(t) if t.dtype == Dtype::U32 => t
            .data
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok())
            .map(|c| u32::from_le_bytes(c) as usize)
            .collect(),
        _ => return Err(JobError::Invalid("checkpoint has no row order".into())),
    };
    let snapshot = TrainSnapshot {
        state: header.state.clone(),
        layers: layers_now,
        moments,
        order,
        best_layers,
    };
    Ok((header, snapshot))
}

/// A 2-D F32 tensor as a matrix.
fn matrix(t: &TensorRef<'_>) -> Result<ndarray::Array2<f32>, JobError> {
    let [rows, cols] = t.shape else {
        return Err(JobError::Invalid(format!("{} is not a matrix", t.name)));
    };
    ndarray::Array2::from_shape_vec((*rows, *cols), to_f32(t)?)
        .map_err(|e| JobError::Invalid(format!("{}: {e}", t.name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::nn::{
        Init, Loss, Mlp, NoopObserver, OptimizerConfig, Targets, TrainConfig,
    };

    fn data() -> (ndarray::Array2<f32>, Targets) {
        let x = ndarray::Array2::from_shape_fn((40, 3), |(r, c)| {
            ((r * 7 + c * 3) % 11) as f32 / 5.0 - 1.0
        });
        let labels = (0..40)
            .map(|r| usize::from(x[[r, 0]] + x[[r, 2]] > 0.0))
            .collect();
        (
            x,
            Targets::Classification {
                labels,
                n_classes: 2,
            },
        )
    }

    fn config() -> TrainConfig {
        let mut cfg = TrainConfig::new(Loss::CrossEntropy, OptimizerConfig::adam(0.01), 6);
        cfg.batch_size = 8;
        cfg.dropout = Some(0.2);
        cfg.seed = 5;
        cfg
    }

    fn model() -> Mlp {
        Mlp::new_initialized(
            &[3, 6, 2],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            2,
        )
        .unwrap()
    }

    fn checkpoints(dir: &Path) -> Checkpoints {
        let artifacts = ArtifactStore::open(&dir.join("a").display().to_string(), &dir.join("s"));
        Checkpoints {
            artifacts: Arc::new(artifacts.unwrap()),
            control: Arc::new(JobControl::default()),
            key: checkpoint_key(Uuid::nil()),
            job_id: Uuid::nil(),
            spec_sha256: "spec".into(),
            attempt: 1,
            interval: None,
        }
    }

    /// Writes `snapshot` as run `run`/`stage` of `c`'s job; returns the stored file.
    fn written(
        c: &Checkpoints,
        snapshot: &TrainSnapshot,
        run: &str,
        stage: usize,
    ) -> StoredCheckpoint {
        let (tx, mut rx) = unbounded_channel();
        let mut writer = c.writer(tx);
        writer.run = run.into();
        writer.stage = stage;
        writer.write(snapshot);
        StoredCheckpoint {
            path: rx.try_recv().expect("a checkpoint file"),
        }
    }

    fn opened(c: &Checkpoints, stored: Option<StoredCheckpoint>) -> TrainCheckpoints {
        let (tx, _rx) = unbounded_channel();
        TrainCheckpoints::open(stored, c.writer(tx))
    }

    #[test]
    fn a_checkpoint_file_round_trips_exactly_and_resumes_the_run() {
        let (x, y) = data();
        let cfg = config();
        let mut whole = model();
        crate::kernels::nn::train(
            &mut whole,
            x.view(),
            &y,
            None,
            &cfg,
            None,
            &mut NoopObserver,
        )
        .unwrap();

        let mut m = model();
        let mut trainer = Trainer::new(&mut m, x.view(), &y, None, &cfg, None).unwrap();
        trainer.run_epoch(&mut NoopObserver).unwrap();
        trainer.run_epoch(&mut NoopObserver).unwrap();
        let snapshot = trainer.snapshot();
        drop(trainer);

        let dir = tempfile::tempdir().unwrap();
        let c = checkpoints(dir.path());
        let stored = written(&c, &snapshot, "fit", 3);
        let (header, back) = decode(&stored.path).unwrap();
        assert_eq!(back, snapshot);
        assert_eq!(
            (header.run.as_str(), header.stage, header.attempt),
            ("fit", 3, 1)
        );

        // Restored into a fresh run of another initialization, it ends like the whole run.
        let mut opened = opened(&c, Some(stored));
        assert_eq!(opened.writer.floor, 3, "earlier stages do not overwrite it");
        let mut other = Mlp::new_initialized(
            &[3, 6, 2],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            9,
        )
        .unwrap();
        let mut trainer = Trainer::new(&mut other, x.view(), &y, None, &cfg, None).unwrap();
        assert_eq!(opened.begin("fit", 2, &mut trainer), None, "another stage");
        assert!(!opened.writer.due(true) && !opened.writer.due(false));
        assert_eq!(opened.begin("other", 3, &mut trainer), None, "another run");
        assert_eq!(opened.begin("fit", 3, &mut trainer), Some(2));
        trainer.run(&mut NoopObserver).unwrap();
        assert_eq!(other, whole);
    }

    #[test]
    fn an_unusable_checkpoint_is_ignored() {
        let (x, y) = data();
        let cfg = config();
        let dir = tempfile::tempdir().unwrap();
        let c = checkpoints(dir.path());
        let mut m = model();
        let mut trainer = Trainer::new(&mut m, x.view(), &y, None, &cfg, None).unwrap();
        let path = dir.path().join("garbage");
        std::fs::write(&path, b"\x10\0\0\0\0\0\0\0{not json at all}").unwrap();
        let mut garbage = opened(&c, Some(StoredCheckpoint { path: path.clone() }));
        assert_eq!(garbage.begin("fit", 0, &mut trainer), None);
        drop(garbage);
        assert!(!path.exists(), "the scratch copy is removed");

        // A checkpoint of another job is refused too.
        trainer.run_epoch(&mut NoopObserver).unwrap();
        let mut other_job = c.clone();
        other_job.job_id = Uuid::now_v7();
        let stored = written(&other_job, &trainer.snapshot(), "fit", 0);
        let mut fresh = model();
        let mut trainer = Trainer::new(&mut fresh, x.view(), &y, None, &cfg, None).unwrap();
        assert_eq!(opened(&c, Some(stored)).begin("fit", 0, &mut trainer), None);
        assert_eq!(trainer.epochs_run(), 0);
    }
}

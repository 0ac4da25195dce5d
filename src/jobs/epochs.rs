//! Per-epoch series of training runs (`train_loss`, `lr`, `val_*`): the observer a training
//! kernel reports to, and the helper that runs compute while the async side stores the
//! points as they arrive, so `/v1/jobs/{id}/metrics` follows a running job.
use std::ops::ControlFlow;
use std::sync::Arc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::{JobContext, JobControl, JobError};
use crate::kernels::nn::{EpochReport, Task, TrainObserver};
use crate::store::MetricPoint;

/// Where compute sends metric points.
pub type MetricSender = UnboundedSender<Vec<MetricPoint>>;

/// Runs `work` on the compute pool with a [`MetricSender`]; what it sends is stored while it
/// runs.
pub async fn compute_with_metrics<T, F>(ctx: &JobContext, work: F) -> Result<T, JobError>
where
    F: FnOnce(MetricSender) -> Result<T, JobError> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = unbounded_channel();
    let (outcome, ()) = tokio::join!(ctx.compute.run(move || work(tx)), store_points(ctx, rx));
    outcome?
}

/// Stores each batch of points as it arrives, until every sender is gone.
pub(super) async fn store_points(ctx: &JobContext, mut rx: UnboundedReceiver<Vec<MetricPoint>>) {
    while let Some(points) = rx.recv().await {
        if let Err(e) = ctx.record_metrics(&points).await {
            tracing::warn!(error = %e, "recording epoch metrics failed");
        }
    }
}

/// Turns epoch reports into metric points, progress and stop checks.
pub struct EpochSeries {
    control: Arc<JobControl>,
    tx: MetricSender,
    epochs: usize,
    metric_name: &'static str,
    /// Added to epoch numbers (a later phase of a multi-phase job continues the series).
    pub step_offset: i64,
    prefix: &'static str,
    /// The epoch a checkpoint let this attempt start from (said in every progress message).
    pub resumed_from: Option<usize>,
}

impl EpochSeries {
    /// A series of `epochs` epochs of a `task` model, names prefixed by `prefix` (`qat_`…).
    pub fn new(
        control: Arc<JobControl>,
        tx: MetricSender,
        epochs: usize,
        task: Task,
        prefix: &'static str,
    ) -> Self {
        EpochSeries {
            control,
            tx,
            epochs,
            metric_name: task.headline_metric(),
            step_offset: 0,
            prefix,
            resumed_from: None,
        }
    }

    /// Notes that training continues from a checkpoint at `epoch` (and says so at once).
    /// The points of the epochs before are sent again: an attempt may have stored the
    /// checkpoint but not yet the points of its last epochs.
    pub fn resumed(&mut self, epoch: usize, history: &[EpochReport]) {
        for r in history {
            let _ = self.on_epoch(r);
        }
        self.resumed_from = Some(epoch);
        self.control.set_progress(
            epoch as f64 / self.epochs.max(1) as f64,
            Some(format!(
                "resumed from a checkpoint at epoch {epoch}/{}",
                self.epochs
            )),
        );
    }

    /// Sends one point outside the epoch reports (a gradual prune's sparsity…).
    pub fn send(&self, name: &str, step: i64, value: f64) {
        let _ = self.tx.send(vec![MetricPoint {
            name: name.into(),
            step,
            value,
        }]);
    }
}

impl TrainObserver for EpochSeries {
    fn on_epoch(&mut self, r: &EpochReport) -> ControlFlow<()> {
        let step = self.step_offset + r.epoch as i64;
        let p = |name: &str, value: f64| MetricPoint {
            name: format!("{}{name}", self.prefix),
            step,
            value,
        };
        let mut points = vec![p("train_loss", r.train_loss), p("lr", r.lr as f64)];
        if let Some(v) = r.val_loss {
            points.push(p("val_loss", v));
        }
        if let Some(v) = r.val_metric {
            points.push(p(&format!("val_{}", self.metric_name), v));
        }
        let _ = self.tx.send(points);
        let resumed = self
            .resumed_from
            .map(|e| format!(" (resumed from a checkpoint at epoch {e})"))
            .unwrap_or_default();
        self.control.set_progress(
            r.epoch as f64 / self.epochs.max(1) as f64,
            Some(format!(
                "epoch {}/{}: train_loss {:.4}{resumed}",
                r.epoch, self.epochs, r.train_loss
            )),
        );
        ControlFlow::Continue(())
    }

    fn should_stop(&self) -> bool {
        self.control.should_stop()
    }
}

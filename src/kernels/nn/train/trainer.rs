//! The training loop: [`Trainer`] runs one epoch per call (shuffle, batches, optimizer steps,
//! constraints, validation, early stopping), [`train()`] drives it to the end, and
//! [`evaluate`] scores a model on a labelled set.

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::backprop::{Batch, Workspace};
use super::config::{EpochReport, Evaluation, Monitor, TrainConfig, TrainObserver, TrainReport};
use super::snapshot::{LayerMoments, SnapshotState, TrainSnapshot};
use super::targets::{contiguous_values, TargetRows, Targets};
use crate::kernels::nn::activation::Activation;
use crate::kernels::nn::constraint::WeightConstraint;
use crate::kernels::nn::loss::{Loss, SampleTarget};
use crate::kernels::nn::model::{argmax, Dense, Mlp};
use crate::kernels::nn::optim::{step, OptimizerConfig, ParamState, StepScalars};
use crate::kernels::KernelError;

/// RNG stream for the per-epoch shuffle (the seed is shared with dropout, streams differ).
const SHUFFLE_STREAM: u64 = 1;
/// RNG stream for dropout masks.
const DROPOUT_STREAM: u64 = 2;

/// Mean `loss` and metric (accuracy or R²) of `model` on `(x, y)`.
pub fn evaluate(
    model: &Mlp,
    x: ArrayView2<f32>,
    y: &Targets,
    loss: Loss,
) -> Result<Evaluation, KernelError> {
    let out_act = model
        .layers
        .last()
        .map_or(Activation::Identity, |l| l.activation);
    loss.check(model.n_outputs(), out_act, y.n_classes())?;
    y.check(x.nrows(), model.n_outputs(), "evaluation set")?;
    if y.is_empty() {
        return Err(KernelError::Shape("evaluation set is empty".into()));
    }
    let raw = model.forward(x)?;
    let values = contiguous_values(y);
    let rows = TargetRows::new(y, &values)?;
    let mut total = 0.0;
    let mut hits = 0usize;
    let sigmoid_out = out_act == Activation::Sigmoid;
    for (r, out) in raw.outer_iter().enumerate() {
        let h = out.as_slice().unwrap_or(&[]);
        let target = rows.row(r);
        total += loss.sample(out_act, h, h, target, None);
        if let SampleTarget::Class(c) = target {
            let pred = if h.len() == 1 {
                // Same tie rule as `Mlp::predict_classes`: exactly 0.5 is class 0.
                let threshold = if sigmoid_out { 0.5 } else { 0.0 };
                usize::from(h[0] > threshold)
            } else {
                argmax(h)
            };
            hits += usize::from(pred == c);
        }
    }
    let n = y.len() as f64;
    let metric = match (y, &values) {
        (Targets::Regression(_), Some(t)) => mean_r2(t.view(), raw.view()),
        _ => hits as f64 / n,
    };
    if !total.is_finite() {
        return Err(KernelError::Numerical(
            "evaluation loss is not finite".into(),
        ));
    }
    Ok(Evaluation {
        loss: total / n,
        metric,
    })
}

fn mean_r2(t: ArrayView2<f32>, p: ArrayView2<f32>) -> f64 {
    let n = t.nrows() as f64;
    let mut sum = 0.0;
    for (tc, pc) in t.columns().into_iter().zip(p.columns()) {
        let mean = tc.iter().map(|&v| v as f64).sum::<f64>() / n;
        let ss_tot: f64 = tc.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
        let ss_res: f64 = tc
            .iter()
            .zip(pc.iter())
            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
            .sum();
        sum += if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else if ss_res == 0.0 {
            1.0
        } else {
            0.0
        };
    }
    sum / t.ncols().max(1) as f64
}

/// Recomputes the forward weights of every layer from the constraint.
fn forward_weights(
    model: &Mlp,
    constraint: Option<&dyn WeightConstraint>,
) -> Result<Vec<Option<Array2<f32>>>, KernelError> {
    let Some(c) = constraint else {
        return Ok(vec![None; model.layers.len()]);
    };
    model
        .layers
        .iter()
        .enumerate()
        .map(
            |(l, layer)| match c.forward_weight(l, layer.weight.view()) {
                Some(w) if w.dim() != layer.weight.dim() => Err(KernelError::Shape(format!(
                    "forward weight of layer {l} is {:?}, master is {:?}",
                    w.dim(),
                    layer.weight.dim()
                ))),
                Some(w) => Ok(Some(w.as_standard_layout().into_owned())),
                None => Ok(None),
            },
        )
        .collect()
}

/// Trains `model` in place on `(x, y)`; see the module docs for the pipeline. On an error
/// (cancel, diverging loss) the model keeps the weights of the last completed step.
/// `validation` feeds early stopping and the per-epoch report. Deterministic for a given
/// `cfg.seed` (and independent of the rayon thread count).
pub fn train(
    model: &mut Mlp,
    x: ArrayView2<f32>,
    y: &Targets,
    validation: Option<(ArrayView2<f32>, &Targets)>,
    cfg: &TrainConfig,
    constraint: Option<&dyn WeightConstraint>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainReport, KernelError> {
    // Views are invariant in their lifetime: re-borrow them for this call.
    let validation = validation.as_ref().map(|(vx, vy)| (vx.view(), *vy));
    Trainer::new(model, x.view(), y, validation, cfg, constraint)?.run(observer)
}

/// A training run that advances one epoch per call, so several runs (the folds of a
/// cross-validation) can move in lockstep and be judged together after every epoch.
/// [`train`] is `new`, `run_epoch` until [`Trainer::is_done`], then `finish`.
pub struct Trainer<'a> {
    model: &'a mut Mlp,
    x: ndarray::CowArray<'a, f32, ndarray::Ix2>,
    y: &'a Targets,
    values: Option<Array2<f32>>,
    validation: Option<(ArrayView2<'a, f32>, &'a Targets)>,
    cfg: &'a TrainConfig,
    constraint: Option<&'a dyn WeightConstraint>,
    batch: usize,
    dropout: Option<f32>,
    ws: Workspace,
    states: Vec<(ParamState, ParamState)>,
    fwd: Vec<Option<Array2<f32>>>,
    shuffle_rng: ChaCha8Rng,
    dropout_rng: ChaCha8Rng,
    order: Vec<usize>,
    l2: f32,
    decoupled: f32,
    report: TrainReport,
    best: Option<(f64, Vec<Dense>)>,
    since_best: usize,
    done: bool,
    parallel: bool,
    /// Inside an epoch (after its shuffle): batches taken and their loss sum.
    in_epoch: Option<(usize, f64)>,
    /// An epoch's mean loss above this means the run diverged (see [`divergence_limit`]).
    divergence_limit: f64,
}

/// How many times the loss of a constant predictor an epoch's mean training loss may reach
/// before the run counts as diverged. Training that works lowers the loss below that
/// predictor's; 10⁴ times above it, the weights are exploding (a learning rate far too high).
pub const DIVERGENCE_FACTOR: f64 = 1e4;

/// [`DIVERGENCE_FACTOR`] × the mean loss of the model that outputs zeros before its last
/// activation (uniform class probabilities, predictions 0 or 0.5), floored so a target the
/// constant predictor already fits exactly still leaves room.
fn divergence_limit(
    loss: Loss,
    out_act: Activation,
    y: &Targets,
    values: &Option<Array2<f32>>,
    n_outputs: usize,
) -> Result<f64, KernelError> {
    let rows = TargetRows::new(y, values)?;
    let z = vec![0.0f32; n_outputs];
    let h = vec![out_act.apply(0.0); n_outputs];
    let n = y.len();
    let total: f64 = (0..n)
        .map(|r| loss.sample(out_act, &z, &h, rows.row(r), None))
        .sum();
    Ok(DIVERGENCE_FACTOR * (total / n.max(1) as f64).max(1e-3))
}

impl<'a> Trainer<'a> {
    /// Checks every input and allocates the run's buffers.
    pub fn new(
        model: &'a mut Mlp,
        x: ArrayView2<'a, f32>,
        y: &'a Targets,
        validation: Option<(ArrayView2<'a, f32>, &'a Targets)>,
        cfg: &'a TrainConfig,
        constraint: Option<&'a dyn WeightConstraint>,
    ) -> Result<Self, KernelError> {
        if let Some(first) = cfg.problems().into_iter().next() {
            return Err(first);
        }
        model.validate()?;
        let n = x.nrows();
        if n == 0 {
            return Err(KernelError::Shape("training set is empty".into()));
        }
        if x.ncols() != model.n_inputs() {
            return Err(KernelError::Shape(format!(
                "training set has {} features, the model expects {}",
                x.ncols(),
                model.n_inputs()
            )));
        }
        let out_act = model
            .layers
            .last()
            .map_or(Activation::Identity, |l| l.activation);
        cfg.loss.check(model.n_outputs(), out_act, y.n_classes())?;
        y.check(n, model.n_outputs(), "training set")?;
        if let Some((vx, vy)) = validation {
            if vx.ncols() != model.n_inputs() {
                return Err(KernelError::Shape(
                    "validation set has the wrong number of features".into(),
                ));
            }
            if vy.n_classes() != y.n_classes() {
                return Err(KernelError::invalid(
                    "validation",
                    "targets differ in kind or classes",
                ));
            }
            vy.check(vx.nrows(), model.n_outputs(), "validation set")?;
            if vx.iter().any(|v| !v.is_finite()) {
                return Err(KernelError::invalid(
                    "features",
                    "validation features are not finite",
                ));
            }
            if vy.is_empty() {
                return Err(KernelError::Shape("validation set is empty".into()));
            }
        }
        if let Some(es) = &cfg.early_stopping {
            if es.monitor != Monitor::TrainLoss && validation.is_none() {
                return Err(KernelError::invalid(
                    "early_stopping.monitor",
                    "monitoring a validation value needs a validation set",
                ));
            }
        }
        if let Some(c) = constraint {
            c.check(model)?;
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(KernelError::invalid(
                "features",
                "training features are not finite",
            ));
        }
        for layer in &mut model.layers {
            if !layer.weight.is_standard_layout() {
                layer.weight = layer.weight.as_standard_layout().into_owned();
            }
            if layer.bias.as_slice().is_none() {
                layer.bias = layer.bias.as_standard_layout().into_owned();
            }
        }

        let x: ndarray::CowArray<'a, f32, ndarray::Ix2> = if x.is_standard_layout() {
            x.into()
        } else {
            x.as_standard_layout().into_owned().into()
        };
        let values = contiguous_values(y);
        let divergence_limit = divergence_limit(cfg.loss, out_act, y, &values, model.n_outputs())?;
        let batch = cfg.batch_size.min(n);
        let dropout = cfg.dropout.filter(|&p| p > 0.0);
        let ws = Workspace::new(model, batch, dropout.is_some());
        let states: Vec<(ParamState, ParamState)> = model
            .layers
            .iter()
            .map(|l| {
                (
                    ParamState::new(&cfg.optimizer, l.weight.len()),
                    ParamState::new(&cfg.optimizer, l.bias.len()),
                )
            })
            .collect();
        if let Some(c) = constraint {
            for (l, layer) in model.layers.iter_mut().enumerate() {
                c.project(l, &mut layer.weight, &mut layer.bias);
            }
        }
        let fwd = forward_weights(model, constraint)?;
        let mut shuffle_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        shuffle_rng.set_stream(SHUFFLE_STREAM);
        let mut dropout_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        dropout_rng.set_stream(DROPOUT_STREAM);
        let is_adamw = matches!(cfg.optimizer, OptimizerConfig::AdamW { .. });
        let (l2, decoupled) = if is_adamw {
            (0.0, cfg.weight_decay)
        } else {
            (cfg.weight_decay, 0.0)
        };
        Ok(Trainer {
            model,
            x,
            y,
            values,
            validation,
            cfg,
            constraint,
            batch,
            dropout,
            ws,
            states,
            fwd,
            shuffle_rng,
            dropout_rng,
            order: (0..n).collect(),
            l2,
            decoupled,
            report: TrainReport {
                epochs_run: 0,
                best_epoch: None,
                stopped_early: false,
                stopped_by_observer: false,
                restored_best: false,
                steps: 0,
                history: Vec::with_capacity(cfg.epochs),
                final_train_loss: f64::NAN,
                final_val_loss: None,
                final_val_metric: None,
            },
            best: None,
            since_best: 0,
            done: false,
            parallel: true,
            in_epoch: None,
            divergence_limit,
        })
    }

    /// Runs the remaining epochs and returns the report (see [`Trainer::finish`]). After
    /// every epoch but the last, and when `should_stop` ends the run, the observer is asked
    /// whether it wants a [`TrainSnapshot`] to continue from later.
    pub fn run(mut self, observer: &mut dyn TrainObserver) -> Result<TrainReport, KernelError> {
        while !self.is_done() {
            match self.run_epoch(observer) {
                Ok(_) if !self.is_done() && observer.wants_snapshot(false) => {
                    observer.on_snapshot(self.snapshot());
                }
                Ok(_) => {}
                Err(KernelError::Canceled) => {
                    if observer.wants_snapshot(true) {
                        observer.on_snapshot(self.snapshot());
                    }
                    return Err(KernelError::Canceled);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.finish())
    }

    /// The run's whole state, to continue from with [`Trainer::restore`]. Taken between
    /// batches (after an epoch, or after `should_stop` ended [`Trainer::run_epoch`]).
    pub fn snapshot(&self) -> TrainSnapshot {
        let moments = self
            .states
            .iter()
            .map(|(w, b)| {
                let (wf, ws) = w.moments();
                let (bf, bs) = b.moments();
                LayerMoments {
                    weight: (wf.to_vec(), ws.to_vec()),
                    bias: (bf.to_vec(), bs.to_vec()),
                }
            })
            .collect();
        let r = &self.report;
        TrainSnapshot {
            state: SnapshotState {
                config: self.cfg.clone(),
                epochs_run: r.epochs_run,
                steps: r.steps,
                history: r.history.clone(),
                best_epoch: r.best_epoch,
                best_score_bits: self.best.as_ref().map(|(s, _)| s.to_bits()),
                since_best: self.since_best,
                stopped_early: r.stopped_early,
                stopped_by_observer: r.stopped_by_observer,
                done: self.done,
                shuffle_word_pos: self.shuffle_rng.get_word_pos(),
                dropout_word_pos: self.dropout_rng.get_word_pos(),
                in_epoch: self.in_epoch.map(|(s, sum)| (s, sum.to_bits())),
            },
            layers: self.model.layers.clone(),
            moments,
            order: self.order.clone(),
            best_layers: self
                .best
                .as_ref()
                .map(|(_, l)| l.clone())
                .unwrap_or_default(),
        }
    }

    /// Continues the run `snapshot` was taken of: it must come from a run with the same
    /// config, model shapes and number of training rows. On an error nothing is changed.
    pub fn restore(&mut self, snapshot: TrainSnapshot) -> Result<(), KernelError> {
        self.check_snapshot(&snapshot)?;
        let TrainSnapshot {
            state,
            layers,
            moments,
            order,
            best_layers,
        } = snapshot;
        let cfg = self.cfg;
        let states = layers
            .iter()
            .zip(moments)
            .map(|(l, m)| {
                Ok((
                    ParamState::with_moments(
                        &cfg.optimizer,
                        l.weight.len(),
                        m.weight.0,
                        m.weight.1,
                    )?,
                    ParamState::with_moments(&cfg.optimizer, l.bias.len(), m.bias.0, m.bias.1)?,
                ))
            })
            .collect::<Result<Vec<_>, KernelError>>()?;
        let fwd = forward_weights(&Mlp::new(layers.clone())?, self.constraint)?;
        self.model.layers = layers;
        self.states = states;
        self.fwd = fwd;
        self.order = order;
        self.shuffle_rng.set_word_pos(state.shuffle_word_pos);
        self.dropout_rng.set_word_pos(state.dropout_word_pos);
        self.best = state
            .best_score_bits
            .map(|b| (f64::from_bits(b), best_layers));
        self.since_best = state.since_best;
        self.done = state.done;
        self.in_epoch = state.in_epoch.map(|(s, bits)| (s, f64::from_bits(bits)));
        let r = &mut self.report;
        r.epochs_run = state.epochs_run;
        r.steps = state.steps;
        r.history = state.history;
        r.best_epoch = state.best_epoch;
        r.stopped_early = state.stopped_early;
        r.stopped_by_observer = state.stopped_by_observer;
        Ok(())
    }

    /// Whether `s` fits this run: same config, layer shapes and activations, moments, a
    /// permutation of this run's rows, and consistent counters.
    fn check_snapshot(&self, s: &TrainSnapshot) -> Result<(), KernelError> {
        let bad = |what: &str| Err(KernelError::invalid("snapshot", what.to_string()));
        if s.state.config != *self.cfg {
            return bad("it was taken with a different training config");
        }
        let same_shape = |a: &[Dense]| {
            a.len() == self.model.layers.len()
                && a.iter().zip(&self.model.layers).all(|(x, y)| {
                    x.weight.dim() == y.weight.dim()
                        && x.bias.len() == y.bias.len()
                        && x.activation == y.activation
                })
        };
        if !same_shape(&s.layers) || s.moments.len() != s.layers.len() {
            return bad("its layers do not match the model");
        }
        if !s.best_layers.is_empty() && !same_shape(&s.best_layers) {
            return bad("its best-epoch layers do not match the model");
        }
        let n = self.order.len();
        let mut seen = vec![false; n];
        for &i in &s.order {
            match seen.get_mut(i) {
                Some(slot) if !*slot => *slot = true,
                _ => return bad("its row order is not a permutation of the training rows"),
            }
        }
        if s.order.len() != n {
            return bad("it was taken on a different number of training rows");
        }
        let st = &s.state;
        let steps_per_epoch = n.div_ceil(self.batch);
        if st.epochs_run > self.cfg.epochs
            || st.history.len() != st.epochs_run
            || st.in_epoch.is_some_and(|(k, _)| k >= steps_per_epoch)
        {
            return bad("its epoch counters are inconsistent");
        }
        if s.layers
            .iter()
            .chain(&s.best_layers)
            .any(|l| l.weight.iter().chain(l.bias.iter()).any(|v| !v.is_finite()))
        {
            return bad("its weights are not finite");
        }
        Ok(())
    }

    /// True once every epoch ran, early stopping fired or the observer said stop.
    pub fn is_done(&self) -> bool {
        self.done || self.report.epochs_run >= self.cfg.epochs
    }

    /// Keep each batch on one thread (for runs that are already parallel to each other, such
    /// as the folds of a cross-validation). The result is the same either way.
    pub fn single_threaded(mut self) -> Self {
        self.parallel = false;
        self
    }

    /// The model as trained so far.
    pub fn model(&self) -> &Mlp {
        self.model
    }

    /// Reports of the epochs completed so far.
    pub fn history(&self) -> &[EpochReport] {
        &self.report.history
    }

    /// Epochs completed so far.
    pub fn epochs_run(&self) -> usize {
        self.report.epochs_run
    }

    /// Ends the run before its last epoch (a pruned trial); `finish` still works.
    pub fn stop(&mut self) {
        if !self.done {
            self.done = true;
            self.report.stopped_by_observer = true;
        }
    }

    /// Runs one epoch (a no-op once done) and returns its report.
    pub fn run_epoch(
        &mut self,
        observer: &mut dyn TrainObserver,
    ) -> Result<Option<EpochReport>, KernelError> {
        if self.is_done() {
            return Ok(None);
        }
        let cfg = self.cfg;
        let n = self.order.len();
        let epoch = self.report.epochs_run;
        let xs = self
            .x
            .as_slice()
            .ok_or_else(|| KernelError::Shape("features are not contiguous".into()))?;
        let targets = TargetRows::new(self.y, &self.values)?;
        let steps_per_epoch = n.div_ceil(self.batch);
        let base_lr = cfg.optimizer.lr();
        let parallel = self.parallel && rayon::current_num_threads() > 1;
        let (skip, mut loss_sum) = match self.in_epoch {
            Some(resumed) => resumed,
            None => {
                if cfg.shuffle {
                    self.order.shuffle(&mut self.shuffle_rng);
                }
                (0, 0.0f64)
            }
        };
        self.in_epoch = Some((skip, loss_sum));
        let mut lr = base_lr;
        for (step_in_epoch, idx) in self.order.chunks(self.batch).enumerate().skip(skip) {
            if observer.should_stop() {
                return Err(KernelError::Canceled);
            }
            lr = cfg
                .lr_schedule
                .lr_at(base_lr, epoch, step_in_epoch, steps_per_epoch, cfg.epochs);
            let drop = self.dropout.map(|p| (p, &mut self.dropout_rng));
            let batch = Batch {
                x: xs,
                targets: &targets,
                idx,
            };
            let batch_loss = self
                .ws
                .forward_backward(self.model, &self.fwd, batch, cfg.loss, drop, parallel)?;
            if !batch_loss.is_finite() {
                return Err(KernelError::Numerical(format!(
                    "training loss became {batch_loss} at epoch {} step {}",
                    epoch + 1,
                    step_in_epoch + 1
                )));
            }
            loss_sum += batch_loss;
            if let Some(max_norm) = cfg.clip_grad_norm {
                self.ws.clip_gradients(max_norm);
            }
            self.report.steps += 1;
            let t = self.report.steps;
            for (l, layer) in self.model.layers.iter_mut().enumerate() {
                let (sw, sb) = &mut self.states[l];
                let w = layer
                    .weight
                    .as_slice_mut()
                    .ok_or_else(|| KernelError::Shape("weight is not contiguous".into()))?;
                step(
                    &cfg.optimizer,
                    sw,
                    w,
                    &self.ws.grad_w[l],
                    StepScalars {
                        lr,
                        l2: self.l2,
                        decoupled: self.decoupled,
                        t,
                    },
                );
                let b = layer
                    .bias
                    .as_slice_mut()
                    .ok_or_else(|| KernelError::Shape("bias is not contiguous".into()))?;
                step(
                    &cfg.optimizer,
                    sb,
                    b,
                    &self.ws.grad_b[l],
                    StepScalars {
                        lr,
                        l2: 0.0,
                        decoupled: 0.0,
                        t,
                    },
                );
                if let Some(c) = self.constraint {
                    c.project(l, &mut layer.weight, &mut layer.bias);
                }
            }
            if self.constraint.is_some() {
                self.fwd = forward_weights(self.model, self.constraint)?;
            }
            self.in_epoch = Some((step_in_epoch + 1, loss_sum));
        }
        self.in_epoch = None;
        let train_loss = loss_sum / n as f64;
        if train_loss > self.divergence_limit {
            return Err(KernelError::Numerical(format!(
                "training diverged: the mean loss of epoch {} is {train_loss:.3e}, over {:.0e} \
                 times that of a constant predictor; lower the learning rate",
                epoch + 1,
                DIVERGENCE_FACTOR
            )));
        }
        let (val_loss, val_metric) = match self.validation {
            Some((vx, vy)) => {
                let eval_model = constrained_copy(self.model, &self.fwd);
                let e = evaluate(eval_model.as_ref().unwrap_or(self.model), vx, vy, cfg.loss)?;
                (Some(e.loss), Some(e.metric))
            }
            None => (None, None),
        };
        let epoch_report = EpochReport {
            epoch: epoch + 1,
            train_loss,
            val_loss,
            val_metric,
            lr,
        };
        self.report.epochs_run = epoch + 1;
        let flow = observer.on_epoch(&epoch_report);
        self.report.history.push(epoch_report.clone());

        if let Some(es) = &cfg.early_stopping {
            // Lower-is-better score for every monitor.
            let score = match es.monitor {
                Monitor::ValLoss => val_loss.unwrap_or(f64::INFINITY),
                Monitor::ValMetric => -val_metric.unwrap_or(f64::NEG_INFINITY),
                Monitor::TrainLoss => train_loss,
            };
            let improved = self
                .best
                .as_ref()
                .is_none_or(|(b, _)| score < b - es.min_delta as f64);
            if improved {
                let snapshot = if es.restore_best {
                    self.model.layers.clone()
                } else {
                    Vec::new()
                };
                self.best = Some((score, snapshot));
                self.report.best_epoch = Some(epoch + 1);
                self.since_best = 0;
            } else {
                self.since_best += 1;
            }
            if self.since_best >= es.patience && epoch + 1 < cfg.epochs {
                self.report.stopped_early = true;
                self.done = true;
            }
        }
        if flow.is_break() {
            self.report.stopped_by_observer = true;
            self.done = true;
        }
        Ok(Some(epoch_report))
    }

    /// Puts back the best weights when early stopping asks for it and returns the report.
    pub fn finish(self) -> TrainReport {
        let Trainer {
            model,
            cfg,
            mut report,
            best,
            ..
        } = self;
        let mut final_epoch = report.epochs_run;
        if let (Some(es), Some((_, snapshot)), Some(best_epoch)) =
            (&cfg.early_stopping, best, report.best_epoch)
        {
            if es.restore_best && best_epoch != report.epochs_run && !snapshot.is_empty() {
                model.layers = snapshot;
                report.restored_best = true;
                final_epoch = best_epoch;
            }
        }
        if let Some(h) = report.history.get(final_epoch.saturating_sub(1)) {
            report.final_train_loss = h.train_loss;
            report.final_val_loss = h.val_loss;
            report.final_val_metric = h.val_metric;
        }
        report
    }
}

/// The model with its forward (constrained) weights, when a constraint transforms them, so
/// validation sees what inference after export will see.
fn constrained_copy(model: &Mlp, fwd: &[Option<Array2<f32>>]) -> Option<Mlp> {
    if fwd.iter().all(Option::is_none) {
        return None;
    }
    let mut copy = model.clone();
    for (layer, w) in copy.layers.iter_mut().zip(fwd) {
        if let Some(w) = w {
            layer.weight = w.clone();
        }
    }
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::super::config::{EarlyStopping, NoopObserver};
    use super::super::gaussian;
    use super::*;
    use crate::kernels::nn::fixtures::read_digits;
    use crate::kernels::nn::optim::LrSchedule;
    use crate::kernels::nn::{Init, MaskConstraint};
    use std::cell::Cell;
    use std::ops::ControlFlow;

    fn classification_cfg(epochs: usize, lr: f32) -> TrainConfig {
        let mut cfg = TrainConfig::new(Loss::CrossEntropy, OptimizerConfig::adam(lr), epochs);
        cfg.seed = 3;
        cfg
    }

    /// A relu MLP with an identity output layer, He-normal initialized from `seed`.
    fn relu_mlp(sizes: &[usize], seed: u64) -> Mlp {
        Mlp::new_initialized(
            sizes,
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            seed,
        )
        .unwrap()
    }

    /// Two-class targets: row `i` is class 1 when `class_one(i)`.
    fn binary_targets(rows: usize, class_one: impl Fn(usize) -> bool) -> Targets {
        Targets::Classification {
            labels: (0..rows).map(|i| class_one(i) as usize).collect(),
            n_classes: 2,
        }
    }

    #[test]
    fn learns_xor() {
        let x = ndarray::array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
        let y = Targets::Classification {
            labels: vec![0, 1, 1, 0],
            n_classes: 2,
        };
        let mut model = Mlp::new_initialized(
            &[2, 8, 2],
            Activation::Tanh,
            Activation::Identity,
            Init::GlorotUniform,
            1,
        )
        .unwrap();
        let mut cfg = classification_cfg(300, 0.05);
        cfg.batch_size = 4;
        let report = train(
            &mut model,
            x.view(),
            &y,
            None,
            &cfg,
            None,
            &mut NoopObserver,
        )
        .unwrap();
        assert_eq!(model.predict_classes(x.view()).unwrap(), vec![0, 1, 1, 0]);
        assert!(
            report.final_train_loss < 0.1,
            "loss {}",
            report.final_train_loss
        );
        assert_eq!(report.epochs_run, 300);
        assert_eq!(report.steps, 300);
    }

    #[test]
    fn digits_reaches_96_percent() {
        let (x, labels) = read_digits("digits_train.csv");
        let (xt, lt) = read_digits("digits_test.csv");
        let y = Targets::Classification {
            labels,
            n_classes: 10,
        };
        let mut model = Mlp::new_initialized(
            &[64, 256, 256, 10],
            Activation::Relu,
            Activation::Identity,
            Init::HeUniform,
            0,
        )
        .unwrap();
        let cfg = classification_cfg(10, 1e-3);
        train(
            &mut model,
            x.view(),
            &y,
            None,
            &cfg,
            None,
            &mut NoopObserver,
        )
        .unwrap();
        let pred = model.predict_classes(xt.view()).unwrap();
        let acc = crate::kernels::nn::metrics::accuracy(&lt, &pred).unwrap();
        assert!(acc >= 0.96, "test accuracy {acc}");
    }

    #[test]
    fn regression_reaches_r2_095() {
        // y = sin(x0) + 0.5·x1·x2 − 0.3·x3 + small noise.
        let x = gaussian(1200, 4, 6);
        let noise = gaussian(1200, 1, 7);
        let y = Array2::from_shape_fn((1200, 1), |(r, _)| {
            x[[r, 0]].sin() + 0.5 * x[[r, 1]] * x[[r, 2]] - 0.3 * x[[r, 3]] + 0.05 * noise[[r, 0]]
        });
        let (train_x, test_x) = x.view().split_at(ndarray::Axis(0), 1000);
        let train_y = Targets::Regression(y.slice(ndarray::s![..1000, ..]).to_owned());
        let test_y = Targets::Regression(y.slice(ndarray::s![1000.., ..]).to_owned());
        let mut model = Mlp::new_initialized(
            &[4, 64, 64, 1],
            Activation::Tanh,
            Activation::Identity,
            Init::GlorotUniform,
            1,
        )
        .unwrap();
        let mut cfg = TrainConfig::new(Loss::Mse, OptimizerConfig::adam(3e-3), 60);
        cfg.batch_size = 32;
        cfg.lr_schedule = LrSchedule {
            decay: crate::kernels::nn::LrDecay::Cosine { min_lr: 1e-4 },
            warmup_epochs: 2,
        };
        let report = train(
            &mut model,
            train_x,
            &train_y,
            Some((test_x, &test_y)),
            &cfg,
            None,
            &mut NoopObserver,
        )
        .unwrap();
        let r2 = report.final_val_metric.unwrap();
        assert!(r2 >= 0.95, "R² {r2}");
        let e = evaluate(&model, test_x, &test_y, Loss::Mse).unwrap();
        assert_eq!(e.metric, r2);
        // Warmup starts below the base rate and cosine ends near min_lr.
        assert!(report.history[0].lr < 3e-3);
        assert!((report.history[59].lr - 1e-4).abs() < 1e-5);
    }

    #[test]
    fn same_seed_gives_bitwise_identical_weights_on_any_thread_count() {
        let x = gaussian(300, 10, 8);
        let labels: Vec<usize> = (0..300)
            .map(|i| (x[[i, 0]] > 0.0) as usize + (x[[i, 1]] > 0.5) as usize)
            .collect();
        let y = Targets::Classification {
            labels,
            n_classes: 3,
        };
        let run = |threads: usize, seed: u64| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut model = Mlp::new_initialized(
                    // The 300×300 layer at batch 128 (11.5M FMAs) is split across threads.
                    &[10, 300, 300, 3],
                    Activation::Relu,
                    Activation::Identity,
                    Init::HeNormal,
                    4,
                )
                .unwrap();
                let mut cfg = classification_cfg(2, 1e-3);
                cfg.seed = seed;
                cfg.dropout = Some(0.2);
                cfg.batch_size = 128;
                train(
                    &mut model,
                    x.view(),
                    &y,
                    None,
                    &cfg,
                    None,
                    &mut NoopObserver,
                )
                .unwrap();
                model
            })
        };
        let a = run(1, 1);
        assert_eq!(a, run(1, 1));
        assert_eq!(a, run(2, 1));
        assert_ne!(a, run(1, 2));
    }

    #[test]
    fn early_stopping_restores_best_epoch() {
        // Validation labels disagree with the training rule, so validation loss rises while
        // the model fits the training set.
        let x = gaussian(200, 5, 9);
        let y = binary_targets(200, |i| x[[i, 0]] > 0.0);
        let vx = gaussian(100, 5, 10);
        let vy = binary_targets(100, |i| vx[[i, 0]] + 2.0 * vx[[i, 1]] > 0.0);
        let mut model = relu_mlp(&[5, 32, 2], 5);
        let mut cfg = classification_cfg(200, 1e-2);
        cfg.early_stopping = Some(EarlyStopping {
            patience: 3,
            min_delta: 0.0,
            monitor: Monitor::ValLoss,
            restore_best: true,
        });
        let report = train(
            &mut model,
            x.view(),
            &y,
            Some((vx.view(), &vy)),
            &cfg,
            None,
            &mut NoopObserver,
        )
        .unwrap();
        assert!(report.stopped_early);
        let best = report.best_epoch.unwrap();
        assert_eq!(report.epochs_run, best + 3);
        assert!(report.restored_best);
        let min = report
            .history
            .iter()
            .map(|h| h.val_loss.unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(report.history[best - 1].val_loss.unwrap(), min);
        // The returned weights are the best epoch's: re-evaluating gives exactly its loss.
        let e = evaluate(&model, vx.view(), &vy, Loss::CrossEntropy).unwrap();
        assert_eq!(Some(e.loss), report.final_val_loss);
        assert_eq!(e.loss, min);
    }

    #[test]
    fn mask_constraint_keeps_pruned_weights_at_zero() {
        let x = gaussian(256, 6, 11);
        let y = binary_targets(256, |i| x[[i, 2]] > 0.0);
        let mut model = relu_mlp(&[6, 16, 2], 6);
        let mask = Array2::from_shape_fn((16, 6), |(o, i)| ((o + i) % 2) as f32);
        let constraint = MaskConstraint::new(vec![Some(mask.clone()), None]).unwrap();
        let report = train(
            &mut model,
            x.view(),
            &y,
            None,
            &classification_cfg(20, 1e-2),
            Some(&constraint),
            &mut NoopObserver,
        )
        .unwrap();
        for (w, m) in model.layers[0].weight.iter().zip(mask.iter()) {
            assert!(*m == 1.0 || *w == 0.0);
        }
        assert!(model.layers[0].weight.iter().filter(|w| **w != 0.0).count() == 48);
        assert!(report.final_train_loss < 0.3);
    }

    /// Rounds forward weights to multiples of 0.25 (a crude fake quantizer).
    struct RoundTo;
    impl WeightConstraint for RoundTo {
        fn forward_weight(&self, _layer: usize, master: ArrayView2<f32>) -> Option<Array2<f32>> {
            Some(master.mapv(|w| (w * 4.0).round() / 4.0))
        }
    }

    #[test]
    fn fake_quant_trains_float_master_weights() {
        let x = gaussian(256, 4, 12);
        let y = binary_targets(256, |i| x[[i, 0]] - x[[i, 1]] > 0.0);
        let mut model = relu_mlp(&[4, 16, 2], 7);
        let cfg = classification_cfg(30, 1e-2);
        let report = train(
            &mut model,
            x.view(),
            &y,
            Some((x.view(), &y)),
            &cfg,
            Some(&RoundTo),
            &mut NoopObserver,
        )
        .unwrap();
        // Master weights stay off the grid (they receive the straight-through gradient)…
        assert!(model.layers[0]
            .weight
            .iter()
            .any(|w| (w * 4.0).fract().abs() > 1e-3));
        // …while the reported validation metric is the quantized model's.
        let mut quantized = model.clone();
        for (l, layer) in quantized.layers.iter_mut().enumerate() {
            layer.weight = RoundTo.forward_weight(l, layer.weight.view()).unwrap();
        }
        let e = evaluate(&quantized, x.view(), &y, Loss::CrossEntropy).unwrap();
        assert_eq!(Some(e.metric), report.final_val_metric);
        assert!(e.metric > 0.9, "quantized accuracy {}", e.metric);
    }

    struct StopAfter {
        polls: Cell<usize>,
        limit: usize,
        epochs: usize,
    }
    impl TrainObserver for StopAfter {
        fn on_epoch(&mut self, _r: &EpochReport) -> ControlFlow<()> {
            self.epochs += 1;
            if self.epochs == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
        fn should_stop(&self) -> bool {
            self.polls.set(self.polls.get() + 1);
            self.polls.get() > self.limit
        }
    }

    #[test]
    fn observer_can_cancel_or_stop() {
        let x = gaussian(100, 3, 13);
        let y = Targets::Classification {
            labels: (0..100).map(|i| i % 2).collect(),
            n_classes: 2,
        };
        let mut model = relu_mlp(&[3, 4, 2], 8);
        let mut cfg = classification_cfg(10, 1e-3);
        cfg.batch_size = 10;
        let mut cancel = StopAfter {
            polls: Cell::new(0),
            limit: 15,
            epochs: 0,
        };
        let r = train(&mut model, x.view(), &y, None, &cfg, None, &mut cancel);
        assert_eq!(r, Err(KernelError::Canceled));
        assert_eq!(cancel.epochs, 1);
        let mut stop = StopAfter {
            polls: Cell::new(0),
            limit: usize::MAX,
            epochs: 0,
        };
        let r = train(&mut model, x.view(), &y, None, &cfg, None, &mut stop).unwrap();
        assert!(r.stopped_by_observer);
        assert_eq!(r.epochs_run, 2);
        assert_eq!(r.history.len(), 2);
    }

    /// Takes a snapshot after epoch `at_epoch`, or when stopped after `stop_after` polls.
    #[derive(Default)]
    struct SnapshotTaker {
        at_epoch: usize,
        stop_after: Option<usize>,
        epochs: usize,
        polls: Cell<usize>,
        taken: Option<TrainSnapshot>,
    }
    impl TrainObserver for SnapshotTaker {
        fn on_epoch(&mut self, _r: &EpochReport) -> ControlFlow<()> {
            self.epochs += 1;
            ControlFlow::Continue(())
        }
        fn should_stop(&self) -> bool {
            self.polls.set(self.polls.get() + 1);
            self.stop_after.is_some_and(|n| self.polls.get() > n)
        }
        fn wants_snapshot(&mut self, stopping: bool) -> bool {
            stopping || self.epochs == self.at_epoch
        }
        fn on_snapshot(&mut self, snapshot: TrainSnapshot) {
            self.taken = Some(snapshot);
        }
    }

    /// A run with everything that carries state across epochs: shuffling, dropout, Adam
    /// moments, a step schedule, a mask constraint and early stopping with restored weights.
    struct ResumeCase {
        x: Array2<f32>,
        y: Targets,
        vx: Array2<f32>,
        vy: Targets,
        cfg: TrainConfig,
        mask: MaskConstraint,
    }

    impl ResumeCase {
        fn new() -> Self {
            let x = gaussian(150, 5, 21);
            let y = binary_targets(150, |i| x[[i, 0]] + x[[i, 3]] > 0.0);
            let vx = gaussian(60, 5, 22);
            let vy = binary_targets(60, |i| vx[[i, 0]] + vx[[i, 3]] > 0.0);
            let mut cfg = classification_cfg(12, 5e-3);
            cfg.batch_size = 16;
            cfg.dropout = Some(0.25);
            cfg.weight_decay = 1e-3;
            cfg.lr_schedule = LrSchedule {
                decay: crate::kernels::nn::LrDecay::Step {
                    step_size: 4,
                    gamma: 0.5,
                },
                warmup_epochs: 1,
            };
            cfg.early_stopping = Some(EarlyStopping {
                patience: 100,
                min_delta: 0.0,
                monitor: Monitor::ValLoss,
                restore_best: true,
            });
            let mask = Array2::from_shape_fn((12, 5), |(o, i)| ((o * 5 + i) % 3 != 0) as u8 as f32);
            let mask = MaskConstraint::new(vec![Some(mask), None]).unwrap();
            ResumeCase {
                x,
                y,
                vx,
                vy,
                cfg,
                mask,
            }
        }

        /// Trains a fresh model (from `init_seed`), restored from `from` when given.
        fn run(
            &self,
            init_seed: u64,
            from: Option<TrainSnapshot>,
            observer: &mut dyn TrainObserver,
        ) -> (Result<TrainReport, KernelError>, Mlp) {
            let mut model = relu_mlp(&[5, 12, 2], init_seed);
            let val = Some((self.vx.view(), &self.vy));
            let mut trainer = Trainer::new(
                &mut model,
                self.x.view(),
                &self.y,
                val,
                &self.cfg,
                Some(&self.mask),
            )
            .unwrap();
            if let Some(s) = from {
                trainer.restore(s).unwrap();
            }
            let report = trainer.run(observer);
            (report, model)
        }
    }

    #[test]
    fn resuming_from_an_epoch_snapshot_gives_the_uninterrupted_run() {
        let case = ResumeCase::new();
        let (whole, whole_model) = case.run(1, None, &mut NoopObserver);
        let whole = whole.unwrap();
        let mut taker = SnapshotTaker {
            at_epoch: 5,
            ..Default::default()
        };
        let (again, _) = case.run(1, None, &mut taker);
        assert_eq!(again.unwrap(), whole, "taking a snapshot changes nothing");
        let snapshot = taker.taken.expect("a snapshot after epoch 5");
        assert_eq!(snapshot.epochs_run(), 5);
        assert_eq!(snapshot.state.history, whole.history[..5]);
        // Another initialization: every weight must come from the snapshot.
        let (resumed, resumed_model) = case.run(99, Some(snapshot), &mut NoopObserver);
        let resumed = resumed.unwrap();
        assert_eq!(resumed, whole);
        assert_eq!(resumed.epochs_run, 12);
        let bits = |m: &Mlp| -> Vec<u32> {
            m.layers
                .iter()
                .flat_map(|l| l.weight.iter().chain(l.bias.iter()).map(|v| v.to_bits()))
                .collect()
        };
        assert_eq!(bits(&resumed_model), bits(&whole_model));
    }

    #[test]
    fn a_run_stopped_mid_epoch_continues_from_its_snapshot() {
        let case = ResumeCase::new();
        let (whole, whole_model) = case.run(1, None, &mut NoopObserver);
        let whole = whole.unwrap();
        // 10 batches per epoch: the 38th poll is in the middle of epoch 4.
        let mut stopper = SnapshotTaker {
            at_epoch: usize::MAX,
            stop_after: Some(37),
            ..Default::default()
        };
        let (stopped, _) = case.run(1, None, &mut stopper);
        assert_eq!(stopped, Err(KernelError::Canceled));
        let snapshot = stopper.taken.expect("a snapshot when stopped");
        assert_eq!(snapshot.epochs_run(), 3);
        assert_eq!(snapshot.state.in_epoch.map(|(k, _)| k), Some(7));
        assert_eq!(snapshot.state.steps, 37);
        let (resumed, resumed_model) = case.run(7, Some(snapshot), &mut NoopObserver);
        assert_eq!(resumed.unwrap(), whole);
        assert_eq!(resumed_model, whole_model);
        assert!(resumed_model
            .layers
            .iter()
            .zip(&whole_model.layers)
            .all(|(a, b)| a
                .weight
                .iter()
                .zip(&b.weight)
                .all(|(p, q)| p.to_bits() == q.to_bits())));
    }

    #[test]
    fn a_snapshot_of_another_run_is_refused() {
        let case = ResumeCase::new();
        let mut taker = SnapshotTaker {
            at_epoch: 2,
            ..Default::default()
        };
        let _ = case.run(1, None, &mut taker);
        let snapshot = taker.taken.unwrap();
        let mut model = relu_mlp(&[5, 12, 2], 1);
        let mut other_cfg = case.cfg.clone();
        other_cfg.seed = 4;
        {
            let val = Some((case.vx.view(), &case.vy));
            let mut t =
                Trainer::new(&mut model, case.x.view(), &case.y, val, &other_cfg, None).unwrap();
            assert!(t.restore(snapshot.clone()).is_err(), "other config");
        }
        let val = Some((case.vx.view(), &case.vy));
        let mut t = Trainer::new(&mut model, case.x.view(), &case.y, val, &case.cfg, None).unwrap();
        let mut shuffled = snapshot.clone();
        shuffled.order[0] = shuffled.order[1];
        assert!(t.restore(shuffled).is_err(), "not a permutation");
        let mut wider = snapshot.clone();
        wider.layers[0].bias = ndarray::Array1::zeros(13);
        assert!(t.restore(wider).is_err(), "other shapes");
        let mut no_moments = snapshot.clone();
        no_moments.moments[1].weight.1.clear();
        assert!(t.restore(no_moments).is_err(), "missing moments");
        assert_eq!(t.epochs_run(), 0, "a refused snapshot changes nothing");
        t.restore(snapshot).unwrap();
        assert_eq!(t.epochs_run(), 2);
    }

    #[test]
    fn diverging_loss_is_a_numerical_error() {
        let x = gaussian(64, 3, 14) * 100.0;
        let y = Targets::Regression(gaussian(64, 1, 15) * 1e6);
        let mut model = Mlp::new_initialized(
            &[3, 8, 1],
            Activation::Identity,
            Activation::Identity,
            Init::HeNormal,
            9,
        )
        .unwrap();
        let cfg = TrainConfig::new(
            Loss::Mse,
            OptimizerConfig::Sgd {
                lr: 10.0,
                momentum: 0.9,
                nesterov: false,
            },
            50,
        );
        let r = train(
            &mut model,
            x.view(),
            &y,
            None,
            &cfg,
            None,
            &mut NoopObserver,
        );
        assert!(matches!(r, Err(KernelError::Numerical(_))), "{r:?}");
    }

    /// A loss that explodes without reaching inf (SGD at lr 1e6 gave 2.7e20 and "succeeded")
    /// is divergence too; the same run at a sane rate is not.
    #[test]
    fn an_exploding_finite_loss_is_divergence() {
        let x = gaussian(256, 4, 21);
        let labels: Vec<usize> = x
            .outer_iter()
            .map(|r| usize::from(r[0] + r[1] > 0.0))
            .collect();
        let y = Targets::Classification {
            labels,
            n_classes: 2,
        };
        for (lr, diverges) in [(1e6, true), (0.05, false)] {
            let mut model = relu_mlp(&[4, 16, 2], 3);
            let cfg = TrainConfig::new(
                Loss::CrossEntropy,
                OptimizerConfig::Sgd {
                    lr,
                    momentum: 0.9,
                    nesterov: false,
                },
                5,
            );
            let r = train(
                &mut model,
                x.view(),
                &y,
                None,
                &cfg,
                None,
                &mut NoopObserver,
            );
            match r {
                Err(KernelError::Numerical(m)) => assert!(diverges, "lr {lr}: {m}"),
                Ok(report) => {
                    assert!(
                        !diverges,
                        "lr {lr} ended at loss {}",
                        report.final_train_loss
                    );
                    assert!(report.final_train_loss < 0.7);
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn rejects_bad_inputs_and_config() {
        let x = gaussian(10, 3, 16);
        let y = Targets::Classification {
            labels: vec![0; 10],
            n_classes: 2,
        };
        let mut model = relu_mlp(&[3, 4, 2], 10);
        let cfg = classification_cfg(1, 1e-3);
        let short = Targets::Classification {
            labels: vec![0; 9],
            n_classes: 2,
        };
        assert!(matches!(
            train(
                &mut model,
                x.view(),
                &short,
                None,
                &cfg,
                None,
                &mut NoopObserver
            ),
            Err(KernelError::Shape(_))
        ));
        let out_of_range = Targets::Classification {
            labels: vec![2; 10],
            n_classes: 2,
        };
        assert!(train(
            &mut model,
            x.view(),
            &out_of_range,
            None,
            &cfg,
            None,
            &mut NoopObserver
        )
        .is_err());
        let mut bad = cfg.clone();
        bad.batch_size = 0;
        bad.dropout = Some(1.0);
        assert_eq!(bad.problems().len(), 2);
        assert!(train(
            &mut model,
            x.view(),
            &y,
            None,
            &bad,
            None,
            &mut NoopObserver
        )
        .is_err());
        let mut needs_val = cfg.clone();
        needs_val.early_stopping = Some(EarlyStopping {
            patience: 2,
            min_delta: 0.0,
            monitor: Monitor::ValMetric,
            restore_best: true,
        });
        assert!(train(
            &mut model,
            x.view(),
            &y,
            None,
            &needs_val,
            None,
            &mut NoopObserver
        )
        .is_err());
        let mse = TrainConfig::new(Loss::Mse, OptimizerConfig::adam(1e-3), 1);
        assert!(train(
            &mut model,
            x.view(),
            &y,
            None,
            &mse,
            None,
            &mut NoopObserver
        )
        .is_err());
    }
}

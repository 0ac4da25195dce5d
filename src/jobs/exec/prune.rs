//! `prune`: zero the least important weights of any safetensors model, streamed one tensor at
//! a time (same dtypes out, signs of kept weights untouched), or — for MLPs — remove whole
//! neurons, use calibration activations (wanda), fine-tune with the pruned weights held at
//! zero, prune gradually between fine-tuning epochs, and measure the model before and after.
use async_trait::async_trait;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

use super::data::{load_dataset, load_model, standardize, targets};
use super::evaluate::evaluate_model;
use super::train::{default_loss, record_epochs, JobObserver};
use super::{Executor, JobOutput};
use crate::domain::selection::TensorSelection;
use crate::domain::specs::parse_typed;
use crate::domain::specs::prune::{PruneMethod, PruneSpec};
use crate::formats::dataset::Task;
use crate::formats::mlp::{save_mlp, MlpArchitecture};
use crate::formats::safetensors::{
    from_f32, to_f32, to_f32_into, Dtype, MappedModel, SafetensorsWriter, TensorPlan,
};
use crate::jobs::{JobContext, JobControl, JobError};
use crate::kernels::nn::{self, Dense, MaskConstraint, Mlp, OptimizerConfig, Targets, TrainConfig};
use crate::kernels::prune::{
    apply_mask, global_magnitude_cutoff, input_feature_norms, magnitude_masks, nm_mask,
    structured_prune_per_layer, threshold_masks, wanda_mask, wanda_nm_mask, MagnitudeCutoff,
    PolynomialDecay, Scope, TensorSparsity,
};
use crate::store::{DatasetRow, MetricPoint, ModelRow};

/// Runs `prune` jobs.
pub struct PruneExecutor;

/// Calibration rows used for wanda's input norms (enough for stable column norms).
const MAX_CALIBRATION_ROWS: usize = 4096;

/// Why unstructured and N:M masks do not make whittle's CPU inference faster.
const DENSE_NOTE: &str = "no CPU speed-up: pruned weights are stored as dense zeros and whittle's \
dense kernels do the same work; the gain is compressibility (and, for 2:4 patterns, hardware \
with sparse tensor cores). Use method structured for a smaller, faster dense model.";

/// Inputs resolved by the async side, handed to the compute pool.
struct PruneInputs {
    spec: PruneSpec,
    selection: TensorSelection,
    model: (ModelRow, PathBuf),
    eval: Option<(DatasetRow, PathBuf)>,
    finetune: Option<(DatasetRow, PathBuf)>,
    calibration: Option<(DatasetRow, PathBuf)>,
    output: PathBuf,
    job_id: String,
}

/// What the compute side produced.
struct Pruned {
    result: Value,
    n_params: u64,
    architecture: Option<Value>,
}

#[async_trait]
impl Executor for PruneExecutor {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let spec: PruneSpec =
            parse_typed(&ctx.job.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        let selection = spec
            .selection()
            .map_err(|e| JobError::Invalid(e.to_string()))?;
        let model = ctx.model(spec.model_id).await?;
        let eval = match spec.eval_dataset_id {
            Some(id) => Some(ctx.dataset(id).await?),
            None => None,
        };
        let finetune = match &spec.finetune {
            Some(f) => Some(ctx.dataset(f.dataset_id).await?),
            None => None,
        };
        let calibration = match spec.calibration_dataset_id {
            Some(id) => Some(ctx.dataset(id).await?),
            None => None,
        };
        let name = spec
            .output_name
            .clone()
            .unwrap_or_else(|| format!("{}-pruned", model.0.name));
        let output = ctx.scratch_path(".safetensors");
        let inputs = PruneInputs {
            spec,
            selection,
            model,
            eval,
            finetune,
            calibration,
            output: output.clone(),
            job_id: ctx.job.id.to_string(),
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let control = ctx.control.clone();
        let work = ctx.compute.run(move || prune_blocking(inputs, control, tx));
        let (outcome, ()) = tokio::join!(work, record_epochs(ctx, rx));
        let pruned = match outcome.and_then(|r| r) {
            Ok(p) => p,
            Err(e) => {
                let _ = std::fs::remove_file(&output);
                return Err(e);
            }
        };
        JobOutput::with_model(
            pruned.result,
            output,
            name,
            "safetensors",
            pruned.n_params as i64,
            pruned.architecture,
        )
    }
}

fn prune_blocking(
    inputs: PruneInputs,
    control: Arc<JobControl>,
    tx: UnboundedSender<Vec<MetricPoint>>,
) -> Result<Pruned, JobError> {
    if inputs.spec.needs_mlp() {
        prune_mlp(inputs, control, tx)
    } else {
        prune_stream(inputs, &control)
    }
}

/// Dtypes a pruned tensor can be written back in unchanged.
fn writable(dtype: Dtype) -> bool {
    matches!(dtype, Dtype::F32 | Dtype::F64 | Dtype::F16 | Dtype::BF16)
}

/// `[shape[0], product of the rest]`: rows are output units, columns their inputs.
fn as_matrix(shape: &[usize]) -> (usize, usize) {
    let rows = shape.first().copied().unwrap_or(0);
    let cols = shape.iter().skip(1).product();
    (rows, cols)
}

fn view2<'a>(shape: &[usize], data: &'a [f32]) -> Result<ArrayView2<'a, f32>, JobError> {
    ArrayView2::from_shape(as_matrix(shape), data).map_err(|e| JobError::Invalid(e.to_string()))
}

fn view2_mut<'a>(shape: &[usize], data: &'a mut [f32]) -> Result<ArrayViewMut2<'a, f32>, JobError> {
    ArrayViewMut2::from_shape(as_matrix(shape), data).map_err(|e| JobError::Invalid(e.to_string()))
}

/// Zeroes `w` where `mask` is false (`+0.0`).
fn apply_mask_view(mut w: ArrayViewMut2<f32>, mask: &Array2<bool>) {
    ndarray::Zip::from(&mut w).and(mask).for_each(|x, &keep| {
        if !keep {
            *x = 0.0;
        }
    });
}

/// The per-tensor rule of an unstructured prune.
enum TensorRule {
    Global(MagnitudeCutoff),
    Layer(f64),
    Threshold(f32),
    Nm(usize, usize),
}

impl TensorRule {
    fn apply(&self, k: usize, mut w: ArrayViewMut2<f32>) -> Result<(), JobError> {
        match self {
            TensorRule::Global(cut) => cut.apply(k, w)?,
            TensorRule::Layer(s) => {
                let cut = global_magnitude_cutoff(&[w.view()], *s)?;
                cut.apply(0, w)?;
            }
            TensorRule::Threshold(t) => {
                let masks = threshold_masks(&[w.view()], *t)?;
                if let Some(m) = masks.first() {
                    apply_mask_view(w, m);
                }
            }
            TensorRule::Nm(n, m) => {
                let mask = nm_mask(w.view(), *n, *m)?;
                apply_mask_view(w.view_mut(), &mask);
            }
        }
        Ok(())
    }
}

/// Any safetensors model: magnitude / threshold / N:M, tensor by tensor from the mapped file.
fn prune_stream(inputs: PruneInputs, control: &JobControl) -> Result<Pruned, JobError> {
    let PruneInputs {
        spec,
        selection,
        model: (row, path),
        output,
        job_id,
        ..
    } = inputs;
    let mapped = MappedModel::open(&path)?;
    let mut selected = Vec::new();
    let mut skipped = Vec::new();
    for (i, t) in mapped.tensors().enumerate() {
        if t.shape.len() < 2 || !selection.matches(t.name, t.shape) {
            continue;
        }
        if writable(t.dtype) {
            selected.push(i);
        } else {
            skipped.push(json!({"name": t.name, "dtype": t.dtype.to_string(),
                "reason": "only F32, F64, F16 and BF16 tensors are pruned"}));
        }
    }
    if selected.is_empty() {
        return Err(JobError::Invalid(
            "no tensor to prune: no float tensor with 2 or more dimensions matches include/exclude"
                .into(),
        ));
    }
    let rule = match spec.method {
        PruneMethod::Magnitude => {
            let s = spec.sparsity.unwrap_or(0.0);
            match spec.effective_scope() {
                Scope::Layer => TensorRule::Layer(s),
                Scope::Global => {
                    control.set_progress(0.05, Some("computing the global cutoff".into()));
                    // F32 tensors are viewed in place; others are converted once for the cutoff.
                    let mut values: Vec<(Vec<usize>, Cow<[f32]>)> = Vec::new();
                    for &i in &selected {
                        if control.should_stop() {
                            return Err(JobError::Canceled);
                        }
                        let t = mapped
                            .tensor_at(i)
                            .ok_or_else(|| JobError::Invalid(format!("tensor {i} vanished")))?;
                        let v = match t.as_f32_slice() {
                            Some(s) => Cow::Borrowed(s),
                            None => Cow::Owned(to_f32(&t)?),
                        };
                        values.push((t.shape.to_vec(), v));
                    }
                    let views = values
                        .iter()
                        .map(|(shape, v)| view2(shape, v))
                        .collect::<Result<Vec<_>, _>>()?;
                    TensorRule::Global(global_magnitude_cutoff(&views, s)?)
                }
            }
        }
        PruneMethod::Threshold => TensorRule::Threshold(spec.threshold.unwrap_or(0.0)),
        PruneMethod::Nm => TensorRule::Nm(spec.n.unwrap_or(2), spec.m.unwrap_or(4)),
        other => {
            return Err(JobError::Invalid(format!(
                "method {} needs an MLP model",
                other.as_str()
            )))
        }
    };

    let plans = mapped
        .tensors()
        .map(|t| TensorPlan {
            name: t.name.to_string(),
            dtype: t.dtype,
            shape: t.shape.to_vec(),
        })
        .collect();
    let mut metadata = mapped.inventory().metadata.clone();
    metadata.insert("whittle_job_id".into(), job_id);
    metadata.insert("whittle_pruned".into(), spec.method.as_str().into());
    let mut writer = SafetensorsWriter::create(&output, plans, metadata)?;
    let mut buffer: Vec<f32> = Vec::new();
    let mut reports = Vec::with_capacity(selected.len());
    let (mut numel, mut zeros, mut zeros_before) = (0u64, 0u64, 0u64);
    let mut k = 0usize;
    for (i, t) in mapped.tensors().enumerate() {
        if control.should_stop() {
            return Err(JobError::Canceled);
        }
        if selected.get(k) != Some(&i) {
            writer.write_tensor(t.name, t.data)?;
            continue;
        }
        to_f32_into(&t, &mut buffer)?;
        let before = TensorSparsity::from_weights(view2(t.shape, &buffer)?);
        rule.apply(k, view2_mut(t.shape, &mut buffer)?)?;
        let after = TensorSparsity::from_weights(view2(t.shape, &buffer)?);
        writer.write_tensor(t.name, &from_f32(&buffer, t.dtype)?)?;
        numel += after.numel;
        zeros += after.zeros;
        zeros_before += before.zeros;
        reports.push(
            json!({"name": t.name, "dtype": t.dtype.to_string(), "shape": t.shape,
            "numel": after.numel, "zeros_before": before.zeros, "zeros": after.zeros,
            "sparsity": after.sparsity}),
        );
        k += 1;
        control.set_progress(
            0.1 + 0.9 * k as f64 / selected.len() as f64,
            Some(format!("pruned {k}/{} tensors", selected.len())),
        );
    }
    writer.finish()?;
    let bytes_after = std::fs::metadata(&output)?.len();
    let params = mapped.inventory().n_params;
    let mut result = json!({
        "model_id": row.id,
        "method": spec.method,
        "tensors": reports,
        "skipped_tensors": skipped,
        "global": {"numel": numel, "zeros_before": zeros_before, "zeros": zeros,
            "sparsity": if numel == 0 { 0.0 } else { zeros as f64 / numel as f64 }},
        "params_before": params,
        "params_after": params,
        "nonzero_params_after": params - zeros,
        "bytes_before": row.bytes,
        "bytes_after": bytes_after,
        "storage": "dense",
        "speedup_note": DENSE_NOTE,
    });
    add_method_fields(&mut result, &spec, &rule);
    Ok(Pruned {
        result,
        n_params: params,
        architecture: row.architecture.clone(),
    })
}

/// Method parameters echoed in the result.
fn add_method_fields(result: &mut Value, spec: &PruneSpec, rule: &TensorRule) {
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    match rule {
        TensorRule::Global(cut) => {
            obj.insert("scope".into(), json!("global"));
            obj.insert("target_sparsity".into(), json!(spec.sparsity));
            obj.insert("cutoff_magnitude".into(), json!(cut.threshold()));
        }
        TensorRule::Layer(s) => {
            obj.insert("scope".into(), json!("layer"));
            obj.insert("target_sparsity".into(), json!(s));
        }
        TensorRule::Threshold(t) => {
            obj.insert("threshold".into(), json!(t));
        }
        TensorRule::Nm(n, m) => {
            obj.insert("pattern".into(), json!(format!("{n}:{m}")));
        }
    }
}

/// A labelled dataset ready for the model: inputs standardized like the model expects.
struct Prepared {
    x: Array2<f32>,
    y: Targets,
    task: Task,
}

fn prepare(
    d: &(DatasetRow, PathBuf),
    arch: &MlpArchitecture,
    standardized: bool,
) -> Result<Prepared, JobError> {
    let ds = load_dataset(&d.0, &d.1)?;
    let y = targets(&ds, arch.classes.as_deref())?;
    let mut x = ds.x;
    if standardized {
        if let (Some(m), Some(s)) = (&arch.input_mean, &arch.input_std) {
            standardize(&mut x, m, s);
        }
    }
    Ok(Prepared {
        x,
        y,
        task: ds.task,
    })
}

/// One dense layer applied to `h` (for wanda's layer-by-layer calibration pass).
fn layer_forward(layer: &Dense, h: &Array2<f32>) -> Array2<f32> {
    let mut z = h.dot(&layer.weight.t());
    z += &layer.bias;
    match z.as_slice_mut() {
        Some(s) => layer.activation.apply_slice(s),
        None => z.mapv_inplace(|v| layer.activation.apply(v)),
    }
    z
}

/// Unstructured masks for the selected layers at `sparsity` (ignored by threshold and N:M),
/// applied to `mlp` in place. Wanda runs the calibration rows through the model layer by
/// layer, so each layer's norms come from the already-pruned layers before it.
fn prune_layers(
    mlp: &mut Mlp,
    spec: &PruneSpec,
    selected: &[bool],
    sparsity: f64,
    calibration: Option<&Array2<f32>>,
) -> Result<Vec<Option<Array2<bool>>>, JobError> {
    let mut masks: Vec<Option<Array2<bool>>> = vec![None; mlp.layers.len()];
    let chosen: Vec<usize> = (0..mlp.layers.len())
        .filter(|&l| selected.get(l).copied().unwrap_or(false))
        .collect();
    match spec.method {
        PruneMethod::Magnitude | PruneMethod::Threshold | PruneMethod::Nm => {
            let views: Vec<ArrayView2<f32>> = chosen
                .iter()
                .map(|&l| mlp.layers[l].weight.view())
                .collect();
            let computed = match spec.method {
                PruneMethod::Magnitude => {
                    magnitude_masks(&views, sparsity, spec.effective_scope())?
                }
                PruneMethod::Threshold => threshold_masks(&views, spec.threshold.unwrap_or(0.0))?,
                _ => views
                    .iter()
                    .map(|w| nm_mask(w.view(), spec.n.unwrap_or(2), spec.m.unwrap_or(4)))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            for (&l, mask) in chosen.iter().zip(computed) {
                masks[l] = Some(mask);
            }
        }
        PruneMethod::Wanda => {
            let x = calibration
                .ok_or_else(|| JobError::Invalid("wanda needs calibration_dataset_id".into()))?;
            let mut h = x.clone();
            let n_layers = mlp.layers.len();
            for (l, (layer, slot)) in mlp.layers.iter_mut().zip(masks.iter_mut()).enumerate() {
                if chosen.contains(&l) {
                    let norms = input_feature_norms(h.view());
                    let w = layer.weight.view();
                    let mask = match (spec.n, spec.m) {
                        (Some(n), Some(m)) => wanda_nm_mask(w, norms.view(), n, m)?,
                        _ => wanda_mask(w, norms.view(), sparsity)?,
                    };
                    apply_mask(&mut layer.weight, &mask)?;
                    *slot = Some(mask);
                }
                if l + 1 < n_layers {
                    h = layer_forward(layer, &h);
                }
            }
        }
        PruneMethod::Structured => {
            return Err(JobError::Invalid(
                "structured pruning removes neurons; it has no masks".into(),
            ))
        }
    }
    for (layer, mask) in mlp.layers.iter_mut().zip(&masks) {
        if let Some(m) = mask {
            apply_mask(&mut layer.weight, m)?;
        }
    }
    Ok(masks)
}

/// Fine-tuning state shared by the one-shot and gradual paths.
struct Finetuner<'a> {
    data: &'a Prepared,
    val: Option<&'a Prepared>,
    cfg: TrainConfig,
    observer: JobObserver,
    epochs_done: usize,
    losses: Vec<f64>,
}

impl Finetuner<'_> {
    /// Train `epochs` more epochs with pruned weights held at zero.
    fn run(
        &mut self,
        mlp: &mut Mlp,
        masks: Option<&[Option<Array2<bool>>]>,
        epochs: usize,
    ) -> Result<(), JobError> {
        if epochs == 0 {
            return Ok(());
        }
        let constraint = match masks {
            Some(m) => Some(MaskConstraint::new(
                m.iter()
                    .map(|o| {
                        o.as_ref()
                            .map(|k| k.mapv(|keep| if keep { 1.0 } else { 0.0 }))
                    })
                    .collect(),
            )?),
            None => None,
        };
        let mut cfg = self.cfg.clone();
        cfg.epochs = epochs;
        cfg.seed = cfg.seed.wrapping_add(self.epochs_done as u64);
        self.observer.step_offset = self.epochs_done as i64;
        let val = self.val.map(|v| (v.x.view(), &v.y));
        let report = nn::train(
            mlp,
            self.data.x.view(),
            &self.data.y,
            val,
            &cfg,
            constraint.as_ref().map(|c| c as &dyn nn::WeightConstraint),
            &mut self.observer,
        )?;
        self.losses
            .extend(report.history.iter().map(|r| r.train_loss));
        self.epochs_done += report.epochs_run;
        // The projection multiplies by 0, which leaves -0.0 in negative slots: write +0.0.
        if let Some(m) = masks {
            for (layer, mask) in mlp.layers.iter_mut().zip(m) {
                if let Some(mask) = mask {
                    apply_mask(&mut layer.weight, mask)?;
                }
            }
        }
        Ok(())
    }
}

/// The headline metric of an evaluation (`accuracy` or `r2`).
fn headline(eval: &Value) -> Option<(&'static str, f64)> {
    if let Some(a) = eval["accuracy"].as_f64() {
        Some(("accuracy", a))
    } else {
        eval["r2"].as_f64().map(|r| ("r2", r))
    }
}

/// MLP models: every method, fine-tuning, gradual schedule, evaluation before and after.
fn prune_mlp(
    inputs: PruneInputs,
    control: Arc<JobControl>,
    tx: UnboundedSender<Vec<MetricPoint>>,
) -> Result<Pruned, JobError> {
    let PruneInputs {
        spec,
        selection,
        model: (row, path),
        eval,
        finetune,
        calibration,
        output,
        job_id,
    } = inputs;
    control.set_progress(0.02, Some("loading".into()));
    let (mut mlp, arch) = load_model(&row, &path)?;
    let sizes_before = mlp.layer_sizes();
    let params_before = mlp.n_params() as u64;
    // Layer names as whittle writes them; include/exclude globs match these.
    let selected: Vec<bool> = mlp
        .layers
        .iter()
        .enumerate()
        .map(|(l, d)| {
            selection.matches(
                &format!("layers.{l}.weight"),
                &[d.n_outputs(), d.n_inputs()],
            )
        })
        .collect();
    if !selected.iter().any(|&s| s) {
        return Err(JobError::Invalid(
            "no layer to prune: no layers.N.weight matches include/exclude".into(),
        ));
    }

    // Raw features for evaluation (evaluate_model folds standardization into the model).
    let eval_raw = match &eval {
        Some(d) => Some(prepare(d, &arch, false)?),
        None => None,
    };
    let eval_std = match &eval {
        Some(d) if spec.finetune.is_some() => Some(prepare(d, &arch, true)?),
        _ => None,
    };
    let before = match &eval_raw {
        Some(p) => {
            control.set_progress(0.05, Some("evaluating the dense model".into()));
            Some(evaluate_model(&mlp, &arch, p.x.view(), &p.y, None)?)
        }
        None => None,
    };
    let calibration_x = match &calibration {
        Some(d) => {
            let mut p = prepare(d, &arch, true)?;
            if p.x.nrows() > MAX_CALIBRATION_ROWS {
                p.x =
                    p.x.slice(ndarray::s![..MAX_CALIBRATION_ROWS, ..])
                        .to_owned();
            }
            Some(p.x)
        }
        None => None,
    };
    let train_data = match &finetune {
        Some(d) => Some(prepare(d, &arch, true)?),
        None => None,
    };
    let mut tuner = match (&spec.finetune, &train_data) {
        (Some(f), Some(data)) => {
            let loss = default_loss(data.task);
            let mut cfg = TrainConfig::new(loss, OptimizerConfig::adam(f.lr), f.epochs);
            cfg.batch_size = f.batch_size;
            cfg.seed = f.seed;
            Some(Finetuner {
                data,
                val: eval_std.as_ref(),
                cfg,
                observer: JobObserver {
                    control: control.clone(),
                    tx: tx.clone(),
                    epochs: f.epochs,
                    metric_name: if data.task == Task::Classification {
                        "accuracy"
                    } else {
                        "r2"
                    },
                    step_offset: 0,
                    prefix: "",
                },
                epochs_done: 0,
                losses: Vec::new(),
            })
        }
        _ => None,
    };
    if control.should_stop() {
        return Err(JobError::Canceled);
    }

    control.set_progress(0.1, Some("pruning".into()));
    let sparsity = spec.sparsity.unwrap_or(0.0);
    let mut structured = None;
    let mut rounds = Vec::new();
    let _masks = match spec.method {
        PruneMethod::Structured => {
            let hidden = mlp.layers.len().saturating_sub(1);
            let per_layer: Vec<f64> = (0..hidden)
                .map(|l| if selected[l] { sparsity } else { 0.0 })
                .collect();
            let mut ws: Vec<Array2<f32>> = mlp.layers.iter().map(|l| l.weight.clone()).collect();
            let mut bs: Vec<_> = mlp.layers.iter().map(|l| l.bias.clone()).collect();
            let report = structured_prune_per_layer(&mut ws, &mut bs, &per_layer, spec.norm)?;
            let layers = ws
                .into_iter()
                .zip(bs)
                .zip(mlp.layers.iter().map(|l| l.activation))
                .map(|((weight, bias), activation)| Dense {
                    // Column selection can leave a column-major array; the forward pass
                    // needs row-major weights.
                    weight: weight.as_standard_layout().into_owned(),
                    bias,
                    activation,
                })
                .collect();
            mlp = Mlp::new(layers)?;
            structured = Some(report);
            if let Some(t) = tuner.as_mut() {
                let epochs = t.cfg.epochs;
                t.run(&mut mlp, None, epochs)?;
            }
            None
        }
        _ => match (&spec.gradual, tuner.as_mut()) {
            (Some(g), Some(t)) => {
                let schedule = PolynomialDecay {
                    initial_sparsity: g.initial_sparsity,
                    final_sparsity: sparsity,
                    begin_step: 0,
                    end_step: (g.steps - 1) as u64,
                    power: g.power,
                    frequency: 1,
                };
                schedule.validate()?;
                let total = t.cfg.epochs;
                let mut masks = Vec::new();
                for k in 0..g.steps {
                    if control.should_stop() {
                        return Err(JobError::Canceled);
                    }
                    let s_k = schedule.sparsity_at(k as u64);
                    masks = prune_layers(&mut mlp, &spec, &selected, s_k, calibration_x.as_ref())?;
                    let epochs = total / g.steps + usize::from(k < total % g.steps);
                    let _ = tx.send(vec![MetricPoint {
                        name: "sparsity".into(),
                        step: t.epochs_done as i64,
                        value: s_k,
                    }]);
                    rounds.push(json!({"round": k + 1, "sparsity": s_k, "epochs": epochs}));
                    t.run(&mut mlp, Some(&masks), epochs)?;
                }
                Some(masks)
            }
            (_, tuner_opt) => {
                let masks =
                    prune_layers(&mut mlp, &spec, &selected, sparsity, calibration_x.as_ref())?;
                if let Some(t) = tuner_opt {
                    let epochs = t.cfg.epochs;
                    t.run(&mut mlp, Some(&masks), epochs)?;
                }
                Some(masks)
            }
        },
    };
    if control.should_stop() {
        return Err(JobError::Canceled);
    }

    control.set_progress(0.9, Some("evaluating the pruned model".into()));
    let mut new_arch = arch.clone();
    new_arch.layer_sizes = mlp.layer_sizes();
    let after = match &eval_raw {
        Some(p) => Some(evaluate_model(&mlp, &new_arch, p.x.view(), &p.y, None)?),
        None => None,
    };

    // Sparsity of the selected layers (all layers for structured: nothing is masked there).
    let mut tensors = Vec::new();
    let (mut numel, mut zeros) = (0u64, 0u64);
    for (l, layer) in mlp.layers.iter().enumerate() {
        if !selected.get(l).copied().unwrap_or(false) {
            continue;
        }
        let t = TensorSparsity::from_weights(layer.weight.view());
        numel += t.numel;
        zeros += t.zeros;
        tensors.push(json!({"name": format!("layers.{l}.weight"), "dtype": "F32",
            "shape": [layer.n_outputs(), layer.n_inputs()], "numel": t.numel,
            "zeros": t.zeros, "sparsity": t.sparsity}));
    }
    let total_zeros: u64 = mlp
        .layers
        .iter()
        .map(|l| TensorSparsity::from_weights(l.weight.view()).zeros)
        .sum();
    let params_after = mlp.n_params() as u64;

    let mut extra = BTreeMap::new();
    extra.insert("whittle_job_id".to_string(), job_id);
    extra.insert(
        "whittle_pruned".to_string(),
        spec.method.as_str().to_string(),
    );
    let bytes = save_mlp(&mlp, &new_arch, &extra)?;
    std::fs::write(&output, &bytes)?;

    let mut result = json!({
        "model_id": row.id,
        "method": spec.method,
        "tensors": tensors,
        "global": {"numel": numel, "zeros": zeros,
            "sparsity": if numel == 0 { 0.0 } else { zeros as f64 / numel as f64 }},
        "params_before": params_before,
        "params_after": params_after,
        "nonzero_params_after": params_after - total_zeros,
        "bytes_before": row.bytes,
        "bytes_after": bytes.len(),
        "layer_sizes_before": sizes_before,
        "layer_sizes_after": new_arch.layer_sizes,
        "storage": "dense",
    });
    let obj = result
        .as_object_mut()
        .ok_or_else(|| JobError::Transient("result is not an object".into()))?;
    match spec.method {
        PruneMethod::Magnitude => {
            obj.insert("scope".into(), json!(spec.effective_scope()));
            obj.insert("target_sparsity".into(), json!(spec.sparsity));
        }
        PruneMethod::Structured | PruneMethod::Wanda => {
            obj.insert("target_sparsity".into(), json!(spec.sparsity));
        }
        PruneMethod::Threshold => {
            obj.insert("threshold".into(), json!(spec.threshold));
        }
        PruneMethod::Nm => {}
    }
    if let (Some(n), Some(m)) = (spec.n, spec.m) {
        obj.insert("pattern".into(), json!(format!("{n}:{m}")));
    }
    if let Some(r) = &structured {
        obj.insert("hidden_sizes_before".into(), json!(r.sizes_before));
        obj.insert("hidden_sizes_after".into(), json!(r.sizes_after));
        obj.insert(
            "speedup_note".into(),
            json!(format!(
                "neurons were removed: a smaller dense model ({params_before} → {params_after} \
                 parameters) that runs faster on any hardware"
            )),
        );
    } else {
        obj.insert("speedup_note".into(), json!(DENSE_NOTE));
    }
    if let Some(t) = &tuner {
        obj.insert(
            "finetune".into(),
            json!({"epochs_run": t.epochs_done, "train_loss": t.losses,
                "final_train_loss": t.losses.last()}),
        );
    }
    if !rounds.is_empty() {
        obj.insert("gradual_rounds".into(), json!(rounds));
    }
    let mut gate = None;
    if let (Some(b), Some(a)) = (&before, &after) {
        if let (Some((name, mb)), Some((_, ma))) = (headline(b), headline(a)) {
            obj.insert("metric".into(), json!(name));
            obj.insert(format!("{name}_before"), json!(mb));
            obj.insert(format!("{name}_after"), json!(ma));
            obj.insert("metric_drop".into(), json!(mb - ma));
            if let Some(tol) = spec.tolerable_loss {
                let ok = mb - ma <= tol;
                obj.insert("within_tolerable_loss".into(), json!(ok));
                if !ok {
                    gate = Some(format!(
                        "the {name} dropped by {:.4} ({mb:.4} → {ma:.4}), more than tolerable_loss \
                         {tol}; lower the sparsity or add finetune",
                        mb - ma
                    ));
                }
            }
        }
        obj.insert(
            "rows_per_s_before".into(),
            b["throughput_rows_per_s"].clone(),
        );
        obj.insert(
            "rows_per_s_after".into(),
            a["throughput_rows_per_s"].clone(),
        );
        obj.insert("eval_before".into(), summary(b));
        obj.insert("eval_after".into(), summary(a));
    }
    if let Some(message) = gate {
        let _ = std::fs::remove_file(&output);
        let global = &result["global"];
        return Err(JobError::Invalid(format!(
            "{message} (sparsity {:.4}, {} of {} weights zero)",
            global["sparsity"].as_f64().unwrap_or(0.0),
            global["zeros"],
            global["numel"]
        )));
    }
    Ok(Pruned {
        result,
        n_params: params_after,
        architecture: serde_json::to_value(&new_arch).ok(),
    })
}

/// The evaluation fields worth keeping in a prune result.
fn summary(eval: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in [
        "accuracy",
        "f1_macro",
        "log_loss",
        "mse",
        "rmse",
        "mae",
        "r2",
        "rows",
        "throughput_rows_per_s",
        "latency_batch1_us",
    ] {
        if let Some(v) = eval.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

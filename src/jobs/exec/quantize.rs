//! `quantize`: weight quantization of a safetensors model, streamed one tensor at a time from
//! the memory-mapped input to a compressed-tensors (or dequantized float) output, with a
//! per-tensor error report; for MLPs, accuracy before and after, agreement with the float
//! model, GPTQ from calibration inputs, and a search for a scheme within `tolerable_loss`.
use async_trait::async_trait;
use ndarray::{Array2, ArrayView2};
use safetensors::Dtype;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::data::{load_dataset, load_model, standardize, targets};
use super::evaluate::{evaluate_model, inference_model};
use super::train::{record_epochs, JobObserver};
use super::{Executor, JobOutput};
use crate::domain::selection::TensorSelection;
use crate::domain::specs::quantize::CompressedFormatSpec;
use crate::domain::specs::quantize::{FinetuneSpec, MethodSpec, OutputSpec};
use crate::domain::specs::{parse_typed, QuantizeSpec};
use crate::formats::compressed_tensors::{
    compressed_entries, module_name, planned_entries, quantization_config, CompressionFormat,
};
use crate::formats::mlp::MlpArchitecture;
use crate::formats::safetensors::{
    converts_to_f32, from_f32, is_float, to_f32_into, MappedModel, SafetensorsWriter, TensorPlan,
};
use crate::jobs::{JobContext, JobControl, JobError};
use crate::kernels::nn::{
    argmax, train, Dense, Loss, LrSchedule, Mlp, OptimizerConfig, Targets, TrainConfig,
    WeightConstraint,
};
use crate::kernels::quant::{
    dequantize, fake_quantize, quantize, quantize_gptq, quantized_error_report, GptqOptions,
    Granularity, QuantMethod, QuantScheme, QuantizedTensor, ScaleDtype,
};
use crate::store::MetricPoint;
use crate::store::{DatasetRow, ModelRow};
use tokio::sync::mpsc::UnboundedSender;

/// Runs `quantize` jobs.
pub struct QuantizeExecutor;

/// Inputs resolved by the async side, handed to the compute pool.
struct QuantizeInputs {
    spec: QuantizeSpec,
    model: (ModelRow, PathBuf),
    eval: Option<(DatasetRow, PathBuf)>,
    calibration: Option<(DatasetRow, PathBuf)>,
    finetune: Option<(DatasetRow, PathBuf)>,
    output: PathBuf,
    job_id: String,
}

#[async_trait]
impl Executor for QuantizeExecutor {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        let spec: QuantizeSpec =
            parse_typed(&ctx.job.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        let model = ctx.model(spec.model_id).await?;
        let eval = match spec.eval_dataset_id {
            Some(id) => Some(ctx.dataset(id).await?),
            None => None,
        };
        let calibration = match spec.calibration_dataset_id {
            Some(id) => Some(ctx.dataset(id).await?),
            None => None,
        };
        let finetune = match spec.finetune.as_ref().map(|f| f.dataset_id) {
            Some(id) => Some(ctx.dataset(id).await?),
            None => None,
        };
        let compressed = spec.output == OutputSpec::Compressed;
        let architecture = model.0.architecture.clone();
        let n_params = model.0.n_params;
        let inputs = QuantizeInputs {
            spec,
            model,
            eval,
            calibration,
            finetune,
            output: ctx.scratch_path(".safetensors"),
            job_id: ctx.job.id.to_string(),
        };
        let control = ctx.control.clone();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let work = ctx
            .compute
            .run(move || quantize_blocking(inputs, control, tx));
        let (outcome, ()) = tokio::join!(work, record_epochs(ctx, rx));
        let (result, path, name) = outcome??;
        let format = if compressed {
            "compressed-tensors"
        } else {
            "safetensors"
        };
        JobOutput::with_model(result, path, name, format, n_params, architecture)
    }
}

/// A short tag of a scheme for names and reports: `w4g32a`, `w8c`.
fn scheme_tag(s: &QuantScheme) -> String {
    let g = match s.granularity {
        Granularity::Tensor => "t".to_string(),
        Granularity::Channel => "c".to_string(),
        Granularity::Group(g) => format!("g{g}"),
    };
    format!("w{}{g}{}", s.bits, if s.symmetric { "" } else { "a" })
}

fn scheme_json(s: &QuantScheme) -> Value {
    let (granularity, group_size) = match s.granularity {
        Granularity::Tensor => ("tensor", Value::Null),
        Granularity::Channel => ("channel", Value::Null),
        Granularity::Group(g) => ("group", json!(g)),
    };
    let scale_dtype = match s.scale_dtype {
        ScaleDtype::F32 => "f32",
        ScaleDtype::F16 => "f16",
        ScaleDtype::BF16 => "bf16",
    };
    json!({"bits": s.bits, "symmetric": s.symmetric, "granularity": granularity,
           "group_size": group_size, "scale_dtype": scale_dtype})
}

/// The schemes tried in order under `tolerable_loss`: the requested one, finer groups
/// (halving down to 16 columns), then more bits at the finest granularity.
fn finer_schemes(start: QuantScheme) -> Vec<QuantScheme> {
    let mut v = vec![start];
    match start.granularity {
        Granularity::Tensor => v.push(QuantScheme {
            granularity: Granularity::Channel,
            ..start
        }),
        Granularity::Group(g) => {
            let mut m = g / 2;
            while m >= 16 && v.len() < 4 {
                v.push(QuantScheme {
                    granularity: Granularity::Group(m),
                    ..start
                });
                m /= 2;
            }
        }
        Granularity::Channel => {}
    }
    let finest = v.last().copied().unwrap_or(start);
    for bits in start.bits.saturating_add(1)..=8 {
        v.push(QuantScheme { bits, ..finest });
    }
    v
}

/// The MLP's weight tensor names by layer (`<prefix>N.weight`, ordered by `N`).
fn mlp_weight_names(names: &[String]) -> Vec<String> {
    let mut found: Vec<(u64, String)> = names
        .iter()
        .filter_map(|n| {
            let stem = n.strip_suffix(".weight")?;
            let digits_at = stem
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |p| p + 1);
            let index = stem[digits_at..].parse::<u64>().ok()?;
            Some((index, n.clone()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

/// An MLP with its architecture and its weight tensor names.
struct MlpContext {
    mlp: Mlp,
    arch: MlpArchitecture,
    weight_names: Vec<String>,
}

/// A labelled dataset and the float model's metric and predictions on it.
struct EvalContext {
    x: Array2<f32>,
    y: Targets,
    metric: &'static str,
    before: Value,
    float_predictions: Option<Vec<usize>>,
}

/// Predicted classes of `mlp` on raw features (`None` for regression).
fn predicted_classes(
    mlp: &Mlp,
    arch: &MlpArchitecture,
    x: ArrayView2<f32>,
    y: &Targets,
) -> Result<Option<Vec<usize>>, JobError> {
    if matches!(y, Targets::Regression(_)) {
        return Ok(None);
    }
    let model = inference_model(mlp, arch)?;
    let out = model.forward(x)?;
    Ok(Some(
        out.rows()
            .into_iter()
            .map(|r| {
                if r.len() == 1 {
                    usize::from(r[0] > 0.0)
                } else {
                    argmax(&r.to_vec())
                }
            })
            .collect(),
    ))
}

fn quantize_blocking(
    inputs: QuantizeInputs,
    control: Arc<JobControl>,
    tx: UnboundedSender<Vec<MetricPoint>>,
) -> Result<(Value, PathBuf, String), JobError> {
    let started = Instant::now();
    let spec = &inputs.spec;
    let (model_row, model_path) = &inputs.model;
    let selection = spec
        .selection()
        .map_err(|e| JobError::Invalid(e.to_string()))?;
    let mapped = MappedModel::open(model_path)?;
    let names: Vec<String> = mapped.names().into_iter().map(str::to_string).collect();

    let needs_mlp = spec.eval_dataset_id.is_some()
        || spec.method == MethodSpec::Gptq
        || spec.finetune.is_some();
    let mlp = if needs_mlp {
        let (mlp, arch) = load_model(model_row, model_path)?;
        Some(MlpContext {
            mlp,
            arch,
            weight_names: mlp_weight_names(&names),
        })
    } else {
        None
    };
    let eval = match (&mlp, &inputs.eval) {
        (Some(m), Some((row, path))) => {
            control.set_progress(0.0, Some("measuring the float model".into()));
            let ds = load_dataset(row, path)?;
            let y = targets(&ds, m.arch.classes.as_deref())?;
            let before = evaluate_model(&m.mlp, &m.arch, ds.x.view(), &y, None)?;
            let float_predictions = predicted_classes(&m.mlp, &m.arch, ds.x.view(), &y)?;
            let metric = if matches!(y, Targets::Regression(_)) {
                "r2"
            } else {
                "accuracy"
            };
            Some(EvalContext {
                x: ds.x,
                y,
                metric,
                before,
                float_predictions,
            })
        }
        _ => None,
    };
    // GPTQ inputs to the first layer: the calibration features, standardized as in training.
    let calibration_x = match (&mlp, &inputs.calibration, spec.method) {
        (Some(m), Some((row, path)), MethodSpec::Gptq) => {
            let mut x = load_dataset(row, path)?.x;
            if let (Some(mean), Some(std)) = (&m.arch.input_mean, &m.arch.input_std) {
                standardize(&mut x, mean, std);
            }
            Some(x)
        }
        _ => None,
    };

    // Fine-tuning data, standardized like the model's training data.
    let finetune_data = match (&mlp, &inputs.finetune) {
        (Some(m), Some((row, path))) => {
            let ds = load_dataset(row, path)?;
            let y = targets(&ds, m.arch.classes.as_deref())?;
            let mut x = ds.x;
            if let (Some(mean), Some(std)) = (&m.arch.input_mean, &m.arch.input_std) {
                standardize(&mut x, mean, std);
            }
            Some((x, y))
        }
        _ => None,
    };

    let requested = spec.quant_scheme();
    let schemes = match spec.tolerable_loss {
        Some(_) => finer_schemes(requested),
        None => vec![requested],
    };
    let mut attempts: Vec<Value> = Vec::new();
    let mut accepted: Option<(QuantScheme, Value, Value)> = None;
    for (i, scheme) in schemes.iter().enumerate() {
        let span = (i as f64 / schemes.len() as f64, 1.0 / schemes.len() as f64);
        // QAT: the weights to quantize are the fine-tuned ones.
        let mut finetune_report = Value::Null;
        let tuned = match (&mlp, &finetune_data, &spec.finetune) {
            (Some(m), Some((x, y)), Some(f)) => {
                control.set_progress(span.0, Some("quantization-aware fine-tuning".into()));
                // One continuous `qat_*` series over the attempts of a tolerable_loss ladder.
                let mut observer = JobObserver {
                    control: control.clone(),
                    tx: tx.clone(),
                    epochs: f.epochs,
                    metric_name: "accuracy",
                    step_offset: (i * f.epochs) as i64,
                    prefix: "qat_",
                };
                let (tuned, report) = finetune_qat(m, x, y, scheme, f, &selection, &mut observer)?;
                finetune_report = report;
                Some(tuned)
            }
            _ => None,
        };
        let mut overrides: HashMap<String, Vec<f32>> = HashMap::new();
        if let (Some(m), Some(t)) = (&mlp, &tuned) {
            for (layer, name) in t.layers.iter().zip(&m.weight_names) {
                overrides.insert(name.clone(), layer.weight.iter().copied().collect());
                if let Some(stem) = name.strip_suffix(".weight") {
                    let bias = format!("{stem}.bias");
                    if names.contains(&bias) {
                        overrides.insert(bias, layer.bias.to_vec());
                    }
                }
            }
        }
        let base: Option<&Mlp> = tuned.as_ref().or(mlp.as_ref().map(|m| &m.mlp));
        let gptq = match (&mlp, base, &calibration_x) {
            (Some(m), Some(b), Some(x)) => {
                quantize_mlp_gptq(b, &m.weight_names, x, scheme, &selection)?
            }
            _ => HashMap::new(),
        };
        let pass = write_quantized(
            &mapped,
            &names,
            &selection,
            scheme,
            spec,
            gptq,
            &overrides,
            mlp.as_ref().map(|m| &m.weight_names[..]),
            &inputs.output,
            &inputs.job_id,
            &control,
            span,
        )?;
        let evaluation = match (&mlp, base, &eval) {
            (Some(m), Some(b), Some(e)) => {
                let mut q = b.clone();
                for (l, name) in m.weight_names.iter().enumerate() {
                    if let (Some(w), Some(layer)) =
                        (pass.mlp_weights.get(name), q.layers.get_mut(l))
                    {
                        layer.weight = w.clone();
                    }
                }
                let after = evaluate_model(&q, &m.arch, e.x.view(), &e.y, None)?;
                let agreement = match (
                    &e.float_predictions,
                    predicted_classes(&q, &m.arch, e.x.view(), &e.y)?,
                ) {
                    (Some(a), Some(b)) if !a.is_empty() => Some(
                        a.iter().zip(&b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64,
                    ),
                    _ => None,
                };
                let before = e.before[e.metric].as_f64();
                let after_metric = after[e.metric].as_f64();
                let loss = before.zip(after_metric).map(|(b, a)| b - a);
                json!({"metric": e.metric, "before": before, "after": after_metric, "loss": loss,
                       "prediction_agreement": agreement, "before_report": e.before, "after_report": after})
            }
            _ => Value::Null,
        };
        let loss = evaluation["loss"].as_f64();
        let passed = match (spec.tolerable_loss, loss) {
            (Some(t), Some(l)) => l <= t,
            _ => true,
        };
        attempts.push(json!({
            "scheme": scheme_json(scheme),
            "bits_per_weight": pass.summary["bits_per_weight"],
            "metric": evaluation.get("metric"),
            "after": evaluation.get("after"),
            "loss": loss,
            "passed": passed,
        }));
        if passed {
            let mut summary = pass.summary;
            if !finetune_report.is_null() {
                if let Some(obj) = summary.as_object_mut() {
                    obj.insert("finetune".into(), finetune_report);
                }
            }
            accepted = Some((*scheme, summary, evaluation));
            break;
        }
    }
    let Some((scheme, mut result, evaluation)) = accepted else {
        return Err(JobError::Invalid(format!(
            "no scheme kept the {} drop within tolerable_loss {}: attempts {}",
            eval.as_ref().map_or("metric", |e| e.metric),
            spec.tolerable_loss.unwrap_or_default(),
            Value::Array(attempts)
        )));
    };
    let bytes_before = std::fs::metadata(model_path)?.len();
    let bytes_after = std::fs::metadata(&inputs.output)?.len();
    if let Some(obj) = result.as_object_mut() {
        obj.insert("model_id".into(), json!(model_row.id));
        obj.insert("scheme".into(), scheme_json(&scheme));
        obj.insert("method".into(), json!(spec.method));
        obj.insert("output".into(), json!(spec.output));
        obj.insert("bytes_before".into(), json!(bytes_before));
        obj.insert("bytes_after".into(), json!(bytes_after));
        obj.insert(
            "compression_ratio".into(),
            json!(bytes_before as f64 / bytes_after.max(1) as f64),
        );
        obj.insert(
            "elapsed_seconds".into(),
            json!(started.elapsed().as_secs_f64()),
        );
        if !evaluation.is_null() {
            for key in ["metric", "before", "after", "loss", "prediction_agreement"] {
                obj.insert(format!("eval_{key}"), evaluation[key].clone());
            }
            let m = evaluation["metric"].as_str().unwrap_or("metric");
            obj.insert(format!("{m}_before"), evaluation["before"].clone());
            obj.insert(format!("{m}_after"), evaluation["after"].clone());
            obj.insert("evaluation".into(), evaluation);
        }
        if spec.tolerable_loss.is_some() {
            obj.insert("attempts".into(), Value::Array(attempts));
        }
    }
    let name = spec
        .output_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}", model_row.name, scheme_tag(&scheme)));
    Ok((result, inputs.output, name))
}

/// GPTQ over the MLP's selected layers, in order: each layer's Hessian comes from its inputs
/// propagated through the layers already quantized.
fn quantize_mlp_gptq(
    mlp: &Mlp,
    weight_names: &[String],
    x: &Array2<f32>,
    scheme: &QuantScheme,
    selection: &TensorSelection,
) -> Result<HashMap<String, QuantizedTensor>, JobError> {
    let mut out = HashMap::new();
    let mut h = x.clone();
    let n = h.nrows().max(1) as f32;
    for (layer, name) in mlp.layers.iter().zip(weight_names) {
        let mut weight = layer.weight.clone();
        if selection.matches(name, &[layer.n_outputs(), layer.n_inputs()]) {
            let hessian = h.t().dot(&h) * (2.0 / n);
            let q = quantize_gptq(
                layer.weight.view(),
                hessian.view(),
                scheme,
                &GptqOptions::default(),
            )
            .map_err(|e| JobError::Invalid(format!("{name}: {e}")))?;
            weight = dequantize(&q)?;
            out.insert(name.clone(), q);
        }
        let single = Mlp::new(vec![Dense {
            weight,
            bias: layer.bias.clone(),
            activation: layer.activation,
        }])?;
        h = single.forward(h.view())?;
    }
    Ok(out)
}

/// Fake-quantized forward weights for the selected layers (straight-through estimator).
struct FakeQuant {
    scheme: QuantScheme,
    selected: Vec<bool>,
}

impl WeightConstraint for FakeQuant {
    fn forward_weight(&self, layer: usize, master: ArrayView2<f32>) -> Option<Array2<f32>> {
        if self.selected.get(layer).copied().unwrap_or(false) {
            fake_quantize(master, &self.scheme).ok()
        } else {
            None
        }
    }
}

/// Quantization-aware fine-tuning of the MLP with `scheme` on `(x, y)` (x standardized).
/// Epochs go to `observer` (the `qat_` series of the job's metrics).
fn finetune_qat(
    m: &MlpContext,
    x: &Array2<f32>,
    y: &Targets,
    scheme: &QuantScheme,
    f: &FinetuneSpec,
    selection: &TensorSelection,
    observer: &mut JobObserver,
) -> Result<(Mlp, Value), JobError> {
    let mut mlp = m.mlp.clone();
    let selected = mlp
        .layers
        .iter()
        .zip(&m.weight_names)
        .map(|(l, n)| selection.matches(n, &[l.n_outputs(), l.n_inputs()]))
        .collect();
    let loss = match y {
        Targets::Regression(_) => Loss::Mse,
        Targets::Classification { .. } => Loss::CrossEntropy,
    };
    let cfg = TrainConfig {
        loss,
        optimizer: OptimizerConfig::adam(f.lr),
        batch_size: f.batch_size,
        epochs: f.epochs,
        lr_schedule: LrSchedule::default(),
        weight_decay: 0.0,
        clip_grad_norm: None,
        dropout: None,
        early_stopping: None,
        seed: 0,
        shuffle: true,
    };
    let constraint = FakeQuant {
        scheme: *scheme,
        selected,
    };
    let report = train(
        &mut mlp,
        x.view(),
        y,
        None,
        &cfg,
        Some(&constraint),
        observer,
    )?;
    Ok((
        mlp,
        json!({"epochs_run": report.epochs_run, "final_train_loss": report.final_train_loss}),
    ))
}

/// What one pass over the tensors produced.
struct Pass {
    summary: Value,
    /// Dequantized weights of the MLP's layers, for evaluation.
    mlp_weights: HashMap<String, Array2<f32>>,
}

/// How one input tensor goes to the output.
enum Item {
    Quantize { rows: usize, cols: usize },
    Copy,
}

/// Quantizes the selected tensors of `mapped` into `output`, one tensor at a time.
#[allow(clippy::too_many_arguments)]
fn write_quantized(
    mapped: &MappedModel,
    names: &[String],
    selection: &TensorSelection,
    scheme: &QuantScheme,
    spec: &QuantizeSpec,
    mut gptq: HashMap<String, QuantizedTensor>,
    overrides: &HashMap<String, Vec<f32>>,
    mlp_weight_names: Option<&[String]>,
    output: &std::path::Path,
    job_id: &str,
    control: &JobControl,
    (progress_start, progress_span): (f64, f64),
) -> Result<Pass, JobError> {
    let compressed = spec.output == OutputSpec::Compressed;
    let format = match spec.compressed_format() {
        CompressedFormatSpec::IntQuantized => CompressionFormat::IntQuantized,
        CompressedFormatSpec::PackQuantized => CompressionFormat::PackQuantized,
    };
    let method = spec.method.data_free().unwrap_or(QuantMethod::Rtn);
    let keep: BTreeSet<&str> = mlp_weight_names
        .map(|n| n.iter().map(String::as_str).collect())
        .unwrap_or_default();

    // Plan the whole header first.
    let mut taken: BTreeSet<String> = names.iter().cloned().collect();
    let mut items = Vec::with_capacity(names.len());
    let mut plans = Vec::with_capacity(names.len());
    let mut ignore = Vec::new();
    for name in names {
        let t = mapped.tensor(name)?;
        let n = t.n_elements() as usize;
        let selected = is_float(t.dtype)
            && converts_to_f32(t.dtype)
            && n > 0
            && !t.shape.is_empty()
            && selection.matches(name, t.shape);
        if !selected {
            if compressed && t.shape.len() == 2 && is_float(t.dtype) && name.ends_with(".weight") {
                ignore.push(module_name(name).to_string());
            }
            items.push(Item::Copy);
            plans.push(TensorPlan {
                name: name.clone(),
                dtype: t.dtype,
                shape: t.shape.to_vec(),
            });
            continue;
        }
        let rows = if t.shape.len() == 1 { 1 } else { t.shape[0] };
        let cols = n / rows.max(1);
        items.push(Item::Quantize { rows, cols });
        if compressed {
            taken.remove(name);
            for p in planned_entries(name, rows, cols, scheme, format)? {
                if !taken.insert(p.name.clone()) {
                    return Err(JobError::Invalid(format!(
                        "quantizing {name} would write {} which the model already has; exclude one of them",
                        p.name
                    )));
                }
                plans.push(TensorPlan {
                    name: p.name,
                    dtype: p.dtype,
                    shape: p.shape,
                });
            }
        } else {
            let dtype = match t.dtype {
                Dtype::F64 | Dtype::F32 | Dtype::F16 | Dtype::BF16 => t.dtype,
                _ => Dtype::F32,
            };
            plans.push(TensorPlan {
                name: name.clone(),
                dtype,
                shape: t.shape.to_vec(),
            });
        }
    }
    let mut metadata: BTreeMap<String, String> = mapped.inventory().metadata.clone();
    if compressed {
        metadata.insert(
            "quantization_config".into(),
            quantization_config(scheme, format, &ignore).to_string(),
        );
    }
    metadata.insert("whittle_job_id".into(), job_id.to_string());
    let planned_dtypes: HashMap<String, Dtype> =
        plans.iter().map(|p| (p.name.clone(), p.dtype)).collect();
    let mut writer = SafetensorsWriter::create(output, plans, metadata)?;

    let n_selected = items
        .iter()
        .filter(|i| matches!(i, Item::Quantize { .. }))
        .count();
    let mut done = 0usize;
    let mut tensors = Vec::with_capacity(n_selected);
    let mut mlp_weights = HashMap::new();
    let (mut weights, mut bits, mut noise, mut signal) = (0u64, 0f64, 0f64, 0f64);
    let mut buffer: Vec<f32> = Vec::new();
    for (name, item) in names.iter().zip(&items) {
        if control.should_stop() {
            return Err(JobError::Canceled);
        }
        let t = mapped.tensor(name)?;
        let Item::Quantize { rows, cols } = *item else {
            match overrides.get(name) {
                Some(v) => writer.write_tensor(name, &from_f32(v, t.dtype)?)?,
                None => writer.write_tensor(name, t.data)?,
            }
            mapped.release(name);
            continue;
        };
        let values: &[f32] = match (overrides.get(name), t.as_f32_slice()) {
            (Some(v), _) => v,
            (None, Some(v)) => v,
            (None, None) => {
                to_f32_into(&t, &mut buffer)?;
                &buffer
            }
        };
        let w = ArrayView2::from_shape((rows, cols), values)
            .map_err(|e| JobError::Invalid(format!("{name}: {e}")))?;
        let at = |e: crate::kernels::KernelError| JobError::Invalid(format!("{name}: {e}"));
        let q = match gptq.remove(name) {
            Some(q) => q,
            None => quantize(w, scheme, method).map_err(at)?,
        };
        let report = quantized_error_report(w, &q).map_err(at)?;
        let needs_floats = !compressed || keep.contains(name.as_str());
        let w_hat = if needs_floats {
            Some(dequantize(&q).map_err(at)?)
        } else {
            None
        };
        if compressed {
            for e in compressed_entries(name, &q, format)? {
                writer.write_tensor(&e.name, &e.data)?;
            }
        } else if let Some(w_hat) = &w_hat {
            let dtype = planned_dtypes.get(name).copied().unwrap_or(Dtype::F32);
            let flat: Vec<f32> = w_hat.iter().copied().collect();
            writer.write_tensor(name, &from_f32(&flat, dtype)?)?;
        }
        let n = (rows * cols) as u64;
        let bpw = report.bits_per_weight.unwrap_or(f64::from(scheme.bits));
        weights += n;
        bits += bpw * n as f64;
        noise += report.mse * n as f64;
        signal += values
            .iter()
            .map(|v| f64::from(*v) * f64::from(*v))
            .sum::<f64>();
        // Streaming: this tensor's input pages are not needed again.
        mapped.release(name);
        tensors.push(json!({
            "name": name,
            "shape": t.shape,
            "dtype": t.dtype.to_string(),
            "bits_per_weight": bpw,
            "mse": report.mse,
            "sqnr_db": if report.sqnr_db.is_finite() { json!(report.sqnr_db) } else { Value::Null },
            "max_abs_error": report.max_abs_error,
        }));
        if let (true, Some(w_hat)) = (keep.contains(name.as_str()), w_hat) {
            mlp_weights.insert(name.clone(), w_hat);
        }
        done += 1;
        control.set_progress(
            progress_start + progress_span * done as f64 / n_selected.max(1) as f64,
            Some(format!("quantized {done}/{n_selected}: {name}")),
        );
    }
    writer.finish()?;
    let overall_sqnr = if noise > 0.0 {
        json!(10.0 * (signal / noise).log10())
    } else {
        Value::Null
    };
    Ok(Pass {
        summary: json!({
            "n_tensors_quantized": tensors.len(),
            "n_tensors_copied": names.len() - tensors.len(),
            "quantized_weights": weights,
            "bits_per_weight": if weights > 0 { json!(bits / weights as f64) } else { Value::Null },
            "sqnr_db": overall_sqnr,
            "format": if compressed { format.as_str() } else { "dequantized" },
            "quantization_config": if compressed {
                quantization_config(scheme, format, &ignore)
            } else {
                Value::Null
            },
            "tensors": tensors,
        }),
        mlp_weights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finer_schemes_shrink_groups_then_add_bits() {
        let s = QuantScheme::new(4, false, Granularity::Group(64));
        let tags: Vec<String> = finer_schemes(s).iter().map(scheme_tag).collect();
        assert_eq!(
            tags,
            ["w4g64a", "w4g32a", "w4g16a", "w5g16a", "w6g16a", "w7g16a", "w8g16a"]
        );
        let c = QuantScheme::new(8, true, Granularity::Channel);
        assert_eq!(finer_schemes(c), vec![c]);
    }

    #[test]
    fn mlp_weight_names_sort_by_layer_index() {
        let names: Vec<String> = ["layers.10.weight", "layers.2.weight", "layers.2.bias", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            mlp_weight_names(&names),
            ["layers.2.weight", "layers.10.weight"]
        );
    }
}

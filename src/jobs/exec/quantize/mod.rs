//! `quantize`: weight quantization of a safetensors model, streamed one tensor at a time from
//! the memory-mapped input to a compressed-tensors (or dequantized float) output, with a
//! per-tensor error report (`write.rs`); for MLPs (`mlp.rs`), quality before and after,
//! agreement with the float model, GPTQ from calibration inputs, quantization-aware
//! fine-tuning, and a ladder of finer schemes until the loss is within `tolerable_loss`;
//! for transformers, the same before/after and ladder on a text eval dataset, measured on
//! the written output as a client reads it (`jobs::text_quality`).
mod mlp;
mod transformer;
mod write;

use async_trait::async_trait;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::artifacts::WrittenFile;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use self::mlp::{
    mlp_weight_names, EvalBaseline, MlpModel, OnnxExport, QatReport, QatRun, QualityChange,
};
use self::transformer::{gptq_transformer, GptqReport};
use self::write::{write_pass, PassSettings, PassSummary, Replacements};
use super::{JobOutput, KindExecutor, OutputFile};
use crate::domain::specs::quantize::{CompressedFormatSpec, MethodSpec, OnnxOpsSpec, OutputSpec};
use crate::formats::onnx::QuantizedOps;
use crate::domain::specs::QuantizeSpec;
use crate::formats::compressed_tensors::CompressionFormat;
use crate::formats::safetensors::{folder, MappedModel, OutputTarget};
use crate::jobs::calibration::{Calibration, CalibrationOptions};
use crate::jobs::checkpoint::{compute_with_checkpoints, TrainCheckpoints};
use crate::jobs::epochs::{EpochSeries, MetricSender};
use crate::jobs::inputs::{labelled, load_model, Labelled};
use crate::jobs::text_quality::{load_text_dataset, TextBaseline, TextQualityChange, TextRun};
use crate::domain::ValidationErrors;
use crate::jobs::{admission, JobContext, JobControl, JobError};
use crate::kernels::nn::Task;
use crate::kernels::quant::{Granularity, QuantMethod, QuantScheme, QuantizedTensor, ScaleDtype};
use crate::store::{DatasetRow, DynStore, ModelRow, StoreError};

/// Runs `quantize` jobs.
pub struct QuantizeExecutor;

/// Inputs resolved by the async side, handed to the compute pool.
struct Inputs {
    spec: QuantizeSpec,
    model: (ModelRow, PathBuf),
    eval: Option<(DatasetRow, PathBuf)>,
    calibration: Option<(DatasetRow, PathBuf)>,
    finetune: Option<(DatasetRow, PathBuf)>,
    output: OutputTarget,
    job_id: String,
}

/// The result of a `quantize` job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuantizeResult {
    #[serde(flatten)]
    pub pass: PassSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finetune: Option<QatReport>,
    pub model_id: Uuid,
    pub scheme: SchemeReport,
    pub method: MethodSpec,
    pub output: OutputSpec,
    pub bytes_before: u64,
    /// The output on disk (for `output: onnx`, the quantized ONNX file).
    pub bytes_after: u64,
    pub compression_ratio: f64,
    pub elapsed_seconds: f64,
    /// `eval_*` and `<metric>_before`/`_after` headline keys, and the full `evaluation`.
    #[serde(flatten)]
    pub eval: Option<EvalFields>,
    /// Every scheme tried under `tolerable_loss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<Attempt>>,
    /// The ONNX files of `output: onnx`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onnx: Option<OnnxExport>,
    /// GPTQ of a transformer: the calibration text and each Linear's output error beside
    /// round-to-nearest's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gptq: Option<GptqReport>,
}

/// The eval dataset's verdict in the result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvalFields {
    pub eval_metric: &'static str,
    pub eval_before: f64,
    pub eval_after: f64,
    pub eval_loss: f64,
    pub eval_prediction_agreement: Option<f64>,
    /// `accuracy_before`/`accuracy_after` (or `r2_…`).
    #[serde(flatten)]
    pub headline: BTreeMap<String, f64>,
    pub evaluation: Quality,
}

/// An MLP's or a transformer's quality before and after.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Quality {
    Mlp(Box<QualityChange>),
    Text(Box<TextQualityChange>),
}

impl Quality {
    /// (metric, before, after, loss, prediction agreement).
    fn figures(&self) -> (&'static str, f64, f64, f64, Option<f64>) {
        match self {
            Quality::Mlp(q) => (q.metric, q.before, q.after, q.loss, q.prediction_agreement),
            Quality::Text(q) => (q.metric, q.before, q.after, q.loss, q.prediction_agreement),
        }
    }
}

impl EvalFields {
    fn new(evaluation: Quality) -> Self {
        let (m, before, after, loss, agreement) = evaluation.figures();
        EvalFields {
            eval_metric: m,
            eval_before: before,
            eval_after: after,
            eval_loss: loss,
            eval_prediction_agreement: agreement,
            headline: BTreeMap::from([
                (format!("{m}_before"), before),
                (format!("{m}_after"), after),
            ]),
            evaluation,
        }
    }
}

/// A quantization scheme as reported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SchemeReport {
    pub bits: u8,
    pub symmetric: bool,
    pub granularity: &'static str,
    pub group_size: Option<usize>,
    pub scale_dtype: &'static str,
}

impl From<&QuantScheme> for SchemeReport {
    fn from(s: &QuantScheme) -> Self {
        let (granularity, group_size) = match s.granularity {
            Granularity::Tensor => ("tensor", None),
            Granularity::Channel => ("channel", None),
            Granularity::Group(g) => ("group", Some(g)),
        };
        let scale_dtype = match s.scale_dtype {
            ScaleDtype::F32 => "f32",
            ScaleDtype::F16 => "f16",
            ScaleDtype::BF16 => "bf16",
        };
        SchemeReport {
            bits: s.bits,
            symmetric: s.symmetric,
            granularity,
            group_size,
            scale_dtype,
        }
    }
}

impl SchemeReport {
    /// Reports `scale_dtype: "weight"` when scales follow each weight's dtype.
    fn scales_of_weights(mut self, yes: bool) -> Self {
        if yes {
            self.scale_dtype = "weight";
        }
        self
    }
}

/// One scheme tried under `tolerable_loss`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub scheme: SchemeReport,
    pub bits_per_weight: Option<f64>,
    pub metric: Option<&'static str>,
    pub after: Option<f64>,
    pub loss: Option<f64>,
    pub passed: bool,
}

#[async_trait]
impl KindExecutor for QuantizeExecutor {
    type Spec = QuantizeSpec;
    type Result = QuantizeResult;

    async fn admit(
        &self,
        store: &DynStore,
        tenant_id: Uuid,
        spec: &QuantizeSpec,
    ) -> Result<ValidationErrors, StoreError> {
        admission::check_quantize(store, tenant_id, spec).await
    }

    async fn execute(&self, ctx: &JobContext, spec: QuantizeSpec) -> Result<JobOutput, JobError> {
        let model = ctx.model(spec.model_id).await?;
        let eval = ctx.optional_dataset(spec.eval_dataset_id).await?;
        let calibration = ctx.optional_dataset(spec.calibration_dataset_id).await?;
        let finetune = ctx
            .optional_dataset(spec.finetune.as_ref().map(|f| f.dataset_id))
            .await?;
        let format = match spec.output {
            OutputSpec::Compressed => "compressed-tensors",
            OutputSpec::Dequantized => "safetensors",
            OutputSpec::Onnx => "onnx",
        };
        let (architecture, n_params) = (model.0.architecture.clone(), model.0.n_params);
        let output = match spec.output {
            // One folder: the ONNX files beside the MLP's one safetensors file.
            OutputSpec::Onnx => OutputTarget::Folder {
                dir: ctx.scratch_path(".folder"),
                max_shard_bytes: u64::MAX,
            },
            _ => ctx.output_target(&model.1, spec.max_shard_bytes),
        };
        let inputs = Inputs {
            output,
            spec,
            model,
            eval,
            calibration,
            finetune,
            job_id: ctx.job.id.to_string(),
        };
        let control = ctx.control.clone();
        let (result, path, name, written) = compute_with_checkpoints(ctx, move |tx, checkpoints| {
            quantize_model(inputs, control, tx, checkpoints)
        })
        .await?;
        JobOutput::with_model(
            &result,
            OutputFile {
                path,
                name,
                format,
                n_params: u64::try_from(n_params).unwrap_or(0),
                architecture,
                written,
            },
        )
    }
}

/// The MLP side of a job that evaluates, calibrates or fine-tunes.
struct MlpWork {
    model: MlpModel,
    eval: Option<EvalBaseline>,
    /// GPTQ's first-layer inputs, standardized as in training.
    calibration: Option<Labelled>,
    /// Fine-tuning rows, standardized as in training.
    finetune: Option<Labelled>,
    /// Checkpoints of QAT runs.
    checkpoints: RefCell<TrainCheckpoints>,
}

/// Loads the MLP and its datasets when the spec needs them.
fn mlp_work(
    inputs: &Inputs,
    names: &[String],
    control: &JobControl,
    checkpoints: TrainCheckpoints,
) -> Result<Option<MlpWork>, JobError> {
    let spec = &inputs.spec;
    let transformer = crate::jobs::text_quality::is_transformer(inputs.model.0.architecture.as_ref());
    let needs_mlp = (!transformer
        && (spec.eval_dataset_id.is_some() || spec.method == MethodSpec::Gptq))
        || spec.finetune.is_some()
        || spec.output == OutputSpec::Onnx;
    if !needs_mlp {
        return Ok(None);
    }
    let (mlp, arch) = load_model(&inputs.model.0, &inputs.model.1)?;
    let model = MlpModel {
        mlp,
        arch,
        weight_names: mlp_weight_names(names),
    };
    let eval = match &inputs.eval {
        Some(d) => {
            control.set_progress(0.0, Some("measuring the float model".into()));
            Some(EvalBaseline::new(&model, labelled(d, &model.arch, false)?)?)
        }
        None => None,
    };
    let calibration = match (&inputs.calibration, spec.method) {
        (Some(d), MethodSpec::Gptq) => Some(labelled(d, &model.arch, true)?),
        _ => None,
    };
    let finetune = match &inputs.finetune {
        Some(d) => Some(labelled(d, &model.arch, true)?),
        None => None,
    };
    Ok(Some(MlpWork {
        model,
        eval,
        calibration,
        finetune,
        checkpoints: RefCell::new(checkpoints),
    }))
}

/// The float transformer measured on a text eval dataset, when the spec names one.
fn text_baseline(inputs: &Inputs, control: &JobControl) -> Result<Option<TextBaseline>, JobError> {
    let (Some((row, path)), true) = (
        &inputs.eval,
        crate::jobs::text_quality::is_transformer(inputs.model.0.architecture.as_ref()),
    ) else {
        return Ok(None);
    };
    control.set_progress(0.0, Some("measuring the float model".into()));
    let data = load_text_dataset(row, path)?;
    Ok(Some(TextBaseline::new(
        inputs.model.0.id,
        &inputs.model.1,
        data,
        TextRun::limited(inputs.spec.max_length, inputs.spec.max_examples),
        control,
        (0.0, 0.0),
    )?))
}

/// A transformer's calibration text for GPTQ, when the spec asks for GPTQ on one.
fn text_calibration(inputs: &Inputs) -> Result<Option<RefCell<Calibration>>, JobError> {
    let transformer = crate::jobs::text_quality::is_transformer(inputs.model.0.architecture.as_ref());
    let (MethodSpec::Gptq, true, Some((row, path))) =
        (inputs.spec.method, transformer, inputs.calibration.as_ref())
    else {
        return Ok(None);
    };
    let opts = CalibrationOptions {
        max_length: inputs.spec.max_length,
        max_examples: inputs.spec.max_examples,
    };
    Ok(Some(RefCell::new(Calibration::prepare(
        &inputs.model.1,
        (row, path),
        opts,
    )?)))
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

/// A short tag of a scheme for names: `w4g32a`, `w8c`.
fn scheme_tag(s: &QuantScheme) -> String {
    let g = match s.granularity {
        Granularity::Tensor => "t".to_string(),
        Granularity::Channel => "c".to_string(),
        Granularity::Group(g) => format!("g{g}"),
    };
    format!("w{}{g}{}", s.bits, if s.symmetric { "" } else { "a" })
}

/// What one scheme produced.
struct Outcome {
    scheme: QuantScheme,
    pass: PassSummary,
    finetune: Option<QatReport>,
    evaluation: Option<Quality>,
    /// For `output: onnx`: the float model quantized (fine-tuned when asked) and the codes
    /// of its quantized layers.
    quantized: Option<(crate::kernels::nn::Mlp, HashMap<String, QuantizedTensor>)>,
    gptq: Option<GptqReport>,
    /// The files the pass wrote, hashed on the way out.
    written: Vec<WrittenFile>,
}

/// Quantizes per `inputs` on the compute pool: the result, the output file, its name and
/// the files written.
fn quantize_model(
    inputs: Inputs,
    control: Arc<JobControl>,
    tx: MetricSender,
    checkpoints: TrainCheckpoints,
) -> Result<(QuantizeResult, PathBuf, String, Vec<WrittenFile>), JobError> {
    let started = Instant::now();
    let spec = &inputs.spec;
    let selection = spec
        .selection()
        .map_err(|e| JobError::Invalid(e.to_string()))?;
    let mapped = MappedModel::open(&inputs.model.1)?;
    let names: Vec<String> = mapped.names().into_iter().map(str::to_string).collect();
    let work = mlp_work(&inputs, &names, &control, checkpoints)?;
    let text = text_baseline(&inputs, &control)?;
    let calib = text_calibration(&inputs)?;
    let base = PassSettings {
        mapped: &mapped,
        names: &names,
        selection: &selection,
        scheme: spec.quant_scheme(),
        compressed: (spec.output == OutputSpec::Compressed).then(|| {
            match spec.compressed_format() {
                CompressedFormatSpec::IntQuantized => CompressionFormat::IntQuantized,
                CompressedFormatSpec::PackQuantized => CompressionFormat::PackQuantized,
            }
        }),
        method: spec.method.data_free().unwrap_or(QuantMethod::Rtn),
        keep: work
            .as_ref()
            .map(|w| w.model.weight_names.iter().map(String::as_str).collect())
            .unwrap_or_default(),
        output: &inputs.output,
        keep_codes: spec.output == OutputSpec::Onnx,
        scale_from_weights: spec.scale_dtype_follows_weights(),
        embeddings_selected: !spec.include.is_empty(),
        job_id: &inputs.job_id,
    };
    let judges = Judges {
        work: work.as_ref(),
        text: text.as_ref(),
        calib: calib.as_ref(),
        model_dir: &inputs.model.1,
    };
    let (mut outcome, attempts) = climb(spec, &judges, &base, &control, &tx)?;
    let onnx = match (work.as_ref(), outcome.quantized.take()) {
        (Some(w), Some((quantized, codes))) => {
            control.set_progress(0.99, Some("writing the ONNX models".into()));
            let classification = match w.eval.as_ref() {
                Some(e) => e.data.task == Task::Classification,
                None => match w.model.arch.task.as_deref() {
                    Some(t) => t != "regression",
                    None => w.model.mlp.n_outputs() > 1,
                },
            };
            Some(w.model.write_onnx(
                &quantized,
                &codes,
                classification,
                onnx_metadata(&w.model, &outcome.scheme, &inputs.job_id, classification),
                match spec.onnx_ops {
                    Some(OnnxOpsSpec::Qdq) => QuantizedOps::Qdq,
                    Some(OnnxOpsSpec::Auto) | None => QuantizedOps::Auto,
                },
                inputs.output.path(),
            )?)
        }
        _ => None,
    };
    let bytes_before = folder::disk_bytes(&inputs.model.1)?;
    // An ONNX folder's size that matters is the quantized model's.
    let bytes_after = match &onnx {
        Some(o) => folder::disk_bytes(&inputs.output.path().join(o.quantized_model))?,
        None => folder::disk_bytes(inputs.output.path())?,
    };
    let name = spec
        .output_name
        .clone()
        .unwrap_or_else(|| format!("{}-{}", inputs.model.0.name, scheme_tag(&outcome.scheme)));
    let result = QuantizeResult {
        pass: outcome.pass,
        finetune: outcome.finetune,
        model_id: inputs.model.0.id,
        scheme: SchemeReport::from(&outcome.scheme).scales_of_weights(spec.scale_dtype_follows_weights()),
        method: spec.method,
        output: spec.output,
        bytes_before,
        bytes_after,
        compression_ratio: bytes_before as f64 / bytes_after.max(1) as f64,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        eval: outcome.evaluation.map(EvalFields::new),
        attempts: spec.tolerable_loss.map(|_| attempts),
        onnx,
        gptq: outcome.gptq,
    };
    Ok((
        result,
        inputs.output.path().to_path_buf(),
        name,
        std::mem::take(&mut outcome.written),
    ))
}

/// Tries the requested scheme (and, under `tolerable_loss`, finer ones) until one keeps the
/// metric's drop within it; returns that scheme's outcome and every attempt.
fn climb(
    spec: &QuantizeSpec,
    judges: &Judges<'_>,
    base: &PassSettings<'_>,
    control: &Arc<JobControl>,
    tx: &MetricSender,
) -> Result<(Outcome, Vec<Attempt>), JobError> {
    let schemes = match spec.tolerable_loss {
        Some(_) => finer_schemes(spec.quant_scheme()),
        None => vec![spec.quant_scheme()],
    };
    let mut attempts = Vec::new();
    for (i, scheme) in schemes.iter().enumerate() {
        let span = (i as f64 / schemes.len() as f64, 1.0 / schemes.len() as f64);
        let settings = PassSettings {
            scheme: *scheme,
            ..base.clone()
        };
        let ladder = Ladder {
            index: i,
            span,
            control,
            tx,
        };
        let outcome = try_scheme(&settings, spec, judges, &ladder)?;
        let figures = outcome.evaluation.as_ref().map(Quality::figures);
        let loss = figures.map(|f| f.3);
        let passed = match (spec.tolerable_loss, loss) {
            (Some(t), Some(l)) => l <= t,
            _ => true,
        };
        attempts.push(Attempt {
            scheme: SchemeReport::from(scheme),
            bits_per_weight: outcome.pass.bits_per_weight,
            metric: figures.map(|f| f.0),
            after: figures.map(|f| f.2),
            loss,
            passed,
        });
        if passed {
            return Ok((outcome, attempts));
        }
    }
    let metric = match (judges.work.and_then(|w| w.eval.as_ref()), judges.text) {
        (Some(e), _) => e.before.headline().0,
        (None, Some(t)) => t.metric(),
        _ => "metric",
    };
    Err(JobError::Invalid(format!(
        "no scheme kept the {metric} drop within tolerable_loss {}: attempts {}",
        spec.tolerable_loss.unwrap_or_default(),
        serde_json::to_value(&attempts).unwrap_or_default()
    )))
}

/// What a scheme is measured and calibrated with: the MLP side, a transformer's text
/// baseline, a transformer's GPTQ calibration text.
struct Judges<'a> {
    work: Option<&'a MlpWork>,
    text: Option<&'a TextBaseline>,
    calib: Option<&'a RefCell<Calibration>>,
    model_dir: &'a std::path::Path,
}

/// Where a scheme stands on the ladder, and what it reports to.
struct Ladder<'a> {
    index: usize,
    /// Progress (start, width) of this scheme.
    span: (f64, f64),
    control: &'a Arc<JobControl>,
    tx: &'a MetricSender,
}

/// One scheme: fine-tune (QAT) and GPTQ when asked, write the pass, measure the result.
fn try_scheme(
    settings: &PassSettings<'_>,
    spec: &QuantizeSpec,
    judges: &Judges<'_>,
    ladder: &Ladder<'_>,
) -> Result<Outcome, JobError> {
    let (work, text) = (judges.work, judges.text);
    let scheme = settings.scheme;
    let mut span = ladder.span;
    let mut gptq = None;
    let mut replacements = Replacements::default();
    let mut finetune = None;
    let mut tuned = None;
    if let (Some(w), Some(data), Some(f)) =
        (work, work.and_then(|w| w.finetune.as_ref()), &spec.finetune)
    {
        ladder
            .control
            .set_progress(ladder.span.0, Some("quantization-aware fine-tuning".into()));
        // One continuous `qat_*` series over the attempts of a tolerable_loss ladder.
        let mut series = EpochSeries::new(
            ladder.control.clone(),
            ladder.tx.clone(),
            f.epochs,
            data.task,
            "qat_",
        );
        series.step_offset = (ladder.index * f.epochs) as i64;
        let mut checkpoints = w.checkpoints.borrow_mut();
        let run = QatRun {
            series: &mut series,
            checkpoints: &mut checkpoints,
            stage: ladder.index,
        };
        let (mlp, report) = w
            .model
            .finetune_qat(data, &scheme, f, settings.selection, run)?;
        replacements.floats = tuned_tensors(&w.model, &mlp, settings.names);
        finetune = Some(report);
        tuned = Some(mlp);
    }
    if let (Some(w), Some(x)) = (work, work.and_then(|w| w.calibration.as_ref())) {
        let base = tuned.as_ref().unwrap_or(&w.model.mlp);
        replacements.quantized = w.model.gptq(base, &x.x, &scheme, settings.selection)?;
    }
    if let Some(calib) = judges.calib {
        // Calibration takes the first 40 % of the span.
        let calib_span = (span.0, span.1 * 0.4);
        span = (span.0 + calib_span.1, span.1 - calib_span.1);
        let (codes, report) = gptq_transformer(
            judges.model_dir,
            &mut calib.borrow_mut(),
            settings,
            ladder.control,
            calib_span,
        )?;
        replacements.quantized = codes;
        gptq = Some(report);
    }
    // With a text baseline the pass takes the first half of the span, measuring the rest.
    let pass_span = match text {
        Some(_) => (span.0, span.1 / 2.0),
        None => span,
    };
    let pass = write_pass(settings, replacements, ladder.control, pass_span)?;
    let evaluation = match (work, work.and_then(|w| w.eval.as_ref()), text) {
        (Some(w), Some(baseline), _) => {
            let base = tuned.as_ref().unwrap_or(&w.model.mlp);
            Some(Quality::Mlp(Box::new(
                baseline.compare(&w.model, &w.model.with_weights(base, &pass.kept))?,
            )))
        }
        (_, _, Some(t)) => {
            let from = span.0 + span.1 / 2.0;
            let to = span.0 + span.1;
            ladder
                .control
                .set_progress(from, Some("measuring the quantized model".into()));
            Some(Quality::Text(Box::new(t.compare(
                settings.output.path(),
                ladder.control,
                (from, to),
            )?)))
        }
        _ => None,
    };
    let quantized = match work {
        Some(w) if settings.keep_codes => {
            Some((tuned.unwrap_or_else(|| w.model.mlp.clone()), pass.codes))
        }
        _ => None,
    };
    Ok(Outcome {
        scheme,
        pass: pass.summary,
        finetune,
        evaluation,
        quantized,
        gptq,
        written: pass.written,
    })
}

/// `metadata_props` of the exported ONNX models: what a client needs to read the outputs.
fn onnx_metadata(
    m: &MlpModel,
    scheme: &QuantScheme,
    job_id: &str,
    classification: bool,
) -> Vec<(String, String)> {
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    let mut meta = vec![
        ("whittle_job_id".to_string(), job_id.to_string()),
        (
            "task".to_string(),
            if classification { "classification" } else { "regression" }.to_string(),
        ),
        ("quantization_scheme".to_string(), scheme_tag(scheme)),
    ];
    if let Some(c) = &m.arch.classes {
        meta.push(("classes".to_string(), json(c)));
    }
    if let Some(f) = &m.arch.feature_names {
        meta.push(("feature_names".to_string(), json(f)));
    }
    meta
}

/// The fine-tuned weights and biases by tensor name (biases only where the file has them).
fn tuned_tensors(
    model: &MlpModel,
    tuned: &crate::kernels::nn::Mlp,
    names: &[String],
) -> HashMap<String, Vec<f32>> {
    let mut floats = HashMap::new();
    for (layer, name) in tuned.layers.iter().zip(&model.weight_names) {
        floats.insert(name.clone(), layer.weight.iter().copied().collect());
        if let Some(stem) = name.strip_suffix(".weight") {
            let bias = format!("{stem}.bias");
            if names.contains(&bias) {
                floats.insert(bias, layer.bias.to_vec());
            }
        }
    }
    floats
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
    fn scheme_reports_name_granularity_and_group() {
        let r = SchemeReport::from(&QuantScheme::new(4, true, Granularity::Group(32)));
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            serde_json::json!({"bits": 4, "symmetric": true, "granularity": "group",
                "group_size": 32, "scale_dtype": "f32"})
        );
    }
}

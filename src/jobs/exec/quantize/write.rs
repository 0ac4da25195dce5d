//! One pass of a quantize job over the model's tensors: the output header is planned first
//! (which tensors are quantized, what entries they become), then every tensor is streamed
//! from the memory-mapped input, quantized (or copied) and written, with a per-tensor error
//! report.
use ndarray::{Array2, ArrayView2};
use safetensors::Dtype;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::artifacts::WrittenFile;
use crate::domain::selection::TensorSelection;
use crate::formats::compressed_tensors::{
    compressed_entries, module_name, planned_entries, quantization_config, CompressionFormat,
};
use crate::formats::safetensors::{
    converts_to_f32, folder, from_f32, is_float, to_f32_into, MappedModel, ModelWriter,
    OutputTarget, TensorPlan,
};
use crate::jobs::{JobControl, JobError};
use crate::kernels::quant::{
    dequantize, quantize_measured, quantized_error_report, ErrorReport, Granularity, QuantMethod,
    QuantScheme, QuantizedTensor, ScaleDtype,
};
use crate::kernels::KernelError;

/// What one pass writes and how.
#[derive(Clone)]
pub struct PassSettings<'a> {
    pub mapped: &'a MappedModel,
    pub names: &'a [String],
    pub selection: &'a TensorSelection,
    pub scheme: QuantScheme,
    /// compressed-tensors in this format, or dequantized floats (`None`).
    pub compressed: Option<CompressionFormat>,
    pub method: QuantMethod,
    /// Tensors whose dequantized weights the pass hands back (an MLP's layers, to evaluate).
    pub keep: BTreeSet<&'a str>,
    /// Hand back the codes of the kept tensors too (for an ONNX export).
    pub keep_codes: bool,
    /// A file, or a folder (shards, index, the input's side files, `config.json` with the
    /// `quantization_config`) when the input is a folder.
    pub output: &'a OutputTarget,
    /// Scales in each weight's own float dtype (compressed-tensors' convention) instead of
    /// `scheme.scale_dtype`.
    pub scale_from_weights: bool,
    /// Quantize embedding tables (an `include` glob was given); by default they stay in
    /// float in both outputs, so the dequantized output is the decode of the compressed one.
    pub embeddings_selected: bool,
    pub job_id: &'a str,
}

impl PassSettings<'_> {
    /// The scheme of a tensor of `dtype`.
    pub fn scheme_for(&self, dtype: Dtype) -> QuantScheme {
        if !self.scale_from_weights {
            return self.scheme;
        }
        self.scheme.with_scale_dtype(match dtype {
            Dtype::F16 => ScaleDtype::F16,
            Dtype::BF16 => ScaleDtype::BF16,
            _ => ScaleDtype::F32,
        })
    }
}

/// Inputs that replace what the file holds: GPTQ's codes, and fine-tuned float weights.
#[derive(Default)]
pub struct Replacements {
    pub quantized: HashMap<String, QuantizedTensor>,
    pub floats: HashMap<String, Vec<f32>>,
}

/// What one pass produced.
pub struct Pass {
    pub summary: PassSummary,
    /// Dequantized weights of the kept tensors.
    pub kept: HashMap<String, Array2<f32>>,
    /// Codes of the kept tensors when `keep_codes`.
    pub codes: HashMap<String, QuantizedTensor>,
    /// The files written, hashed on the way out.
    pub written: Vec<WrittenFile>,
}

/// The report of one pass.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PassSummary {
    pub n_tensors_quantized: usize,
    pub n_tensors_copied: usize,
    pub quantized_weights: u64,
    pub bits_per_weight: Option<f64>,
    /// Over every quantized weight; `null` when the error is zero.
    pub sqnr_db: Option<f64>,
    /// The compressed-tensors format, or `dequantized`.
    pub format: &'static str,
    pub quantization_config: Option<Value>,
    pub tensors: Vec<TensorReport>,
    /// Selected tensors written in float because compressed-tensors cannot express them
    /// quantized (not a `<module>.weight`, not 2-D, or a partial last group).
    pub left_in_float: Vec<LeftInFloat>,
}

/// The error of one quantized tensor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TensorReport {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
    pub bits_per_weight: f64,
    pub mse: f64,
    pub sqnr_db: Option<f64>,
    pub max_abs_error: f64,
}

/// How one input tensor goes to the output.
enum Item {
    Quantize {
        rows: usize,
        cols: usize,
        scheme: QuantScheme,
    },
    Copy,
}

/// A selected tensor the compressed-tensors layout cannot express, written in float.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeftInFloat {
    pub name: String,
    pub reason: String,
}

/// The output header and what becomes of each tensor.
struct Plan {
    items: Vec<Item>,
    tensors: Vec<TensorPlan>,
    /// Modules of quantized tensors: `Linear` layers, and the names of other modules
    /// (embeddings) that compressed-tensors must match by name.
    targets: BTreeSet<String>,
    /// `Linear` modules left in float (compressed-tensors' `ignore`).
    ignore: Vec<String>,
    left_in_float: Vec<LeftInFloat>,
}

/// Whether a module holding a 2-D `.weight` is an embedding table rather than a `Linear`
/// layer (compressed-tensors' `targets: ["Linear"]` would not match it).
fn is_embedding(module: &str) -> bool {
    let last = module.rsplit('.').next().unwrap_or(module).to_ascii_lowercase();
    last.contains("embed") || last == "wte" || last == "wpe" || last == "shared"
}

/// Why compressed-tensors cannot express `name` quantized with `scheme`, if it cannot.
fn inexpressible(name: &str, shape: &[usize], cols: usize, scheme: &QuantScheme) -> Option<String> {
    if !name.ends_with(".weight") {
        return Some(
            "compressed-tensors quantizes module weights (`<module>.weight`) only".into(),
        );
    }
    if shape.len() != 2 {
        return Some(format!(
            "compressed-tensors quantizes 2-D weights only (shape {shape:?})"
        ));
    }
    if let Granularity::Group(g) = scheme.granularity {
        if !cols.is_multiple_of(g.max(1)) {
            return Some(format!(
                "{cols} input columns are not a multiple of group_size {g}: compressed-tensors \
                 cannot read a partial last group (choose a group size that divides {cols}, \
                 or output: dequantized)"
            ));
        }
    }
    None
}

/// Plans the whole header before any data is written.
fn plan(s: &PassSettings<'_>, replacements: &Replacements) -> Result<Plan, JobError> {
    let mut taken: BTreeSet<String> = s.names.iter().cloned().collect();
    let mut plan = Plan {
        items: Vec::with_capacity(s.names.len()),
        tensors: Vec::with_capacity(s.names.len()),
        targets: BTreeSet::new(),
        ignore: Vec::new(),
        left_in_float: Vec::new(),
    };
    for name in s.names {
        let t = s.mapped.tensor(name)?;
        let n = t.n_elements() as usize;
        let mut selected = is_float(t.dtype)
            && converts_to_f32(t.dtype)
            && n > 0
            && !t.shape.is_empty()
            && s.selection.matches(name, t.shape);
        let rows = if t.shape.len() == 1 { 1 } else { t.shape[0] };
        let cols = n / rows.max(1);
        let scheme = match replacements.quantized.get(name.as_str()) {
            Some(q) => q.scheme,
            None => s.scheme_for(t.dtype),
        };
        if selected && !s.embeddings_selected {
            let module = module_name(name);
            if name.ends_with(".weight") && t.shape.len() == 2 && is_embedding(module) {
                plan.left_in_float.push(LeftInFloat {
                    name: name.clone(),
                    reason: "embedding tables stay in float by default, as llm-compressor \
                             leaves them (transformers runs only Linear layers compressed); \
                             name them in include to quantize them"
                        .into(),
                });
                selected = false;
            }
        }
        if selected && s.compressed.is_some() {
            if let Some(reason) = inexpressible(name, t.shape, cols, &scheme) {
                plan.left_in_float.push(LeftInFloat {
                    name: name.clone(),
                    reason,
                });
                selected = false;
            }
        }
        let entry = |name: String, dtype, shape| TensorPlan { name, dtype, shape };
        if !selected {
            let linear = t.shape.len() == 2 && is_float(t.dtype) && name.ends_with(".weight");
            let module = module_name(name);
            if s.compressed.is_some() && linear && !is_embedding(module) {
                plan.ignore.push(module.to_string());
            }
            plan.items.push(Item::Copy);
            plan.tensors
                .push(entry(name.clone(), t.dtype, t.shape.to_vec()));
            continue;
        }
        plan.items.push(Item::Quantize { rows, cols, scheme });
        let Some(format) = s.compressed else {
            let dtype = match t.dtype {
                Dtype::F64 | Dtype::F32 | Dtype::F16 | Dtype::BF16 => t.dtype,
                _ => Dtype::F32,
            };
            plan.tensors
                .push(entry(name.clone(), dtype, t.shape.to_vec()));
            continue;
        };
        let module = module_name(name);
        plan.targets.insert(if is_embedding(module) {
            module.to_string()
        } else {
            "Linear".to_string()
        });
        taken.remove(name);
        for p in planned_entries(name, rows, cols, &scheme, format)? {
            if !taken.insert(p.name.clone()) {
                return Err(JobError::Invalid(format!(
                    "quantizing {name} would write {} which the model already has; exclude one of them",
                    p.name
                )));
            }
            plan.tensors.push(entry(p.name, p.dtype, p.shape));
        }
    }
    if s.compressed.is_some() && plan.targets.is_empty() && !plan.left_in_float.is_empty() {
        let first = &plan.left_in_float[0];
        return Err(JobError::Invalid(format!(
            "no selected tensor can be written as compressed-tensors ({}: {}); use output: \
             dequantized for a float model with quantized values",
            first.name, first.reason
        )));
    }
    Ok(plan)
}

/// Running totals over the quantized tensors.
#[derive(Default)]
struct Totals {
    weights: u64,
    bits: f64,
    noise: f64,
    signal: f64,
}

/// The open output file and what the pass has produced so far.
struct Output<'a> {
    s: &'a PassSettings<'a>,
    writer: ModelWriter,
    planned_dtypes: HashMap<String, Dtype>,
    replacements: Replacements,
    buffer: Vec<f32>,
    /// The codes of the last quantized tensor, reused for the next one.
    codes_buffer: Vec<i8>,
    tensors: Vec<TensorReport>,
    kept: HashMap<String, Array2<f32>>,
    codes: HashMap<String, QuantizedTensor>,
    totals: Totals,
}

/// Quantizes the selected tensors into `s.output`, one tensor at a time; progress runs over
/// `span` (start, width).
pub fn write_pass(
    s: &PassSettings<'_>,
    replacements: Replacements,
    control: &JobControl,
    span: (f64, f64),
) -> Result<Pass, JobError> {
    let plan = plan(s, &replacements)?;
    let targets: Vec<String> = plan.targets.iter().cloned().collect();
    let config = s
        .compressed
        .map(|format| quantization_config(&s.scheme, format, &targets, &plan.ignore));
    let mut metadata: BTreeMap<String, String> = s.mapped.inventory().metadata.clone();
    if let Some(c) = &config {
        metadata.insert("quantization_config".into(), c.to_string());
    }
    metadata.insert("whittle_job_id".into(), s.job_id.to_string());
    // transformers refuses safetensors files whose metadata lacks `format: pt`.
    metadata
        .entry("format".into())
        .or_insert_with(|| "pt".into());
    let left_in_float = plan.left_in_float.clone();
    let n_selected = plan
        .items
        .iter()
        .filter(|i| matches!(i, Item::Quantize { .. }))
        .count();
    let mut out = Output {
        s,
        planned_dtypes: plan
            .tensors
            .iter()
            .map(|p| (p.name.clone(), p.dtype))
            .collect(),
        writer: ModelWriter::create(s.output, plan.tensors, metadata)?,
        replacements,
        buffer: Vec::new(),
        codes_buffer: Vec::new(),
        tensors: Vec::with_capacity(n_selected),
        kept: HashMap::new(),
        codes: HashMap::new(),
        totals: Totals::default(),
    };
    for (name, item) in s.names.iter().zip(&plan.items) {
        if control.should_stop() {
            return Err(JobError::Canceled);
        }
        match *item {
            Item::Copy => out.copy(name)?,
            Item::Quantize { rows, cols, scheme } => {
                out.quantize(name, rows, cols, &scheme)?;
                control.set_progress(
                    span.0 + span.1 * out.tensors.len() as f64 / n_selected.max(1) as f64,
                    Some(format!(
                        "quantized {}/{n_selected}: {name}",
                        out.tensors.len()
                    )),
                );
            }
        }
        // Streaming: this tensor's input pages are not needed again.
        s.mapped.release(name);
    }
    let written = out.writer.finish()?;
    if let (OutputTarget::Folder { dir, .. }, Some(input)) = (s.output, s.mapped.folder()) {
        folder::carry_side_files(input, dir, |cfg| match &config {
            Some(c) => {
                cfg.insert("quantization_config".into(), c.clone());
            }
            None => {
                cfg.remove("quantization_config");
            }
        })?;
    }
    let (tensors, totals) = (out.tensors, out.totals);
    let summary = PassSummary {
        n_tensors_copied: s.names.len() - tensors.len(),
        n_tensors_quantized: tensors.len(),
        quantized_weights: totals.weights,
        bits_per_weight: (totals.weights > 0).then(|| totals.bits / totals.weights as f64),
        sqnr_db: (totals.noise > 0.0).then(|| 10.0 * (totals.signal / totals.noise).log10()),
        format: s
            .compressed
            .map_or("dequantized", CompressionFormat::as_str),
        quantization_config: config,
        tensors,
        left_in_float,
    };
    Ok(Pass {
        summary,
        kept: out.kept,
        codes: out.codes,
        written,
    })
}

impl Output<'_> {
    /// Writes `name` as it is (or as fine-tuned).
    fn copy(&mut self, name: &str) -> Result<(), JobError> {
        let t = self.s.mapped.tensor(name)?;
        match self.replacements.floats.get(name) {
            Some(v) => self.writer.write_tensor(name, &from_f32(v, t.dtype)?)?,
            None => self.writer.write_tensor(name, t.data)?,
        }
        Ok(())
    }

    /// Quantizes `name` as a `rows × cols` matrix and writes its entries.
    fn quantize(
        &mut self,
        name: &str,
        rows: usize,
        cols: usize,
        scheme: &QuantScheme,
    ) -> Result<(), JobError> {
        let s = self.s;
        let t = s.mapped.tensor(name)?;
        let values: &[f32] = match (self.replacements.floats.get(name), t.as_f32_slice()) {
            (Some(v), _) => v,
            (None, Some(v)) => v,
            (None, None) => {
                to_f32_into(&t, &mut self.buffer)?;
                &self.buffer
            }
        };
        let at = |e: KernelError| JobError::Invalid(format!("{name}: {e}"));
        let w = ArrayView2::from_shape((rows, cols), values)
            .map_err(|e| JobError::Invalid(format!("{name}: {e}")))?;
        let (q, report) = match self.replacements.quantized.remove(name) {
            Some(q) => {
                let report = quantized_error_report(w, &q).map_err(at)?;
                (q, report)
            }
            // One pass: codes and their error together, into the last tensor's buffer.
            None => quantize_measured(w, scheme, s.method, std::mem::take(&mut self.codes_buffer))
                .map_err(at)?,
        };
        let keep = s.keep.contains(name);
        let w_hat = if s.compressed.is_none() || keep {
            Some(dequantize(&q).map_err(at)?)
        } else {
            None
        };
        match (s.compressed, &w_hat) {
            (Some(format), _) => {
                for e in compressed_entries(name, &q, format)? {
                    self.writer.write_tensor(&e.name, &e.data)?;
                }
            }
            (None, Some(w_hat)) => {
                let dtype = self.planned_dtypes.get(name).copied().unwrap_or(Dtype::F32);
                let flat: Vec<f32> = w_hat.iter().copied().collect();
                self.writer.write_tensor(name, &from_f32(&flat, dtype)?)?;
            }
            (None, None) => {}
        }
        let bits = scheme.bits;
        self.tensors
            .push(tensor_report(name, t.shape, t.dtype, &report, bits));
        self.totals.add(&report, rows * cols, bits);
        if let (true, Some(w_hat)) = (keep, w_hat) {
            self.kept.insert(name.to_string(), w_hat);
            if s.keep_codes {
                self.codes.insert(name.to_string(), q);
                return Ok(());
            }
        }
        self.codes_buffer = q.q;
        Ok(())
    }
}

impl Totals {
    fn add(&mut self, report: &ErrorReport, n: usize, bits: u8) {
        let n = n as u64;
        self.weights += n;
        self.bits += report.bits_per_weight.unwrap_or(f64::from(bits)) * n as f64;
        self.noise += report.mse * n as f64;
        self.signal += report.signal;
    }
}

fn tensor_report(
    name: &str,
    shape: &[usize],
    dtype: Dtype,
    report: &ErrorReport,
    bits: u8,
) -> TensorReport {
    TensorReport {
        name: name.to_string(),
        shape: shape.to_vec(),
        dtype: dtype.to_string(),
        bits_per_weight: report.bits_per_weight.unwrap_or(f64::from(bits)),
        mse: report.mse,
        sqnr_db: report.sqnr_db.is_finite().then_some(report.sqnr_db),
        max_abs_error: report.max_abs_error,
    }
}

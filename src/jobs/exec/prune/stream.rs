//! Pruning any safetensors model: magnitude (per tensor or one global cutoff), threshold or
//! N:M, tensor by tensor from the memory-mapped file into a file of the same layout.
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::{
    Inputs, PruneQuality, PruneResult, RuleFields, SkippedTensor, Sparsity, TensorPruned,
    TextQualityFields, DENSE_NOTE,
};
use crate::artifacts::WrittenFile;
use crate::domain::specs::prune::{PruneMethod, PruneSpec};
use crate::jobs::calibration::{Calibration, CalibrationOptions, CalibrationReport};
use crate::jobs::text_quality::{load_text_dataset, TextBaseline, TextRun};
use crate::kernels::prune::{wanda_mask, wanda_nm_mask};
use crate::kernels::transformer::calibrate::{weight_matrix, Collect, InputStats};
use crate::kernels::transformer::Linear;
use crate::kernels::KernelError;
use crate::formats::safetensors::{
    folder, from_f32, to_f32, to_f32_into, Dtype, MappedModel, ModelWriter, OutputTarget,
    TensorPlan,
};
use crate::jobs::{JobControl, JobError};
use crate::kernels::prune::{
    global_magnitude_cutoff, nm_mask, threshold_masks, MagnitudeCutoff, Scope, TensorSparsity,
};

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

/// Weights with NaN or ±inf are refused, as every job that computes with weights does
/// (`analyze` is the one that counts them).
fn require_finite(name: &str, values: &[f32]) -> Result<(), JobError> {
    if values.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    Err(JobError::Invalid(format!(
        "tensor {name} contains NaN or infinite values; run analyze to find them"
    )))
}

/// f32 values as the little-endian bytes safetensors stores (callers check the target is
/// little-endian).
fn f32_bytes(v: &[f32]) -> &[u8] {
    // SAFETY: any f32 bit pattern is a valid sequence of 4 bytes; u8 has alignment 1 and
    // the slice borrows `v` for its lifetime.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
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
    /// Wanda on a transformer: the input norms of each block Linear (collected block by
    /// block with the earlier blocks pruned), and the sparsity or N:M pattern.
    Wanda {
        norms: HashMap<String, Array1<f32>>,
        pattern: WandaPattern,
    },
}

/// Wanda's per-row rule.
#[derive(Debug, Clone, Copy)]
enum WandaPattern {
    Sparsity(f64),
    Nm(usize, usize),
}

impl WandaPattern {
    fn of(spec: &PruneSpec) -> WandaPattern {
        match (spec.n, spec.m) {
            (Some(n), Some(m)) => WandaPattern::Nm(n, m),
            _ => WandaPattern::Sparsity(spec.sparsity.unwrap_or(0.0)),
        }
    }

    fn mask(self, w: ArrayView2<f32>, norms: &Array1<f32>) -> Result<Array2<bool>, JobError> {
        Ok(match self {
            WandaPattern::Sparsity(s) => wanda_mask(w, norms.view(), s)?,
            WandaPattern::Nm(n, m) => wanda_nm_mask(w, norms.view(), n, m)?,
        })
    }
}

impl TensorRule {
    /// Prunes the `k`-th selected tensor `w` (named `name`) in place.
    fn apply(&self, k: usize, name: &str, mut w: ArrayViewMut2<f32>) -> Result<(), JobError> {
        match self {
            TensorRule::Wanda { norms, pattern } => {
                let n = norms
                    .get(name)
                    .ok_or_else(|| JobError::Invalid(format!("no calibration norms for {name}")))?;
                let mask = pattern.mask(w.view(), n)?;
                apply_mask_view(w, &mask);
            }
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

    /// The rule's parameters as reported.
    fn fields(&self, target: Option<f64>) -> RuleFields {
        match self {
            TensorRule::Global(cut) => RuleFields {
                scope: Some(Scope::Global),
                target_sparsity: target,
                cutoff_magnitude: Some(cut.threshold()),
                ..RuleFields::default()
            },
            TensorRule::Layer(s) => RuleFields {
                scope: Some(Scope::Layer),
                target_sparsity: Some(*s),
                ..RuleFields::default()
            },
            TensorRule::Threshold(t) => RuleFields {
                threshold: Some(*t),
                ..RuleFields::default()
            },
            TensorRule::Nm(n, m)
            | TensorRule::Wanda {
                pattern: WandaPattern::Nm(n, m),
                ..
            } => RuleFields {
                pattern: Some(format!("{n}:{m}")),
                ..RuleFields::default()
            },
            TensorRule::Wanda {
                pattern: WandaPattern::Sparsity(s),
                ..
            } => RuleFields {
                scope: Some(Scope::Layer),
                target_sparsity: Some(*s),
                ..RuleFields::default()
            },
        }
    }
}

/// The rule of `inputs`' method; a global magnitude cutoff looks at every selected tensor.
fn rule(
    inputs: &Inputs,
    mapped: &MappedModel,
    selected: &[usize],
    control: &JobControl,
    wanda: Option<HashMap<String, Array1<f32>>>,
) -> Result<TensorRule, JobError> {
    let spec = &inputs.spec;
    if let Some(norms) = wanda {
        return Ok(TensorRule::Wanda {
            norms,
            pattern: WandaPattern::of(spec),
        });
    }
    Ok(match spec.method {
        PruneMethod::Magnitude => {
            let s = spec.sparsity.unwrap_or(0.0);
            match spec.effective_scope() {
                Scope::Layer => TensorRule::Layer(s),
                Scope::Global => {
                    control.set_progress(0.05, Some("computing the global cutoff".into()));
                    // F32 tensors are viewed in place; others are converted once for the cutoff.
                    let mut values: Vec<(Vec<usize>, Cow<[f32]>)> = Vec::new();
                    for &i in selected {
                        if control.should_stop() {
                            return Err(JobError::Canceled);
                        }
                        let t = mapped
                            .tensor_at(i)
                            .ok_or_else(|| JobError::Invalid(format!("tensor {i} vanished")))?;
                        // F32 tensors are checked for NaN/inf in the pass that prunes them
                        // (a cutoff over them is computed, then the job fails there).
                        let v = match t.as_f32_slice() {
                            Some(s) => Cow::Borrowed(s),
                            None => {
                                let v = to_f32(&t)?;
                                require_finite(t.name, &v)?;
                                Cow::Owned(v)
                            }
                        };
                        values.push((t.shape.to_vec(), v));
                    }
                    let views = values
                        .iter()
                        .map(|(shape, v)| view2(shape, v))
                        .collect::<Result<Vec<_>, _>>()?;
                    let cut = global_magnitude_cutoff(&views, s)?;
                    // The write pass maps each tensor again when it reaches it.
                    for &i in selected {
                        if let Some(t) = mapped.tensor_at(i) {
                            mapped.release(t.name);
                        }
                    }
                    TensorRule::Global(cut)
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
    })
}

/// The tensors to prune (indices) and the selected ones that cannot be; with Wanda's
/// `norms`, only the block Linears that have them.
fn select(
    inputs: &Inputs,
    mapped: &MappedModel,
    norms: Option<&HashMap<String, Array1<f32>>>,
) -> Result<(Vec<usize>, Vec<SkippedTensor>), JobError> {
    let mut selected = Vec::new();
    let mut skipped = Vec::new();
    for (i, t) in mapped.tensors().enumerate() {
        if t.shape.len() < 2 || !inputs.selection.matches(t.name, t.shape) {
            continue;
        }
        if norms.is_some_and(|n| !n.contains_key(t.name)) {
            skipped.push(SkippedTensor {
                name: t.name.to_string(),
                dtype: t.dtype.to_string(),
                reason: "not a Linear of a transformer block: Wanda scores need its inputs",
            });
            continue;
        }
        if writable(t.dtype) {
            selected.push(i);
        } else {
            skipped.push(SkippedTensor {
                name: t.name.to_string(),
                dtype: t.dtype.to_string(),
                reason: "only F32, F64, F16 and BF16 tensors are pruned",
            });
        }
    }
    if selected.is_empty() {
        return Err(JobError::Invalid(
            "no tensor to prune: no float tensor with 2 or more dimensions matches include/exclude"
                .into(),
        ));
    }
    Ok((selected, skipped))
}

/// Any safetensors model, tensor by tensor from the mapped file.
pub(super) fn prune_stream(
    inputs: Inputs,
    control: &JobControl,
) -> Result<(PruneResult, Option<Value>, Vec<WrittenFile>), JobError> {
    let mapped = MappedModel::open(&inputs.model.1)?;
    let text = text_baseline(&inputs, control)?;
    let (wanda, calibration) = match wanda_norms(&inputs, &mapped, control)? {
        Some((norms, report)) => (Some(norms), Some(report)),
        None => (None, None),
    };
    let (selected, skipped) = select(&inputs, &mapped, wanda.as_ref())?;
    let rule = rule(&inputs, &mapped, &selected, control, wanda)?;
    // Progress: [baseline, calibration,] the pass, [the measurement of the output].
    let write_span = match (&text, &calibration) {
        (Some(_), _) => (0.5, 0.3),
        (None, Some(_)) => (0.5, 0.5),
        (None, None) => (0.1, 0.9),
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
    metadata.insert("whittle_job_id".into(), inputs.job_id.clone());
    metadata.insert("whittle_pruned".into(), inputs.spec.method.as_str().into());
    // transformers refuses safetensors files whose metadata lacks `format: pt`.
    metadata
        .entry("format".into())
        .or_insert_with(|| "pt".into());
    let mut writer = ModelWriter::create(&inputs.output, plans, metadata)?;
    let mut buffer: Vec<f32> = Vec::new();
    let mut tensors = Vec::with_capacity(selected.len());
    for (i, t) in mapped.tensors().enumerate() {
        if control.should_stop() {
            return Err(JobError::Canceled);
        }
        let k = tensors.len();
        if selected.get(k) != Some(&i) {
            writer.write_tensor(t.name, t.data)?;
            continue;
        }
        let (numel, zeros_before, zeros) = match (&rule, t.as_f32_slice()) {
            // One pass from the mapped file: prune, count and check, then write the floats.
            (TensorRule::Global(cut), Some(src)) if cfg!(target_endian = "little") => {
                let c = cut.apply_into(k, src, &mut buffer)?;
                if !c.finite {
                    require_finite(t.name, src)?;
                }
                writer.write_tensor(t.name, f32_bytes(&buffer))?;
                (buffer.len() as u64, c.zeros_before, c.zeros_after)
            }
            _ => {
                to_f32_into(&t, &mut buffer)?;
                require_finite(t.name, &buffer)?;
                let before = TensorSparsity::from_weights(view2(t.shape, &buffer)?);
                rule.apply(k, t.name, view2_mut(t.shape, &mut buffer)?)?;
                let after = TensorSparsity::from_weights(view2(t.shape, &buffer)?);
                writer.write_tensor(t.name, &from_f32(&buffer, t.dtype)?)?;
                (after.numel, before.zeros, after.zeros)
            }
        };
        mapped.release(t.name);
        tensors.push(TensorPruned {
            name: t.name.to_string(),
            dtype: t.dtype.to_string(),
            shape: t.shape.to_vec(),
            numel,
            zeros_before: Some(zeros_before),
            zeros,
            sparsity: if numel == 0 {
                0.0
            } else {
                zeros as f64 / numel as f64
            },
        });
        control.set_progress(
            write_span.0 + write_span.1 * tensors.len() as f64 / selected.len() as f64,
            Some(format!(
                "pruned {}/{} tensors",
                tensors.len(),
                selected.len()
            )),
        );
    }
    let written = writer.finish()?;
    if let (OutputTarget::Folder { dir, .. }, Some(input)) = (&inputs.output, mapped.folder()) {
        folder::carry_side_files(input, dir, |_| {})?;
    }
    let numel = tensors.iter().map(|t| t.numel).sum();
    let zeros = tensors.iter().map(|t| t.zeros).sum::<u64>();
    let zeros_before = tensors.iter().filter_map(|t| t.zeros_before).sum();
    let params = mapped.inventory().n_params;
    let (row, spec) = (&inputs.model.0, &inputs.spec);
    let result = PruneResult {
        model_id: row.id,
        method: Some(spec.method),
        tensors,
        skipped_tensors: Some(skipped),
        global: Sparsity::of(numel, zeros, Some(zeros_before)),
        params_before: params,
        params_after: params,
        nonzero_params_after: params - zeros,
        bytes_before: row.bytes,
        bytes_after: folder::disk_bytes(inputs.output.path())?,
        storage: "dense",
        rule: rule.fields(spec.sparsity),
        speedup_note: DENSE_NOTE.into(),
        calibration,
        ..PruneResult::default()
    };
    let mut result = result;
    if let Some(t) = text {
        control.set_progress(0.8, Some("measuring the pruned model".into()));
        let change = t.compare(inputs.output.path(), control, (0.8, 1.0))?;
        let within = spec.tolerable_loss.map(|tol| change.loss <= tol);
        let gate = match (within, spec.tolerable_loss) {
            (Some(false), Some(tol)) => Some(format!(
                "the {} loss is {:.4} ({:.4} → {:.4}), more than tolerable_loss {tol}; lower \
                 the sparsity or use wanda",
                change.metric, change.loss, change.before, change.after
            )),
            _ => None,
        };
        let m = change.metric;
        result.quality = Some(PruneQuality::Text(Box::new(TextQualityFields {
            metric: m,
            headline: BTreeMap::from([
                (format!("{m}_before"), change.before),
                (format!("{m}_after"), change.after),
            ]),
            loss: change.loss,
            within_tolerable_loss: within,
            evaluation: change,
        })));
        if let Some(message) = gate {
            let g = &result.global;
            return Err(JobError::Invalid(format!(
                "{message} (sparsity {:.4}, {} of {} weights zero)",
                g.sparsity, g.zeros, g.numel
            )));
        }
    }
    Ok((result, row.architecture.clone(), written))
}

/// The float transformer measured on the text eval dataset, when the spec names one.
fn text_baseline(inputs: &Inputs, control: &JobControl) -> Result<Option<TextBaseline>, JobError> {
    let (Some((row, path)), true) = (&inputs.eval, inputs.transformer) else {
        return Ok(None);
    };
    control.set_progress(0.0, Some("measuring the float model".into()));
    let data = load_text_dataset(row, path)?;
    let spec = &inputs.spec;
    Ok(Some(TextBaseline::new(
        inputs.model.0.id,
        &inputs.model.1,
        data,
        TextRun::limited(spec.max_length, spec.max_examples),
        control,
        (0.0, 0.2),
    )?))
}

/// Wanda on a transformer: the input norms of every selected block Linear, collected block
/// by block on the calibration text with the earlier blocks already pruned (as the Wanda
/// reference prunes layer after layer).
#[allow(clippy::type_complexity)]
fn wanda_norms(
    inputs: &Inputs,
    mapped: &MappedModel,
    control: &JobControl,
) -> Result<Option<(HashMap<String, Array1<f32>>, CalibrationReport)>, JobError> {
    let spec = &inputs.spec;
    let (PruneMethod::Wanda, true, Some((row, path))) =
        (spec.method, inputs.transformer, inputs.calibration.as_ref())
    else {
        return Ok(None);
    };
    let dir = &inputs.model.1;
    let mut calib = Calibration::prepare(
        dir,
        (row, path),
        CalibrationOptions {
            max_length: spec.max_length,
            max_examples: spec.max_examples,
        },
    )?;
    let pattern = WandaPattern::of(spec);
    let mut norms = HashMap::new();
    let mut edit = |_: usize,
                    linears: &mut [&mut Linear],
                    stats: &HashMap<String, InputStats>|
     -> Result<(), KernelError> {
        for linear in linears.iter_mut() {
            let Some(t) = mapped.tensor(&linear.name).ok() else {
                continue;
            };
            if !(writable(t.dtype) && inputs.selection.matches(&linear.name, t.shape)) {
                continue;
            }
            let Some(n) = stats.get(&linear.name).map(InputStats::norms).transpose()?.flatten()
            else {
                continue;
            };
            let mut w = weight_matrix(linear)?;
            let mask = pattern
                .mask(w.view(), &n)
                .map_err(|e| KernelError::Shape(format!("{}: {e}", linear.name)))?;
            apply_mask_view(w.view_mut(), &mask);
            linear.set_weight(w.into_raw_vec_and_offset().0)?;
            norms.insert(linear.name.clone(), n);
        }
        Ok(())
    };
    let span = if inputs.eval.is_some() { (0.2, 0.3) } else { (0.0, 0.5) };
    calib.run(dir, Collect { hessian: false, norms: true }, &mut edit, control, span)?;
    if norms.is_empty() {
        return Err(JobError::Invalid(
            "wanda found no selected Linear inside the model's blocks: check include/exclude"
                .into(),
        ));
    }
    Ok(Some((norms, calib.report.clone())))
}

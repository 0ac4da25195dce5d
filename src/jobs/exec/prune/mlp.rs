//! Pruning an MLP whittle can run: every method (structured neuron removal and wanda too),
//! fine-tuning with pruned weights held at zero, a gradual schedule of prune rounds between
//! fine-tuning epochs, and the model measured before and after on the eval dataset.
use ndarray::{Array2, ArrayView2};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    FinetuneReport, GradualRound, Inputs, PruneResult, QualityFields, RuleFields, Sparsity,
    TensorPruned, DENSE_NOTE,
};
use crate::domain::specs::prune::{PruneMethod, PruneSpec};
use crate::formats::mlp::{save_mlp_named, MlpArchitecture};
use crate::jobs::checkpoint::TrainCheckpoints;
use crate::jobs::epochs::{EpochSeries, MetricSender};
use crate::jobs::inputs::{labelled, load_model, output_tensor_names, Labelled};
use crate::jobs::measure::{measure, ModelEvaluation};
use crate::jobs::{JobControl, JobError};
use crate::kernels::nn::{self, Dense, MaskConstraint, Mlp, OptimizerConfig, TrainConfig};
use crate::kernels::prune::{
    apply_mask, input_feature_norms, magnitude_masks, nm_mask, structured_prune_per_layer,
    threshold_masks, wanda_mask, wanda_nm_mask, PolynomialDecay, StructuredReport, TensorSparsity,
};
use crate::kernels::KernelError;

/// Calibration rows used for wanda's input norms (enough for stable column norms).
const MAX_CALIBRATION_ROWS: usize = 4096;

/// Name of fine-tuning runs in the job's checkpoint (stage = round).
const FINETUNE_RUN: &str = "finetune";

/// Keep-masks by layer (`None`: the layer is not pruned).
type Masks = Vec<Option<Array2<bool>>>;

/// The model and the data one MLP prune works with.
struct Job<'a> {
    spec: &'a PruneSpec,
    arch: MlpArchitecture,
    /// Which layers the selection picks (`layers.N.weight`).
    selected: Vec<bool>,
    /// Eval rows on raw features (measurements fold the standardization into the model).
    eval_raw: Option<Labelled>,
    /// Eval rows standardized, as fine-tuning's validation set.
    eval_std: Option<Labelled>,
    /// Wanda's calibration inputs, standardized.
    calibration: Option<Array2<f32>>,
    finetune: Option<Labelled>,
}

/// MLP models: prune, fine-tune, measure, write.
pub(super) fn prune_mlp(
    inputs: Inputs,
    control: Arc<JobControl>,
    tx: MetricSender,
    checkpoints: TrainCheckpoints,
) -> Result<(PruneResult, Option<Value>), JobError> {
    control.set_progress(0.02, Some("loading".into()));
    let (mut mlp, arch) = load_model(&inputs.model.0, &inputs.model.1)?;
    let job = set_up(&inputs, arch, &mlp)?;
    let sizes_before = mlp.layer_sizes();
    let params_before = mlp.n_params() as u64;
    let before = match &job.eval_raw {
        Some(p) => {
            control.set_progress(0.05, Some("evaluating the dense model".into()));
            Some(measure(&mlp, &job.arch, p.x.view(), &p.y, None)?)
        }
        None => None,
    };
    let mut tuner = job
        .finetune
        .as_ref()
        .zip(job.spec.finetune.as_ref())
        .map(|(data, f)| {
            let mut cfg = TrainConfig::new(
                data.task.default_loss(),
                OptimizerConfig::adam(f.lr),
                f.epochs,
            );
            cfg.batch_size = f.batch_size;
            cfg.seed = f.seed;
            Finetuner {
                data,
                val: job.eval_std.as_ref(),
                cfg,
                series: EpochSeries::new(control.clone(), tx.clone(), f.epochs, data.task, ""),
                epochs_done: 0,
                losses: Vec::new(),
                checkpoints,
                runs: 0,
                resumed_from: None,
            }
        });
    if control.should_stop() {
        return Err(JobError::Canceled);
    }
    control.set_progress(0.1, Some("pruning".into()));
    let (structured, rounds) = apply_method(&job, &mut mlp, tuner.as_mut(), &control)?;
    if control.should_stop() {
        return Err(JobError::Canceled);
    }
    control.set_progress(0.9, Some("evaluating the pruned model".into()));
    let mut new_arch = job.arch.clone();
    new_arch.layer_sizes = mlp.layer_sizes();
    let after = match &job.eval_raw {
        Some(p) => Some(measure(&mlp, &new_arch, p.x.view(), &p.y, None)?),
        None => None,
    };
    let extra = BTreeMap::from([
        ("whittle_job_id".to_string(), inputs.job_id.clone()),
        (
            "whittle_pruned".to_string(),
            job.spec.method.as_str().to_string(),
        ),
    ]);
    let names = output_tensor_names(
        Some(&inputs.model.1),
        mlp.layers.len(),
        job.spec.output_dtype,
    );
    let bytes = save_mlp_named(&mlp, &new_arch, &extra, &names)?;
    std::fs::write(inputs.output.path(), &bytes)?;
    let sizes = (params_before, structured.as_ref());
    let mut result = report(&job, &mlp, &inputs, sizes, tuner.as_ref());
    result.layer_sizes_before = Some(sizes_before);
    result.layer_sizes_after = Some(new_arch.layer_sizes.clone());
    result.bytes_after = bytes.len() as u64;
    result.gradual_rounds = (!rounds.is_empty()).then_some(rounds);
    if let (Some(b), Some(a)) = (&before, &after) {
        let (quality, gate) = judge(job.spec, b, a);
        result.quality = Some(super::PruneQuality::Mlp(quality));
        if let Some(message) = gate {
            let _ = std::fs::remove_file(inputs.output.path());
            let g = &result.global;
            return Err(JobError::Invalid(format!(
                "{message} (sparsity {:.4}, {} of {} weights zero)",
                g.sparsity, g.zeros, g.numel
            )));
        }
    }
    Ok((result, crate::domain::json::to_value(&new_arch).ok()))
}

/// Loads the datasets and picks the layers.
fn set_up<'a>(inputs: &'a Inputs, arch: MlpArchitecture, mlp: &Mlp) -> Result<Job<'a>, JobError> {
    let spec = &inputs.spec;
    // Layer names as whittle writes them; include/exclude globs match these.
    let selected: Vec<bool> = mlp
        .layers
        .iter()
        .enumerate()
        .map(|(l, d)| {
            inputs.selection.matches(
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
    let load = |d: &Option<_>, standardized| match d {
        Some(d) => labelled(d, &arch, standardized).map(Some),
        None => Ok(None),
    };
    let eval_raw = load(&inputs.eval, false)?;
    let eval_std = if spec.finetune.is_some() {
        load(&inputs.eval, true)?
    } else {
        None
    };
    let calibration = load(&inputs.calibration, true)?.map(|mut p| {
        if p.x.nrows() > MAX_CALIBRATION_ROWS {
            p.x =
                p.x.slice(ndarray::s![..MAX_CALIBRATION_ROWS, ..])
                    .to_owned();
        }
        p.x
    });
    let finetune = load(&inputs.finetune, true)?;
    Ok(Job {
        spec,
        arch,
        selected,
        eval_raw,
        eval_std,
        calibration,
        finetune,
    })
}

/// Prunes per the method: structured removes neurons (then fine-tunes); otherwise masks, at
/// once or in gradual rounds between fine-tuning epochs.
fn apply_method(
    job: &Job<'_>,
    mlp: &mut Mlp,
    tuner: Option<&mut Finetuner<'_>>,
    control: &JobControl,
) -> Result<(Option<StructuredReport>, Vec<GradualRound>), JobError> {
    let sparsity = job.spec.sparsity.unwrap_or(0.0);
    if job.spec.method == PruneMethod::Structured {
        let report = remove_neurons(mlp, &job.selected, sparsity, job.spec)?;
        if let Some(t) = tuner {
            let epochs = t.cfg.epochs;
            t.run(mlp, None, epochs)?;
        }
        return Ok((Some(report), Vec::new()));
    }
    let calibration = job.calibration.as_ref();
    match (&job.spec.gradual, tuner) {
        (Some(g), Some(t)) => {
            let schedule = PolynomialDecay {
                initial_sparsity: g.initial_sparsity,
                final_sparsity: sparsity,
                begin_step: 0,
                end_step: (g.steps - 1) as u64,
                power: g.power,
            };
            schedule.validate()?;
            let total = t.cfg.epochs;
            let mut rounds = Vec::with_capacity(g.steps);
            for k in 0..g.steps {
                if control.should_stop() {
                    return Err(JobError::Canceled);
                }
                let s_k = schedule.sparsity_at(k as u64);
                let masks = prune_layers(mlp, job.spec, &job.selected, s_k, calibration)?;
                let epochs = total / g.steps + usize::from(k < total % g.steps);
                t.series.send("sparsity", t.epochs_done as i64, s_k);
                rounds.push(GradualRound {
                    round: k + 1,
                    sparsity: s_k,
                    epochs,
                });
                t.run(mlp, Some(&masks), epochs)?;
            }
            Ok((None, rounds))
        }
        (_, tuner) => {
            let masks = prune_layers(mlp, job.spec, &job.selected, sparsity, calibration)?;
            if let Some(t) = tuner {
                let epochs = t.cfg.epochs;
                t.run(mlp, Some(&masks), epochs)?;
            }
            Ok((None, Vec::new()))
        }
    }
}

/// Removes the hidden neurons of the selected layers with the smallest norms.
fn remove_neurons(
    mlp: &mut Mlp,
    selected: &[bool],
    sparsity: f64,
    spec: &PruneSpec,
) -> Result<StructuredReport, JobError> {
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
            // Column selection can leave a column-major array; the forward pass needs
            // row-major weights.
            weight: weight.as_standard_layout().into_owned(),
            bias,
            activation,
        })
        .collect();
    *mlp = Mlp::new(layers)?;
    Ok(report)
}

/// Unstructured masks for the selected layers at `sparsity` (ignored by threshold and N:M),
/// applied to `mlp` in place. Wanda takes each layer's input norms from the calibration rows
/// carried through the already-pruned layers before it.
fn prune_layers(
    mlp: &mut Mlp,
    spec: &PruneSpec,
    selected: &[bool],
    sparsity: f64,
    calibration: Option<&Array2<f32>>,
) -> Result<Masks, JobError> {
    let mut masks: Masks = vec![None; mlp.layers.len()];
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
            mlp.visit_layer_inputs(x.view(), |l, layer, input| {
                if chosen.contains(&l) {
                    let norms = input_feature_norms(input);
                    let w = layer.weight.view();
                    let mask = match (spec.n, spec.m) {
                        (Some(n), Some(m)) => wanda_nm_mask(w, norms.view(), n, m)?,
                        _ => wanda_mask(w, norms.view(), sparsity)?,
                    };
                    apply_mask(&mut layer.weight, &mask)?;
                    masks[l] = Some(mask);
                }
                Ok::<_, KernelError>(())
            })?;
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
    data: &'a Labelled,
    val: Option<&'a Labelled>,
    cfg: TrainConfig,
    series: EpochSeries,
    epochs_done: usize,
    losses: Vec<f64>,
    checkpoints: TrainCheckpoints,
    /// Training runs started (a gradual prune trains once per round).
    runs: usize,
    /// The epoch (over all rounds) a checkpoint let this attempt continue from.
    resumed_from: Option<usize>,
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
        self.series.step_offset = self.epochs_done as i64;
        let val = self.val.map(|v| (v.x.view(), &v.y));
        let constraint = constraint.as_ref().map(|c| c as &dyn nn::WeightConstraint);
        let mut trainer =
            nn::Trainer::new(mlp, self.data.x.view(), &self.data.y, val, &cfg, constraint)?;
        // Rounds before the checkpointed one run again (deterministically) on the way to it.
        let stage = self.runs;
        self.runs += 1;
        if let Some(epoch) = self.checkpoints.begin(FINETUNE_RUN, stage, &mut trainer) {
            let total = self.epochs_done + epoch;
            self.resumed_from = Some(total);
            self.series.resumed(total, trainer.history());
        }
        let report = trainer.run(&mut self.checkpoints.observer(&mut self.series))?;
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

/// The result's sparsity, sizes and method fields (quality is added by the caller).
fn report(
    job: &Job<'_>,
    mlp: &Mlp,
    inputs: &Inputs,
    (params_before, structured): (u64, Option<&StructuredReport>),
    tuner: Option<&Finetuner<'_>>,
) -> PruneResult {
    let spec = job.spec;
    // Sparsity of the selected layers (all layers for structured: nothing is masked there).
    let tensors: Vec<TensorPruned> = mlp
        .layers
        .iter()
        .enumerate()
        .filter(|(l, _)| job.selected.get(*l).copied().unwrap_or(false))
        .map(|(l, layer)| {
            let t = TensorSparsity::from_weights(layer.weight.view());
            TensorPruned {
                name: format!("layers.{l}.weight"),
                dtype: "F32".into(),
                shape: vec![layer.n_outputs(), layer.n_inputs()],
                numel: t.numel,
                zeros_before: None,
                zeros: t.zeros,
                sparsity: t.sparsity,
            }
        })
        .collect();
    let numel = tensors.iter().map(|t| t.numel).sum();
    let zeros = tensors.iter().map(|t| t.zeros).sum();
    let total_zeros: u64 = mlp
        .layers
        .iter()
        .map(|l| TensorSparsity::from_weights(l.weight.view()).zeros)
        .sum();
    let params_after = mlp.n_params() as u64;
    let rule = RuleFields {
        scope: (spec.method == PruneMethod::Magnitude).then(|| spec.effective_scope()),
        target_sparsity: match spec.method {
            PruneMethod::Magnitude | PruneMethod::Structured | PruneMethod::Wanda => spec.sparsity,
            _ => None,
        },
        threshold: (spec.method == PruneMethod::Threshold)
            .then_some(spec.threshold)
            .flatten(),
        pattern: spec.n.zip(spec.m).map(|(n, m)| format!("{n}:{m}")),
        cutoff_magnitude: None,
    };
    PruneResult {
        model_id: inputs.model.0.id,
        method: Some(spec.method),
        tensors,
        global: Sparsity::of(numel, zeros, None),
        params_before,
        params_after,
        nonzero_params_after: params_after - total_zeros,
        bytes_before: inputs.model.0.bytes,
        storage: "dense",
        rule,
        hidden_sizes_before: structured.map(|r| r.sizes_before.clone()),
        hidden_sizes_after: structured.map(|r| r.sizes_after.clone()),
        speedup_note: match structured {
            Some(_) => format!(
                "neurons were removed: a smaller dense model ({params_before} → {params_after} \
                 parameters) that runs faster on any hardware"
            ),
            None => DENSE_NOTE.into(),
        },
        finetune: tuner.map(|t| FinetuneReport {
            epochs_run: t.epochs_done,
            train_loss: t.losses.clone(),
            final_train_loss: t.losses.last().copied(),
            resumed_from_epoch: t.resumed_from,
        }),
        ..PruneResult::default()
    }
}

/// The metric before and after, and the gate's message when the drop exceeds
/// `tolerable_loss`.
fn judge(
    spec: &PruneSpec,
    before: &ModelEvaluation,
    after: &ModelEvaluation,
) -> (QualityFields, Option<String>) {
    let (name, mb) = before.headline();
    let ma = after.headline().1;
    let within = spec.tolerable_loss.map(|tol| mb - ma <= tol);
    let gate = match (within, spec.tolerable_loss) {
        (Some(false), Some(tol)) => Some(format!(
            "the {name} dropped by {:.4} ({mb:.4} → {ma:.4}), more than tolerable_loss \
             {tol}; lower the sparsity or add finetune",
            mb - ma
        )),
        _ => None,
    };
    let quality = QualityFields {
        metric: name,
        headline: BTreeMap::from([
            (format!("{name}_before"), mb),
            (format!("{name}_after"), ma),
        ]),
        metric_drop: mb - ma,
        within_tolerable_loss: within,
        rows_per_s_before: before.throughput_rows_per_s,
        rows_per_s_after: after.throughput_rows_per_s,
        eval_before: before.summary(),
        eval_after: after.summary(),
    };
    (quality, gate)
}

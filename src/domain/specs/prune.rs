//! `prune`: zero (or, for MLPs, remove) the least important weights of a model, optionally
//! followed by masked fine-tuning, a gradual schedule and a before/after evaluation.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::checks::{
    check_finetune, check_max_shard_bytes, check_output_name, check_text_limits,
    check_tolerable_loss,
};
use super::{model_job_references, KindSpec, Reference, Validate};
use crate::domain::selection::TensorSelection;
use crate::domain::ValidationErrors;
use crate::kernels::prune::{Norm, Scope};

/// How weights are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PruneMethod {
    /// Smallest `|w|` first, to an exact sparsity (per tensor or global).
    Magnitude,
    /// Every `|w| < threshold`.
    Threshold,
    /// Whole hidden neurons of an MLP, lowest row norm first (a smaller dense model).
    Structured,
    /// N:M semi-structured: each group of `m` inputs keeps its `n` largest.
    Nm,
    /// `|w| · ‖x‖` with input norms from a calibration dataset (MLPs and transformers).
    Wanda,
}

impl PruneMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PruneMethod::Magnitude => "magnitude",
            PruneMethod::Threshold => "threshold",
            PruneMethod::Structured => "structured",
            PruneMethod::Nm => "nm",
            PruneMethod::Wanda => "wanda",
        }
    }
}

/// Masked fine-tuning after pruning (pruned weights stay zero).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneFinetuneSpec {
    /// Training data with the model's features.
    pub dataset_id: Uuid,
    /// Passes over the data (default 5).
    #[serde(default = "default_finetune_epochs")]
    pub epochs: usize,
    /// Adam learning rate (default 0.001).
    #[serde(default = "default_lr")]
    pub lr: f32,
    /// Rows per mini-batch (default 64).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Seeds shuffling.
    #[serde(default)]
    pub seed: u64,
}

/// Gradual pruning: `steps` rounds whose sparsity follows a polynomial decay from
/// `initial_sparsity` to `sparsity`, with the fine-tuning epochs spread between rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradualSpec {
    /// Pruning rounds (2..=1000).
    pub steps: usize,
    /// Sparsity of the first round (default 0).
    #[serde(default)]
    pub initial_sparsity: f64,
    /// Exponent of the decay (default 3, as TF-MOT).
    #[serde(default = "default_power")]
    pub power: f64,
}

/// Spec of a `prune` job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneSpec {
    /// The model to prune (any safetensors model; some options need an MLP).
    pub model_id: Uuid,
    /// magnitude | threshold | structured | nm | wanda.
    pub method: PruneMethod,
    /// Fraction of the selected weights (neurons for structured) to prune, in [0, 1).
    /// Required by magnitude, structured and wanda (unless wanda uses n/m).
    #[serde(default)]
    pub sparsity: Option<f64>,
    /// `layer` (each tensor reaches the sparsity) or `global` (one cutoff across all selected
    /// tensors). Magnitude only; default global.
    #[serde(default)]
    pub scope: Option<Scope>,
    /// Threshold method: weights with `|w| <` this are pruned.
    #[serde(default)]
    pub threshold: Option<f32>,
    /// N:M: weights kept per group (nm, or wanda's N:M variant).
    #[serde(default)]
    pub n: Option<usize>,
    /// N:M: group size along the input dimension.
    #[serde(default)]
    pub m: Option<usize>,
    /// Structured: neuron score, `l1` or `l2` (default l2).
    #[serde(default = "default_norm")]
    pub norm: Norm,
    /// Only tensors whose names match one of these globs (default: every float tensor with
    /// 2 or more dimensions; biases and other 1-D tensors are never pruned).
    #[serde(default)]
    pub include: Vec<String>,
    /// Skip tensors whose names match one of these globs.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Wanda: dataset whose rows give the input activation norms (a text dataset for a
    /// transformer, run block by block through the model).
    #[serde(default)]
    pub calibration_dataset_id: Option<Uuid>,
    /// Measure quality before and after on this dataset: MLPs accuracy (or R²) and
    /// throughput; transformers a text dataset, as quantize's `eval_dataset_id`.
    #[serde(default)]
    pub eval_dataset_id: Option<Uuid>,
    /// Fail when the metric's loss exceeds this (needs eval_dataset_id; transformers: the
    /// relative perplexity increase, accuracy drop or `1 − cosine`).
    #[serde(default)]
    pub tolerable_loss: Option<f64>,
    /// MLP: fine-tune after pruning, pruned weights held at zero.
    #[serde(default)]
    pub finetune: Option<PruneFinetuneSpec>,
    /// MLP: prune in rounds between fine-tuning epochs (needs finetune).
    #[serde(default)]
    pub gradual: Option<GradualSpec>,
    /// Transformers: tokens per sequence of the eval and calibration text (encoders
    /// truncate to it; decoders score perplexity windows of it and calibrate on chunks of
    /// it). Default: 128 for encoders, 512 for decoders, at most the model's positions.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Transformers: use the first this many examples of the eval dataset (default: all)
    /// and of the calibration dataset (default 256).
    #[serde(default)]
    pub max_examples: Option<usize>,
    /// Name of the output model.
    #[serde(default)]
    pub output_name: Option<String>,
    /// Float dtype of an MLP output's tensors (default: the input's; names are kept).
    #[serde(default)]
    pub output_dtype: Option<super::train::OutputDtypeSpec>,
    /// Largest shard (tensor bytes) of a folder output, at least 1024 (default 5 GB, as
    /// transformers' `save_pretrained`). Applies when the input model is a folder.
    #[serde(default)]
    pub max_shard_bytes: Option<u64>,
}

fn default_finetune_epochs() -> usize {
    5
}
fn default_lr() -> f32 {
    1e-3
}
fn default_batch_size() -> usize {
    64
}
fn default_power() -> f64 {
    3.0
}
fn default_norm() -> Norm {
    Norm::L2
}

impl PruneSpec {
    /// The tensor filter (1-D tensors always skipped).
    pub fn selection(&self) -> Result<TensorSelection, ValidationErrors> {
        TensorSelection::new(&self.include, &self.exclude, true)
    }

    /// The scope in effect (global unless the spec says layer).
    pub fn effective_scope(&self) -> Scope {
        self.scope.unwrap_or(Scope::Global)
    }

    /// Whether the job needs an MLP (not just a tensor dict).
    pub fn needs_mlp(&self) -> bool {
        matches!(self.method, PruneMethod::Structured | PruneMethod::Wanda)
            || self.finetune.is_some()
            || self.gradual.is_some()
            || self.eval_dataset_id.is_some()
    }
}

impl Validate for PruneSpec {
    fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        let method = self.method.as_str();
        if let Some(s) = self.sparsity {
            e.check(
                (0.0..1.0).contains(&s),
                "sparsity",
                format!("must be in [0, 1), got {s}"),
            );
        }
        let nm_given = self.n.is_some() || self.m.is_some();
        match self.method {
            PruneMethod::Magnitude | PruneMethod::Structured => {
                e.check(
                    self.sparsity.is_some(),
                    "sparsity",
                    format!("required for method {method} (e.g. 0.5)"),
                );
            }
            PruneMethod::Wanda => {
                e.check(
                    self.sparsity.is_some() || nm_given,
                    "sparsity",
                    "required for method wanda (or give n and m for its N:M variant)",
                );
                e.check(
                    self.calibration_dataset_id.is_some(),
                    "calibration_dataset_id",
                    "required for method wanda: a dataset whose rows give the input activations",
                );
            }
            PruneMethod::Threshold => match self.threshold {
                None => e.add("threshold", "required for method threshold"),
                Some(t) => e.check(
                    t.is_finite() && t >= 0.0,
                    "threshold",
                    "must be a finite number ≥ 0",
                ),
            },
            PruneMethod::Nm => {}
        }
        if self.method == PruneMethod::Nm || (self.method == PruneMethod::Wanda && nm_given) {
            match (self.n, self.m) {
                (Some(n), Some(m)) => {
                    e.check((2..=1024).contains(&m), "m", "must be between 2 and 1024");
                    e.check(
                        n >= 1 && n < m,
                        "n",
                        format!("must satisfy 1 ≤ n < m (got n = {n}, m = {m})"),
                    );
                }
                (None, _) => e.add("n", "required for N:M pruning (e.g. n = 2, m = 4)"),
                (_, None) => e.add("m", "required for N:M pruning (e.g. n = 2, m = 4)"),
            }
            if self.method == PruneMethod::Wanda && self.sparsity.is_some() {
                e.add(
                    "sparsity",
                    "give either sparsity or n/m for wanda, not both",
                );
            }
        } else if nm_given {
            e.add(
                "n",
                format!("n/m apply to methods nm and wanda, not {method}"),
            );
        }
        if self.threshold.is_some() && self.method != PruneMethod::Threshold {
            e.add(
                "threshold",
                format!("applies to method threshold, not {method}"),
            );
        }
        if self.scope.is_some() && self.method != PruneMethod::Magnitude {
            e.add(
                "scope",
                format!("applies to method magnitude; {method} prunes each tensor on its own"),
            );
        }
        if self.calibration_dataset_id.is_some() && self.method != PruneMethod::Wanda {
            e.add(
                "calibration_dataset_id",
                format!("applies to method wanda, not {method}"),
            );
        }
        if let Err(globs) = self.selection() {
            e.extend(globs);
        }
        check_tolerable_loss(&mut e, self.tolerable_loss, self.eval_dataset_id.is_some());
        check_text_limits(&mut e, self.max_length, self.max_examples);
        if let Some(f) = &self.finetune {
            check_finetune(&mut e, f.epochs, f.lr, f.batch_size);
        }
        if let Some(g) = &self.gradual {
            e.check(
                self.finetune.is_some(),
                "gradual",
                "needs finetune: the schedule interleaves pruning rounds with fine-tuning epochs",
            );
            let sparsity_method = matches!(self.method, PruneMethod::Magnitude)
                || (self.method == PruneMethod::Wanda && !nm_given);
            e.check(
                sparsity_method,
                "gradual",
                format!("works with magnitude or wanda (with sparsity), not {method}"),
            );
            e.check(
                (2..=1000).contains(&g.steps),
                "gradual.steps",
                "must be between 2 and 1000",
            );
            let target = self.sparsity.unwrap_or(0.0);
            e.check(
                (0.0..1.0).contains(&g.initial_sparsity) && g.initial_sparsity <= target,
                "gradual.initial_sparsity",
                format!("must be in [0, sparsity = {target}]"),
            );
            e.check(
                g.power.is_finite() && g.power > 0.0,
                "gradual.power",
                "must be a finite number > 0",
            );
        }
        check_output_name(&mut e, self.output_name.as_deref());
        check_max_shard_bytes(&mut e, self.max_shard_bytes);
        e
    }
}

impl KindSpec for PruneSpec {
    fn references(&self) -> Vec<(String, Reference)> {
        model_job_references(
            self.model_id,
            self.finetune.as_ref().map(|f| f.dataset_id),
            self.eval_dataset_id,
            self.calibration_dataset_id,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_spec, Reference};
    use super::*;
    use serde_json::json;

    fn fields(v: serde_json::Value) -> Vec<String> {
        parse_spec::<PruneSpec>(&v)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn the_issue_examples_parse() {
        let (m, d, t) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let p = parse_spec::<PruneSpec>(
            &json!({"model_id": m, "method": "magnitude", "sparsity": 0.9, "scope": "global",
                    "finetune": {"dataset_id": d, "epochs": 10, "lr": 0.001}, "eval_dataset_id": t}),
        )
        .unwrap();
        assert_eq!(
            p.references(),
            vec![
                ("spec.model_id".to_string(), Reference::Model(m)),
                (
                    "spec.finetune.dataset_id".to_string(),
                    Reference::Dataset(d)
                ),
                ("spec.eval_dataset_id".to_string(), Reference::Dataset(t)),
            ]
        );
        assert!(p.needs_mlp());
        assert_eq!(p.finetune.unwrap().batch_size, 64);
        let nm: PruneSpec =
            super::super::parse_typed(&json!({"model_id": m, "method": "nm", "n": 2, "m": 4}))
                .unwrap();
        assert!(!nm.needs_mlp());
        assert_eq!(nm.effective_scope(), Scope::Global);
    }

    #[test]
    fn bad_specs_name_their_fields() {
        let m = Uuid::now_v7();
        assert_eq!(
            fields(json!({"model_id": m, "method": "magnitude", "sparsity": 1.0})),
            ["spec.sparsity"]
        );
        assert_eq!(
            fields(json!({"model_id": m, "method": "nm", "n": 4, "m": 4})),
            ["spec.n"]
        );
        assert_eq!(
            fields(json!({"model_id": m, "method": "wanda", "sparsity": 0.5})),
            ["spec.calibration_dataset_id"]
        );
        assert_eq!(
            fields(
                json!({"model_id": m, "method": "magnitude", "sparsity": 0.5, "gradual": {"steps": 1}})
            ),
            ["spec.gradual", "spec.gradual.steps"]
        );
        assert_eq!(
            fields(
                json!({"model_id": m, "method": "structured", "sparsity": 0.5, "scope": "global", "tolerable_loss": 0.1})
            ),
            ["spec.scope", "spec.tolerable_loss"]
        );
        assert_eq!(
            fields(json!({"model_id": m, "method": "prune_all"})),
            ["spec.method"]
        );
    }
}

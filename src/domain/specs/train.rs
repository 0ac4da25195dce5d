//! `train` and `evaluate`: fit an MLP on a dataset, and measure a model on one.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::checks::check_output_name;
use serde_json::Value;
use std::borrow::Cow;

use super::{optional_ref, KindSpec, Reference, Validate};
use crate::domain::ValidationErrors;
use crate::kernels::nn::{Activation, EarlyStopping, Init, Loss, LrSchedule, OptimizerConfig};
use crate::kernels::KernelError;

/// `classification` or `regression` (published as the `TaskKind` schema).
pub use crate::kernels::nn::Task;

/// Hidden layers of a new MLP (inputs and outputs come from the dataset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureSpec {
    /// Widths of the hidden layers, e.g. `[256, 256]`.
    #[schema(min_items = 1, max_items = 64)]
    pub hidden: Vec<usize>,
    /// Hidden activation: relu, leaky_relu, gelu, tanh, sigmoid, identity (default relu).
    #[serde(default = "default_activation")]
    pub activation: Activation,
    /// Dropout probability on hidden outputs during training.
    #[serde(default)]
    #[schema(minimum = 0.0, exclusive_maximum = 1.0)]
    pub dropout: Option<f32>,
    /// Weight init: `he` or `glorot` (default: he for relu-like, glorot otherwise).
    #[serde(default)]
    pub init: Option<Init>,
}

fn default_activation() -> Activation {
    Activation::Relu
}

/// Where validation data comes from: a split of the training set or another dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidationSpec {
    /// Fraction of the training rows held out (stratified for classification), in (0, 0.5].
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, maximum = 0.5)]
    pub split: Option<f64>,
    /// A separate dataset with the same features.
    #[serde(default)]
    pub dataset_id: Option<Uuid>,
}

/// Float dtype of an output model's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputDtypeSpec {
    F32,
    F16,
    Bf16,
}

/// Spec of a `train` job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// Training data.
    pub dataset_id: Uuid,
    /// Hidden layers of a new model; omit when continuing from `base_model_id`.
    #[serde(default)]
    pub architecture: Option<ArchitectureSpec>,
    /// Continue training (fine-tune) this model instead of a fresh one.
    #[serde(default)]
    pub base_model_id: Option<Uuid>,
    /// Must match the dataset's task when given.
    #[serde(default)]
    pub task: Option<Task>,
    /// Default: cross_entropy for classification, mse for regression.
    #[serde(default)]
    pub loss: Option<Loss>,
    /// Default: `{"kind":"adam","lr":0.001}`.
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerConfig,
    #[serde(default = "default_batch_size")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub batch_size: usize,
    #[serde(default = "default_epochs")]
    #[schema(minimum = 1, maximum = 100000)]
    pub epochs: usize,
    /// Warmup and decay of the learning rate (default constant).
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// L2 weight decay on weights (decoupled for adamw).
    #[serde(default)]
    #[schema(minimum = 0.0)]
    pub weight_decay: f32,
    /// Clip the global gradient norm to this.
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0)]
    pub clip_grad_norm: Option<f32>,
    /// Validation data (default none; early stopping without it holds out 10 %).
    #[serde(default)]
    pub validation: Option<ValidationSpec>,
    /// `{"patience", "min_delta"?, "monitor"?: val_loss|val_metric|train_loss, "restore_best"?}`.
    #[serde(default)]
    pub early_stopping: Option<EarlyStopping>,
    /// Seeds init, shuffling, dropout and the validation split.
    #[serde(default)]
    pub seed: u64,
    /// Learn input mean/std from the training data and store them in the model, so raw
    /// features work at inference (default true; a base model's own statistics are kept).
    #[serde(default = "default_true")]
    pub standardize: bool,
    /// Name of the output model.
    #[serde(default)]
    pub output_name: Option<String>,
    /// Float dtype of the output model's tensors. Default: the base model's (fine-tuning),
    /// else f32. The base model's tensor names are kept either way.
    #[serde(default)]
    pub output_dtype: Option<OutputDtypeSpec>,
}

fn default_optimizer() -> OptimizerConfig {
    OptimizerConfig::adam(1e-3)
}
fn default_batch_size() -> usize {
    64
}
fn default_epochs() -> usize {
    20
}
fn default_true() -> bool {
    true
}

/// Fold kernel validation problems into field errors under `prefix`.
pub fn add_kernel_problems(
    errors: &mut ValidationErrors,
    prefix: &str,
    problems: Vec<KernelError>,
) {
    for p in problems {
        match p {
            KernelError::InvalidParameter { field, message } => {
                // Kernels may already name the field from the spec's root (`optimizer.lr`).
                let field = if prefix.is_empty()
                    || field == prefix
                    || field.starts_with(&format!("{prefix}."))
                {
                    field
                } else {
                    format!("{prefix}.{field}")
                };
                errors.add(field, message)
            }
            other => errors.add(prefix, other.to_string()),
        }
    }
}

impl Validate for TrainSpec {
    fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        match (&self.architecture, self.base_model_id) {
            (None, None) => e.add(
                "architecture",
                "give an architecture (e.g. {\"hidden\":[64,64]}) or a base_model_id",
            ),
            (Some(_), Some(_)) => e.add(
                "architecture",
                "a base model already has an architecture: omit one of them",
            ),
            _ => {}
        }
        if let Some(a) = &self.architecture {
            e.check(
                !a.hidden.is_empty(),
                "architecture.hidden",
                "must list at least one hidden layer width",
            );
            e.check(
                a.hidden.len() <= 64,
                "architecture.hidden",
                "at most 64 hidden layers",
            );
            for (i, &w) in a.hidden.iter().enumerate() {
                e.check(
                    (1..=65_536).contains(&w),
                    format!("architecture.hidden[{i}]"),
                    "must be between 1 and 65536",
                );
            }
            if let Some(p) = a.dropout {
                e.check(
                    (0.0..1.0).contains(&p),
                    "architecture.dropout",
                    "must be in [0, 1)",
                );
            }
        }
        add_kernel_problems(&mut e, "optimizer", self.optimizer.problems());
        add_kernel_problems(&mut e, "lr_schedule", self.lr_schedule.problems());
        e.check(
            (1..=1_000_000).contains(&self.batch_size),
            "batch_size",
            "must be between 1 and 1000000",
        );
        e.check(
            (1..=100_000).contains(&self.epochs),
            "epochs",
            "must be between 1 and 100000",
        );
        e.check(
            self.weight_decay.is_finite() && self.weight_decay >= 0.0,
            "weight_decay",
            "must be ≥ 0",
        );
        if let Some(c) = self.clip_grad_norm {
            e.check(
                c.is_finite() && c > 0.0,
                "clip_grad_norm",
                "must be positive",
            );
        }
        if let Some(v) = &self.validation {
            match (v.split, v.dataset_id) {
                (Some(_), Some(_)) => {
                    e.add("validation", "give either split or dataset_id, not both")
                }
                (None, None) => e.add("validation", "give split (e.g. 0.1) or dataset_id"),
                (Some(s), None) => e.check(
                    s > 0.0 && s <= 0.5,
                    "validation.split",
                    "must be in (0, 0.5]",
                ),
                _ => {}
            }
        }
        if let Some(es) = &self.early_stopping {
            e.check(es.patience >= 1, "early_stopping.patience", "must be ≥ 1");
            e.check(
                es.min_delta.is_finite() && es.min_delta >= 0.0,
                "early_stopping.min_delta",
                "must be ≥ 0",
            );
        }
        if let (Some(task), Some(loss)) = (self.task, self.loss) {
            check_loss_task(&mut e, loss, task);
        }
        check_output_name(&mut e, self.output_name.as_deref());
        e
    }
}

/// Losses that fit a task: cross-entropy kinds for classification, regression losses else.
pub fn check_loss_task(e: &mut ValidationErrors, loss: Loss, task: Task) {
    let classification_loss = matches!(loss, Loss::CrossEntropy | Loss::BinaryCrossEntropy);
    match task {
        Task::Classification if !classification_loss => e.add(
            "loss",
            "a regression loss cannot train a classification task: use cross_entropy",
        ),
        Task::Regression if classification_loss => e.add(
            "loss",
            "a classification loss cannot train a regression task: use mse, mae or huber",
        ),
        _ => {}
    }
}

/// How sentence embeddings are pooled from an encoder's last hidden state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextPooling {
    /// Mean over real tokens (sentence-transformers' default).
    Mean,
    /// The first token (`[CLS]` / `<s>`).
    Cls,
    /// Elementwise max over real tokens.
    Max,
}

/// Spec of an `evaluate` job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateSpec {
    /// An MLP model (trained by whittle or uploaded with MLP metadata), or a transformer
    /// folder (BERT-family encoder, Llama-family decoder) with its tokenizer.
    pub model_id: Uuid,
    /// MLPs: a labelled dataset with the model's input features. Transformers: a text
    /// dataset (labels give an encoder with a classification head accuracy and F1).
    pub dataset_id: Uuid,
    /// MLPs: rows per forward pass when measuring throughput (default: all rows at once).
    /// Transformers: sequences per forward pass of an encoder (default 16).
    #[serde(default)]
    pub batch_size: Option<usize>,
    /// Transformers: a model of the same family and vocabulary to compare with (e.g. the
    /// float original of a quantized model): decoders report its perplexity and next-token
    /// top-1 agreement, encoders the fidelity of the sentence embeddings (mean/min cosine,
    /// Spearman ρ of pairwise similarities, nearest-neighbour agreement).
    #[serde(default)]
    pub reference_model_id: Option<Uuid>,
    /// Transformers: tokens per sequence (encoders truncate to it; decoders score windows
    /// of it). Default: 128 for encoders, 512 for decoders, at most the model's positions.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Decoders: how far the perplexity window moves (each token is scored once, with up
    /// to `max_length − stride` tokens of context carried over). Default `max_length / 2`.
    #[serde(default)]
    pub stride: Option<usize>,
    /// Encoders: how sentence embeddings are pooled (default `mean`).
    #[serde(default)]
    pub pooling: Option<TextPooling>,
    /// Encoders: L2-normalize the pooled embeddings (default true).
    #[serde(default)]
    pub normalize: Option<bool>,
    /// Transformers: evaluate the first this many examples (default: all).
    #[serde(default)]
    pub max_examples: Option<usize>,
}

/// Longest transformer sequence a job may ask for.
pub const MAX_TEXT_LENGTH: usize = 8192;

impl EvaluateSpec {
    /// The transformer-only fields that are set, by name.
    pub fn text_fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.reference_model_id.is_some() {
            f.push("reference_model_id");
        }
        if self.max_length.is_some() {
            f.push("max_length");
        }
        if self.stride.is_some() {
            f.push("stride");
        }
        if self.pooling.is_some() {
            f.push("pooling");
        }
        if self.normalize.is_some() {
            f.push("normalize");
        }
        if self.max_examples.is_some() {
            f.push("max_examples");
        }
        f
    }
}

impl Validate for EvaluateSpec {
    fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        if let Some(b) = self.batch_size {
            e.check(b >= 1, "batch_size", "must be ≥ 1");
        }
        super::checks::check_text_limits(&mut e, self.max_length, self.max_examples);
        if let Some(s) = self.stride {
            e.check(s >= 1, "stride", "must be ≥ 1");
            if let Some(m) = self.max_length {
                e.check(s <= m, "stride", "must be at most max_length");
            }
        }
        if self.reference_model_id == Some(self.model_id) {
            e.add("reference_model_id", "must be another model than model_id");
        }
        e
    }
}

impl KindSpec for TrainSpec {
    fn references(&self) -> Vec<(String, Reference)> {
        let mut r = vec![(
            "spec.dataset_id".into(),
            Reference::Dataset(self.dataset_id),
        )];
        r.extend(optional_ref(
            "spec.base_model_id",
            self.base_model_id,
            Reference::Model,
        ));
        r.extend(optional_ref(
            "spec.validation.dataset_id",
            self.validation.as_ref().and_then(|v| v.dataset_id),
            Reference::Dataset,
        ));
        r
    }

    fn normalize(spec: &Value) -> Result<Cow<'_, Value>, ValidationErrors> {
        let mut spec = spec.clone();
        super::tune::normalize_train_value(&mut spec)
            .map_err(|(f, m)| ValidationErrors::single(f, m))?;
        Ok(Cow::Owned(spec))
    }
}

impl KindSpec for EvaluateSpec {
    fn references(&self) -> Vec<(String, Reference)> {
        vec![
            ("spec.model_id".into(), Reference::Model(self.model_id)),
            (
                "spec.dataset_id".into(),
                Reference::Dataset(self.dataset_id),
            ),
        ]
        .into_iter()
        .chain(optional_ref(
            "spec.reference_model_id",
            self.reference_model_id,
            Reference::Model,
        ))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_spec, KindSpec, Reference};
    use super::TrainSpec;
    use serde_json::json;
    use uuid::Uuid;

    fn fields(v: serde_json::Value) -> Vec<String> {
        parse_spec::<TrainSpec>(&v)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn the_issue_example_parses_with_defaults() {
        let id = Uuid::now_v7();
        let t = parse_spec::<TrainSpec>(
            &json!({"dataset_id": id, "architecture": {"hidden": [256, 256], "activation": "relu"},
                    "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 64, "epochs": 30, "seed": 0}),
        )
        .unwrap();
        assert_eq!(
            t.references(),
            vec![("spec.dataset_id".to_string(), Reference::Dataset(id))]
        );
        assert!(t.standardize);
        assert_eq!(t.epochs, 30);
    }

    #[test]
    fn bad_specs_name_their_fields() {
        let id = Uuid::now_v7();
        assert_eq!(
            fields(
                json!({"dataset_id": id, "architecture": {"hidden": [8]}, "optimizer": {"kind": "adagrad", "lr": 0.1}})
            ),
            ["spec.optimizer.kind"]
        );
        assert_eq!(
            fields(
                json!({"dataset_id": id, "architecture": {"hidden": [8]}, "optimizer": {"kind": "adam", "lr": -0.1}})
            ),
            ["spec.optimizer.lr"]
        );
        assert_eq!(
            fields(json!({"dataset_id": id, "architecture": {"hidden": []}})),
            ["spec.architecture.hidden"]
        );
        assert_eq!(fields(json!({"dataset_id": id})), ["spec.architecture"]);
        assert_eq!(
            fields(
                json!({"dataset_id": id, "architecture": {"hidden": [4]}, "task": "classification", "loss": "mse"})
            ),
            ["spec.loss"]
        );
        assert_eq!(
            fields(
                json!({"dataset_id": id, "architecture": {"hidden": [4]}, "epochs": 0, "batch_size": 0, "validation": {"split": 0.9}})
            ),
            ["spec.batch_size", "spec.epochs", "spec.validation.split"]
        );
    }
}

//! `quantize`: weight quantization of any safetensors model (integer codes plus scales),
//! written as compressed-tensors or as dequantized floats, with accuracy checks for MLPs.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::checks::{
    check_finetune, check_max_shard_bytes, check_output_name, check_text_limits,
    check_tolerable_loss,
};
use super::{model_job_references, KindSpec, Reference, Validate};
use crate::domain::selection::TensorSelection;
use crate::domain::ValidationErrors;
use crate::kernels::quant::{Granularity, QuantMethod, QuantScheme, ScaleDtype};

/// Which weights share one scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GranularitySpec {
    Tensor,
    Channel,
    Group,
}

/// Bits, symmetry and granularity of the codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemeSpec {
    /// Bits per code, 2..=8 (default 8).
    #[serde(default = "default_bits")]
    pub bits: u8,
    /// Symmetric codes (no zero point; default true).
    #[serde(default = "default_true")]
    pub symmetric: bool,
    /// `tensor`, `channel` (default) or `group`.
    #[serde(default = "default_granularity")]
    pub granularity: GranularitySpec,
    /// Input columns per group when granularity is `group` (default 128).
    #[serde(default)]
    pub group_size: Option<usize>,
}

impl Default for SchemeSpec {
    fn default() -> Self {
        SchemeSpec {
            bits: default_bits(),
            symmetric: true,
            granularity: default_granularity(),
            group_size: None,
        }
    }
}

fn default_bits() -> u8 {
    8
}
fn default_true() -> bool {
    true
}
fn default_granularity() -> GranularitySpec {
    GranularitySpec::Channel
}

/// How scales are chosen: `rtn` (min-max), `mse` (clipping search), `hqq`, `gptq` (needs
/// calibration data and an MLP model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MethodSpec {
    Rtn,
    Mse,
    Hqq,
    Gptq,
}

impl MethodSpec {
    /// The data-free kernel method, `None` for gptq.
    pub fn data_free(self) -> Option<QuantMethod> {
        match self {
            MethodSpec::Rtn => Some(QuantMethod::Rtn),
            MethodSpec::Mse => Some(QuantMethod::Mse),
            MethodSpec::Hqq => Some(QuantMethod::Hqq),
            MethodSpec::Gptq => None,
        }
    }
}

/// What the output model holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputSpec {
    /// compressed-tensors `pack-quantized` (codes packed in int32, scales, zero points).
    Compressed,
    /// Quantize-dequantized float weights in the original dtypes.
    Dequantized,
    /// A folder for onnxruntime (MLP models): `model.onnx` (the float model),
    /// `model_quantized.onnx` (`com.microsoft.MatMulNBits` for 2-, 4- and 8-bit codes, QDQ
    /// `DequantizeLinear` otherwise or with `onnx_ops: qdq`) and the dequantized
    /// `model.safetensors` that whittle's own jobs run.
    Onnx,
}

/// Operators of the quantized ONNX graph (`output: onnx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnnxOpsSpec {
    /// onnxruntime's `com.microsoft.MatMulNBits` for 2-, 4- and 8-bit codes (per tensor, per
    /// channel, or power-of-two groups ≥ 16), standard QDQ `DequantizeLinear` otherwise.
    Auto,
    /// Standard `DequantizeLinear` only (runtimes without onnxruntime's contrib operators).
    Qdq,
}

/// Storage precision of scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScaleDtypeSpec {
    F16,
    Bf16,
    F32,
}

/// compressed-tensors `format` of a compressed output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CompressedFormatSpec {
    /// `weight` I8 (one code per element) + `weight_scale` (+ `weight_zero_point`).
    IntQuantized,
    /// `weight_packed` I32 (32/bits codes per int) + `weight_scale` + `weight_shape`
    /// (+ packed zero points): vLLM's weight-only (WNA16) layout.
    PackQuantized,
}

/// Quantization-aware fine-tuning of an MLP before its weights are quantized: the forward
/// pass sees fake-quantized weights, gradients update the float weights (straight-through).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinetuneSpec {
    /// Labelled training data with the model's features.
    pub dataset_id: Uuid,
    /// Passes over the data (default 3).
    #[serde(default = "default_finetune_epochs")]
    pub epochs: usize,
    /// Adam learning rate (default 1e-4).
    #[serde(default = "default_finetune_lr")]
    pub lr: f32,
    /// Rows per step (default 64).
    #[serde(default = "default_finetune_batch")]
    pub batch_size: usize,
}

fn default_finetune_epochs() -> usize {
    3
}
fn default_finetune_lr() -> f32 {
    1e-4
}
fn default_finetune_batch() -> usize {
    64
}

/// Spec of a `quantize` job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantizeSpec {
    /// The model to quantize (any safetensors file).
    pub model_id: Uuid,
    /// Default: 8 bits, symmetric, per channel.
    #[serde(default)]
    pub scheme: SchemeSpec,
    /// Default `rtn`.
    #[serde(default = "default_method")]
    pub method: MethodSpec,
    /// Default `compressed`; `onnx` for MLP models.
    #[serde(default = "default_output")]
    pub output: OutputSpec,
    /// Only tensors whose names match one of these globs (default: every float tensor with
    /// at least 2 dimensions; a 1-D tensor is quantized as one row only when an include glob
    /// names it).
    #[serde(default)]
    pub include: Vec<String>,
    /// Leave tensors whose names match one of these globs in float.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// MLPs: a labelled dataset to measure accuracy (or R²) before and after. Transformers:
    /// a text dataset (perplexity for decoders; accuracy for an encoder with a head and
    /// labels, else the cosine of its sentence embeddings to the float model's).
    #[serde(default)]
    pub eval_dataset_id: Option<Uuid>,
    /// Largest loss of the eval metric accepted (an accuracy or R² drop; transformers: the
    /// relative perplexity increase, accuracy drop or `1 − cosine`); when exceeded, finer schemes are tried
    /// (smaller groups, then more bits). Needs `eval_dataset_id`.
    #[serde(default)]
    pub tolerable_loss: Option<f64>,
    /// Inputs for GPTQ's layer Hessians (required for `gptq`): rows with the MLP's features,
    /// or a text dataset for a transformer (run block by block through the model).
    #[serde(default)]
    pub calibration_dataset_id: Option<Uuid>,
    /// Quantization-aware fine-tuning before quantizing (MLP models only).
    #[serde(default)]
    pub finetune: Option<FinetuneSpec>,
    /// Scale storage: default each weight's own float dtype (f32 for F32/F64 weights), for
    /// both outputs, so `dequantized` is exactly the decode of `compressed`.
    #[serde(default)]
    pub scale_dtype: Option<ScaleDtypeSpec>,
    /// Layout of `output: compressed`: `pack-quantized` (default, the layout compressed-tensors
    /// and vLLM use for weight-only schemes) or `int-quantized` (one int8 per weight).
    #[serde(default)]
    pub compressed_format: Option<CompressedFormatSpec>,
    /// Operators of `output: onnx`'s quantized graph: `auto` (default) or `qdq`.
    #[serde(default)]
    pub onnx_ops: Option<OnnxOpsSpec>,
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
    /// Largest shard (tensor bytes) of a folder output, at least 1024 (default 5 GB, as
    /// transformers' `save_pretrained`). Applies when the input model is a folder.
    #[serde(default)]
    pub max_shard_bytes: Option<u64>,
}

fn default_method() -> MethodSpec {
    MethodSpec::Rtn
}
fn default_output() -> OutputSpec {
    OutputSpec::Compressed
}

impl QuantizeSpec {
    /// The compressed layout: as asked, else `pack-quantized` (what compressed-tensors
    /// itself writes for weight-only int schemes, 8 bits included).
    pub fn compressed_format(&self) -> CompressedFormatSpec {
        self.compressed_format
            .unwrap_or(CompressedFormatSpec::PackQuantized)
    }

    /// Scales are stored in each weight's own float dtype (as compressed-tensors does) unless
    /// `scale_dtype` is given; then the dequantized output equals the decode of the
    /// compressed one for the same spec.
    pub fn scale_dtype_follows_weights(&self) -> bool {
        self.scale_dtype.is_none()
    }

    /// The kernel scheme this spec asks for.
    pub fn quant_scheme(&self) -> QuantScheme {
        let granularity = match self.scheme.granularity {
            GranularitySpec::Tensor => Granularity::Tensor,
            GranularitySpec::Channel => Granularity::Channel,
            GranularitySpec::Group => Granularity::Group(self.scheme.group_size.unwrap_or(128)),
        };
        let scale_dtype = match self.scale_dtype {
            Some(ScaleDtypeSpec::F16) => ScaleDtype::F16,
            Some(ScaleDtypeSpec::Bf16) => ScaleDtype::BF16,
            Some(ScaleDtypeSpec::F32) => ScaleDtype::F32,
            // Each tensor's own dtype (see `scale_dtype_follows_weights`); F32 stands for it.
            None => ScaleDtype::F32,
        };
        QuantScheme::new(self.scheme.bits, self.scheme.symmetric, granularity)
            .with_scale_dtype(scale_dtype)
    }

    /// The tensor filter: 1-D tensors only when an include glob is given.
    pub fn selection(&self) -> Result<TensorSelection, ValidationErrors> {
        TensorSelection::new(&self.include, &self.exclude, self.include.is_empty())
    }
}

impl Validate for QuantizeSpec {
    fn validate(&self) -> ValidationErrors {
        let mut e = ValidationErrors::new();
        if self.compressed_format.is_some() {
            e.check(
                self.output == OutputSpec::Compressed,
                "compressed_format",
                "only applies to output: compressed",
            );
        }
        if self.onnx_ops.is_some() {
            e.check(
                self.output == OutputSpec::Onnx,
                "onnx_ops",
                "only applies to output: onnx",
            );
        }
        e.check(
            (2..=8).contains(&self.scheme.bits),
            "scheme.bits",
            format!("must be between 2 and 8, got {}", self.scheme.bits),
        );
        match (self.scheme.granularity, self.scheme.group_size) {
            (GranularitySpec::Group, Some(g)) => {
                e.check(g >= 1, "scheme.group_size", "must be at least 1")
            }
            (GranularitySpec::Group, None) => {}
            (_, Some(_)) => e.add("scheme.group_size", "only applies to granularity \"group\""),
            _ => {}
        }
        if self.method == MethodSpec::Gptq && self.calibration_dataset_id.is_none() {
            e.add(
                "calibration_dataset_id",
                "gptq needs calibration inputs: give a dataset with the model's features",
            );
        }
        check_tolerable_loss(&mut e, self.tolerable_loss, self.eval_dataset_id.is_some());
        check_text_limits(&mut e, self.max_length, self.max_examples);
        if let Some(f) = &self.finetune {
            check_finetune(&mut e, f.epochs, f.lr, f.batch_size);
        }
        if let Err(globs) = self.selection() {
            e.extend(globs);
        }
        check_output_name(&mut e, self.output_name.as_deref());
        check_max_shard_bytes(&mut e, self.max_shard_bytes);
        e
    }
}

impl KindSpec for QuantizeSpec {
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
    use super::super::{parse_spec, parse_typed, Reference};
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_int8_channel_rtn_compressed() {
        let s: QuantizeSpec = parse_typed(&json!({"model_id": Uuid::nil()})).unwrap();
        let q = s.quant_scheme();
        assert_eq!(q.bits, 8);
        assert!(q.symmetric);
        assert_eq!(q.granularity, Granularity::Channel);
        assert_eq!(q.scale_dtype, ScaleDtype::F32);
        assert!(s.scale_dtype_follows_weights());
        assert_eq!(s.compressed_format(), CompressedFormatSpec::PackQuantized);
        assert_eq!(s.method, MethodSpec::Rtn);
        assert_eq!(s.output, OutputSpec::Compressed);
        let g: QuantizeSpec = parse_typed(
            &json!({"model_id": Uuid::nil(), "scheme": {"bits": 4, "granularity": "group"}}),
        )
        .unwrap();
        assert_eq!(g.quant_scheme().granularity, Granularity::Group(128));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let err = parse_spec::<QuantizeSpec>(
            &json!({"model_id": Uuid::nil(), "scheme": {"bits": 9, "granularity": "group", "group_size": 0},
                    "method": "gptq", "tolerable_loss": -1.0, "exclude": ["["]}),
        )
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.scheme.bits",
                "spec.scheme.group_size",
                "spec.calibration_dataset_id",
                "spec.tolerable_loss",
                "spec.tolerable_loss",
                "spec.exclude[0]"
            ]
        );
        let err = parse_spec::<QuantizeSpec>(&json!({"model_id": Uuid::nil(), "method": "awq"}))
            .unwrap_err();
        assert_eq!(err.0[0].field, "spec.method");
    }

    #[test]
    fn references_name_their_fields() {
        let (m, d, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let s = parse_spec::<QuantizeSpec>(
            &json!({"model_id": m, "eval_dataset_id": d, "method": "gptq", "calibration_dataset_id": c}),
        )
        .unwrap();
        assert_eq!(
            s.references(),
            vec![
                ("spec.model_id".to_string(), Reference::Model(m)),
                ("spec.eval_dataset_id".to_string(), Reference::Dataset(d)),
                (
                    "spec.calibration_dataset_id".to_string(),
                    Reference::Dataset(c)
                ),
            ]
        );
    }
}

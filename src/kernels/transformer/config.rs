//! The part of a Hugging Face `config.json` a forward pass needs, for the architectures
//! whittle runs. Anything else is refused with the field that makes it unsupported.
use serde_json::Value;

use super::Act;
use crate::kernels::KernelError;

/// The `architectures` entries whittle can run, by family.
pub const ENCODER_ARCHITECTURES: &[&str] = &[
    "BertModel",
    "BertForSequenceClassification",
    "BertForMaskedLM",
    "BertForPreTraining",
    "RobertaModel",
    "RobertaForSequenceClassification",
    "RobertaForMaskedLM",
    "XLMRobertaModel",
    "XLMRobertaForSequenceClassification",
];
pub const DECODER_ARCHITECTURES: &[&str] =
    &["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"];

/// The model as `config.json` describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelConfig {
    Encoder(BertConfig),
    Decoder(LlamaConfig),
}

impl ModelConfig {
    /// Reads `config.json`; an `architectures` entry outside the supported ones is refused
    /// naming it.
    pub fn from_json(v: &Value) -> Result<ModelConfig, KernelError> {
        let arch = architecture(v)?;
        if ENCODER_ARCHITECTURES.contains(&arch.as_str()) {
            Ok(ModelConfig::Encoder(BertConfig::from_json(v, &arch)?))
        } else if DECODER_ARCHITECTURES.contains(&arch.as_str()) {
            Ok(ModelConfig::Decoder(LlamaConfig::from_json(v, &arch)?))
        } else {
            Err(KernelError::invalid(
                "config.architectures",
                format!(
                    "{arch:?} is not an architecture whittle can run; supported: {}",
                    ENCODER_ARCHITECTURES
                        .iter()
                        .chain(DECODER_ARCHITECTURES)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }

    pub fn architecture(&self) -> &str {
        match self {
            ModelConfig::Encoder(c) => &c.architecture,
            ModelConfig::Decoder(c) => &c.architecture,
        }
    }

    /// `encoder` or `decoder`.
    pub fn family(&self) -> &'static str {
        match self {
            ModelConfig::Encoder(_) => "encoder",
            ModelConfig::Decoder(_) => "decoder",
        }
    }

    /// What a model row records about it (`architecture` of the model).
    pub fn summary(&self) -> serde_json::Value {
        match self {
            ModelConfig::Encoder(c) => serde_json::json!({
                "kind": "transformer", "supported": true, "family": "encoder",
                "architecture": c.architecture, "hidden_size": c.hidden_size,
                "layers": c.num_hidden_layers, "attention_heads": c.num_attention_heads,
                "vocab_size": c.vocab_size, "max_positions": c.max_positions(),
                "labels": c.classifier.as_ref().map(|h| h.labels.clone()),
            }),
            ModelConfig::Decoder(c) => serde_json::json!({
                "kind": "transformer", "supported": true, "family": "decoder",
                "architecture": c.architecture, "hidden_size": c.hidden_size,
                "layers": c.num_hidden_layers, "attention_heads": c.num_attention_heads,
                "kv_heads": c.num_key_value_heads, "vocab_size": c.vocab_size,
                "max_positions": c.max_position_embeddings,
            }),
        }
    }

    /// Longest sequence the position embeddings allow.
    pub fn max_positions(&self) -> usize {
        match self {
            ModelConfig::Encoder(c) => c.max_positions(),
            ModelConfig::Decoder(c) => c.max_position_embeddings,
        }
    }
}

/// The one architecture of a config (a list of one, as `save_pretrained` writes).
pub type Architecture = String;

fn architecture(v: &Value) -> Result<Architecture, KernelError> {
    let list = v
        .get("architectures")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            KernelError::invalid(
                "config.architectures",
                "config.json has no architectures list, so whittle cannot tell how to run the model",
            )
        })?;
    match &list[..] {
        [Value::String(a)] => Ok(a.clone()),
        _ => Err(KernelError::invalid(
            "config.architectures",
            "must list exactly one architecture",
        )),
    }
}

fn usize_field(v: &Value, key: &str) -> Result<usize, KernelError> {
    opt_usize(v, key)?.ok_or_else(|| {
        KernelError::invalid(format!("config.{key}"), "is required for this architecture")
    })
}

fn opt_usize(v: &Value, key: &str) -> Result<Option<usize>, KernelError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => match x.as_u64() {
            Some(n) if n > 0 && n <= 1 << 24 => Ok(Some(n as usize)),
            _ => Err(KernelError::invalid(
                format!("config.{key}"),
                format!("must be a positive integer up to 2^24, got {x}"),
            )),
        },
    }
}

fn f64_field(v: &Value, key: &str, default: f64) -> Result<f64, KernelError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(x) => match x.as_f64() {
            Some(f) if f.is_finite() && f > 0.0 => Ok(f),
            _ => Err(KernelError::invalid(
                format!("config.{key}"),
                format!("must be a positive number, got {x}"),
            )),
        },
    }
}

fn act_field(v: &Value, key: &str, default: &str) -> Result<Act, KernelError> {
    let name = v.get(key).and_then(Value::as_str).unwrap_or(default);
    Act::parse(name).ok_or_else(|| {
        KernelError::invalid(
            format!("config.{key}"),
            format!("activation {name:?} is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)"),
        )
    })
}

fn divides(heads: usize, total: usize, field: &str) -> Result<usize, KernelError> {
    if !total.is_multiple_of(heads) {
        return Err(KernelError::invalid(
            format!("config.{field}"),
            format!("{heads} heads do not divide the hidden size {total}"),
        ));
    }
    Ok(total / heads)
}

/// What a sequence-classification head maps to.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierHead {
    pub num_labels: usize,
    /// `id2label` in id order (`LABEL_i` when the config has none).
    pub labels: Vec<String>,
}

/// BERT / RoBERTa encoders.
#[derive(Debug, Clone, PartialEq)]
pub struct BertConfig {
    pub architecture: String,
    /// RoBERTa's position ids start after the padding id.
    pub roberta: bool,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub head_dim: usize,
    pub intermediate_size: usize,
    pub hidden_act: Act,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub pad_token_id: usize,
    /// Present for `…ForSequenceClassification`.
    pub classifier: Option<ClassifierHead>,
}

impl BertConfig {
    fn from_json(v: &Value, arch: &str) -> Result<BertConfig, KernelError> {
        if let Some(p) = v.get("position_embedding_type").and_then(Value::as_str) {
            if p != "absolute" {
                return Err(KernelError::invalid(
                    "config.position_embedding_type",
                    format!("{p:?} is not supported (absolute)"),
                ));
            }
        }
        let hidden_size = usize_field(v, "hidden_size")?;
        let num_attention_heads = usize_field(v, "num_attention_heads")?;
        let head_dim = divides(num_attention_heads, hidden_size, "num_attention_heads")?;
        let classifier = arch
            .ends_with("ForSequenceClassification")
            .then(|| classifier_head(v))
            .transpose()?;
        let roberta = arch.starts_with("Roberta") || arch.starts_with("XLMRoberta");
        let vocab_size = usize_field(v, "vocab_size")?;
        let pad_token_id = match v.get("pad_token_id") {
            Some(Value::Number(n)) => n.as_u64().map(|n| n as usize).unwrap_or(0),
            _ => usize::from(roberta),
        };
        if pad_token_id >= vocab_size {
            return Err(KernelError::invalid(
                "config.pad_token_id",
                format!("{pad_token_id} is outside the vocabulary of {vocab_size}"),
            ));
        }
        Ok(BertConfig {
            architecture: arch.to_string(),
            roberta,
            vocab_size,
            hidden_size,
            num_hidden_layers: usize_field(v, "num_hidden_layers")?,
            num_attention_heads,
            head_dim,
            intermediate_size: usize_field(v, "intermediate_size")?,
            hidden_act: act_field(v, "hidden_act", "gelu")?,
            max_position_embeddings: usize_field(v, "max_position_embeddings")?,
            type_vocab_size: opt_usize(v, "type_vocab_size")?.unwrap_or(2),
            layer_norm_eps: f64_field(v, "layer_norm_eps", 1e-12)?,
            pad_token_id,
            classifier,
        })
    }

    /// Longest sequence: RoBERTa spends `pad_token_id + 1` positions before the first token.
    pub fn max_positions(&self) -> usize {
        if self.roberta {
            self.max_position_embeddings
                .saturating_sub(self.pad_token_id + 1)
        } else {
            self.max_position_embeddings
        }
    }
}

fn classifier_head(v: &Value) -> Result<ClassifierHead, KernelError> {
    let from_map = v.get("id2label").and_then(Value::as_object);
    let num_labels = match (opt_usize(v, "num_labels")?, from_map) {
        (Some(n), _) => n,
        (None, Some(m)) if !m.is_empty() => m.len(),
        _ => 2,
    };
    let labels = (0..num_labels)
        .map(|i| {
            from_map
                .and_then(|m| m.get(&i.to_string()))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("LABEL_{i}"))
        })
        .collect();
    if let Some(p) = v.get("problem_type").and_then(Value::as_str) {
        if p != "single_label_classification" {
            return Err(KernelError::invalid(
                "config.problem_type",
                format!("{p:?} is not supported (single_label_classification)"),
            ));
        }
    }
    Ok(ClassifierHead { num_labels, labels })
}

/// Llama 3's frequency-dependent rope scaling (`rope_scaling.rope_type = "llama3"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Llama3Rope {
    pub factor: f64,
    pub low_freq_factor: f64,
    pub high_freq_factor: f64,
    pub original_max_position_embeddings: usize,
}

/// Llama / Mistral / Qwen2 decoders.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    pub architecture: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub rope_scaling: Option<Llama3Rope>,
    pub max_position_embeddings: usize,
    pub tie_word_embeddings: bool,
    /// q/k/v (and for Llama's `attention_bias`, o) projections carry biases.
    pub attention_bias: bool,
    /// Mistral's window: a token attends to at most this many previous positions.
    pub sliding_window: Option<usize>,
    pub hidden_act: Act,
}

impl LlamaConfig {
    fn from_json(v: &Value, arch: &str) -> Result<LlamaConfig, KernelError> {
        let hidden_size = usize_field(v, "hidden_size")?;
        let num_attention_heads = usize_field(v, "num_attention_heads")?;
        let num_key_value_heads =
            opt_usize(v, "num_key_value_heads")?.unwrap_or(num_attention_heads);
        if num_attention_heads % num_key_value_heads != 0 {
            return Err(KernelError::invalid(
                "config.num_key_value_heads",
                format!(
                    "{num_key_value_heads} must divide num_attention_heads {num_attention_heads}"
                ),
            ));
        }
        let head_dim = match opt_usize(v, "head_dim")? {
            Some(d) => d,
            None => divides(num_attention_heads, hidden_size, "num_attention_heads")?,
        };
        if head_dim % 2 != 0 {
            return Err(KernelError::invalid(
                "config.head_dim",
                format!("rotary embeddings need an even head size, got {head_dim}"),
            ));
        }
        let qwen = arch.starts_with("Qwen2");
        let sliding_window = match arch {
            "MistralForCausalLM" => opt_usize(v, "sliding_window")?,
            "Qwen2ForCausalLM"
                if v.get("use_sliding_window").and_then(Value::as_bool) == Some(true) =>
            {
                return Err(KernelError::invalid(
                    "config.use_sliding_window",
                    "Qwen2 sliding-window attention is not supported",
                ))
            }
            _ => None,
        };
        Ok(LlamaConfig {
            architecture: arch.to_string(),
            vocab_size: usize_field(v, "vocab_size")?,
            hidden_size,
            intermediate_size: usize_field(v, "intermediate_size")?,
            num_hidden_layers: usize_field(v, "num_hidden_layers")?,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            rms_norm_eps: f64_field(v, "rms_norm_eps", 1e-6)?,
            rope_theta: f64_field(v, "rope_theta", 10_000.0)?,
            rope_scaling: rope_scaling(v)?,
            max_position_embeddings: opt_usize(v, "max_position_embeddings")?.unwrap_or(2048),
            tie_word_embeddings: v
                .get("tie_word_embeddings")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            attention_bias: qwen || v.get("attention_bias").and_then(Value::as_bool) == Some(true),
            sliding_window,
            hidden_act: act_field(v, "hidden_act", "silu")?,
        })
    }
}

fn rope_scaling(v: &Value) -> Result<Option<Llama3Rope>, KernelError> {
    let Some(s) = v.get("rope_scaling").filter(|s| !s.is_null()) else {
        return Ok(None);
    };
    let kind = s
        .get("rope_type")
        .or_else(|| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match kind {
        "default" => Ok(None),
        "llama3" => Ok(Some(Llama3Rope {
            factor: f64_field(s, "factor", 8.0)?,
            low_freq_factor: f64_field(s, "low_freq_factor", 1.0)?,
            high_freq_factor: f64_field(s, "high_freq_factor", 4.0)?,
            original_max_position_embeddings: opt_usize(s, "original_max_position_embeddings")?
                .unwrap_or(8192),
        })),
        other => Err(KernelError::invalid(
            "config.rope_scaling",
            format!("rope type {other:?} is not supported (default, llama3)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unsupported_architecture_is_named() {
        let e = ModelConfig::from_json(&json!({"architectures": ["GPT2LMHeadModel"]})).unwrap_err();
        let KernelError::InvalidParameter { field, message } = e else {
            panic!()
        };
        assert_eq!(field, "config.architectures");
        assert!(message.contains("GPT2LMHeadModel"), "{message}");
    }

    #[test]
    fn llama_defaults_and_checks() {
        let base = json!({"architectures": ["LlamaForCausalLM"], "vocab_size": 300,
            "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2});
        let ModelConfig::Decoder(c) = ModelConfig::from_json(&base).unwrap() else {
            panic!()
        };
        assert_eq!(
            (c.head_dim, c.rope_theta, c.attention_bias),
            (8, 10_000.0, false)
        );
        let mut bad = base.clone();
        bad["num_key_value_heads"] = json!(3);
        assert!(ModelConfig::from_json(&bad).is_err());
        let mut scaled = base.clone();
        scaled["rope_scaling"] = json!({"rope_type": "yarn", "factor": 4.0});
        let KernelError::InvalidParameter { field, .. } =
            ModelConfig::from_json(&scaled).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(field, "config.rope_scaling");
    }
}

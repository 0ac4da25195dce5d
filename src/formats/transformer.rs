//! A Hugging Face transformer folder as the forward passes in `kernels::transformer` take
//! it: `config.json` (architecture and sizes), the weights of its shards as f32 (any float
//! dtype; compressed-tensors weights dequantized on load, so quantized outputs can be
//! judged), and `tokenizer.json` through the `tokenizers` crate.
use std::collections::BTreeSet;
use std::path::Path;

use ::safetensors::tensor::TensorView;
use serde_json::Value;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::compressed_tensors::{
    quantized_weight_names, read_quantized, weight_config, WeightConfig,
};
use super::safetensors::{to_f32, MappedModel};
use super::FormatError;
use crate::kernels::quant::dequantize;
use crate::kernels::transformer::{ModelConfig, Values, WeightSource};
use crate::kernels::KernelError;

/// Size cap on `config.json` (real ones are a few KB).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A kernel's parameter error names a config field; everything else is an invalid model.
pub fn kernel_to_format(e: KernelError) -> FormatError {
    match e {
        KernelError::InvalidParameter { field, message } => FormatError::At {
            location: field,
            message,
        },
        other => FormatError::Invalid(other.to_string()),
    }
}

/// `config.json` of a folder as JSON.
pub fn read_config(dir: &Path) -> Result<Value, FormatError> {
    let path = dir.join("config.json");
    let missing = || FormatError::At {
        location: "config.json".into(),
        message:
            "a transformer model needs its config.json (upload the folder save_pretrained writes)"
                .into(),
    };
    let meta = std::fs::metadata(&path).map_err(|_| missing())?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(FormatError::TooLarge(format!(
            "config.json is {} bytes (at most {MAX_CONFIG_BYTES})",
            meta.len()
        )));
    }
    let text = std::fs::read(&path).map_err(|_| missing())?;
    serde_json::from_slice(&text).map_err(|e| FormatError::At {
        location: "config.json".into(),
        message: format!("not JSON: {e}"),
    })
}

/// The architecture a folder declares, if its config says one whittle can run.
pub fn model_config(dir: &Path) -> Result<ModelConfig, FormatError> {
    ModelConfig::from_json(&read_config(dir)?).map_err(kernel_to_format)
}

/// What a model row records about a folder's `config.json`: the transformer whittle can
/// run (family, architecture, sizes, whether it has a tokenizer), or why it cannot
/// (`supported: false` with the field and reason). `None` without a config.
pub fn architecture_summary(config: Option<&Value>, files: &[String]) -> Option<Value> {
    let config = config?;
    let tokenizer = files.iter().any(|f| f == "tokenizer.json");
    Some(match ModelConfig::from_json(config) {
        Ok(c) => {
            let mut v = c.summary();
            v["tokenizer"] = Value::Bool(tokenizer);
            v
        }
        Err(e) => {
            let (field, reason) = match e {
                KernelError::InvalidParameter { field, message } => (field, message),
                other => ("config".to_string(), other.to_string()),
            };
            serde_json::json!({
                "kind": "transformer", "supported": false,
                "architecture": config.get("architectures").and_then(|a| a.get(0)).and_then(Value::as_str),
                "field": field, "reason": reason, "tokenizer": tokenizer,
            })
        }
    })
}

/// The weights of a mapped folder as f32, decoding compressed-tensors entries.
pub struct FolderWeights {
    mapped: MappedModel,
    /// Quantized weight names and how they are encoded, for a compressed checkpoint.
    compressed: Option<(WeightConfig, BTreeSet<String>)>,
}

impl FolderWeights {
    /// Maps a folder's shards; `config` is its `config.json`.
    pub fn open(dir: &Path, config: &Value) -> Result<FolderWeights, FormatError> {
        let mapped = MappedModel::open(dir)?;
        let compressed = match config.get("quantization_config") {
            Some(qc)
                if qc.get("quant_method").and_then(Value::as_str) == Some("compressed-tensors") =>
            {
                let wc = weight_config(qc)?;
                let names = {
                    let lookup = |n: &str| view(&mapped, n);
                    quantized_weight_names(&lookup, mapped.names())
                };
                Some((wc, names.into_iter().collect()))
            }
            Some(_) => {
                return Err(FormatError::At {
                    location: "config.quantization_config".into(),
                    message: "only compressed-tensors quantized checkpoints can be run".into(),
                })
            }
            None => None,
        };
        Ok(FolderWeights { mapped, compressed })
    }

    /// The mapped shards (for callers that stream tensors themselves).
    pub fn mapped(&self) -> &MappedModel {
        &self.mapped
    }

    /// Whether a compressed-tensors checkpoint is decoded on load.
    pub fn is_compressed(&self) -> bool {
        self.compressed.is_some()
    }
}

fn view<'a>(mapped: &'a MappedModel, name: &str) -> Option<TensorView<'a>> {
    let t = mapped.tensor(name).ok()?;
    TensorView::new(t.dtype, t.shape.to_vec(), t.data).ok()
}

impl WeightSource for FolderWeights {
    fn get(&self, name: &str) -> Result<Option<Values>, KernelError> {
        let fail = |e: FormatError| KernelError::Shape(e.to_string());
        if let Some((wc, names)) = &self.compressed {
            if names.contains(name) {
                let lookup = |n: &str| view(&self.mapped, n);
                let (qt, _) = read_quantized(name, &lookup, wc).map_err(fail)?;
                let w = dequantize(&qt)?;
                let shape = vec![w.nrows(), w.ncols()];
                return Ok(Some((w.into_raw_vec_and_offset().0, shape)));
            }
        }
        let Ok(t) = self.mapped.tensor(name) else {
            return Ok(None);
        };
        let values = to_f32(&t).map_err(fail)?;
        let shape = t.shape.to_vec();
        self.mapped.release(name);
        Ok(Some((values, shape)))
    }

    fn contains(&self, name: &str) -> bool {
        self.mapped.tensor(name).is_ok()
            || self
                .compressed
                .as_ref()
                .is_some_and(|(_, n)| n.contains(name))
    }
}

/// The folder's `tokenizer.json`.
pub fn load_tokenizer(dir: &Path) -> Result<Tokenizer, FormatError> {
    let path = dir.join("tokenizer.json");
    if !path.is_file() {
        return Err(FormatError::At {
            location: "tokenizer.json".into(),
            message: "text datasets are tokenized with the model's own tokenizer.json, and this model has none".into(),
        });
    }
    Tokenizer::from_file(&path).map_err(|e| FormatError::At {
        location: "tokenizer.json".into(),
        message: format!("the tokenizers library cannot read it: {e}"),
    })
}

/// One tokenized example.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// Tokens dropped by truncation to `max_length`.
    pub truncated_tokens: usize,
}

/// Tokenizes `text` (and `pair`) with special tokens, truncated to `max_length` tokens
/// (longest side first for pairs); `None` keeps every token.
pub fn encode(
    tok: &Tokenizer,
    text: &str,
    pair: Option<&str>,
    max_length: Option<usize>,
) -> Result<Encoded, FormatError> {
    let fail = |e: tokenizers::Error| FormatError::At {
        location: "tokenizer.json".into(),
        message: format!("tokenizing failed: {e}"),
    };
    let full = match pair {
        Some(p) => tok.encode((text, p), true),
        None => tok.encode(text, true),
    }
    .map_err(fail)?;
    let total = full.len();
    let enc = match max_length {
        Some(max) if total > max => {
            let mut t = tok.clone();
            t.with_truncation(Some(TruncationParams {
                max_length: max,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(fail)?;
            match pair {
                Some(p) => t.encode((text, p), true),
                None => t.encode(text, true),
            }
            .map_err(fail)?
        }
        _ => full,
    };
    Ok(Encoded {
        truncated_tokens: total - enc.len(),
        ids: enc.get_ids().to_vec(),
        type_ids: enc.get_type_ids().to_vec(),
    })
}

/// The id a batch pads with: the tokenizer's padding token, else `pad_token_id` of the
/// config, else 0 (padding positions are masked, so the id only has to exist).
pub fn pad_id(tok: &Tokenizer, config: &Value) -> u32 {
    tok.get_padding()
        .map(|p| p.pad_id)
        .or_else(|| {
            config
                .get("pad_token_id")
                .and_then(Value::as_u64)
                .map(|v| v as u32)
        })
        .unwrap_or(0)
}

/// What a tensor of a Hugging Face checkpoint is, from its name (the naming of BERT,
/// RoBERTa, Llama, Mistral, Qwen2, GPT-2 and similar families).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
pub enum TensorRole {
    #[serde(rename = "embeddings")]
    Embeddings,
    #[serde(rename = "attention.q")]
    AttentionQ,
    #[serde(rename = "attention.k")]
    AttentionK,
    #[serde(rename = "attention.v")]
    AttentionV,
    /// Fused query/key/value projections (GPT-2's `c_attn`, Falcon's `query_key_value`).
    #[serde(rename = "attention.qkv")]
    AttentionQkv,
    #[serde(rename = "attention.o")]
    AttentionO,
    #[serde(rename = "mlp.gate")]
    MlpGate,
    #[serde(rename = "mlp.up")]
    MlpUp,
    #[serde(rename = "mlp.down")]
    MlpDown,
    #[serde(rename = "norm")]
    Norm,
    #[serde(rename = "lm_head")]
    LmHead,
    /// Pooler and task heads (`classifier`, `score`).
    #[serde(rename = "head")]
    Head,
    #[serde(rename = "other")]
    Other,
}

impl TensorRole {
    /// Whether quantizing such tensors is usually not worth it, and why.
    pub fn keep_float_reason(self) -> Option<&'static str> {
        Some(match self {
            TensorRole::Embeddings => {
                "embedding tables are lookups, not matmuls: llm-compressor and vLLM keep them in \
                 float (whittle does by default)"
            }
            TensorRole::Norm => "norm scales are tiny and every activation goes through them",
            TensorRole::LmHead => {
                "the output projection decides every token's logit; quantizing it costs the most \
                 perplexity per byte saved (llm-compressor's recipes ignore lm_head)"
            }
            TensorRole::Head => "task heads are small and directly decide the prediction",
            _ => return None,
        })
    }
}

/// The role of the tensor `name` in its model.
pub fn tensor_role(name: &str) -> TensorRole {
    let n = name.to_ascii_lowercase();
    let has = |parts: &[&str]| parts.iter().any(|p| n.contains(p));
    if has(&["norm", "ln_", ".ln", "gamma", "beta"]) {
        return TensorRole::Norm;
    }
    if has(&["embed", "wte.", "wpe."]) {
        return TensorRole::Embeddings;
    }
    if n.starts_with("lm_head") || n == "output.weight" {
        return TensorRole::LmHead;
    }
    if has(&["classifier", "pooler", "score.", "qa_outputs"]) {
        return TensorRole::Head;
    }
    if has(&["q_proj", ".query.", ".wq."]) {
        TensorRole::AttentionQ
    } else if has(&["k_proj", ".key.", ".wk."]) {
        TensorRole::AttentionK
    } else if has(&["v_proj", ".value.", ".wv."]) {
        TensorRole::AttentionV
    } else if has(&["qkv", "c_attn", "query_key_value", "w_pack"]) {
        TensorRole::AttentionQkv
    } else if has(&[
        "o_proj",
        "attention.output.dense",
        "attn.c_proj",
        "out_proj",
        ".wo.",
    ]) {
        TensorRole::AttentionO
    } else if has(&["gate_proj", ".w1.", "gate_up"]) {
        TensorRole::MlpGate
    } else if has(&["up_proj", "intermediate.dense", ".w3.", "fc1", "c_fc"]) {
        TensorRole::MlpUp
    } else if has(&["down_proj", "output.dense", ".w2.", "fc2", "mlp.c_proj"]) {
        TensorRole::MlpDown
    } else {
        TensorRole::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::transformer::bert::{pool, Bert, Pooling};
    use crate::kernels::transformer::llama::Llama;
    use crate::kernels::transformer::{to_rows, Batch, NoObserver};
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn reference(dir: &Path) -> Value {
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap()
    }

    fn close(got: &[f32], want: &Value, what: &str) {
        let want: Vec<f64> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{what}");
        let scale = want.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (*g as f64 - w).abs() <= 1e-4 * scale.max(1e-3),
                "{what}[{i}]: whittle {g}, transformers {w}"
            );
        }
    }

    #[test]
    fn llama_matches_transformers() {
        let dir = fixture("tiny-llama");
        let raw = read_config(&dir).unwrap();
        let ModelConfig::Decoder(cfg) = ModelConfig::from_json(&raw).unwrap() else {
            panic!("a decoder")
        };
        let weights = FolderWeights::open(&dir, &raw).unwrap();
        let model = Llama::load(&cfg, &weights).unwrap();
        let tok = load_tokenizer(&dir).unwrap();
        let r = reference(&dir);
        for (i, text) in r["texts"].as_array().unwrap().iter().enumerate() {
            let enc = encode(&tok, text.as_str().unwrap(), None, None).unwrap();
            let want_ids: Vec<u32> = serde_json::from_value(r["input_ids"][i].clone()).unwrap();
            assert_eq!(enc.ids, want_ids, "token ids of {text}");
            let batch = Batch::pad(&[(enc.ids.clone(), enc.type_ids.clone())], 0);
            let logits = model
                .forward(&batch, &mut NoObserver)
                .unwrap()
                .squeeze(0)
                .unwrap();
            let rows = to_rows(&logits).unwrap();
            for (p, row) in rows.iter().enumerate() {
                close(
                    &row[..8],
                    &r["logits_first8"][i][p],
                    &format!("logits of {text} at {p}"),
                );
            }
            let targets = &enc.ids[1..];
            let (nll, top) = crate::kernels::transformer::metrics::nll_and_argmax(
                &logits.narrow(0, 0, targets.len()).unwrap(),
                targets,
            )
            .unwrap();
            let want_nll: Vec<f32> = serde_json::from_value(r["token_nll"][i].clone()).unwrap();
            for (g, w) in nll.iter().zip(&want_nll) {
                assert!(
                    (g - *w as f64).abs() < 1e-4 * (*w as f64).abs().max(1.0),
                    "nll {g} vs {w}"
                );
            }
            let want_top: Vec<u32> = serde_json::from_value(r["argmax"][i].clone()).unwrap();
            assert_eq!(&top[..], &want_top[..targets.len()], "argmax of {text}");
        }
    }

    #[test]
    fn bert_matches_transformers() {
        let dir = fixture("tiny-bert");
        let raw = read_config(&dir).unwrap();
        let ModelConfig::Encoder(cfg) = ModelConfig::from_json(&raw).unwrap() else {
            panic!("an encoder")
        };
        let weights = FolderWeights::open(&dir, &raw).unwrap();
        let model = Bert::load(&cfg, &weights).unwrap();
        let tok = load_tokenizer(&dir).unwrap();
        let r = reference(&dir);
        let texts: Vec<&str> = r["texts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let encoded: Vec<Encoded> = texts
            .iter()
            .map(|t| encode(&tok, t, None, None).unwrap())
            .collect();
        for (i, e) in encoded.iter().enumerate() {
            let want_ids: Vec<u32> = serde_json::from_value(r["input_ids"][i].clone()).unwrap();
            assert_eq!(e.ids, want_ids, "token ids of {}", texts[i]);
        }
        // One padded batch: padding must not change the real positions.
        let seqs: Vec<(Vec<u32>, Vec<u32>)> = encoded
            .iter()
            .map(|e| (e.ids.clone(), e.type_ids.clone()))
            .collect();
        let batch = Batch::pad(&seqs, pad_id(&tok, &raw));
        let out = model.forward(&batch, &mut NoObserver).unwrap();
        let hidden = out.hidden.to_vec3::<f32>().unwrap();
        for (i, text) in texts.iter().enumerate() {
            for p in 0..encoded[i].ids.len() {
                close(
                    &hidden[i][p],
                    &r["last_hidden"][i][p],
                    &format!("state of {text} at {p}"),
                );
            }
        }
        let pooled = pool(&out.hidden, &batch.mask, Pooling::Mean, true).unwrap();
        for (i, p) in pooled.iter().enumerate() {
            close(
                p,
                &r["mean_pooled_normalized"][i],
                &format!("embedding of {}", texts[i]),
            );
        }
        // A sentence pair: segment ids and their embeddings.
        let pr = &r["pair"];
        let e = encode(
            &tok,
            pr["text"].as_str().unwrap(),
            pr["text_pair"].as_str(),
            None,
        )
        .unwrap();
        assert_eq!(
            e.ids,
            serde_json::from_value::<Vec<u32>>(pr["input_ids"].clone()).unwrap()
        );
        assert_eq!(
            e.type_ids,
            serde_json::from_value::<Vec<u32>>(pr["token_type_ids"].clone()).unwrap()
        );
        let out = model
            .forward(
                &Batch::pad(&[(e.ids.clone(), e.type_ids.clone())], 0),
                &mut NoObserver,
            )
            .unwrap();
        let hidden = out.hidden.to_vec3::<f32>().unwrap();
        for (p, h) in hidden[0].iter().enumerate() {
            close(h, &pr["last_hidden"][p], &format!("pair state at {p}"));
        }
        // Truncation keeps the special tokens and says how much it dropped.
        let cut = encode(&tok, texts[1], None, Some(4)).unwrap();
        assert_eq!(cut.ids.len(), 4);
        assert_eq!((cut.ids[0], cut.ids[3]), (2, 3));
        assert_eq!(cut.truncated_tokens, encoded[1].ids.len() - 4);
    }

    #[test]
    fn bert_classifier_matches_transformers() {
        let dir = fixture("tiny-bert-cls");
        let raw = read_config(&dir).unwrap();
        let ModelConfig::Encoder(cfg) = ModelConfig::from_json(&raw).unwrap() else {
            panic!("an encoder")
        };
        let model = Bert::load(&cfg, &FolderWeights::open(&dir, &raw).unwrap()).unwrap();
        assert!(model.has_classifier());
        let tok = load_tokenizer(&dir).unwrap();
        let r = reference(&dir);
        let seqs: Vec<(Vec<u32>, Vec<u32>)> = r["texts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let e = encode(&tok, t.as_str().unwrap(), None, None).unwrap();
                (e.ids, e.type_ids)
            })
            .collect();
        let out = model
            .forward(&Batch::pad(&seqs, pad_id(&tok, &raw)), &mut NoObserver)
            .unwrap();
        let logits = to_rows(&out.logits.unwrap()).unwrap();
        for (i, row) in logits.iter().enumerate() {
            close(row, &r["logits"][i], &format!("logits of example {i}"));
        }
    }

    #[test]
    fn roles_follow_hugging_face_names() {
        for (name, role) in [
            ("model.embed_tokens.weight", TensorRole::Embeddings),
            (
                "model.layers.0.self_attn.q_proj.weight",
                TensorRole::AttentionQ,
            ),
            (
                "model.layers.3.self_attn.k_proj.weight",
                TensorRole::AttentionK,
            ),
            (
                "model.layers.3.self_attn.o_proj.weight",
                TensorRole::AttentionO,
            ),
            ("model.layers.0.mlp.gate_proj.weight", TensorRole::MlpGate),
            ("model.layers.0.mlp.up_proj.weight", TensorRole::MlpUp),
            ("model.layers.0.mlp.down_proj.weight", TensorRole::MlpDown),
            ("model.layers.0.input_layernorm.weight", TensorRole::Norm),
            ("model.norm.weight", TensorRole::Norm),
            ("lm_head.weight", TensorRole::LmHead),
            ("bert.embeddings.LayerNorm.gamma", TensorRole::Norm),
            ("embeddings.word_embeddings.weight", TensorRole::Embeddings),
            (
                "encoder.layer.1.attention.self.query.weight",
                TensorRole::AttentionQ,
            ),
            (
                "encoder.layer.1.attention.self.value.bias",
                TensorRole::AttentionV,
            ),
            (
                "encoder.layer.1.attention.output.dense.weight",
                TensorRole::AttentionO,
            ),
            (
                "encoder.layer.1.intermediate.dense.weight",
                TensorRole::MlpUp,
            ),
            ("encoder.layer.1.output.dense.weight", TensorRole::MlpDown),
            ("encoder.layer.1.output.LayerNorm.weight", TensorRole::Norm),
            ("pooler.dense.weight", TensorRole::Head),
            ("classifier.weight", TensorRole::Head),
            (
                "transformer.h.0.attn.c_attn.weight",
                TensorRole::AttentionQkv,
            ),
            ("transformer.h.0.mlp.c_proj.weight", TensorRole::MlpDown),
            ("layers.0.weight", TensorRole::Other),
        ] {
            assert_eq!(tensor_role(name), role, "{name}");
        }
    }

    /// Records the inputs of every Linear of a full forward pass.
    struct Record(std::collections::HashMap<String, Vec<Vec<f32>>>);

    impl crate::kernels::transformer::Observer for Record {
        fn linear_input(
            &mut self,
            weight: &str,
            input: &crate::kernels::transformer::Tensor,
        ) -> Result<(), KernelError> {
            self.0
                .entry(weight.to_string())
                .or_default()
                .extend(input.to_vec2::<f32>().unwrap());
            Ok(())
        }
    }

    /// The block-by-block pass, editing nothing, ends where the whole model does, and its
    /// Hessians are those of the inputs a full forward pass feeds each Linear; an edit of one
    /// block reaches the inputs of the next.
    #[test]
    fn sequential_calibration_matches_the_full_forward_pass() {
        use crate::kernels::transformer::calibrate::{sequential, Collect};
        for name in ["tiny-llama", "tiny-bert"] {
            let dir = fixture(name);
            let raw = read_config(&dir).unwrap();
            let cfg = ModelConfig::from_json(&raw).unwrap();
            let weights = FolderWeights::open(&dir, &raw).unwrap();
            let tok = load_tokenizer(&dir).unwrap();
            let r = reference(&dir);
            let seqs: Vec<(Vec<u32>, Vec<u32>)> = r["texts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    let e = encode(&tok, t.as_str().unwrap(), None, None).unwrap();
                    (e.ids, e.type_ids)
                })
                .collect();
            let batches = vec![Batch::pad(&seqs, pad_id(&tok, &raw))];
            let mut record = Record(Default::default());
            let full = match &cfg {
                ModelConfig::Decoder(c) => Llama::load(c, &weights)
                    .unwrap()
                    .hidden(&batches[0], &mut record)
                    .unwrap(),
                ModelConfig::Encoder(c) => {
                    Bert::load(c, &weights)
                        .unwrap()
                        .forward(&batches[0], &mut record)
                        .unwrap()
                        .hidden
                }
            };
            let collect = Collect {
                hessian: true,
                norms: true,
            };
            let mut seen = Vec::new();
            let mut edit = |block: usize,
                            linears: &mut [&mut crate::kernels::transformer::Linear],
                            stats: &std::collections::HashMap<
                String,
                crate::kernels::transformer::calibrate::InputStats,
            >|
             -> Result<(), KernelError> {
                for l in linears.iter() {
                    let h = stats[&l.name].hessian()?.unwrap();
                    let x = &record.0[&l.name];
                    let n = x.len() as f64;
                    let (i, j) = (1, 3);
                    let want: f64 =
                        x.iter().map(|r| r[i] as f64 * r[j] as f64).sum::<f64>() * 2.0 / n;
                    assert!(
                        (h[[i, j]] as f64 - want).abs() < 1e-4 * want.abs().max(1e-3),
                        "{}",
                        l.name
                    );
                    let norms = stats[&l.name].norms()?.unwrap();
                    let want = x.iter().map(|r| (r[0] as f64).powi(2)).sum::<f64>().sqrt();
                    assert!((norms[0] as f64 - want).abs() < 1e-4 * want.max(1e-3));
                    seen.push((block, l.name.clone()));
                }
                Ok(())
            };
            let out = sequential(&cfg, &weights, &batches, collect, &mut edit, &mut |_, _| {
                true
            })
            .unwrap()
            .unwrap();
            assert_eq!(seen.len(), if name == "tiny-llama" { 14 } else { 12 });
            let (a, b) = (
                full.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                out[0].flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            );
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-5, "{name}: {x} vs {y}");
            }
            // Zeroing block 0's output projection changes what block 1 sees.
            let mut first_input = None;
            let mut edit = |block: usize,
                            linears: &mut [&mut crate::kernels::transformer::Linear],
                            stats: &std::collections::HashMap<
                String,
                crate::kernels::transformer::calibrate::InputStats,
            >|
             -> Result<(), KernelError> {
                if block == 0 {
                    let n = linears[3].weight.elem_count();
                    linears[3].set_weight(vec![0.0; n])?;
                } else if first_input.is_none() {
                    first_input = Some(stats[&linears[0].name].hessian()?.unwrap()[[0, 0]]);
                }
                Ok(())
            };
            sequential(&cfg, &weights, &batches, collect, &mut edit, &mut |_, _| {
                true
            })
            .unwrap();
            let name1 = &seen.iter().find(|(b, _)| *b == 1).unwrap().1;
            let x = &record.0[name1];
            let float = x.iter().map(|r| (r[0] as f64).powi(2)).sum::<f64>() * 2.0 / x.len() as f64;
            assert!(
                (first_input.unwrap() as f64 - float).abs() > 1e-6 * float,
                "{name}"
            );
            // Stopping returns no outputs.
            let stopped = sequential(
                &cfg,
                &weights,
                &batches,
                collect,
                &mut |_, _, _| Ok(()),
                &mut |d, _| d == 0,
            )
            .unwrap();
            assert!(stopped.is_none());
        }
    }

    #[test]
    fn missing_tokenizer_and_config_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let Err(FormatError::At { location, .. }) = load_tokenizer(dir.path()) else {
            panic!()
        };
        assert_eq!(location, "tokenizer.json");
        let Err(FormatError::At { location, .. }) = read_config(dir.path()) else {
            panic!()
        };
        assert_eq!(location, "config.json");
    }
}

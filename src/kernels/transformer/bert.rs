//! BERT-family encoders (BERT, RoBERTa, XLM-R): embeddings, post-norm blocks of
//! self-attention and a GELU feed-forward, the pooler and a sequence-classification head.
use candle_core::{Device, Tensor};

use super::config::BertConfig;
use super::{attention, ce, first_present, load, real_rows, Batch, Linear, Observer};
use crate::kernels::KernelError;

/// LayerNorm over the last dimension.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub eps: f32,
}

impl LayerNorm {
    fn load(
        src: &dyn super::WeightSource,
        prefix: &str,
        n: usize,
        eps: f64,
    ) -> Result<Self, KernelError> {
        let w = first_present(src, [format!("{prefix}.weight"), format!("{prefix}.gamma")]);
        let b = first_present(src, [format!("{prefix}.bias"), format!("{prefix}.beta")]);
        Ok(LayerNorm {
            weight: load(src, &w, &[n])?,
            bias: load(src, &b, &[n])?,
            eps: eps as f32,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor, KernelError> {
        candle_nn::ops::layer_norm(
            &x.contiguous().map_err(ce)?,
            &self.weight,
            &self.bias,
            self.eps,
        )
        .map_err(ce)
    }
}

/// One encoder block.
#[derive(Debug, Clone)]
pub struct BertLayer {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub attn_out: Linear,
    pub attn_norm: LayerNorm,
    pub intermediate: Linear,
    pub output: Linear,
    pub out_norm: LayerNorm,
}

impl BertLayer {
    /// Loads block `i` alone (calibration holds one block at a time); `prefix` is the
    /// checkpoint's prefix of the encoder ([`base_prefix`]).
    pub fn load(
        cfg: &BertConfig,
        src: &dyn super::WeightSource,
        prefix: &str,
        i: usize,
    ) -> Result<Self, KernelError> {
        let l = format!("{prefix}encoder.layer.{i}");
        let (h, i_sz, eps) = (cfg.hidden_size, cfg.intermediate_size, cfg.layer_norm_eps);
        Ok(BertLayer {
            query: Linear::load(src, &format!("{l}.attention.self.query"), h, h, true)?,
            key: Linear::load(src, &format!("{l}.attention.self.key"), h, h, true)?,
            value: Linear::load(src, &format!("{l}.attention.self.value"), h, h, true)?,
            attn_out: Linear::load(src, &format!("{l}.attention.output.dense"), h, h, true)?,
            attn_norm: LayerNorm::load(src, &format!("{l}.attention.output.LayerNorm"), h, eps)?,
            intermediate: Linear::load(src, &format!("{l}.intermediate.dense"), i_sz, h, true)?,
            output: Linear::load(src, &format!("{l}.output.dense"), h, i_sz, true)?,
            out_norm: LayerNorm::load(src, &format!("{l}.output.LayerNorm"), h, eps)?,
        })
    }

    /// Its Linears in forward order.
    pub fn linears_mut(&mut self) -> [&mut Linear; 6] {
        [
            &mut self.query,
            &mut self.key,
            &mut self.value,
            &mut self.attn_out,
            &mut self.intermediate,
            &mut self.output,
        ]
    }

    /// The block over `(batch, seq, hidden)` with the batch's [`Bert::mask`].
    pub fn forward(
        &self,
        cfg: &BertConfig,
        x: &Tensor,
        mask: Option<&Tensor>,
        rows: Option<&Tensor>,
        obs: &mut dyn Observer,
    ) -> Result<Tensor, KernelError> {
        let (b, t, h) = x.dims3().map_err(ce)?;
        let (nh, hd) = (cfg.num_attention_heads, cfg.head_dim);
        let heads = |y: Tensor| {
            y.reshape((b, t, nh, hd))
                .and_then(|y| y.transpose(1, 2))
                .map_err(ce)
        };
        let q = heads(self.query.forward(x, rows, obs)?)?;
        let k = heads(self.key.forward(x, rows, obs)?)?;
        let v = heads(self.value.forward(x, rows, obs)?)?;
        let ctx = attention(&q, &k, &v, mask)?
            .transpose(1, 2)
            .and_then(|c| c.reshape((b, t, h)))
            .map_err(ce)?;
        let a = self.attn_out.forward(&ctx, rows, obs)?;
        let x = self.attn_norm.forward(&(a + x).map_err(ce)?)?;
        let i = cfg
            .hidden_act
            .apply(&self.intermediate.forward(&x, rows, obs)?)?;
        let o = self.output.forward(&i, rows, obs)?;
        self.out_norm.forward(&(o + x).map_err(ce)?)
    }
}

/// The classification head of `…ForSequenceClassification`.
#[derive(Debug, Clone)]
pub enum Classifier {
    /// BERT: a linear layer on the pooler's output.
    Pooled(Linear),
    /// RoBERTa: dense + tanh + out_proj on the first token's hidden state.
    Roberta { dense: Linear, out_proj: Linear },
}

/// Word, position and segment embeddings and their LayerNorm.
#[derive(Debug, Clone)]
pub struct Embeddings {
    config: BertConfig,
    word: Tensor,
    position: Tensor,
    token_type: Option<Tensor>,
    norm: LayerNorm,
}

impl Embeddings {
    pub fn load(
        cfg: &BertConfig,
        src: &dyn super::WeightSource,
        prefix: &str,
    ) -> Result<Self, KernelError> {
        let p = prefix;
        let h = cfg.hidden_size;
        let word = load(
            src,
            &format!("{p}embeddings.word_embeddings.weight"),
            &[cfg.vocab_size, h],
        )?;
        let position = load(
            src,
            &format!("{p}embeddings.position_embeddings.weight"),
            &[cfg.max_position_embeddings, h],
        )?;
        let tt_name = format!("{p}embeddings.token_type_embeddings.weight");
        let token_type = if src.contains(&tt_name) {
            Some(load(src, &tt_name, &[cfg.type_vocab_size, h])?)
        } else {
            None
        };
        let norm = LayerNorm::load(
            src,
            &format!("{p}embeddings.LayerNorm"),
            h,
            cfg.layer_norm_eps,
        )?;
        Ok(Embeddings {
            config: cfg.clone(),
            word,
            position,
            token_type,
            norm,
        })
    }

    fn position_ids(&self, batch: &Batch) -> Vec<Vec<u32>> {
        let pad = self.config.pad_token_id as u32;
        batch
            .mask
            .iter()
            .map(|m| {
                let mut next = 0u32;
                m.iter()
                    .map(|&real| {
                        if !self.config.roberta {
                            next += 1;
                            return next - 1;
                        }
                        if real == 1 {
                            next += 1;
                            pad + next
                        } else {
                            pad
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Checks a batch against the vocabulary and position table.
    fn check(&self, batch: &Batch) -> Result<(), KernelError> {
        let c = &self.config;
        batch.check(c.max_positions(), c.vocab_size)?;
        let types = self.token_type.as_ref().map_or(1, |t| t.dims()[0]);
        if batch
            .type_ids
            .iter()
            .flatten()
            .any(|&t| t as usize >= types)
        {
            return Err(KernelError::invalid(
                "text_pair",
                "the model has no segment embedding for a second text",
            ));
        }
        Ok(())
    }

    /// The embeddings of a batch: `(batch, seq, hidden)`.
    pub fn forward(&self, batch: &Batch) -> Result<Tensor, KernelError> {
        self.check(batch)?;
        let (b, t) = (batch.len(), batch.seq_len());
        let h = self.config.hidden_size;
        let flat = |rows: &[Vec<u32>]| Batch::tensor(rows)?.flatten_all().map_err(ce);
        let mut x = self.word.embedding(&flat(&batch.ids)?).map_err(ce)?;
        x = (x + self
            .position
            .embedding(&flat(&self.position_ids(batch))?)
            .map_err(ce)?)
        .map_err(ce)?;
        if let Some(tt) = &self.token_type {
            x = (x + tt.embedding(&flat(&batch.type_ids)?).map_err(ce)?).map_err(ce)?;
        }
        self.norm.forward(&x.reshape((b, t, h)).map_err(ce)?)
    }
}

/// An encoder with its weights.
#[derive(Debug, Clone)]
pub struct Bert {
    pub config: BertConfig,
    embeddings: Embeddings,
    pub layers: Vec<BertLayer>,
    pooler: Option<Linear>,
    classifier: Option<Classifier>,
}

/// What a forward pass returns.
#[derive(Debug)]
pub struct EncoderOutput {
    /// `(batch, seq, hidden)` last hidden state.
    pub hidden: Tensor,
    /// `(batch, num_labels)` classifier logits, for a model with a head.
    pub logits: Option<Tensor>,
}

/// The checkpoint's prefix for the encoder's own tensors (`bert.` in task models).
pub fn base_prefix(src: &dyn super::WeightSource, cfg: &BertConfig) -> String {
    let family = if cfg.roberta { "roberta." } else { "bert." };
    for p in ["", family] {
        if src.contains(&format!("{p}embeddings.word_embeddings.weight")) {
            return p.to_string();
        }
    }
    String::new()
}

impl Bert {
    pub fn load(cfg: &BertConfig, src: &dyn super::WeightSource) -> Result<Bert, KernelError> {
        let p = base_prefix(src, cfg);
        let h = cfg.hidden_size;
        let embeddings = Embeddings::load(cfg, src, &p)?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| BertLayer::load(cfg, src, &p, i))
            .collect::<Result<Vec<_>, _>>()?;
        let pooler_name = format!("{p}pooler.dense.weight");
        let pooler = if src.contains(&pooler_name) {
            Some(Linear::load(src, &format!("{p}pooler.dense"), h, h, true)?)
        } else {
            None
        };
        let classifier = match &cfg.classifier {
            None => None,
            Some(head) if cfg.roberta => Some(Classifier::Roberta {
                dense: Linear::load(src, "classifier.dense", h, h, true)?,
                out_proj: Linear::load(src, "classifier.out_proj", head.num_labels, h, true)?,
            }),
            Some(head) => {
                if pooler.is_none() {
                    return Err(KernelError::Shape(format!(
                        "{} needs the pooler ({pooler_name})",
                        cfg.architecture
                    )));
                }
                Some(Classifier::Pooled(Linear::load(
                    src,
                    "classifier",
                    head.num_labels,
                    h,
                    true,
                )?))
            }
        };
        Ok(Bert {
            config: cfg.clone(),
            embeddings,
            layers,
            pooler,
            classifier,
        })
    }

    /// Whether the model has a classification head.
    pub fn has_classifier(&self) -> bool {
        self.classifier.is_some()
    }

    /// Every Linear of the encoder blocks, in forward order.
    pub fn linears_mut(&mut self) -> impl Iterator<Item = &mut Linear> {
        self.layers.iter_mut().flat_map(|l| l.linears_mut())
    }

    /// The embeddings of a batch: `(batch, seq, hidden)`.
    pub fn embed(&self, batch: &Batch) -> Result<Tensor, KernelError> {
        self.embeddings.forward(batch)
    }

    /// The additive attention mask `(batch, 1, 1, seq)` of a padded batch (None when
    /// nothing is padded), and the rows of its real tokens.
    pub fn mask(batch: &Batch) -> Result<(Option<Tensor>, Option<Tensor>), KernelError> {
        let rows = real_rows(&batch.mask)?;
        if rows.is_none() {
            return Ok((None, None));
        }
        let (b, t) = (batch.len(), batch.seq_len());
        let add: Vec<f32> = batch
            .mask
            .iter()
            .flatten()
            .map(|&m| if m == 1 { 0.0 } else { f32::MIN })
            .collect();
        let m = Tensor::from_vec(add, (b, 1, 1, t), &Device::Cpu).map_err(ce)?;
        Ok((Some(m), rows))
    }

    /// The whole encoder, and the classifier when the model has one.
    pub fn forward(
        &self,
        batch: &Batch,
        obs: &mut dyn Observer,
    ) -> Result<EncoderOutput, KernelError> {
        let (mask, rows) = Self::mask(batch)?;
        let mut x = self.embed(batch)?;
        for layer in &self.layers {
            x = layer.forward(&self.config, &x, mask.as_ref(), rows.as_ref(), obs)?;
        }
        let logits = match &self.classifier {
            None => None,
            Some(head) => Some(self.classify(head, &x, obs)?),
        };
        Ok(EncoderOutput { hidden: x, logits })
    }

    fn classify(
        &self,
        head: &Classifier,
        hidden: &Tensor,
        obs: &mut dyn Observer,
    ) -> Result<Tensor, KernelError> {
        let first = hidden
            .narrow(1, 0, 1)
            .and_then(|f| f.squeeze(1))
            .map_err(ce)?;
        match head {
            Classifier::Pooled(linear) => {
                let pooler = self.pooler.as_ref().expect("checked at load");
                let pooled = pooler.forward(&first, None, obs)?.tanh().map_err(ce)?;
                linear.forward(&pooled, None, obs)
            }
            Classifier::Roberta { dense, out_proj } => {
                let y = dense.forward(&first, None, obs)?.tanh().map_err(ce)?;
                out_proj.forward(&y, None, obs)
            }
        }
    }
}

/// Sentence embeddings from a last hidden state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean over real tokens (sentence-transformers' default).
    Mean,
    /// The first token (`[CLS]` / `<s>`).
    Cls,
    /// Elementwise max over real tokens.
    Max,
}

/// `(batch, hidden)` pooled embeddings, L2-normalized when `normalize`.
pub fn pool(
    hidden: &Tensor,
    mask: &[Vec<u32>],
    pooling: Pooling,
    normalize: bool,
) -> Result<Vec<Vec<f32>>, KernelError> {
    let states = hidden.to_vec3::<f32>().map_err(ce)?;
    let mut out = Vec::with_capacity(states.len());
    for (seq, m) in states.iter().zip(mask) {
        let h = seq.first().map_or(0, Vec::len);
        let real: Vec<&Vec<f32>> = seq
            .iter()
            .zip(m)
            .filter(|(_, &r)| r == 1)
            .map(|(s, _)| s)
            .collect();
        let mut v = match pooling {
            Pooling::Cls => seq[0].clone(),
            Pooling::Mean => {
                let mut acc = vec![0f64; h];
                for s in &real {
                    for (a, &x) in acc.iter_mut().zip(s.iter()) {
                        *a += x as f64;
                    }
                }
                let n = real.len().max(1) as f64;
                acc.into_iter().map(|a| (a / n) as f32).collect()
            }
            Pooling::Max => {
                let mut acc = vec![f32::NEG_INFINITY; h];
                for s in &real {
                    for (a, &x) in acc.iter_mut().zip(s.iter()) {
                        *a = a.max(x);
                    }
                }
                acc
            }
        };
        if normalize {
            let norm = v
                .iter()
                .map(|&x| (x as f64) * (x as f64))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
            }
        }
        out.push(v);
    }
    Ok(out)
}

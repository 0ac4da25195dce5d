//! Llama-family decoders (Llama, Mistral, Qwen2): token embeddings, pre-norm blocks of
//! grouped-query attention with rotary positions and a gated SiLU feed-forward, RMS norms,
//! and the language-model head (tied to the embeddings when the config says so).
use candle_core::{Device, Tensor};

use super::config::{Llama3Rope, LlamaConfig};
use super::{attention, ce, load, real_rows, Batch, Linear, Observer};
use crate::kernels::KernelError;

/// RMSNorm over the last dimension.
#[derive(Debug, Clone)]
pub struct RmsNorm {
    pub weight: Tensor,
    pub eps: f32,
}

impl RmsNorm {
    fn load(
        src: &dyn super::WeightSource,
        name: &str,
        n: usize,
        eps: f64,
    ) -> Result<Self, KernelError> {
        Ok(RmsNorm {
            weight: load(src, name, &[n])?,
            eps: eps as f32,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor, KernelError> {
        candle_nn::ops::rms_norm(&x.contiguous().map_err(ce)?, &self.weight, self.eps).map_err(ce)
    }
}

/// One decoder block.
#[derive(Debug, Clone)]
pub struct LlamaLayer {
    pub input_norm: RmsNorm,
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub o_proj: Linear,
    pub post_norm: RmsNorm,
    pub gate_proj: Linear,
    pub up_proj: Linear,
    pub down_proj: Linear,
}

impl LlamaLayer {
    /// Loads block `i` alone (calibration holds one block at a time).
    pub fn load(
        cfg: &LlamaConfig,
        src: &dyn super::WeightSource,
        i: usize,
    ) -> Result<Self, KernelError> {
        let p = format!("model.layers.{i}");
        let (h, hd) = (cfg.hidden_size, cfg.head_dim);
        let (q_out, kv_out) = (cfg.num_attention_heads * hd, cfg.num_key_value_heads * hd);
        let b = cfg.attention_bias;
        let m = cfg.intermediate_size;
        Ok(LlamaLayer {
            input_norm: RmsNorm::load(
                src,
                &format!("{p}.input_layernorm.weight"),
                h,
                cfg.rms_norm_eps,
            )?,
            q_proj: Linear::load(src, &format!("{p}.self_attn.q_proj"), q_out, h, b)?,
            k_proj: Linear::load(src, &format!("{p}.self_attn.k_proj"), kv_out, h, b)?,
            v_proj: Linear::load(src, &format!("{p}.self_attn.v_proj"), kv_out, h, b)?,
            o_proj: Linear::load(src, &format!("{p}.self_attn.o_proj"), h, q_out, false)?,
            post_norm: RmsNorm::load(
                src,
                &format!("{p}.post_attention_layernorm.weight"),
                h,
                cfg.rms_norm_eps,
            )?,
            gate_proj: Linear::load(src, &format!("{p}.mlp.gate_proj"), m, h, false)?,
            up_proj: Linear::load(src, &format!("{p}.mlp.up_proj"), m, h, false)?,
            down_proj: Linear::load(src, &format!("{p}.mlp.down_proj"), h, m, false)?,
        })
    }

    /// Its Linears in forward order.
    pub fn linears_mut(&mut self) -> [&mut Linear; 7] {
        [
            &mut self.q_proj,
            &mut self.k_proj,
            &mut self.v_proj,
            &mut self.o_proj,
            &mut self.gate_proj,
            &mut self.up_proj,
            &mut self.down_proj,
        ]
    }

    /// The block over `(batch, seq, hidden)` with the pass's [`Context`].
    pub fn forward(
        &self,
        cfg: &LlamaConfig,
        x: &Tensor,
        ctx: &Context,
        obs: &mut dyn Observer,
    ) -> Result<Tensor, KernelError> {
        let (b, t, _) = x.dims3().map_err(ce)?;
        let (nh, nkv, hd) = (
            cfg.num_attention_heads,
            cfg.num_key_value_heads,
            cfg.head_dim,
        );
        let rows = ctx.rows.as_ref();
        let r = self.input_norm.forward(x)?;
        let split = |y: Tensor, n: usize| {
            y.reshape((b, t, n, hd))
                .and_then(|y| y.transpose(1, 2))
                .and_then(|y| y.contiguous())
                .map_err(ce)
        };
        let q = split(self.q_proj.forward(&r, rows, obs)?, nh)?;
        let k = split(self.k_proj.forward(&r, rows, obs)?, nkv)?;
        let v = split(self.v_proj.forward(&r, rows, obs)?, nkv)?;
        let q = candle_nn::rotary_emb::rope(&q, &ctx.cos, &ctx.sin).map_err(ce)?;
        let k = candle_nn::rotary_emb::rope(&k, &ctx.cos, &ctx.sin).map_err(ce)?;
        let repeat = |y: Tensor| -> Result<Tensor, KernelError> {
            if nh == nkv {
                return Ok(y);
            }
            y.unsqueeze(2)
                .and_then(|y| y.expand((b, nkv, nh / nkv, t, hd)))
                .and_then(|y| y.reshape((b, nh, t, hd)))
                .map_err(ce)
        };
        let att = attention(&q, &repeat(k)?, &repeat(v)?, Some(&ctx.mask))?
            .transpose(1, 2)
            .and_then(|a| a.reshape((b, t, nh * hd)))
            .map_err(ce)?;
        let x = (x + self.o_proj.forward(&att, rows, obs)?).map_err(ce)?;
        let r = self.post_norm.forward(&x)?;
        let gate = cfg
            .hidden_act
            .apply(&self.gate_proj.forward(&r, rows, obs)?)?;
        let up = self.up_proj.forward(&r, rows, obs)?;
        let y = self
            .down_proj
            .forward(&(gate * up).map_err(ce)?, rows, obs)?;
        (x + y).map_err(ce)
    }
}

/// What every block of one pass shares: rotary tables, the causal (and padding, and
/// sliding-window) mask, and the rows of real tokens.
pub struct Context {
    cos: Tensor,
    sin: Tensor,
    mask: Tensor,
    rows: Option<Tensor>,
}

/// Inverse rotary frequencies (`head_dim / 2` of them), with Llama 3's scaling.
pub fn inv_freq(cfg: &LlamaConfig) -> Vec<f64> {
    let d = cfg.head_dim;
    let base: Vec<f64> = (0..d / 2)
        .map(|i| 1.0 / cfg.rope_theta.powf((2 * i) as f64 / d as f64))
        .collect();
    match cfg.rope_scaling {
        None => base,
        Some(Llama3Rope {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings,
        }) => {
            let old = original_max_position_embeddings as f64;
            let low_wavelen = old / low_freq_factor;
            let high_wavelen = old / high_freq_factor;
            base.into_iter()
                .map(|f| {
                    let wavelen = 2.0 * std::f64::consts::PI / f;
                    if wavelen < high_wavelen {
                        f
                    } else if wavelen > low_wavelen {
                        f / factor
                    } else {
                        let smooth = (old / wavelen - low_freq_factor)
                            / (high_freq_factor - low_freq_factor);
                        (1.0 - smooth) * f / factor + smooth * f
                    }
                })
                .collect()
        }
    }
}

impl Context {
    /// For a right-padded batch.
    pub fn new(cfg: &LlamaConfig, batch: &Batch) -> Result<Context, KernelError> {
        let (b, t) = (batch.len(), batch.seq_len());
        let freqs = inv_freq(cfg);
        let half = freqs.len();
        let mut cos = Vec::with_capacity(t * half);
        let mut sin = Vec::with_capacity(t * half);
        for pos in 0..t {
            for f in &freqs {
                let a = pos as f64 * f;
                cos.push(a.cos() as f32);
                sin.push(a.sin() as f32);
            }
        }
        let window = cfg.sliding_window.unwrap_or(usize::MAX);
        let mut mask = Vec::with_capacity(b * t * t);
        for m in &batch.mask {
            for i in 0..t {
                for (j, &real) in m.iter().enumerate() {
                    let visible = j <= i && i - j < window && real == 1;
                    mask.push(if visible { 0.0 } else { f32::MIN });
                }
            }
        }
        Ok(Context {
            cos: Tensor::from_vec(cos, (t, half), &Device::Cpu).map_err(ce)?,
            sin: Tensor::from_vec(sin, (t, half), &Device::Cpu).map_err(ce)?,
            mask: Tensor::from_vec(mask, (b, 1, t, t), &Device::Cpu).map_err(ce)?,
            rows: real_rows(&batch.mask)?,
        })
    }
}

/// A decoder with its weights.
#[derive(Debug, Clone)]
pub struct Llama {
    pub config: LlamaConfig,
    embed: Tensor,
    pub layers: Vec<LlamaLayer>,
    norm: RmsNorm,
    lm_head: Linear,
}

impl Llama {
    pub fn load(cfg: &LlamaConfig, src: &dyn super::WeightSource) -> Result<Llama, KernelError> {
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| LlamaLayer::load(cfg, src, i))
            .collect::<Result<Vec<_>, _>>()?;
        let (embed, norm) = Self::load_ends(cfg, src)?;
        let lm_head = Self::load_head(cfg, src, &embed)?;
        Ok(Llama {
            config: cfg.clone(),
            embed,
            layers,
            norm,
            lm_head,
        })
    }

    /// The embedding table and the final norm.
    pub fn load_ends(
        cfg: &LlamaConfig,
        src: &dyn super::WeightSource,
    ) -> Result<(Tensor, RmsNorm), KernelError> {
        Ok((
            load(
                src,
                "model.embed_tokens.weight",
                &[cfg.vocab_size, cfg.hidden_size],
            )?,
            RmsNorm::load(src, "model.norm.weight", cfg.hidden_size, cfg.rms_norm_eps)?,
        ))
    }

    /// `lm_head`, or the embeddings when tied (or when the checkpoint leaves it out).
    pub fn load_head(
        cfg: &LlamaConfig,
        src: &dyn super::WeightSource,
        embed: &Tensor,
    ) -> Result<Linear, KernelError> {
        if cfg.tie_word_embeddings || !src.contains("lm_head.weight") {
            return Ok(Linear {
                name: "model.embed_tokens.weight".into(),
                weight: embed.clone(),
                bias: None,
            });
        }
        Linear::load(src, "lm_head", cfg.vocab_size, cfg.hidden_size, false)
    }

    /// Checks a batch against the vocabulary and position count.
    pub fn check(cfg: &LlamaConfig, batch: &Batch) -> Result<(), KernelError> {
        batch.check(cfg.max_position_embeddings, cfg.vocab_size)
    }

    /// `(batch, seq, hidden)` token embeddings.
    pub fn embed(&self, batch: &Batch) -> Result<Tensor, KernelError> {
        embed_tokens(&self.config, &self.embed, batch)
    }

    /// Final norm and head: `(batch, seq, vocab)` logits.
    pub fn head(&self, hidden: &Tensor) -> Result<Tensor, KernelError> {
        self.lm_head
            .forward(&self.norm.forward(hidden)?, None, &mut super::NoObserver)
    }

    /// All blocks; the last hidden state `(batch, seq, hidden)` before the final norm.
    pub fn hidden(&self, batch: &Batch, obs: &mut dyn Observer) -> Result<Tensor, KernelError> {
        let ctx = Context::new(&self.config, batch)?;
        let mut x = self.embed(batch)?;
        for layer in &self.layers {
            x = layer.forward(&self.config, &x, &ctx, obs)?;
        }
        Ok(x)
    }

    /// Logits at every position: `(batch, seq, vocab)`.
    pub fn forward(&self, batch: &Batch, obs: &mut dyn Observer) -> Result<Tensor, KernelError> {
        self.head(&self.hidden(batch, obs)?)
    }
}

/// Token embeddings of a batch from an embedding table.
pub fn embed_tokens(
    cfg: &LlamaConfig,
    table: &Tensor,
    batch: &Batch,
) -> Result<Tensor, KernelError> {
    Llama::check(cfg, batch)?;
    let (b, t) = (batch.len(), batch.seq_len());
    let ids = Batch::tensor(&batch.ids)?.flatten_all().map_err(ce)?;
    table
        .embedding(&ids)
        .and_then(|x| x.reshape((b, t, cfg.hidden_size)))
        .map_err(ce)
}

//! Transformer forward passes on CPU with candle: BERT-family encoders ([`bert`]) and
//! Llama-family decoders ([`llama`]), read from a Hugging Face `config.json` ([`config`]).
//!
//! The blocks are written here on candle's tensor ops (matmul, softmax, layer/RMS norm, rope)
//! rather than taken from `candle-transformers`, because compression needs what a model
//! library hides: every `Linear`'s input ([`Observer`], for GPTQ Hessians and Wanda norms),
//! the hidden states between blocks (so calibration runs block by block, later blocks seeing
//! the quantized outputs of earlier ones), and logits at every position (perplexity).
//!
//! Weights come through [`WeightSource`] as f32 values by their checkpoint names; the caller
//! (which owns I/O) decodes dtypes and compressed-tensors entries. All math is f32.
pub mod bert;
pub mod calibrate;
pub mod config;
pub mod llama;
pub mod metrics;

pub use candle_core::{DType, Device, Tensor};
pub use config::{Architecture, BertConfig, LlamaConfig, ModelConfig};

use super::KernelError;

/// candle's errors are shape or numeric failures of a kernel.
pub(crate) fn ce(e: candle_core::Error) -> KernelError {
    KernelError::Shape(e.to_string())
}

/// A tensor's f32 values in row-major order and its shape.
pub type Values = (Vec<f32>, Vec<usize>);

/// Where a model's weights come from.
pub trait WeightSource {
    /// The tensor `name` as f32 values in row-major order with its shape; `None` when the
    /// checkpoint has no such tensor.
    fn get(&self, name: &str) -> Result<Option<Values>, KernelError>;

    /// Whether the checkpoint has `name` (without decoding it).
    fn contains(&self, name: &str) -> bool;
}

/// Reads a tensor that must exist and have `shape`.
pub(crate) fn load(
    src: &dyn WeightSource,
    name: &str,
    shape: &[usize],
) -> Result<Tensor, KernelError> {
    let (values, got) = src
        .get(name)?
        .ok_or_else(|| KernelError::Shape(format!("missing tensor {name}")))?;
    if got != shape {
        return Err(KernelError::Shape(format!(
            "{name} has shape {got:?}, the config implies {shape:?}"
        )));
    }
    Tensor::from_vec(values, shape, &Device::Cpu).map_err(ce)
}

/// The first of `names` that the checkpoint has (old BERT checkpoints call LayerNorm's
/// parameters `gamma`/`beta`).
pub(crate) fn first_present(src: &dyn WeightSource, names: [String; 2]) -> String {
    let [a, b] = names;
    if !src.contains(&a) && src.contains(&b) {
        b
    } else {
        a
    }
}

/// Sees the input of every `Linear` during a forward pass, by the Linear's weight name.
pub trait Observer {
    /// `input` is `(tokens, in_features)`: every position of the batch, padding excluded
    /// when the pass has an attention mask.
    fn linear_input(&mut self, weight: &str, input: &Tensor) -> Result<(), KernelError>;

    /// Whether the observer looks at inputs at all (a plain forward pass does not, and skips
    /// gathering the unpadded rows).
    fn observes(&self) -> bool {
        true
    }
}

/// An observer that looks at nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    fn linear_input(&mut self, _: &str, _: &Tensor) -> Result<(), KernelError> {
        Ok(())
    }

    fn observes(&self) -> bool {
        false
    }
}

/// A dense layer `y = x Wᵀ + b` with its checkpoint name (`….weight`).
#[derive(Debug, Clone)]
pub struct Linear {
    /// Name of the weight tensor in the checkpoint.
    pub name: String,
    /// `(out_features, in_features)`.
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// Loads `{prefix}.weight` (`out × in`) and, when `bias` is true or the checkpoint has
    /// it, `{prefix}.bias`.
    pub fn load(
        src: &dyn WeightSource,
        prefix: &str,
        out_features: usize,
        in_features: usize,
        bias: bool,
    ) -> Result<Linear, KernelError> {
        let name = format!("{prefix}.weight");
        let weight = load(src, &name, &[out_features, in_features])?;
        let bias_name = format!("{prefix}.bias");
        let bias = if bias || src.contains(&bias_name) {
            Some(load(src, &bias_name, &[out_features])?)
        } else {
            None
        };
        Ok(Linear { name, weight, bias })
    }

    /// `x` is `(…, in)`; the observer sees `x` flattened to rows (only `rows` of them when
    /// given: the unpadded positions).
    pub fn forward(
        &self,
        x: &Tensor,
        rows: Option<&Tensor>,
        obs: &mut dyn Observer,
    ) -> Result<Tensor, KernelError> {
        let dims = x.dims().to_vec();
        let in_features = *dims.last().expect("a tensor with dimensions");
        let flat = x.reshape(((), in_features)).map_err(ce)?;
        if obs.observes() {
            match rows {
                Some(idx) => {
                    obs.linear_input(&self.name, &flat.index_select(idx, 0).map_err(ce)?)?
                }
                None => obs.linear_input(&self.name, &flat)?,
            }
        }
        let mut y = flat.matmul(&self.weight.t().map_err(ce)?).map_err(ce)?;
        if let Some(b) = &self.bias {
            y = y.broadcast_add(b).map_err(ce)?;
        }
        let mut out_dims = dims;
        *out_dims.last_mut().unwrap() = self.weight.dims()[0];
        y.reshape(out_dims).map_err(ce)
    }

    /// Replaces the weight (same shape), e.g. with its quantized-dequantized values.
    pub fn set_weight(&mut self, values: Vec<f32>) -> Result<(), KernelError> {
        self.weight = Tensor::from_vec(values, self.weight.dims(), &Device::Cpu).map_err(ce)?;
        Ok(())
    }
}

/// Row indices of the real (unpadded) positions of a `(batch, seq)` 0/1 mask, flattened.
pub(crate) fn real_rows(mask: &[Vec<u32>]) -> Result<Option<Tensor>, KernelError> {
    if mask.iter().all(|m| m.iter().all(|&v| v == 1)) {
        return Ok(None);
    }
    let t = mask.first().map_or(0, Vec::len);
    let idx: Vec<u32> = mask
        .iter()
        .enumerate()
        .flat_map(|(b, m)| {
            m.iter()
                .enumerate()
                .filter(|(_, &v)| v == 1)
                .map(move |(i, _)| (b * t + i) as u32)
        })
        .collect();
    let n = idx.len();
    Ok(Some(Tensor::from_vec(idx, n, &Device::Cpu).map_err(ce)?))
}

/// A batch of token sequences, right-padded to one length.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `(batch, seq)` token ids.
    pub ids: Vec<Vec<u32>>,
    /// `(batch, seq)` 1 for real tokens, 0 for padding.
    pub mask: Vec<Vec<u32>>,
    /// `(batch, seq)` segment ids (BERT sentence pairs); zeros when absent.
    pub type_ids: Vec<Vec<u32>>,
}

impl Batch {
    /// Pads `seqs` (ids, type ids) on the right with `pad_id`.
    pub fn pad(seqs: &[(Vec<u32>, Vec<u32>)], pad_id: u32) -> Batch {
        let t = seqs.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
        let mut batch = Batch {
            ids: Vec::with_capacity(seqs.len()),
            mask: Vec::with_capacity(seqs.len()),
            type_ids: Vec::with_capacity(seqs.len()),
        };
        for (ids, types) in seqs {
            let n = ids.len();
            let mut i = ids.clone();
            i.resize(t, pad_id);
            let mut m = vec![1u32; n];
            m.resize(t, 0);
            let mut ty = types.clone();
            ty.resize(t, 0);
            batch.ids.push(i);
            batch.mask.push(m);
            batch.type_ids.push(ty);
        }
        batch
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn seq_len(&self) -> usize {
        self.ids.first().map_or(0, Vec::len)
    }

    /// Real tokens in the batch.
    pub fn tokens(&self) -> usize {
        self.mask.iter().flatten().filter(|&&m| m == 1).count()
    }

    /// Refuses a batch longer than `max_positions` or with ids outside `vocab_size`.
    pub(crate) fn check(&self, max_positions: usize, vocab_size: usize) -> Result<(), KernelError> {
        if self.seq_len() > max_positions {
            return Err(KernelError::invalid(
                "max_length",
                format!(
                    "{} tokens exceed the model's {max_positions} positions",
                    self.seq_len()
                ),
            ));
        }
        if let Some(&bad) = self
            .ids
            .iter()
            .flatten()
            .find(|&&i| i as usize >= vocab_size)
        {
            return Err(KernelError::invalid(
                "tokenizer",
                format!("token id {bad} is outside the model's vocabulary of {vocab_size}"),
            ));
        }
        Ok(())
    }

    pub(crate) fn tensor(rows: &[Vec<u32>]) -> Result<Tensor, KernelError> {
        let b = rows.len();
        let t = rows.first().map_or(0, Vec::len);
        let flat: Vec<u32> = rows.iter().flatten().copied().collect();
        Tensor::from_vec(flat, (b, t), &Device::Cpu).map_err(ce)
    }
}

/// Scaled dot-product attention of `(b, h, t, d)` queries over `(b, h, s, d)` keys and
/// values, with an additive mask broadcastable to `(b, h, t, s)`.
pub(crate) fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
) -> Result<Tensor, KernelError> {
    let d = q.dims()[3] as f64;
    let mut scores = (q
        .contiguous()
        .map_err(ce)?
        .matmul(&k.t().map_err(ce)?.contiguous().map_err(ce)?)
        .map_err(ce)?
        * (1.0 / d.sqrt()))
    .map_err(ce)?;
    if let Some(m) = mask {
        scores = scores.broadcast_add(m).map_err(ce)?;
    }
    let p = candle_nn::ops::softmax_last_dim(&scores).map_err(ce)?;
    p.matmul(&v.contiguous().map_err(ce)?).map_err(ce)
}

/// Rows of `x` as plain vectors (for results and tests).
pub fn to_rows(x: &Tensor) -> Result<Vec<Vec<f32>>, KernelError> {
    x.to_vec2::<f32>().map_err(ce)
}

/// Elementwise activation of a feed-forward layer (`hidden_act`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// erf GELU (`gelu`).
    Gelu,
    /// tanh approximation (`gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`).
    GeluTanh,
    Relu,
    Silu,
}

impl Act {
    pub fn parse(name: &str) -> Option<Act> {
        Some(match name {
            "gelu" => Act::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Act::GeluTanh,
            "relu" => Act::Relu,
            "silu" | "swish" => Act::Silu,
            _ => return None,
        })
    }

    pub fn apply(self, x: &Tensor) -> Result<Tensor, KernelError> {
        match self {
            Act::Gelu => x.gelu_erf(),
            Act::GeluTanh => x.gelu(),
            Act::Relu => x.relu(),
            Act::Silu => x.silu(),
        }
        .map_err(ce)
    }
}

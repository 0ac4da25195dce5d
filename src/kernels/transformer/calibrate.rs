//! Block-by-block passes over calibration batches, for data-aware compression (GPTQ Hessians,
//! Wanda input norms): the embeddings of every batch are computed once, then each block is
//! loaded alone, run once to collect the inputs of its Linears, handed to an editor that may
//! change its weights (quantize, prune), and run again so the next block sees the edited
//! block's outputs. Memory beyond the weight source is one block's weights, the statistics of
//! its Linears and the hidden states of the calibration batches.
use std::collections::HashMap;

use candle_core::{DType, Tensor};
use ndarray::{Array1, Array2};

use super::bert::{base_prefix, Bert, BertLayer, Embeddings};
use super::llama::{embed_tokens, Context, Llama, LlamaLayer};
use super::{ce, Batch, Linear, ModelConfig, NoObserver, Observer, WeightSource};
use crate::kernels::KernelError;

/// Which statistics of the Linear inputs a pass collects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collect {
    /// `Σ xᵀx` (GPTQ's Hessian).
    pub hessian: bool,
    /// `Σ x_j²` per input feature (Wanda's norms).
    pub norms: bool,
}

/// What the calibration inputs of one Linear add up to.
#[derive(Debug, Clone, Default)]
pub struct InputStats {
    /// Input rows seen (tokens, padding excluded).
    pub rows: usize,
    xtx: Option<Tensor>,
    sq: Option<Tensor>,
}

impl InputStats {
    /// GPTQ's `H = 2·XᵀX / n` (`[in, in]`), when the pass collected it.
    pub fn hessian(&self) -> Result<Option<Array2<f32>>, KernelError> {
        let Some(xtx) = &self.xtx else {
            return Ok(None);
        };
        let n = xtx.dims()[0];
        let scale = 2.0 / self.rows.max(1) as f64;
        let values = (xtx * scale)
            .and_then(|h| h.flatten_all())
            .and_then(|h| h.to_vec1::<f32>())
            .map_err(ce)?;
        Array2::from_shape_vec((n, n), values)
            .map(Some)
            .map_err(|e| KernelError::Shape(e.to_string()))
    }

    /// Wanda's `‖X_j‖₂` per input feature, when the pass collected it.
    pub fn norms(&self) -> Result<Option<Array1<f32>>, KernelError> {
        let Some(sq) = &self.sq else {
            return Ok(None);
        };
        let v = sq.to_vec1::<f64>().map_err(ce)?;
        Ok(Some(v.into_iter().map(|s| s.sqrt() as f32).collect()))
    }
}

/// Adds every Linear input to the statistics of its weight name.
struct StatsObserver<'a> {
    collect: Collect,
    stats: &'a mut HashMap<String, InputStats>,
}

impl Observer for StatsObserver<'_> {
    fn linear_input(&mut self, weight: &str, input: &Tensor) -> Result<(), KernelError> {
        let entry = self.stats.entry(weight.to_string()).or_default();
        entry.rows += input.dims()[0];
        let add = |acc: Option<Tensor>, x: Tensor| match acc {
            Some(a) => (a + x).map_err(ce),
            None => Ok(x),
        };
        if self.collect.hessian {
            let xt = input.t().and_then(|t| t.contiguous()).map_err(ce)?;
            let g = xt.matmul(input).map_err(ce)?;
            entry.xtx = Some(add(entry.xtx.take(), g)?);
        }
        if self.collect.norms {
            let sq = input
                .to_dtype(DType::F64)
                .and_then(|x| x.sqr())
                .and_then(|x| x.sum(0))
                .map_err(ce)?;
            entry.sq = Some(add(entry.sq.take(), sq)?);
        }
        Ok(())
    }
}

/// One block's Linears, their input statistics by weight name, and the block's index.
pub type Editor<'a> = dyn FnMut(usize, &mut [&mut Linear], &HashMap<String, InputStats>) -> Result<(), KernelError>
    + 'a;

/// Runs the blocks of `config`'s model from `src` over `batches` in order, calling `edit`
/// for each block between collecting its inputs and computing its outputs. `progress(done,
/// total)` is called before each block and returns false to stop; the result is the last
/// block's outputs per batch, or `None` when stopped.
pub fn sequential(
    config: &ModelConfig,
    src: &dyn WeightSource,
    batches: &[Batch],
    collect: Collect,
    edit: &mut Editor<'_>,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<Vec<Tensor>>, KernelError> {
    match config {
        ModelConfig::Decoder(cfg) => {
            let contexts = batches
                .iter()
                .map(|b| Context::new(cfg, b))
                .collect::<Result<Vec<_>, _>>()?;
            let mut xs = {
                // The embedding table is needed once: drop it before the blocks.
                let (table, _) = Llama::load_ends(cfg, src)?;
                batches
                    .iter()
                    .map(|b| embed_tokens(cfg, &table, b))
                    .collect::<Result<Vec<_>, _>>()?
            };
            let n = cfg.num_hidden_layers;
            for i in 0..n {
                if !progress(i, n) {
                    return Ok(None);
                }
                let mut layer = LlamaLayer::load(cfg, src, i)?;
                let mut stats = HashMap::new();
                let mut obs = StatsObserver {
                    collect,
                    stats: &mut stats,
                };
                for (x, ctx) in xs.iter().zip(&contexts) {
                    layer.forward(cfg, x, ctx, &mut obs)?;
                }
                edit(i, &mut layer.linears_mut(), &stats)?;
                for (x, ctx) in xs.iter_mut().zip(&contexts) {
                    *x = layer.forward(cfg, x, ctx, &mut NoObserver)?;
                }
            }
            Ok(progress(n, n).then_some(xs))
        }
        ModelConfig::Encoder(cfg) => {
            let prefix = base_prefix(src, cfg);
            let masks = batches
                .iter()
                .map(Bert::mask)
                .collect::<Result<Vec<_>, _>>()?;
            let mut xs = {
                let embeddings = Embeddings::load(cfg, src, &prefix)?;
                batches
                    .iter()
                    .map(|b| embeddings.forward(b))
                    .collect::<Result<Vec<_>, _>>()?
            };
            let n = cfg.num_hidden_layers;
            for i in 0..n {
                if !progress(i, n) {
                    return Ok(None);
                }
                let mut layer = BertLayer::load(cfg, src, &prefix, i)?;
                let mut stats = HashMap::new();
                let mut obs = StatsObserver {
                    collect,
                    stats: &mut stats,
                };
                for (x, (mask, rows)) in xs.iter().zip(&masks) {
                    layer.forward(cfg, x, mask.as_ref(), rows.as_ref(), &mut obs)?;
                }
                edit(i, &mut layer.linears_mut(), &stats)?;
                for (x, (mask, rows)) in xs.iter_mut().zip(&masks) {
                    *x = layer.forward(cfg, x, mask.as_ref(), rows.as_ref(), &mut NoObserver)?;
                }
            }
            Ok(progress(n, n).then_some(xs))
        }
    }
}

/// A Linear's weight as an `[out, in]` matrix.
pub fn weight_matrix(linear: &Linear) -> Result<Array2<f32>, KernelError> {
    let (rows, cols) = linear.weight.dims2().map_err(ce)?;
    let values = linear
        .weight
        .flatten_all()
        .and_then(|w| w.to_vec1::<f32>())
        .map_err(ce)?;
    Array2::from_shape_vec((rows, cols), values).map_err(|e| KernelError::Shape(e.to_string()))
}

/// `‖(W − Ŵ) X‖² / ‖W X‖²` from the Hessian `H ∝ XᵀX`: the relative error an edited weight
/// `Ŵ` adds to the layer's outputs on the calibration inputs.
pub fn relative_output_error(w: &Array2<f32>, edited: &Array2<f32>, hessian: &Array2<f32>) -> f64 {
    let quad = |m: &Array2<f32>| -> f64 {
        let mh = m.dot(hessian);
        mh.iter()
            .zip(m.iter())
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum()
    };
    let signal = quad(w);
    let delta = w - edited;
    if signal <= 0.0 {
        return 0.0;
    }
    quad(&delta) / signal
}

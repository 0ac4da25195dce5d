//! The forward and backward pass of one mini-batch over preallocated buffers: batch-mean
//! weight and bias gradients (with dropout) and global-norm gradient clipping.

use ndarray::Array2;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::targets::TargetRows;
use crate::kernels::nn::loss::Loss;
use crate::kernels::nn::matmul::{matmul, no_epilogue, transpose_into, StridedMat};
use crate::kernels::nn::model::Mlp;
use crate::kernels::KernelError;

/// Per-call buffers, sized once for the largest batch.
pub(super) struct Workspace {
    /// Batch capacity = leading dimension of every feature-major buffer.
    cap: usize,
    /// Gathered input rows, batch-major `[cap × n_in]`.
    xb: Vec<f32>,
    /// `acts[0]` = input, `acts[l+1]` = output of layer `l`; feature-major `[width × cap]`.
    acts: Vec<Vec<f32>>,
    /// Pre-activations of layers whose derivative needs them (gelu).
    pre: Vec<Option<Vec<f32>>>,
    /// Dropout scale per hidden output (0 or 1/(1−p)), when dropout is on.
    masks: Vec<Option<Vec<f32>>>,
    /// Batch-major copy of a layer input for the weight gradient.
    hb: Vec<f32>,
    /// Gradient w.r.t. the current layer's pre-activation, and the next one down.
    dz: Vec<f32>,
    dz_next: Vec<f32>,
    /// One sample's outputs / pre-activations / gradient during the loss.
    h_col: Vec<f32>,
    z_col: Vec<f32>,
    g_col: Vec<f32>,
    /// Weight and bias gradients per layer.
    pub(super) grad_w: Vec<Vec<f32>>,
    pub(super) grad_b: Vec<Vec<f32>>,
}

/// The rows of one mini-batch: row-major features, targets, and the row indices to take.
#[derive(Clone, Copy)]
pub(super) struct Batch<'a> {
    pub x: &'a [f32],
    pub targets: &'a TargetRows<'a>,
    pub idx: &'a [usize],
}

impl Workspace {
    pub(super) fn new(model: &Mlp, cap: usize, dropout: bool) -> Self {
        let sizes = model.layer_sizes();
        let width = sizes.iter().copied().max().unwrap_or(0);
        let n_layers = model.layers.len();
        let n_out = model.n_outputs();
        Workspace {
            cap,
            xb: vec![0.0; cap * model.n_inputs()],
            acts: sizes.iter().map(|&s| vec![0.0; s * cap]).collect(),
            pre: model
                .layers
                .iter()
                .map(|l| {
                    (!l.activation.derivative_from_output()).then(|| vec![0.0; l.n_outputs() * cap])
                })
                .collect(),
            masks: model
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| (dropout && i + 1 < n_layers).then(|| vec![0.0; l.n_outputs() * cap]))
                .collect(),
            hb: vec![0.0; cap * width],
            dz: vec![0.0; width * cap],
            dz_next: vec![0.0; width * cap],
            h_col: vec![0.0; n_out],
            z_col: vec![0.0; n_out],
            g_col: vec![0.0; n_out],
            grad_w: model
                .layers
                .iter()
                .map(|l| vec![0.0; l.weight.len()])
                .collect(),
            grad_b: model
                .layers
                .iter()
                .map(|l| vec![0.0; l.bias.len()])
                .collect(),
        }
    }

    /// Forward, loss and backward for the rows `idx`; fills `grad_w`/`grad_b` with the
    /// batch-mean gradient and returns the summed per-sample loss.
    pub(super) fn forward_backward(
        &mut self,
        model: &Mlp,
        fwd: &[Option<Array2<f32>>],
        batch: Batch<'_>,
        loss: Loss,
        dropout: Option<(f32, &mut ChaCha8Rng)>,
        parallel: bool,
    ) -> Result<f64, KernelError> {
        let Batch { x, targets, idx } = batch;
        let bs = idx.len();
        let cap = self.cap;
        let n_in = model.n_inputs();
        let n_layers = model.layers.len();
        for (b, &r) in idx.iter().enumerate() {
            let src = x
                .get(r * n_in..(r + 1) * n_in)
                .ok_or_else(|| KernelError::Shape(format!("row {r} out of range")))?;
            self.xb[b * n_in..(b + 1) * n_in].copy_from_slice(src);
        }
        transpose_into(bs, n_in, &self.xb, n_in, &mut self.acts[0], cap)?;

        if let Some((p, rng)) = dropout {
            let scale = 1.0 / (1.0 - p);
            for mask in self.masks.iter_mut().flatten() {
                for row in mask.chunks_mut(cap) {
                    for m in &mut row[..bs] {
                        *m = if rng.random::<f32>() < p { 0.0 } else { scale };
                    }
                }
            }
        }

        for (l, layer) in model.layers.iter().enumerate() {
            let w = weight_slice(fwd.get(l).and_then(Option::as_ref).unwrap_or(&layer.weight))?;
            let bias = layer.bias.as_slice().unwrap_or(&[]);
            let (n_o, n_i) = layer.weight.dim();
            let (inputs, outputs) = self.acts.split_at_mut(l + 1);
            let input = &inputs[l];
            let output = &mut outputs[0];
            let mask = self.masks[l].as_deref();
            let act = layer.activation;
            if let Some(pre) = self.pre[l].as_mut() {
                let add_bias = |i: usize, _j: usize, v: &mut [f32]| {
                    let b = bias.get(i).copied().unwrap_or(0.0);
                    v.iter_mut().for_each(|x| *x += b);
                };
                let a = StridedMat::row_major(w, n_i);
                matmul(n_o, bs, n_i, a, input, cap, pre, cap, &add_bias, parallel)?;
                for (i, (zr, hr)) in pre.chunks(cap).zip(output.chunks_mut(cap)).enumerate() {
                    for (h, &z) in hr[..bs].iter_mut().zip(&zr[..bs]) {
                        *h = act.apply(z);
                    }
                    if let Some(m) = mask {
                        hr[..bs]
                            .iter_mut()
                            .zip(&m[i * cap..i * cap + bs])
                            .for_each(|(h, s)| *h *= s);
                    }
                }
            } else {
                let epilogue = |i: usize, j: usize, v: &mut [f32]| {
                    let b = bias.get(i).copied().unwrap_or(0.0);
                    v.iter_mut().for_each(|x| *x += b);
                    act.apply_slice(v);
                    if let Some(m) = mask.and_then(|m| m.get(i * cap + j..i * cap + j + v.len())) {
                        v.iter_mut().zip(m).for_each(|(x, s)| *x *= s);
                    }
                };
                let a = StridedMat::row_major(w, n_i);
                matmul(
                    n_o, bs, n_i, a, input, cap, output, cap, &epilogue, parallel,
                )?;
            }
        }

        // Loss and ∂loss/∂z of the output layer, scaled to the batch mean.
        let last = n_layers - 1;
        let out_act = model.layers[last].activation;
        let n_out = model.n_outputs();
        let inv_bs = 1.0 / bs as f32;
        let mut total = 0.0f64;
        {
            let h = &self.acts[n_layers];
            let z = self.pre[last].as_deref().unwrap_or(h);
            for (b, &r) in idx.iter().enumerate() {
                for j in 0..n_out {
                    self.h_col[j] = h[j * cap + b];
                    self.z_col[j] = z[j * cap + b];
                }
                total += loss.sample(
                    out_act,
                    &self.z_col,
                    &self.h_col,
                    targets.row(r),
                    Some(&mut self.g_col),
                );
                for j in 0..n_out {
                    self.dz[j * cap + b] = self.g_col[j] * inv_bs;
                }
            }
        }

        for l in (0..n_layers).rev() {
            let layer = &model.layers[l];
            let (n_o, n_i) = layer.weight.dim();
            for (db, row) in self.grad_b[l].iter_mut().zip(self.dz.chunks(cap)) {
                *db = row[..bs].iter().sum();
            }
            let hb: &[f32] = if l == 0 {
                &self.xb
            } else {
                transpose_into(n_i, bs, &self.acts[l], cap, &mut self.hb, n_i)?;
                &self.hb
            };
            let dz = StridedMat::row_major(&self.dz, cap);
            matmul(
                n_o,
                n_i,
                bs,
                dz,
                hb,
                n_i,
                &mut self.grad_w[l],
                n_i,
                &no_epilogue,
                parallel,
            )?;
            if l == 0 {
                break;
            }
            // ∂loss/∂z of layer l−1 = (Wᵀ·dz) ⊙ dropout mask ⊙ f'(z).
            let w = weight_slice(fwd.get(l).and_then(Option::as_ref).unwrap_or(&layer.weight))?;
            let prev = model.layers[l - 1].activation;
            let h_prev = &self.acts[l];
            let z_prev = self.pre[l - 1].as_deref();
            let mask = self.masks[l - 1].as_deref();
            let epilogue = |i: usize, j: usize, g: &mut [f32]| {
                let range = i * cap + j..i * cap + j + g.len();
                let Some(h) = h_prev.get(range.clone()) else {
                    return;
                };
                let z = z_prev.and_then(|z| z.get(range.clone())).unwrap_or(h);
                match mask.and_then(|m| m.get(range.clone())) {
                    None => prev.mul_derivative_slice(g, z, h),
                    Some(m) => {
                        for (k, gv) in g.iter_mut().enumerate() {
                            let s = m[k];
                            *gv = if s == 0.0 {
                                0.0
                            } else {
                                *gv * s * prev.derivative(z[k], h[k] / s)
                            };
                        }
                    }
                }
            };
            let wt = StridedMat::transposed(w, n_i);
            matmul(
                n_i,
                bs,
                n_o,
                wt,
                &self.dz,
                cap,
                &mut self.dz_next,
                cap,
                &epilogue,
                parallel,
            )?;
            std::mem::swap(&mut self.dz, &mut self.dz_next);
        }
        Ok(total)
    }

    pub(super) fn clip_gradients(&mut self, max_norm: f32) {
        let sq: f64 = self
            .grad_w
            .iter()
            .chain(&self.grad_b)
            .flat_map(|g| g.iter())
            .map(|&v| (v as f64) * (v as f64))
            .sum();
        let norm = sq.sqrt();
        if norm > max_norm as f64 {
            // PyTorch's clip_grad_norm_ factor.
            let scale = (max_norm as f64 / (norm + 1e-6)) as f32;
            self.grad_w
                .iter_mut()
                .chain(self.grad_b.iter_mut())
                .for_each(|g| {
                    g.iter_mut().for_each(|v| *v *= scale);
                });
        }
    }
}

fn weight_slice(w: &Array2<f32>) -> Result<&[f32], KernelError> {
    w.as_slice()
        .ok_or_else(|| KernelError::Shape("weight is not in standard layout".into()))
}

#[cfg(test)]
mod tests {
    use super::super::gaussian;
    use super::super::targets::{contiguous_values, Targets};
    use super::*;
    use crate::kernels::nn::loss::HuberLoss;
    use crate::kernels::nn::{Activation, Init};
    use rand::SeedableRng;

    /// Batch loss (mean) through the training forward pass, with dropout masks drawn from a
    /// clone of `rng` so every evaluation sees the same masks.
    fn batch_loss(
        model: &Mlp,
        x: &Array2<f32>,
        y: &Targets,
        loss: Loss,
        dropout: Option<(f32, &ChaCha8Rng)>,
    ) -> (f64, Workspace) {
        let n = x.nrows();
        let mut ws = Workspace::new(model, n, dropout.is_some());
        let values = contiguous_values(y);
        let rows = TargetRows::new(y, &values).unwrap();
        let idx: Vec<usize> = (0..n).collect();
        let fwd = vec![None; model.layers.len()];
        let mut rng = dropout.map(|(p, r)| (p, r.clone()));
        let drop = rng.as_mut().map(|(p, r)| (*p, r));
        let total = ws
            .forward_backward(
                model,
                &fwd,
                Batch {
                    x: x.as_slice().unwrap(),
                    targets: &rows,
                    idx: &idx,
                },
                loss,
                drop,
                false,
            )
            .unwrap();
        (total / n as f64, ws)
    }

    /// Compares every weight and bias gradient with central differences of the batch loss.
    /// f32 forward passes with step 1e-3 give ~3e-5 rounding noise (ε·loss/2h) and O(h²)
    /// truncation; the tolerance 1e-3 + 2 % leaves room for both but not for a wrong term.
    /// The small step also keeps relu kinks from being crossed at these fixed seeds.
    fn check_gradients(
        model: &Mlp,
        x: &Array2<f32>,
        y: &Targets,
        loss: Loss,
        dropout: Option<(f32, &ChaCha8Rng)>,
    ) {
        let (_, ws) = batch_loss(model, x, y, loss, dropout);
        let h = 1e-3f32;
        for l in 0..model.layers.len() {
            for k in 0..model.layers[l].weight.len() + model.layers[l].bias.len() {
                let mut plus = model.clone();
                let mut minus = model.clone();
                let n_w = model.layers[l].weight.len();
                let analytic = if k < n_w {
                    plus.layers[l].weight.as_slice_mut().unwrap()[k] += h;
                    minus.layers[l].weight.as_slice_mut().unwrap()[k] -= h;
                    ws.grad_w[l][k]
                } else {
                    plus.layers[l].bias[k - n_w] += h;
                    minus.layers[l].bias[k - n_w] -= h;
                    ws.grad_b[l][k - n_w]
                };
                let numeric = (batch_loss(&plus, x, y, loss, dropout).0
                    - batch_loss(&minus, x, y, loss, dropout).0)
                    / (2.0 * h as f64);
                let err = (numeric - analytic as f64).abs();
                assert!(
                    err < 1e-3 + 0.02 * numeric.abs(),
                    "{loss:?} hidden {} layer {l} param {k}: numeric {numeric} analytic {analytic}",
                    model.layers[0].activation
                );
            }
        }
    }

    /// Smallest |pre-activation| of any hidden unit over the rows of `x`.
    fn kink_margin(model: &Mlp, x: &Array2<f32>) -> f32 {
        let mut h = x.clone();
        let mut margin = f32::INFINITY;
        for layer in &model.layers[..model.layers.len() - 1] {
            let z = h.dot(&layer.weight.t()) + &layer.bias;
            margin = z.iter().fold(margin, |m, v| m.min(v.abs()));
            h = z.mapv(|v| layer.activation.apply(v));
        }
        margin
    }

    #[test]
    fn gradients_match_finite_differences() {
        let x = gaussian(7, 3, 1);
        let classes = Targets::Classification {
            labels: vec![0, 1, 2, 1, 0, 2, 2],
            n_classes: 3,
        };
        let binary = Targets::Classification {
            labels: vec![0, 1, 1, 0, 1, 0, 1],
            n_classes: 2,
        };
        let values = Targets::Regression(gaussian(7, 2, 2));
        let probs = Targets::Regression(gaussian(7, 2, 3).mapv(|v| 1.0 / (1.0 + (-v).exp())));
        for hidden in Activation::ALL {
            let cases: [(Loss, Activation, usize, &Targets); 6] = [
                (Loss::CrossEntropy, Activation::Identity, 3, &classes),
                (Loss::BinaryCrossEntropy, Activation::Identity, 1, &binary),
                (Loss::BinaryCrossEntropy, Activation::Sigmoid, 2, &probs),
                (Loss::Mse, Activation::Tanh, 2, &values),
                (Loss::Mae, Activation::Identity, 2, &values),
                (
                    Loss::Huber(HuberLoss { delta: 0.7 }),
                    Activation::Gelu,
                    2,
                    &values,
                ),
            ];
            for (loss, out_act, n_out, y) in cases {
                // Pick the first seed whose hidden pre-activations all stay 0.01 away from
                // relu's kink, so a ±1e-3 step cannot cross it.
                let model = (11..200)
                    .map(|seed| {
                        Mlp::new_initialized(
                            &[3, 5, 4, n_out],
                            hidden,
                            out_act,
                            Init::GlorotNormal,
                            seed,
                        )
                        .unwrap()
                    })
                    .find(|m| kink_margin(m, &x) > 0.01)
                    .unwrap();
                check_gradients(&model, &x, y, loss, None);
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences_with_dropout() {
        let x = gaussian(6, 3, 4);
        let y = Targets::Classification {
            labels: vec![0, 1, 2, 1, 0, 2],
            n_classes: 3,
        };
        let rng = ChaCha8Rng::seed_from_u64(5);
        for hidden in [Activation::Tanh, Activation::Gelu] {
            let model = Mlp::new_initialized(
                &[3, 6, 5, 3],
                hidden,
                Activation::Identity,
                Init::GlorotNormal,
                2,
            )
            .unwrap();
            check_gradients(&model, &x, &y, Loss::CrossEntropy, Some((0.4, &rng)));
        }
        // The masks really drop units: some hidden outputs are zeroed.
        let model = Mlp::new_initialized(
            &[3, 6, 5, 3],
            Activation::Tanh,
            Activation::Identity,
            Init::GlorotNormal,
            2,
        )
        .unwrap();
        let (_, ws) = batch_loss(&model, &x, &y, Loss::CrossEntropy, Some((0.4, &rng)));
        assert!(ws.acts[1].iter().filter(|v| **v == 0.0).count() > 5);
    }
}

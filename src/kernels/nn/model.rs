//! The MLP model: dense layers, seeded initialization and batched inference.

use super::activation::Activation;
use super::matmul::{matmul, transpose_into, StridedMat};
use crate::kernels::KernelError;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per inference chunk: each chunk is transposed to feature-major once and pushed
/// through all layers while it is cache-resident; chunks run in parallel.
const INFERENCE_CHUNK: usize = 256;

/// Weight initialization scheme (biases always start at zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// He/Kaiming normal: `N(0, 2/fan_in)`, for relu-like activations.
    HeNormal,
    /// He/Kaiming uniform: `U(±√(6/fan_in))`.
    #[default]
    HeUniform,
    /// Glorot/Xavier normal: `N(0, 2/(fan_in+fan_out))`, for tanh/sigmoid.
    GlorotNormal,
    /// Glorot/Xavier uniform: `U(±√(6/(fan_in+fan_out)))` (sklearn's choice).
    GlorotUniform,
}

/// One fully connected layer: `y = activation(W·x + b)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Weights, shape `[out, in]` (PyTorch `nn.Linear` layout).
    pub weight: Array2<f32>,
    /// Bias, length `out`.
    pub bias: Array1<f32>,
    /// Non-linearity applied to the output.
    pub activation: Activation,
}

impl Dense {
    /// Number of inputs.
    pub fn n_inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.weight.nrows()
    }
}

/// A multi-layer perceptron: dense layers applied in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    /// The layers, input first.
    pub layers: Vec<Dense>,
}

impl Mlp {
    /// Wraps layers after checking that consecutive shapes chain and biases fit.
    pub fn new(layers: Vec<Dense>) -> Result<Mlp, KernelError> {
        let mlp = Mlp { layers };
        mlp.validate()?;
        Ok(mlp)
    }

    /// Builds an MLP with layer widths `sizes` (`[inputs, hidden…, outputs]`), one activation
    /// for hidden layers and one for the output, weights drawn from `init` with `seed`.
    pub fn new_initialized(
        sizes: &[usize],
        hidden_activation: Activation,
        output_activation: Activation,
        init: Init,
        seed: u64,
    ) -> Result<Mlp, KernelError> {
        if sizes.len() < 2 {
            return Err(KernelError::invalid(
                "layer_sizes",
                "need at least inputs and outputs",
            ));
        }
        if let Some(pos) = sizes.iter().position(|&s| s == 0) {
            return Err(KernelError::invalid(
                "layer_sizes",
                format!("size {pos} is zero"),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n_layers = sizes.len() - 1;
        let mut layers = Vec::with_capacity(n_layers);
        for (l, pair) in sizes.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let activation = if l + 1 == n_layers {
                output_activation
            } else {
                hidden_activation
            };
            let weight = init_weight(init, fan_in, fan_out, &mut rng)?;
            layers.push(Dense {
                weight,
                bias: Array1::zeros(fan_out),
                activation,
            });
        }
        Mlp::new(layers)
    }

    /// Checks that the layers chain (`in` of layer l+1 = `out` of layer l) and biases fit.
    pub fn validate(&self) -> Result<(), KernelError> {
        if self.layers.is_empty() {
            return Err(KernelError::Shape("an MLP needs at least one layer".into()));
        }
        for (l, layer) in self.layers.iter().enumerate() {
            if layer.weight.is_empty() {
                return Err(KernelError::Shape(format!("layer {l} has an empty weight")));
            }
            if layer.bias.len() != layer.n_outputs() {
                return Err(KernelError::Shape(format!(
                    "layer {l}: bias has {} entries, weight has {} outputs",
                    layer.bias.len(),
                    layer.n_outputs()
                )));
            }
            if l > 0 && self.layers[l - 1].n_outputs() != layer.n_inputs() {
                return Err(KernelError::Shape(format!(
                    "layer {l} takes {} inputs but layer {} gives {}",
                    layer.n_inputs(),
                    l - 1,
                    self.layers[l - 1].n_outputs()
                )));
            }
        }
        Ok(())
    }

    /// Number of input features.
    pub fn n_inputs(&self) -> usize {
        self.layers.first().map_or(0, Dense::n_inputs)
    }

    /// Number of outputs of the last layer.
    pub fn n_outputs(&self) -> usize {
        self.layers.last().map_or(0, Dense::n_outputs)
    }

    /// Total number of weights and biases.
    pub fn n_params(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weight.len() + l.bias.len())
            .sum()
    }

    /// Layer widths `[inputs, hidden…, outputs]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.n_inputs()];
        sizes.extend(self.layers.iter().map(Dense::n_outputs));
        sizes
    }

    /// Raw outputs (after the last layer's activation; logits when it is identity) for the
    /// rows of `x` (`[n, n_inputs]`). Rows are processed in parallel chunks.
    pub fn forward(&self, x: ArrayView2<f32>) -> Result<Array2<f32>, KernelError> {
        self.validate()?;
        if x.ncols() != self.n_inputs() {
            return Err(KernelError::Shape(format!(
                "input has {} features, the model expects {}",
                x.ncols(),
                self.n_inputs()
            )));
        }
        let n_out = self.n_outputs();
        let mut out = Array2::<f32>::zeros((x.nrows(), n_out));
        if x.nrows() == 0 {
            return Ok(out);
        }
        let x = x.as_standard_layout();
        let x_flat = x
            .as_slice()
            .ok_or_else(|| KernelError::Shape("input is not contiguous".into()))?;
        let n_in = self.n_inputs();
        let out_flat = out
            .as_slice_mut()
            .ok_or_else(|| KernelError::Shape("output is not contiguous".into()))?;
        out_flat
            .par_chunks_mut(INFERENCE_CHUNK * n_out)
            .zip(x_flat.par_chunks(INFERENCE_CHUNK * n_in))
            .try_for_each(|(o, xi)| self.forward_chunk(xi, o))?;
        Ok(out)
    }

    /// Forward pass of up to `INFERENCE_CHUNK` batch-major rows into batch-major `out`.
    fn forward_chunk(&self, x: &[f32], out: &mut [f32]) -> Result<(), KernelError> {
        let n_in = self.n_inputs();
        let rows = x.len() / n_in;
        let width = self.layer_sizes().into_iter().max().unwrap_or(0);
        // Two feature-major ping-pong buffers [width × rows].
        let mut cur = vec![0.0f32; width * rows];
        let mut next = vec![0.0f32; width * rows];
        transpose_into(rows, n_in, x, n_in, &mut cur, rows)?;
        for layer in &self.layers {
            let (n_o, n_i) = layer.weight.dim();
            let w = layer
                .weight
                .as_slice()
                .ok_or_else(|| KernelError::Shape("weight is not in standard layout".into()))?;
            let bias = layer
                .bias
                .as_slice()
                .ok_or_else(|| KernelError::Shape("bias is not contiguous".into()))?;
            let act = layer.activation;
            let epilogue = |i: usize, _j: usize, v: &mut [f32]| {
                let b = bias.get(i).copied().unwrap_or(0.0);
                v.iter_mut().for_each(|x| *x += b);
                act.apply_slice(v);
            };
            matmul(
                n_o,
                rows,
                n_i,
                StridedMat::row_major(w, n_i),
                &cur,
                rows,
                &mut next,
                rows,
                &epilogue,
                false,
            )?;
            std::mem::swap(&mut cur, &mut next);
        }
        transpose_into(self.n_outputs(), rows, &cur, rows, out, self.n_outputs())
    }

    /// A copy whose first layer also standardizes raw inputs: `(x − mean) / std` folded into
    /// the weights and bias. A zero `std` counts as 1 (a constant feature), like sklearn.
    pub fn with_input_standardization(
        &self,
        mean: &[f32],
        std: &[f32],
    ) -> Result<Mlp, KernelError> {
        self.validate()?;
        let n_in = self.n_inputs();
        if mean.len() != n_in || std.len() != n_in {
            return Err(KernelError::Shape(format!(
                "standardization has {} means and {} stds for {n_in} inputs",
                mean.len(),
                std.len()
            )));
        }
        if mean.iter().chain(std).any(|v| !v.is_finite()) {
            return Err(KernelError::invalid(
                "input_std",
                "means and stds must be finite",
            ));
        }
        let mut out = self.clone();
        let first = &mut out.layers[0];
        let inv: Vec<f32> = std
            .iter()
            .map(|&s| if s == 0.0 { 1.0 } else { 1.0 / s })
            .collect();
        for (mut row, b) in first.weight.outer_iter_mut().zip(first.bias.iter_mut()) {
            let mut shift = 0.0f64;
            for ((w, &k), &m) in row.iter_mut().zip(&inv).zip(mean) {
                *w *= k;
                shift += *w as f64 * m as f64;
            }
            *b -= shift as f32;
        }
        Ok(out)
    }

    /// Visits the layers in order with the input each one sees: `visit(l, layer, input)` may
    /// change layer `l` (quantize or prune it) before `input` is carried through it, so every
    /// later layer sees the outputs of the changed ones — the calibration pass of GPTQ and
    /// Wanda. `x` is the first layer's input (already standardized if the model expects it).
    pub fn visit_layer_inputs<E, F>(&mut self, x: ArrayView2<f32>, mut visit: F) -> Result<(), E>
    where
        E: From<KernelError>,
        F: FnMut(usize, &mut Dense, ArrayView2<f32>) -> Result<(), E>,
    {
        self.validate()?;
        let mut h = x.to_owned();
        let n = self.layers.len();
        for (l, layer) in self.layers.iter_mut().enumerate() {
            visit(l, layer, h.view())?;
            if l + 1 < n {
                h = Mlp::new(vec![layer.clone()])?.forward(h.view())?;
            }
        }
        Ok(())
    }

    /// Class probabilities: softmax over the outputs, or for a single output the pair
    /// `[1-p, p]` with `p = sigmoid(logit)`; a sigmoid output layer is taken as probabilities.
    pub fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>, KernelError> {
        let raw = self.forward(x)?;
        let sigmoid_out = self.layers.last().map(|l| l.activation) == Some(Activation::Sigmoid);
        Ok(outputs_to_proba(raw, sigmoid_out))
    }

    /// Predicted class per row: argmax of the outputs (single output: `p ≥ 0.5`).
    pub fn predict_classes(&self, x: ArrayView2<f32>) -> Result<Vec<usize>, KernelError> {
        let proba = self.predict_proba(x)?;
        Ok(proba
            .outer_iter()
            .map(|row| argmax(row.as_slice().unwrap_or(&[])))
            .collect())
    }
}

/// Turns raw outputs into class probabilities (see [`Mlp::predict_proba`]).
pub fn outputs_to_proba(raw: Array2<f32>, sigmoid_output: bool) -> Array2<f32> {
    let n_out = raw.ncols();
    if n_out == 1 {
        let mut p = Array2::zeros((raw.nrows(), 2));
        for (mut row, v) in p.outer_iter_mut().zip(raw.iter()) {
            let pos = if sigmoid_output {
                *v
            } else {
                1.0 / (1.0 + (-v).exp())
            };
            row[0] = 1.0 - pos;
            row[1] = pos;
        }
        return p;
    }
    let mut raw = raw;
    if !sigmoid_output {
        for mut row in raw.axis_iter_mut(Axis(0)) {
            let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            row.mapv_inplace(|v| (v - max).exp());
            let sum = row.sum();
            row.mapv_inplace(|v| v / sum);
        }
    }
    raw
}

/// Index of the largest value (first on ties); 0 for an empty slice.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

fn init_weight(
    init: Init,
    fan_in: usize,
    fan_out: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Array2<f32>, KernelError> {
    let (fi, fo) = (fan_in as f32, fan_out as f32);
    let bad = |e: String| KernelError::invalid("init", e);
    let values: Vec<f32> = match init {
        Init::HeNormal | Init::GlorotNormal => {
            let var = if init == Init::HeNormal {
                2.0 / fi
            } else {
                2.0 / (fi + fo)
            };
            let dist = Normal::new(0.0f32, var.sqrt()).map_err(|e| bad(e.to_string()))?;
            (0..fan_in * fan_out).map(|_| dist.sample(rng)).collect()
        }
        Init::HeUniform | Init::GlorotUniform => {
            let limit = if init == Init::HeUniform {
                (6.0 / fi).sqrt()
            } else {
                (6.0 / (fi + fo)).sqrt()
            };
            let dist = Uniform::new(-limit, limit).map_err(|e| bad(e.to_string()))?;
            (0..fan_in * fan_out).map(|_| dist.sample(rng)).collect()
        }
    };
    Array2::from_shape_vec((fan_out, fan_in), values).map_err(|e| KernelError::Shape(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Reference implementation for tests: row-by-row forward pass in f64.
    pub(crate) fn forward_reference(mlp: &Mlp, x: ArrayView2<f32>) -> Array2<f32> {
        let mut out = Array2::zeros((x.nrows(), mlp.n_outputs()));
        for (r, row) in x.outer_iter().enumerate() {
            let mut h: Vec<f64> = row.iter().map(|&v| v as f64).collect();
            for layer in &mlp.layers {
                h = (0..layer.n_outputs())
                    .map(|o| {
                        let z: f64 = layer.bias[o] as f64
                            + (0..layer.n_inputs())
                                .map(|i| layer.weight[[o, i]] as f64 * h[i])
                                .sum::<f64>();
                        layer.activation.apply(z as f32) as f64
                    })
                    .collect();
            }
            for (o, v) in h.iter().enumerate() {
                out[[r, o]] = *v as f32;
            }
        }
        out
    }

    #[test]
    fn hand_worked_forward() {
        // h = relu([[1,2],[-1,1]]·[1,1] + [0,-1]) = relu([3,-1]) = [3,0]; y = [2,1]·h + 0.5 = 6.5
        let mlp = Mlp::new(vec![
            Dense {
                weight: array![[1.0, 2.0], [-1.0, 1.0]],
                bias: array![0.0, -1.0],
                activation: Activation::Relu,
            },
            Dense {
                weight: array![[2.0, 1.0]],
                bias: array![0.5],
                activation: Activation::Identity,
            },
        ])
        .unwrap();
        let y = mlp.forward(array![[1.0f32, 1.0]].view()).unwrap();
        assert_eq!(y, array![[6.5f32]]);
        assert_eq!(mlp.n_params(), 9);
        assert_eq!(mlp.layer_sizes(), vec![2, 2, 1]);
    }

    #[test]
    fn forward_matches_reference_across_chunks() {
        let mlp = Mlp::new_initialized(
            &[5, 17, 9, 3],
            Activation::Tanh,
            Activation::Identity,
            Init::GlorotNormal,
            3,
        )
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let normal = Normal::new(0.0f32, 1.0).unwrap();
        let x = Array2::from_shape_fn((INFERENCE_CHUNK * 2 + 37, 5), |_| normal.sample(&mut rng));
        let got = mlp.forward(x.view()).unwrap();
        let want = forward_reference(&mlp, x.view());
        let max_err = (&got - &want).iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // f32 vs f64 accumulation over at most 17 terms of size O(1).
        assert!(max_err < 1e-5, "max error {max_err}");
    }

    #[test]
    fn init_is_seeded_and_scaled() {
        let a = Mlp::new_initialized(
            &[400, 300, 2],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            7,
        )
        .unwrap();
        let b = Mlp::new_initialized(
            &[400, 300, 2],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            7,
        )
        .unwrap();
        let c = Mlp::new_initialized(
            &[400, 300, 2],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            8,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        // He normal: variance 2/fan_in = 0.005 over 120k draws (sampling error ~0.4 %).
        let w = &a.layers[0].weight;
        let var = w.mapv(|v| v * v).mean().unwrap();
        assert!((var - 0.005).abs() < 0.0002, "variance {var}");
        let g = Mlp::new_initialized(
            &[400, 300],
            Activation::Relu,
            Activation::Identity,
            Init::GlorotUniform,
            1,
        )
        .unwrap();
        let limit = (6.0f32 / 700.0).sqrt();
        assert!(g.layers[0].weight.iter().all(|v| v.abs() <= limit));
        assert!(Mlp::new_initialized(
            &[3],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            1
        )
        .is_err());
        assert!(Mlp::new_initialized(
            &[3, 0, 1],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            1
        )
        .is_err());
    }

    #[test]
    fn rejects_bad_shapes() {
        let bad = Mlp::new(vec![
            Dense {
                weight: Array2::zeros((3, 2)),
                bias: Array1::zeros(3),
                activation: Activation::Relu,
            },
            Dense {
                weight: Array2::zeros((1, 4)),
                bias: Array1::zeros(1),
                activation: Activation::Identity,
            },
        ]);
        assert!(matches!(bad, Err(KernelError::Shape(_))));
        let mlp = Mlp::new_initialized(
            &[2, 3],
            Activation::Relu,
            Activation::Identity,
            Init::HeNormal,
            1,
        )
        .unwrap();
        assert!(matches!(
            mlp.forward(Array2::zeros((4, 3)).view()),
            Err(KernelError::Shape(_))
        ));
    }

    #[test]
    fn standardization_folds_into_first_layer() {
        let mlp = Mlp::new_initialized(
            &[3, 4, 2],
            Activation::Tanh,
            Activation::Identity,
            Init::GlorotNormal,
            5,
        )
        .unwrap();
        let mean = [1.0f32, -2.0, 0.5];
        let std = [2.0f32, 0.5, 0.0];
        let raw = array![[3.0f32, -1.0, 4.0], [0.0, 0.0, 0.0]];
        // Standardize by hand (std 0 → 1), then run the original model.
        let scaled = array![[1.0f32, 2.0, 3.5], [-0.5, 4.0, -0.5]];
        let want = mlp.forward(scaled.view()).unwrap();
        let got = mlp
            .with_input_standardization(&mean, &std)
            .unwrap()
            .forward(raw.view())
            .unwrap();
        assert!(
            (&got - &want).iter().all(|d| d.abs() < 1e-5),
            "{got} vs {want}"
        );
        assert!(mlp.with_input_standardization(&mean[..2], &std).is_err());
    }

    #[test]
    fn proba_is_softmax_or_binary_sigmoid() {
        // softmax([0, ln 3]) = [0.25, 0.75]; sigmoid(0) = 0.5
        let p = outputs_to_proba(array![[0.0f32, 3.0f32.ln()]], false);
        assert!((p[[0, 1]] - 0.75).abs() < 1e-6);
        let p = outputs_to_proba(array![[0.0f32], [0.25]], true);
        assert_eq!(p, array![[1.0, 0.0], [0.75, 0.25]]);
        let p = outputs_to_proba(array![[0.0f32]], false);
        assert_eq!(p, array![[0.5, 0.5]]);
        assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1);
    }

    #[test]
    fn layer_inputs_flow_through_the_changed_layers() {
        let mut mlp = Mlp::new(vec![
            Dense {
                weight: array![[1.0, 2.0], [3.0, -4.0]],
                bias: array![0.5, 0.0],
                activation: Activation::Relu,
            },
            Dense {
                weight: array![[1.0, 1.0]],
                bias: array![0.0],
                activation: Activation::Identity,
            },
        ])
        .unwrap();
        let x = array![[1.0f32, 1.0], [2.0, 0.0]];
        let mut seen = Vec::new();
        mlp.visit_layer_inputs(x.view(), |l, layer, input| {
            seen.push(input.to_owned());
            if l == 0 {
                // Zero the second row of the first layer: the next layer must see 0 there.
                layer.weight.row_mut(1).fill(0.0);
            }
            Ok::<_, KernelError>(())
        })
        .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], x);
        // By hand: relu([1+2+0.5, 0]) = [3.5, 0]; relu([2+0+0.5, 0]) = [2.5, 0].
        assert_eq!(seen[1], array![[3.5f32, 0.0], [2.5, 0.0]]);
        assert_eq!(mlp.layers[0].weight.row(1).to_vec(), vec![0.0, 0.0]);
    }
}

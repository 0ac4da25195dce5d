//! ONNX export of MLPs, float or with quantized weights, for onnxruntime.
//!
//! The graph takes `input` (float `[batch, features]`), standardizes it when the model
//! records a standardization (`Sub` mean, `Div` std), then runs each layer as `Gemm` (weights
//! `[out, in]`, `transB = 1`) and its activation. Quantized weights are stored as their codes:
//!
//! - **QDQ**: an `INT8` initializer of the codes, `DequantizeLinear` with the scales (a
//!   scalar per tensor, `axis = 0` per channel, `axis = 1` + `block_size` per group: opset 21)
//!   and the zero points when asymmetric, feeding the `Gemm`. Any bit width 2..=8 fits.
//! - **`MatMulNBits`** (onnxruntime's `com.microsoft` domain) for 2-, 4- and 8-bit codes per
//!   tensor, per channel (one block per row, padded to a power of two) or in groups of a power
//!   of two ≥ 16 columns: unsigned codes `q + 2^(bits−1)` packed low bits first
//!   (`[N, blocks, block_size · bits / 8]`), scales `[N · blocks]`, zero points packed the
//!   same way (omitted when symmetric: the default `2^(bits−1)` is the symmetric midpoint),
//!   then `Add` the bias.
//!
//! Both decode `(q − z) · s` exactly as whittle's own dequantization does.
//!
//! Outputs: classification models give `logits`, `probabilities` (softmax; for one output
//! `[1 − p, p]` with `p = sigmoid`; a sigmoid output layer is taken as probabilities) and
//! `label` (int64 index into the model's classes, recorded in the metadata); regression
//! models give `prediction`.
pub mod proto;

use ndarray::ArrayView2;
use prost::Message;
use serde::Serialize;

use self::proto::{
    attribute_type, data_type, AttributeProto, Dimension, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TensorTypeProto,
    TypeProto, ValueInfoProto,
};
use crate::formats::FormatError;
use crate::kernels::nn::{Activation, Standardization};
use crate::kernels::quant::{Granularity, QuantizedTensor};

/// The default-domain opset: 21 brings blocked `DequantizeLinear`.
pub const OPSET: i64 = 21;
/// IR version of opset 21.
pub const IR_VERSION: i64 = 10;
/// onnxruntime's contrib operator domain (`MatMulNBits`).
pub const MS_DOMAIN: &str = "com.microsoft";
/// The float model of an `output: onnx` folder.
pub const FLOAT_FILE: &str = "model.onnx";
/// The quantized model of an `output: onnx` folder (the name Optimum gives it).
pub const QUANTIZED_FILE: &str = "model_quantized.onnx";

/// A layer's weights: float, or quantized codes.
pub enum LayerWeight<'a> {
    Float(ArrayView2<'a, f32>),
    Quantized(&'a QuantizedTensor),
}

/// One dense layer of the graph.
pub struct OnnxLayer<'a> {
    /// Module name, the stem of its initializers (`fc1` → `fc1.weight`, `fc1.bias`).
    pub name: String,
    pub weight: LayerWeight<'a>,
    pub bias: &'a [f32],
    pub activation: Activation,
}

/// An MLP to export.
pub struct OnnxMlp<'a> {
    pub graph_name: String,
    pub layers: Vec<OnnxLayer<'a>>,
    pub standardization: Option<&'a Standardization>,
    /// Whether the model classifies (`logits`, `probabilities`, `label`) or regresses
    /// (`prediction`).
    pub classification: bool,
    /// `metadata_props` of the model.
    pub metadata: Vec<(String, String)>,
    pub ops: QuantizedOps,
}

/// How one layer's weights are stored in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeightOp {
    /// Float initializer into `Gemm`.
    Float,
    /// `INT8` codes through `DequantizeLinear` into `Gemm`.
    DequantizeLinear,
    /// Packed 4-bit codes in `com.microsoft.MatMulNBits`.
    #[serde(rename = "matmul_nbits")]
    MatMulNBits,
}

/// One layer as exported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LayerReport {
    pub name: String,
    pub op: WeightOp,
}

/// An encoded model and how its layers were stored.
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub layers: Vec<LayerReport>,
}

/// Bit widths onnxruntime's `MatMulNBits` runs (CPU execution provider).
pub const MATMUL_NBITS_BITS: [u8; 3] = [2, 4, 8];

/// Which operators quantized weights may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuantizedOps {
    /// `MatMulNBits` where it applies (onnxruntime's fastest CPU path), QDQ elsewhere.
    #[default]
    Auto,
    /// Standard `DequantizeLinear` only: for runtimes without onnxruntime's contrib ops.
    Qdq,
}

/// The storage `q` gets: QDQ, or `MatMulNBits` when allowed, its bits are 2, 4 or 8 and
/// [`nbits_block`] finds a block length.
pub fn weight_op(q: &QuantizedTensor, ops: QuantizedOps) -> WeightOp {
    if ops == QuantizedOps::Auto
        && MATMUL_NBITS_BITS.contains(&q.scheme.bits)
        && nbits_block(q).is_some()
    {
        WeightOp::MatMulNBits
    } else {
        WeightOp::DequantizeLinear
    }
}

/// `MatMulNBits`' `block_size` for `q` (a power of two ≥ 16): a group's length, or for a
/// per-tensor or per-channel scheme (or one group spanning the row) one block per row,
/// padded up to a power of two.
fn nbits_block(q: &QuantizedTensor) -> Option<usize> {
    let g = q.scheme.group_len(q.cols);
    if g < q.cols {
        return (g >= 16 && g.is_power_of_two()).then_some(g);
    }
    Some(q.cols.next_power_of_two().max(16))
}

/// Builds and encodes the model.
pub fn encode_mlp(m: &OnnxMlp<'_>) -> Result<Encoded, FormatError> {
    let mut g = Graph::default();
    let n_inputs = match m.layers.first() {
        Some(l) => weight_shape(&l.weight).1,
        None => return Err(FormatError::Invalid("an MLP has at least one layer".into())),
    };
    let n_outputs = m.layers.last().map_or(0, |l| weight_shape(&l.weight).0);
    let mut h = "input".to_string();
    g.inputs
        .push(value_info(&h, data_type::FLOAT, &[None, Some(n_inputs)]));
    if let Some(s) = m.standardization {
        if s.mean.len() != n_inputs || s.std.len() != n_inputs {
            return Err(FormatError::Invalid(format!(
                "the standardization has {} means and {} deviations for {n_inputs} features",
                s.mean.len(),
                s.std.len()
            )));
        }
        g.init_f32("input_mean", &[n_inputs], &s.mean);
        g.init_f32("input_std", &[n_inputs], &s.std);
        g.node("Sub", &[&h, "input_mean"], "input_centered", vec![]);
        g.node(
            "Div",
            &["input_centered", "input_std"],
            "input_standardized",
            vec![],
        );
        h = "input_standardized".into();
    }
    let mut layers = Vec::with_capacity(m.layers.len());
    let last = m.layers.len() - 1;
    let final_name = if m.classification {
        "logits"
    } else {
        "prediction"
    };
    for (l, layer) in m.layers.iter().enumerate() {
        let (rows, cols) = weight_shape(&layer.weight);
        if layer.bias.len() != rows {
            return Err(FormatError::Invalid(format!(
                "layer {}: {} biases for {rows} outputs",
                layer.name,
                layer.bias.len()
            )));
        }
        let has_activation = layer.activation != Activation::Identity;
        let linear_out = if l == last && !has_activation {
            final_name.to_string()
        } else {
            format!("{}.linear", layer.name)
        };
        let op = g.linear(layer, &h, &linear_out, rows, cols, m.ops)?;
        layers.push(LayerReport {
            name: layer.name.clone(),
            op,
        });
        h = linear_out;
        if has_activation {
            let out = if l == last {
                final_name.to_string()
            } else {
                format!("{}.activation", layer.name)
            };
            g.activation(layer.activation, &h, &out);
            h = out;
        }
    }
    g.outputs
        .push(value_info(&h, data_type::FLOAT, &[None, Some(n_outputs)]));
    if m.classification {
        let sigmoid_out = m.layers[last].activation == Activation::Sigmoid;
        g.probabilities(&h, n_outputs, sigmoid_out);
        g.node(
            "ArgMax",
            &["probabilities"],
            "label",
            vec![attr_int("axis", 1), attr_int("keepdims", 0)],
        );
        let classes = if n_outputs == 1 { 2 } else { n_outputs };
        g.outputs.push(value_info(
            "probabilities",
            data_type::FLOAT,
            &[None, Some(classes)],
        ));
        g.outputs
            .push(value_info("label", data_type::INT64, &[None]));
    }
    let mut opset_import = vec![OperatorSetIdProto {
        domain: Some(String::new()),
        version: Some(OPSET),
    }];
    if g.uses_ms_domain {
        opset_import.push(OperatorSetIdProto {
            domain: Some(MS_DOMAIN.into()),
            version: Some(1),
        });
    }
    let model = ModelProto {
        ir_version: Some(IR_VERSION),
        producer_name: Some("whittle".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        domain: None,
        model_version: Some(1),
        doc_string: None,
        graph: Some(GraphProto {
            node: g.nodes,
            name: Some(m.graph_name.clone()),
            initializer: g.initializers,
            doc_string: None,
            input: g.inputs,
            output: g.outputs,
        }),
        opset_import,
        metadata_props: m
            .metadata
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: Some(k.clone()),
                value: Some(v.clone()),
            })
            .collect(),
    };
    Ok(Encoded {
        bytes: model.encode_to_vec(),
        layers,
    })
}

fn weight_shape(w: &LayerWeight<'_>) -> (usize, usize) {
    match w {
        LayerWeight::Float(a) => (a.nrows(), a.ncols()),
        LayerWeight::Quantized(q) => (q.rows, q.cols),
    }
}

/// Nodes, initializers and graph inputs/outputs being built.
#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    uses_ms_domain: bool,
}

impl Graph {
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) {
        self.node_in(None, op, inputs, output, attribute);
    }

    fn node_in(
        &mut self,
        domain: Option<&str>,
        op: &str,
        inputs: &[&str],
        output: &str,
        attribute: Vec<AttributeProto>,
    ) {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: Some(format!("{output}/{op}")),
            op_type: Some(op.to_string()),
            attribute,
            domain: domain.map(str::to_string),
        });
    }

    fn init(&mut self, name: &str, dtype: i32, dims: &[usize], raw: Vec<u8>) {
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(dtype),
            name: Some(name.to_string()),
            raw_data: Some(raw),
        });
    }

    fn init_f32(&mut self, name: &str, dims: &[usize], values: &[f32]) {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.init(name, data_type::FLOAT, dims, raw);
    }

    /// The layer's `W·x + b` from `input` into `output`; how the weights were stored.
    fn linear(
        &mut self,
        layer: &OnnxLayer<'_>,
        input: &str,
        output: &str,
        rows: usize,
        cols: usize,
        ops: QuantizedOps,
    ) -> Result<WeightOp, FormatError> {
        let (w, b) = (
            format!("{}.weight", layer.name),
            format!("{}.bias", layer.name),
        );
        self.init_f32(&b, &[rows], layer.bias);
        let gemm = |g: &mut Graph, weight: &str| {
            g.node(
                "Gemm",
                &[input, weight, &b],
                output,
                vec![attr_int("transB", 1)],
            );
        };
        match layer.weight {
            LayerWeight::Float(a) => {
                let values: Vec<f32> = a.iter().copied().collect();
                self.init_f32(&w, &[rows, cols], &values);
                gemm(self, &w);
                Ok(WeightOp::Float)
            }
            LayerWeight::Quantized(q) => {
                q.check()
                    .map_err(|e| FormatError::Invalid(format!("{w}: {e}")))?;
                match weight_op(q, ops) {
                    WeightOp::MatMulNBits => {
                        self.matmul_nbits(q, &w, input, output, &b);
                        Ok(WeightOp::MatMulNBits)
                    }
                    _ => {
                        let dq = format!("{w}_dequantized");
                        self.dequantize_linear(q, &w, &dq);
                        gemm(self, &dq);
                        Ok(WeightOp::DequantizeLinear)
                    }
                }
            }
        }
    }

    /// `INT8` codes `w_quantized` and their `DequantizeLinear` into `output`.
    fn dequantize_linear(&mut self, q: &QuantizedTensor, w: &str, output: &str) {
        let codes = format!("{w}_quantized");
        let (scale, zero) = (format!("{w}_scale"), format!("{w}_zero_point"));
        self.init(
            &codes,
            data_type::INT8,
            &[q.rows, q.cols],
            q.q.iter().map(|&c| c as u8).collect(),
        );
        let scales: Vec<f32> = q.scales.iter().copied().collect();
        let zeros: Option<Vec<u8>> = q
            .zero_points
            .as_ref()
            .map(|z| z.iter().map(|&v| v as u8).collect());
        let (dims, attrs): (Vec<usize>, Vec<AttributeProto>) = match q.scheme.granularity {
            Granularity::Tensor => (vec![], vec![]),
            Granularity::Channel => (vec![q.rows], vec![attr_int("axis", 0)]),
            Granularity::Group(_) => {
                let g = q.scheme.group_len(q.cols);
                (
                    vec![q.rows, q.cols.div_ceil(g)],
                    vec![attr_int("axis", 1), attr_int("block_size", g as i64)],
                )
            }
        };
        self.init_f32(&scale, &dims, &scales);
        let mut inputs = vec![codes.as_str(), scale.as_str()];
        if let Some(z) = zeros {
            self.init(&zero, data_type::INT8, &dims, z);
            inputs.push(&zero);
        }
        self.node("DequantizeLinear", &inputs, output, attrs);
    }

    /// Codes packed for `MatMulNBits`, then `Add` the bias.
    fn matmul_nbits(
        &mut self,
        q: &QuantizedTensor,
        w: &str,
        input: &str,
        output: &str,
        bias: &str,
    ) {
        let block = nbits_block(q).unwrap_or(16);
        let bits = usize::from(q.scheme.bits);
        let packed = pack_nbits(q, block);
        let codes = format!("{w}_quantized");
        let (scale, zero) = (format!("{w}_scale"), format!("{w}_zero_point"));
        let blocks = q.cols.div_ceil(block);
        self.init(
            &codes,
            data_type::UINT8,
            &[q.rows, blocks, block * bits / 8],
            packed.codes,
        );
        self.init_f32(&scale, &[q.rows * blocks], &packed.scales);
        let mut inputs = vec![input, codes.as_str(), scale.as_str()];
        if let Some(z) = packed.zero_points {
            let n = z.len();
            self.init(&zero, data_type::UINT8, &[n], z);
            inputs.push(&zero);
        }
        let product = format!("{w}_matmul");
        self.node_in(
            Some(MS_DOMAIN),
            "MatMulNBits",
            &inputs,
            &product,
            vec![
                attr_int("K", q.cols as i64),
                attr_int("N", q.rows as i64),
                attr_int("bits", bits as i64),
                attr_int("block_size", block as i64),
            ],
        );
        self.uses_ms_domain = true;
        self.node("Add", &[&product, bias], output, vec![]);
    }

    fn activation(&mut self, a: Activation, input: &str, output: &str) {
        let (op, attrs) = match a {
            Activation::Relu => ("Relu", vec![]),
            Activation::LeakyRelu => ("LeakyRelu", vec![attr_float("alpha", 0.01)]),
            Activation::Gelu => ("Gelu", vec![attr_string("approximate", "tanh")]),
            Activation::Tanh => ("Tanh", vec![]),
            Activation::Sigmoid => ("Sigmoid", vec![]),
            Activation::Identity => ("Identity", vec![]),
        };
        self.node(op, &[input], output, attrs);
    }

    /// `probabilities` from the model's outputs `h`, as whittle's evaluation computes them.
    fn probabilities(&mut self, h: &str, n_outputs: usize, sigmoid_out: bool) {
        if n_outputs == 1 {
            let p = if sigmoid_out {
                h.to_string()
            } else {
                self.node("Sigmoid", &[h], "positive_probability", vec![]);
                "positive_probability".to_string()
            };
            self.init_f32("one", &[], &[1.0]);
            self.node("Sub", &["one", &p], "negative_probability", vec![]);
            self.node(
                "Concat",
                &["negative_probability", &p],
                "probabilities",
                vec![attr_int("axis", 1)],
            );
        } else if sigmoid_out {
            self.node("Identity", &[h], "probabilities", vec![]);
        } else {
            self.node("Softmax", &[h], "probabilities", vec![attr_int("axis", 1)]);
        }
    }
}

/// `MatMulNBits`' packed codes, scales and zero points.
struct PackedNbits {
    /// `[rows, blocks, block · bits / 8]`: unsigned codes `q + 2^(bits−1)`, `8 / bits` per
    /// byte, low bits first; a padded last block holds its zero point.
    codes: Vec<u8>,
    /// `[rows · blocks]`, row-major (a per-tensor scale repeated for every row).
    scales: Vec<f32>,
    /// Per row `⌈blocks · bits / 8⌉` bytes of unsigned zero points `z + 2^(bits−1)`, packed
    /// like the codes; `None` when symmetric.
    zero_points: Option<Vec<u8>>,
}

fn pack_nbits(q: &QuantizedTensor, block: usize) -> PackedNbits {
    let bits = usize::from(q.scheme.bits);
    let per_byte = 8 / bits;
    let offset = 1i16 << (bits - 1);
    let mask = ((1u16 << bits) - 1) as u8;
    let blocks = q.cols.div_ceil(block);
    // The scale and zero point of (row, block): one per group, per row, or per tensor.
    let group_of = |r: usize, b: usize| -> (usize, usize) {
        match q.scheme.granularity {
            Granularity::Tensor => (0, 0),
            Granularity::Channel => (r, 0),
            Granularity::Group(_) => (r, b.min(q.scales.ncols() - 1)),
        }
    };
    let zero_of = |r: usize, b: usize| -> u8 {
        let z = q.zero_points.as_ref().map_or(0, |z| z[group_of(r, b)]);
        ((i16::from(z) + offset) as u8) & mask
    };
    let pack = |values: &mut dyn Iterator<Item = u8>, out: &mut Vec<u8>| {
        let mut byte = 0u8;
        let mut n = 0;
        for v in values {
            byte |= (v & mask) << (n * bits);
            n += 1;
            if n == per_byte {
                out.push(byte);
                byte = 0;
                n = 0;
            }
        }
        if n > 0 {
            out.push(byte);
        }
    };
    let mut codes = Vec::with_capacity(q.rows * blocks * block * bits / 8);
    let mut scales = Vec::with_capacity(q.rows * blocks);
    for r in 0..q.rows {
        let row = &q.q[r * q.cols..(r + 1) * q.cols];
        for b in 0..blocks {
            scales.push(q.scales[group_of(r, b)]);
            let pad = zero_of(r, b);
            let mut values = (0..block).map(|i| match row.get(b * block + i) {
                Some(&c) => (i16::from(c) + offset) as u8,
                None => pad,
            });
            pack(&mut values, &mut codes);
        }
    }
    let zero_points = q.zero_points.as_ref().map(|_| {
        let mut z = Vec::with_capacity(q.rows * (blocks * bits).div_ceil(8));
        for r in 0..q.rows {
            pack(&mut (0..blocks).map(|b| zero_of(r, b)), &mut z);
        }
        z
    });
    PackedNbits {
        codes,
        scales,
        zero_points,
    }
}

fn value_info(name: &str, elem_type: i32, dims: &[Option<usize>]) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: Some(elem_type),
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| match d {
                            Some(n) => Dimension {
                                dim_value: Some(*n as i64),
                                dim_param: None,
                            },
                            None => Dimension {
                                dim_value: None,
                                dim_param: Some("batch".into()),
                            },
                        })
                        .collect(),
                }),
            }),
        }),
        doc_string: None,
    }
}

fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        i: Some(i),
        r#type: Some(attribute_type::INT),
        ..Default::default()
    }
}

fn attr_float(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        f: Some(f),
        r#type: Some(attribute_type::FLOAT),
        ..Default::default()
    }
}

fn attr_string(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        s: Some(s.as_bytes().to_vec()),
        r#type: Some(attribute_type::STRING),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    //! A reference interpreter for the operators whittle writes, written from the ONNX and
    //! onnxruntime operator specs (not from the encoder above), runs the decoded bytes; its
    //! outputs must equal the MLP's own forward pass.
    use super::*;
    use crate::kernels::nn::{outputs_to_proba, Dense, Mlp};
    use crate::kernels::quant::{dequantize, quantize, QuantMethod, QuantScheme};
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use std::collections::HashMap;

    /// A value: dims and f32 elements (integer tensors are widened).
    #[derive(Clone, Debug)]
    struct T {
        dims: Vec<usize>,
        v: Vec<f32>,
    }

    fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
        n.attribute.iter().find(|a| a.name.as_deref() == Some(name))
    }

    fn int(n: &NodeProto, name: &str, default: i64) -> i64 {
        attr(n, name).and_then(|a| a.i).unwrap_or(default)
    }

    fn tensor(t: &TensorProto) -> T {
        let raw = t.raw_data.as_deref().unwrap_or(&[]);
        let v = match t.data_type {
            Some(data_type::FLOAT) => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Some(data_type::INT8) => raw.iter().map(|&b| f32::from(b as i8)).collect(),
            Some(data_type::UINT8) => raw.iter().map(|&b| f32::from(b)).collect(),
            other => panic!("initializer type {other:?}"),
        };
        T {
            dims: t.dims.iter().map(|&d| d as usize).collect(),
            v,
        }
    }

    /// Numpy broadcasting for ranks ≤ 2.
    fn broadcast(a: &T, b: &T, f: impl Fn(f32, f32) -> f32) -> T {
        let rank = a.dims.len().max(b.dims.len());
        let pad = |d: &[usize]| {
            let mut p = vec![1; rank - d.len()];
            p.extend_from_slice(d);
            p
        };
        let (da, db) = (pad(&a.dims), pad(&b.dims));
        let dims: Vec<usize> = da.iter().zip(&db).map(|(x, y)| *x.max(y)).collect();
        let n: usize = dims.iter().product();
        let index = |d: &[usize], flat: usize| -> usize {
            let mut rem = flat;
            let mut idx = 0;
            let mut stride = 1;
            for k in (0..rank).rev() {
                let c = rem % dims[k];
                rem /= dims[k];
                idx += if d[k] == 1 { 0 } else { c } * stride;
                stride *= d[k];
            }
            idx
        };
        let v = (0..n)
            .map(|i| f(a.v[index(&da, i)], b.v[index(&db, i)]))
            .collect();
        T { dims, v }
    }

    fn map(a: &T, f: impl Fn(f32) -> f32) -> T {
        T {
            dims: a.dims.clone(),
            v: a.v.iter().map(|&x| f(x)).collect(),
        }
    }

    fn run(bytes: &[u8], x: &Array2<f32>) -> HashMap<String, T> {
        let model = ModelProto::decode(bytes).unwrap();
        assert_eq!(model.ir_version, Some(IR_VERSION));
        let g = model.graph.unwrap();
        let mut env: HashMap<String, T> = g
            .initializer
            .iter()
            .map(|t| (t.name.clone().unwrap(), tensor(t)))
            .collect();
        env.insert(
            "input".into(),
            T {
                dims: vec![x.nrows(), x.ncols()],
                v: x.iter().copied().collect(),
            },
        );
        for n in &g.node {
            let i = |k: usize| env[&n.input[k]].clone();
            let out = match n.op_type.as_deref().unwrap() {
                "Sub" => broadcast(&i(0), &i(1), |a, b| a - b),
                "Div" => broadcast(&i(0), &i(1), |a, b| a / b),
                "Add" => broadcast(&i(0), &i(1), |a, b| a + b),
                "Relu" => map(&i(0), |v| v.max(0.0)),
                "LeakyRelu" => {
                    let alpha = attr(n, "alpha").and_then(|a| a.f).unwrap();
                    map(&i(0), |v| if v > 0.0 { v } else { alpha * v })
                }
                "Gelu" => {
                    assert_eq!(
                        attr(n, "approximate").unwrap().s.as_deref(),
                        Some(&b"tanh"[..])
                    );
                    let c = (2.0f32 / std::f32::consts::PI).sqrt();
                    map(&i(0), |v| {
                        0.5 * v * (1.0 + (c * (v + 0.044715 * v * v * v)).tanh())
                    })
                }
                "Tanh" => map(&i(0), f32::tanh),
                "Sigmoid" => map(&i(0), |v| 1.0 / (1.0 + (-v).exp())),
                "Identity" => i(0),
                "Gemm" => {
                    assert_eq!(int(n, "transB", 0), 1);
                    let (a, b, c) = (i(0), i(1), i(2));
                    let (m, k, nn) = (a.dims[0], a.dims[1], b.dims[0]);
                    assert_eq!(b.dims[1], k);
                    let mut v = vec![0f32; m * nn];
                    for r in 0..m {
                        for o in 0..nn {
                            let dot: f32 = (0..k).map(|j| a.v[r * k + j] * b.v[o * k + j]).sum();
                            v[r * nn + o] = dot + c.v[o];
                        }
                    }
                    T {
                        dims: vec![m, nn],
                        v,
                    }
                }
                "DequantizeLinear" => {
                    let (x, s) = (i(0), i(1));
                    let z = (n.input.len() > 2).then(|| i(2));
                    let (rows, cols) = (x.dims[0], x.dims[1]);
                    let at = |r: usize, c: usize| -> usize {
                        match s.dims.len() {
                            0 => 0,
                            1 => {
                                assert_eq!(int(n, "axis", 1), 0);
                                r
                            }
                            _ => {
                                assert_eq!(int(n, "axis", 1), 1);
                                let block = int(n, "block_size", 0) as usize;
                                r * s.dims[1] + c / block
                            }
                        }
                    };
                    let mut v = Vec::with_capacity(rows * cols);
                    for r in 0..rows {
                        for c in 0..cols {
                            let zp = z.as_ref().map_or(0.0, |z| z.v[at(r, c)]);
                            v.push((x.v[r * cols + c] - zp) * s.v[at(r, c)]);
                        }
                    }
                    T { dims: x.dims, v }
                }
                "MatMulNBits" => {
                    assert_eq!(n.domain.as_deref(), Some(MS_DOMAIN));
                    let bits = int(n, "bits", 4) as usize;
                    assert!([2, 4, 8].contains(&bits), "bits {bits}");
                    let (a, b, s) = (i(0), i(1), i(2));
                    let (k, nn) = (int(n, "K", 0) as usize, int(n, "N", 0) as usize);
                    let block = int(n, "block_size", 0) as usize;
                    assert!(block >= 16 && block.is_power_of_two(), "block_size {block}");
                    let blocks = k.div_ceil(block);
                    let blob = block * bits / 8;
                    assert_eq!(b.dims, vec![nn, blocks, blob]);
                    assert_eq!(s.v.len(), nn * blocks);
                    let zp = (n.input.len() > 3).then(|| i(3));
                    // Element `idx` of a low-bits-first packed byte run.
                    let code = |bytes: &[f32], idx: usize| -> f32 {
                        let per = 8 / bits;
                        let byte = bytes[idx / per] as u8;
                        f32::from((byte >> ((idx % per) * bits)) & ((1u16 << bits) - 1) as u8)
                    };
                    let midpoint = f32::from(1u8 << (bits - 1));
                    let zp_row = (blocks * bits).div_ceil(8);
                    let mut w = vec![0f32; nn * k];
                    for o in 0..nn {
                        for c in 0..k {
                            let blk = c / block;
                            let q = code(&b.v[(o * blocks + blk) * blob..], c % block);
                            let z = zp
                                .as_ref()
                                .map_or(midpoint, |z| code(&z.v[o * zp_row..], blk));
                            w[o * k + c] = (q - z) * s.v[o * blocks + blk];
                        }
                    }
                    let m = a.dims[0];
                    let mut v = vec![0f32; m * nn];
                    for r in 0..m {
                        for o in 0..nn {
                            v[r * nn + o] = (0..k).map(|j| a.v[r * k + j] * w[o * k + j]).sum();
                        }
                    }
                    T {
                        dims: vec![m, nn],
                        v,
                    }
                }
                "Softmax" => {
                    assert_eq!(int(n, "axis", -1), 1);
                    let a = i(0);
                    let c = a.dims[1];
                    let mut v = a.v.clone();
                    for row in v.chunks_mut(c) {
                        let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
                        row.iter_mut().for_each(|x| *x = (*x - max).exp());
                        let sum: f32 = row.iter().sum();
                        row.iter_mut().for_each(|x| *x /= sum);
                    }
                    T { dims: a.dims, v }
                }
                "Concat" => {
                    assert_eq!(int(n, "axis", 0), 1);
                    let parts: Vec<T> = (0..n.input.len()).map(i).collect();
                    let rows = parts[0].dims[0];
                    let cols: usize = parts.iter().map(|p| p.dims[1]).sum();
                    let mut v = Vec::new();
                    for r in 0..rows {
                        for p in &parts {
                            v.extend_from_slice(&p.v[r * p.dims[1]..(r + 1) * p.dims[1]]);
                        }
                    }
                    T {
                        dims: vec![rows, cols],
                        v,
                    }
                }
                "ArgMax" => {
                    assert_eq!((int(n, "axis", 0), int(n, "keepdims", 1)), (1, 0));
                    let a = i(0);
                    let v =
                        a.v.chunks(a.dims[1])
                            .map(|row| crate::kernels::nn::argmax(row) as f32)
                            .collect();
                    T {
                        dims: vec![a.dims[0]],
                        v,
                    }
                }
                other => panic!("operator {other} is not one whittle writes"),
            };
            env.insert(n.output[0].clone(), out);
        }
        let outputs: Vec<String> = g.output.iter().map(|o| o.name.clone().unwrap()).collect();
        env.retain(|k, _| outputs.contains(k));
        env
    }

    fn random_mlp(rng: &mut rand_chacha::ChaCha8Rng, sizes: &[usize], acts: &[Activation]) -> Mlp {
        let layers = sizes
            .windows(2)
            .zip(acts)
            .map(|(w, &activation)| Dense {
                weight: Array2::from_shape_fn((w[1], w[0]), |_| rng.random_range(-0.5..0.5)),
                bias: Array1::from_shape_fn(w[1], |_| rng.random_range(-0.2..0.2)),
                activation,
            })
            .collect();
        Mlp::new(layers).unwrap()
    }

    fn assert_close(got: &T, want: &Array2<f32>, what: &str) {
        assert_eq!(got.dims, vec![want.nrows(), want.ncols()], "{what}");
        for (g, w) in got.v.iter().zip(want.iter()) {
            assert!(
                (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                "{what}: {g} vs {w}"
            );
        }
    }

    #[test]
    fn exported_graphs_compute_what_the_mlp_computes() {
        use crate::kernels::quant::Granularity::*;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // 40 inputs: groups of 16 leave a partial last block, three blocks per row an odd
        // count of packed zero points; a channel is one block of 64 padded columns, and a
        // group of 64 spans the row.
        let acts = [
            Activation::Gelu,
            Activation::LeakyRelu,
            Activation::Identity,
        ];
        let mlp = random_mlp(&mut rng, &[40, 32, 16, 5], &acts);
        let x = Array2::from_shape_fn((9, 40), |_| rng.random_range(-3.0..3.0));
        let s = Standardization {
            mean: (0..40).map(|i| i as f32 * 0.01).collect(),
            std: (0..40).map(|i| 0.5 + i as f32 * 0.02).collect(),
        };
        let schemes = [
            (QuantScheme::new(8, true, Tensor), WeightOp::MatMulNBits),
            (QuantScheme::new(8, false, Tensor), WeightOp::MatMulNBits),
            (QuantScheme::new(8, false, Channel), WeightOp::MatMulNBits),
            (QuantScheme::new(8, true, Group(16)), WeightOp::MatMulNBits),
            (
                QuantScheme::new(6, false, Group(16)),
                WeightOp::DequantizeLinear,
            ),
            (
                QuantScheme::new(6, true, Channel),
                WeightOp::DequantizeLinear,
            ),
            (
                QuantScheme::new(3, false, Tensor),
                WeightOp::DequantizeLinear,
            ),
            (QuantScheme::new(4, false, Group(16)), WeightOp::MatMulNBits),
            (QuantScheme::new(4, true, Group(16)), WeightOp::MatMulNBits),
            (QuantScheme::new(4, true, Channel), WeightOp::MatMulNBits),
            (QuantScheme::new(2, false, Group(32)), WeightOp::MatMulNBits),
            (QuantScheme::new(2, false, Channel), WeightOp::MatMulNBits),
            (
                QuantScheme::new(4, true, Group(12)),
                WeightOp::DequantizeLinear,
            ),
            (QuantScheme::new(4, true, Group(64)), WeightOp::MatMulNBits),
        ];
        let every = schemes
            .iter()
            .flat_map(|&(s, op)| [(s, op, QuantizedOps::Auto), (s, op, QuantizedOps::Qdq)]);
        for (scheme, op, ops) in every {
            let codes: Vec<QuantizedTensor> = mlp
                .layers
                .iter()
                .map(|l| quantize(l.weight.view(), &scheme, QuantMethod::Rtn).unwrap())
                .collect();
            let mut dequantized = mlp.clone();
            for (l, q) in dequantized.layers.iter_mut().zip(&codes) {
                l.weight = dequantize(q).unwrap();
            }
            let model = OnnxMlp {
                graph_name: "t".into(),
                layers: mlp
                    .layers
                    .iter()
                    .zip(&codes)
                    .enumerate()
                    .map(|(i, (l, q))| OnnxLayer {
                        name: format!("layers.{i}"),
                        weight: LayerWeight::Quantized(q),
                        bias: l.bias.as_slice().unwrap(),
                        activation: l.activation,
                    })
                    .collect(),
                standardization: Some(&s),
                classification: true,
                metadata: vec![("task".into(), "classification".into())],
                ops,
            };
            let encoded = encode_mlp(&model).unwrap();
            // The first layer has 40 columns; the others' widths decide their own op.
            let want = if ops == QuantizedOps::Qdq {
                WeightOp::DequantizeLinear
            } else {
                op
            };
            assert_eq!(encoded.layers[0].op, want, "{scheme:?}");
            let out = run(&encoded.bytes, &x);
            let standardized = (&x - &Array1::from(s.mean.clone())) / &Array1::from(s.std.clone());
            let logits = dequantized.forward(standardized.view()).unwrap();
            assert_close(&out["logits"], &logits, "logits");
            let proba = outputs_to_proba(logits.clone(), false);
            assert_close(&out["probabilities"], &proba, "probabilities");
            let labels: Vec<f32> = dequantized
                .predict_classes(standardized.view())
                .unwrap()
                .into_iter()
                .map(|c| c as f32)
                .collect();
            assert_eq!(out["label"].v, labels, "{scheme:?}");
        }
    }

    #[test]
    fn float_binary_and_regression_graphs() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let x = Array2::from_shape_fn((6, 4), |_| rng.random_range(-2.0..2.0));
        for (last, classification) in [
            (Activation::Identity, true),
            (Activation::Sigmoid, true),
            (Activation::Tanh, false),
        ] {
            let mlp = random_mlp(&mut rng, &[4, 8, 1], &[Activation::Relu, last]);
            let model = OnnxMlp {
                graph_name: "t".into(),
                layers: mlp
                    .layers
                    .iter()
                    .enumerate()
                    .map(|(i, l)| OnnxLayer {
                        name: format!("fc{i}"),
                        weight: LayerWeight::Float(l.weight.view()),
                        bias: l.bias.as_slice().unwrap(),
                        activation: l.activation,
                    })
                    .collect(),
                standardization: None,
                classification,
                metadata: vec![],
                ops: QuantizedOps::Auto,
            };
            let encoded = encode_mlp(&model).unwrap();
            assert!(encoded.layers.iter().all(|l| l.op == WeightOp::Float));
            let out = run(&encoded.bytes, &x);
            let y = mlp.forward(x.view()).unwrap();
            if classification {
                assert_close(&out["logits"], &y, "logits");
                let proba = outputs_to_proba(y, last == Activation::Sigmoid);
                assert_close(&out["probabilities"], &proba, "probabilities");
                assert_eq!(out.len(), 3);
            } else {
                assert_close(&out["prediction"], &y, "prediction");
                assert_eq!(out.len(), 1);
            }
        }
    }

    /// A model written by the `onnx` Python package's `helper` (tests/fixtures/onnx) decodes
    /// field for field with these messages: the tags are onnx.proto's.
    #[test]
    fn onnx_helper_model_decodes_field_for_field() {
        let path = format!(
            "{}/tests/fixtures/onnx/helper_model.onnx",
            env!("CARGO_MANIFEST_DIR")
        );
        let m = ModelProto::decode(std::fs::read(path).unwrap().as_slice()).unwrap();
        assert_eq!(
            (m.ir_version, m.producer_name.as_deref()),
            (Some(10), Some("onnx.helper"))
        );
        let opsets: Vec<(String, i64)> = m
            .opset_import
            .iter()
            .map(|o| (o.domain.clone().unwrap_or_default(), o.version.unwrap()))
            .collect();
        assert_eq!(opsets, [("".to_string(), 21), (MS_DOMAIN.to_string(), 1)]);
        assert_eq!(m.metadata_props[0].key.as_deref(), Some("task"));
        assert_eq!(m.metadata_props[0].value.as_deref(), Some("classification"));
        let g = m.graph.unwrap();
        let ops: Vec<&str> = g
            .node
            .iter()
            .map(|n| n.op_type.as_deref().unwrap())
            .collect();
        assert_eq!(ops, ["Gemm", "LeakyRelu", "Gelu", "MatMulNBits"]);
        assert_eq!(g.node[0].input, ["input", "fc.weight", "fc.bias"]);
        assert_eq!(g.node[0].name.as_deref(), Some("logits/Gemm"));
        let gemm = &g.node[0].attribute[0];
        assert_eq!(
            (gemm.name.as_deref(), gemm.i, gemm.r#type),
            (Some("transB"), Some(1), Some(attribute_type::INT))
        );
        let alpha = &g.node[1].attribute[0];
        assert_eq!(
            (alpha.f, alpha.r#type),
            (Some(0.01), Some(attribute_type::FLOAT))
        );
        assert_eq!(g.node[2].attribute[0].s.as_deref(), Some(&b"tanh"[..]));
        assert_eq!(g.node[3].domain.as_deref(), Some(MS_DOMAIN));
        let w = tensor(&g.initializer[0]);
        assert_eq!(
            (w.dims, w.v),
            (vec![2, 3], vec![1.5, -2.0, 0.25, 0.0, 3.0, -1.0])
        );
        assert_eq!(g.initializer[0].name.as_deref(), Some("fc.weight"));
        assert_eq!(
            tensor(&g.initializer[2]).v,
            [-3.0, 7.0, 0.0, 1.0, -8.0, 2.0]
        );
        assert_eq!(g.initializer[2].data_type, Some(data_type::INT8));
        let input = g.input[0]
            .r#type
            .as_ref()
            .unwrap()
            .tensor_type
            .as_ref()
            .unwrap();
        assert_eq!(input.elem_type, Some(data_type::FLOAT));
        let dims = &input.shape.as_ref().unwrap().dim;
        assert_eq!(
            (dims[0].dim_param.as_deref(), dims[1].dim_value),
            (Some("batch"), Some(3))
        );
        let label = g.output[0]
            .r#type
            .as_ref()
            .unwrap()
            .tensor_type
            .as_ref()
            .unwrap();
        assert_eq!(label.elem_type, Some(data_type::INT64));
    }
}

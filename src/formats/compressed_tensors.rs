//! The compressed-tensors checkpoint layout (neuralmagic / vllm-project `compressed-tensors`,
//! read by vLLM): tensor entries for a quantized weight, the `quantization_config` JSON, and
//! the reader that turns such a checkpoint back into float weights.
//!
//! # Entries for a weight named `N`
//!
//! | format | entries |
//! |---|---|
//! | `pack-quantized` | `N_packed` I32 `[rows, ⌈cols/pf⌉]`, `N_scale`, `N_shape` I64 `[2]`, asym: `N_zero_point` |
//! | `int-quantized` | `N` I8 `[rows, cols]`, `N_scale`, asym: `N_zero_point` I8 (shape of the scale) |
//!
//! For the usual `X.weight` this is exactly the library's `X.weight_packed`, `X.weight_scale`,
//! `X.weight_shape`, `X.weight_zero_point`. A name that does not end in `.weight` (a bias, an
//! embedding stored under a bare name) gets the same suffixes appended to the full name
//! (`foo` → `foo_packed`, `foo_scale`, …): the rule is uniform, reversible by
//! [`read_compressed`], and never renames the tensor itself; vLLM only looks at `.weight`
//! entries of `Linear` modules, so the lead should quantize bare names only for whittle's own
//! use. Callers must check that the planned names ([`planned_entries`]) do not collide with
//! other tensors of the model.
//!
//! Scales: `[1]` per tensor, `[rows, 1]` per channel, `[rows, ⌈cols/g⌉]` per group, in the
//! scheme's scale dtype (F32, F16 or BF16 — the library uses the weight's dtype).
//!
//! Packing (`pack_to_int32`): codes are signed in `−2^(b−1)..2^(b−1)`; `+2^(b−1)` makes them
//! unsigned, and `pf = 32 / b` of them fill one int32 **least significant bits first**
//! (element `i` of a run at bit `b·i`), zero padded at the row end. Weights pack along columns;
//! group / channel zero points of an asymmetric scheme pack along **rows** (`packed_dim=0`:
//! `[⌈rows/pf⌉, groups]`); a per-tensor zero point stays I8 `[1]`.
//!
//! vLLM serves weight-only int schemes (`input_activations: null`) with channel or group
//! strategy through `pack-quantized` (its WNA16 path, 4 and 8 bits); `int-quantized` is the
//! plain one-int8-per-weight layout (vLLM's W8A8 path, which also quantizes activations).
//! The quantize job writes `int-quantized` for 8 bits and `pack-quantized` below unless the
//! spec's `compressed_format` says otherwise.
use std::collections::{BTreeMap, BTreeSet};

use ::safetensors::tensor::TensorView;
use ::safetensors::Dtype;
use half::{bf16, f16};
use ndarray::Array2;
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::formats::FormatError;
use crate::kernels::quant::{dequantize, Granularity, QuantScheme, QuantizedTensor, ScaleDtype};

/// compressed-tensors `format` of the quantized weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionFormat {
    /// `pack-quantized`: codes packed into int32 (vLLM weight-only path).
    PackQuantized,
    /// `int-quantized`: one int8 per code.
    IntQuantized,
}

impl CompressionFormat {
    /// The `format` string in `quantization_config`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompressionFormat::PackQuantized => "pack-quantized",
            CompressionFormat::IntQuantized => "int-quantized",
        }
    }

    fn parse(s: &str) -> Result<Self, FormatError> {
        match s {
            "pack-quantized" => Ok(CompressionFormat::PackQuantized),
            "int-quantized" | "naive-quantized" => Ok(CompressionFormat::IntQuantized),
            other => Err(FormatError::Unsupported(format!(
                "compressed-tensors format {other:?} is not supported \
                 (supported: pack-quantized, int-quantized)"
            ))),
        }
    }
}

/// Name, dtype and shape of one tensor entry, known before any data is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEntry {
    /// Tensor name in the safetensors file.
    pub name: String,
    /// Element dtype.
    pub dtype: Dtype,
    /// Shape.
    pub shape: Vec<usize>,
}

/// One tensor entry with its little-endian data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressedEntry<'a> {
    /// Tensor name in the safetensors file.
    pub name: String,
    /// Element dtype.
    pub dtype: Dtype,
    /// Shape.
    pub shape: Vec<usize>,
    /// Little-endian bytes, `shape.product() · dtype size` long (int8 codes are borrowed
    /// from the quantized tensor, not copied).
    pub data: std::borrow::Cow<'a, [u8]>,
}

/// Codes per int32 for `bits`-wide codes in the legacy layout (no code split across words).
fn pack_factor(bits: u8) -> usize {
    32 / usize::from(bits)
}

/// Int32 words holding `n` densely packed `bits`-wide codes: `⌈n·bits/32⌉` (saturating: a
/// shape read from a file may be absurd, and is then refused by the size checks).
pub fn packed_words(n: usize, bits: u8) -> usize {
    n.saturating_mul(usize::from(bits)).div_ceil(32)
}

fn scale_dtype_tag(d: ScaleDtype) -> Dtype {
    match d {
        ScaleDtype::F32 => Dtype::F32,
        ScaleDtype::F16 => Dtype::F16,
        ScaleDtype::BF16 => Dtype::BF16,
    }
}

/// Shape of the `_scale` (and unpacked `_zero_point`) entry as the library writes it.
fn param_shape(scheme: &QuantScheme, rows: usize, cols: usize) -> Vec<usize> {
    match scheme.granularity {
        Granularity::Tensor => vec![1],
        _ => {
            let (r, c) = scheme.scale_shape(rows, cols);
            vec![r, c]
        }
    }
}

/// Whether the asymmetric zero points are packed along rows (group / channel, pack format).
fn zero_points_packed(scheme: &QuantScheme, format: CompressionFormat) -> bool {
    format == CompressionFormat::PackQuantized
        && !scheme.symmetric
        && scheme.granularity != Granularity::Tensor
}

fn check_scheme(scheme: &QuantScheme) -> Result<(), FormatError> {
    scheme
        .validate()
        .map_err(|e| FormatError::Invalid(e.to_string()))
}

/// Names, dtypes and shapes [`compressed_entries`] will produce, without computing anything,
/// so a streaming writer can emit the safetensors header first.
pub fn planned_entries(
    name: &str,
    rows: usize,
    cols: usize,
    scheme: &QuantScheme,
    format: CompressionFormat,
) -> Result<Vec<PlannedEntry>, FormatError> {
    check_scheme(scheme)?;
    let entry = |suffix: &str, dtype: Dtype, shape: Vec<usize>| PlannedEntry {
        name: format!("{name}{suffix}"),
        dtype,
        shape,
    };
    let pshape = param_shape(scheme, rows, cols);
    let mut out = Vec::with_capacity(4);
    match format {
        CompressionFormat::PackQuantized => {
            out.push(entry(
                "_packed",
                Dtype::I32,
                vec![rows, packed_words(cols, scheme.bits)],
            ));
            out.push(entry(
                "_scale",
                scale_dtype_tag(scheme.scale_dtype),
                pshape.clone(),
            ));
            out.push(entry("_shape", Dtype::I64, vec![2]));
            if zero_points_packed(scheme, format) {
                let (_, groups) = scheme.scale_shape(rows, cols);
                out.push(entry(
                    "_zero_point",
                    Dtype::I32,
                    vec![packed_words(rows, scheme.bits), groups],
                ));
            } else if !scheme.symmetric {
                out.push(entry("_zero_point", Dtype::I8, pshape));
            }
        }
        CompressionFormat::IntQuantized => {
            out.push(entry("", Dtype::I8, vec![rows, cols]));
            out.push(entry(
                "_scale",
                scale_dtype_tag(scheme.scale_dtype),
                pshape.clone(),
            ));
            if !scheme.symmetric {
                out.push(entry("_zero_point", Dtype::I8, pshape));
            }
        }
    }
    Ok(out)
}

/// Packs signed `bits`-wide codes of a `[rows, cols]` matrix along columns into int32
/// (`pack_to_int32(…, packed_dim=1)`): result `[rows, ⌈cols·bits/32⌉]`, row-major. Packing
/// is dense, as the current compressed-tensors writes it: code `i` of a row sits at bit
/// `i·bits` of the row's little-endian bit stream, so for 3, 5, 6 and 7 bits a code may
/// straddle two words (for 2, 4 and 8 bits this is the same as `32/bits` codes per word).
pub fn pack_codes(
    codes: &[i8],
    rows: usize,
    cols: usize,
    bits: u8,
) -> Result<Vec<i32>, FormatError> {
    check_pack_args(codes.len(), rows, cols, bits)?;
    let pc = packed_words(cols, bits);
    let mut out = vec![0i32; rows * pc];
    if pc == 0 {
        return Ok(out);
    }
    out.par_chunks_mut(pc)
        .zip(codes.par_chunks(cols.max(1)))
        .for_each(|(dst, src)| pack_row(src, bits, dst));
    Ok(out)
}

/// Packs one row; 4-bit rows take a fixed 8-code path that vectorizes.
#[inline]
fn pack_row(src: &[i8], bits: u8, dst: &mut [i32]) {
    let (offset, mask) = (1i32 << (bits - 1), (1u64 << bits) - 1);
    if bits == 4 {
        for (word, run) in dst.iter_mut().zip(src.chunks(8)) {
            let mut acc = 0u32;
            for (i, &c) in run.iter().enumerate() {
                acc |= ((i32::from(c) + 8) as u32 & 0xF) << (4 * i);
            }
            *word = acc as i32;
        }
        return;
    }
    let (mut acc, mut filled, mut w) = (0u64, 0u32, 0usize);
    for &c in src {
        acc |= ((i32::from(c) + offset) as u64 & mask) << filled;
        filled += u32::from(bits);
        if filled >= 32 {
            if let Some(word) = dst.get_mut(w) {
                *word = acc as u32 as i32;
            }
            w += 1;
            acc >>= 32;
            filled -= 32;
        }
    }
    if filled > 0 {
        if let Some(word) = dst.get_mut(w) {
            *word = acc as u32 as i32;
        }
    }
}

/// [`pack_codes`] straight into the little-endian bytes of the int32 words (what the file
/// stores), with byte-wise fast paths: 8-bit codes are `code + 128` byte for byte, 4-bit codes
/// two nibbles per byte, low nibble first. Equal to the bytes of [`pack_codes`].
pub fn pack_codes_le(
    codes: &[i8],
    rows: usize,
    cols: usize,
    bits: u8,
) -> Result<Vec<u8>, FormatError> {
    check_pack_args(codes.len(), rows, cols, bits)?;
    let row_bytes = packed_words(cols, bits) * 4;
    let mut out = vec![0u8; rows * row_bytes];
    if row_bytes == 0 {
        return Ok(out);
    }
    out.par_chunks_mut(row_bytes)
        .zip(codes.par_chunks(cols.max(1)))
        .for_each(|(dst, src)| pack_row_bytes(src, bits, dst));
    Ok(out)
}

/// Packs one row into `dst` (zeroed, the row's whole words).
#[inline]
fn pack_row_bytes(src: &[i8], bits: u8, dst: &mut [u8]) {
    match bits {
        8 => {
            for (d, &c) in dst.iter_mut().zip(src) {
                *d = (c as u8) ^ 0x80;
            }
        }
        4 => {
            let nib = |c: i8| (c as u8).wrapping_add(8) & 0xF;
            let mut pairs = src.chunks_exact(2);
            for (d, p) in dst.iter_mut().zip(&mut pairs) {
                *d = nib(p[0]) | (nib(p[1]) << 4);
            }
            if let (Some(&c), Some(d)) = (pairs.remainder().first(), dst.get_mut(src.len() / 2)) {
                *d = nib(c);
            }
        }
        _ => {
            let (offset, mask) = (1i32 << (bits - 1), (1u64 << bits) - 1);
            let (mut acc, mut filled, mut at) = (0u64, 0u32, 0usize);
            for &c in src {
                acc |= ((i32::from(c) + offset) as u64 & mask) << filled;
                filled += u32::from(bits);
                while filled >= 8 {
                    if let Some(d) = dst.get_mut(at) {
                        *d = acc as u8;
                    }
                    at += 1;
                    acc >>= 8;
                    filled -= 8;
                }
            }
            if filled > 0 {
                if let Some(d) = dst.get_mut(at) {
                    *d = acc as u8;
                }
            }
        }
    }
}

/// Reads code `i` of a densely packed row.
#[inline]
fn dense_code(src: &[i32], i: usize, bits: u8) -> u32 {
    let bit = i * usize::from(bits);
    let (w, off) = (bit / 32, (bit % 32) as u32);
    let lo = src.get(w).map_or(0, |&v| u64::from(v as u32));
    let hi = src.get(w + 1).map_or(0, |&v| u64::from(v as u32));
    (((lo | (hi << 32)) >> off) & ((1u64 << bits) - 1)) as u32
}

/// Inverse of [`pack_codes`]: `[rows, ⌈cols·bits/32⌉]` int32 back to `[rows, cols]` signed
/// codes. The legacy layout of older compressed-tensors releases (`32/bits` codes per word,
/// no code split across words: `[rows, ⌈cols/(32/bits)⌉]`) is read too when its shape
/// differs from the dense one.
pub fn unpack_codes(
    packed: &[i32],
    rows: usize,
    cols: usize,
    bits: u8,
) -> Result<Vec<i8>, FormatError> {
    check_bits(bits)?;
    let dense = packed_words(cols, bits);
    let legacy = cols.div_ceil(pack_factor(bits));
    let pc = if rows.checked_mul(dense) == Some(packed.len()) {
        dense
    } else if rows.checked_mul(legacy) == Some(packed.len()) {
        legacy
    } else {
        return Err(FormatError::Invalid(format!(
            "packed tensor has {} int32, expected {rows}x{dense} for {rows}x{cols} {bits}-bit codes",
            packed.len()
        )));
    };
    let offset = 1i32 << (bits - 1);
    let mut out = vec![0i8; rows * cols];
    if cols == 0 {
        return Ok(out);
    }
    let is_dense = pc == dense;
    out.par_chunks_mut(cols)
        .zip(packed.par_chunks(pc.max(1)))
        .for_each(|(dst, src)| {
            if is_dense {
                for (i, c) in dst.iter_mut().enumerate() {
                    *c = (dense_code(src, i, bits) as i32 - offset) as i8;
                }
            } else {
                let (pf, mask) = (pack_factor(bits), (1u32 << bits) - 1);
                for (run, &word) in dst.chunks_mut(pf).zip(src) {
                    for (i, c) in run.iter_mut().enumerate() {
                        let u = ((word as u32) >> (usize::from(bits) * i)) & mask;
                        *c = (u as i32 - offset) as i8;
                    }
                }
            }
        });
    Ok(out)
}

/// Packs `[rows, groups]` zero points along rows (`packed_dim=0`, dense):
/// `[⌈rows·bits/32⌉, groups]`.
fn pack_codes_dim0(
    z: &[i8],
    rows: usize,
    groups: usize,
    bits: u8,
) -> Result<Vec<i32>, FormatError> {
    check_pack_args(z.len(), rows, groups, bits)?;
    let words = packed_words(rows, bits);
    let mut out = vec![0i32; words * groups];
    let mut column = vec![0i8; rows];
    let mut packed = vec![0i32; words];
    for g in 0..groups {
        for (r, c) in column.iter_mut().enumerate() {
            *c = z[r * groups + g];
        }
        packed.fill(0);
        pack_row(&column, bits, &mut packed);
        for (w, &v) in packed.iter().enumerate() {
            out[w * groups + g] = v;
        }
    }
    Ok(out)
}

/// Inverse of [`pack_codes_dim0`] (and of the legacy `32/bits` per word layout).
fn unpack_codes_dim0(
    p: &[i32],
    rows: usize,
    groups: usize,
    bits: u8,
) -> Result<Vec<i8>, FormatError> {
    check_bits(bits)?;
    let dense = packed_words(rows, bits);
    let legacy = rows.div_ceil(pack_factor(bits));
    let words = if dense.checked_mul(groups) == Some(p.len()) {
        dense
    } else if legacy.checked_mul(groups) == Some(p.len()) {
        legacy
    } else {
        return Err(FormatError::Invalid(format!(
            "packed zero points have {} int32, expected {dense}x{groups}",
            p.len()
        )));
    };
    let offset = 1i32 << (bits - 1);
    let mut out = vec![0i8; rows * groups];
    let mut column = vec![0i32; words];
    for g in 0..groups {
        for (w, c) in column.iter_mut().enumerate() {
            *c = p[w * groups + g];
        }
        for r in 0..rows {
            let u = if words == dense {
                dense_code(&column, r, bits)
            } else {
                let pf = pack_factor(bits);
                ((column[r / pf] as u32) >> (usize::from(bits) * (r % pf))) & ((1 << bits) - 1)
            };
            out[r * groups + g] = (u as i32 - offset) as i8;
        }
    }
    Ok(out)
}

fn check_bits(bits: u8) -> Result<(), FormatError> {
    if (1..=8).contains(&bits) {
        Ok(())
    } else {
        Err(FormatError::Invalid(format!(
            "num_bits must be between 1 and 8, got {bits}"
        )))
    }
}

fn check_pack_args(len: usize, rows: usize, cols: usize, bits: u8) -> Result<(), FormatError> {
    check_bits(bits)?;
    if rows.checked_mul(cols) != Some(len) {
        return Err(FormatError::Invalid(format!(
            "{len} codes for a {rows}x{cols} matrix"
        )));
    }
    Ok(())
}

/// Little-endian bytes of int32 words (parallel: packed weights are tens of MB).
fn le_bytes_i32(v: &[i32]) -> Vec<u8> {
    const CHUNK: usize = 1 << 14;
    let mut out = vec![0u8; v.len() * 4];
    out.par_chunks_mut(CHUNK * 4)
        .zip(v.par_chunks(CHUNK))
        .for_each(|(b, w)| {
            for (dst, word) in b.chunks_exact_mut(4).zip(w) {
                dst.copy_from_slice(&word.to_le_bytes());
            }
        });
    out
}

fn scale_bytes(scales: &Array2<f32>, dtype: ScaleDtype) -> Vec<u8> {
    match dtype {
        ScaleDtype::F32 => scales.iter().flat_map(|s| s.to_le_bytes()).collect(),
        ScaleDtype::F16 => scales
            .iter()
            .flat_map(|s| f16::from_f32(*s).to_le_bytes())
            .collect(),
        ScaleDtype::BF16 => scales
            .iter()
            .flat_map(|s| bf16::from_f32(*s).to_le_bytes())
            .collect(),
    }
}

/// The entries for a quantized weight named `name` (see the module doc), in the order of
/// [`planned_entries`].
pub fn compressed_entries<'a>(
    name: &str,
    q: &'a QuantizedTensor,
    format: CompressionFormat,
) -> Result<Vec<CompressedEntry<'a>>, FormatError> {
    q.check().map_err(|e| FormatError::At {
        location: name.to_string(),
        message: e.to_string(),
    })?;
    let plan = planned_entries(name, q.rows, q.cols, &q.scheme, format)?;
    let bits = q.scheme.bits;
    let mut out = Vec::with_capacity(plan.len());
    for p in plan {
        let suffix = &p.name[name.len()..];
        let data: Vec<u8> = match suffix {
            "_packed" => pack_codes_le(&q.q, q.rows, q.cols, bits)?,
            "" => {
                out.push(CompressedEntry {
                    name: p.name,
                    dtype: p.dtype,
                    shape: p.shape,
                    data: std::borrow::Cow::Borrowed(codes_as_bytes(&q.q)),
                });
                continue;
            }
            "_scale" => scale_bytes(&q.scales, q.scheme.scale_dtype),
            "_shape" => [q.rows as i64, q.cols as i64]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            "_zero_point" => {
                let z = q.zero_points.as_ref().ok_or_else(|| FormatError::At {
                    location: name.into(),
                    message: "missing zero points".into(),
                })?;
                let zv: Vec<i8> = z.iter().copied().collect();
                if p.dtype == Dtype::I32 {
                    let (r, g) = z.dim();
                    le_bytes_i32(&pack_codes_dim0(&zv, r, g, bits)?)
                } else {
                    zv.iter().map(|&c| c as u8).collect()
                }
            }
            other => {
                return Err(FormatError::Invalid(format!(
                    "internal: unexpected entry {other}"
                )))
            }
        };
        out.push(CompressedEntry {
            name: p.name,
            dtype: p.dtype,
            shape: p.shape,
            data: data.into(),
        });
    }
    Ok(out)
}

/// int8 codes as the bytes safetensors stores (two's complement), without a copy.
fn codes_as_bytes(codes: &[i8]) -> &[u8] {
    // SAFETY: i8 and u8 have the same size and alignment and every bit pattern is valid
    // for both; the slice borrows `codes` for its lifetime.
    unsafe { std::slice::from_raw_parts(codes.as_ptr().cast::<u8>(), codes.len()) }
}

/// The module name a tensor belongs to (`X.weight` → `X`), as used in the `ignore` list.
pub fn module_name(tensor_name: &str) -> &str {
    tensor_name.strip_suffix(".weight").unwrap_or(tensor_name)
}

/// The `quantization_config` object for `config.json`. `targets` are what was quantized
/// (`"Linear"` for linear layers, module names for others such as embeddings); `ignore`
/// lists module names (see [`module_name`]) of `Linear` layers left in float, e.g.
/// `"lm_head"`.
pub fn quantization_config(
    scheme: &QuantScheme,
    format: CompressionFormat,
    targets: &[String],
    ignore: &[String],
) -> Value {
    let (strategy, group_size) = match scheme.granularity {
        Granularity::Tensor => ("tensor", Value::Null),
        Granularity::Channel => ("channel", Value::Null),
        Granularity::Group(g) => ("group", json!(g)),
    };
    // The keys and values compressed-tensors itself writes (`ModelCompressor.update_config`)
    // for a weight-only int scheme.
    json!({
        "config_groups": {
            "group_0": {
                "format": format.as_str(),
                "input_activations": null,
                "output_activations": null,
                "targets": targets,
                "weights": {
                    "dynamic": false,
                    "group_size": group_size,
                    "num_bits": scheme.bits,
                    "strategy": strategy,
                    "symmetric": scheme.symmetric,
                    "type": "int"
                }
            }
        },
        "format": format.as_str(),
        "global_compression_ratio": null,
        "ignore": ignore,
        "kv_cache_scheme": null,
        "moe_sparsity_config": null,
        "quant_method": "compressed-tensors",
        "quantization_status": "compressed",
        "sparsity_config": {},
        "transform_config": {}
    })
}

/// Weight quantization read from a `quantization_config` (scale dtype comes from the tensors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightConfig {
    /// Bits, symmetry and granularity (`scale_dtype` is a placeholder F32).
    pub scheme: QuantScheme,
    /// The checkpoint's format.
    pub format: CompressionFormat,
}

/// Parses the weight scheme of a compressed-tensors `quantization_config`. Several config
/// groups are accepted when their weight arguments agree; activation quantization, float
/// types, `actorder: "group"` and block strategies are refused as unsupported.
pub fn weight_config(config: &Value) -> Result<WeightConfig, FormatError> {
    let bad = |m: String| FormatError::At {
        location: "quantization_config".into(),
        message: m,
    };
    if config.get("quant_method").and_then(Value::as_str) != Some("compressed-tensors") {
        return Err(FormatError::Unsupported(
            "quantization_config.quant_method is not \"compressed-tensors\"".into(),
        ));
    }
    let groups = config
        .get("config_groups")
        .and_then(Value::as_object)
        .filter(|g| !g.is_empty())
        .ok_or_else(|| bad("config_groups is missing or empty".into()))?;
    let global_format = config.get("format").and_then(Value::as_str);
    let mut found: Option<WeightConfig> = None;
    for (gname, group) in groups {
        let weights = group
            .get("weights")
            .filter(|w| !w.is_null())
            .ok_or_else(|| bad(format!("config_groups.{gname}.weights is missing")))?;
        for act in ["input_activations", "output_activations"] {
            if group.get(act).is_some_and(|a| !a.is_null()) {
                return Err(FormatError::Unsupported(format!(
                    "config_groups.{gname}.{act}: activation quantization is not supported"
                )));
            }
        }
        let fmt = group
            .get("format")
            .and_then(Value::as_str)
            .or(global_format)
            .ok_or_else(|| bad("format is missing".into()))?;
        let format = CompressionFormat::parse(fmt)?;
        let wc = WeightConfig {
            scheme: parse_weights(weights, gname)?,
            format,
        };
        match found {
            None => found = Some(wc),
            Some(prev) if prev == wc => {}
            Some(_) => {
                return Err(FormatError::Unsupported(
                    "config groups with different weight schemes are not supported".into(),
                ))
            }
        }
    }
    found.ok_or_else(|| bad("no weight scheme".into()))
}

fn parse_weights(w: &Value, gname: &str) -> Result<QuantScheme, FormatError> {
    let at = |field: &str, m: String| FormatError::At {
        location: format!("quantization_config.config_groups.{gname}.weights.{field}"),
        message: m,
    };
    let ty = w.get("type").and_then(Value::as_str).unwrap_or("int");
    if ty != "int" {
        return Err(FormatError::Unsupported(format!(
            "weights type {ty:?} is not supported"
        )));
    }
    let bits = w
        .get("num_bits")
        .and_then(Value::as_u64)
        .filter(|b| (2..=8).contains(b))
        .ok_or_else(|| at("num_bits", "must be an integer between 2 and 8".into()))?;
    let symmetric = w.get("symmetric").and_then(Value::as_bool).unwrap_or(true);
    let group_size = w.get("group_size").and_then(Value::as_i64);
    let strategy = w.get("strategy").and_then(Value::as_str);
    let granularity = match (strategy, group_size) {
        (Some("tensor"), _) | (None, None) => Granularity::Tensor,
        (Some("channel"), _) | (None, Some(-1)) => Granularity::Channel,
        (Some("group"), Some(g)) | (None, Some(g)) if g > 0 => Granularity::Group(g as usize),
        (Some("group"), _) => return Err(at("group_size", "must be a positive integer".into())),
        (Some(other), _) => {
            return Err(FormatError::Unsupported(format!(
                "strategy {other:?} is not supported"
            )))
        }
        (None, Some(g)) => return Err(at("group_size", format!("invalid value {g}"))),
    };
    match w.get("actorder").and_then(Value::as_str) {
        Some("group") | Some("dynamic") => {
            return Err(FormatError::Unsupported(
                "actorder \"group\" (g_idx) checkpoints are not supported".into(),
            ))
        }
        _ => {}
    }
    Ok(QuantScheme::new(bits as u8, symmetric, granularity))
}

/// Float weights decoded from a compressed-tensors checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Decompressed {
    /// Dequantized weights by their original name (`X.weight`).
    pub weights: BTreeMap<String, Array2<f32>>,
    /// Every entry consumed to build them (`X.weight_packed`, `X.weight_scale`, …); the
    /// remaining tensors of the file are ordinary float tensors.
    pub consumed: BTreeSet<String>,
}

/// Names of the quantized weights in a checkpoint: every `N` with an `N_scale` entry and
/// either an I32 `N_packed` or an I8 `N` entry.
pub fn quantized_weight_names<'a>(
    lookup: &impl Fn(&str) -> Option<TensorView<'a>>,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    names
        .into_iter()
        .filter_map(|n| n.strip_suffix("_scale"))
        .filter(|base| {
            lookup(&format!("{base}_packed")).is_some_and(|t| t.dtype() == Dtype::I32)
                || lookup(base).is_some_and(|t| t.dtype() == Dtype::I8)
        })
        .map(str::to_string)
        .collect()
}

/// Decodes one quantized weight `name` of a checkpoint described by `wc` into a
/// [`QuantizedTensor`]; returns it with the entry names it used.
pub fn read_quantized<'a>(
    name: &str,
    lookup: &impl Fn(&str) -> Option<TensorView<'a>>,
    wc: &WeightConfig,
) -> Result<(QuantizedTensor, Vec<String>), FormatError> {
    let at = |m: String| FormatError::At {
        location: name.to_string(),
        message: m,
    };
    let get = |suffix: &str| -> Result<TensorView<'a>, FormatError> {
        lookup(&format!("{name}{suffix}"))
            .ok_or_else(|| at(format!("missing entry {name}{suffix}")))
    };
    if lookup(&format!("{name}_g_idx")).is_some() {
        return Err(FormatError::Unsupported(format!(
            "{name}: g_idx (actorder group) is not supported"
        )));
    }
    let bits = wc.scheme.bits;
    let mut used = vec![format!("{name}_scale")];
    let packed = lookup(&format!("{name}_packed"));
    let (rows, cols, q) = match packed {
        Some(p) => {
            expect_dtype(&p, Dtype::I32, &format!("{name}_packed"))?;
            let shape = get("_shape")?;
            let dims = read_ints(&shape).map_err(|m| at(format!("{name}_shape: {m}")))?;
            let [rows, cols] = dims[..] else {
                return Err(at(format!(
                    "{name}_shape must hold 2 values, got {}",
                    dims.len()
                )));
            };
            let (rows, cols) = (to_dim(rows).map_err(&at)?, to_dim(cols).map_err(&at)?);
            let (dense, legacy) = (packed_words(cols, bits), cols.div_ceil(pack_factor(bits)));
            if p.shape() != [rows, dense] && p.shape() != [rows, legacy] {
                return Err(at(format!("{name}_packed has shape {:?}", p.shape())));
            }
            let words: Vec<i32> = p
                .data()
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            used.push(format!("{name}_packed"));
            used.push(format!("{name}_shape"));
            (rows, cols, unpack_codes(&words, rows, cols, bits)?)
        }
        None => {
            let t = get("")?;
            expect_dtype(&t, Dtype::I8, name)?;
            let [rows, cols] = t.shape()[..] else {
                return Err(at(format!("int8 weight must be 2-D, got {:?}", t.shape())));
            };
            used.push(name.to_string());
            (rows, cols, t.data().iter().map(|&b| b as i8).collect())
        }
    };
    let scale_t = get("_scale")?;
    let (scale_dtype, scale_vals) =
        read_floats(&scale_t).map_err(|m| at(format!("{name}_scale: {m}")))?;
    let scheme = wc.scheme.with_scale_dtype(scale_dtype);
    let (sr, sc) = scheme.scale_shape(rows, cols);
    if scale_vals.len() != sr * sc {
        return Err(at(format!(
            "{name}_scale has {} values, expected {sr}x{sc} for {:?}",
            scale_vals.len(),
            scheme.granularity
        )));
    }
    let scales = Array2::from_shape_vec((sr, sc), scale_vals).map_err(|e| at(e.to_string()))?;
    let zero_points = if scheme.symmetric {
        if lookup(&format!("{name}_zero_point")).is_some() {
            used.push(format!("{name}_zero_point"));
        }
        None
    } else {
        let zt = get("_zero_point")?;
        used.push(format!("{name}_zero_point"));
        let z = match zt.dtype() {
            Dtype::I32 if zero_points_packed(&scheme, wc.format) => {
                let words: Vec<i32> = zt
                    .data()
                    .chunks_exact(4)
                    .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                unpack_codes_dim0(&words, sr, sc, bits)?
            }
            Dtype::I8 => zt.data().iter().map(|&b| b as i8).collect(),
            other => return Err(at(format!("{name}_zero_point has dtype {other:?}"))),
        };
        if z.len() != sr * sc {
            return Err(at(format!(
                "{name}_zero_point has {} values, expected {}",
                z.len(),
                sr * sc
            )));
        }
        Some(Array2::from_shape_vec((sr, sc), z).map_err(|e| at(e.to_string()))?)
    };
    let qt = QuantizedTensor {
        rows,
        cols,
        scheme,
        q,
        scales,
        zero_points,
    };
    qt.check().map_err(|e| at(e.to_string()))?;
    Ok((qt, used))
}

/// Dequantizes every quantized weight of a checkpoint (`tensors` = all its entries, `config` =
/// its `quantization_config`), so whittle can analyze or evaluate its own output.
pub fn read_compressed(
    tensors: &BTreeMap<String, TensorView<'_>>,
    config: &Value,
) -> Result<Decompressed, FormatError> {
    let wc = weight_config(config)?;
    let lookup = |n: &str| tensors.get(n).cloned();
    let names = quantized_weight_names(&lookup, tensors.keys().map(String::as_str));
    let mut out = Decompressed {
        weights: BTreeMap::new(),
        consumed: BTreeSet::new(),
    };
    for name in names {
        let (qt, used) = read_quantized(&name, &lookup, &wc)?;
        let w = dequantize(&qt).map_err(|e| FormatError::At {
            location: name.clone(),
            message: e.to_string(),
        })?;
        out.consumed.extend(used);
        out.weights.insert(name, w);
    }
    Ok(out)
}

fn expect_dtype(t: &TensorView<'_>, want: Dtype, name: &str) -> Result<(), FormatError> {
    if t.dtype() == want {
        Ok(())
    } else {
        Err(FormatError::At {
            location: name.to_string(),
            message: format!("dtype {:?}, expected {want:?}", t.dtype()),
        })
    }
}

fn to_dim(v: i64) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("invalid dimension {v}"))
}

/// Integer values of an I64 or I32 tensor.
fn read_ints(t: &TensorView<'_>) -> Result<Vec<i64>, String> {
    match t.dtype() {
        Dtype::I64 => Ok(t
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect()),
        Dtype::I32 => Ok(t
            .data()
            .chunks_exact(4)
            .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect()),
        other => Err(format!("dtype {other:?}, expected I64")),
    }
}

/// Float values of an F32 / F16 / BF16 tensor, with the matching scale dtype.
fn read_floats(t: &TensorView<'_>) -> Result<(ScaleDtype, Vec<f32>), String> {
    let d = t.data();
    match t.dtype() {
        Dtype::F32 => Ok((
            ScaleDtype::F32,
            d.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )),
        Dtype::F16 => Ok((
            ScaleDtype::F16,
            d.chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        )),
        Dtype::BF16 => Ok((
            ScaleDtype::BF16,
            d.chunks_exact(2)
                .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        )),
        other => Err(format!("dtype {other:?}, expected F32, F16 or BF16")),
    }
}

/// Tensor names and shapes of a compressed-tensors file as they were before quantization:
/// `N_packed` + `N_shape` (or an I8 `N` with `N_scale`) become `N` with its `[rows, cols]`,
/// scale / zero-point / shape entries disappear. Reads only the small `_shape` entries, so
/// architecture detection at upload stays cheap for large checkpoints.
pub fn logical_shapes(
    model: &crate::formats::safetensors::MappedModel,
) -> Vec<(String, Vec<usize>)> {
    let names = model.names();
    let has = |n: &str| model.tensor(n).is_ok();
    let mut quantized: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(names.len());
    for name in &names {
        let Ok(t) = model.tensor(name) else { continue };
        if let Some(base) = name.strip_suffix("_packed") {
            let shape = model
                .tensor(&format!("{base}_shape"))
                .ok()
                .filter(|s| s.dtype == Dtype::I64 && s.data.len() == 16)
                .map(|s| {
                    s.data
                        .chunks_exact(8)
                        .map(|b| {
                            let mut a = [0u8; 8];
                            a.copy_from_slice(b);
                            usize::try_from(i64::from_le_bytes(a)).unwrap_or(0)
                        })
                        .collect::<Vec<usize>>()
                });
            if let (Some(shape), true) = (shape, has(&format!("{base}_scale"))) {
                quantized.insert(base.to_string());
                out.push((base.to_string(), shape));
                continue;
            }
        }
        if t.dtype == Dtype::I8 && has(&format!("{name}_scale")) {
            quantized.insert(name.to_string());
        }
        out.push((name.to_string(), t.shape.to_vec()));
    }
    out.retain(|(n, _)| {
        !["_scale", "_zero_point", "_shape"].iter().any(|suffix| {
            n.strip_suffix(suffix)
                .is_some_and(|base| quantized.contains(base))
        })
    });
    out
}

/// A compressed-tensors safetensors file turned back into an ordinary float one: every
/// quantized weight dequantized to F32 under its own name, every other tensor copied, and the
/// metadata kept without `quantization_config`. Lets the MLP loader read whittle's own
/// quantized output (and llm-compressor checkpoints) unchanged.
pub fn decompress_to_safetensors(bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    use ::safetensors::SafeTensors;
    let invalid = |e: ::safetensors::SafeTensorError| {
        FormatError::Invalid(format!("not a valid safetensors file: {e}"))
    };
    let st = SafeTensors::deserialize(bytes).map_err(invalid)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
    let mut metadata: std::collections::HashMap<String, String> =
        header.metadata().clone().unwrap_or_default();
    let config_text = metadata
        .remove("quantization_config")
        .ok_or_else(|| FormatError::Invalid("no quantization_config in __metadata__".into()))?;
    let config: Value = serde_json::from_str(&config_text).map_err(|e| FormatError::At {
        location: "__metadata__.quantization_config".into(),
        message: format!("not JSON: {e}"),
    })?;
    let tensors: BTreeMap<String, TensorView<'_>> = st.tensors().into_iter().collect();
    let decompressed = read_compressed(&tensors, &config)?;
    let weights: Vec<(String, Vec<usize>, Vec<u8>)> = decompressed
        .weights
        .iter()
        .map(|(name, w)| {
            let (r, c) = w.dim();
            (
                name.clone(),
                vec![r, c],
                w.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        })
        .collect();
    let mut views: Vec<(String, TensorView<'_>)> = Vec::with_capacity(tensors.len());
    for (name, shape, data) in &weights {
        let v = TensorView::new(Dtype::F32, shape.clone(), data).map_err(|e| FormatError::At {
            location: name.clone(),
            message: e.to_string(),
        })?;
        views.push((name.clone(), v));
    }
    for (name, view) in &tensors {
        if !decompressed.consumed.contains(name) && !decompressed.weights.contains_key(name) {
            views.push((name.clone(), view.clone()));
        }
    }
    ::safetensors::serialize(views, Some(metadata))
        .map_err(|e| FormatError::Invalid(format!("cannot serialize the float model: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::quant::{quantize, QuantMethod};
    use ::safetensors::SafeTensors;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    fn weights(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = Normal::new(0.0f32, 0.02).unwrap();
        Array2::from_shape_simple_fn((rows, cols), || n.sample(&mut rng))
    }

    #[test]
    fn three_bit_codes_pack_densely_and_legacy_files_still_read() {
        // 11 codes of 3 bits = 33 bits: two words, code 10 straddling them. The expected
        // words come from one 128-bit integer holding u_i at bit 3i (unsigned u = code + 4).
        let u: Vec<u128> = (0..11).map(|i| (i % 8) as u128).collect();
        let codes: Vec<i8> = u.iter().map(|&v| v as i8 - 4).collect();
        let big: u128 = u.iter().enumerate().map(|(i, &v)| v << (3 * i)).sum();
        let want = vec![big as u32 as i32, (big >> 32) as u32 as i32];
        let packed = pack_codes(&codes, 1, 11, 3).unwrap();
        assert_eq!(packed, want);
        assert_eq!(unpack_codes(&packed, 1, 11, 3).unwrap(), codes);
        // Older releases put 10 codes in a word and the 11th alone in the next.
        let legacy: Vec<i32> = vec![
            u[..10]
                .iter()
                .enumerate()
                .map(|(i, &v)| (v as u32) << (3 * i))
                .sum::<u32>() as i32,
            u[10] as i32,
        ];
        // Same word count here (2) as dense: 21 codes tell the layouts apart.
        assert_eq!(legacy.len(), 2);
        let codes21: Vec<i8> = (0..21).map(|i| (i % 8) as i8 - 4).collect();
        let legacy21: Vec<i32> = codes21
            .chunks(10)
            .map(|run| {
                run.iter()
                    .enumerate()
                    .map(|(i, &c)| ((c as i32 + 4) as u32) << (3 * i))
                    .sum::<u32>() as i32
            })
            .collect();
        assert_eq!(legacy21.len(), 3);
        assert_eq!(pack_codes(&codes21, 1, 21, 3).unwrap().len(), 2);
        assert_eq!(unpack_codes(&legacy21, 1, 21, 3).unwrap(), codes21);
        // Zero points pack the same way down the rows.
        let z: Vec<i8> = (0..22).map(|i| (i % 8) as i8 - 4).collect(); // [11, 2]
        let p = pack_codes_dim0(&z, 11, 2, 3).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(unpack_codes_dim0(&p, 11, 2, 3).unwrap(), z);
    }

    #[test]
    fn int4_packing_hand_worked() {
        // Codes 0..=7 → +8 → nibbles 8,9,…,15, first code in the lowest nibble:
        // 0xFEDCBA98 as i32 = 4275878552 − 2^32 = −19088744.
        let codes: Vec<i8> = (0..8).collect();
        assert_eq!(pack_codes(&codes, 1, 8, 4).unwrap(), vec![-19_088_744]);
        // All −8 → all-zero nibbles.
        assert_eq!(pack_codes(&[-8; 8], 1, 8, 4).unwrap(), vec![0]);
        // The byte packer writes exactly the bytes of the word packer, every width and a
        // partial last word included.
        for bits in 2..=8u8 {
            for cols in [1usize, 3, 7, 8, 9, 31, 32, 33, 100] {
                let (lo, hi) = (-(1i32 << (bits - 1)), (1i32 << (bits - 1)) - 1);
                let codes: Vec<i8> = (0..3 * cols)
                    .map(|i| (lo + ((i * 7 + 3) as i32 % (hi - lo + 1))) as i8)
                    .collect();
                let words = pack_codes(&codes, 3, cols, bits).unwrap();
                assert_eq!(
                    pack_codes_le(&codes, 3, cols, bits).unwrap(),
                    le_bytes_i32(&words),
                    "{bits} bits, {cols} cols"
                );
            }
        }
        // A partial run is zero padded: [7, −8, 0] → nibbles 15, 0, 8 → 0x80F = 2063.
        // Two rows of 9 codes: row 0 = [−1; 9] → nibble 7 → 0x77777777, then 7.
        let mut m = vec![-1i8; 9];
        m.extend([7, -8, 0, 0, 0, 0, 0, 0, 0]);
        let p = pack_codes(&m, 2, 9, 4).unwrap();
        assert_eq!(p, vec![0x7777_7777, 7, 0x8888_880F_u32 as i32, 8]);
        assert_eq!(pack_codes(&[7, -8, 0], 1, 3, 4).unwrap(), vec![2063]);
        assert_eq!(unpack_codes(&p, 2, 9, 4).unwrap(), m);
        assert_eq!(unpack_codes(&[-19_088_744], 1, 8, 4).unwrap(), codes);
        assert!(unpack_codes(&p, 2, 17, 4).is_err());
    }

    #[test]
    fn int8_packing_matches_library_docstring() {
        // pack_to_int32 docstring: 8-bit [1, 2] → [129, 130, 0, 0] → 33409.
        assert_eq!(pack_codes(&[1, 2], 1, 2, 8).unwrap(), vec![33409]);
        assert_eq!(unpack_codes(&[33409], 1, 2, 8).unwrap(), vec![1, 2]);
    }

    #[test]
    fn zero_points_pack_along_rows() {
        // 9 rows × 2 groups, zero point of row r group g = (r as i8) − 4 + g.
        let z: Vec<i8> = (0..9).flat_map(|r| [r - 4, r - 3]).collect();
        let p = pack_codes_dim0(&z, 9, 2, 4).unwrap();
        // Packed shape [2, 2]: word (0, g) holds rows 0..8, row r at nibble r; row 8 alone
        // in word (1, g). Group 0 rows 0..8: z+8 = 4,5,…,11 → 0xBA987654.
        assert_eq!(p.len(), 4);
        assert_eq!(p[0] as u32, 0xBA98_7654);
        assert_eq!(p[1] as u32, 0xCBA9_8765);
        assert_eq!(p[2], 12);
        assert_eq!(p[3], 13);
        assert_eq!(unpack_codes_dim0(&p, 9, 2, 4).unwrap(), z);
    }

    fn serialize(entries: &[CompressedEntry]) -> Vec<u8> {
        let views: Vec<(String, TensorView<'_>)> = entries
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    TensorView::new(e.dtype, e.shape.clone(), &e.data).unwrap(),
                )
            })
            .collect();
        ::safetensors::tensor::serialize(views, None).unwrap()
    }

    #[test]
    fn round_trip_through_safetensors_equals_dequantize() {
        let w = weights(20, 100, 1);
        let bias = weights(1, 20, 2);
        let schemes = [
            QuantScheme::new(4, true, Granularity::Group(32)).with_scale_dtype(ScaleDtype::F16),
            QuantScheme::new(4, false, Granularity::Group(64)).with_scale_dtype(ScaleDtype::BF16),
            QuantScheme::new(4, false, Granularity::Channel),
            QuantScheme::new(4, false, Granularity::Tensor),
            QuantScheme::new(8, true, Granularity::Channel),
            QuantScheme::new(8, false, Granularity::Group(16)).with_scale_dtype(ScaleDtype::F16),
            QuantScheme::new(3, false, Granularity::Group(10)),
        ];
        for scheme in schemes {
            for format in [
                CompressionFormat::PackQuantized,
                CompressionFormat::IntQuantized,
            ] {
                let qw = quantize(w.view(), &scheme, QuantMethod::Mse).unwrap();
                let qb = quantize(bias.view(), &scheme, QuantMethod::Rtn).unwrap();
                let mut entries = compressed_entries("layers.0.weight", &qw, format).unwrap();
                entries.extend(compressed_entries("layers.0.bias", &qb, format).unwrap());
                let other = 3.5f32.to_le_bytes().to_vec();
                entries.push(CompressedEntry {
                    name: "norm_scale".into(),
                    dtype: Dtype::F32,
                    shape: vec![1],
                    data: other.into(),
                });
                let bytes = serialize(&entries);
                let st = SafeTensors::deserialize(&bytes).unwrap();
                let map: BTreeMap<String, TensorView<'_>> = st.tensors().into_iter().collect();
                let config = quantization_config(
                    &scheme,
                    format,
                    &["Linear".to_string()],
                    &["lm_head".to_string()],
                );
                let config: Value = serde_json::from_str(&config.to_string()).unwrap();
                let got = read_compressed(&map, &config).unwrap();
                assert_eq!(got.weights.len(), 2, "{scheme:?} {format:?}");
                assert_eq!(got.weights["layers.0.weight"], dequantize(&qw).unwrap());
                assert_eq!(got.weights["layers.0.bias"], dequantize(&qb).unwrap());
                assert!(!got.consumed.contains("norm_scale"));
                assert_eq!(got.consumed.len() + 1, entries.len());
            }
        }
    }

    #[test]
    fn planned_entries_agree_with_compressed_entries() {
        let w = weights(13, 70, 3);
        for scheme in [
            QuantScheme::new(4, true, Granularity::Group(32)),
            QuantScheme::new(4, false, Granularity::Group(128)),
            QuantScheme::new(8, false, Granularity::Channel).with_scale_dtype(ScaleDtype::F16),
            QuantScheme::new(2, false, Granularity::Tensor),
        ] {
            let q = quantize(w.view(), &scheme, QuantMethod::Rtn).unwrap();
            for format in [
                CompressionFormat::PackQuantized,
                CompressionFormat::IntQuantized,
            ] {
                let plan = planned_entries("m.weight", 13, 70, &scheme, format).unwrap();
                let got = compressed_entries("m.weight", &q, format).unwrap();
                assert_eq!(plan.len(), got.len());
                for (p, e) in plan.iter().zip(&got) {
                    assert_eq!((&p.name, p.dtype, &p.shape), (&e.name, e.dtype, &e.shape));
                    let n: usize = e.shape.iter().product();
                    assert_eq!(e.data.len(), n * e.dtype.bitsize() / 8, "{}", e.name);
                }
            }
        }
    }

    #[test]
    fn library_names_and_shapes() {
        // 4-bit g128 asym on [4096, 11008]: packed [4096, 1376], scale [4096, 86],
        // zero points packed along rows [512, 86], shape I64 [2].
        let s =
            QuantScheme::new(4, false, Granularity::Group(128)).with_scale_dtype(ScaleDtype::F16);
        let plan = planned_entries(
            "model.layers.0.mlp.up_proj.weight",
            4096,
            11008,
            &s,
            CompressionFormat::PackQuantized,
        )
        .unwrap();
        let got: Vec<(&str, Dtype, Vec<usize>)> = plan
            .iter()
            .map(|p| (p.name.as_str(), p.dtype, p.shape.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "model.layers.0.mlp.up_proj.weight_packed",
                    Dtype::I32,
                    vec![4096, 1376]
                ),
                (
                    "model.layers.0.mlp.up_proj.weight_scale",
                    Dtype::F16,
                    vec![4096, 86]
                ),
                (
                    "model.layers.0.mlp.up_proj.weight_shape",
                    Dtype::I64,
                    vec![2]
                ),
                (
                    "model.layers.0.mlp.up_proj.weight_zero_point",
                    Dtype::I32,
                    vec![512, 86]
                ),
            ]
        );
        let s = QuantScheme::new(8, true, Granularity::Tensor);
        let plan = planned_entries("fc.weight", 3, 5, &s, CompressionFormat::IntQuantized).unwrap();
        assert_eq!(plan[0].name, "fc.weight");
        assert_eq!(plan[1].shape, vec![1]);
        assert_eq!(module_name("model.lm_head.weight"), "model.lm_head");
    }

    #[test]
    fn config_json_and_parse() {
        let s = QuantScheme::new(4, true, Granularity::Group(128));
        let c = quantization_config(
            &s,
            CompressionFormat::PackQuantized,
            &["Linear".into()],
            &["lm_head".into()],
        );
        assert_eq!(c["quant_method"], "compressed-tensors");
        assert_eq!(c["format"], "pack-quantized");
        let w = &c["config_groups"]["group_0"]["weights"];
        assert_eq!(w["num_bits"], 4);
        assert_eq!(w["strategy"], "group");
        assert_eq!(w["group_size"], 128);
        assert_eq!(w["symmetric"], true);
        assert_eq!(c["config_groups"]["group_0"]["targets"][0], "Linear");
        assert_eq!(c["ignore"][0], "lm_head");
        let wc = weight_config(&c).unwrap();
        assert_eq!(wc.scheme, s);
        assert_eq!(wc.format, CompressionFormat::PackQuantized);
        // A third-party style config: strategy inferred from group_size = −1.
        let c = json!({"quant_method": "compressed-tensors", "format": "int-quantized",
            "config_groups": {"g": {"targets": ["Linear"], "weights": {"num_bits": 8, "group_size": -1, "symmetric": false}}}});
        let wc = weight_config(&c).unwrap();
        assert_eq!(wc.scheme, QuantScheme::new(8, false, Granularity::Channel));
        let mut act = c.clone();
        act["config_groups"]["g"]["input_activations"] = json!({"num_bits": 8});
        assert!(matches!(
            weight_config(&act),
            Err(FormatError::Unsupported(_))
        ));
        let mut bad = c;
        bad["config_groups"]["g"]["weights"]["num_bits"] = json!(16);
        assert!(matches!(weight_config(&bad), Err(FormatError::At { .. })));
    }

    #[test]
    fn corrupt_entries_are_errors_not_panics() {
        let w = weights(4, 16, 9);
        let s = QuantScheme::new(4, false, Granularity::Group(8));
        let q = quantize(w.view(), &s, QuantMethod::Rtn).unwrap();
        let mut entries =
            compressed_entries("a.weight", &q, CompressionFormat::PackQuantized).unwrap();
        // weight_shape claims more columns than were packed.
        entries[2].data = [4i64, 64]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
            .into();
        let bytes = serialize(&entries);
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let map: BTreeMap<String, TensorView<'_>> = st.tensors().into_iter().collect();
        let config = quantization_config(
            &s,
            CompressionFormat::PackQuantized,
            &["Linear".into()],
            &[],
        );
        assert!(read_compressed(&map, &config).is_err());
        let mut map2 = map.clone();
        map2.remove("a.weight_zero_point");
        assert!(read_compressed(&map2, &config).is_err());
    }
}

//! safetensors models: strict validation of uploaded files, read-only memory-mapped access
//! to tensors, float conversions (F64/F32/F16/BF16/F8 → f32 and back) and a streaming writer
//! so that outputs never need the whole model in memory.
//!
//! Parsing is done twice on purpose: our own pass produces messages that name the tensor and
//! the byte offsets at fault, then the `safetensors` crate (the reference implementation) must
//! accept the same bytes, so every model whittle accepts also loads in Python/PyTorch/candle.
//!
//! This module holds what every part shares: dtype facts and the inventory types. The parts:
//! [`header`] validates a file, [`mapped`] gives zero-copy access to its tensors, [`convert`]
//! turns tensor bytes into f32 and back, [`writer`] streams a new file out, and [`foreign`]
//! recognizes the checkpoint formats whittle refuses.

mod convert;
pub mod folder;
mod foreign;
mod header;
mod mapped;
mod writer;

pub use convert::{
    bf16_to_f32, f16_to_f32, f32_to_bf16, f8_e4m3_to_f32, f8_e5m2_to_f32, from_f32, to_f32,
    to_f32_into,
};
pub use foreign::{
    has_pickle_checkpoint_extension, looks_like_onnx, looks_like_pickle_or_zip, ONNX_REFUSED,
    PICKLE_EXTENSIONS,
};
pub use header::{inspect, inspect_with_limits};
pub use mapped::{MappedModel, TensorRef};
pub use writer::{ModelWriter, OutputTarget, SafetensorsWriter, TensorPlan};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::formats::FormatError;

/// Element type of a tensor, re-exported from the `safetensors` crate (e.g. `Dtype::F32`).
pub use ::safetensors::Dtype;

/// Default cap on the JSON header size; the `safetensors` crate refuses anything larger.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 100_000_000;

/// Default cap on the number of tensors in one file: far above real checkpoints (the
/// largest public ones have fewer than 10k tensors per shard), low enough that the
/// inventory, the upload and an analyze of it stay small.
pub const DEFAULT_MAX_TENSORS: usize = 100_000;

/// Default cap on the `__metadata__` map: keys and values plus 32 bytes per entry.
pub const DEFAULT_MAX_METADATA_BYTES: usize = 1 << 20;

/// Caps applied while a header is parsed, so a hostile header is refused before it costs
/// memory in proportion to what it declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderLimits {
    /// Largest JSON header, bytes.
    pub max_header_bytes: usize,
    /// Most tensors listed in one header.
    pub max_tensors: usize,
    /// Largest `__metadata__` (keys and values, plus 32 bytes per entry).
    pub max_metadata_bytes: usize,
}

impl Default for HeaderLimits {
    fn default() -> Self {
        HeaderLimits {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_tensors: DEFAULT_MAX_TENSORS,
            max_metadata_bytes: DEFAULT_MAX_METADATA_BYTES,
        }
    }
}

impl HeaderLimits {
    /// No tensor or metadata cap: for files whittle stored itself (validated at upload, or
    /// written by a job), which a lowered limit must not make unreadable.
    pub fn stored() -> Self {
        HeaderLimits {
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_tensors: usize::MAX,
            max_metadata_bytes: usize::MAX,
        }
    }
}

/// Every dtype the `safetensors` crate knows, in the order used in error messages.
const KNOWN_DTYPES: [Dtype; 19] = [
    Dtype::F64,
    Dtype::F32,
    Dtype::F16,
    Dtype::BF16,
    Dtype::F8_E4M3,
    Dtype::F8_E5M2,
    Dtype::F8_E8M0,
    Dtype::F6_E2M3,
    Dtype::F6_E3M2,
    Dtype::F4,
    Dtype::I64,
    Dtype::I32,
    Dtype::I16,
    Dtype::I8,
    Dtype::U64,
    Dtype::U32,
    Dtype::U16,
    Dtype::U8,
    Dtype::BOOL,
];

/// One tensor as listed in a model's inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// Tensor name as written in the header.
    pub name: String,
    /// safetensors dtype name, e.g. "F32", "BF16", "I8".
    pub dtype: String,
    /// Dimensions, outermost first (row-major).
    pub shape: Vec<usize>,
    /// Product of the dimensions (1 for a scalar).
    pub n_elements: u64,
}

/// Validated summary of a safetensors file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Tensors in file order (by data offset).
    pub tensors: Vec<TensorInfo>,
    /// Total number of elements over all tensors.
    pub n_params: u64,
    /// dtype name → number of elements of that dtype.
    pub dtype_histogram: BTreeMap<String, u64>,
    /// The `__metadata__` string map (empty when absent).
    pub metadata: BTreeMap<String, String>,
    /// Size of the JSON header in bytes (without the 8-byte length prefix).
    pub header_bytes: u64,
}

/// Parse a dtype name as written in safetensors headers ("F32", "BF16", …).
pub fn parse_dtype(name: &str) -> Result<Dtype, FormatError> {
    KNOWN_DTYPES
        .iter()
        .copied()
        .find(|d| d.to_string() == name)
        .ok_or_else(|| {
            FormatError::Unsupported(format!(
                "unknown dtype '{name}'; known dtypes: {}",
                known_dtype_list()
            ))
        })
}

fn known_dtype_list() -> String {
    KNOWN_DTYPES
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// True for floating-point dtypes (F64, F32, F16, BF16 and the F8/F6/F4 formats).
pub fn is_float(dtype: Dtype) -> bool {
    matches!(
        dtype,
        Dtype::F64
            | Dtype::F32
            | Dtype::F16
            | Dtype::BF16
            | Dtype::F8_E4M3
            | Dtype::F8_E5M2
            | Dtype::F8_E8M0
            | Dtype::F6_E2M3
            | Dtype::F6_E3M2
            | Dtype::F4
    )
}

/// True when [`to_f32`] can convert tensors of this dtype.
pub fn converts_to_f32(dtype: Dtype) -> bool {
    matches!(
        dtype,
        Dtype::F64 | Dtype::F32 | Dtype::F16 | Dtype::BF16 | Dtype::F8_E4M3 | Dtype::F8_E5M2
    )
}

/// Number of bytes `n_elements` of `dtype` occupy, or `None` on overflow or when the size is
/// not a whole number of bytes (sub-byte dtypes).
pub fn byte_size(dtype: Dtype, n_elements: u64) -> Option<u64> {
    let bits = n_elements.checked_mul(dtype.bitsize() as u64)?;
    (bits % 8 == 0).then_some(bits / 8)
}

/// Product of the dimensions, `None` on overflow.
fn element_count(shape: &[usize]) -> Option<u64> {
    shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?))
}

fn invalid(message: impl Into<String>) -> FormatError {
    FormatError::Invalid(message.into())
}

fn at_tensor(name: &str, message: impl Into<String>) -> FormatError {
    FormatError::At {
        location: format!("tensor '{name}'"),
        message: message.into(),
    }
}

/// Test inputs shared by the safetensors tests.
#[cfg(test)]
mod fixtures {
    use crate::formats::FormatError;

    pub(super) fn fixture_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/digits_mlp.safetensors")
    }

    pub(super) fn fixture_bytes() -> Vec<u8> {
        std::fs::read(fixture_path()).expect("fixture present")
    }

    pub(super) fn assert_mentions(e: &FormatError, needles: &[&str]) {
        let text = e.to_string();
        for n in needles {
            assert!(text.contains(n), "message {text:?} should mention {n:?}");
        }
    }
}

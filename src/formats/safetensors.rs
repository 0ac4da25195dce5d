//! safetensors models: strict validation of uploaded files, read-only memory-mapped access
//! to tensors, float conversions (F64/F32/F16/BF16/F8 → f32 and back) and a streaming writer
//! so that outputs never need the whole model in memory.
//!
//! Parsing is done twice on purpose: our own pass produces messages that name the tensor and
//! the byte offsets at fault, then the `safetensors` crate (the reference implementation) must
//! accept the same bytes, so every model whittle accepts also loads in Python/PyTorch/candle.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::path::Path;

use ::safetensors::SafeTensorError;
use memmap2::Mmap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::formats::FormatError;

/// Element type of a tensor, re-exported from the `safetensors` crate (e.g. `Dtype::F32`).
pub use ::safetensors::Dtype;

/// Default cap on the JSON header size; the `safetensors` crate refuses anything larger.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 100_000_000;

/// Length of the little-endian header-size prefix.
const LEN_PREFIX: usize = 8;

/// Tensors above this many elements are converted in parallel.
const PARALLEL_CONVERT_MIN: usize = 1 << 20;

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

/// Recognize a PyTorch pickle or zip checkpoint (or a GGUF file) from the first bytes of an
/// upload; returns a human name for the format so the API can answer 415.
pub fn looks_like_pickle_or_zip(prefix: &[u8]) -> Option<&'static str> {
    // A safetensors header length of 0x0280..=0x05ff begins with the bytes of a pickle
    // PROTO opcode; the JSON header's `{` at byte 8 tells the two apart.
    if prefix.get(8) == Some(&b'{') {
        return None;
    }
    match prefix {
        // Pickle protocols 2..=5 start with the PROTO opcode 0x80 and the protocol number.
        [0x80, 2..=5, ..] => Some("PyTorch pickle checkpoint"),
        // torch.save since 1.6 writes a zip archive.
        [b'P', b'K', 3, 4, ..] => Some("zip archive (PyTorch .pt/.pth checkpoint)"),
        [b'G', b'G', b'U', b'F', ..] => Some("GGUF file"),
        _ => None,
    }
}

/// True when a file name has an extension used for pickle checkpoints (.bin, .pt, .pth, .ckpt,
/// .pkl), which whittle refuses without parsing.
pub fn has_pickle_checkpoint_extension(filename: &str) -> bool {
    let lower = filename.to_ascii_lowercase();
    [".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"]
        .iter()
        .any(|ext| lower.ends_with(ext))
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

/// Header entries in the order they appear in the JSON, duplicates kept so we can report them.
struct RawHeader(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for RawHeader {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = RawHeader;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object mapping tensor names to {dtype, shape, data_offsets}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawHeader, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(RawHeader(entries))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

#[derive(Deserialize)]
struct RawTensorEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [u64; 2],
}

/// One validated tensor: inventory record plus its absolute byte range in the file.
#[derive(Debug, Clone)]
struct Located {
    info: TensorInfo,
    dtype: Dtype,
    range: Range<usize>,
}

/// Result of a full validation: inventory and byte ranges (both in file order).
struct Parsed {
    inventory: Inventory,
    located: Vec<Located>,
}

/// Validate a complete safetensors file held in memory and summarize it.
///
/// Checks: length prefix present and ≤ `max_header_bytes` and ≤ file, header is a UTF-8 JSON
/// object without duplicate names, `__metadata__` is a string map, every dtype is known,
/// shape × dtype size fits in 64 bits, offsets are ordered, inside the data section, without
/// overlaps or gaps, and cover it exactly. Finally the `safetensors` crate must accept it too.
pub fn inspect(bytes: &[u8], max_header_bytes: usize) -> Result<Inventory, FormatError> {
    parse(bytes, max_header_bytes).map(|p| p.inventory)
}

fn parse(bytes: &[u8], max_header_bytes: usize) -> Result<Parsed, FormatError> {
    let header_len = read_header_len(bytes, max_header_bytes)?;
    // read_header_len checked header_len <= bytes.len() - 8, so these conversions and slices hold.
    let header_end = LEN_PREFIX + header_len;
    let header = bytes
        .get(LEN_PREFIX..header_end)
        .ok_or_else(|| invalid("header length exceeds the file size"))?;
    let data_len = (bytes.len() - header_end) as u64;

    let text = std::str::from_utf8(header).map_err(|e| {
        invalid(format!(
            "header is not valid UTF-8 (byte {} of the header): not a safetensors file",
            e.valid_up_to()
        ))
    })?;
    if !text.trim_start().starts_with('{') {
        return Err(invalid(
            "header does not start with '{': not a safetensors file (expected a JSON object after the 8-byte length)",
        ));
    }
    let RawHeader(entries) = serde_json::from_str(text)
        .map_err(|e| invalid(format!("header is not valid JSON: {e}")))?;

    let mut seen = HashSet::with_capacity(entries.len());
    let mut metadata = BTreeMap::new();
    let mut located = Vec::with_capacity(entries.len());
    let mut dtype_histogram = BTreeMap::new();
    let mut n_params: u64 = 0;
    for (name, value) in entries {
        if !seen.insert(name.clone()) {
            return Err(invalid(format!("header lists '{name}' more than once")));
        }
        if name == "__metadata__" {
            metadata = serde_json::from_value::<BTreeMap<String, String>>(value).map_err(|e| {
                invalid(format!(
                    "__metadata__ must be an object of string values: {e}"
                ))
            })?;
            continue;
        }
        let entry: RawTensorEntry = serde_json::from_value(value).map_err(|e| {
            at_tensor(
                &name,
                format!("expected {{\"dtype\", \"shape\", \"data_offsets\"}}: {e}"),
            )
        })?;
        let dtype = parse_dtype(&entry.dtype).map_err(|_| {
            at_tensor(
                &name,
                format!(
                    "unknown dtype '{}'; known dtypes: {}",
                    entry.dtype,
                    known_dtype_list()
                ),
            )
        })?;
        let n_elements = element_count(&entry.shape).ok_or_else(|| {
            at_tensor(
                &name,
                format!(
                    "shape {:?} has more elements than fit in 64 bits",
                    entry.shape
                ),
            )
        })?;
        let expected = dtype
            .bitsize()
            .try_into()
            .ok()
            .and_then(|bits: u64| n_elements.checked_mul(bits))
            .ok_or_else(|| {
                at_tensor(
                    &name,
                    format!(
                        "shape {:?} × {dtype} overflows 64-bit byte size",
                        entry.shape
                    ),
                )
            })?;
        if expected % 8 != 0 {
            return Err(at_tensor(
                &name,
                format!("{n_elements} elements of {dtype} do not fill a whole number of bytes"),
            ));
        }
        let expected = expected / 8;
        let [start, end] = entry.data_offsets;
        if end < start {
            return Err(at_tensor(
                &name,
                format!("data_offsets [{start}, {end}] end before they start"),
            ));
        }
        if end - start != expected {
            return Err(at_tensor(
                &name,
                format!(
                    "shape {:?} of {dtype} needs {expected} bytes but data_offsets [{start}, {end}] span {} bytes",
                    entry.shape,
                    end - start
                ),
            ));
        }
        if end > data_len {
            return Err(at_tensor(
                &name,
                format!(
                    "data_offsets [{start}, {end}] are out of bounds: the data section has only {data_len} bytes (truncated file?)"
                ),
            ));
        }
        n_params = n_params
            .checked_add(n_elements)
            .ok_or_else(|| invalid("total number of parameters overflows 64 bits"))?;
        *dtype_histogram.entry(dtype.to_string()).or_insert(0u64) += n_elements;
        // end <= data_len <= bytes.len(), so both fit in usize.
        let range = (header_end + start as usize)..(header_end + end as usize);
        located.push(Located {
            info: TensorInfo {
                name,
                dtype: dtype.to_string(),
                shape: entry.shape,
                n_elements,
            },
            dtype,
            range,
        });
    }

    located.sort_by(|a, b| {
        (a.range.start, a.range.end, &a.info.name).cmp(&(b.range.start, b.range.end, &b.info.name))
    });
    check_coverage(&located, header_end, data_len)?;

    // The reference implementation must agree: whatever we accept loads everywhere else.
    ::safetensors::SafeTensors::read_metadata(bytes).map_err(|e| match e {
        SafeTensorError::HeaderTooLarge => FormatError::TooLarge(format!(
            "header is larger than the safetensors limit of {DEFAULT_MAX_HEADER_BYTES} bytes"
        )),
        other => invalid(format!("rejected by the safetensors library: {other}")),
    })?;

    let inventory = Inventory {
        tensors: located.iter().map(|l| l.info.clone()).collect(),
        n_params,
        dtype_histogram,
        metadata,
        header_bytes: header_len as u64,
    };
    Ok(Parsed { inventory, located })
}

/// Read and sanity-check the 8-byte little-endian header length.
fn read_header_len(bytes: &[u8], max_header_bytes: usize) -> Result<usize, FormatError> {
    let Some(prefix) = bytes.first_chunk::<LEN_PREFIX>() else {
        return Err(if bytes.is_empty() {
            invalid("empty file: a safetensors file starts with an 8-byte header length")
        } else {
            invalid(format!(
                "file is only {} bytes: a safetensors file starts with an 8-byte header length followed by a JSON header",
                bytes.len()
            ))
        });
    };
    let declared = u64::from_le_bytes(*prefix);
    let available = (bytes.len() - LEN_PREFIX) as u64;
    if declared > available {
        return Err(invalid(format!(
            "header length field says {declared} bytes but only {available} bytes follow it: not a safetensors file, or truncated"
        )));
    }
    if declared < 2 {
        return Err(invalid(format!(
            "header length {declared} is too small to hold a JSON object"
        )));
    }
    // declared <= available <= usize::MAX here.
    let declared = declared as usize;
    if declared > max_header_bytes {
        return Err(FormatError::TooLarge(format!(
            "header is {declared} bytes, more than the limit of {max_header_bytes} bytes"
        )));
    }
    Ok(declared)
}

/// Tensors (sorted by offset) must tile the data section exactly: no overlap, no gap, no tail.
fn check_coverage(
    located: &[Located],
    header_end: usize,
    data_len: u64,
) -> Result<(), FormatError> {
    let mut cursor = header_end;
    let mut previous: Option<&Located> = None;
    for l in located {
        let rel = |x: usize| x - header_end;
        if l.range.start < cursor {
            // Only possible when there is a previous tensor (cursor starts at header_end).
            let prev = previous.map(|p| p.info.name.as_str()).unwrap_or("");
            return Err(at_tensor(
                &l.info.name,
                format!(
                    "data_offsets [{}, {}] overlap tensor '{prev}' which ends at {}",
                    rel(l.range.start),
                    rel(l.range.end),
                    rel(cursor)
                ),
            ));
        }
        if l.range.start > cursor {
            let after = match previous {
                Some(p) => format!("after tensor '{}' (ends at {})", p.info.name, rel(cursor)),
                None => "at the start of the data section".to_string(),
            };
            return Err(at_tensor(
                &l.info.name,
                format!(
                    "gap of {} bytes {after}: data_offsets start at {}",
                    l.range.start - cursor,
                    rel(l.range.start)
                ),
            ));
        }
        cursor = l.range.end;
        previous = Some(l);
    }
    let covered = (cursor - header_end) as u64;
    if covered != data_len {
        return Err(invalid(format!(
            "data section has {data_len} bytes but the tensors cover only {covered}: {} trailing bytes belong to no tensor",
            data_len - covered
        )));
    }
    Ok(())
}

/// A read-only, memory-mapped, validated safetensors file.
pub struct MappedModel {
    map: Mmap,
    inventory: Inventory,
    located: Vec<Located>,
    by_name: HashMap<String, usize>,
}

/// Borrowed view of one tensor inside a [`MappedModel`].
#[derive(Debug, Clone, Copy)]
pub struct TensorRef<'a> {
    /// Tensor name.
    pub name: &'a str,
    /// Element type.
    pub dtype: Dtype,
    /// Dimensions, outermost first.
    pub shape: &'a [usize],
    /// Raw little-endian bytes (no alignment guarantee).
    pub data: &'a [u8],
}

impl<'a> TensorRef<'a> {
    /// Number of elements (product of the shape).
    pub fn n_elements(&self) -> u64 {
        element_count(self.shape).unwrap_or(0)
    }

    /// The data of an F32 tensor as `&[f32]` without copying, when its bytes are 4-byte
    /// aligned (the usual case: headers are padded to 8 bytes and writers keep offsets
    /// aligned). `None` otherwise; use [`to_f32`] then.
    pub fn as_f32_slice(&self) -> Option<&'a [f32]> {
        if self.dtype != Dtype::F32 || cfg!(target_endian = "big") {
            return None;
        }
        // SAFETY: every bit pattern is a valid f32, and `align_to` only puts correctly
        // aligned, whole elements in the middle slice.
        let (head, body, tail) = unsafe { self.data.align_to::<f32>() };
        (head.is_empty() && tail.is_empty()).then_some(body)
    }
}

impl fmt::Debug for MappedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MappedModel")
            .field("bytes", &self.map.len())
            .field("tensors", &self.located.len())
            .finish()
    }
}

impl MappedModel {
    /// Memory-map and fully validate a file, with [`DEFAULT_MAX_HEADER_BYTES`].
    pub fn open(path: impl AsRef<Path>) -> Result<MappedModel, FormatError> {
        Self::open_with_limit(path, DEFAULT_MAX_HEADER_BYTES)
    }

    /// Memory-map and fully validate a file with an explicit header size cap.
    pub fn open_with_limit(
        path: impl AsRef<Path>,
        max_header_bytes: usize,
    ) -> Result<MappedModel, FormatError> {
        let path = path.as_ref();
        let file = File::open(path)
            .map_err(|e| invalid(format!("cannot open model file {}: {e}", path.display())))?;
        let len = file
            .metadata()
            .map_err(|e| invalid(format!("cannot stat model file {}: {e}", path.display())))?
            .len();
        if len == 0 {
            // mmap of an empty file fails on some platforms; report the real problem.
            return Err(invalid(
                "empty file: a safetensors file starts with an 8-byte header length",
            ));
        }
        // SAFETY: the map is read-only and the file is whittle's own spooled upload or
        // artifact, which nothing rewrites while it is open; a concurrent truncation by
        // another process would be outside the service's contract.
        let map = unsafe { Mmap::map(&file) }
            .map_err(|e| invalid(format!("cannot map model file {}: {e}", path.display())))?;
        let Parsed { inventory, located } = parse(&map, max_header_bytes)?;
        let by_name = located
            .iter()
            .enumerate()
            .map(|(i, l)| (l.info.name.clone(), i))
            .collect();
        Ok(MappedModel {
            map,
            inventory,
            located,
            by_name,
        })
    }

    /// The validated inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Tensor names in file order.
    pub fn names(&self) -> Vec<&str> {
        self.located.iter().map(|l| l.info.name.as_str()).collect()
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.located.len()
    }

    /// True when the file holds no tensors.
    pub fn is_empty(&self) -> bool {
        self.located.is_empty()
    }

    /// Look a tensor up by name.
    pub fn tensor(&self, name: &str) -> Result<TensorRef<'_>, FormatError> {
        let &i = self
            .by_name
            .get(name)
            .ok_or_else(|| at_tensor(name, "no tensor with this name in the model"))?;
        self.tensor_at(i)
            .ok_or_else(|| at_tensor(name, "no tensor with this name in the model"))
    }

    /// Drop the resident pages of tensor `name` once a streaming pass is done with it, so
    /// the process's memory follows the tensor being worked on, not the whole file.
    /// Later reads fault the pages back in from the file; unknown names are ignored.
    pub fn release(&self, name: &str) {
        let Some(l) = self.by_name.get(name).and_then(|&i| self.located.get(i)) else {
            return;
        };
        let (start, len) = (l.range.start, l.range.len());
        if len == 0 {
            return;
        }
        // SAFETY: the map is read-only and file-backed, so MADV_DONTNEED only discards
        // clean pages that are re-read from the file on the next access; no TensorRef is
        // invalidated. Failure is harmless (the pages stay resident), hence ignored.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len)
        };
    }

    /// The `i`-th tensor in file order.
    pub fn tensor_at(&self, i: usize) -> Option<TensorRef<'_>> {
        let l = self.located.get(i)?;
        Some(TensorRef {
            name: &l.info.name,
            dtype: l.dtype,
            shape: &l.info.shape,
            data: self.map.get(l.range.clone())?,
        })
    }

    /// All tensors in file order.
    pub fn tensors(&self) -> impl Iterator<Item = TensorRef<'_>> + '_ {
        (0..self.located.len()).filter_map(move |i| self.tensor_at(i))
    }
}

/// Convert a float tensor to f32 (F32, F64 rounded to nearest, F16, BF16, F8_E4M3, F8_E5M2
/// exactly). Other dtypes → [`FormatError::Unsupported`].
pub fn to_f32(t: &TensorRef<'_>) -> Result<Vec<f32>, FormatError> {
    let mut out = Vec::new();
    to_f32_into(t, &mut out)?;
    Ok(out)
}

/// Like [`to_f32`] but reuses `out` (resized to the element count) to avoid reallocation
/// when streaming many tensors.
pub fn to_f32_into(t: &TensorRef<'_>, out: &mut Vec<f32>) -> Result<(), FormatError> {
    let width = match t.dtype {
        Dtype::F64 => 8,
        Dtype::F32 => 4,
        Dtype::F16 | Dtype::BF16 => 2,
        Dtype::F8_E4M3 | Dtype::F8_E5M2 => 1,
        other => {
            return Err(at_tensor(
                t.name,
                format!(
                    "dtype {other} cannot be read as float32 (supported: F64, F32, F16, BF16, F8_E4M3, F8_E5M2)"
                ),
            ))
        }
    };
    if !t.data.len().is_multiple_of(width) {
        return Err(at_tensor(
            t.name,
            format!(
                "{} bytes is not a multiple of the {width}-byte {} element",
                t.data.len(),
                t.dtype
            ),
        ));
    }
    let n = t.data.len() / width;
    // Every element is overwritten below; only growth needs filling, so a reused buffer of
    // the same size is not zeroed again.
    out.truncate(n);
    out.resize(n, 0.0);
    let convert = |src: &[u8], dst: &mut [f32]| match t.dtype {
        Dtype::F64 => convert_chunk(src, dst, |b: [u8; 8]| f64::from_le_bytes(b) as f32),
        Dtype::F32 => convert_chunk(src, dst, f32::from_le_bytes),
        Dtype::F16 => convert_chunk(src, dst, |b: [u8; 2]| f16_to_f32(u16::from_le_bytes(b))),
        Dtype::BF16 => convert_chunk(src, dst, |b: [u8; 2]| bf16_to_f32(u16::from_le_bytes(b))),
        Dtype::F8_E4M3 => convert_chunk(src, dst, |b: [u8; 1]| f8_e4m3_to_f32(b[0])),
        _ => convert_chunk(src, dst, |b: [u8; 1]| f8_e5m2_to_f32(b[0])),
    };
    if n >= PARALLEL_CONVERT_MIN {
        const CHUNK: usize = 1 << 16;
        t.data
            .par_chunks(CHUNK * width)
            .zip(out.par_chunks_mut(CHUNK))
            .for_each(|(src, dst)| convert(src, dst));
    } else {
        convert(t.data, out);
    }
    Ok(())
}

#[inline]
fn convert_chunk<const W: usize>(src: &[u8], dst: &mut [f32], f: impl Fn([u8; W]) -> f32) {
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(W)) {
        // chunks_exact(W) always yields W bytes, so the conversion cannot fail.
        if let Ok(bytes) = <[u8; W]>::try_from(s) {
            *d = f(bytes);
        }
    }
}

/// Encode f32 values as little-endian bytes of `dtype` (F32, F64, F16 and BF16 with
/// round-to-nearest-even; NaN stays NaN, overflow becomes ±inf).
pub fn from_f32(values: &[f32], dtype: Dtype) -> Result<Vec<u8>, FormatError> {
    let width = match dtype {
        Dtype::F64 => 8,
        Dtype::F32 => 4,
        Dtype::F16 | Dtype::BF16 => 2,
        other => {
            return Err(FormatError::Unsupported(format!(
                "cannot encode float32 values as {other} (supported: F32, F64, F16, BF16)"
            )))
        }
    };
    let mut out = vec![0u8; values.len() * width];
    let encode = |src: &[f32], dst: &mut [u8]| match dtype {
        Dtype::F64 => encode_chunk(src, dst, |v| f64::from(v).to_le_bytes()),
        Dtype::F32 => encode_chunk(src, dst, f32::to_le_bytes),
        Dtype::F16 => encode_chunk(src, dst, |v| f32_to_f16(v).to_le_bytes()),
        _ => encode_chunk(src, dst, |v| f32_to_bf16(v).to_le_bytes()),
    };
    if values.len() >= PARALLEL_CONVERT_MIN {
        const CHUNK: usize = 1 << 16;
        values
            .par_chunks(CHUNK)
            .zip(out.par_chunks_mut(CHUNK * width))
            .for_each(|(src, dst)| encode(src, dst));
    } else {
        encode(values, &mut out);
    }
    Ok(out)
}

#[inline]
fn encode_chunk<const W: usize>(src: &[f32], dst: &mut [u8], f: impl Fn(f32) -> [u8; W]) {
    for (d, &v) in dst.chunks_exact_mut(W).zip(src) {
        d.copy_from_slice(&f(v));
    }
}

/// IEEE binary16 bits → f32, exact (subnormals, ±inf and NaN payloads included).
#[inline]
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = if exp == 0x1f {
        // inf / NaN: all-ones exponent, payload shifted into place.
        sign | 0x7f80_0000 | (mant << 13)
    } else if exp != 0 {
        // Normal: rebias 15 → 127.
        sign | ((exp + 112) << 23) | (mant << 13)
    } else if mant == 0 {
        sign
    } else {
        // Subnormal: value = mant × 2^-24, exact in f32 (mant < 2^10).
        let magnitude = mant as f32 * f32::from_bits(0x3380_0000); // 2^-24
        sign | magnitude.to_bits()
    };
    f32::from_bits(bits)
}

/// bfloat16 bits → f32 (exact: bf16 is the top half of an f32).
#[inline]
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

/// OCP FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN) → f32, exact.
#[inline]
pub fn f8_e4m3_to_f32(b: u8) -> f32 {
    let sign = u32::from(b & 0x80) << 24;
    let exp = u32::from((b >> 3) & 0xf);
    let mant = u32::from(b & 0x7);
    let bits = if exp == 0xf && mant == 0x7 {
        sign | 0x7fc0_0000
    } else if exp != 0 {
        sign | ((exp + 120) << 23) | (mant << 20)
    } else {
        // Subnormal: mant × 2^-9.
        sign | (mant as f32 * f32::from_bits(0x3b00_0000)).to_bits()
    };
    f32::from_bits(bits)
}

/// OCP FP8 E5M2 → f32, exact (E5M2 is the top byte of an IEEE binary16).
#[inline]
pub fn f8_e5m2_to_f32(b: u8) -> f32 {
    f16_to_f32(u16::from(b) << 8)
}

/// f32 → IEEE binary16 bits, round to nearest, ties to even; overflow → ±inf, NaN → quiet NaN.
#[inline]
pub fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let mant = b & 0x7f_ffff;
    if exp == 0xff {
        return if mant == 0 {
            sign | 0x7c00
        } else {
            sign | 0x7e00 | (mant >> 13) as u16
        };
    }
    let unbiased = exp - 127;
    if unbiased > 15 {
        return sign | 0x7c00;
    }
    if unbiased >= -14 {
        let h = (((unbiased + 15) as u32) << 10) | (mant >> 13);
        let rem = mant & 0x1fff;
        // A carry out of the mantissa correctly bumps the exponent (up to inf).
        let h = if rem > 0x1000 || (rem == 0x1000 && h & 1 == 1) {
            h + 1
        } else {
            h
        };
        return sign | h as u16;
    }
    if unbiased < -25 {
        return sign;
    }
    // Result is subnormal: value / 2^-24 = full mantissa >> shift, shift in 14..=24.
    let full = mant | 0x80_0000;
    let shift = (-unbiased - 1) as u32;
    let h = full >> shift;
    let rem = full & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    let h = if rem > half || (rem == half && h & 1 == 1) {
        h + 1
    } else {
        h
    };
    sign | h as u16
}

/// f32 → bfloat16 bits, round to nearest, ties to even; NaN → quiet NaN.
#[inline]
pub fn f32_to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) | 0x0040) as u16;
    }
    let rounding = 0x7fff + ((b >> 16) & 1);
    (b.wrapping_add(rounding) >> 16) as u16
}

/// The dtype, shape and name of one tensor a [`SafetensorsWriter`] will write.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorPlan {
    /// Tensor name.
    pub name: String,
    /// Element type.
    pub dtype: Dtype,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
}

/// Streaming safetensors writer: the header is written up front from the plans, then each
/// tensor's bytes in plan order, so only one tensor needs to be in memory at a time.
///
/// Misuse (wrong order, wrong size, missing tensors) is a programming error in the caller and
/// is reported as `io::ErrorKind::InvalidInput`, alongside genuine I/O failures.
pub struct SafetensorsWriter<W: Write> {
    out: W,
    plans: Vec<(TensorPlan, u64)>,
    next: usize,
    failed: bool,
}

fn misuse(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

impl SafetensorsWriter<BufWriter<File>> {
    /// Create (truncate) `path` and write the header.
    pub fn create(
        path: impl AsRef<Path>,
        plans: Vec<TensorPlan>,
        metadata: BTreeMap<String, String>,
    ) -> io::Result<Self> {
        let file = File::create(path)?;
        Self::new(BufWriter::with_capacity(1 << 20, file), plans, metadata)
    }
}

impl<W: Write> SafetensorsWriter<W> {
    /// Write the header for `plans` (offsets in the given order) to `out`.
    pub fn new(
        mut out: W,
        plans: Vec<TensorPlan>,
        metadata: BTreeMap<String, String>,
    ) -> io::Result<Self> {
        let header = build_header(&plans, &metadata)?;
        let sized = plans
            .into_iter()
            .map(|p| {
                let bytes = element_count(&p.shape)
                    .and_then(|n| byte_size(p.dtype, n))
                    .unwrap_or(0); // build_header already validated the size
                (p, bytes)
            })
            .collect();
        out.write_all(&(header.len() as u64).to_le_bytes())?;
        out.write_all(&header)?;
        Ok(SafetensorsWriter {
            out,
            plans: sized,
            next: 0,
            failed: false,
        })
    }

    /// Write the next tensor's bytes; `name` must be the next planned tensor and `data` exactly
    /// its planned byte size.
    pub fn write_tensor(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(misuse(
                "writer failed earlier; the output is incomplete".into(),
            ));
        }
        let Some((plan, bytes)) = self.plans.get(self.next) else {
            return Err(misuse(format!(
                "tensor '{name}' written after all {} planned tensors",
                self.plans.len()
            )));
        };
        if plan.name != name {
            return Err(misuse(format!(
                "tensor '{name}' written out of order: expected '{}' next",
                plan.name
            )));
        }
        if data.len() as u64 != *bytes {
            return Err(misuse(format!(
                "tensor '{name}' has {} bytes but its plan ({} {:?}) needs {bytes}",
                data.len(),
                plan.dtype,
                plan.shape
            )));
        }
        if let Err(e) = self.out.write_all(data) {
            self.failed = true;
            return Err(e);
        }
        self.next += 1;
        Ok(())
    }

    /// Check that every planned tensor was written, flush, and return the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.failed {
            return Err(misuse(
                "writer failed earlier; the output is incomplete".into(),
            ));
        }
        if let Some((plan, _)) = self.plans.get(self.next) {
            return Err(misuse(format!(
                "finish called with {} of {} tensors written; '{}' is missing",
                self.next,
                self.plans.len(),
                plan.name
            )));
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// JSON header padded with spaces to a multiple of 8 bytes, offsets in plan order.
fn build_header(plans: &[TensorPlan], metadata: &BTreeMap<String, String>) -> io::Result<Vec<u8>> {
    use serde::ser::SerializeMap;

    #[derive(Serialize)]
    struct Entry<'a> {
        dtype: String,
        shape: &'a [usize],
        data_offsets: [u64; 2],
    }
    struct Header<'a> {
        metadata: &'a BTreeMap<String, String>,
        entries: Vec<(&'a str, Entry<'a>)>,
    }
    impl Serialize for Header<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(None)?;
            if !self.metadata.is_empty() {
                map.serialize_entry("__metadata__", self.metadata)?;
            }
            for (name, entry) in &self.entries {
                map.serialize_entry(name, entry)?;
            }
            map.end()
        }
    }

    let mut names = HashSet::with_capacity(plans.len());
    let mut offset: u64 = 0;
    let mut entries = Vec::with_capacity(plans.len());
    for p in plans {
        if p.name == "__metadata__" {
            return Err(misuse(
                "'__metadata__' is reserved and cannot name a tensor".into(),
            ));
        }
        if !names.insert(p.name.as_str()) {
            return Err(misuse(format!("tensor '{}' planned twice", p.name)));
        }
        let bytes = element_count(&p.shape)
            .and_then(|n| byte_size(p.dtype, n))
            .ok_or_else(|| {
                misuse(format!(
                    "tensor '{}': shape {:?} of {} has no whole-byte size that fits 64 bits",
                    p.name, p.shape, p.dtype
                ))
            })?;
        let end = offset
            .checked_add(bytes)
            .ok_or_else(|| misuse("total data size overflows 64 bits".into()))?;
        entries.push((
            p.name.as_str(),
            Entry {
                dtype: p.dtype.to_string(),
                shape: &p.shape,
                data_offsets: [offset, end],
            },
        ));
        offset = end;
    }
    let mut json = serde_json::to_vec(&Header { metadata, entries }).map_err(io::Error::other)?;
    let padded = json.len().div_ceil(8) * 8;
    json.resize(padded, b' ');
    Ok(json)
}

#[cfg(test)]
mod tests {

    #[test]
    fn safetensors_whose_header_length_looks_like_a_pickle_opcode_is_not_refused() {
        // Header length 0x0280 = 640 starts with 0x80 0x02, the pickle protocol-2 opcode.
        let mut prefix = 640u64.to_le_bytes().to_vec();
        prefix.extend_from_slice(b"{\"a\":");
        assert_eq!(looks_like_pickle_or_zip(&prefix), None);
        assert!(looks_like_pickle_or_zip(&[0x80, 0x02, b'c', b'x']).is_some());
    }
    use super::*;

    fn fixture_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/digits_mlp.safetensors")
    }

    fn fixture_bytes() -> Vec<u8> {
        std::fs::read(fixture_path()).expect("fixture present")
    }

    /// A file made of an explicit header string and data section.
    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn err_of(bytes: &[u8]) -> FormatError {
        match inspect(bytes, DEFAULT_MAX_HEADER_BYTES) {
            Ok(inv) => panic!("expected an error, got {inv:?}"),
            Err(e) => e,
        }
    }

    fn assert_mentions(e: &FormatError, needles: &[&str]) {
        let text = e.to_string();
        for n in needles {
            assert!(text.contains(n), "message {text:?} should mention {n:?}");
        }
    }

    #[test]
    fn fixture_inventory() {
        let inv = inspect(&fixture_bytes(), DEFAULT_MAX_HEADER_BYTES).unwrap();
        assert_eq!(inv.tensors.len(), 6);
        assert_eq!(inv.n_params, 85002);
        assert_eq!(
            inv.dtype_histogram,
            BTreeMap::from([("F32".to_string(), 85002)])
        );
        assert_eq!(inv.metadata.get("arch").map(String::as_str), Some("mlp"));
        assert_eq!(
            inv.metadata.get("activations").map(String::as_str),
            Some("relu,relu,none")
        );
        // File order by offset, as written by the Python exporter.
        let names: Vec<_> = inv.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "layers.0.bias",
                "layers.0.weight",
                "layers.1.bias",
                "layers.1.weight",
                "layers.2.bias",
                "layers.2.weight"
            ]
        );
        let w0 = &inv.tensors[1];
        assert_eq!(
            (w0.dtype.as_str(), w0.shape.as_slice(), w0.n_elements),
            ("F32", &[256, 64][..], 16384)
        );
        assert_eq!(inv.header_bytes, 0x210);
        // Inventory round-trips through JSON (stored in the models table).
        let json = serde_json::to_string(&inv).unwrap();
        assert_eq!(serde_json::from_str::<Inventory>(&json).unwrap(), inv);
    }

    #[test]
    fn mapped_model_matches_reference_library() {
        let bytes = fixture_bytes();
        let reference = ::safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let model = MappedModel::open(fixture_path()).unwrap();
        assert_eq!(model.len(), 6);
        assert_eq!(model.names()[0], "layers.0.bias");
        for t in model.tensors() {
            let r = reference.tensor(t.name).unwrap();
            assert_eq!(t.data, r.data(), "{}", t.name);
            assert_eq!(t.shape, r.shape());
            assert_eq!(t.dtype, r.dtype());
            let values = to_f32(&t).unwrap();
            assert_eq!(values.len() as u64, t.n_elements());
            let first = f32::from_le_bytes(r.data()[..4].try_into().unwrap());
            assert_eq!(values[0].to_bits(), first.to_bits());
        }
        for t in model.tensors() {
            let direct = t
                .as_f32_slice()
                .expect("F32 tensors of the fixture are aligned");
            assert_eq!(direct, to_f32(&t).unwrap().as_slice());
        }
        let w = model.tensor("layers.2.weight").unwrap();
        assert_eq!(w.shape, &[10, 256]);
        let e = model.tensor("layers.9.weight").unwrap_err();
        assert_mentions(&e, &["layers.9.weight", "no tensor"]);
    }

    #[test]
    fn open_reports_missing_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = MappedModel::open(dir.path().join("nope.safetensors")).unwrap_err();
        assert_mentions(&missing, &["cannot open"]);
        let empty = dir.path().join("empty.safetensors");
        std::fs::write(&empty, b"").unwrap();
        assert_mentions(&MappedModel::open(&empty).unwrap_err(), &["empty file"]);
    }

    #[test]
    fn corrupt_empty_and_tiny_files() {
        assert_mentions(&err_of(b""), &["empty file"]);
        assert_mentions(
            &err_of(&[1, 0, 0, 0, 0, 0, 0]),
            &["only 7 bytes", "8-byte header length"],
        );
    }

    #[test]
    fn corrupt_header_length_huge_or_past_end() {
        let mut huge = (1u64 << 60).to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        let e = err_of(&huge);
        assert!(matches!(e, FormatError::Invalid(_)));
        assert_mentions(&e, &["1152921504606846976", "only 2 bytes follow"]);

        let mut past = 100u64.to_le_bytes().to_vec();
        past.extend_from_slice(b"{\"a\":1}");
        assert_mentions(&err_of(&past), &["says 100 bytes", "only 7 bytes"]);
    }

    #[test]
    fn header_above_cap_is_too_large() {
        let bytes = file(&format!("{{{}}}", " ".repeat(100)), &[]);
        let e = inspect(&bytes, 64).unwrap_err();
        assert!(matches!(e, FormatError::TooLarge(_)), "{e:?}");
        assert_mentions(&e, &["102 bytes", "limit of 64"]);
    }

    #[test]
    fn corrupt_truncated_file() {
        let mut bytes = fixture_bytes();
        bytes.truncate(bytes.len() - 100);
        let e = err_of(&bytes);
        assert_mentions(&e, &["layers.2.weight", "out of bounds", "truncated"]);
        // Truncated inside the header.
        bytes.truncate(300);
        assert_mentions(&err_of(&bytes), &["header length field says 528 bytes"]);
    }

    #[test]
    fn corrupt_overlapping_offsets() {
        let h = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
        let e = err_of(&file(h, &[0; 12]));
        assert_mentions(&e, &["tensor 'b'", "overlap tensor 'a'", "[4, 12]"]);
    }

    #[test]
    fn corrupt_gap_in_offsets() {
        let h = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#;
        let e = err_of(&file(h, &[0; 12]));
        assert_mentions(&e, &["tensor 'b'", "gap of 4 bytes", "after tensor 'a'"]);
        let h = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
        assert_mentions(&err_of(&file(h, &[0; 8])), &["gap of 4 bytes at the start"]);
    }

    #[test]
    fn corrupt_trailing_bytes() {
        let h = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        assert_mentions(&err_of(&file(h, &[0; 9])), &["5 trailing bytes"]);
    }

    #[test]
    fn corrupt_offsets_out_of_bounds() {
        let h = r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#;
        assert_mentions(
            &err_of(&file(h, &[0; 8])),
            &["tensor 'a'", "[0, 16]", "out of bounds", "only 8 bytes"],
        );
        let h = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#;
        assert_mentions(
            &err_of(&file(h, &[0; 8])),
            &["tensor 'a'", "end before they start"],
        );
    }

    #[test]
    fn corrupt_size_mismatch() {
        let h = r#"{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#;
        assert_mentions(
            &err_of(&file(h, &[0; 8])),
            &["tensor 'a'", "needs 6 bytes", "span 8 bytes"],
        );
    }

    #[test]
    fn corrupt_unknown_dtype() {
        let h = r#"{"w":{"dtype":"Q4_K","shape":[2],"data_offsets":[0,2]}}"#;
        let e = err_of(&file(h, &[0; 2]));
        assert_mentions(&e, &["tensor 'w'", "unknown dtype 'Q4_K'", "BF16"]);
        assert!(matches!(
            parse_dtype("Q4_K"),
            Err(FormatError::Unsupported(_))
        ));
        assert_eq!(parse_dtype("BF16").unwrap(), Dtype::BF16);
    }

    #[test]
    fn corrupt_non_json_and_non_utf8_headers() {
        assert_mentions(
            &err_of(&file("{not json}", &[])),
            &["header is not valid JSON"],
        );
        assert_mentions(
            &err_of(&file("[1, 2, 3]", &[])),
            &["does not start with '{'"],
        );
        let mut bytes = 4u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[b'{', 0xff, 0xfe, b'}']);
        assert_mentions(&err_of(&bytes), &["not valid UTF-8"]);
        assert_mentions(&err_of(&file("{}}", &[])), &["not valid JSON"]);
    }

    #[test]
    fn corrupt_shape_overflow() {
        let h = r#"{"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,4]}}"#;
        assert_mentions(
            &err_of(&file(h, &[0; 4])),
            &["tensor 'a'", "more elements than fit in 64 bits"],
        );
        let h = r#"{"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}}"#;
        assert_mentions(
            &err_of(&file(h, &[0; 4])),
            &["tensor 'a'", "overflows 64-bit byte size"],
        );
        let h = r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#;
        assert_mentions(&err_of(&file(h, &[0; 4])), &["tensor 'a'"]);
    }

    #[test]
    fn corrupt_duplicate_names_and_bad_metadata() {
        let h = r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#;
        assert_mentions(&err_of(&file(h, &[0; 2])), &["'a' more than once"]);
        let h = r#"{"__metadata__":{"n":3}}"#;
        assert_mentions(
            &err_of(&file(h, &[])),
            &["__metadata__ must be an object of string values"],
        );
        let h = r#"{"a":{"dtype":"U8","shape":[1]}}"#;
        assert_mentions(&err_of(&file(h, &[0])), &["tensor 'a'", "data_offsets"]);
    }

    #[test]
    fn valid_edge_cases_accepted() {
        // No tensors at all, scalars and zero-sized tensors are all legal safetensors.
        let inv = inspect(&file("{}", &[]), DEFAULT_MAX_HEADER_BYTES).unwrap();
        assert_eq!(inv.n_params, 0);
        let h = r#"{"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]}}"#;
        let inv = inspect(&file(h, &[0; 8]), DEFAULT_MAX_HEADER_BYTES).unwrap();
        assert_eq!(inv.n_params, 1);
        assert_eq!(inv.tensors[0].shape, Vec::<usize>::new());
        assert_eq!(inv.dtype_histogram.get("I64"), Some(&1));
    }

    #[test]
    fn pickle_and_zip_detection() {
        assert_eq!(
            looks_like_pickle_or_zip(&[0x80, 0x02, 0x8a, 0x0a]),
            Some("PyTorch pickle checkpoint")
        );
        assert!(looks_like_pickle_or_zip(&[0x80, 0x05]).is_some());
        assert!(looks_like_pickle_or_zip(b"PK\x03\x04rest")
            .unwrap()
            .contains("zip"));
        assert!(looks_like_pickle_or_zip(&[0x80, 0x06]).is_none());
        assert!(looks_like_pickle_or_zip(&fixture_bytes()[..16]).is_none());
        assert!(looks_like_pickle_or_zip(b"").is_none());
        assert!(has_pickle_checkpoint_extension("model.PTH"));
        assert!(has_pickle_checkpoint_extension("pytorch_model.bin"));
        assert!(!has_pickle_checkpoint_extension("model.safetensors"));
    }

    fn plan(name: &str, dtype: Dtype, shape: &[usize]) -> TensorPlan {
        TensorPlan {
            name: name.into(),
            dtype,
            shape: shape.to_vec(),
        }
    }

    #[test]
    fn writer_output_loads_in_reference_library() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.safetensors");
        let w: Vec<f32> = (0..6).map(|i| i as f32 * 0.5 - 1.0).collect();
        let plans = vec![
            plan("layers.0.weight", Dtype::F32, &[2, 3]),
            plan("b16", Dtype::BF16, &[3]),
            plan("q", Dtype::I8, &[5]),
            plan("empty", Dtype::F16, &[0]),
        ];
        let meta = BTreeMap::from([
            ("arch".to_string(), "mlp".to_string()),
            ("q\"uote".into(), "x\ny".into()),
        ]);
        let mut writer = SafetensorsWriter::create(&path, plans, meta.clone()).unwrap();
        writer
            .write_tensor("layers.0.weight", &from_f32(&w, Dtype::F32).unwrap())
            .unwrap();
        writer
            .write_tensor("b16", &from_f32(&[1.0, -2.0, 0.5], Dtype::BF16).unwrap())
            .unwrap();
        writer.write_tensor("q", &[1, 2, 3, 4, 0xff]).unwrap();
        writer.write_tensor("empty", &[]).unwrap();
        writer.finish().unwrap();

        let bytes = std::fs::read(&path).unwrap();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        assert_eq!(header_len % 8, 0, "header padded to 8 bytes");
        let st = ::safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.len(), 4);
        let t = st.tensor("layers.0.weight").unwrap();
        assert_eq!((t.dtype(), t.shape()), (Dtype::F32, &[2usize, 3][..]));
        let back: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(back, w);
        assert_eq!(st.tensor("q").unwrap().data(), &[1, 2, 3, 4, 0xff]);
        assert_eq!(
            st.tensor("b16").unwrap().data(),
            &[0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f]
        );
        let (_, m) = ::safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let m = m.metadata().clone().unwrap();
        assert_eq!(m.get("q\"uote").map(String::as_str), Some("x\ny"));

        let model = MappedModel::open(&path).unwrap();
        assert_eq!(
            model.names(),
            ["layers.0.weight", "b16", "q", "empty"],
            "plan order kept"
        );
        assert_eq!(model.inventory().metadata, meta);
        assert_eq!(
            to_f32(&model.tensor("b16").unwrap()).unwrap(),
            [1.0, -2.0, 0.5]
        );
        let e = to_f32(&model.tensor("q").unwrap()).unwrap_err();
        assert_mentions(&e, &["tensor 'q'", "I8 cannot be read as float32"]);
    }

    #[test]
    fn writer_rejects_misuse() {
        let plans = || vec![plan("a", Dtype::F32, &[2]), plan("b", Dtype::U8, &[1])];
        let mut w = SafetensorsWriter::new(Vec::new(), plans(), BTreeMap::new()).unwrap();
        let e = w.write_tensor("b", &[0]).unwrap_err();
        assert!(e.to_string().contains("out of order: expected 'a'"), "{e}");
        let e = w.write_tensor("a", &[0; 7]).unwrap_err();
        assert!(
            e.to_string().contains("has 7 bytes") && e.to_string().contains("needs 8"),
            "{e}"
        );
        w.write_tensor("a", &[0; 8]).unwrap();
        let e = SafetensorsWriter::finish(w).unwrap_err();
        assert!(e.to_string().contains("'b' is missing"), "{e}");

        let mut w = SafetensorsWriter::new(Vec::new(), plans(), BTreeMap::new()).unwrap();
        w.write_tensor("a", &[0; 8]).unwrap();
        w.write_tensor("b", &[7]).unwrap();
        assert!(w
            .write_tensor("c", &[])
            .unwrap_err()
            .to_string()
            .contains("after all 2"));
        let bytes = w.finish().unwrap();
        let inv = inspect(&bytes, DEFAULT_MAX_HEADER_BYTES).unwrap();
        assert_eq!(inv.n_params, 3);
        assert!(inv.metadata.is_empty());

        let dup = vec![plan("a", Dtype::F32, &[1]), plan("a", Dtype::F32, &[1])];
        assert!(SafetensorsWriter::new(Vec::new(), dup, BTreeMap::new()).is_err());
        let huge = vec![plan("a", Dtype::F64, &[1 << 62])];
        assert!(SafetensorsWriter::new(Vec::new(), huge, BTreeMap::new()).is_err());
        let reserved = vec![plan("__metadata__", Dtype::F64, &[1])];
        assert!(SafetensorsWriter::new(Vec::new(), reserved, BTreeMap::new()).is_err());
    }

    /// Independent decoding of binary16 from its fields, in f64.
    fn f16_reference(h: u16) -> f64 {
        let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
        let exp = i32::from((h >> 10) & 0x1f);
        let mant = f64::from(h & 0x3ff);
        match exp {
            0 => sign * mant * 2f64.powi(-24),
            31 if mant == 0.0 => sign * f64::INFINITY,
            31 => f64::NAN,
            _ => sign * (1.0 + mant / 1024.0) * 2f64.powi(exp - 15),
        }
    }

    fn same_value(got: f32, want: f64, what: &str) {
        if want.is_nan() {
            assert!(got.is_nan(), "{what}: expected NaN, got {got}");
        } else {
            assert_eq!(f64::from(got), want, "{what}");
            assert_eq!(
                got.is_sign_negative(),
                want.is_sign_negative(),
                "{what}: sign"
            );
        }
    }

    #[test]
    fn f16_decoding_exhaustive() {
        for h in 0..=u16::MAX {
            let got = f16_to_f32(h);
            same_value(got, f16_reference(h), &format!("f16 {h:#06x}"));
            if got.is_nan() {
                // Payload and sign survive, so a round trip keeps the bits.
                assert_eq!((got.to_bits() >> 13) & 0x3ff, u32::from(h & 0x3ff));
                assert_eq!(got.is_sign_negative(), h & 0x8000 != 0);
            }
        }
        // Spot values worked out by hand.
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // smallest subnormal
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24)); // largest subnormal
    }

    #[test]
    fn bf16_decoding_exhaustive() {
        for h in 0..=u16::MAX {
            let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
            let exp = i32::from((h >> 7) & 0xff);
            let mant = f64::from(h & 0x7f);
            let want = match exp {
                0 => sign * mant * 2f64.powi(-133),
                255 if mant == 0.0 => sign * f64::INFINITY,
                255 => f64::NAN,
                _ => sign * (1.0 + mant / 128.0) * 2f64.powi(exp - 127),
            };
            same_value(bf16_to_f32(h), want, &format!("bf16 {h:#06x}"));
        }
    }

    #[test]
    fn f8_decoding_exhaustive() {
        for b in 0..=u8::MAX {
            let sign = if b & 0x80 != 0 { -1.0 } else { 1.0 };
            // E4M3 (fn): bias 7, no infinities, only S.1111.111 is NaN, max 448.
            let (e, m) = (i32::from((b >> 3) & 0xf), f64::from(b & 7));
            let want = match (e, b & 7) {
                (15, 7) => f64::NAN,
                (0, _) => sign * m / 8.0 * 2f64.powi(-6),
                _ => sign * (1.0 + m / 8.0) * 2f64.powi(e - 7),
            };
            same_value(f8_e4m3_to_f32(b), want, &format!("e4m3 {b:#04x}"));
            // E5M2: bias 15, IEEE-like.
            let (e, m) = (i32::from((b >> 2) & 0x1f), f64::from(b & 3));
            let want = match e {
                0 => sign * m / 4.0 * 2f64.powi(-14),
                31 if m == 0.0 => sign * f64::INFINITY,
                31 => f64::NAN,
                _ => sign * (1.0 + m / 4.0) * 2f64.powi(e - 15),
            };
            same_value(f8_e5m2_to_f32(b), want, &format!("e5m2 {b:#04x}"));
        }
        assert_eq!(f8_e4m3_to_f32(0x7e), 448.0);
    }

    #[test]
    fn f16_encoding_round_trips_and_rounds_to_even() {
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            if x.is_nan() {
                assert!(f16_to_f32(f32_to_f16(x)).is_nan());
                continue;
            }
            assert_eq!(f32_to_f16(x), h, "round trip {h:#06x}");
        }
        // Between each pair of adjacent non-negative finite f16 values, the exact midpoint
        // (representable in f32) rounds to the even one, and one f32 ulp either side rounds
        // to the nearer one.
        for h in 0..0x7bffu16 {
            let (lo, hi) = (f64::from(f16_to_f32(h)), f64::from(f16_to_f32(h + 1)));
            let mid = ((lo + hi) / 2.0) as f32;
            assert_eq!(f64::from(mid), (lo + hi) / 2.0, "midpoint exact");
            let even = if h % 2 == 0 { h } else { h + 1 };
            assert_eq!(f32_to_f16(mid), even, "tie at {h:#06x}");
            assert_eq!(f32_to_f16(-mid), even | 0x8000);
            assert_eq!(f32_to_f16(f32::from_bits(mid.to_bits() - 1)), h);
            assert_eq!(f32_to_f16(f32::from_bits(mid.to_bits() + 1)), h + 1);
        }
        // Overflow: 65504 is the max; the midpoint to the next (virtual) step 65536 is 65520.
        assert_eq!(f32_to_f16(65519.996), 0x7bff);
        assert_eq!(f32_to_f16(65520.0), 0x7c00);
        assert_eq!(f32_to_f16(-1e10), 0xfc00);
        assert_eq!(f32_to_f16(1e-10), 0x0000);
        assert_eq!(f32_to_f16(f32::from_bits(1)), 0);
    }

    #[test]
    fn bf16_encoding_round_trips_and_rounds_to_even() {
        for h in 0..=u16::MAX {
            let x = bf16_to_f32(h);
            if x.is_nan() {
                assert!(bf16_to_f32(f32_to_bf16(x)).is_nan());
                continue;
            }
            assert_eq!(f32_to_bf16(x), h, "round trip {h:#06x}");
            if h & 0x7fff >= 0x7f7f {
                continue; // the step above the largest finite value is infinity
            }
            // Midpoint to the next bf16 is the f32 with bit 15 set.
            let mid = f32::from_bits((u32::from(h) << 16) | 0x8000);
            let even = if h % 2 == 0 { h } else { h + 1 };
            assert_eq!(f32_to_bf16(mid), even, "tie at {h:#06x}");
            assert_eq!(f32_to_bf16(f32::from_bits(mid.to_bits() - 1)), h);
            assert_eq!(f32_to_bf16(f32::from_bits(mid.to_bits() + 1)), h + 1);
        }
        assert_eq!(f32_to_bf16(f32::MAX), 0x7f80, "rounds up to infinity");
    }

    #[test]
    fn parallel_conversion_matches_scalar() {
        let n = PARALLEL_CONVERT_MIN + 12_345;
        let bits: Vec<u16> = (0..n)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u16)
            .collect();
        let data: Vec<u8> = bits.iter().flat_map(|b| b.to_le_bytes()).collect();
        let shape = [n];
        let t = TensorRef {
            name: "x",
            dtype: Dtype::F16,
            shape: &shape,
            data: &data,
        };
        let got = to_f32(&t).unwrap();
        assert_eq!(got.len(), n);
        for (i, (&g, &b)) in got.iter().zip(&bits).enumerate() {
            assert_eq!(g.to_bits(), f16_to_f32(b).to_bits(), "element {i}");
        }
        // The parallel encoder agrees with the scalar one, element by element.
        for dtype in [Dtype::F16, Dtype::BF16] {
            let bytes = from_f32(&got, dtype).unwrap();
            assert_eq!(bytes.len(), 2 * n);
            for (i, (chunk, &v)) in bytes.chunks_exact(2).zip(&got).enumerate() {
                let want = if dtype == Dtype::F16 {
                    f32_to_f16(v)
                } else {
                    f32_to_bf16(v)
                };
                assert_eq!(
                    u16::from_le_bytes([chunk[0], chunk[1]]),
                    want,
                    "element {i}"
                );
            }
        }
        let t = TensorRef {
            dtype: Dtype::F64,
            data: &data[..16],
            shape: &[2],
            name: "d",
        };
        assert_eq!(to_f32(&t).unwrap().len(), 2);
        let mut buf: Vec<u8> = vec![0; 12];
        let off = (0..4)
            .find(|o| !(buf.as_ptr() as usize + o).is_multiple_of(4))
            .unwrap();
        buf[off..off + 4].copy_from_slice(&1.0f32.to_le_bytes());
        let t = TensorRef {
            name: "m",
            dtype: Dtype::F32,
            shape: &[1],
            data: &buf[off..off + 4],
        };
        assert!(
            t.as_f32_slice().is_none(),
            "misaligned data is not reinterpreted"
        );
        assert_eq!(to_f32(&t).unwrap(), [1.0]);
        assert!(TensorRef {
            dtype: Dtype::BF16,
            ..t
        }
        .as_f32_slice()
        .is_none());
        let odd = TensorRef {
            dtype: Dtype::F32,
            data: &data[..6],
            shape: &[1],
            name: "o",
        };
        assert!(to_f32(&odd).is_err());
    }
}

//! Validation of a whole safetensors file: the length prefix, the JSON header (dtypes, shapes,
//! offsets, metadata) and the tiling of the data section, each failure named by tensor and
//! byte offsets; then the `safetensors` crate must accept the same bytes.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Range;

use ::safetensors::SafeTensorError;
use serde::Deserialize;

use super::{
    at_tensor, element_count, invalid, known_dtype_list, parse_dtype, Dtype, HeaderLimits,
    Inventory, TensorInfo, DEFAULT_MAX_HEADER_BYTES,
};
use crate::formats::FormatError;

/// Length of the little-endian header-size prefix.
const LEN_PREFIX: usize = 8;

/// One entry of the header as read by [`HeaderVisitor`]: a tensor (with its name) or the
/// `__metadata__` map.
enum RawEntry {
    Tensor(String, RawTensorEntry),
    Metadata(BTreeMap<String, String>),
}

/// Reads the header object entry by entry into typed records (no intermediate
/// `serde_json::Value` tree), checking as it goes so a hostile header is refused before it
/// costs memory: more than `max_tensors` tensors, NUL characters in names or metadata, and
/// entries that are not tensor records. The first such problem is left in `error` (with a
/// message naming the tensor) and parsing stops.
struct HeaderVisitor<'e> {
    limits: HeaderLimits,
    error: &'e mut Option<FormatError>,
}

/// Marker error for serde: the real error is in [`HeaderVisitor::error`].
const STOPPED: &str = "whittle: header check failed";

impl<'de> serde::de::DeserializeSeed<'de> for HeaderVisitor<'_> {
    type Value = Vec<RawEntry>;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for HeaderVisitor<'_> {
    type Value = Vec<RawEntry>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object mapping tensor names to {dtype, shape, data_offsets}")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error as _;
        let mut stop = |e: FormatError| {
            *self.error = Some(e);
            A::Error::custom(STOPPED)
        };
        let mut entries = Vec::new();
        let mut n_tensors = 0usize;
        let mut index = 0usize;
        while let Some(name) = map.next_key::<String>()? {
            if name == "__metadata__" {
                let mut problem = None;
                let seed = MetadataVisitor {
                    max_bytes: self.limits.max_metadata_bytes,
                    problem: &mut problem,
                };
                let metadata = map.next_value_seed(seed);
                let metadata = match (metadata, problem) {
                    (_, Some(p)) => return Err(stop(p)),
                    (Ok(m), None) => m,
                    (Err(e), None) => {
                        return Err(stop(invalid(format!(
                            "__metadata__ must be an object of string values: {e}"
                        ))))
                    }
                };
                if let Some(problem) = metadata_nul(&metadata) {
                    return Err(stop(problem));
                }
                entries.push(RawEntry::Metadata(metadata));
                index += 1;
                continue;
            }
            if name.contains('\0') {
                return Err(stop(invalid(format!(
                    "tensor name at index {index} contains U+0000 (NUL), which names may not hold"
                ))));
            }
            n_tensors += 1;
            if n_tensors > self.limits.max_tensors {
                return Err(stop(FormatError::TooLarge(format!(
                    "the header lists more than {} tensors, the limit per file (a larger checkpoint \
                     should be split into shards)",
                    self.limits.max_tensors
                ))));
            }
            let entry = map.next_value::<RawTensorEntry>().map_err(|e| {
                stop(at_tensor(
                    &name,
                    format!("expected {{\"dtype\", \"shape\", \"data_offsets\"}}: {e}"),
                ))
            })?;
            entries.push(RawEntry::Tensor(name, entry));
            index += 1;
        }
        Ok(entries)
    }
}

/// Reads `__metadata__` into a map, refusing it once keys and values exceed `max_bytes`
/// (each entry also counts [`METADATA_ENTRY_OVERHEAD`] bytes, which bounds the number of
/// entries and so the map's bookkeeping).
struct MetadataVisitor<'e> {
    max_bytes: usize,
    problem: &'e mut Option<FormatError>,
}

/// Bytes charged per metadata entry on top of its key and value.
const METADATA_ENTRY_OVERHEAD: usize = 32;

impl<'de> serde::de::DeserializeSeed<'de> for MetadataVisitor<'_> {
    type Value = BTreeMap<String, String>;
    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MetadataVisitor<'_> {
    type Value = BTreeMap<String, String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of string values")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error as _;
        let mut out = BTreeMap::new();
        let mut used = 0usize;
        while let Some((key, value)) = map.next_entry::<String, String>()? {
            used = used
                .saturating_add(key.len())
                .saturating_add(value.len())
                .saturating_add(METADATA_ENTRY_OVERHEAD);
            if used > self.max_bytes {
                *self.problem = Some(FormatError::TooLarge(format!(
                    "__metadata__ is larger than the limit of {} bytes (keys and values, {} more \
                     per entry)",
                    self.max_bytes, METADATA_ENTRY_OVERHEAD
                )));
                return Err(A::Error::custom(STOPPED));
            }
            out.insert(key, value);
        }
        Ok(out)
    }
}

/// The first NUL character in a `__metadata__` key or value, as an error naming it.
fn metadata_nul(metadata: &BTreeMap<String, String>) -> Option<FormatError> {
    metadata.iter().enumerate().find_map(|(i, (key, value))| {
        if key.contains('\0') {
            Some(FormatError::At {
                location: "__metadata__".into(),
                message: format!(
                    "key at index {i} (in sorted order) contains U+0000 (NUL), which metadata may not hold"
                ),
            })
        } else if value.contains('\0') {
            Some(FormatError::At {
                location: format!("__metadata__.{key}"),
                message: "value contains U+0000 (NUL), which metadata may not hold".into(),
            })
        } else {
            None
        }
    })
}

#[derive(Deserialize)]
struct RawTensorEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [u64; 2],
}

/// One validated tensor: inventory record plus its absolute byte range in the file.
#[derive(Debug, Clone)]
pub(super) struct Located {
    pub(super) info: TensorInfo,
    pub(super) dtype: Dtype,
    pub(super) range: Range<usize>,
}

/// Result of a full validation: inventory and byte ranges (both in file order).
pub(super) struct Parsed {
    pub(super) inventory: Inventory,
    pub(super) located: Vec<Located>,
}

/// Validate a complete safetensors file held in memory and summarize it.
///
/// Checks: length prefix present and ≤ `max_header_bytes` and ≤ file, header is a UTF-8 JSON
/// object without duplicate names, `__metadata__` is a string map, every dtype is known,
/// shape × dtype size fits in 64 bits, offsets are ordered, inside the data section, without
/// overlaps or gaps, and cover it exactly. Finally the `safetensors` crate must accept it too.
pub fn inspect(bytes: &[u8], max_header_bytes: usize) -> Result<Inventory, FormatError> {
    inspect_with_limits(
        bytes,
        HeaderLimits {
            max_header_bytes,
            ..HeaderLimits::default()
        },
    )
}

/// [`inspect`] with every cap explicit (header bytes and tensor count).
pub fn inspect_with_limits(bytes: &[u8], limits: HeaderLimits) -> Result<Inventory, FormatError> {
    parse(bytes, limits).map(|p| p.inventory)
}

pub(super) fn parse(bytes: &[u8], limits: HeaderLimits) -> Result<Parsed, FormatError> {
    let header_len = read_header_len(bytes, limits.max_header_bytes)?;
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
    let mut stopped = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = HeaderVisitor {
        limits,
        error: &mut stopped,
    };
    let entries = serde::de::DeserializeSeed::deserialize(seed, &mut de)
        .and_then(|entries| de.end().map(|()| entries));
    let entries = match (entries, stopped) {
        (_, Some(e)) => return Err(e),
        (Ok(entries), None) => entries,
        (Err(e), None) => return Err(invalid(format!("header is not valid JSON: {e}"))),
    };

    let mut seen = HashSet::with_capacity(entries.len());
    let mut metadata = BTreeMap::new();
    let mut located = Vec::with_capacity(entries.len());
    let mut dtype_histogram = BTreeMap::new();
    let mut n_params: u64 = 0;
    for entry in entries {
        let (name, entry) = match entry {
            RawEntry::Tensor(name, entry) => (name, entry),
            RawEntry::Metadata(m) => {
                if !seen.insert("__metadata__".to_string()) {
                    return Err(invalid("header lists '__metadata__' more than once"));
                }
                metadata = m;
                continue;
            }
        };
        if !seen.insert(name.clone()) {
            return Err(invalid(format!("header lists '{name}' more than once")));
        }
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_mentions, fixture_bytes};
    use super::*;

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
}

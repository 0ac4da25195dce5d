//! Property tests of the file parsers (safetensors header, compressed-tensors reader, CSV and
//! NPY readers) on hostile input: no panic, every refusal an error value, and no allocation
//! proportional to a size the file declares but does not hold.
//!
//! Each property runs a bounded number of cases in `cargo test` (fast enough for every run);
//! run longer with `PROPTEST_CASES=100000 cargo test --release --test fuzz_parsers`.
//!
//! A counting global allocator measures, per thread, the largest single allocation and the
//! peak of live bytes during one parse; both must stay within a multiple of the input size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use serde_json::{json, Value};
use whittle::formats::compressed_tensors::decompress_to_safetensors;
use whittle::formats::dataset::{parse_csv, parse_npy, CsvOptions, NpyOptions, Task};
use whittle::formats::safetensors::{inspect_with_limits, HeaderLimits};

// --- allocation accounting -----------------------------------------------------------------

/// Refuse (abort on) any single allocation above this: a parser that trusts a declared size
/// dies here instead of taking the machine's memory.
const HARD_CAP: usize = 1 << 30;

struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn on_alloc(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(size);
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

fn on_free(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

// SAFETY: forwards to the system allocator; the bookkeeping touches only const-initialized
// thread-locals (no allocation) and tolerates their absence during thread teardown.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > HARD_CAP {
            return std::ptr::null_mut();
        }
        on_alloc(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_free(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > HARD_CAP {
            return std::ptr::null_mut();
        }
        on_alloc(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > HARD_CAP {
            return std::ptr::null_mut();
        }
        on_free(layout.size());
        on_alloc(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with (peak live bytes above the start, largest single
/// allocation) on this thread.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    LARGEST.with(|l| l.set(0));
    let out = f();
    let peak = PEAK.with(Cell::get).saturating_sub(start);
    (out, peak, LARGEST.with(Cell::get))
}

/// What a parse may allocate for `input_len` bytes of input: a constant plus a multiple of
/// the input (never of what the input declares).
fn allowance(input_len: usize, per_byte: usize) -> usize {
    (4 << 20) + per_byte * input_len
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// --- safetensors -----------------------------------------------------------------------------

const DTYPES: [&str; 8] = ["F32", "F16", "BF16", "I8", "U8", "I64", "F8_E4M3", "Q4"];

fn st_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Names with the characters that break things: NUL, quotes, backslashes, non-ASCII.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,4}(\\.[0-9]{1,2})?(\\.weight|\\.bias|_scale|_packed|_shape|_zero_point)?",
        "[a-z\u{0}\"\\\\é€]{0,6}",
        Just("__metadata__".to_string()),
    ]
}

/// A dimension: mostly small, sometimes zero or enormous.
fn dim() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0u64..5,
        1 => Just(0u64),
        1 => Just(u64::MAX / 2),
        1 => Just(1u64 << 40),
    ]
}

/// One header entry as JSON: a tensor record (offsets consistent or not), metadata, or junk.
fn entry() -> impl Strategy<Value = Value> {
    let tensor = (
        prop::sample::select(DTYPES.to_vec()),
        prop::collection::vec(dim(), 0..4),
        0u64..64,
        prop_oneof![Just(None), (0u64..64).prop_map(Some), Just(Some(u64::MAX))],
    )
        .prop_map(|(dtype, shape, start, end)| {
            let end = end.unwrap_or(start + 4);
            json!({"dtype": dtype, "shape": shape, "data_offsets": [start, end]})
        });
    let metadata = prop::collection::btree_map(name(), name(), 0..4).prop_map(|m| json!(m));
    let junk = prop_oneof![
        Just(json!(null)),
        Just(json!([1, 2])),
        Just(json!({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]})),
        Just(json!({"dtype": "F32", "shape": [1]})),
        Just(json!({"n": 3})),
    ];
    prop_oneof![6 => tensor, 1 => metadata, 1 => junk]
}

/// A file whose header is a JSON object of random entries over a random data section.
fn random_safetensors() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((name(), entry()), 0..8),
        prop::collection::vec(any::<u8>(), 0..96),
    )
        .prop_map(|(entries, data)| {
            // Written by hand so duplicate names survive (a map would merge them).
            let body: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}:{}", json!(k), v))
                .collect();
            st_bytes(&format!("{{{}}}", body.join(",")), &data)
        })
}

/// A valid file of small tensors (offsets tiled in order), to be mutated.
fn valid_safetensors() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (
            "[a-z]{1,6}",
            prop::sample::select(vec!["F32", "F16", "I8", "U8"]),
            prop::collection::vec(0usize..4, 0..3),
        ),
        0..6,
    )
    .prop_map(|tensors| {
        let mut header = serde_json::Map::new();
        let mut offset = 0usize;
        for (name, dtype, shape) in tensors {
            if header.contains_key(&name) {
                continue; // a repeated name would replace its first entry and leave a gap
            }
            let size = match dtype {
                "F32" => 4,
                "F16" => 2,
                _ => 1,
            };
            let n = size * shape.iter().product::<usize>();
            header.insert(
                name,
                json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}),
            );
            offset += n;
        }
        header.insert("__metadata__".into(), json!({"format": "pt"}));
        st_bytes(&Value::Object(header).to_string(), &vec![7u8; offset])
    })
}

/// Byte edits: overwrite, truncate, or splice in.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
            any::<usize>().prop_map(Edit::Truncate),
            (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
                .prop_map(|(i, b)| Edit::Insert(i, b)),
        ],
        0..4,
    )
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Set(i, b) => {
                if let Some(slot) = bytes.get_mut(i % len) {
                    *slot = *b;
                }
            }
            Edit::Truncate(i) => bytes.truncate(i % len),
            Edit::Insert(i, b) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, b.iter().copied());
            }
        }
    }
    bytes
}

fn check_safetensors(bytes: &[u8], limits: HeaderLimits) -> Result<(), TestCaseError> {
    let (result, peak, largest) = measured(|| inspect_with_limits(bytes, limits));
    let allowed = allowance(bytes.len(), 256);
    prop_assert!(
        peak <= allowed,
        "peak {peak} bytes for a {}-byte file",
        bytes.len()
    );
    prop_assert!(largest <= allowed, "one allocation of {largest} bytes");
    if let Ok(inv) = result {
        prop_assert!(inv.tensors.len() <= limits.max_tensors);
        prop_assert!(inv.tensors.iter().all(|t| !t.name.contains('\0')));
        prop_assert!(inv
            .metadata
            .iter()
            .all(|(k, v)| !k.contains('\0') && !v.contains('\0')));
        let total: u64 = inv.tensors.iter().map(|t| t.n_elements).sum();
        prop_assert_eq!(total, inv.n_params);
        // Whatever whittle accepts, the reference implementation loads.
        prop_assert!(::safetensors::SafeTensors::deserialize(bytes).is_ok());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn safetensors_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_safetensors(&bytes, HeaderLimits::default())?;
    }

    #[test]
    fn safetensors_random_headers(bytes in random_safetensors(), max_tensors in 1usize..6) {
        check_safetensors(&bytes, HeaderLimits { max_tensors, ..HeaderLimits::default() })?;
    }

    #[test]
    fn safetensors_valid_files_accepted_and_mutations_survived(
        bytes in valid_safetensors(),
        edits in edits(),
    ) {
        let inv = inspect_with_limits(&bytes, HeaderLimits::default());
        prop_assert!(inv.is_ok(), "{inv:?}");
        check_safetensors(&apply(bytes, &edits), HeaderLimits::default())?;
    }

    #[test]
    fn safetensors_declared_header_length_is_not_trusted(declared in any::<u64>(), tail in prop::collection::vec(any::<u8>(), 0..32)) {
        let mut bytes = declared.to_le_bytes().to_vec();
        bytes.extend(tail);
        check_safetensors(&bytes, HeaderLimits::default())?;
    }
}

// --- compressed-tensors ------------------------------------------------------------------------

/// A compressed-tensors file: one quantized weight `w` whose entries and config are random
/// (shapes declared in `w_shape` may be enormous while the data is tiny).
fn compressed_file() -> impl Strategy<Value = Vec<u8>> {
    (
        2u64..=8,
        any::<bool>(),
        prop_oneof![
            Just(json!({"strategy": "tensor"})),
            Just(json!({"strategy": "channel"})),
            (prop_oneof![Just(-1i64), Just(0), 1i64..9, Just(i64::MAX)])
                .prop_map(|g| json!({"strategy": "group", "group_size": g})),
            Just(json!({"strategy": "block"})),
        ],
        prop::sample::select(vec!["pack-quantized", "int-quantized", "bogus"]),
        (0usize..4, 0usize..4),
        prop_oneof![
            (0i64..9, 0i64..9).prop_map(|(r, c)| vec![r, c]),
            Just(vec![0, i64::MAX]),
            Just(vec![1 << 40, 1 << 40]),
            Just(vec![-1, 4]),
            Just(vec![3]),
        ],
        (0usize..4, 0usize..4),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(bits, symmetric, strategy, format, packed, shape, scale, int8, fill)| {
                let mut weights = json!({"num_bits": bits, "type": "int", "symmetric": symmetric});
                if let (Some(w), Some(s)) = (weights.as_object_mut(), strategy.as_object()) {
                    w.extend(s.clone());
                }
                let config = json!({
                    "quant_method": "compressed-tensors",
                    "format": format,
                    "config_groups": {"group_0": {"targets": ["Linear"], "weights": weights}},
                });
                let mut tensors: Vec<(String, &str, Vec<usize>, usize)> = Vec::new();
                if int8 {
                    tensors.push(("w".into(), "I8", vec![packed.0, packed.1], 1));
                } else {
                    tensors.push(("w_packed".into(), "I32", vec![packed.0, packed.1], 4));
                    tensors.push(("w_shape".into(), "I64", vec![shape.len()], 8));
                }
                tensors.push(("w_scale".into(), "F32", vec![scale.0, scale.1], 4));
                if !symmetric {
                    tensors.push(("w_zero_point".into(), "I8", vec![scale.0, scale.1], 1));
                }
                tensors.push(("b".into(), "F32", vec![2], 4));
                let mut header = serde_json::Map::new();
                header.insert(
                    "__metadata__".into(),
                    json!({"quantization_config": config.to_string()}),
                );
                let mut data = Vec::new();
                for (name, dtype, dims, size) in tensors {
                    let start = data.len();
                    if name == "w_shape" {
                        for v in &shape {
                            data.extend_from_slice(&v.to_le_bytes());
                        }
                    } else {
                        let n = size * dims.iter().product::<usize>();
                        data.extend(
                            (0..n).map(|i| fill.get(i % fill.len().max(1)).copied().unwrap_or(0)),
                        );
                    }
                    header.insert(
                        name,
                        json!({"dtype": dtype, "shape": dims, "data_offsets": [start, data.len()]}),
                    );
                }
                st_bytes(&Value::Object(header).to_string(), &data)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn compressed_tensors_reader_survives(bytes in compressed_file(), edits in edits()) {
        for input in [bytes.clone(), apply(bytes, &edits)] {
            let (_, peak, largest) = measured(|| decompress_to_safetensors(&input));
            let allowed = allowance(input.len(), 512);
            prop_assert!(peak <= allowed, "peak {peak} bytes for a {}-byte file", input.len());
            prop_assert!(largest <= allowed, "one allocation of {largest} bytes");
        }
    }
}

// --- CSV -----------------------------------------------------------------------------------

/// Text made of the characters CSV parsing cares about.
fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![
            b'a', b'b', b'0', b'1', b'2', b'.', b'-', b'e', b',', b',', b'\n', b'\n', b'\r', b'"',
            b' ', 0u8, 0xEF, 0xBB, 0xBF, 0xFF, b'N', b'I',
        ]),
        0..200,
    )
}

fn csv_options() -> impl Strategy<Value = CsvOptions> {
    (
        prop_oneof![
            Just(None),
            Just(Some("a".to_string())),
            Just(Some("b".to_string()))
        ],
        prop_oneof![
            Just(None),
            Just(Some(Task::Classification)),
            Just(Some(Task::Regression))
        ],
        1usize..6,
    )
        .prop_map(|(target, task, max_features)| CsvOptions {
            target,
            task,
            max_rows: 50,
            max_features,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn csv_reader_survives(text in csv_text(), opts in csv_options()) {
        let (result, peak, _) = measured(|| parse_csv(&text[..], &opts));
        prop_assert!(peak <= allowance(text.len(), 64), "peak {peak} for {} bytes", text.len());
        if let Ok(d) = result {
            prop_assert_eq!(d.x.nrows(), d.y.len());
            prop_assert_eq!(d.x.ncols(), d.feature_names.len());
            prop_assert!(d.feature_names.len() <= opts.max_features);
            prop_assert!(d.feature_names.iter().all(|n| !n.contains('\0')));
            prop_assert!(!d.target.contains('\0'));
            if let Some(classes) = &d.classes {
                prop_assert!(classes.iter().all(|c| !c.contains('\0')));
            }
        }
    }

    #[test]
    fn csv_wide_headers_are_linear_and_capped(n in 1usize..3000, dup in any::<bool>()) {
        let mut header: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        if dup {
            header.push("c0".into());
        }
        let text = format!("{}\n{}\n", header.join(","), vec!["1"; header.len()].join(","));
        let opts = CsvOptions { max_features: 1000, ..CsvOptions::default() };
        let result = parse_csv(text.as_bytes(), &opts);
        if header.len() > 1001 || dup || header.len() < 2 {
            prop_assert!(result.is_err());
        } else {
            prop_assert!(result.is_ok(), "{result:?}");
        }
    }
}

// --- NPY -----------------------------------------------------------------------------------

/// An NPY file with a random header (descr, order, shape) over a random data section.
fn npy_file() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec!["<f4", "<f8", ">i4", "<u1", "|i1", "<c8", "O", "<i8"]),
        any::<bool>(),
        prop::collection::vec(
            prop_oneof![0usize..5, Just(usize::MAX), Just(1usize << 40)],
            0..4,
        ),
        prop::collection::vec(any::<u8>(), 0..128),
        prop_oneof![Just(1u8), Just(2), Just(3), Just(9)],
    )
        .prop_map(|(descr, fortran, shape, data, version)| {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            let shape_text = match dims.len() {
                1 => format!("({},)", dims[0]),
                _ => format!("({})", dims.join(", ")),
            };
            let dict = format!(
                "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape_text}, }}",
                if fortran { "True" } else { "False" }
            );
            let mut out = b"\x93NUMPY".to_vec();
            out.push(version);
            out.push(0);
            if version == 1 {
                out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
            } else {
                out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
            }
            out.extend_from_slice(dict.as_bytes());
            out.extend(data);
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn npy_reader_survives(bytes in npy_file(), edits in edits(), target in prop::option::of(0usize..4)) {
        let opts = NpyOptions { target_column: target, max_rows: 50, max_features: 3, ..NpyOptions::default() };
        for input in [bytes.clone(), apply(bytes, &edits)] {
            let (result, peak, largest) = measured(|| parse_npy(&input, &opts));
            let allowed = allowance(input.len(), 64);
            prop_assert!(peak <= allowed, "peak {peak} for {} bytes", input.len());
            prop_assert!(largest <= allowed, "one allocation of {largest} bytes");
            if let Ok(d) = result {
                prop_assert_eq!(d.x.nrows(), d.y.len());
                prop_assert!(d.x.ncols() <= 3);
            }
        }
    }

    #[test]
    fn npy_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        let (_, peak, _) = measured(|| parse_npy(&bytes, &NpyOptions::default()));
        prop_assert!(peak <= allowance(bytes.len(), 64));
    }
}

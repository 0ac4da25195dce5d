//! Streaming safetensors writer: the header goes out first, computed from the tensor plans,
//! then each tensor's bytes in plan order.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{byte_size, element_count, Dtype};
use crate::artifacts::{HashingFile, WrittenFile};

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

impl SafetensorsWriter<HashingFile> {
    /// Create (truncate) `path` and write the header; the file is hashed as it is written
    /// (the digest comes with [`HashingFile::finish`] after [`SafetensorsWriter::finish`]).
    pub fn create(
        path: impl AsRef<Path>,
        plans: Vec<TensorPlan>,
        metadata: BTreeMap<String, String>,
    ) -> io::Result<Self> {
        Self::new(HashingFile::create(path.as_ref(), false)?, plans, metadata)
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

/// Where a model output goes: one safetensors file, or a model folder of shards (at most
/// `max_shard_bytes` of tensor data each, plus `model.safetensors.index.json` when there are
/// several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputTarget {
    File(PathBuf),
    Folder { dir: PathBuf, max_shard_bytes: u64 },
}

impl OutputTarget {
    /// The file or folder path.
    pub fn path(&self) -> &Path {
        match self {
            OutputTarget::File(p) => p,
            OutputTarget::Folder { dir, .. } => dir,
        }
    }
}

/// A streaming writer over an [`OutputTarget`]: the same contract as [`SafetensorsWriter`]
/// (tensors in plan order, exactly their planned sizes), split into shards for a folder.
/// Every shard carries the same `__metadata__`.
pub struct ModelWriter {
    current: Option<SafetensorsWriter<HashingFile>>,
    /// The shards finished so far.
    written: Vec<WrittenFile>,
    /// Tensors left to write in the current shard.
    left_in_current: usize,
    /// Shards not opened yet: file path, plans.
    pending: std::collections::VecDeque<(PathBuf, Vec<TensorPlan>)>,
    metadata: BTreeMap<String, String>,
    /// Set for a folder of several shards: the index to write at the end.
    index: Option<(PathBuf, super::folder::ShardIndex)>,
}

impl ModelWriter {
    /// Plans the shards, writes the first header.
    pub fn create(
        target: &OutputTarget,
        plans: Vec<TensorPlan>,
        metadata: BTreeMap<String, String>,
    ) -> io::Result<Self> {
        let mut pending = std::collections::VecDeque::new();
        let mut index = None;
        match target {
            OutputTarget::File(path) => pending.push_back((path.clone(), plans)),
            OutputTarget::Folder {
                dir,
                max_shard_bytes,
            } => {
                // A retried pass (a tolerable_loss ladder) may have left more shards.
                if dir.exists() {
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                let sizes: Vec<u64> = plans
                    .iter()
                    .map(|p| {
                        element_count(&p.shape)
                            .and_then(|n| byte_size(p.dtype, n))
                            .unwrap_or(0)
                    })
                    .collect();
                let params: u64 = plans.iter().filter_map(|p| element_count(&p.shape)).sum();
                let counts = super::folder::split_shards(&sizes, (*max_shard_bytes).max(1));
                let names = super::folder::shard_names(counts.len());
                let mut plans = plans.into_iter();
                let mut shard_index = super::folder::ShardIndex::default();
                shard_index.metadata.insert(
                    "total_size".into(),
                    serde_json::Value::from(sizes.iter().sum::<u64>()),
                );
                shard_index
                    .metadata
                    .insert("total_parameters".into(), serde_json::Value::from(params));
                for (count, name) in counts.into_iter().zip(names) {
                    let part: Vec<TensorPlan> = plans.by_ref().take(count).collect();
                    for p in &part {
                        shard_index.weight_map.insert(p.name.clone(), name.clone());
                    }
                    pending.push_back((dir.join(&name), part));
                }
                if pending.len() > 1 {
                    index = Some((dir.join(super::folder::INDEX_FILE), shard_index));
                }
            }
        }
        let mut writer = ModelWriter {
            current: None,
            written: Vec::new(),
            left_in_current: 0,
            pending,
            metadata,
            index,
        };
        writer.open_next()?;
        Ok(writer)
    }

    fn open_next(&mut self) -> io::Result<()> {
        if let Some(w) = self.current.take() {
            self.written.push(w.finish()?.finish()?);
        }
        if let Some((path, plans)) = self.pending.pop_front() {
            self.left_in_current = plans.len();
            self.current = Some(SafetensorsWriter::create(
                path,
                plans,
                self.metadata.clone(),
            )?);
        }
        Ok(())
    }

    /// Writes the next tensor (see [`SafetensorsWriter::write_tensor`]).
    pub fn write_tensor(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        while self.left_in_current == 0 && !self.pending.is_empty() {
            self.open_next()?;
        }
        let Some(w) = self.current.as_mut() else {
            return Err(misuse(format!(
                "tensor '{name}' written after the last shard"
            )));
        };
        w.write_tensor(name, data)?;
        self.left_in_current = self.left_in_current.saturating_sub(1);
        Ok(())
    }

    /// Finishes every shard and writes the index; returns the shards written (hashed on
    /// the way out).
    pub fn finish(mut self) -> io::Result<Vec<WrittenFile>> {
        let unwritten =
            self.left_in_current + self.pending.iter().map(|(_, p)| p.len()).sum::<usize>();
        if unwritten > 0 {
            return Err(misuse(format!(
                "finish called with {unwritten} planned tensors unwritten"
            )));
        }
        if let Some(w) = self.current.take() {
            self.written.push(w.finish()?.finish()?);
        }
        while let Some((path, plans)) = self.pending.pop_front() {
            let w = SafetensorsWriter::create(path, plans, self.metadata.clone())?;
            self.written.push(w.finish()?.finish()?);
        }
        if let Some((path, index)) = &self.index {
            let json = serde_json::to_vec_pretty(index).map_err(io::Error::other)?;
            std::fs::write(path, json)?;
        }
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::assert_mentions;
    use super::super::{from_f32, inspect, to_f32, MappedModel, DEFAULT_MAX_HEADER_BYTES};
    use super::*;

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
}

//! Read-only, memory-mapped access to the tensors of a validated safetensors file, so large
//! models are paged in on demand instead of being read into memory.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use super::header::{parse, Located, Parsed};
use super::{at_tensor, element_count, invalid, Dtype, HeaderLimits, Inventory};
use crate::formats::FormatError;

/// A read-only, memory-mapped, validated safetensors model: one file, or the shards of a
/// model folder seen as one set of tensors (shards in index order).
pub struct MappedModel {
    maps: Vec<Mmap>,
    /// Shard file names of a folder (empty for a single file).
    shard_files: Vec<String>,
    /// The folder, when the model is one.
    folder: Option<std::path::PathBuf>,
    inventory: Inventory,
    located: Vec<Located>,
    /// Index into `maps` of each located tensor.
    shard_of: Vec<u32>,
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
            .field("bytes", &self.maps.iter().map(|m| m.len()).sum::<usize>())
            .field("tensors", &self.located.len())
            .finish()
    }
}

impl MappedModel {
    /// Memory-map and fully validate a stored file or model folder, with
    /// [`HeaderLimits::stored`] (the upload applied the configured caps).
    pub fn open(path: impl AsRef<Path>) -> Result<MappedModel, FormatError> {
        let path = path.as_ref();
        if path.is_dir() {
            return Self::open_folder(path);
        }
        Self::open_with_limits(path, HeaderLimits::stored())
    }

    /// Memory-map the shards of a stored model folder (index order) as one model.
    pub fn open_folder(dir: &Path) -> Result<MappedModel, FormatError> {
        let shards = super::folder::stored_shards(dir)?;
        let mut model = MappedModel {
            maps: Vec::with_capacity(shards.len()),
            shard_files: Vec::with_capacity(shards.len()),
            folder: Some(dir.to_path_buf()),
            inventory: super::folder::merge_inventories(Vec::new()),
            located: Vec::new(),
            shard_of: Vec::new(),
            by_name: HashMap::new(),
        };
        let mut inventories = Vec::with_capacity(shards.len());
        for (i, shard) in shards.iter().enumerate() {
            let (map, Parsed { inventory, located }) =
                map_file(&dir.join(shard), HeaderLimits::stored())?;
            let shard_index = u32::try_from(i)
                .map_err(|_| invalid("a model folder holds at most 2^32 shards"))?;
            for l in located {
                let at = model.located.len();
                if model.by_name.insert(l.info.name.clone(), at).is_some() {
                    return Err(at_tensor(
                        &l.info.name,
                        format!("is in two shards (again in {shard})"),
                    ));
                }
                model.located.push(l);
                model.shard_of.push(shard_index);
            }
            inventories.push(inventory);
            model.maps.push(map);
            model.shard_files.push(shard.clone());
        }
        model.inventory = super::folder::merge_inventories(inventories);
        Ok(model)
    }

    /// Memory-map and fully validate a file with explicit caps (uploads).
    pub fn open_with_limits(
        path: impl AsRef<Path>,
        limits: HeaderLimits,
    ) -> Result<MappedModel, FormatError> {
        let (map, Parsed { inventory, located }) = map_file(path.as_ref(), limits)?;
        let by_name = located
            .iter()
            .enumerate()
            .map(|(i, l)| (l.info.name.clone(), i))
            .collect();
        Ok(MappedModel {
            maps: vec![map],
            shard_files: Vec::new(),
            folder: None,
            inventory,
            shard_of: vec![0; located.len()],
            located,
            by_name,
        })
    }

    /// The folder the shards were mapped from, when the model is a folder.
    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_deref()
    }

    /// The shard file names when the model is a folder (index order), empty for one file.
    pub fn shard_files(&self) -> &[String] {
        &self.shard_files
    }

    /// The shard file holding tensor `name`, when the model is a folder.
    pub fn shard_of(&self, name: &str) -> Option<&str> {
        let &i = self.by_name.get(name)?;
        let shard = *self.shard_of.get(i)? as usize;
        self.shard_files.get(shard).map(String::as_str)
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
        let Some(&i) = self.by_name.get(name) else {
            return;
        };
        let (Some(l), Some(map)) = (self.located.get(i), self.map_of(i)) else {
            return;
        };
        let (start, len) = (l.range.start, l.range.len());
        if len == 0 {
            return;
        }
        // SAFETY: the map is read-only and file-backed, so MADV_DONTNEED only discards
        // clean pages that are re-read from the file on the next access; no TensorRef is
        // invalidated. Failure is harmless (the pages stay resident), hence ignored.
        let _ =
            unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len) };
    }

    fn map_of(&self, i: usize) -> Option<&Mmap> {
        self.maps.get(*self.shard_of.get(i)? as usize)
    }

    /// The `i`-th tensor in file (then shard) order.
    pub fn tensor_at(&self, i: usize) -> Option<TensorRef<'_>> {
        let l = self.located.get(i)?;
        Some(TensorRef {
            name: &l.info.name,
            dtype: l.dtype,
            shape: &l.info.shape,
            data: self.map_of(i)?.get(l.range.clone())?,
        })
    }

    /// All tensors in file order.
    pub fn tensors(&self) -> impl Iterator<Item = TensorRef<'_>> + '_ {
        (0..self.located.len()).filter_map(move |i| self.tensor_at(i))
    }
}

/// Maps one file and validates it.
fn map_file(path: &Path, limits: HeaderLimits) -> Result<(Mmap, Parsed), FormatError> {
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
    let parsed = parse(&map, limits)?;
    Ok((map, parsed))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_mentions, fixture_bytes, fixture_path};
    use super::super::to_f32;
    use super::*;

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
}

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
    /// Memory-map and fully validate a stored file, with [`HeaderLimits::stored`] (the
    /// upload applied the configured caps).
    pub fn open(path: impl AsRef<Path>) -> Result<MappedModel, FormatError> {
        Self::open_with_limits(path, HeaderLimits::stored())
    }

    /// Memory-map and fully validate a file with explicit caps (uploads).
    pub fn open_with_limits(
        path: impl AsRef<Path>,
        limits: HeaderLimits,
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
        let Parsed { inventory, located } = parse(&map, limits)?;
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

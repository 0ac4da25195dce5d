//! Loading what executors work on: datasets re-parsed from their stored files (with a small
//! cache for studies), MLP models from theirs, and a dataset's rows as targets and inputs in
//! the form a model expects.
use ndarray::Array2;
use std::path::{Path, PathBuf};

use crate::domain::specs::train::OutputDtypeSpec;
use crate::formats::compressed_tensors::decompress_to_safetensors;
use crate::formats::dataset::{parse_csv, parse_npy, CsvOptions, Dataset, NpyOptions};
use crate::formats::mlp::{load_mlp, MlpArchitecture, MlpTensorNames};
use crate::formats::safetensors::{folder, Dtype};
use crate::jobs::JobError;
use crate::kernels::nn::{Mlp, Targets, Task};
use crate::store::{DatasetRow, ModelRow};

/// Parse a stored dataset file the way it was accepted at upload.
pub fn load_dataset(row: &DatasetRow, path: &Path) -> Result<Dataset, JobError> {
    if row.modality == "text" {
        return Err(JobError::Invalid(format!(
            "dataset {} is a text dataset; this job reads numeric feature columns",
            row.id
        )));
    }
    let task = Task::from_name(&row.task);
    let ds = match row.format.as_str() {
        "npy" => {
            let bytes = std::fs::read(path)?;
            // NPY columns are named f0..f{n-1}; the target keeps its column's name.
            let target_column = row
                .target
                .strip_prefix('f')
                .and_then(|i| i.parse::<usize>().ok());
            parse_npy(
                &bytes,
                &NpyOptions {
                    target_column,
                    task: Some(task),
                    ..NpyOptions::default()
                },
            )?
        }
        _ => {
            let file = std::fs::File::open(path)?;
            let opts = CsvOptions {
                target: Some(row.target.clone()),
                task: Some(task),
                ..CsvOptions::default()
            };
            parse_csv(std::io::BufReader::new(file), &opts)?
        }
    };
    Ok(ds)
}

/// Most parsed datasets [`load_dataset_cached`] keeps.
const DATASET_CACHE_ENTRIES: usize = 4;
/// Datasets larger than this (feature bytes) are never cached.
const DATASET_CACHE_MAX_BYTES: usize = 256 << 20;

type CacheEntry = (uuid::Uuid, String, std::sync::Arc<Dataset>);

/// [`load_dataset`] through a small per-process cache keyed by id and content hash, for jobs
/// that read one dataset many times (the trials of a study). Datasets never change once
/// stored, so a hit is always current.
pub fn load_dataset_cached(
    row: &DatasetRow,
    path: &Path,
) -> Result<std::sync::Arc<Dataset>, JobError> {
    static CACHE: std::sync::Mutex<Vec<CacheEntry>> = std::sync::Mutex::new(Vec::new());
    if let Ok(mut cache) = CACHE.lock() {
        if let Some(i) = cache
            .iter()
            .position(|(id, sha, _)| *id == row.id && *sha == row.sha256)
        {
            // Most recently used last.
            let entry = cache.remove(i);
            let ds = entry.2.clone();
            cache.push(entry);
            return Ok(ds);
        }
    }
    let ds = std::sync::Arc::new(load_dataset(row, path)?);
    if ds.x.len() * std::mem::size_of::<f32>() <= DATASET_CACHE_MAX_BYTES {
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() >= DATASET_CACHE_ENTRIES {
                cache.remove(0);
            }
            cache.push((row.id, row.sha256.clone(), ds.clone()));
        }
    }
    Ok(ds)
}

/// Load an MLP model file with the architecture stored with its row.
pub fn load_model(row: &ModelRow, path: &Path) -> Result<(Mlp, MlpArchitecture), JobError> {
    let explicit: Option<MlpArchitecture> = row
        .architecture
        .as_ref()
        .and_then(|a| serde_json::from_value(a.clone()).ok());
    if explicit.is_none() {
        return Err(JobError::Invalid(format!(
            "model {} is not an MLP whittle can run",
            row.id
        )));
    }
    let mut bytes = std::fs::read(mlp_file(path)?)?;
    if row.format == "compressed-tensors" {
        // whittle's own quantized output: dequantize the weights, then load as usual.
        bytes = decompress_to_safetensors(&bytes)?;
    }
    Ok(load_mlp(&bytes, explicit.as_ref())?)
}

/// Training targets of a dataset; class labels are mapped to the model's output order when
/// the model names its classes.
pub fn targets(ds: &Dataset, model_classes: Option<&[String]>) -> Result<Targets, JobError> {
    match ds.task {
        Task::Regression => {
            let y = Array2::from_shape_vec((ds.y.len(), 1), ds.y.clone())
                .map_err(|e| JobError::Invalid(e.to_string()))?;
            Ok(Targets::Regression(y))
        }
        Task::Classification => {
            let ds_classes = ds.classes.clone().unwrap_or_default();
            let idx: Vec<usize> = ds.y.iter().map(|&v| v as usize).collect();
            match model_classes {
                None => Ok(Targets::Classification {
                    labels: idx,
                    n_classes: ds_classes.len().max(1),
                }),
                Some(mc) => {
                    let mut map = Vec::with_capacity(ds_classes.len());
                    for label in &ds_classes {
                        let pos = mc.iter().position(|c| c == label).ok_or_else(|| {
                            JobError::Invalid(format!("the dataset has class '{label}' which the model does not know (model classes: {})", mc.join(", ")))
                        })?;
                        map.push(pos);
                    }
                    let labels = idx
                        .iter()
                        .map(|&i| map.get(i).copied().unwrap_or(0))
                        .collect();
                    Ok(Targets::Classification {
                        labels,
                        n_classes: mc.len(),
                    })
                }
            }
        }
    }
}

/// A labelled dataset in the form a model takes: targets in the model's class order and
/// inputs standardized like its training data when `standardized` (kernels that bypass the
/// model's folded-in standardization: training, calibration), raw otherwise.
pub struct Labelled {
    pub x: Array2<f32>,
    pub y: Targets,
    pub task: Task,
}

/// `(row, path)` of a stored dataset as [`Labelled`] rows for the model `arch` describes.
pub fn labelled(
    (row, path): &(DatasetRow, PathBuf),
    arch: &MlpArchitecture,
    standardized: bool,
) -> Result<Labelled, JobError> {
    let ds = load_dataset(row, path)?;
    let y = targets(&ds, arch.classes.as_deref())?;
    let mut x = ds.x;
    if standardized {
        if let Some(s) = arch.standardization() {
            s.apply(&mut x);
        }
    }
    Ok(Labelled {
        x,
        y,
        task: ds.task,
    })
}

/// An MLP file whittle wrote itself (its architecture is in its metadata).
/// The tensor names and dtype to write an MLP of `n_layers` layers derived from the model
/// file at `base` with: the file's own (so the user's `load_state_dict` still works), else
/// whittle's `layers.N.*`; `output_dtype` overrides the dtype.
pub fn output_tensor_names(
    base: Option<&Path>,
    n_layers: usize,
    output_dtype: Option<OutputDtypeSpec>,
) -> MlpTensorNames {
    let mut names = base
        .and_then(|p| std::fs::read(mlp_file(p).ok()?).ok())
        .and_then(|bytes| MlpTensorNames::of_file(&bytes))
        .filter(|n| n.weights.len() == n_layers)
        .unwrap_or_else(|| MlpTensorNames::standard(n_layers));
    if let Some(d) = output_dtype {
        names.dtype = match d {
            OutputDtypeSpec::F32 => Dtype::F32,
            OutputDtypeSpec::F16 => Dtype::F16,
            OutputDtypeSpec::Bf16 => Dtype::BF16,
        };
    }
    names
}

/// The weights file of an MLP stored at `path`: the file itself, or the one shard of a
/// folder (an `output: onnx` folder holds `model.safetensors` beside its ONNX files).
fn mlp_file(path: &Path) -> Result<PathBuf, JobError> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    match folder::stored_shards(path)?.as_slice() {
        [one] => Ok(path.join(one)),
        many => Err(JobError::Invalid(format!(
            "an MLP is one safetensors file; this folder has {} shards",
            many.len()
        ))),
    }
}

/// Loads an MLP file with the architecture its metadata gives.
pub fn load_model_file(path: &Path) -> Result<(Mlp, MlpArchitecture), JobError> {
    let bytes = std::fs::read(mlp_file(path)?)?;
    Ok(load_mlp(&bytes, None)?)
}

//! Loading what executors work on: datasets re-parsed from their stored files, MLP models
//! from theirs, and the glue from a dataset to training targets.
use ndarray::Array2;
use std::path::Path;

use crate::formats::compressed_tensors::decompress_to_safetensors;
use crate::formats::dataset::{parse_csv, parse_npy, CsvOptions, Dataset, NpyOptions, Task};
use crate::formats::mlp::{load_mlp, MlpArchitecture};
use crate::jobs::JobError;
use crate::kernels::nn::{Mlp, Targets};
use crate::store::{DatasetRow, ModelRow};

/// Parse a stored dataset file the way it was accepted at upload.
pub fn load_dataset(row: &DatasetRow, path: &Path) -> Result<Dataset, JobError> {
    let task = match row.task.as_str() {
        "regression" => Task::Regression,
        _ => Task::Classification,
    };
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
    let mut bytes = std::fs::read(path)?;
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

/// Per-column mean and standard deviation (population), for input standardization.
pub fn column_stats(x: &Array2<f32>) -> (Vec<f32>, Vec<f32>) {
    let n = x.nrows().max(1) as f64;
    let mut mean = vec![0f64; x.ncols()];
    let mut sq = vec![0f64; x.ncols()];
    for row in x.rows() {
        for (j, &v) in row.iter().enumerate() {
            mean[j] += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    for row in x.rows() {
        for (j, &v) in row.iter().enumerate() {
            let d = v as f64 - mean[j];
            sq[j] += d * d;
        }
    }
    let std = sq.iter().map(|s| (s / n).sqrt() as f32).collect();
    (mean.into_iter().map(|m| m as f32).collect(), std)
}

/// `(x − mean) / std` per column (a zero std counts as 1).
pub fn standardize(x: &mut Array2<f32>, mean: &[f32], std: &[f32]) {
    for mut row in x.rows_mut() {
        for (j, v) in row.iter_mut().enumerate() {
            let s = std.get(j).copied().filter(|s| *s > 0.0).unwrap_or(1.0);
            *v = (*v - mean.get(j).copied().unwrap_or(0.0)) / s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_stats_and_standardize() {
        let mut x = Array2::from_shape_vec((3, 2), vec![1.0, 5.0, 2.0, 5.0, 3.0, 5.0]).unwrap();
        let (m, s) = column_stats(&x);
        assert_eq!(m, vec![2.0, 5.0]);
        assert!((s[0] - (2.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(s[1], 0.0);
        standardize(&mut x, &m, &s);
        assert!((x[[0, 0]] + 1.2247449).abs() < 1e-5);
        assert_eq!(
            x[[1, 1]],
            0.0,
            "a constant column is centred, not divided by zero"
        );
    }
}

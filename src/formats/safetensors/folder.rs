//! Hugging Face model folders: safetensors shards with their `model.safetensors.index.json`,
//! plus side files (`config.json`, `generation_config.json`, tokenizer files, …). This module
//! checks a folder before it is stored (normalized paths, which files may travel with a model,
//! size caps, the index agreeing with the shards) and names the files of a folder output
//! (shard names, the index).
//!
//! Pickle checkpoints and code files (`*.py`: "remote code") are refused, never parsed or run.
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{HeaderLimits, Inventory, MappedModel};
use crate::formats::FormatError;

/// The index file name transformers writes beside sharded weights.
pub const INDEX_FILE: &str = "model.safetensors.index.json";
/// The model configuration file.
pub const CONFIG_FILE: &str = "config.json";
/// The weights file of an unsharded folder.
pub const SINGLE_SHARD: &str = "model.safetensors";
/// Most files one folder may hold.
pub const MAX_FOLDER_FILES: usize = 1024;
/// Largest configuration JSON (`config.json`, `generation_config.json`, `*_config.json`,
/// `special_tokens_map.json`): real ones are a few KB.
pub const MAX_CONFIG_FILE_BYTES: u64 = 4 << 20;
/// Largest index file (100k tensors of long names fit).
pub const MAX_INDEX_FILE_BYTES: u64 = 32 << 20;
/// Default cap on any other side file (tokenizer files: the largest public `tokenizer.json`
/// files are ~35 MB).
pub const DEFAULT_MAX_SIDE_FILE_BYTES: u64 = 64 << 20;
/// Longest relative path, bytes.
const MAX_PATH_BYTES: usize = 512;
/// Deepest relative path, components.
const MAX_PATH_DEPTH: usize = 8;

/// What a file of a model folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    /// A safetensors file holding weights.
    Shard,
    /// `model.safetensors.index.json`.
    Index,
    /// `config.json`.
    Config,
    /// Anything else that travels with the model (tokenizer, generation config, README).
    Side,
}

/// One file of a stored model folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Relative path inside the folder (`/`-separated, normalized).
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub role: FileRole,
}

/// Caps applied to a folder upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderLimits {
    /// Header caps per shard; `max_tensors` also caps the folder's total.
    pub header: HeaderLimits,
    /// Largest side file that is not a configuration JSON or the index.
    pub max_side_file_bytes: u64,
}

/// A file of a folder being checked: its normalized path, where its bytes are, its size.
#[derive(Debug, Clone)]
pub struct IncomingFile {
    pub path: String,
    pub local: PathBuf,
    pub bytes: u64,
}

/// What a checked folder holds.
#[derive(Debug, Clone)]
pub struct CheckedFolder {
    /// Every tensor of every shard, shards in index order.
    pub inventory: Inventory,
    /// Shard paths in the order their tensors appear in `inventory`.
    pub shards: Vec<String>,
    /// `config.json` when the folder has one.
    pub config: Option<serde_json::Value>,
    /// Role of each file by path.
    pub roles: BTreeMap<String, FileRole>,
}

fn unsupported(path: &str, why: &str) -> FormatError {
    FormatError::Unsupported(format!("{path}: {why}"))
}

fn at(path: &str, message: impl Into<String>) -> FormatError {
    FormatError::At {
        location: path.to_string(),
        message: message.into(),
    }
}

/// Normalizes a relative path from an upload (multipart file name or tar entry): `/`
/// separators, no `.` components, and refuses absolute paths, `..`, backslashes, control
/// characters, empty components and over-long or over-deep paths.
pub fn normalize_path(raw: &str) -> Result<String, FormatError> {
    let shown = raw.escape_debug().to_string();
    let bad = |why: &str| FormatError::At {
        location: format!("file '{shown}'"),
        message: why.to_string(),
    };
    if raw.chars().any(char::is_control) {
        return Err(bad(
            "paths may not hold control characters (U+0000 included)",
        ));
    }
    if raw.contains('\\') {
        return Err(bad("use '/' as the path separator"));
    }
    if raw.starts_with('/') {
        return Err(bad(
            "absolute paths are refused: send paths relative to the model folder",
        ));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(bad("'..' is refused: paths stay inside the model folder")),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(bad("empty path"));
    }
    if parts.len() > MAX_PATH_DEPTH {
        return Err(bad(&format!("more than {MAX_PATH_DEPTH} directory levels")));
    }
    let path = parts.join("/");
    if path.len() > MAX_PATH_BYTES {
        return Err(bad(&format!("longer than {MAX_PATH_BYTES} bytes")));
    }
    Ok(path)
}

/// Extensions of side files whittle keeps with a model (lower case).
const SIDE_EXTENSIONS: [&str; 8] = [
    ".json",
    ".txt",
    ".md",
    ".model",
    ".jinja",
    ".tiktoken",
    ".vocab",
    ".yaml",
];
/// File names kept whatever their extension.
const SIDE_NAMES: [&str; 4] = [".gitattributes", "LICENSE", "NOTICE", "USE_POLICY"];
const CODE_EXTENSIONS: [&str; 10] = [
    ".py", ".pyc", ".so", ".dll", ".dylib", ".sh", ".exe", ".js", ".ipynb", ".pyd",
];
const OTHER_WEIGHTS: [&str; 9] = [
    ".onnx", ".gguf", ".h5", ".msgpack", ".tflite", ".ot", ".npz", ".mlmodel", ".pb",
];

/// The role of a file by its (normalized) path, or why it cannot travel with a model.
pub fn classify(path: &str) -> Result<FileRole, FormatError> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".safetensors") {
        return Ok(FileRole::Shard);
    }
    if super::has_pickle_checkpoint_extension(&lower) {
        return Err(unsupported(
            path,
            "a pickle checkpoint; whittle never loads pickles. Upload the .safetensors files \
             (python: `model.save_pretrained(dir, safe_serialization=True)`)",
        ));
    }
    if CODE_EXTENSIONS.iter().any(|e| lower.ends_with(e)) {
        return Err(unsupported(
            path,
            "code files (remote code) are refused: whittle never runs code that comes with a model",
        ));
    }
    if OTHER_WEIGHTS.iter().any(|e| lower.ends_with(e)) {
        return Err(unsupported(
            path,
            "weights in this format are not supported: export safetensors",
        ));
    }
    if path == INDEX_FILE {
        return Ok(FileRole::Index);
    }
    if path == CONFIG_FILE {
        return Ok(FileRole::Config);
    }
    let known_name = SIDE_NAMES
        .iter()
        .any(|n| name == *n || name.starts_with(&format!("{n}.")));
    if known_name || SIDE_EXTENSIONS.iter().any(|e| lower.ends_with(e)) {
        return Ok(FileRole::Side);
    }
    Err(unsupported(
        path,
        &format!(
            "not a file whittle keeps in a model folder (kept: *.safetensors, {INDEX_FILE}, \
             {}, and {})",
            SIDE_EXTENSIONS.map(|e| format!("*{e}")).join(", "),
            SIDE_NAMES.join(", ")
        ),
    ))
}

/// Whether a side file is a small configuration JSON (capped at [`MAX_CONFIG_FILE_BYTES`]).
fn is_config_json(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == CONFIG_FILE || name.ends_with("_config.json") || name == "special_tokens_map.json"
}

/// The cap on one file of a folder.
fn size_cap(path: &str, role: FileRole, limits: &FolderLimits) -> Option<u64> {
    match role {
        FileRole::Shard => None,
        FileRole::Index => Some(MAX_INDEX_FILE_BYTES),
        FileRole::Config => Some(MAX_CONFIG_FILE_BYTES),
        FileRole::Side if is_config_json(path) => Some(MAX_CONFIG_FILE_BYTES),
        FileRole::Side => Some(limits.max_side_file_bytes),
    }
}

/// Checks what one incoming file may be before its bytes are read: its role and size cap.
/// Uploads call this per part so a refused file stops the upload early.
pub fn admit_file(path: &str, bytes: u64, limits: &FolderLimits) -> Result<FileRole, FormatError> {
    let role = classify(path)?;
    if let Some(cap) = size_cap(path, role, limits) {
        if bytes > cap {
            return Err(FormatError::TooLarge(format!(
                "{path}: {bytes} bytes is more than the {cap} bytes a {} may have",
                match role {
                    FileRole::Index => "shard index",
                    FileRole::Config => "config.json",
                    _ if is_config_json(path) => "configuration file",
                    _ => "side file",
                }
            )));
        }
    }
    Ok(role)
}

/// The `model.safetensors.index.json` layout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShardIndex {
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    pub weight_map: BTreeMap<String, String>,
}

fn read_json(path: &str, local: &Path) -> Result<serde_json::Value, FormatError> {
    let mut text = String::new();
    std::fs::File::open(local)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| at(path, format!("cannot be read as UTF-8 text: {e}")))?;
    serde_json::from_str(&text).map_err(|e| at(path, format!("is not valid JSON: {e}")))
}

/// Checks a whole folder: every file admitted ([`admit_file`]), no duplicate paths, JSON
/// side files parse, every shard is a valid safetensors file, tensor names are unique across
/// shards, and the index (required when there are several shards) names exactly the tensors
/// each shard holds.
pub fn check_folder(
    files: &[IncomingFile],
    limits: &FolderLimits,
) -> Result<CheckedFolder, FormatError> {
    if files.len() > MAX_FOLDER_FILES {
        return Err(FormatError::TooLarge(format!(
            "{} files; a model folder holds at most {MAX_FOLDER_FILES}",
            files.len()
        )));
    }
    let mut roles = BTreeMap::new();
    let mut by_path: HashMap<&str, &IncomingFile> = HashMap::new();
    for f in files {
        let role = admit_file(&f.path, f.bytes, limits)?;
        if roles.insert(f.path.clone(), role).is_some() {
            return Err(at(&f.path, "appears twice in the upload"));
        }
        by_path.insert(f.path.as_str(), f);
    }
    let mut config = None;
    let mut index = None;
    for f in files {
        let lower = f.path.to_ascii_lowercase();
        if !lower.ends_with(".json") {
            continue;
        }
        let value = read_json(&f.path, &f.local)?;
        match roles.get(&f.path) {
            Some(FileRole::Config) => {
                if !value.is_object() {
                    return Err(at(&f.path, "must be a JSON object"));
                }
                config = Some(value);
            }
            Some(FileRole::Index) => {
                let parsed: ShardIndex = serde_json::from_value(value).map_err(|e| {
                    at(
                        &f.path,
                        format!("is not a shard index ({{\"weight_map\": {{tensor: file}}}}): {e}"),
                    )
                })?;
                index = Some(parsed);
            }
            _ => {}
        }
    }
    let mut shard_paths: Vec<&str> = files
        .iter()
        .filter(|f| roles.get(&f.path) == Some(&FileRole::Shard))
        .map(|f| f.path.as_str())
        .collect();
    shard_paths.sort_unstable();
    if shard_paths.is_empty() {
        return Err(FormatError::Invalid(
            "the folder holds no .safetensors file".into(),
        ));
    }
    if index.is_none() && shard_paths.len() > 1 {
        return Err(at(
            INDEX_FILE,
            format!(
                "missing: a folder with {} safetensors files needs the index that says which \
                 tensor is in which file",
                shard_paths.len()
            ),
        ));
    }
    if let Some(index) = &index {
        for shard in index.weight_map.values() {
            if !by_path.contains_key(shard.as_str()) {
                return Err(at(
                    INDEX_FILE,
                    format!("names shard '{shard}', which is not in the upload"),
                ));
            }
        }
        for shard in &shard_paths {
            if !index.weight_map.values().any(|s| s == shard) {
                return Err(at(
                    INDEX_FILE,
                    format!("does not name '{shard}': every shard must be in the index"),
                ));
            }
        }
    }
    let mut tensors_seen: HashMap<String, String> = HashMap::new();
    let mut shard_inventories = Vec::with_capacity(shard_paths.len());
    for shard in &shard_paths {
        let local = &by_path[shard].local;
        let model = MappedModel::open_with_limits(local, limits.header)
            .map_err(|e| at(shard, e.to_string()))?;
        for t in &model.inventory().tensors {
            if let Some(first) = tensors_seen.insert(t.name.clone(), shard.to_string()) {
                return Err(at(
                    shard,
                    format!(
                        "tensor '{}' is also in '{first}': a tensor lives in one shard",
                        t.name
                    ),
                ));
            }
            if tensors_seen.len() > limits.header.max_tensors {
                return Err(FormatError::TooLarge(format!(
                    "the folder lists more than {} tensors",
                    limits.header.max_tensors
                )));
            }
            if let Some(index) = &index {
                match index.weight_map.get(&t.name) {
                    Some(s) if s == shard => {}
                    Some(s) => {
                        return Err(at(
                            INDEX_FILE,
                            format!("puts tensor '{}' in '{s}' but it is in '{shard}'", t.name),
                        ))
                    }
                    None => {
                        return Err(at(
                            INDEX_FILE,
                            format!("does not list tensor '{}' of '{shard}'", t.name),
                        ))
                    }
                }
            }
        }
        shard_inventories.push(model.inventory().clone());
    }
    if let Some(index) = &index {
        if let Some((name, shard)) = index
            .weight_map
            .iter()
            .find(|(name, _)| !tensors_seen.contains_key(*name))
        {
            return Err(at(
                INDEX_FILE,
                format!("lists tensor '{name}' in '{shard}', which does not hold it"),
            ));
        }
    }
    Ok(CheckedFolder {
        inventory: merge_inventories(shard_inventories),
        shards: shard_paths.into_iter().map(str::to_string).collect(),
        config,
        roles,
    })
}

/// One inventory over several shards: tensors in shard order, summed counts, the first
/// shard's metadata.
pub fn merge_inventories(parts: Vec<Inventory>) -> Inventory {
    let mut out = Inventory {
        tensors: Vec::new(),
        n_params: 0,
        dtype_histogram: BTreeMap::new(),
        metadata: BTreeMap::new(),
        header_bytes: 0,
    };
    for (i, inv) in parts.into_iter().enumerate() {
        if i == 0 {
            out.metadata = inv.metadata;
        }
        out.tensors.extend(inv.tensors);
        out.n_params += inv.n_params;
        out.header_bytes += inv.header_bytes;
        for (k, v) in inv.dtype_histogram {
            *out.dtype_histogram.entry(k).or_insert(0) += v;
        }
    }
    out
}

/// The shard files of a stored folder at `dir`, in order: the index's files, or the one
/// `*.safetensors` file.
pub fn stored_shards(dir: &Path) -> Result<Vec<String>, FormatError> {
    let index_path = dir.join(INDEX_FILE);
    if index_path.exists() {
        let value = read_json(INDEX_FILE, &index_path)?;
        let index: ShardIndex =
            serde_json::from_value(value).map_err(|e| at(INDEX_FILE, e.to_string()))?;
        let mut shards: Vec<String> = index.weight_map.into_values().collect();
        shards.sort_unstable();
        shards.dedup();
        for s in &shards {
            normalize_path(s)?;
        }
        return Ok(shards);
    }
    let mut shards = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| FormatError::Invalid(format!("cannot list model folder: {e}")))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.to_ascii_lowercase().ends_with(".safetensors") {
            shards.push(name);
        }
    }
    shards.sort_unstable();
    match shards.len() {
        0 => Err(FormatError::Invalid(
            "the model folder holds no .safetensors file".into(),
        )),
        1 => Ok(shards),
        n => Err(at(INDEX_FILE, format!("missing for {n} shards"))),
    }
}

/// Shard file names for `n` shards, as transformers names them: `model.safetensors` for one,
/// `model-0000i-of-0000n.safetensors` otherwise.
pub fn shard_names(n: usize) -> Vec<String> {
    if n <= 1 {
        return vec![SINGLE_SHARD.to_string()];
    }
    (1..=n)
        .map(|i| format!("model-{i:05}-of-{n:05}.safetensors"))
        .collect()
}

/// Splits tensor byte sizes (in write order) into consecutive shards of at most
/// `max_shard_bytes` each (a larger tensor gets a shard of its own); returns each shard's
/// number of tensors.
pub fn split_shards(sizes: &[u64], max_shard_bytes: u64) -> Vec<usize> {
    let mut counts = Vec::new();
    let (mut n, mut bytes) = (0usize, 0u64);
    for &s in sizes {
        if n > 0 && bytes.saturating_add(s) > max_shard_bytes {
            counts.push(n);
            n = 0;
            bytes = 0;
        }
        n += 1;
        bytes = bytes.saturating_add(s);
    }
    if n > 0 || counts.is_empty() {
        counts.push(n);
    }
    counts
}

/// The file list stored with a folder model.
pub fn files_from_json(value: &serde_json::Value) -> Result<Vec<ModelFile>, FormatError> {
    serde_json::from_value(value.clone())
        .map_err(|e| FormatError::Invalid(format!("stored file list: {e}")))
}

/// One digest for a folder: sha256 over each file's path and sha256, in path order (the
/// folder's `ETag`; equal folders have equal digests).
pub fn folder_digest(files: &[ModelFile]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&ModelFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = Sha256::new();
    for f in sorted {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.sha256.as_bytes());
        h.update([b'\n']);
    }
    hex::encode(h.finalize())
}

/// Bytes on disk of a model file, or of every file of a model folder.
pub fn disk_bytes(path: &Path) -> Result<u64, FormatError> {
    if !path.is_dir() {
        return std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| FormatError::Invalid(format!("cannot stat {}: {e}", path.display())));
    }
    let mut total = 0;
    for rel in list_files(path)? {
        total += std::fs::metadata(path.join(&rel))
            .map(|m| m.len())
            .map_err(|e| FormatError::Invalid(format!("cannot stat {rel}: {e}")))?;
    }
    Ok(total)
}

/// Relative paths of every regular file under `dir` (sorted).
pub fn list_files(dir: &Path) -> Result<Vec<String>, FormatError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                walk(root, &entry.path(), out)?;
            } else if kind.is_file() {
                if let Ok(rel) = entry.path().strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)
        .map_err(|e| FormatError::Invalid(format!("cannot list {}: {e}", dir.display())))?;
    out.sort_unstable();
    Ok(out)
}

/// Copies the side files of the folder at `input` (everything but shards, the index and ONNX
/// exports) into `output` — hard links when both are on one filesystem — and writes `config.json`
/// through `update_config` (which may add `quantization_config`, change `torch_dtype`, …).
/// A folder without `config.json` gets none.
pub fn carry_side_files(
    input: &Path,
    output: &Path,
    update_config: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Result<(), FormatError> {
    let io = |e: std::io::Error| FormatError::Invalid(format!("writing the output folder: {e}"));
    let mut update_config = Some(update_config);
    for rel in list_files(input)? {
        let role = classify(&rel).unwrap_or(FileRole::Side);
        // ONNX exports are derived from the weights: stale once the weights change.
        if matches!(role, FileRole::Shard | FileRole::Index) || rel.ends_with(".onnx") {
            continue;
        }
        let (from, to) = (input.join(&rel), output.join(&rel));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        if role == FileRole::Config {
            let before = match read_json(&rel, &from)? {
                serde_json::Value::Object(m) => m,
                _ => return Err(at(&rel, "must be a JSON object")),
            };
            let mut config = before.clone();
            if let Some(update) = update_config.take() {
                update(&mut config);
            }
            if config == before {
                // Unchanged: the user's file as it was, byte for byte.
                if std::fs::hard_link(&from, &to).is_err() {
                    std::fs::copy(&from, &to).map_err(io)?;
                }
                continue;
            }
            let mut text = serde_json::to_string_pretty(&config)
                .map_err(|e| FormatError::Invalid(e.to_string()))?;
            text.push('\n');
            std::fs::write(&to, text).map_err(io)?;
            continue;
        }
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_or_refused() {
        assert_eq!(normalize_path("./config.json").unwrap(), "config.json");
        assert_eq!(normalize_path("a//b/./c.json").unwrap(), "a/b/c.json");
        for bad in [
            "../config.json",
            "/etc/passwd",
            "a\\b",
            "",
            "./",
            "a/../../b",
            "x\0y",
        ] {
            assert!(normalize_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn files_are_classified_by_name() {
        assert_eq!(
            classify("model-00001-of-00002.safetensors").unwrap(),
            FileRole::Shard
        );
        assert_eq!(classify(INDEX_FILE).unwrap(), FileRole::Index);
        assert_eq!(classify(CONFIG_FILE).unwrap(), FileRole::Config);
        for side in [
            "tokenizer.json",
            "vocab.txt",
            "merges.txt",
            "tokenizer.model",
            "README.md",
            "LICENSE",
        ] {
            assert_eq!(classify(side).unwrap(), FileRole::Side, "{side}");
        }
        for refused in [
            "pytorch_model.bin",
            "modeling_llama.py",
            "model.onnx",
            "weights.pt",
            "x.exe",
            "data.xyz",
        ] {
            assert!(
                matches!(classify(refused), Err(FormatError::Unsupported(m)) if m.contains(refused)),
                "{refused}"
            );
        }
    }

    #[test]
    fn config_files_have_a_small_cap() {
        let limits = FolderLimits {
            header: HeaderLimits::default(),
            max_side_file_bytes: DEFAULT_MAX_SIDE_FILE_BYTES,
        };
        assert!(matches!(
            admit_file(CONFIG_FILE, 50 << 20, &limits),
            Err(FormatError::TooLarge(m)) if m.contains("config.json")
        ));
        assert!(admit_file("tokenizer.json", 30 << 20, &limits).is_ok());
        assert!(admit_file("tokenizer.json", 65 << 20, &limits).is_err());
    }

    #[test]
    fn shards_split_by_size_in_order() {
        assert_eq!(split_shards(&[4, 4, 4, 4], 8), vec![2, 2]);
        assert_eq!(split_shards(&[10, 1, 1], 8), vec![1, 2]);
        assert_eq!(split_shards(&[1, 1, 1], 100), vec![3]);
        assert_eq!(split_shards(&[], 100), vec![0]);
        assert_eq!(shard_names(1), vec!["model.safetensors"]);
        assert_eq!(shard_names(2)[1], "model-00002-of-00002.safetensors");
    }
}

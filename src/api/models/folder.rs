//! Model folders over HTTP: a multipart upload with one part per file (the part's file name
//! is its relative path) or a `.tar` body, stored file by file; downloads as one file, or the
//! whole folder as a `.tar` stream.
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::super::download::{respond, Piece};
use super::super::{ApiError, AppState};
use crate::artifacts::{Durability, HashingFile, SpooledFile};
use crate::formats::safetensors::folder::{
    self, check_folder, CheckedFolder, FileRole, FolderLimits, IncomingFile, ModelFile,
};
use crate::formats::safetensors::HeaderLimits;
use crate::formats::FormatError;
use crate::store::ModelRow;

/// The path given to a multipart `file` part that has no file name.
pub const SINGLE_PART_NAME: &str = "model.safetensors";

/// One received file of a folder upload.
pub struct FolderPart {
    pub path: String,
    pub spooled: SpooledFile,
}

/// The caps of a folder upload from the server's limits.
pub fn folder_limits(state: &AppState) -> FolderLimits {
    FolderLimits {
        header: HeaderLimits {
            max_header_bytes: usize::try_from(state.limits.max_header_bytes).unwrap_or(usize::MAX),
            max_tensors: state.limits.max_tensors,
            max_metadata_bytes: state.limits.max_metadata_bytes,
        },
        max_side_file_bytes: state.limits.max_side_file_bytes,
    }
}

/// A folder problem as the client sees it: 415 for a file kind whittle refuses, 413 for a
/// cap, 422 naming the file otherwise (field `files`).
pub fn folder_error(e: FormatError) -> ApiError {
    match e {
        FormatError::Unsupported(m) => ApiError::UnsupportedMediaType(m),
        FormatError::TooLarge(m) => ApiError::PayloadTooLarge(m),
        other => ApiError::field("files", other.to_string()),
    }
}

/// Checks a part's path and kind before its bytes are read.
pub fn admit_part_path(raw: &str, limits: &FolderLimits) -> Result<String, ApiError> {
    let path = folder::normalize_path(raw).map_err(folder_error)?;
    folder::admit_file(&path, 0, limits).map_err(folder_error)?;
    Ok(path)
}

/// Unpacks a spooled `.tar` into spooled files (hashed while written). Only regular files
/// and directories are accepted; a single top-level directory holding everything is
/// stripped (`tar cf m.tar my-model/`).
pub fn extract_tar(
    tar_path: &Path,
    spool: impl Fn() -> PathBuf,
    limits: &FolderLimits,
) -> Result<Vec<FolderPart>, ApiError> {
    let bad = |m: String| ApiError::field("body", m);
    let file = std::fs::File::open(tar_path).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut parts: Vec<FolderPart> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a tar archive: {e}")))?;
    let mut seen = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("tar archive: {e}")))?;
        seen += 1;
        if seen > 4 * folder::MAX_FOLDER_FILES {
            return Err(ApiError::PayloadTooLarge(format!(
                "the archive has more than {} entries",
                4 * folder::MAX_FOLDER_FILES
            )));
        }
        let kind = entry.header().entry_type();
        let raw = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| bad("tar archive: a path is not UTF-8".into()))?;
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        if !kind.is_file() {
            return Err(ApiError::field(
                "files",
                format!(
                    "'{}': only regular files are accepted (no links or devices)",
                    raw.escape_debug()
                ),
            ));
        }
        let path = folder::normalize_path(&raw).map_err(folder_error)?;
        let size = entry.size();
        parts.push(FolderPart {
            path,
            spooled: spool_reader(&mut entry, spool(), size)?,
        });
        if parts.len() > folder::MAX_FOLDER_FILES {
            return Err(ApiError::PayloadTooLarge(format!(
                "a model folder holds at most {} files",
                folder::MAX_FOLDER_FILES
            )));
        }
    }
    strip_common_directory(&mut parts);
    for p in &parts {
        folder::admit_file(&p.path, p.spooled.bytes, limits).map_err(folder_error)?;
    }
    Ok(parts)
}

/// Writes `size` bytes of `reader` to `path`, hashing them, durably.
fn spool_reader(reader: &mut impl Read, path: PathBuf, size: u64) -> Result<SpooledFile, ApiError> {
    let internal = |e: std::io::Error| ApiError::Internal(e.to_string());
    let mut prefix = Vec::new();
    let mut out = HashingFile::create(&path, true).map_err(internal)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = reader
            .read(&mut buf[..want])
            .map_err(|e| ApiError::field("body", format!("tar archive: {e}")))?;
        if n == 0 {
            return Err(ApiError::field("body", "tar archive ends inside a file"));
        }
        if prefix.len() < 64 {
            let take = (64 - prefix.len()).min(n);
            prefix.extend_from_slice(&buf[..take]);
        }
        out.write_all(&buf[..n]).map_err(internal)?;
        left -= n as u64;
    }
    let written = out.finish().map_err(internal)?;
    Ok(SpooledFile {
        path,
        sha256: written.sha256,
        bytes: written.bytes,
        prefix,
    })
}

/// `my-model/config.json`, `my-model/model.safetensors` → `config.json`, `model.safetensors`.
fn strip_common_directory(parts: &mut [FolderPart]) {
    let Some(first) = parts.first() else {
        return;
    };
    let Some((dir, _)) = first.path.split_once('/') else {
        return;
    };
    let prefix = format!("{dir}/");
    if parts.iter().all(|p| p.path.starts_with(&prefix)) {
        for p in parts.iter_mut() {
            p.path = p.path[prefix.len()..].to_string();
        }
    }
}

/// A checked folder ready to store.
pub struct FolderUpload {
    pub checked: CheckedFolder,
    pub files: Vec<ModelFile>,
}

/// Checks the received files as one model folder (on the blocking pool: shards are parsed).
pub async fn check_parts(state: &AppState, parts: &[FolderPart]) -> Result<FolderUpload, ApiError> {
    let limits = folder_limits(state);
    let incoming: Vec<IncomingFile> = parts
        .iter()
        .map(|p| IncomingFile {
            path: p.path.clone(),
            local: p.spooled.path.clone(),
            bytes: p.spooled.bytes,
        })
        .collect();
    let checked = tokio::task::spawn_blocking(move || check_folder(&incoming, &limits))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(folder_error)?;
    let files = parts
        .iter()
        .map(|p| ModelFile {
            path: p.path.clone(),
            bytes: p.spooled.bytes,
            sha256: p.spooled.sha256.clone(),
            role: checked
                .roles
                .get(&p.path)
                .copied()
                .unwrap_or(FileRole::Side),
        })
        .collect();
    Ok(FolderUpload { checked, files })
}

/// Publishes every part under `prefix`; on failure deletes what was published.
pub async fn publish_parts(
    state: &AppState,
    parts: &[FolderPart],
    prefix: &str,
) -> Result<(), ApiError> {
    for (i, p) in parts.iter().enumerate() {
        if let Err(e) = state
            .artifacts
            .publish(
                &p.spooled.path,
                &format!("{prefix}{}", p.path),
                Durability::Durable,
            )
            .await
        {
            let done: Vec<String> = parts[..i].iter().map(|p| p.path.clone()).collect();
            let _ = state.artifacts.delete_folder(prefix, &done).await;
            return Err(e.into());
        }
    }
    Ok(())
}

/// The files of a model: a folder's list, or the one file of a single-file model.
pub fn files_of(row: &ModelRow) -> Result<Vec<ModelFile>, ApiError> {
    match &row.files {
        Some(v) => folder::files_from_json(v).map_err(|e| ApiError::Internal(e.to_string())),
        None => Ok(vec![ModelFile {
            path: folder::SINGLE_SHARD.to_string(),
            bytes: u64::try_from(row.bytes).unwrap_or(0),
            sha256: row.sha256.clone(),
            role: FileRole::Shard,
        }]),
    }
}

/// The object key of one file of a model.
pub fn file_key(row: &ModelRow, file: &ModelFile) -> String {
    match &row.files {
        Some(_) => format!("{}{}", row.artifact_key, file.path),
        None => row.artifact_key.clone(),
    }
}

/// The tar header block(s) of one file (a GNU long-name entry first when the path needs it).
fn tar_header(path: &str, size: u64) -> Result<Vec<u8>, ApiError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    let mut out = tar::Builder::new(Vec::new());
    // The data is streamed by the caller: append_data with an empty reader writes only the
    // header blocks (and a long-name entry when `path` does not fit the header).
    out.append_data(&mut header, path, std::io::empty())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // into_inner ends the archive with two zero blocks; the caller ends it once, at the end.
    bytes.truncate(bytes.len().saturating_sub(1024));
    Ok(bytes)
}

fn padding(size: u64) -> usize {
    ((512 - size % 512) % 512) as usize
}

/// Serves a folder model as an uncompressed `.tar` (files in path order, then the two zero
/// blocks that end an archive), with `Content-Length`, the folder digest as `ETag`, and byte
/// ranges (the archive's layout is fixed by the file list, so a range maps onto the files).
pub async fn tar_response(
    state: &AppState,
    row: &ModelRow,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut files = files_of(row)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut pieces = Vec::with_capacity(files.len() * 3 + 1);
    for f in &files {
        pieces.push(Piece::Bytes(Bytes::from(tar_header(&f.path, f.bytes)?)));
        pieces.push(Piece::Object {
            key: file_key(row, f),
            size: f.bytes,
        });
        pieces.push(Piece::Bytes(Bytes::from(vec![0u8; padding(f.bytes)])));
    }
    pieces.push(Piece::Bytes(Bytes::from(vec![0u8; 1024])));
    respond(
        state.artifacts.clone(),
        pieces,
        &row.sha256,
        &format!("{}.tar", super::safe_file_name(&row.name)),
        "application/x-tar",
        headers,
    )
}

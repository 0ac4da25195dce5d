//! `/v1/models`: upload (raw body, multipart, or a folder as multipart parts or a `.tar`),
//! list, get, download (a file, or a folder as `.tar`), the files of a folder, delete.
pub mod folder;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{AppPath, AppQuery};
use super::{ApiError, AppState, Caller, PageQuery, Problem};
use crate::artifacts::{model_folder_key, model_key, Durability, SpooledFile};
use crate::formats::safetensors::folder::ModelFile;
use crate::formats::safetensors::{
    has_pickle_checkpoint_extension, looks_like_onnx, looks_like_pickle_or_zip, Inventory,
    MappedModel, ONNX_REFUSED,
};
use crate::store::{ModelListRow, ModelRow, NewModel};

pub fn routes(state: &AppState) -> Router<AppState> {
    let upload_limit = axum::extract::DefaultBodyLimit::max(
        usize::try_from(state.limits.max_model_bytes).unwrap_or(usize::MAX),
    );
    Router::new()
        .route(
            "/models",
            get(list_models).post(upload_model).layer(upload_limit),
        )
        .route("/models/{id}", get(get_model).delete(delete_model))
        .route("/models/{id}/content", get(download_model))
        .route("/models/{id}/files", get(list_model_files))
        .route("/models/{id}/files/{*path}", get(download_model_file))
}

/// One tensor of a model.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TensorDto {
    pub name: String,
    /// safetensors dtype (`F32`, `BF16`, `I8`, …).
    pub dtype: String,
    pub shape: Vec<usize>,
}

/// A model and what whittle knows of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelDto {
    pub id: Uuid,
    pub name: String,
    /// `safetensors`, or `compressed-tensors` for quantized outputs.
    pub format: String,
    pub sha256: String,
    pub bytes: i64,
    /// Number of scalar parameters over all tensors.
    pub n_params: i64,
    pub n_tensors: usize,
    /// Parameter count per dtype.
    pub dtype_histogram: BTreeMap<String, u64>,
    /// The file's `__metadata__`.
    pub metadata: BTreeMap<String, String>,
    /// Tensor inventory in file order (omitted in lists): at most `tensors_limit` tensors
    /// from `tensors_offset` (the first 10000 by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensors: Option<Vec<TensorDto>>,
    /// Present when the inventory has more tensors than `tensors` lists: the
    /// `tensors_offset` of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensors_next_offset: Option<usize>,
    /// What whittle can run: an MLP (layer sizes, activations, task), or for a folder with
    /// `config.json` a transformer (`kind: transformer`, `family` encoder|decoder,
    /// `architecture`, sizes, `tokenizer`; `supported: false` with `field` and `reason` when
    /// whittle cannot run it); null otherwise.
    #[schema(value_type = Option<Object>)]
    pub architecture: Option<Value>,
    /// The job that produced this model, if any.
    pub source_job_id: Option<Uuid>,
    /// `file` (one safetensors file) or `folder` (shards, index and side files).
    pub layout: ModelLayout,
    /// A folder's files (omitted in lists and for single files; see `GET …/files`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<ModelFileDto>>,
    pub created_at: DateTime<Utc>,
}

/// How a model is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelLayout {
    File,
    Folder,
}

impl ModelLayout {
    fn of(is_folder: bool) -> Self {
        if is_folder {
            ModelLayout::Folder
        } else {
            ModelLayout::File
        }
    }
}

/// One file of a model.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelFileDto {
    /// Relative path in the folder (`model.safetensors` for a single-file model).
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// `shard`, `index`, `config` or `side`.
    pub role: String,
}

impl From<ModelFile> for ModelFileDto {
    fn from(f: ModelFile) -> Self {
        let role = serde_json::to_value(f.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        ModelFileDto {
            path: f.path,
            bytes: f.bytes,
            sha256: f.sha256,
            role,
        }
    }
}

/// The files of a model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelFilesDto {
    pub items: Vec<ModelFileDto>,
}

/// Most tensors one model response lists (`tensors_limit` at most, and its default).
pub const MAX_TENSORS_PAGE: usize = 10_000;

/// Which tensors of the inventory a model response lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TensorWindow {
    offset: usize,
    limit: usize,
}

impl TensorWindow {
    const FIRST: TensorWindow = TensorWindow {
        offset: 0,
        limit: MAX_TENSORS_PAGE,
    };
}

/// What list pages keep of the inventory (the store's summary column).
#[derive(Debug, Default, Deserialize)]
struct InventorySummary {
    #[serde(default)]
    n_tensors: usize,
    #[serde(default)]
    dtype_histogram: BTreeMap<String, u64>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

impl ModelDto {
    /// The single-model view: the inventory's tensors in `window`.
    fn from_row(row: ModelRow, window: TensorWindow) -> Self {
        let files = row.files.as_ref().map(|_| {
            folder::files_of(&row)
                .unwrap_or_default()
                .into_iter()
                .map(ModelFileDto::from)
                .collect::<Vec<_>>()
        });
        let inv: Option<Inventory> = serde_json::from_value(row.inventory).ok();
        let (n_tensors, hist, metadata, tensors, next) = match inv {
            Some(inv) => {
                let n = inv.tensors.len();
                let end = window.offset.saturating_add(window.limit).min(n);
                let tensors: Vec<TensorDto> = inv
                    .tensors
                    .into_iter()
                    .skip(window.offset)
                    .take(window.limit)
                    .map(|t| TensorDto {
                        name: t.name,
                        dtype: t.dtype,
                        shape: t.shape,
                    })
                    .collect();
                let next = (end < n).then_some(end);
                (n, inv.dtype_histogram, inv.metadata, tensors, next)
            }
            None => (0, BTreeMap::new(), BTreeMap::new(), Vec::new(), None),
        };
        ModelDto {
            id: row.id,
            name: row.name,
            format: row.format,
            sha256: row.sha256,
            bytes: row.bytes,
            n_params: row.n_params,
            n_tensors,
            dtype_histogram: hist,
            metadata,
            tensors: Some(tensors),
            tensors_next_offset: next,
            architecture: row.architecture,
            source_job_id: row.source_job_id,
            layout: ModelLayout::of(files.is_some()),
            files,
            created_at: row.created_at,
        }
    }

    /// The list view: the summary, no tensors.
    fn from_list_row(row: ModelListRow) -> Self {
        let summary: InventorySummary = row
            .summary
            .and_then(|s| serde_json::from_value(s).ok())
            .unwrap_or_default();
        ModelDto {
            id: row.id,
            name: row.name,
            format: row.format,
            sha256: row.sha256,
            bytes: row.bytes,
            n_params: row.n_params,
            n_tensors: summary.n_tensors,
            dtype_histogram: summary.dtype_histogram,
            metadata: summary.metadata,
            tensors: None,
            tensors_next_offset: None,
            architecture: row.architecture,
            source_job_id: row.source_job_id,
            layout: ModelLayout::of(row.is_folder),
            files: None,
            created_at: row.created_at,
        }
    }
}

/// Query of `GET /v1/models/{id}`: which tensors of the inventory to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelTensorsQuery {
    /// Index of the first tensor listed (file order; default 0).
    pub tensors_offset: Option<u32>,
    /// Most tensors listed, 1 to 10000 (default 10000). When more follow, the response's
    /// `tensors_next_offset` is the offset of the next page.
    #[param(minimum = 1, maximum = 10000)]
    pub tensors_limit: Option<usize>,
}

impl ModelTensorsQuery {
    fn window(&self) -> Result<TensorWindow, ApiError> {
        let limit = self.tensors_limit.unwrap_or(MAX_TENSORS_PAGE);
        if !(1..=MAX_TENSORS_PAGE).contains(&limit) {
            return Err(ApiError::field(
                "tensors_limit",
                format!("must be between 1 and {MAX_TENSORS_PAGE}"),
            ));
        }
        Ok(TensorWindow {
            offset: self.tensors_offset.unwrap_or(0) as usize,
            limit,
        })
    }
}

/// A page of models, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelPage {
    pub items: Vec<ModelDto>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Query of a raw-body upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadModelQuery {
    /// Display name (default: the multipart file name, else `model`).
    #[param(schema_with = super::names::name_schema)]
    pub name: Option<String>,
}

fn refuse_pickle(what: &str) -> ApiError {
    ApiError::UnsupportedMediaType(format!(
        "{what} looks like a PyTorch pickle/zip checkpoint; whittle never loads pickles. Convert it to safetensors \
         (python: `from safetensors.torch import save_file; save_file(model.state_dict(), 'model.safetensors')`) and upload that"
    ))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let trimmed = super::names::display_name("name", name)?;
    if has_pickle_checkpoint_extension(&trimmed) {
        return Err(refuse_pickle(&format!("'{trimmed}'")));
    }
    Ok(())
}

/// The parts of a `multipart/form-data` model upload (documentation of the form the
/// handler reads part by part).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ModelUploadForm {
    /// The model's name (default: the file's or folder's name).
    name: Option<String>,
    /// One safetensors file.
    #[schema(value_type = Option<String>, format = Binary)]
    file: Option<Vec<u8>>,
    /// A Hugging Face folder: one part per file, each part's file name its relative path
    /// (`config.json`, `model-00001-of-00002.safetensors`, tokenizer files, …).
    #[schema(value_type = Option<Vec<String>>, format = Binary)]
    files: Option<Vec<Vec<u8>>>,
}

/// What an upload request holds.
enum Upload {
    /// One safetensors file (raw body, or a multipart upload of one `.safetensors` part).
    Single(SpooledFile),
    /// A model folder (multipart parts or a `.tar` body).
    Folder(Vec<folder::FolderPart>),
}

/// Upload a safetensors model or a model folder.
///
/// - One file: the raw body (`application/octet-stream`), or `multipart/form-data` with one
///   `file` part (and an optional `name` part).
/// - A Hugging Face folder: `multipart/form-data` with one part per file, each part's file
///   name its relative path (`config.json`, `model-00001-of-00002.safetensors`,
///   `model.safetensors.index.json`, tokenizer files, …), or an uncompressed `.tar` body
///   (`Content-Type: application/x-tar`; one top-level directory is stripped). The index
///   must agree with the shards; side files are capped (configuration JSON at 4 MiB).
///
/// Pickle checkpoints (`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`, `.pickle`), code files
/// (`*.py`: remote code) and ONNX files are refused with 415 naming the file.
#[utoipa::path(post, path = "/v1/models", tag = "models", params(UploadModelQuery),
    request_body(description = "one safetensors file as the raw body, or multipart parts (a folder may also be sent as an uncompressed `.tar` body with `Content-Type: application/x-tar`)",
        content((Vec<u8> = "application/octet-stream"), (ModelUploadForm = "multipart/form-data"))),
    responses((status = 201, description = "model stored", body = ModelDto),
        (status = 413, description = "too large, or beyond the tenant's stored-bytes quota", body = Problem), (status = 415, description = "not safetensors", body = Problem),
        (status = 422, description = "invalid safetensors", body = Problem)))]
pub async fn upload_model(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<UploadModelQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    if let Some(name) = &q.name {
        check_name(name)?;
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let is_multipart = content_type.starts_with("multipart/form-data");
    let is_tar = content_type.starts_with("application/x-tar")
        || content_type.starts_with("application/tar");
    // A multipart body's length includes its framing: only a raw body's is the file's size.
    let allowance = super::tenant::UploadAllowance::for_tenant(
        &state,
        caller.tenant_id,
        state.limits.max_model_bytes,
        (!is_multipart)
            .then(|| super::tenant::content_length(req.headers()))
            .flatten(),
    )
    .await?;
    let limit = allowance.spool_limit();
    let mut name = q.name.clone();
    let upload = if is_multipart {
        let mut multipart = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::bad_request("body", e.body_text()))?;
        let limits = folder::folder_limits(&state);
        let mut parts: Vec<folder::FolderPart> = Vec::new();
        let mut used = 0u64;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request("body", e.body_text()))?
        {
            let file_name = field.file_name().map(str::to_string);
            if field.name() == Some("name") && file_name.is_none() {
                name = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| ApiError::bad_request("name", e.body_text()))?,
                );
                continue;
            }
            let raw_path = match (field.name(), file_name) {
                (_, Some(f)) => f,
                (Some("file"), None) => folder::SINGLE_PART_NAME.to_string(),
                _ => continue,
            };
            if has_pickle_checkpoint_extension(&raw_path) {
                return Err(refuse_pickle(&format!("'{raw_path}'")));
            }
            let path = folder::admit_part_path(&raw_path, &limits)?;
            let stream = field.map_err(|e| e.body_text());
            let spooled = state
                .artifacts
                .spool(stream, limit.saturating_sub(used))
                .await
                .map_err(|e| allowance.spool_error(e))?;
            used += spooled.bytes;
            parts.push(folder::FolderPart { path, spooled });
            if parts.len() > crate::formats::safetensors::folder::MAX_FOLDER_FILES {
                return Err(ApiError::PayloadTooLarge(format!(
                    "a model folder holds at most {} files",
                    crate::formats::safetensors::folder::MAX_FOLDER_FILES
                )));
            }
        }
        let single = parts.len() == 1
            && parts[0].path.to_ascii_lowercase().ends_with(".safetensors")
            && !parts[0].path.contains('/');
        match parts.pop() {
            None => {
                return Err(ApiError::field(
                    "file",
                    "a multipart upload needs a 'file' part (or one part per file of a folder)",
                ))
            }
            Some(part) if single => {
                if part.path != folder::SINGLE_PART_NAME {
                    name = name.or(Some(part.path.clone()));
                }
                Upload::Single(part.spooled)
            }
            Some(part) => {
                parts.push(part);
                Upload::Folder(parts)
            }
        }
    } else {
        let stream = req.into_body().into_data_stream();
        let spooled = state
            .artifacts
            .spool(stream, limit)
            .await
            .map_err(|e| allowance.spool_error(e))?;
        if is_tar {
            let limits = folder::folder_limits(&state);
            let artifacts = state.artifacts.clone();
            let parts = tokio::task::spawn_blocking(move || {
                folder::extract_tar(&spooled.path, || artifacts.scratch_path(".part"), &limits)
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
            Upload::Folder(parts)
        } else {
            Upload::Single(spooled)
        }
    };
    let name = name.unwrap_or_else(|| "model".into());
    check_name(&name)?;
    let row = match upload {
        Upload::Single(spooled) => store_single(&state, &caller, &name, spooled).await?,
        Upload::Folder(parts) => store_folder(&state, &caller, &name, parts).await?,
    };
    let location = state.location(&format!("/v1/models/{}", row.id));
    let mut resp = (
        StatusCode::CREATED,
        Json(ModelDto::from_row(row, TensorWindow::FIRST)),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Validates and stores a single-file model.
async fn store_single(
    state: &AppState,
    caller: &Caller,
    name: &str,
    spooled: SpooledFile,
) -> Result<ModelRow, ApiError> {
    if spooled.bytes == 0 {
        return Err(ApiError::field("body", "the file is empty"));
    }
    if let Some(kind) = looks_like_pickle_or_zip(&spooled.prefix) {
        return Err(refuse_pickle(&format!("the upload ({kind})")));
    }
    if looks_like_onnx(&spooled.prefix) || name.to_ascii_lowercase().ends_with(".onnx") {
        return Err(ApiError::UnsupportedMediaType(ONNX_REFUSED.into()));
    }
    let limits = folder::folder_limits(state).header;
    let path: PathBuf = spooled.path.clone();
    let (inventory, shapes) = tokio::task::spawn_blocking(move || {
        MappedModel::open_with_limits(&path, limits).map(|m| {
            let inventory = m.inventory().clone();
            let shapes = logical_shapes(&m, &inventory);
            (inventory, shapes)
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    crate::formats::mlp::check_metadata_text(&inventory.metadata)?;
    let architecture = crate::formats::mlp::detect_architecture(&shapes, &inventory.metadata)
        .and_then(|a| serde_json::to_value(a).ok());
    let id = Uuid::now_v7();
    let key = model_key(caller.tenant_id, id);
    state
        .artifacts
        .publish(&spooled.path, &key, Durability::Durable)
        .await?;
    let new = NewModel {
        id,
        tenant_id: caller.tenant_id,
        name: name.trim().to_string(),
        format: model_format(&inventory, None).to_string(),
        artifact_key: key.clone(),
        sha256: spooled.sha256.clone(),
        bytes: spooled.bytes as i64,
        n_params: inventory.n_params as i64,
        inventory: serde_json::to_value(&inventory)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        architecture,
        source_job_id: None,
        files: None,
    };
    match state.store.insert_model(&new).await {
        Ok(row) => Ok(row),
        Err(e) => {
            let _ = state.artifacts.delete(&key).await;
            Err(e.into())
        }
    }
}

/// Checks and stores a model folder file by file.
async fn store_folder(
    state: &AppState,
    caller: &Caller,
    name: &str,
    parts: Vec<folder::FolderPart>,
) -> Result<ModelRow, ApiError> {
    let upload = folder::check_parts(state, &parts).await?;
    let inventory = &upload.checked.inventory;
    crate::formats::mlp::check_metadata_text(&inventory.metadata)?;
    let id = Uuid::now_v7();
    let prefix = model_folder_key(caller.tenant_id, id);
    folder::publish_parts(state, &parts, &prefix).await?;
    let paths: Vec<String> = upload.files.iter().map(|f| f.path.clone()).collect();
    let new = NewModel {
        id,
        tenant_id: caller.tenant_id,
        name: name.trim().to_string(),
        format: model_format(inventory, upload.checked.config.as_ref()).to_string(),
        artifact_key: prefix.clone(),
        sha256: crate::formats::safetensors::folder::folder_digest(&upload.files),
        bytes: upload.files.iter().map(|f| f.bytes).sum::<u64>() as i64,
        n_params: inventory.n_params as i64,
        inventory: serde_json::to_value(inventory)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        architecture: crate::formats::transformer::architecture_summary(
            upload.checked.config.as_ref(),
            &paths,
        ),
        source_job_id: None,
        files: Some(
            serde_json::to_value(&upload.files).map_err(|e| ApiError::Internal(e.to_string()))?,
        ),
    };
    match state.store.insert_model(&new).await {
        Ok(row) => Ok(row),
        Err(e) => {
            let _ = state.artifacts.delete_folder(&prefix, &paths).await;
            Err(e.into())
        }
    }
}

/// Tensor shapes as the model had them before quantization (a compressed-tensors MLP is
/// detected from those), else as stored.
fn logical_shapes(m: &MappedModel, inventory: &Inventory) -> Vec<(String, Vec<usize>)> {
    if model_format(inventory, None) == "compressed-tensors" {
        crate::formats::compressed_tensors::logical_shapes(m)
    } else {
        inventory
            .tensors
            .iter()
            .map(|t| (t.name.clone(), t.shape.clone()))
            .collect()
    }
}

/// List models, newest first.
#[utoipa::path(get, path = "/v1/models", tag = "models", params(PageQuery),
    responses((status = 200, body = ModelPage), (status = 400, body = Problem)))]
pub async fn list_models(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<ModelPage>, ApiError> {
    let page = state
        .store
        .list_models(caller.tenant_id, q.to_page()?)
        .await?;
    Ok(Json(ModelPage {
        items: page
            .items
            .into_iter()
            .map(ModelDto::from_list_row)
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Get one model with its tensor inventory.
///
/// The inventory is paginated: `tensors` lists at most `tensors_limit` tensors (default and
/// maximum 10000) from `tensors_offset`; `tensors_next_offset` is present when more follow.
#[utoipa::path(get, path = "/v1/models/{id}", tag = "models",
    params(("id" = Uuid, Path, description = "model id"), ModelTensorsQuery),
    responses((status = 200, body = ModelDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_model(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<ModelTensorsQuery>,
) -> Result<Json<ModelDto>, ApiError> {
    let window = q.window()?;
    let row = caller_model(&state, &caller, id).await?;
    Ok(Json(ModelDto::from_row(row, window)))
}

/// Download the model: the safetensors file, or a folder as an uncompressed `.tar` (files in
/// path order), with `Content-Length` and a sha256 `ETag` (a folder's digest over its files).
/// `Range` resumes a download (206 with `Content-Range`; the `.tar` too).
#[utoipa::path(get, path = "/v1/models/{id}/content", tag = "models", params(("id" = Uuid, Path, description = "model id"), ("Range" = Option<String>, Header, description = "one byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n` (206); several ranges or another unit get the whole content"), ("If-Range" = Option<String>, Header, description = "the ETag the range is for; another one gets the whole content")),
    responses((status = 200, description = "the safetensors file, or a folder as .tar (application/x-tar)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "the requested byte range, with Content-Range", content_type = "application/octet-stream", body = Vec<u8>), (status = 416, description = "the range starts beyond the content (Content-Range: bytes */size)", body = Problem), (status = 304, description = "not modified (If-None-Match)"), (status = 404, body = Problem)))]
pub async fn download_model(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = caller_model(&state, &caller, id).await?;
    if row.files.is_some() {
        return folder::tar_response(&state, &row, &headers).await;
    }
    let file_name = if row.name.to_ascii_lowercase().ends_with(".safetensors") {
        row.name.clone()
    } else {
        format!("{}.safetensors", row.name)
    };
    stream_artifact(
        &state,
        &row.artifact_key,
        &row.sha256,
        &file_name,
        "application/octet-stream",
        &headers,
    )
    .await
}

/// Serve an artifact with Content-Length, ETag (sha256), If-None-Match and Range support.
pub async fn stream_artifact(
    state: &AppState,
    key: &str,
    sha256: &str,
    file_name: &str,
    content_type: &'static str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let object = state.artifacts.open_object(key).await?;
    super::download::respond(
        state.artifacts.clone(),
        vec![super::download::Piece::Opened(object)],
        sha256,
        &safe_file_name(file_name),
        content_type,
        headers,
    )
}

/// The caller's model `id`, or 404.
async fn caller_model(state: &AppState, caller: &Caller, id: Uuid) -> Result<ModelRow, ApiError> {
    state
        .store
        .get_model(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("model"))
}

/// A file name safe in a `Content-Disposition` header.
pub(super) fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// List a model's files: a folder's shards, index, config and side files, or the one file
/// of a single-file model (`model.safetensors`).
#[utoipa::path(get, path = "/v1/models/{id}/files", tag = "models", params(("id" = Uuid, Path, description = "model id")),
    responses((status = 200, body = ModelFilesDto), (status = 404, body = Problem)))]
pub async fn list_model_files(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<ModelFilesDto>, ApiError> {
    let row = caller_model(&state, &caller, id).await?;
    Ok(Json(ModelFilesDto {
        items: folder::files_of(&row)?
            .into_iter()
            .map(ModelFileDto::from)
            .collect(),
    }))
}

/// Download one file of a model by its relative path, with a sha256 `ETag`.
#[utoipa::path(get, path = "/v1/models/{id}/files/{path}", tag = "models",
    params(("id" = Uuid, Path, description = "model id"), ("path" = String, Path, description = "relative path of the file, e.g. config.json"), ("Range" = Option<String>, Header, description = "one byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n` (206); several ranges or another unit get the whole content"), ("If-Range" = Option<String>, Header, description = "the ETag the range is for; another one gets the whole content")),
    responses((status = 200, description = "the file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "the requested byte range, with Content-Range", content_type = "application/octet-stream", body = Vec<u8>), (status = 416, description = "the range starts beyond the content (Content-Range: bytes */size)", body = Problem), (status = 304, description = "not modified (If-None-Match)"), (status = 404, body = Problem)))]
pub async fn download_model_file(
    State(state): State<AppState>,
    caller: Caller,
    AppPath((id, path)): AppPath<(Uuid, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = caller_model(&state, &caller, id).await?;
    let file = folder::files_of(&row)?
        .into_iter()
        .find(|f| f.path == path)
        .ok_or(ApiError::NotFound("file"))?;
    let content_type = if file.path.ends_with(".json") {
        "application/json"
    } else {
        "application/octet-stream"
    };
    let name = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or(&file.path)
        .to_string();
    stream_artifact(
        &state,
        &folder::file_key(&row, &file),
        &file.sha256,
        &name,
        content_type,
        &headers,
    )
    .await
}

/// Delete a model and its file.
#[utoipa::path(delete, path = "/v1/models/{id}", tag = "models", params(("id" = Uuid, Path, description = "model id")),
    responses((status = 204, description = "deleted"), (status = 404, body = Problem)))]
pub async fn delete_model(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let row = state
        .store
        .delete_model(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("model"))?;
    let deleted = match &row.files {
        Some(_) => {
            let paths: Vec<String> = folder::files_of(&row)?
                .into_iter()
                .map(|f| f.path)
                .collect();
            state
                .artifacts
                .delete_folder(&row.artifact_key, &paths)
                .await
        }
        None => state.artifacts.delete(&row.artifact_key).await,
    };
    if let Err(e) = deleted {
        tracing::warn!(error = %e, key = %row.artifact_key, "model row deleted but its file was not");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `compressed-tensors` when the file (or the folder's `config.json`) carries a
/// compressed-tensors quantization config (whittle's quantize output, llm-compressor
/// checkpoints), else `safetensors`.
pub fn model_format(inventory: &Inventory, config: Option<&Value>) -> &'static str {
    let in_config = config
        .and_then(|c| c.get("quantization_config"))
        .and_then(|q| q.get("quant_method"))
        .and_then(Value::as_str)
        == Some("compressed-tensors");
    if in_config || inventory.metadata.contains_key("quantization_config") {
        "compressed-tensors"
    } else {
        "safetensors"
    }
}

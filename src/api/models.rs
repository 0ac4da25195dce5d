//! `/v1/models`: upload (raw body or multipart), list, get, download, delete.
use axum::body::Body;
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
use crate::artifacts::{model_key, SpooledFile};
use crate::formats::safetensors::{
    has_pickle_checkpoint_extension, looks_like_pickle_or_zip, HeaderLimits, Inventory, MappedModel,
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
    /// The MLP whittle can run (layer sizes, activations, task), or null.
    #[schema(value_type = Option<Object>)]
    pub architecture: Option<Value>,
    /// The job that produced this model, if any.
    pub source_job_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
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
            created_at: row.created_at,
        }
    }
}

/// Query of `GET /v1/models/{id}`: which tensors of the inventory to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelTensorsQuery {
    /// Index of the first tensor listed (file order; default 0).
    pub tensors_offset: Option<usize>,
    /// Most tensors listed, 1 to 10000 (default 10000). When more follow, the response's
    /// `tensors_next_offset` is the offset of the next page.
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
            offset: self.tensors_offset.unwrap_or(0),
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

/// Upload a safetensors model.
///
/// The body is the raw file (`application/octet-stream`), or `multipart/form-data` with a
/// `file` part (and an optional `name` part). The file is validated completely before it is
/// accepted. Pickle checkpoints (`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`, `.pickle`) are
/// refused with 415.
#[utoipa::path(post, path = "/v1/models", tag = "models", params(UploadModelQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the safetensors file"),
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
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
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
    let (spooled, name) = if is_multipart {
        let mut multipart = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::bad_request("body", e.body_text()))?;
        let mut file: Option<(SpooledFile, Option<String>)> = None;
        let mut name = q.name.clone();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request("body", e.body_text()))?
        {
            match field.name() {
                Some("file") => {
                    let file_name = field.file_name().map(str::to_string);
                    if let Some(f) = &file_name {
                        check_name(f)?;
                    }
                    let stream = field.map_err(|e| e.body_text());
                    let spooled = state
                        .artifacts
                        .spool(stream, limit)
                        .await
                        .map_err(|e| allowance.spool_error(e))?;
                    file = Some((spooled, file_name));
                }
                Some("name") => {
                    name = Some(
                        field
                            .text()
                            .await
                            .map_err(|e| ApiError::bad_request("name", e.body_text()))?,
                    );
                }
                _ => {}
            }
        }
        let (spooled, file_name) =
            file.ok_or_else(|| ApiError::field("file", "a multipart upload needs a 'file' part"))?;
        (
            spooled,
            name.or(file_name).unwrap_or_else(|| "model".into()),
        )
    } else {
        let stream = req.into_body().into_data_stream();
        (
            state
                .artifacts
                .spool(stream, limit)
                .await
                .map_err(|e| allowance.spool_error(e))?,
            q.name.clone().unwrap_or_else(|| "model".into()),
        )
    };
    check_name(&name)?;
    if spooled.bytes == 0 {
        return Err(ApiError::field("body", "the file is empty"));
    }
    if let Some(kind) = looks_like_pickle_or_zip(&spooled.prefix) {
        return Err(refuse_pickle(&format!("the upload ({kind})")));
    }
    let limits = HeaderLimits {
        max_header_bytes: usize::try_from(state.limits.max_header_bytes).unwrap_or(usize::MAX),
        max_tensors: state.limits.max_tensors,
        max_metadata_bytes: state.limits.max_metadata_bytes,
    };
    let path: PathBuf = spooled.path.clone();
    let (inventory, shapes) = tokio::task::spawn_blocking(move || {
        MappedModel::open_with_limits(&path, limits).map(|m| {
            let inventory = m.inventory().clone();
            // A quantized (compressed-tensors) MLP is detected from its pre-quantization shapes.
            let shapes = if model_format(&inventory) == "compressed-tensors" {
                crate::formats::compressed_tensors::logical_shapes(&m)
            } else {
                inventory
                    .tensors
                    .iter()
                    .map(|t| (t.name.clone(), t.shape.clone()))
                    .collect()
            };
            (inventory, shapes)
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let architecture = crate::formats::mlp::detect_architecture(&shapes, &inventory.metadata)
        .and_then(|a| serde_json::to_value(a).ok());
    let id = Uuid::now_v7();
    let key = model_key(caller.tenant_id, id);
    state.artifacts.publish(&spooled.path, &key).await?;
    let new = NewModel {
        id,
        tenant_id: caller.tenant_id,
        name: name.trim().to_string(),
        format: model_format(&inventory).to_string(),
        artifact_key: key.clone(),
        sha256: spooled.sha256.clone(),
        bytes: spooled.bytes as i64,
        n_params: inventory.n_params as i64,
        inventory: serde_json::to_value(&inventory)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        architecture,
        source_job_id: None,
    };
    let row = match state.store.insert_model(&new).await {
        Ok(row) => row,
        Err(e) => {
            let _ = state.artifacts.delete(&key).await;
            return Err(e.into());
        }
    };
    let location = format!("/v1/models/{}", row.id);
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
    let row = state
        .store
        .get_model(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("model"))?;
    Ok(Json(ModelDto::from_row(row, window)))
}

/// Download the model file (safetensors), with `Content-Length` and a sha256 `ETag`.
#[utoipa::path(get, path = "/v1/models/{id}/content", tag = "models", params(("id" = Uuid, Path, description = "model id")),
    responses((status = 200, description = "the safetensors file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 304, description = "not modified (If-None-Match)"), (status = 404, body = Problem)))]
pub async fn download_model(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = state
        .store
        .get_model(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("model"))?;
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

/// Stream an artifact with Content-Length, ETag (sha256) and If-None-Match support.
pub async fn stream_artifact(
    state: &AppState,
    key: &str,
    sha256: &str,
    file_name: &str,
    content_type: &'static str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let etag = format!("\"{sha256}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            resp.headers_mut().insert(header::ETAG, v);
        }
        return Ok(resp);
    }
    let (size, stream) = state.artifacts.get(key).await?;
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
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
    if let Err(e) = state.artifacts.delete(&row.artifact_key).await {
        tracing::warn!(error = %e, key = %row.artifact_key, "model row deleted but its file was not");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `compressed-tensors` when the file carries a compressed-tensors quantization config
/// (whittle's quantize output, llm-compressor checkpoints), else `safetensors`.
pub fn model_format(inventory: &Inventory) -> &'static str {
    if inventory.metadata.contains_key("quantization_config") {
        "compressed-tensors"
    } else {
        "safetensors"
    }
}

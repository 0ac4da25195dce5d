//! `/v1/datasets`: upload CSV, NPY or JSON Lines (tabular or text), list, get, download, delete.
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{AppPath, AppQuery};
use super::models::stream_artifact;
use super::{ApiError, AppState, Caller, PageQuery, Problem};
use crate::artifacts::{dataset_key, Durability};
use crate::formats::dataset::{parse_csv, parse_npy, CsvOptions, Dataset, NpyOptions, Task};
use crate::formats::text_dataset::{
    csv_has_text_column, parse_text, TextDataset, TextFormat, TextOptions,
};
use crate::store::{DatasetRow, NewDataset};

pub fn routes(state: &AppState) -> Router<AppState> {
    let upload_limit = axum::extract::DefaultBodyLimit::max(
        usize::try_from(state.limits.max_dataset_bytes).unwrap_or(usize::MAX),
    );
    Router::new()
        .route(
            "/datasets",
            get(list_datasets).post(upload_dataset).layer(upload_limit),
        )
        .route("/datasets/{id}", get(get_dataset).delete(delete_dataset))
        .route("/datasets/{id}/content", get(download_dataset))
}

/// A dataset and its shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetDto {
    pub id: Uuid,
    pub name: String,
    /// `csv`, `npy` or `jsonl`.
    pub format: String,
    /// `tabular` (numeric feature columns) or `text` (a text column, optionally a second
    /// text and labels, tokenized by jobs with the model's own tokenizer).
    pub modality: String,
    pub sha256: String,
    pub bytes: i64,
    pub rows: i64,
    /// Numeric feature columns (0 for text datasets).
    pub features: i64,
    /// Tabular: the feature columns. Text: the text field, then `text_pair` when present.
    pub feature_names: Vec<String>,
    /// The target (label) column; empty for a text dataset without labels.
    pub target: String,
    /// `classification`, `regression`, or `none` (text without labels).
    pub task: String,
    /// Class labels in index order (classification only).
    pub classes: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
}

impl From<DatasetRow> for DatasetDto {
    fn from(r: DatasetRow) -> Self {
        DatasetDto {
            id: r.id,
            name: r.name,
            format: r.format,
            modality: r.modality,
            sha256: r.sha256,
            bytes: r.bytes,
            rows: r.rows,
            features: r.features,
            feature_names: serde_json::from_value(r.feature_names).unwrap_or_default(),
            target: r.target,
            task: r.task,
            classes: r.classes.and_then(|c| serde_json::from_value(c).ok()),
            created_at: r.created_at,
        }
    }
}

/// A page of datasets, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetPage {
    pub items: Vec<DatasetDto>,
    pub next_cursor: Option<Uuid>,
}

/// Dataset file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatasetFormat {
    Csv,
    Npy,
    /// JSON Lines: one object per line with a `text` field (a text dataset).
    Jsonl,
}

/// Query of a dataset upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadDatasetQuery {
    /// Display name (default `dataset`).
    #[param(schema_with = super::names::name_schema)]
    pub name: Option<String>,
    /// CSV: the target column's name (default: the last column). NPY: the target column's
    /// index (default: the last column). Text datasets: the label field (default `label`,
    /// when present).
    pub target: Option<String>,
    /// `classification` or `regression` (default: inferred from the target values). Text
    /// datasets are `classification` with labels, `none` without.
    #[param(schema_with = upload_task_schema)]
    pub task: Option<Task>,
    /// `csv`, `npy` or `jsonl` (default: from the content type, else sniffed).
    pub format: Option<DatasetFormat>,
    /// The text field (default `text`). A CSV whose header has this column, and every JSON
    /// Lines file, is a text dataset.
    pub text: Option<String>,
    /// The second text of a sentence pair (default `text_pair`, used when present).
    pub text_pair: Option<String>,
}

fn upload_task_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["classification", "regression"]))
        .build()
}

/// A parsed upload.
enum Parsed {
    Tabular(Dataset),
    Text(TextDataset, TextFormat),
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Upload a dataset.
///
/// CSV: a header row, numeric feature columns and a target column chosen with `target`
/// (default: last). NPY: a 2-D numeric array whose target column is `target` (an index,
/// default last). Text: JSON Lines (`application/jsonl`), or a CSV with a `text` column,
/// holding `text`, optionally `text_pair` and a label (`target`, default `label`). Bad cells
/// are reported with their line and column.
#[utoipa::path(post, path = "/v1/datasets", tag = "datasets", params(UploadDatasetQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file's bytes (also accepted as text/csv, application/jsonl or application/x-npy): the format is `format`, else NPY by its magic bytes, JSON Lines by an application/jsonl content type, else CSV"),
    responses((status = 201, body = DatasetDto), (status = 413, description = "too large, or beyond the tenant's stored-bytes quota", body = Problem), (status = 422, body = Problem)))]
pub async fn upload_dataset(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<UploadDatasetQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let name = super::names::display_name("name", q.name.as_deref().unwrap_or("dataset"))?;
    for (field, value) in [
        ("target", &q.target),
        ("text", &q.text),
        ("text_pair", &q.text_pair),
    ] {
        if let Some(v) = value {
            super::names::check_no_nul(field, v)?;
            if v.trim().is_empty() || v.chars().count() > 200 {
                return Err(ApiError::field(
                    field,
                    "a column name of 1 to 200 characters",
                ));
            }
        }
    }
    let allowance = super::tenant::UploadAllowance::for_tenant(
        &state,
        caller.tenant_id,
        state.limits.max_dataset_bytes,
        super::tenant::content_length(req.headers()),
    )
    .await?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let stream = req.into_body().into_data_stream();
    let spooled = state
        .artifacts
        .spool(stream, allowance.spool_limit())
        .await
        .map_err(|e| allowance.spool_error(e))?;
    if spooled.bytes == 0 {
        return Err(ApiError::field("body", "the file is empty"));
    }
    let text_field = q.text.clone().unwrap_or_else(|| "text".into());
    let format = q.format.unwrap_or(
        if spooled.prefix.starts_with(NPY_MAGIC) || content_type.contains("npy") {
            DatasetFormat::Npy
        } else if content_type.contains("jsonl")
            || content_type.contains("ndjson")
            || content_type.contains("jsonlines")
        {
            DatasetFormat::Jsonl
        } else {
            DatasetFormat::Csv
        },
    );
    let text_format = match format {
        DatasetFormat::Jsonl => Some(TextFormat::Jsonl),
        DatasetFormat::Csv
            if q.text.is_some() || csv_has_text_column(&spooled.prefix, &text_field) =>
        {
            Some(TextFormat::Csv)
        }
        _ => None,
    };
    if text_format.is_some() && q.task == Some(Task::Regression) {
        return Err(ApiError::field(
            "task",
            "text datasets are classification (with labels) or unlabelled",
        ));
    }
    let path = spooled.path.clone();
    let target = q.target.clone();
    let task = q.task;
    let text_pair = q.text_pair.clone();
    let max_features = state.limits.max_dataset_features;
    let parsed: Parsed = tokio::task::spawn_blocking(move || -> Result<Parsed, ApiError> {
        let open = || std::fs::File::open(&path).map_err(|e| ApiError::Internal(e.to_string()));
        if let Some(tf) = text_format {
            let opts = TextOptions {
                text: text_field,
                text_pair: text_pair.unwrap_or_else(|| "text_pair".into()),
                label_required: target.is_some(),
                label: target.unwrap_or_else(|| "label".into()),
                ..TextOptions::default()
            };
            let d = parse_text(std::io::BufReader::new(open()?), tf, &opts)?;
            if task == Some(Task::Classification) && d.labels.is_none() {
                return Err(ApiError::field(
                    "task",
                    format!("classification needs a {:?} field", opts.label),
                ));
            }
            return Ok(Parsed::Text(d, tf));
        }
        match format {
            DatasetFormat::Csv => {
                let opts = CsvOptions {
                    target,
                    task,
                    max_features,
                    ..CsvOptions::default()
                };
                Ok(Parsed::Tabular(parse_csv(
                    std::io::BufReader::new(open()?),
                    &opts,
                )?))
            }
            DatasetFormat::Npy => {
                let target_column = match target {
                    None => None,
                    Some(t) => Some(t.parse::<usize>().map_err(|_| {
                        ApiError::field("target", "for NPY datasets, target is a column index")
                    })?),
                };
                let bytes = std::fs::read(&path).map_err(|e| ApiError::Internal(e.to_string()))?;
                let opts = NpyOptions {
                    target_column,
                    task,
                    max_features,
                    ..NpyOptions::default()
                };
                Ok(Parsed::Tabular(parse_npy(&bytes, &opts)?))
            }
            DatasetFormat::Jsonl => unreachable!("JSON Lines files are text datasets"),
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let ext = match (&parsed, format) {
        (Parsed::Text(_, tf), _) => tf.as_str(),
        (_, DatasetFormat::Npy) => "npy",
        _ => "csv",
    };
    let id = Uuid::now_v7();
    let key = dataset_key(caller.tenant_id, id, ext);
    state
        .artifacts
        .publish(&spooled.path, &key, Durability::Durable)
        .await?;
    let new = NewDataset {
        id,
        tenant_id: caller.tenant_id,
        name,
        format: ext.into(),
        artifact_key: key.clone(),
        sha256: spooled.sha256.clone(),
        bytes: spooled.bytes as i64,
        rows: 0,
        features: 0,
        feature_names: serde_json::json!([]),
        target: String::new(),
        task: String::new(),
        classes: None,
        modality: String::new(),
    };
    let new = match &parsed {
        Parsed::Tabular(dataset) => NewDataset {
            rows: dataset.n_rows() as i64,
            features: dataset.n_features() as i64,
            feature_names: serde_json::json!(dataset.feature_names),
            target: dataset.target.clone(),
            task: dataset.task.as_str().into(),
            classes: dataset.classes.as_ref().map(|c| serde_json::json!(c)),
            modality: "tabular".into(),
            ..new
        },
        Parsed::Text(d, _) => NewDataset {
            rows: d.len() as i64,
            feature_names: serde_json::json!(d.fields),
            target: d.label_field.clone().unwrap_or_default(),
            task: if d.labels.is_some() {
                "classification"
            } else {
                "none"
            }
            .into(),
            classes: d.classes.as_ref().map(|c| serde_json::json!(c)),
            modality: "text".into(),
            ..new
        },
    };
    let row = match state.store.insert_dataset(&new).await {
        Ok(r) => r,
        Err(e) => {
            let _ = state.artifacts.delete(&key).await;
            return Err(e.into());
        }
    };
    let location = state.location(&format!("/v1/datasets/{}", row.id));
    let mut resp = (StatusCode::CREATED, Json(DatasetDto::from(row))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// List datasets, newest first.
#[utoipa::path(get, path = "/v1/datasets", tag = "datasets", params(PageQuery),
    responses((status = 200, body = DatasetPage), (status = 400, body = Problem)))]
pub async fn list_datasets(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<DatasetPage>, ApiError> {
    let page = state
        .store
        .list_datasets(caller.tenant_id, q.to_page()?)
        .await?;
    Ok(Json(DatasetPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Get one dataset.
#[utoipa::path(get, path = "/v1/datasets/{id}", tag = "datasets", params(("id" = Uuid, Path, description = "dataset id")),
    responses((status = 200, body = DatasetDto), (status = 404, body = Problem)))]
pub async fn get_dataset(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<DatasetDto>, ApiError> {
    let row = state
        .store
        .get_dataset(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("dataset"))?;
    Ok(Json(row.into()))
}

/// Download the dataset file as uploaded.
#[utoipa::path(get, path = "/v1/datasets/{id}/content", tag = "datasets", params(("id" = Uuid, Path, description = "dataset id"), ("Range" = Option<String>, Header, description = "one byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n` (206); several ranges or another unit get the whole content"), ("If-Range" = Option<String>, Header, description = "the ETag the range is for; another one gets the whole content")),
    responses((status = 200, description = "the file", content_type = "application/octet-stream", body = Vec<u8>), (status = 206, description = "the requested byte range, with Content-Range", content_type = "application/octet-stream", body = Vec<u8>), (status = 416, description = "the range starts beyond the content (Content-Range: bytes */size)", body = Problem), (status = 304, description = "not modified"), (status = 404, body = Problem)))]
pub async fn download_dataset(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let row = state
        .store
        .get_dataset(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("dataset"))?;
    let ct = match row.format.as_str() {
        "csv" => "text/csv",
        "jsonl" => "application/jsonl",
        _ => "application/octet-stream",
    };
    let file_name = format!("{}.{}", row.name, row.format);
    stream_artifact(
        &state,
        &row.artifact_key,
        &row.sha256,
        &file_name,
        ct,
        &headers,
    )
    .await
}

/// Delete a dataset and its file.
#[utoipa::path(delete, path = "/v1/datasets/{id}", tag = "datasets", params(("id" = Uuid, Path, description = "dataset id")),
    responses((status = 204, description = "deleted"), (status = 404, body = Problem)))]
pub async fn delete_dataset(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let row = state
        .store
        .delete_dataset(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("dataset"))?;
    if let Err(e) = state.artifacts.delete(&row.artifact_key).await {
        tracing::warn!(error = %e, key = %row.artifact_key, "dataset row deleted but its file was not");
    }
    Ok(StatusCode::NO_CONTENT)
}

//! The API's error type: every failure leaves as RFC 9457 `application/problem+json` with a
//! field-level `errors` list. Server errors get a generic body; the cause is logged once.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::artifacts::ArtifactError;
use crate::domain::{FieldError, ValidationErrors};
use crate::formats::FormatError;
use crate::store::StoreError;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:whittle:problem:validation`, …).
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One entry per offending field (empty when the problem is not about fields).
    pub errors: Vec<FieldError>,
    /// Quota problems only: the quota that was reached (`active_jobs`, `stored_bytes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<String>,
    /// Quota problems only: the tenant's limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Quota problems only: what the tenant uses now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<u64>,
}

/// A per-tenant quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Queued plus running jobs (429 when reached).
    ActiveJobs,
    /// Bytes of stored models and datasets (413 when an upload would exceed it).
    StoredBytes,
}

impl Quota {
    pub fn as_str(self) -> &'static str {
        match self {
            Quota::ActiveJobs => "active_jobs",
            Quota::StoredBytes => "stored_bytes",
        }
    }
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Conflict(String),
    /// A dependency failed: which one is told to the client, the cause is only logged.
    #[error("{dependency}: {cause}")]
    Unavailable {
        dependency: &'static str,
        cause: String,
    },
    #[error("{detail}")]
    QuotaExceeded {
        quota: Quota,
        limit: u64,
        used: u64,
        detail: String,
    },
    /// 416: the `Range` asks for bytes beyond the representation's `size`.
    #[error("the requested range is beyond the {size} bytes of the content")]
    RangeNotSatisfiable { size: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 422 about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(ValidationErrors::single(field, message))
    }

    /// A 400 about one field.
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::BadRequest {
            detail: message.clone(),
            errors: vec![FieldError {
                field: field.into(),
                message,
            }],
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not Found"),
            ApiError::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid request",
            ),
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Payload too large",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::QuotaExceeded {
                quota: Quota::ActiveJobs,
                ..
            } => (StatusCode::TOO_MANY_REQUESTS, "quota", "Quota exceeded"),
            ApiError::QuotaExceeded {
                quota: Quota::StoredBytes,
                ..
            } => (StatusCode::PAYLOAD_TOO_LARGE, "quota", "Quota exceeded"),
            ApiError::RangeNotSatisfiable { .. } => (
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                "Range not satisfiable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        let quota = match &self {
            ApiError::QuotaExceeded {
                quota, limit, used, ..
            } => Some((quota.as_str().to_string(), *limit, *used)),
            _ => None,
        };
        let unsatisfiable = match &self {
            ApiError::RangeNotSatisfiable { size } => Some(*size),
            _ => None,
        };
        let (detail, errors) = match self {
            ApiError::Validation(v) => {
                let detail = if v.0.len() == 1 {
                    format!("{}: {}", v.0[0].field, v.0[0].message)
                } else {
                    format!("{} fields are invalid", v.0.len())
                };
                (detail, v.0)
            }
            ApiError::BadRequest { detail, errors } => (detail, errors),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    "the server failed to handle this request; it has been logged".into(),
                    vec![],
                )
            }
            ApiError::Unavailable { dependency, cause } => {
                tracing::warn!(%cause, dependency, "unavailable");
                (
                    format!("not ready: {dependency} (the server log says why)"),
                    vec![],
                )
            }
            ApiError::RangeNotSatisfiable { size } => {
                let message = format!(
                    "the content has {size} bytes; ask for a range that starts before byte {size}"
                );
                (
                    message.clone(),
                    vec![FieldError {
                        field: "Range".into(),
                        message,
                    }],
                )
            }
            other => (other.to_string(), vec![]),
        };
        let body = Problem {
            type_: format!("urn:whittle:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
            quota: quota.as_ref().map(|q| q.0.clone()),
            limit: quota.as_ref().map(|q| q.1),
            used: quota.as_ref().map(|q| q.2),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(size) = unsatisfiable {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // Handlers check the text they take; this catches what slipped through.
            StoreError::InvalidText(m) => ApiError::field(
                "request",
                format!("text must not contain NUL (U+0000) characters ({m})"),
            ),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::Validation(e)
    }
}

impl From<ArtifactError> for ApiError {
    fn from(e: ArtifactError) -> Self {
        match e {
            ArtifactError::TooLarge { limit } => {
                ApiError::PayloadTooLarge(format!("the body exceeds the limit of {limit} bytes"))
            }
            ArtifactError::Body(m) => {
                ApiError::bad_request("body", format!("reading the body failed: {m}"))
            }
            ArtifactError::NotFound(k) => ApiError::Internal(format!("artifact {k} missing")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<FormatError> for ApiError {
    fn from(e: FormatError) -> Self {
        match e {
            FormatError::TooLarge(m) => ApiError::PayloadTooLarge(m),
            FormatError::Unsupported(m) => ApiError::UnsupportedMediaType(m),
            other => ApiError::field("body", other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn problem_of(e: ApiError) -> (StatusCode, serde_json::Value) {
        let resp = e.into_response();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, serde_json::from_slice(&body).expect("problem json"))
    }

    #[tokio::test]
    async fn text_the_database_refused_is_a_422_not_a_500() {
        let e: ApiError = StoreError::InvalidText("invalid byte sequence".into()).into();
        let (status, p) = problem_of(e).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["errors"][0]["field"], "request");
    }

    #[tokio::test]
    async fn quota_problems_carry_their_limit() {
        let (status, p) = problem_of(ApiError::QuotaExceeded {
            quota: Quota::ActiveJobs,
            limit: 3,
            used: 3,
            detail: "full".into(),
        })
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            (p["quota"].clone(), p["limit"].clone(), p["used"].clone()),
            (
                serde_json::json!("active_jobs"),
                serde_json::json!(3),
                serde_json::json!(3)
            )
        );
        let (status, p) = problem_of(ApiError::QuotaExceeded {
            quota: Quota::StoredBytes,
            limit: 10,
            used: 4,
            detail: "full".into(),
        })
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(p["quota"], "stored_bytes");
        // Other problems do not carry quota members.
        let (_, p) = problem_of(ApiError::NotFound("model")).await;
        assert!(p.get("limit").is_none() && p.get("quota").is_none(), "{p}");
    }
}

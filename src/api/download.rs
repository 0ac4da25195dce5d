//! Download responses: a representation made of in-memory pieces and stored objects (one
//! model file, or a folder's `.tar`), served whole or as one byte range (RFC 9110 `Range`,
//! `If-Range`, 206 with `Content-Range`, 416), with a strong sha256 `ETag` and
//! `If-None-Match`.
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use std::ops::Range;
use std::sync::Arc;

use super::ApiError;
use crate::artifacts::{ArtifactError, ArtifactStore, StoredObject};

/// One part of a representation.
pub enum Piece {
    /// Bytes held in memory (a tar header, padding).
    Bytes(Bytes),
    /// A stored object opened already.
    Opened(StoredObject),
    /// A stored object of a known size, opened when its bytes are reached.
    Object { key: String, size: u64 },
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Opened(o) => o.size,
            Piece::Object { size, .. } => *size,
        }
    }
}

/// What the request asks of a representation of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    Full,
    Partial(Range<u64>),
}

/// Reads `Range` (one `bytes=` range; several ranges or another unit are answered with the
/// whole content, as RFC 9110 allows) and `If-Range` (a different validator: the whole
/// content). A range starting at or beyond `size` is a 416.
pub fn requested(headers: &HeaderMap, size: u64, etag: &str) -> Result<Requested, ApiError> {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(Requested::Full);
    };
    if let Some(v) = headers.get(header::IF_RANGE) {
        if v.to_str().map(str::trim).ok() != Some(etag) {
            return Ok(Requested::Full);
        }
    }
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return Ok(Requested::Full);
    };
    if spec.contains(',') {
        return Ok(Requested::Full);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(Requested::Full);
    };
    let parse = |s: &str| -> Option<Option<u64>> {
        let s = s.trim();
        if s.is_empty() {
            Some(None)
        } else if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok().map(Some)
        } else {
            None
        }
    };
    let (Some(first), Some(last)) = (parse(first), parse(last)) else {
        return Ok(Requested::Full);
    };
    let range = match (first, last) {
        (Some(a), _) if a >= size => return Err(ApiError::RangeNotSatisfiable { size }),
        (Some(a), Some(b)) if b < a => return Ok(Requested::Full),
        (Some(a), Some(b)) => a..b.saturating_add(1).min(size),
        (Some(a), None) => a..size,
        (None, Some(0)) | (None, None) => return Err(ApiError::RangeNotSatisfiable { size }),
        (None, Some(_)) if size == 0 => return Err(ApiError::RangeNotSatisfiable { size }),
        (None, Some(n)) => size.saturating_sub(n)..size,
    };
    Ok(Requested::Partial(range))
}

/// The bytes `range` of the concatenation of `pieces`.
fn body(
    artifacts: Arc<ArtifactStore>,
    pieces: Vec<Piece>,
    range: Range<u64>,
) -> BoxStream<'static, Result<Bytes, ArtifactError>> {
    let mut at = 0u64;
    let mut parts = Vec::new();
    for piece in pieces {
        let len = piece.len();
        let (start, end) = (at, at + len);
        at = end;
        let (a, b) = (range.start.max(start), range.end.min(end));
        if a >= b {
            continue;
        }
        parts.push((piece, (a - start)..(b - start)));
    }
    futures::stream::iter(parts)
        .then(move |(piece, within)| {
            let artifacts = artifacts.clone();
            async move {
                Ok::<_, ArtifactError>(match piece {
                    Piece::Bytes(b) => {
                        let slice = b.slice(within.start as usize..within.end as usize);
                        futures::stream::once(async move { Ok(slice) }).boxed()
                    }
                    Piece::Opened(o) => o.stream(within),
                    Piece::Object { key, .. } => artifacts.open_object(&key).await?.stream(within),
                })
            }
        })
        .try_flatten()
        .boxed()
}

/// Whether `If-None-Match` names `etag`.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// A download response for `pieces` with the sha256 `ETag` `sha256`.
pub fn respond(
    artifacts: Arc<ArtifactStore>,
    pieces: Vec<Piece>,
    sha256: &str,
    file_name: &str,
    content_type: &'static str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let etag = format!("\"{sha256}\"");
    let etag_value = HeaderValue::from_str(&etag).ok();
    if not_modified(headers, &etag) {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        if let Some(v) = etag_value {
            resp.headers_mut().insert(header::ETAG, v);
        }
        return Ok(resp);
    }
    let size: u64 = pieces.iter().map(Piece::len).sum();
    let (status, range) = match requested(headers, size, &etag)? {
        Requested::Full => (StatusCode::OK, 0..size),
        Requested::Partial(r) => (StatusCode::PARTIAL_CONTENT, r),
    };
    let length = range.end - range.start;
    let mut resp = (
        status,
        Body::from_stream(body(artifacts, pieces, range.clone())),
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) =
            HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
        {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    if let Some(v) = etag_value {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(range: &str, size: u64) -> Result<Requested, ApiError> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        requested(&h, size, "\"e\"")
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(ask("bytes=0-9", 100).unwrap(), Requested::Partial(0..10));
        assert_eq!(ask("bytes=90-", 100).unwrap(), Requested::Partial(90..100));
        assert_eq!(
            ask("bytes=90-500", 100).unwrap(),
            Requested::Partial(90..100)
        );
        assert_eq!(ask("bytes=-10", 100).unwrap(), Requested::Partial(90..100));
        assert_eq!(ask("bytes=-500", 100).unwrap(), Requested::Partial(0..100));
        assert_eq!(
            ask("bytes=99-99", 100).unwrap(),
            Requested::Partial(99..100)
        );
        // Ignored: other units, several ranges, malformed, reversed.
        for whole in [
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=a-b",
            "bytes=5-1",
            "bytes=1",
        ] {
            assert_eq!(ask(whole, 100).unwrap(), Requested::Full, "{whole}");
        }
        for refused in ["bytes=100-", "bytes=100-200", "bytes=-0"] {
            assert!(
                matches!(
                    ask(refused, 100),
                    Err(ApiError::RangeNotSatisfiable { size: 100 })
                ),
                "{refused}"
            );
        }
        assert!(ask("bytes=0-", 0).is_err());
        assert!(ask("bytes=-5", 0).is_err());
    }

    #[test]
    fn if_range_with_another_validator_gets_everything() {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_static("bytes=0-9"));
        h.insert(header::IF_RANGE, HeaderValue::from_static("\"old\""));
        assert_eq!(requested(&h, 100, "\"e\"").unwrap(), Requested::Full);
        h.insert(header::IF_RANGE, HeaderValue::from_static("\"e\""));
        assert_eq!(
            requested(&h, 100, "\"e\"").unwrap(),
            Requested::Partial(0..10)
        );
    }
}

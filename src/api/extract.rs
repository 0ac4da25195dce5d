//! Request extractors whose rejections are `ApiError`s: JSON bodies with field paths in their
//! errors, and the authenticated caller (tenant).
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

use super::{ApiError, AppState};
use crate::store::ANONYMOUS_TENANT;

/// A JSON body; malformed JSON is a 400, a well-formed body of the wrong shape a 422 naming
/// the field (`spec.optimizer.lr`).
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("application/json")
                    || (ct.starts_with("application/") && ct.contains("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with content-type: application/json".into(),
            ));
        }
        let limit = state.limits.max_json_bytes as usize;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| {
                ApiError::PayloadTooLarge(format!("JSON bodies are limited to {limit} bytes"))
            })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(v) => {
                de.end()
                    .map_err(|e| ApiError::bad_request("body", format!("invalid JSON: {e}")))?;
                Ok(AppJson(v))
            }
            Err(e) => {
                let inner = e.inner();
                if inner.is_syntax() || inner.is_eof() {
                    return Err(ApiError::bad_request(
                        "body",
                        format!("invalid JSON: {inner}"),
                    ));
                }
                let path = e.path().to_string();
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                Err(ApiError::field(field, inner.to_string()))
            }
        }
    }
}

/// Who is calling: the tenant every row of the request is scoped to.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub tenant_id: Uuid,
}

/// Authentication policy and a short-lived cache of "are there any keys".
pub struct AuthState {
    /// Anonymous requests are allowed while no API key exists (loopback bind or
    /// `--insecure-no-auth`).
    pub anonymous_without_keys: bool,
    keys_exist: Mutex<Option<(Instant, bool)>>,
    /// sha256 of the `/metrics` token, when one is configured.
    metrics_token_sha256: Option<String>,
}

impl AuthState {
    pub fn new(anonymous_without_keys: bool) -> Self {
        Self {
            anonymous_without_keys,
            keys_exist: Mutex::new(None),
            metrics_token_sha256: None,
        }
    }

    /// Require this bearer token (and only it) for `/metrics`.
    pub fn with_metrics_token(mut self, token: Option<&str>) -> Self {
        self.metrics_token_sha256 = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(hash_api_key);
        self
    }
}

const KEY_CACHE: Duration = Duration::from_secs(2);

/// The sha256 hex of an API key, as stored.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The credential of an `Authorization: Bearer <credential>` value. The scheme is
/// case-insensitive (RFC 9110 §11.1); None for another scheme or an empty credential.
fn bearer_credential(value: &str) -> Option<&str> {
    let (scheme, credential) = value.trim().split_once([' ', '\t'])?;
    let credential = credential.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then_some(credential)
}

/// The bearer credential of a request, if it sent an `Authorization` header.
fn request_bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    bearer_credential(value)
        .map(Some)
        .ok_or_else(|| ApiError::Unauthorized("use 'Authorization: Bearer <api key>'".into()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(key) = request_bearer(parts)? {
            return match state.store.tenant_for_api_key(&hash_api_key(key)).await? {
                Some(tenant_id) => Ok(Caller { tenant_id }),
                None => Err(ApiError::Unauthorized("unknown or revoked API key".into())),
            };
        }
        if state.auth.anonymous_without_keys && !keys_exist(state).await? {
            return Ok(Caller {
                tenant_id: ANONYMOUS_TENANT,
            });
        }
        Err(ApiError::Unauthorized("an API key is required: 'Authorization: Bearer <api key>' (create one with `whittle apikey create --tenant NAME`)".into()))
    }
}

/// Permission to read `/metrics`: the configured metrics token when there is one (API keys do
/// not open it then), otherwise what any endpoint takes (an API key once keys exist).
pub struct MetricsReader;

impl FromRequestParts<AppState> for MetricsReader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = &state.auth.metrics_token_sha256 else {
            Caller::from_request_parts(parts, state).await?;
            return Ok(MetricsReader);
        };
        // Comparing digests keeps the comparison time independent of the token's bytes.
        match request_bearer(parts)? {
            Some(token) if hash_api_key(token) == *expected => Ok(MetricsReader),
            _ => Err(ApiError::Unauthorized(
                "/metrics needs 'Authorization: Bearer <metrics token>'".into(),
            )),
        }
    }
}

async fn keys_exist(state: &AppState) -> Result<bool, ApiError> {
    if let Ok(cache) = state.auth.keys_exist.lock() {
        if let Some((at, exist)) = *cache {
            if at.elapsed() < KEY_CACHE {
                return Ok(exist);
            }
        }
    }
    let exist = state.store.count_active_api_keys().await? > 0;
    if let Ok(mut cache) = state.auth.keys_exist.lock() {
        *cache = Some((Instant::now(), exist));
    }
    Ok(exist)
}

/// Query parameters; a bad value is a 400 naming the parameter.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(AppQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.inner().to_string();
                // serde_urlencoded reports the key in its message for scalar parse errors.
                let field = if path == "." {
                    query_key_from_message(&msg).unwrap_or_else(|| "query".into())
                } else {
                    path
                };
                ApiError::bad_request(field, msg)
            })
    }
}

fn form_urlencoded_parse(query: &str) -> url::form_urlencoded::Parse<'_> {
    url::form_urlencoded::parse(query.as_bytes())
}

fn query_key_from_message(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = msg[start..].find('`')? + start;
    Some(msg[start..end].to_string())
}

/// Path parameters; a malformed id is a 400 naming the parameter.
pub struct AppPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(AppPath(v)),
            Err(e) => Err(ApiError::bad_request(
                "id",
                format!("invalid path parameter: {}", e.body_text()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_credential;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for value in [
            "Bearer k1",
            "bearer k1",
            "BEARER k1",
            "bEaReR   k1 ",
            "Bearer\tk1",
        ] {
            assert_eq!(bearer_credential(value), Some("k1"), "{value:?}");
        }
    }

    #[test]
    fn other_schemes_and_empty_credentials_are_refused() {
        for value in ["Basic k1", "Bearerk1", "Bearer", "Bearer   ", "k1", ""] {
            assert_eq!(bearer_credential(value), None, "{value:?}");
        }
    }
}

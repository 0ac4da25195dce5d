//! `/v1/webhooks`: subscriptions to job events, delivered as signed Standard Webhooks POSTs
//! by the workers (`jobs::webhooks`), and the log of each subscription's deliveries.
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{AppPath, AppQuery};
use super::{check_limit, ApiError, AppJson, AppState, Caller, PageQuery, Problem};
use crate::domain::events::{parse_event_type, EVENT_TYPES};
use crate::domain::webhooks::{check_url, generate_secret, is_public, secret_key};
use crate::domain::ValidationErrors;
use crate::store::{
    DeliveryAttemptRow, DeliveryRow, NewWebhook, PageRequest, WebhookRow, WebhookUpdate,
};

/// Webhooks one tenant may hold.
pub const MAX_WEBHOOKS: usize = 100;
/// Longest description.
const MAX_DESCRIPTION: usize = 500;
/// How long the check of a new URL's host may take to resolve it.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", post(create_webhook).get(list_webhooks))
        .route(
            "/webhooks/{id}",
            get(get_webhook)
                .patch(update_webhook)
                .delete(delete_webhook),
        )
        .route("/webhooks/{id}/rotate-secret", post(rotate_secret))
        .route("/webhooks/{id}/deliveries", get(list_deliveries))
}

/// Body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where deliveries are POSTed: an `http`/`https` URL on a public address (private,
    /// loopback and link-local addresses are refused unless the server allows them).
    #[schema(max_length = 2048, example = "https://hooks.example.com/whittle")]
    pub url: String,
    /// Event types to deliver (`job.succeeded`, `job.failed`, …; see `JobEvent`).
    #[schema(min_items = 1, max_items = 10)]
    pub events: Vec<String>,
    /// The signing secret, `whsec_` + base64 of 24 to 64 bytes (default: a new random one).
    pub secret: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// Body of `PATCH /v1/webhooks/{id}` (fields left out stay as they are).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[schema(min_items = 1, max_items = 10)]
    pub events: Option<Vec<String>>,
    /// An empty string clears it.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// `true` re-enables a webhook disabled after failures (its failure count restarts);
    /// `false` pauses deliveries (they wait, pending, until it is enabled again).
    pub enabled: Option<bool>,
}

/// A webhook subscription (its secret is shown only when created or rotated).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// False once disabled (by request or after consecutive failures: see `disabled_reason`).
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Failed attempts since the last successful one.
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRow> for WebhookDto {
    fn from(w: WebhookRow) -> Self {
        WebhookDto {
            id: w.id,
            url: w.url,
            events: w.events,
            description: w.description,
            enabled: w.enabled,
            disabled_reason: w.disabled_reason,
            consecutive_failures: w.consecutive_failures,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A webhook with its signing secret (the answer of create and rotate-secret only).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookDto,
    /// Verify deliveries with it (`whsec_…`, Standard Webhooks).
    pub secret: String,
}

/// A page of webhooks, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPage {
    pub items: Vec<WebhookDto>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttemptDto {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The receiver's status code; null when no response came.
    pub status_code: Option<i32>,
    /// From sending the request to the response's head.
    pub latency_ms: f64,
    pub error: Option<String>,
}

/// One event sent (or to be sent) to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    /// Also the delivery's `webhook-id` header: `msg_<id>`.
    pub id: i64,
    pub webhook_id: Uuid,
    /// The event's `id` (as in `/v1/events`).
    pub event_id: i64,
    pub event_type: String,
    pub job_id: Uuid,
    /// `pending` (waiting for its next attempt), `succeeded` or `failed` (given up).
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<DeliveryAttemptDto>,
}

impl From<DeliveryRow> for DeliveryDto {
    fn from(d: DeliveryRow) -> Self {
        DeliveryDto {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event_type: d.event_type,
            job_id: d.job_id,
            state: d.state,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            finished_at: d.finished_at,
            attempt_log: d
                .attempt_log
                .into_iter()
                .map(|a: DeliveryAttemptRow| DeliveryAttemptDto {
                    attempt: a.attempt,
                    at: a.at,
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                })
                .collect(),
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryDto>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<i64>,
}

/// `?limit=&cursor=` of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Page size, 1..=200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub cursor: Option<String>,
}

/// Check a URL as a delivery target: its form, and (unless private targets are allowed)
/// that its host is or resolves to public addresses only.
async fn check_target(errors: &mut ValidationErrors, raw: &str, allow_private: bool) {
    let url = match check_url(raw) {
        Ok(url) => url,
        Err(m) => return errors.add("url", m),
    };
    if allow_private {
        return;
    }
    let refusal = "is not a public address: deliveries to private, loopback and link-local \
                   addresses are refused (the server allows them with WHITTLE_WEBHOOK_ALLOW_PRIVATE)";
    let ips: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(v4)) => vec![v4.into()],
        Some(url::Host::Ipv6(v6)) => vec![v6.into()],
        Some(url::Host::Domain(host)) => {
            let port = url.port_or_known_default().unwrap_or(443);
            match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await
            {
                Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
                _ => return errors.add("url", format!("host '{host}' does not resolve")),
            }
        }
        None => return errors.add("url", "must name a host"),
    };
    if ips.is_empty() || !ips.iter().all(|ip| is_public(*ip)) {
        errors.add("url", format!("{} {refusal}", url.host_str().unwrap_or("")));
    }
}

fn check_events(errors: &mut ValidationErrors, events: &[String]) -> Vec<String> {
    if events.is_empty() {
        errors.add(
            "events",
            format!("name at least one event type ({})", EVENT_TYPES.join(", ")),
        );
    }
    if events.len() > EVENT_TYPES.len() {
        errors.add("events", "at most one entry per event type");
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match parse_event_type(e) {
            Ok(t) if !out.iter().any(|o| o == t) => out.push(t.to_string()),
            Ok(_) => {}
            Err(m) => errors.add(format!("events[{i}]"), m),
        }
    }
    out
}

fn check_description(errors: &mut ValidationErrors, d: &str) {
    if d.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        );
    }
    if d.contains('\0') {
        errors.add("description", crate::domain::validation::NUL_REFUSED);
    }
}

fn created(state: &AppState, webhook: WebhookRow) -> Response {
    let location = state.location(&format!("/v1/webhooks/{}", webhook.id));
    let secret = webhook.secret.clone();
    let body = WebhookWithSecret {
        webhook: webhook.into(),
        secret,
    };
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Subscribe to job events.
///
/// Every event of a subscribed type, of any of the tenant's jobs, is POSTed to `url` as a
/// `WebhookPayload` signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's
/// key). A 2xx answer is a delivery; anything else is retried with exponential backoff, and
/// a webhook whose attempts keep failing is disabled (`disabled_reason`). The answer holds
/// the secret: it is not shown again (rotate it to get a new one).
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateWebhookRequest,
    responses((status = 201, description = "subscribed", body = WebhookWithSecret),
        (status = 400, body = Problem), (status = 409, description = "the tenant holds the most webhooks it may", body = Problem),
        (status = 422, body = Problem)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<CreateWebhookRequest>,
) -> Result<Response, ApiError> {
    let mut errors = ValidationErrors::new();
    check_target(&mut errors, &req.url, state.webhooks.allow_private).await;
    let events = check_events(&mut errors, &req.events);
    if let Some(s) = &req.secret {
        if let Err(m) = secret_key(s) {
            errors.add("secret", m);
        }
    }
    if let Some(d) = &req.description {
        check_description(&mut errors, d);
    }
    errors.into_result()?;
    let held = state
        .store
        .list_webhooks(
            caller.tenant_id,
            PageRequest {
                cursor: None,
                limit: MAX_WEBHOOKS as i64,
            },
        )
        .await?;
    if held.items.len() >= MAX_WEBHOOKS {
        return Err(ApiError::Conflict(format!(
            "a tenant may hold at most {MAX_WEBHOOKS} webhooks; delete one first"
        )));
    }
    let row = state
        .store
        .create_webhook(&NewWebhook {
            id: Uuid::now_v7(),
            tenant_id: caller.tenant_id,
            url: req.url,
            events,
            secret: req.secret.unwrap_or_else(generate_secret),
            description: req.description.filter(|d| !d.is_empty()),
        })
        .await?;
    Ok(created(&state, row))
}

/// List the tenant's webhooks, newest first.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", params(PageQuery),
    responses((status = 200, body = WebhookPage), (status = 422, body = Problem)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<WebhookPage>, ApiError> {
    let page = state
        .store
        .list_webhooks(caller.tenant_id, q.to_page()?)
        .await?;
    Ok(Json(WebhookPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

async fn find(state: &AppState, caller: &Caller, id: Uuid) -> Result<WebhookRow, ApiError> {
    state
        .store
        .get_webhook(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("webhook"))
}

/// Get a webhook (without its secret).
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 200, body = WebhookDto), (status = 404, body = Problem)))]
pub async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<WebhookDto>, ApiError> {
    Ok(Json(find(&state, &caller, id).await?.into()))
}

/// Change a webhook's URL, events or description, or pause / re-enable it.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", request_body = UpdateWebhookRequest,
    params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 200, body = WebhookDto), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update_webhook(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookDto>, ApiError> {
    find(&state, &caller, id).await?;
    let mut errors = ValidationErrors::new();
    if let Some(url) = &req.url {
        check_target(&mut errors, url, state.webhooks.allow_private).await;
    }
    let events = req.events.as_ref().map(|e| check_events(&mut errors, e));
    if let Some(d) = &req.description {
        check_description(&mut errors, d);
    }
    errors.into_result()?;
    let update = WebhookUpdate {
        url: req.url,
        events,
        description: req.description.map(|d| Some(d).filter(|d| !d.is_empty())),
        enabled: req.enabled,
        secret: None,
    };
    let row = state
        .store
        .update_webhook(caller.tenant_id, id, &update)
        .await?
        .ok_or(ApiError::NotFound("webhook"))?;
    Ok(Json(row.into()))
}

/// Replace a webhook's secret with a new random one (deliveries from now on are signed with
/// it; the answer is the only place it is shown).
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 200, body = WebhookWithSecret), (status = 404, body = Problem)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<WebhookWithSecret>, ApiError> {
    let update = WebhookUpdate {
        secret: Some(generate_secret()),
        ..Default::default()
    };
    let row = state
        .store
        .update_webhook(caller.tenant_id, id, &update)
        .await?
        .ok_or(ApiError::NotFound("webhook"))?;
    let secret = row.secret.clone();
    Ok(Json(WebhookWithSecret {
        webhook: row.into(),
        secret,
    }))
}

/// Delete a webhook and its delivery log (pending deliveries are dropped).
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 204, description = "deleted"), (status = 404, body = Problem)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    if state.store.delete_webhook(caller.tenant_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("webhook"))
    }
}

/// A webhook's deliveries, newest first, each with its attempts (status code, latency,
/// error).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = Uuid, Path, description = "webhook id"), DeliveryQuery),
    responses((status = 200, body = DeliveryPage), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<DeliveryQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let limit = check_limit(q.limit.as_deref())?;
    let before = match q.cursor.as_deref().map(|c| c.trim().parse::<i64>()) {
        None => None,
        Some(Ok(c)) if c >= 1 => Some(c),
        Some(_) => {
            return Err(ApiError::field(
                "cursor",
                "must be a next_cursor of this list",
            ))
        }
    };
    find(&state, &caller, id).await?;
    let rows = state.store.list_deliveries(id, before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<DeliveryDto> = rows
        .into_iter()
        .take(limit as usize)
        .map(Into::into)
        .collect();
    let next_cursor = if more {
        items.last().map(|d| d.id)
    } else {
        None
    };
    Ok(Json(DeliveryPage { items, next_cursor }))
}

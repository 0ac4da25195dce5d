//! `/v1/tenant`: the calling tenant, its quotas and what it uses; and the quota checks job
//! submission and uploads make before anything is stored.
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::Quota;
use super::{ApiError, AppState, Caller, Problem};
use crate::artifacts::ArtifactError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/tenant", get(get_tenant))
}

/// A tenant's quotas; null is no limit.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantQuotas {
    /// Queued plus running jobs at once (a submission beyond is a 429).
    pub max_active_jobs: Option<u64>,
    /// Bytes of models and datasets stored (an upload beyond is a 413).
    pub max_stored_bytes: Option<u64>,
}

/// What a tenant uses now.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantUsageDto {
    /// Queued plus running jobs (a tune job's trials count as part of it).
    pub active_jobs: i64,
    /// Bytes of every stored model and dataset file, job outputs included.
    pub stored_bytes: i64,
    pub models: i64,
    pub datasets: i64,
}

/// The calling tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantDto {
    pub id: Uuid,
    pub name: String,
    pub quotas: TenantQuotas,
    pub usage: TenantUsageDto,
}

/// The calling tenant: its quotas and what it uses of them.
#[utoipa::path(get, path = "/v1/tenant", tag = "tenant",
    responses((status = 200, body = TenantDto), (status = 401, body = Problem)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TenantDto>, ApiError> {
    let tenant = state
        .store
        .get_tenant(caller.tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let usage = state.store.tenant_usage(caller.tenant_id).await?;
    Ok(Json(TenantDto {
        id: tenant.id,
        name: tenant.name,
        quotas: TenantQuotas {
            max_active_jobs: state.limits.tenant_max_active_jobs,
            max_stored_bytes: state.limits.tenant_max_stored_bytes,
        },
        usage: TenantUsageDto {
            active_jobs: usage.active_jobs,
            stored_bytes: usage.stored_bytes,
            models: usage.models,
            datasets: usage.datasets,
        },
    }))
}

/// The `Content-Length` a request declares, if any.
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// 429 when the tenant already has its quota of queued and running jobs. Checked before the
/// insert; submissions racing each other may pass it together.
pub async fn check_active_jobs_quota(state: &AppState, tenant_id: Uuid) -> Result<(), ApiError> {
    let Some(limit) = state.limits.tenant_max_active_jobs else {
        return Ok(());
    };
    let used = non_negative(state.store.tenant_usage(tenant_id).await?.active_jobs);
    if used >= limit {
        return Err(ApiError::QuotaExceeded {
            quota: Quota::ActiveJobs,
            limit,
            used,
            detail: format!(
                "the tenant has {used} queued or running jobs and its quota is {limit}: \
                 wait for some to finish or cancel some"
            ),
        });
    }
    Ok(())
}

/// How many bytes one upload may have: the upload cap, lowered to what the tenant's
/// stored-bytes quota leaves.
pub struct UploadAllowance {
    cap: u64,
    /// (limit, used) when a stored-bytes quota is configured.
    quota: Option<(u64, u64)>,
}

impl UploadAllowance {
    /// The allowance of `tenant_id` for an upload capped at `cap` bytes; a 413 at once when the
    /// file is `declared` (its `Content-Length`) larger than the quota leaves.
    pub async fn for_tenant(
        state: &AppState,
        tenant_id: Uuid,
        cap: u64,
        declared: Option<u64>,
    ) -> Result<Self, ApiError> {
        let Some(limit) = state.limits.tenant_max_stored_bytes else {
            return Ok(Self { cap, quota: None });
        };
        let used = non_negative(state.store.tenant_usage(tenant_id).await?.stored_bytes);
        let allowance = Self {
            cap,
            quota: Some((limit, used)),
        };
        match declared {
            Some(n) if n > allowance.quota_left().unwrap_or(u64::MAX) => {
                Err(allowance.refuse(Some(n)))
            }
            _ => Ok(allowance),
        }
    }

    fn quota_left(&self) -> Option<u64> {
        self.quota.map(|(limit, used)| limit.saturating_sub(used))
    }

    /// The most bytes to spool.
    pub fn spool_limit(&self) -> u64 {
        self.quota_left()
            .map_or(self.cap, |left| left.min(self.cap))
    }

    /// A spooling error as the client should see it: a quota problem when the quota, not the
    /// upload cap, was the limit that the body crossed.
    pub fn spool_error(&self, e: ArtifactError) -> ApiError {
        match e {
            ArtifactError::TooLarge { .. } if self.quota_left().is_some_and(|l| l < self.cap) => {
                self.refuse(None)
            }
            other => other.into(),
        }
    }

    fn refuse(&self, upload: Option<u64>) -> ApiError {
        let (limit, used) = self.quota.unwrap_or((0, 0));
        let size = upload.map_or_else(|| "this upload".to_string(), |n| format!("{n} bytes"));
        ApiError::QuotaExceeded {
            quota: Quota::StoredBytes,
            limit,
            used,
            detail: format!(
                "{size} would exceed the tenant's quota of {limit} stored bytes ({used} stored): \
                 delete models or datasets first"
            ),
        }
    }
}

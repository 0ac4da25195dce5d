//! Rows and helpers the conformance behaviours share: new jobs, models and datasets, claiming
//! one job, fences and attempt errors, and time assertions that allow for slow CI.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use whittle::store::{
    AttemptError, DynStore, Fence, InsertedJob, JobRow, NewDataset, NewJob, NewModel,
    ANONYMOUS_TENANT,
};

/// Lease used by the behaviours unless a test needs an expiring one.
pub const LEASE: Duration = Duration::from_secs(60);

pub fn new_job(tenant_id: Uuid, kind: &str) -> NewJob {
    NewJob {
        id: Uuid::now_v7(),
        tenant_id,
        kind: kind.to_string(),
        spec: json!({"model_id": "m", "epochs": 3}),
        priority: 0,
        max_attempts: 3,
        idempotency_key: None,
        parent_job_id: None,
        scheduled_at: None,
    }
}

pub async fn insert(s: &DynStore, job: &NewJob) -> JobRow {
    match s.insert_job(job).await.expect("insert job") {
        InsertedJob::Created(row) => row,
        InsertedJob::Existing(row) => panic!("expected a new job, got existing {}", row.id),
    }
}

pub async fn insert_kind(s: &DynStore, kind: &str) -> JobRow {
    insert(s, &new_job(ANONYMOUS_TENANT, kind)).await
}

pub async fn get(s: &DynStore, id: Uuid) -> JobRow {
    s.get_job(ANONYMOUS_TENANT, id)
        .await
        .expect("get job")
        .expect("job exists")
}

pub async fn claim_one(s: &DynStore, worker: &str, kind: &str, lease: Duration) -> JobRow {
    let mut claimed = s
        .claim_jobs(worker, &[kind.to_string()], 1, lease)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "expected one claimable {kind} job");
    claimed.remove(0)
}

pub fn fence_of(job: &JobRow) -> Fence {
    job.fence().expect("a claimed job has a fence")
}

pub fn attempt_error(attempt: i32, message: &str) -> AttemptError {
    AttemptError {
        attempt,
        at: Utc::now(),
        message: message.to_string(),
    }
}

pub fn errors_of(job: &JobRow) -> Vec<AttemptError> {
    serde_json::from_value(job.errors.clone()).expect("errors is an AttemptError array")
}

pub fn new_model(tenant_id: Uuid, name: &str) -> NewModel {
    NewModel {
        id: Uuid::now_v7(),
        tenant_id,
        name: name.to_string(),
        format: "safetensors".to_string(),
        artifact_key: format!("models/{name}.safetensors"),
        sha256: "ab".repeat(32),
        bytes: 1234,
        n_params: 567,
        inventory: json!({"tensors": [{"name": "layers.0.weight", "dtype": "F32", "shape": [4, 2]}]}),
        architecture: Some(json!({"arch": "mlp", "layers": [2, 4]})),
        source_job_id: None,
        files: None,
    }
}

pub fn new_dataset(tenant_id: Uuid, name: &str) -> NewDataset {
    NewDataset {
        id: Uuid::now_v7(),
        tenant_id,
        name: name.to_string(),
        format: "csv".to_string(),
        artifact_key: format!("datasets/{name}.csv"),
        sha256: "cd".repeat(32),
        bytes: 99,
        rows: 10,
        features: 2,
        feature_names: json!(["f0", "f1"]),
        target: "label".to_string(),
        task: "classification".to_string(),
        classes: Some(json!(["0", "1"])),
        modality: "tabular".into(),
    }
}

/// Both backends keep microseconds.
pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Database clock and test clock are the same machine's, but allow for slow CI.
pub fn assert_recent(t: DateTime<Utc>, what: &str) {
    let age = Utc::now() - t;
    assert!(
        age > TimeDelta::seconds(-5) && age < TimeDelta::seconds(60),
        "{what} = {t} is not close to now"
    );
}

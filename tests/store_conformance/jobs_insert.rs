//! Inserting jobs: defaults, the parent foreign key and race-free idempotency keys.

use std::collections::HashSet;

use chrono::{TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{assert_recent, get, insert, insert_kind, micros, new_job};
use whittle::domain::JobState;
use whittle::store::{DynStore, InsertedJob, JobFilter, NewJob, ANONYMOUS_TENANT};

pub async fn insert_job_defaults_and_parent_fk(s: DynStore) {
    let parent = insert_kind(&s, "tune").await;
    assert_eq!(parent.state, JobState::Queued);
    assert_eq!(parent.kind, "tune");
    assert_eq!(parent.tenant_id, ANONYMOUS_TENANT);
    assert_eq!(parent.spec, json!({"model_id": "m", "epochs": 3}));
    assert_eq!(
        (parent.priority, parent.attempt, parent.max_attempts),
        (0, 0, 3)
    );
    assert_eq!(parent.progress, 0.0);
    assert_eq!(parent.errors, json!([]));
    assert_eq!(parent.locked_by, None);
    assert_eq!(parent.lease_expires_at, None);
    assert_eq!(parent.result, None);
    assert_eq!(parent.output_model_id, None);
    assert_eq!(parent.cancel_requested_at, None);
    assert_eq!((parent.started_at, parent.finished_at), (None, None));
    assert_recent(parent.created_at, "created_at");
    assert_recent(parent.scheduled_at, "scheduled_at defaults to now");
    assert_eq!(get(&s, parent.id).await, parent);

    let at = Utc::now() + TimeDelta::minutes(10) + TimeDelta::nanoseconds(123_456_789);
    let child = insert(
        &s,
        &NewJob {
            priority: 7,
            max_attempts: 1,
            parent_job_id: Some(parent.id),
            scheduled_at: Some(at),
            idempotency_key: Some("k1".to_string()),
            ..new_job(ANONYMOUS_TENANT, "train")
        },
    )
    .await;
    assert_eq!(child.parent_job_id, Some(parent.id));
    assert_eq!(
        child.scheduled_at,
        micros(at),
        "timestamps keep microseconds"
    );
    assert_eq!((child.priority, child.max_attempts), (7, 1));
    assert_eq!(child.idempotency_key.as_deref(), Some("k1"));

    let orphan = NewJob {
        parent_job_id: Some(Uuid::now_v7()),
        ..new_job(ANONYMOUS_TENANT, "train")
    };
    assert!(
        s.insert_job(&orphan).await.is_err(),
        "parent_job_id is a foreign key"
    );
}

pub async fn idempotency_key_is_race_free(s: DynStore) {
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let job = NewJob {
                idempotency_key: Some("same-key".to_string()),
                ..new_job(ANONYMOUS_TENANT, "analyze")
            };
            s.insert_job(&job).await.expect("insert")
        }));
    }
    let mut created = 0;
    let mut ids = HashSet::new();
    for task in tasks {
        match task.await.expect("task") {
            InsertedJob::Created(row) => {
                created += 1;
                ids.insert(row.id);
            }
            InsertedJob::Existing(row) => {
                ids.insert(row.id);
            }
        }
    }
    assert_eq!(created, 1, "exactly one insert wins");
    assert_eq!(ids.len(), 1, "every caller sees the same job");
    let winner = ids.into_iter().next().expect("one id");

    let again = NewJob {
        idempotency_key: Some("same-key".to_string()),
        ..new_job(ANONYMOUS_TENANT, "analyze")
    };
    match s.insert_job(&again).await.expect("insert") {
        InsertedJob::Existing(row) => assert_eq!(row.id, winner),
        InsertedJob::Created(_) => panic!("key reuse must return the existing job"),
    }
    let page = s
        .list_jobs(
            ANONYMOUS_TENANT,
            &JobFilter {
                limit: 100,
                ..JobFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1);

    // Keys are per tenant, and jobs without a key never collide.
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let theirs = NewJob {
        idempotency_key: Some("same-key".to_string()),
        ..new_job(other, "analyze")
    };
    assert!(matches!(
        s.insert_job(&theirs).await.expect("insert"),
        InsertedJob::Created(_)
    ));
    insert_kind(&s, "analyze").await;
    insert_kind(&s, "analyze").await;
}

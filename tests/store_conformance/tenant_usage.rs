//! Tenant lookup and usage (the numbers quotas are checked against), and text the database
//! cannot store reported as bad input rather than a database fault.

use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{claim_one, fence_of, insert, new_dataset, new_job, new_model, LEASE};
use whittle::store::{DynStore, NewJob, StoreError, TenantUsage, ANONYMOUS_TENANT};

pub async fn get_tenant_by_id(s: DynStore) {
    let acme = s.ensure_tenant("acme").await.expect("acme");
    assert_eq!(s.get_tenant(acme.id).await.expect("get"), Some(acme));
    let anonymous = s
        .get_tenant(ANONYMOUS_TENANT)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(anonymous.name, "anonymous");
    assert_eq!(s.get_tenant(Uuid::now_v7()).await.expect("get"), None);
}

pub async fn tenant_usage_counts_active_top_level_jobs_and_stored_bytes(s: DynStore) {
    let acme = s.ensure_tenant("acme").await.expect("acme").id;
    let other = s.ensure_tenant("other").await.expect("other").id;
    assert_eq!(
        s.tenant_usage(acme).await.expect("usage"),
        TenantUsage::default()
    );

    // Two models (1234 bytes each) and one dataset (99 bytes) for acme; one model for other.
    s.insert_model(&new_model(acme, "a")).await.expect("model");
    let b = s.insert_model(&new_model(acme, "b")).await.expect("model");
    s.insert_dataset(&new_dataset(acme, "d"))
        .await
        .expect("dataset");
    s.insert_model(&new_model(other, "o")).await.expect("model");

    // acme: two running jobs, one queued, and a queued child of the first.
    let kind = "usage_test";
    let first = insert(&s, &new_job(acme, kind)).await;
    assert_eq!(claim_one(&s, "w1", kind, LEASE).await.id, first.id);
    let second = insert(&s, &new_job(acme, kind)).await;
    let claimed = claim_one(&s, "w1", kind, LEASE).await;
    assert_eq!(claimed.id, second.id);
    insert(&s, &new_job(acme, kind)).await;
    insert(
        &s,
        &NewJob {
            parent_job_id: Some(first.id),
            ..new_job(acme, "usage_child")
        },
    )
    .await;
    insert(&s, &new_job(other, "usage_other")).await;

    let usage = s.tenant_usage(acme).await.expect("usage");
    assert_eq!(usage.models, 2);
    assert_eq!(usage.datasets, 1);
    assert_eq!(usage.stored_bytes, 2 * 1234 + 99);
    // Two running and one queued top-level job; the child is part of its parent.
    assert_eq!(usage.active_jobs, 3, "{usage:?}");

    // A finished job no longer counts; a deleted model frees its bytes.
    assert!(s
        .complete_job(&fence_of(&claimed), &json!({}), None)
        .await
        .expect("complete"));
    s.delete_model(acme, b.id)
        .await
        .expect("delete")
        .expect("deleted");
    let usage = s.tenant_usage(acme).await.expect("usage");
    assert_eq!(usage.active_jobs, 2);
    assert_eq!((usage.models, usage.stored_bytes), (1, 1234 + 99));

    let usage = s.tenant_usage(other).await.expect("usage");
    assert_eq!((usage.models, usage.datasets, usage.active_jobs), (1, 0, 1));
    assert_eq!(usage.stored_bytes, 1234);
}

/// A NUL in text: SQLite stores it; Postgres refuses it, and the store reports that as
/// `InvalidText` (which the API answers with a 4xx), never as an opaque database error.
pub async fn nul_in_text_is_invalid_text_not_a_database_error(s: DynStore) {
    let model = new_model(ANONYMOUS_TENANT, "nul\0name");
    let in_text = s.insert_model(&model).await;
    let job = NewJob {
        spec: json!({"output_name": "a\u{0}b"}),
        ..new_job(ANONYMOUS_TENANT, "nul_test")
    };
    let in_json = s.insert_job(&job).await.map(|_| ());
    match s.backend() {
        "sqlite" => {
            in_text.expect("sqlite stores NUL in text");
            in_json.expect("sqlite stores NUL in JSON");
        }
        _ => {
            assert!(
                matches!(in_text, Err(StoreError::InvalidText(_))),
                "{in_text:?}"
            );
            assert!(
                matches!(in_json, Err(StoreError::InvalidText(_))),
                "{in_json:?}"
            );
            // Nothing was stored.
            assert_eq!(
                s.get_model(ANONYMOUS_TENANT, model.id).await.expect("get"),
                None
            );
        }
    }
}

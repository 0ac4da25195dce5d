//! Canceling jobs: queued, running and already finished.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{
    assert_recent, attempt_error, claim_one, errors_of, fence_of, get, insert_kind, LEASE,
};
use whittle::domain::JobState;
use whittle::store::{DynStore, ANONYMOUS_TENANT};

pub async fn cancel_queued_job(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let job = insert_kind(&s, "train").await;
    assert_eq!(
        s.request_cancel(other, job.id).await.expect("cancel"),
        None,
        "other tenant"
    );
    assert_eq!(get(&s, job.id).await.state, JobState::Queued);
    assert_eq!(
        s.request_cancel(ANONYMOUS_TENANT, Uuid::now_v7())
            .await
            .expect("cancel"),
        None
    );

    let canceled = s
        .request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel")
        .expect("row");
    assert_eq!(canceled.state, JobState::Canceled);
    assert_recent(canceled.finished_at.expect("finished_at"), "finished_at");
    assert_eq!(get(&s, job.id).await, canceled);
    assert!(
        s.claim_jobs("w1", &["train".to_string()], 10, LEASE)
            .await
            .expect("claim")
            .is_empty(),
        "a canceled job never runs"
    );
    let again = s
        .request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel")
        .expect("row");
    assert_eq!(again, canceled, "canceling twice changes nothing");
}

pub async fn cancel_running_job(s: DynStore) {
    // Path 1: the worker notices at its heartbeat and finishes canceled.
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    let fence = fence_of(&claimed);
    let hb = s
        .heartbeat(&fence, LEASE, None)
        .await
        .expect("hb")
        .expect("fence holds");
    assert!(!hb.cancel_requested);
    let row = s
        .request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel")
        .expect("row");
    assert_eq!(
        row.state,
        JobState::Running,
        "a running job is only asked to stop"
    );
    assert_recent(
        row.cancel_requested_at.expect("cancel_requested_at"),
        "cancel_requested_at",
    );
    assert_eq!(row.finished_at, None);
    let hb = s
        .heartbeat(&fence, LEASE, None)
        .await
        .expect("hb")
        .expect("fence holds");
    assert!(
        hb.cancel_requested,
        "the heartbeat reports the cancel request"
    );
    assert!(s.finish_canceled(&fence).await.expect("finish"));
    let row = get(&s, job.id).await;
    assert_eq!(row.state, JobState::Canceled);
    assert!(row.finished_at.is_some());
    assert_eq!(row.locked_by, None);

    // Path 2: the attempt fails after the request: canceled wins over a retry.
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    s.request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel");
    let state = s
        .fail_job(
            &fence_of(&claimed),
            &attempt_error(1, "interrupted"),
            Some(Utc::now()),
        )
        .await
        .expect("fail");
    assert_eq!(state, Some(JobState::Canceled));
    let row = get(&s, job.id).await;
    assert_eq!(row.state, JobState::Canceled);
    assert_eq!(
        errors_of(&row).len(),
        1,
        "the attempt's error is still recorded"
    );
    assert!(row.finished_at.is_some());

    // Path 3: a shutdown release of a job with a pending cancel ends it instead of requeueing.
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    s.request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel");
    assert!(s.release_job(&fence_of(&claimed)).await.expect("release"));
    assert_eq!(get(&s, job.id).await.state, JobState::Canceled);

    // Path 4: the rescuer honours the request too.
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", Duration::from_millis(1)).await;
    s.request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let state = s
        .rescue_job(
            &fence_of(&claimed),
            &attempt_error(1, "lease expired"),
            Some(Utc::now()),
        )
        .await
        .expect("rescue");
    assert_eq!(state, Some(JobState::Canceled));
}

pub async fn cancel_terminal_job_is_unchanged(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    assert!(s
        .complete_job(&fence_of(&claimed), &json!({"ok": true}), None)
        .await
        .expect("complete"));
    let done = get(&s, job.id).await;
    let after = s
        .request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel")
        .expect("row");
    assert_eq!(after, done);
    assert_eq!(after.state, JobState::Succeeded);
    assert_eq!(after.cancel_requested_at, None);
}

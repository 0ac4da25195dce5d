//! Leases and fences: stale fences, lost leases, rescue of expired leases, heartbeats and release.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{
    attempt_error, claim_one, errors_of, fence_of, get, insert_kind, micros, new_model, LEASE,
};
use whittle::domain::JobState;
use whittle::store::{DynStore, Fence, ANONYMOUS_TENANT};

pub async fn stale_fences_update_nothing(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    let good = fence_of(&claimed);
    assert_eq!(
        good,
        Fence {
            job_id: job.id,
            worker_id: "w1".into(),
            attempt: 1
        }
    );
    let stale = [
        Fence {
            worker_id: "w2".into(),
            ..good.clone()
        },
        Fence {
            attempt: 2,
            ..good.clone()
        },
        Fence {
            attempt: 0,
            ..good.clone()
        },
        Fence {
            job_id: Uuid::now_v7(),
            ..good.clone()
        },
    ];
    for fence in &stale {
        assert_eq!(
            s.heartbeat(fence, LEASE, Some((0.5, Some("x"))))
                .await
                .expect("hb"),
            None
        );
        assert!(!s
            .complete_job(fence, &json!({"ok": 1}), None)
            .await
            .expect("complete"));
        assert_eq!(
            s.fail_job(fence, &attempt_error(1, "x"), None)
                .await
                .expect("fail"),
            None
        );
        assert_eq!(
            s.rescue_job(fence, &attempt_error(1, "x"), None)
                .await
                .expect("rescue"),
            None
        );
        assert!(!s.finish_canceled(fence).await.expect("cancel"));
        assert!(!s.release_job(fence).await.expect("release"));
    }
    assert_eq!(
        get(&s, job.id).await,
        claimed,
        "stale fences changed nothing"
    );

    let before = Utc::now();
    assert!(s
        .complete_job(&good, &json!({"accuracy": 0.97}), None)
        .await
        .expect("complete"));
    let done = get(&s, job.id).await;
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.result, Some(json!({"accuracy": 0.97})));
    assert_eq!(done.progress, 1.0);
    assert_eq!(done.output_model_id, None);
    assert_eq!(
        (done.locked_by.as_deref(), done.lease_expires_at),
        (None, None)
    );
    let finished = done.finished_at.expect("finished_at");
    assert!(finished >= micros(before) - TimeDelta::seconds(5));
    assert_eq!(done.attempt, 1);

    // The attempt is over: a repeat of any finishing call is a fence failure.
    assert!(!s
        .complete_job(&good, &json!({}), None)
        .await
        .expect("complete"));
    assert_eq!(
        s.fail_job(&good, &attempt_error(1, "late"), None)
            .await
            .expect("fail"),
        None
    );
    assert_eq!(s.heartbeat(&good, LEASE, None).await.expect("hb"), None);
    assert_eq!(get(&s, job.id).await, done);
}

pub async fn lease_lost_then_reclaimed_discards_old_owner(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let first = claim_one(&s, "w1", "train", Duration::from_millis(1)).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let past = Utc::now() - TimeDelta::seconds(1);
    assert_eq!(
        s.rescue_job(
            &fence_of(&first),
            &attempt_error(1, "lease expired"),
            Some(past)
        )
        .await
        .expect("rescue"),
        Some(JobState::Queued)
    );
    let second = claim_one(&s, "w2", "train", LEASE).await;
    assert_eq!((second.id, second.attempt), (job.id, 2));

    // The first owner wakes up and reports: everything it says is discarded.
    let model = new_model(ANONYMOUS_TENANT, "late");
    assert!(!s
        .complete_job(&fence_of(&first), &json!({"late": true}), Some(&model))
        .await
        .expect("complete"));
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, model.id).await.expect("get"),
        None
    );
    assert_eq!(
        s.heartbeat(&fence_of(&first), LEASE, None)
            .await
            .expect("hb"),
        None
    );
    assert_eq!(get(&s, job.id).await, second);
}

pub async fn rescue_only_expired_leases(s: DynStore) {
    for kind in ["a", "b", "c", "d"] {
        insert_kind(&s, kind).await;
    }
    let healthy = claim_one(&s, "w1", "a", LEASE).await;
    let short = Duration::from_millis(1);
    let expired = claim_one(&s, "w1", "b", short).await;
    let revived = claim_one(&s, "w1", "c", short).await;
    let exhausted = claim_one(&s, "w1", "d", short).await;
    tokio::time::sleep(Duration::from_millis(30)).await;

    let listed: Vec<Uuid> = s
        .list_expired_leases(100)
        .await
        .expect("list")
        .into_iter()
        .map(|j| j.id)
        .collect();
    let mut want = vec![expired.id, revived.id, exhausted.id];
    want.sort_unstable();
    let mut got = listed.clone();
    got.sort_unstable();
    assert_eq!(got, want, "only expired running jobs are listed");
    assert_eq!(s.list_expired_leases(1).await.expect("list").len(), 1);

    let e = attempt_error(1, "lease expired");
    assert_eq!(
        s.rescue_job(&fence_of(&healthy), &e, None)
            .await
            .expect("rescue"),
        None,
        "a live lease is not rescued"
    );
    assert_eq!(get(&s, healthy.id).await.state, JobState::Running);

    // A heartbeat that arrives before the rescuer wins.
    assert!(s
        .heartbeat(&fence_of(&revived), LEASE, None)
        .await
        .expect("hb")
        .is_some());
    assert_eq!(
        s.rescue_job(&fence_of(&revived), &e, None)
            .await
            .expect("rescue"),
        None
    );
    assert_eq!(get(&s, revived.id).await.state, JobState::Running);

    let retry_at = Utc::now();
    assert_eq!(
        s.rescue_job(&fence_of(&expired), &e, Some(retry_at))
            .await
            .expect("rescue"),
        Some(JobState::Queued)
    );
    let row = get(&s, expired.id).await;
    assert_eq!(
        (row.state, row.attempt, row.locked_by.as_deref()),
        (JobState::Queued, 1, None)
    );
    assert_eq!(errors_of(&row), vec![e.clone()]);

    assert_eq!(
        s.rescue_job(&fence_of(&exhausted), &e, None)
            .await
            .expect("rescue"),
        Some(JobState::Failed)
    );
    assert!(get(&s, exhausted.id).await.finished_at.is_some());
    assert!(s.list_expired_leases(100).await.expect("list").is_empty());
}

pub async fn heartbeat_extends_lease_and_records_progress(s: DynStore) {
    insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", Duration::from_secs(1)).await;
    let fence = fence_of(&claimed);
    let first_end = claimed.lease_expires_at.expect("lease");

    let hb = s
        .heartbeat(&fence, LEASE, Some((0.5, Some("epoch 5/10"))))
        .await
        .expect("hb")
        .expect("fence holds");
    assert!(!hb.cancel_requested);
    let row = get(&s, claimed.id).await;
    let new_end = row.lease_expires_at.expect("lease");
    assert!(
        new_end > first_end + TimeDelta::seconds(30),
        "lease extended: {first_end} → {new_end}"
    );
    assert_eq!(row.progress, 0.5);
    assert_eq!(row.progress_message.as_deref(), Some("epoch 5/10"));
    assert_eq!(row.state, JobState::Running);

    // No progress: only the lease moves.
    s.heartbeat(&fence, LEASE, None)
        .await
        .expect("hb")
        .expect("fence holds");
    let row = get(&s, claimed.id).await;
    assert_eq!(
        (row.progress, row.progress_message.as_deref()),
        (0.5, Some("epoch 5/10"))
    );

    // Progress is clamped into 0..=1 and a missing message clears the old one.
    s.heartbeat(&fence, LEASE, Some((1.7, None)))
        .await
        .expect("hb")
        .expect("fence holds");
    let row = get(&s, claimed.id).await;
    assert_eq!((row.progress, row.progress_message), (1.0, None));
    s.heartbeat(&fence, LEASE, Some((f64::NAN, None)))
        .await
        .expect("hb")
        .expect("fence holds");
    assert_eq!(get(&s, claimed.id).await.progress, 0.0);
}

pub async fn release_returns_job_to_queue(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    s.heartbeat(&fence_of(&claimed), LEASE, Some((0.3, Some("warming up"))))
        .await
        .expect("hb");
    assert!(s.release_job(&fence_of(&claimed)).await.expect("release"));
    let row = get(&s, job.id).await;
    assert_eq!(row.state, JobState::Queued);
    assert_eq!(row.attempt, 0, "a released attempt does not count");
    assert_eq!(
        (
            row.locked_by.as_deref(),
            row.lease_expires_at,
            row.finished_at
        ),
        (None, None, None)
    );
    assert_eq!(
        row.scheduled_at, job.scheduled_at,
        "keeps its place in the queue"
    );
    assert_eq!(row.errors, json!([]));
    assert!(!s
        .release_job(&fence_of(&claimed))
        .await
        .expect("release twice"));

    let again = claim_one(&s, "w2", "train", LEASE).await;
    assert_eq!((again.id, again.attempt), (job.id, 1));
    assert_eq!(
        (again.progress, again.progress_message),
        (0.0, None),
        "claim resets progress"
    );
}

//! Finishing jobs: completion (with a model, batched), failure with retries.

use chrono::{TimeDelta, Utc};
use serde_json::json;

use crate::fixtures::{
    assert_recent, attempt_error, claim_one, errors_of, fence_of, get, insert_kind, micros,
    new_model, LEASE,
};
use whittle::domain::JobState;
use whittle::store::{DynStore, Fence, NewModel, ANONYMOUS_TENANT};

pub async fn complete_with_model_is_atomic(s: DynStore) {
    let job = insert_kind(&s, "quantize").await;
    let claimed = claim_one(&s, "w1", "quantize", LEASE).await;
    let good = fence_of(&claimed);
    let model = NewModel {
        source_job_id: Some(job.id),
        files: None,
        ..new_model(ANONYMOUS_TENANT, "int8")
    };

    let stale = Fence {
        attempt: 7,
        ..good.clone()
    };
    assert!(!s
        .complete_job(&stale, &json!({}), Some(&model))
        .await
        .expect("complete"));
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, model.id).await.expect("get"),
        None,
        "a failed fence leaves no model row"
    );
    assert_eq!(get(&s, job.id).await, claimed);

    assert!(s
        .complete_job(&good, &json!({"bytes_saved": 3}), Some(&model))
        .await
        .expect("complete"));
    let stored = s
        .get_model(ANONYMOUS_TENANT, model.id)
        .await
        .expect("get")
        .expect("model row written with the job");
    assert_eq!(stored.source_job_id, Some(job.id));
    let done = get(&s, job.id).await;
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.output_model_id, Some(model.id));

    // Deleting the model clears the job's reference instead of failing.
    assert!(s
        .delete_model(ANONYMOUS_TENANT, model.id)
        .await
        .expect("delete")
        .is_some());
    assert_eq!(get(&s, job.id).await.output_model_id, None);
}

pub async fn fail_with_retry_then_exhausted(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let mut messages = Vec::new();
    for attempt in 1..=2 {
        let claimed = claim_one(&s, "w1", "train", LEASE).await;
        assert_eq!(claimed.attempt, attempt);
        let retry_at = Utc::now() - TimeDelta::milliseconds(10);
        let error = attempt_error(attempt, &format!("boom {attempt}"));
        messages.push(error.clone());
        assert_eq!(
            s.fail_job(&fence_of(&claimed), &error, Some(retry_at))
                .await
                .expect("fail"),
            Some(JobState::Queued)
        );
        let row = get(&s, job.id).await;
        assert_eq!(row.state, JobState::Queued);
        assert_eq!(
            row.attempt, attempt,
            "the attempt count is kept across a retry"
        );
        assert_eq!(row.scheduled_at, micros(retry_at));
        assert_eq!(
            (
                row.locked_by.as_deref(),
                row.lease_expires_at,
                row.finished_at
            ),
            (None, None, None)
        );
        assert_eq!(errors_of(&row), messages);
    }
    let last = claim_one(&s, "w1", "train", LEASE).await;
    assert_eq!(last.attempt, 3);
    let error = attempt_error(3, "boom 3");
    messages.push(error.clone());
    assert_eq!(
        s.fail_job(&fence_of(&last), &error, None)
            .await
            .expect("fail"),
        Some(JobState::Failed)
    );
    let row = get(&s, job.id).await;
    assert_eq!(row.state, JobState::Failed);
    assert_eq!(errors_of(&row), messages, "errors appended oldest first");
    assert_recent(row.finished_at.expect("finished_at"), "finished_at");
    assert_eq!(row.locked_by, None);
    assert!(s
        .claim_jobs("w1", &["train".to_string()], 10, LEASE)
        .await
        .expect("claim")
        .is_empty());
}

pub async fn fail_with_future_retry_waits(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    let later = Utc::now() + TimeDelta::hours(1);
    assert_eq!(
        s.fail_job(&fence_of(&claimed), &attempt_error(1, "busy"), Some(later))
            .await
            .expect("fail"),
        Some(JobState::Queued)
    );
    assert!(
        s.claim_jobs("w1", &["train".to_string()], 10, LEASE)
            .await
            .expect("claim")
            .is_empty(),
        "a retry is not claimable before retry_at"
    );
    assert_eq!(get(&s, job.id).await.scheduled_at, micros(later));
}

pub async fn batched_completion_is_fenced_per_job(s: DynStore) {
    assert!(s.complete_jobs(&[]).await.expect("empty batch").is_empty());
    let mut jobs = Vec::new();
    for _ in 0..3 {
        insert_kind(&s, "train").await;
        jobs.push(claim_one(&s, "w1", "train", LEASE).await);
    }
    let stale = Fence {
        attempt: jobs[1].attempt + 1,
        ..fence_of(&jobs[1])
    };
    let done = s
        .complete_jobs(&[
            (fence_of(&jobs[0]), json!({"n": 0})),
            (stale, json!({"n": 1})),
            (fence_of(&jobs[2]), json!({"n": 2})),
        ])
        .await
        .expect("complete batch");
    assert_eq!(
        done,
        vec![true, false, true],
        "the stale fence writes nothing"
    );
    for (i, j) in jobs.iter().enumerate() {
        let row = get(&s, j.id).await;
        if i == 1 {
            assert_eq!(row.state, JobState::Running);
            assert_eq!(row.result, None);
        } else {
            assert_eq!(row.state, JobState::Succeeded);
            assert_eq!(row.result, Some(json!({"n": i})));
            assert_eq!(row.progress, 1.0);
            assert_eq!((row.locked_by, row.lease_expires_at), (None, None));
            assert!(row.finished_at.is_some());
        }
    }
    // Completing again: the fences no longer hold.
    let again = s
        .complete_jobs(&[(fence_of(&jobs[0]), json!({}))])
        .await
        .expect("complete again");
    assert_eq!(again, vec![false]);
}

//! Job events written by the database: every path of the state machine leaves its event, in
//! order, numbered without gaps, and every stored event reads back as its typed payload.

use chrono::{TimeDelta, Utc};
use serde_json::json;

use crate::fixtures::{attempt_error, claim_one, fence_of, insert_kind, LEASE};
use whittle::domain::JobState;
use whittle::store::{DynStore, EventFilter, MetricPoint, TrialRow, ANONYMOUS_TENANT};

async fn types_of(s: &DynStore, job: uuid::Uuid) -> Vec<String> {
    let events = s
        .list_job_events(ANONYMOUS_TENANT, job, 0, 1000)
        .await
        .expect("events");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "no gap: {events:?}");
        assert_eq!(e.job_id, job);
        e.clone()
            .into_event()
            .unwrap_or_else(|m| panic!("{m}: {e:?}"));
    }
    events.into_iter().map(|e| e.event_type).collect()
}

pub async fn every_transition_leaves_its_event(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    // Attempt 1: progress (one per whole percent), metrics, a failure with a retry.
    let c = claim_one(&s, "w1", "train", LEASE).await;
    let f = fence_of(&c);
    for p in [0.001, 0.002, 0.5, 0.501] {
        s.heartbeat(&f, LEASE, Some((p, Some("epoch 1"))))
            .await
            .expect("hb");
    }
    s.heartbeat(&f, LEASE, None).await.expect("hb");
    let point = |step: i64, value: f64| MetricPoint {
        name: "train_loss".into(),
        step,
        value,
    };
    s.record_job_metrics(job.id, &[point(1, 0.5), point(2, f64::NAN)])
        .await
        .expect("metrics");
    let retry_at = Utc::now() - TimeDelta::seconds(1);
    assert_eq!(
        s.fail_job(&f, &attempt_error(1, "boom"), Some(retry_at))
            .await
            .expect("fail"),
        Some(JobState::Queued)
    );
    // Attempt 2: handed back at shutdown; attempt 2 again: cancel requested, then canceled.
    let c = claim_one(&s, "w2", "train", LEASE).await;
    assert!(s.release_job(&fence_of(&c)).await.expect("release"));
    let c = claim_one(&s, "w2", "train", LEASE).await;
    s.request_cancel(ANONYMOUS_TENANT, job.id)
        .await
        .expect("cancel");
    assert!(s.finish_canceled(&fence_of(&c)).await.expect("canceled"));
    assert_eq!(
        types_of(&s, job.id).await,
        [
            "job.queued",
            "job.running",
            "job.progress", // 0.001 with a message
            "job.progress", // 0.5
            "job.metric",
            "job.metric",
            "job.retry_scheduled",
            "job.running",
            "job.queued",
            "job.running",
            "job.cancel_requested",
            "job.canceled",
        ]
    );
    let events = s
        .list_job_events(ANONYMOUS_TENANT, job.id, 0, 100)
        .await
        .expect("events");
    assert_eq!(events[6].data["error"], "boom");
    assert_eq!(events[6].data["attempt"], 1);
    assert_eq!(events[6].state, JobState::Queued);
    assert_eq!(events[5].data["value"], json!(null), "NaN streams as null");
    assert_eq!(events[8].data["reason"], "released");
    assert_eq!(events[9].data["attempt"], 2);
    // Resuming after seq 10 gives exactly the rest.
    let rest = s
        .list_job_events(ANONYMOUS_TENANT, job.id, 10, 100)
        .await
        .expect("events");
    assert_eq!(rest.iter().map(|e| e.seq).collect::<Vec<_>>(), [11, 12]);
    // Another tenant sees none of it.
    let other = uuid::Uuid::now_v7();
    assert!(s
        .list_job_events(other, job.id, 0, 100)
        .await
        .expect("events")
        .is_empty());

    // A job that succeeds, a queued job canceled, a job that fails for good; trials.
    let ok = insert_kind(&s, "tune").await;
    let c = claim_one(&s, "w3", "tune", LEASE).await;
    let mut trial = TrialRow {
        job_id: ok.id,
        number: 0,
        params: json!({"lr": 0.1}),
        state: "running".into(),
        value: None,
        intermediate: json!([]),
        error: None,
        started_at: Some(Utc::now()),
        finished_at: None,
    };
    s.upsert_trial(&trial).await.expect("trial");
    trial.intermediate = json!([0.5]);
    s.upsert_trial(&trial).await.expect("trial");
    s.upsert_trial(&trial).await.expect("unchanged trial");
    trial.state = "complete".into();
    trial.value = Some(0.9);
    s.upsert_trial(&trial).await.expect("trial");
    assert!(s
        .complete_job(&fence_of(&c), &json!({}), None)
        .await
        .expect("complete"));
    assert_eq!(
        types_of(&s, ok.id).await,
        [
            "job.queued",
            "job.running",
            "job.trial",
            "job.trial",
            "job.trial",
            "job.succeeded"
        ]
    );
    let trial_events = s
        .list_job_events(ANONYMOUS_TENANT, ok.id, 2, 3)
        .await
        .expect("events");
    assert_eq!(trial_events[1].data["last_intermediate"], 0.5);
    assert_eq!(trial_events[2].data["state"], "complete");
    assert_eq!(trial_events[2].data["value"], 0.9);

    let queued = insert_kind(&s, "train").await;
    s.request_cancel(ANONYMOUS_TENANT, queued.id)
        .await
        .expect("cancel");
    assert_eq!(
        types_of(&s, queued.id).await,
        ["job.queued", "job.canceled"]
    );

    // The tenant's stream: every event in id order, filters by kind, state and type.
    let settle = s.event_settle_time();
    tokio::time::sleep(settle + std::time::Duration::from_millis(50)).await;
    let all = s
        .list_tenant_events(ANONYMOUS_TENANT, 0, &EventFilter::default(), 1000)
        .await
        .expect("tenant events");
    assert_eq!(all.len(), 12 + 6 + 2);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    // The process-wide feed's read: every tenant's events after a cursor, by id.
    let feed = s.list_events_after(0, 1000).await.expect("events after");
    assert_eq!(
        feed.iter().map(|e| e.id).collect::<Vec<_>>(),
        all.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    assert_eq!(
        s.list_events_after(all[4].id, 3).await.expect("page").len(),
        3
    );
    assert_eq!(s.max_event_id().await.expect("max"), all.last().unwrap().id);
    let ended = s
        .list_tenant_events(
            ANONYMOUS_TENANT,
            0,
            &EventFilter {
                states: vec![JobState::Succeeded, JobState::Canceled],
                ..Default::default()
            },
            1000,
        )
        .await
        .expect("filtered");
    assert_eq!(
        ended
            .iter()
            .map(|e| e.event_type.as_str())
            .collect::<Vec<_>>(),
        ["job.canceled", "job.succeeded", "job.canceled"]
    );
    let tune = s
        .list_tenant_events(
            ANONYMOUS_TENANT,
            0,
            &EventFilter {
                kinds: vec!["tune".into()],
                types: vec!["job.trial".into()],
                ..Default::default()
            },
            1000,
        )
        .await
        .expect("filtered");
    assert_eq!(tune.len(), 3);
    let last = s.last_event_id(ANONYMOUS_TENANT).await.expect("last");
    assert_eq!(last, all.last().unwrap().id);
    assert_eq!(s.last_event_id(other).await.expect("last"), 0);
}

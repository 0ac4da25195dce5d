//! Per-job metric points and tuning trials: upserts and ordering.

use chrono::{TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{insert_kind, micros};
use whittle::store::{DynStore, MetricPoint, TrialRow};

pub async fn metrics_upsert_and_order(s: DynStore) {
    let job = insert_kind(&s, "train").await;
    let other = insert_kind(&s, "train").await;
    let p = |name: &str, step: i64, value: f64| MetricPoint {
        name: name.to_string(),
        step,
        value,
    };
    s.record_job_metrics(job.id, &[])
        .await
        .expect("empty batch");
    s.record_job_metrics(
        job.id,
        &[
            p("train_loss", 1, 0.5),
            p("train_loss", 0, 1.0),
            p("accuracy", 0, 0.1),
        ],
    )
    .await
    .expect("record");
    // Upsert on (job, name, step); the last of repeated points in one batch wins.
    s.record_job_metrics(
        job.id,
        &[
            p("train_loss", 1, 0.3),
            p("train_loss", 1, 0.25),
            p("accuracy", 1, 0.6),
        ],
    )
    .await
    .expect("record");
    s.record_job_metrics(other.id, &[p("train_loss", 0, 9.0)])
        .await
        .expect("record");

    let got = s.list_job_metrics(job.id).await.expect("list");
    assert_eq!(
        got,
        vec![
            p("accuracy", 0, 0.1),
            p("accuracy", 1, 0.6),
            p("train_loss", 0, 1.0),
            p("train_loss", 1, 0.25),
        ]
    );
    assert_eq!(
        s.list_job_metrics(other.id).await.expect("list"),
        vec![p("train_loss", 0, 9.0)]
    );
    assert!(s
        .list_job_metrics(Uuid::now_v7())
        .await
        .expect("list")
        .is_empty());

    // A diverged loss is NaN; it must round-trip, not fail.
    s.record_job_metrics(other.id, &[p("train_loss", 1, f64::NAN)])
        .await
        .expect("record NaN");
    let got = s.list_job_metrics(other.id).await.expect("list");
    assert!(got[1].value.is_nan());

    assert!(
        s.record_job_metrics(Uuid::now_v7(), &[p("x", 0, 1.0)])
            .await
            .is_err(),
        "metrics belong to an existing job"
    );
}

pub async fn trials_upsert_and_list(s: DynStore) {
    let job = insert_kind(&s, "tune").await;
    let t0 = Utc::now() - TimeDelta::seconds(5);
    let trial = |number: i32| TrialRow {
        job_id: job.id,
        number,
        params: json!({"lr": 0.01 * f64::from(number + 1), "hidden": 64}),
        state: "running".to_string(),
        value: None,
        intermediate: json!([]),
        error: None,
        started_at: Some(t0),
        finished_at: None,
    };
    s.upsert_trial(&trial(1)).await.expect("trial 1");
    s.upsert_trial(&trial(0)).await.expect("trial 0");
    let done0 = TrialRow {
        state: "complete".to_string(),
        value: Some(0.93),
        intermediate: json!([0.5, 0.8, 0.93]),
        finished_at: Some(Utc::now()),
        ..trial(0)
    };
    let pruned1 = TrialRow {
        state: "pruned".to_string(),
        value: Some(0.2),
        intermediate: json!([0.2]),
        error: Some("pruned at epoch 1".to_string()),
        finished_at: Some(Utc::now()),
        ..trial(1)
    };
    s.upsert_trial(&done0).await.expect("update 0");
    s.upsert_trial(&pruned1).await.expect("update 1");

    let truncated = |t: &TrialRow| TrialRow {
        started_at: t.started_at.map(micros),
        finished_at: t.finished_at.map(micros),
        ..t.clone()
    };
    let got = s.list_trials(job.id).await.expect("list");
    assert_eq!(
        got,
        vec![truncated(&done0), truncated(&pruned1)],
        "ordered by number"
    );
    assert!(s
        .list_trials(Uuid::now_v7())
        .await
        .expect("list")
        .is_empty());
}

/// Many writers of one job's trials and metric points at once (a study's trials finishing on
/// several workers): every write lands, none deadlocks, and the job's events stay numbered
/// without gaps.
pub async fn concurrent_trial_and_metric_writers(s: DynStore) {
    let job = insert_kind(&s, "tune").await;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8i32 {
        let s = s.clone();
        let job_id = job.id;
        writers.spawn(async move {
            for round in 0..6i32 {
                let number = w * 6 + round;
                s.upsert_trial(&TrialRow {
                    job_id,
                    number,
                    params: json!({"lr": 0.001 * f64::from(number + 1)}),
                    state: "complete".to_string(),
                    value: Some(f64::from(number)),
                    intermediate: json!([[1, 0.5]]),
                    error: None,
                    started_at: Some(Utc::now()),
                    finished_at: Some(Utc::now()),
                })
                .await
                .expect("trial upsert");
                s.record_job_metrics(
                    job_id,
                    &[MetricPoint {
                        name: "trial_value".to_string(),
                        step: i64::from(number),
                        value: f64::from(number),
                    }],
                )
                .await
                .expect("metric point");
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    assert_eq!(s.list_trials(job.id).await.expect("trials").len(), 48);
    assert_eq!(s.list_job_metrics(job.id).await.expect("metrics").len(), 48);
    let events = s
        .list_job_events(whittle::store::ANONYMOUS_TENANT, job.id, 0, 1000)
        .await
        .expect("events");
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(
        events.len(),
        1 + 48 + 48,
        "queued, one per trial, one per point"
    );
}

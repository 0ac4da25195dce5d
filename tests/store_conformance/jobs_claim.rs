//! Claiming jobs: order, eligibility, concurrent claimers and child jobs claimed by their parent.

use std::collections::HashSet;

use chrono::{TimeDelta, Utc};
use uuid::Uuid;

use crate::fixtures::{assert_recent, claim_one, get, insert, insert_kind, new_job, LEASE};
use whittle::domain::JobState;
use whittle::store::{DynStore, JobFilter, NewJob, ANONYMOUS_TENANT};

pub async fn claim_orders_by_priority_then_age(s: DynStore) {
    let now = Utc::now();
    let mk = |priority: i32, secs_ago: i64| NewJob {
        priority,
        scheduled_at: Some(now - TimeDelta::seconds(secs_ago)),
        ..new_job(ANONYMOUS_TENANT, "train")
    };
    let a = insert(&s, &mk(0, 3)).await.id;
    let b = insert(&s, &mk(5, 1)).await.id;
    let c = insert(&s, &mk(0, 2)).await.id;
    let d = insert(&s, &mk(5, 2)).await.id;
    let e = insert(&s, &mk(-1, 100)).await.id;
    // Same priority and time: the smaller (older) id first.
    let same_time = Some(now - TimeDelta::seconds(50));
    let f = insert(
        &s,
        &NewJob {
            priority: -1,
            scheduled_at: same_time,
            ..new_job(ANONYMOUS_TENANT, "train")
        },
    )
    .await
    .id;
    let g = insert(
        &s,
        &NewJob {
            priority: -1,
            scheduled_at: same_time,
            ..new_job(ANONYMOUS_TENANT, "train")
        },
    )
    .await
    .id;
    assert!(f < g);

    let kinds = ["train".to_string()];
    let first = s.claim_jobs("w1", &kinds, 3, LEASE).await.expect("claim");
    assert_eq!(
        first.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![d, b, a]
    );
    let mut rest = Vec::new();
    loop {
        let batch = s.claim_jobs("w1", &kinds, 1, LEASE).await.expect("claim");
        if batch.is_empty() {
            break;
        }
        rest.extend(batch.into_iter().map(|j| j.id));
    }
    assert_eq!(rest, vec![c, e, f, g]);
}

pub async fn claim_skips_future_other_kinds_and_non_queued(s: DynStore) {
    let future = NewJob {
        scheduled_at: Some(Utc::now() + TimeDelta::hours(1)),
        priority: 100,
        ..new_job(ANONYMOUS_TENANT, "train")
    };
    insert(&s, &future).await;
    let other_kind = insert_kind(&s, "prune").await;
    let now_job = insert_kind(&s, "train").await;

    assert!(s
        .claim_jobs("w1", &[], 10, LEASE)
        .await
        .expect("claim")
        .is_empty());
    assert!(s
        .claim_jobs("w1", &["train".to_string()], 0, LEASE)
        .await
        .expect("claim")
        .is_empty());

    let before = Utc::now();
    let claimed = s
        .claim_jobs("w1", &["train".to_string(), "tune".to_string()], 10, LEASE)
        .await
        .expect("claim");
    assert_eq!(
        claimed.len(),
        1,
        "the future job and the prune job are not claimed"
    );
    let job = &claimed[0];
    assert_eq!(job.id, now_job.id);
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.attempt, 1);
    assert_eq!(job.locked_by.as_deref(), Some("w1"));
    assert_eq!(job.progress, 0.0);
    let lease_end = job.lease_expires_at.expect("lease set");
    assert!(
        lease_end > before + TimeDelta::seconds(50)
            && lease_end < Utc::now() + TimeDelta::seconds(70),
        "lease ≈ now + 60 s, got {lease_end}"
    );
    assert_recent(job.started_at.expect("started_at set"), "started_at");
    assert_eq!(get(&s, job.id).await, *job, "claim returns the stored row");

    // Running jobs are not claimed again.
    assert!(s
        .claim_jobs("w2", &["train".to_string()], 10, LEASE)
        .await
        .expect("claim")
        .is_empty());
    assert_eq!(get(&s, other_kind.id).await.state, JobState::Queued);
}

pub async fn concurrent_claimers_never_share_a_job(s: DynStore) {
    const JOBS: usize = 200;
    let mut all = HashSet::new();
    for _ in 0..JOBS {
        all.insert(insert_kind(&s, "quantize").await.id);
    }
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let worker_id = format!("worker-{worker}");
            let mut mine = Vec::new();
            loop {
                let batch = s
                    .claim_jobs(&worker_id, &["quantize".to_string()], 7, LEASE)
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    return mine;
                }
                for job in batch {
                    assert_eq!(job.locked_by.as_deref(), Some(worker_id.as_str()));
                    mine.push(job.id);
                }
            }
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await.expect("claimer") {
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    assert_eq!(seen, all, "every job claimed exactly once");
    let running = s
        .list_jobs(
            ANONYMOUS_TENANT,
            &JobFilter {
                state: Some(JobState::Running),
                limit: 1000,
                ..JobFilter::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(running.items.len(), JOBS);
    assert!(
        running.items.iter().all(|j| j.attempt == 1),
        "no job was claimed twice"
    );
}

pub async fn child_jobs_listed_and_claimed_by_parent(s: DynStore) {
    let parent = insert_kind(&s, "tune").await;
    let other_parent = insert_kind(&s, "tune").await;
    let mut kids = Vec::new();
    for p in [parent.id, parent.id, other_parent.id] {
        kids.push(
            insert(
                &s,
                &NewJob {
                    parent_job_id: Some(p),
                    ..new_job(ANONYMOUS_TENANT, "trial")
                },
            )
            .await,
        );
    }
    let listed: Vec<Uuid> = s
        .list_child_jobs(parent.id)
        .await
        .expect("list children")
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(
        listed,
        vec![kids[0].id, kids[1].id],
        "own children, oldest first"
    );

    // Top-level listing leaves children out; naming the parent lists them.
    let top = s
        .list_jobs(
            ANONYMOUS_TENANT,
            &JobFilter {
                top_level_only: true,
                limit: 50,
                ..JobFilter::default()
            },
        )
        .await
        .expect("list");
    let top: Vec<Uuid> = top.items.iter().map(|j| j.id).collect();
    assert_eq!(top, vec![other_parent.id, parent.id]);

    // Claiming by parent takes only that parent's queued children, oldest first, once each.
    let first = s
        .claim_child_job("w1", parent.id, LEASE)
        .await
        .expect("claim")
        .expect("a child");
    assert_eq!(first.id, kids[0].id);
    assert_eq!((first.state, first.attempt), (JobState::Running, 1));
    assert_eq!(first.locked_by.as_deref(), Some("w1"));
    let second = s
        .claim_child_job("w2", parent.id, LEASE)
        .await
        .expect("claim")
        .expect("a child");
    assert_eq!(second.id, kids[1].id);
    assert!(s
        .claim_child_job("w1", parent.id, LEASE)
        .await
        .expect("claim")
        .is_none());
    // The other parent's child is still there for the normal queue.
    let any = claim_one(&s, "w3", "trial", LEASE).await;
    assert_eq!(any.id, kids[2].id);
}

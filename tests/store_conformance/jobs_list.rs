//! Listing and counting jobs: filters, pages and per-kind/state counts.

use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{claim_one, fence_of, insert, insert_kind, new_job, LEASE};
use whittle::domain::JobState;
use whittle::store::{DynStore, JobCount, JobFilter, JobRow, NewJob, ANONYMOUS_TENANT};

pub async fn list_jobs_filters_and_pages(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let parent = insert_kind(&s, "tune").await;
    let mut children = Vec::new();
    for _ in 0..3 {
        let child = NewJob {
            parent_job_id: Some(parent.id),
            ..new_job(ANONYMOUS_TENANT, "train")
        };
        children.push(insert(&s, &child).await.id);
    }
    let analyze = insert_kind(&s, "analyze").await;
    insert(&s, &new_job(other, "train")).await;
    let running = claim_one(&s, "w1", "analyze", LEASE).await;
    assert_eq!(running.id, analyze.id);

    let list = |filter: JobFilter| {
        let s = s.clone();
        async move { s.list_jobs(ANONYMOUS_TENANT, &filter).await.expect("list") }
    };
    let ids = |page: &whittle::store::Page<JobRow>| -> Vec<Uuid> {
        page.items.iter().map(|j| j.id).collect()
    };

    let all = list(JobFilter {
        limit: 10,
        ..JobFilter::default()
    })
    .await;
    let mut expected: Vec<Uuid> = children
        .iter()
        .copied()
        .chain([parent.id, analyze.id])
        .collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids(&all), expected, "newest first, own tenant only");
    assert_eq!(all.next_cursor, None);

    let trains = list(JobFilter {
        kind: Some("train".into()),
        limit: 10,
        ..JobFilter::default()
    })
    .await;
    let mut want = children.clone();
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids(&trains), want);

    let kids = list(JobFilter {
        parent_job_id: Some(parent.id),
        limit: 2,
        ..JobFilter::default()
    })
    .await;
    assert_eq!(ids(&kids), want[0..2]);
    assert_eq!(kids.next_cursor, Some(want[1]));
    let kids2 = list(JobFilter {
        parent_job_id: Some(parent.id),
        cursor: kids.next_cursor,
        limit: 2,
        ..JobFilter::default()
    })
    .await;
    assert_eq!(ids(&kids2), want[2..3]);
    assert_eq!(kids2.next_cursor, None);

    let running = list(JobFilter {
        state: Some(JobState::Running),
        limit: 10,
        ..JobFilter::default()
    })
    .await;
    assert_eq!(ids(&running), vec![analyze.id]);
    let none = list(JobFilter {
        state: Some(JobState::Running),
        kind: Some("train".into()),
        limit: 10,
        ..JobFilter::default()
    })
    .await;
    assert!(none.items.is_empty());

    assert_eq!(
        s.get_job(other, parent.id).await.expect("get"),
        None,
        "other tenant"
    );
}

pub async fn job_counts_by_kind_and_state(s: DynStore) {
    assert!(s.job_counts().await.expect("counts").is_empty());
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    insert_kind(&s, "train").await;
    insert_kind(&s, "train").await;
    insert(&s, &new_job(other, "train")).await;
    insert_kind(&s, "analyze").await;
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    assert!(s
        .complete_job(&fence_of(&claimed), &json!({}), None)
        .await
        .expect("complete"));
    claim_one(&s, "w1", "train", LEASE).await;

    let mut got = s.job_counts().await.expect("counts");
    got.sort_by(|a, b| (&a.kind, a.state.as_str()).cmp(&(&b.kind, b.state.as_str())));
    let c = |kind: &str, state, count| JobCount {
        kind: kind.to_string(),
        state,
        count,
    };
    assert_eq!(
        got,
        vec![
            c("analyze", JobState::Queued, 1),
            c("train", JobState::Queued, 1),
            c("train", JobState::Running, 1),
            c("train", JobState::Succeeded, 1),
        ],
        "counted across tenants"
    );
}

//! Job notifications: Postgres `LISTEN`/`NOTIFY` wakes workers; SQLite has none.

use std::time::Duration;

use futures::StreamExt;

use crate::fixtures::{claim_one, fence_of, insert_kind, LEASE};
use whittle::store::DynStore;

pub async fn notifications(s: DynStore) {
    let stream = s.job_notifications().await.expect("subscribe");
    if s.backend() == "sqlite" {
        assert!(stream.is_none(), "SQLite has no LISTEN; workers poll");
        return;
    }
    let mut stream = stream.expect("Postgres notifies");
    let wait = Duration::from_secs(5);
    let job = insert_kind(&s, "train").await;
    tokio::time::timeout(wait, stream.next())
        .await
        .expect("a notification within 5 s of the insert")
        .expect("stream still open");

    // A job handed back to the queue wakes workers too.
    let claimed = claim_one(&s, "w1", "train", LEASE).await;
    assert_eq!(claimed.id, job.id);
    assert!(s.release_job(&fence_of(&claimed)).await.expect("release"));
    tokio::time::timeout(wait, stream.next())
        .await
        .expect("a notification within 5 s of the release")
        .expect("stream still open");
}

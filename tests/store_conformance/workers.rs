//! Worker presence: the kinds running workers execute, as admission sees them.

use chrono::{TimeDelta, Utc};
use whittle::store::DynStore;

pub async fn worker_presence_unions_live_kinds(s: DynStore) {
    let before = Utc::now() - TimeDelta::seconds(1);
    assert!(s.live_worker_kinds(before).await.expect("none").is_empty());
    s.record_worker("w1", &["analyze".into(), "train".into()])
        .await
        .expect("record w1");
    s.record_worker("w2", &["train".into(), "tune".into()])
        .await
        .expect("record w2");
    assert_eq!(
        s.live_worker_kinds(before).await.expect("live"),
        ["analyze", "train", "tune"]
    );
    // A worker that records again replaces its kinds (an upgrade), and stays one row.
    s.record_worker("w1", &["prune".into()])
        .await
        .expect("again");
    assert_eq!(
        s.live_worker_kinds(before).await.expect("live"),
        ["prune", "train", "tune"]
    );
    // Workers not seen since `since` do not count.
    let later = Utc::now() + TimeDelta::seconds(1);
    assert!(s.live_worker_kinds(later).await.expect("none").is_empty());
}

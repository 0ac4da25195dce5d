//! API keys: lookup by hash, counting, listing and revocation.

use uuid::Uuid;

use crate::fixtures::assert_recent;
use whittle::store::{DynStore, ANONYMOUS_TENANT};

pub async fn api_keys_lookup_and_count(s: DynStore) {
    assert_eq!(s.count_active_api_keys().await.expect("count"), 0);
    let acme = s.ensure_tenant("acme").await.expect("acme").id;
    let sha_a = "a1".repeat(32);
    let sha_b = "b2".repeat(32);
    let key = s
        .create_api_key(acme, &sha_a, "wh_a1b2")
        .await
        .expect("create key");
    assert_eq!(key.tenant_id, acme);
    assert_eq!(key.prefix, "wh_a1b2");
    assert_eq!(key.revoked_at, None);
    assert_recent(key.created_at, "key.created_at");
    s.create_api_key(ANONYMOUS_TENANT, &sha_b, "wh_b2")
        .await
        .expect("second key");

    assert_eq!(
        s.tenant_for_api_key(&sha_a).await.expect("lookup"),
        Some(acme)
    );
    assert_eq!(
        s.tenant_for_api_key(&sha_b).await.expect("lookup"),
        Some(ANONYMOUS_TENANT)
    );
    assert_eq!(
        s.tenant_for_api_key(&"00".repeat(32))
            .await
            .expect("lookup"),
        None
    );
    assert_eq!(s.count_active_api_keys().await.expect("count"), 2);
    assert!(
        s.create_api_key(acme, &sha_a, "wh_dup").await.is_err(),
        "a key hash is unique"
    );
    assert_eq!(s.count_active_api_keys().await.expect("count"), 2);

    // Listing (with tenant names) and revocation.
    let listed = s.list_api_keys().await.expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[0].0.id, listed[0].1.as_str()), (key.id, "acme"));
    assert_eq!(listed[1].1, "anonymous");
    let revoked = s
        .revoke_api_key(key.id)
        .await
        .expect("revoke")
        .expect("key exists");
    let at = revoked.revoked_at.expect("revoked_at set");
    assert_eq!(s.tenant_for_api_key(&sha_a).await.expect("lookup"), None);
    assert_eq!(s.count_active_api_keys().await.expect("count"), 1);
    let again = s
        .revoke_api_key(key.id)
        .await
        .expect("revoke")
        .expect("key");
    assert_eq!(
        again.revoked_at,
        Some(at),
        "revoking twice keeps the first time"
    );
    assert_eq!(
        s.revoke_api_key(Uuid::now_v7()).await.expect("revoke"),
        None
    );
    assert_eq!(
        s.list_api_keys().await.expect("list").len(),
        2,
        "revoked keys stay listed"
    );
}

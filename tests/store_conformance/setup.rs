//! Migrations, the health ping and tenants.

use crate::fixtures::assert_recent;
use whittle::store::{DynStore, ANONYMOUS_TENANT};

pub async fn migrate_twice_and_ping(s: DynStore) {
    s.migrate().await.expect("second migrate is a no-op");
    s.ping().await.expect("ping");
}

pub async fn tenants_anonymous_and_ensure_idempotent(s: DynStore) {
    let anonymous = s.ensure_tenant("anonymous").await.expect("anonymous");
    assert_eq!(anonymous.id, ANONYMOUS_TENANT);
    assert_eq!(anonymous.name, "anonymous");
    assert_recent(anonymous.created_at, "anonymous.created_at");

    let acme = s.ensure_tenant("acme").await.expect("acme");
    assert_ne!(acme.id, ANONYMOUS_TENANT);
    assert_eq!(acme.name, "acme");
    assert_eq!(s.ensure_tenant("acme").await.expect("acme again"), acme);
    let globex = s.ensure_tenant("globex").await.expect("globex");
    assert_ne!(globex.id, acme.id);
}

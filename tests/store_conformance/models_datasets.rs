//! Model and dataset rows: round trips, keyset pagination and tenant isolation.

use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{assert_recent, new_dataset, new_model};
use whittle::store::{DynStore, NewDataset, NewModel, PageRequest, ANONYMOUS_TENANT};

pub async fn models_round_trip_and_tenant_isolation(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let new = new_model(ANONYMOUS_TENANT, "mlp");
    let row = s.insert_model(&new).await.expect("insert model");
    assert_eq!(row.id, new.id);
    assert_eq!(row.tenant_id, ANONYMOUS_TENANT);
    assert_eq!(row.name, "mlp");
    assert_eq!(row.format, new.format);
    assert_eq!(row.artifact_key, new.artifact_key);
    assert_eq!(row.sha256, new.sha256);
    assert_eq!((row.bytes, row.n_params), (1234, 567));
    assert_eq!(row.inventory, new.inventory);
    assert_eq!(row.architecture, new.architecture);
    assert_eq!(row.source_job_id, None);
    assert_recent(row.created_at, "model.created_at");

    // No architecture is a NULL, not a JSON null.
    let plain = NewModel {
        architecture: None,
        ..new_model(ANONYMOUS_TENANT, "plain")
    };
    assert_eq!(
        s.insert_model(&plain).await.expect("insert").architecture,
        None
    );

    // A folder's file list round-trips; list pages say which models are folders.
    let files = serde_json::json!([
        {"path": "config.json", "bytes": 10, "sha256": "ab", "role": "config"},
        {"path": "model.safetensors", "bytes": 99, "sha256": "cd", "role": "shard"}
    ]);
    let folder = NewModel {
        files: Some(files.clone()),
        ..new_model(ANONYMOUS_TENANT, "folder")
    };
    let folder_row = s.insert_model(&folder).await.expect("insert folder");
    assert_eq!(folder_row.files, Some(files.clone()));
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, folder.id)
            .await
            .expect("get folder")
            .and_then(|r| r.files),
        Some(files)
    );
    assert_eq!(row.files, None);
    let listed = s
        .list_models(
            ANONYMOUS_TENANT,
            PageRequest {
                limit: 10,
                cursor: None,
            },
        )
        .await
        .expect("list");
    let flags: Vec<(String, bool)> = listed
        .items
        .iter()
        .map(|m| (m.name.clone(), m.is_folder))
        .collect();
    assert!(flags.contains(&("folder".to_string(), true)), "{flags:?}");
    assert!(flags.contains(&("mlp".to_string(), false)), "{flags:?}");
    s.delete_model(ANONYMOUS_TENANT, folder.id)
        .await
        .expect("delete folder");

    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, new.id).await.expect("get"),
        Some(row.clone())
    );
    assert_eq!(
        s.get_model(other, new.id).await.expect("get"),
        None,
        "other tenant"
    );
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, Uuid::now_v7())
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        s.delete_model(other, new.id).await.expect("delete"),
        None,
        "other tenant"
    );
    assert_eq!(
        s.delete_model(ANONYMOUS_TENANT, new.id)
            .await
            .expect("delete"),
        Some(row)
    );
    assert_eq!(
        s.get_model(ANONYMOUS_TENANT, new.id).await.expect("get"),
        None
    );
    assert_eq!(
        s.delete_model(ANONYMOUS_TENANT, new.id)
            .await
            .expect("delete"),
        None
    );
}

pub async fn models_keyset_pagination(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = new_model(ANONYMOUS_TENANT, &format!("m{i}"));
        s.insert_model(&m).await.expect("insert");
        ids.push(m.id);
    }
    s.insert_model(&new_model(other, "theirs"))
        .await
        .expect("insert");
    ids.sort_unstable_by(|a, b| b.cmp(a)); // newest first

    let page = |cursor, limit| PageRequest { cursor, limit };
    let p1 = s
        .list_models(ANONYMOUS_TENANT, page(None, 2))
        .await
        .expect("p1");
    let got: Vec<Uuid> = p1.items.iter().map(|m| m.id).collect();
    assert_eq!(got, ids[0..2]);
    assert_eq!(p1.next_cursor, Some(ids[1]));
    let p2 = s
        .list_models(ANONYMOUS_TENANT, page(p1.next_cursor, 2))
        .await
        .expect("p2");
    let got: Vec<Uuid> = p2.items.iter().map(|m| m.id).collect();
    assert_eq!(got, ids[2..4]);
    assert_eq!(p2.next_cursor, Some(ids[3]));
    let p3 = s
        .list_models(ANONYMOUS_TENANT, page(p2.next_cursor, 2))
        .await
        .expect("p3");
    let got: Vec<Uuid> = p3.items.iter().map(|m| m.id).collect();
    assert_eq!(got, ids[4..5]);
    assert_eq!(p3.next_cursor, None);

    let all = s
        .list_models(ANONYMOUS_TENANT, page(None, 5))
        .await
        .expect("all");
    assert_eq!(all.items.len(), 5);
    assert_eq!(
        all.next_cursor, None,
        "an exactly full last page has no cursor"
    );
    let theirs = s.list_models(other, page(None, 10)).await.expect("other");
    assert_eq!(theirs.items.len(), 1);
    assert_eq!(theirs.items[0].name, "theirs");
}

pub async fn datasets_round_trip_pagination_and_isolation(s: DynStore) {
    let other = s.ensure_tenant("other").await.expect("tenant").id;
    let new = new_dataset(ANONYMOUS_TENANT, "digits");
    let row = s.insert_dataset(&new).await.expect("insert dataset");
    assert_eq!(row.id, new.id);
    assert_eq!(row.tenant_id, new.tenant_id);
    assert_eq!((row.name.as_str(), row.format.as_str()), ("digits", "csv"));
    assert_eq!(row.artifact_key, new.artifact_key);
    assert_eq!(row.sha256, new.sha256);
    assert_eq!((row.bytes, row.rows, row.features), (99, 10, 2));
    assert_eq!(row.feature_names, json!(["f0", "f1"]));
    assert_eq!(row.target, "label");
    assert_eq!(row.task, "classification");
    assert_eq!(row.classes, Some(json!(["0", "1"])));
    assert_recent(row.created_at, "dataset.created_at");

    let regression = NewDataset {
        task: "regression".to_string(),
        classes: None,
        modality: "tabular".into(),
        ..new_dataset(ANONYMOUS_TENANT, "houses")
    };
    let reg = s.insert_dataset(&regression).await.expect("insert");
    assert_eq!(reg.classes, None);

    assert_eq!(
        s.get_dataset(ANONYMOUS_TENANT, new.id).await.expect("get"),
        Some(row.clone())
    );
    assert_eq!(s.get_dataset(other, new.id).await.expect("get"), None);

    let p1 = s
        .list_datasets(
            ANONYMOUS_TENANT,
            PageRequest {
                cursor: None,
                limit: 1,
            },
        )
        .await
        .expect("p1");
    let newest = new.id.max(reg.id);
    let oldest = new.id.min(reg.id);
    assert_eq!(
        p1.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![newest]
    );
    assert_eq!(p1.next_cursor, Some(newest));
    let p2 = s
        .list_datasets(
            ANONYMOUS_TENANT,
            PageRequest {
                cursor: p1.next_cursor,
                limit: 1,
            },
        )
        .await
        .expect("p2");
    assert_eq!(
        p2.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![oldest]
    );
    assert_eq!(p2.next_cursor, None);
    let theirs = s
        .list_datasets(
            other,
            PageRequest {
                cursor: None,
                limit: 10,
            },
        )
        .await
        .expect("other");
    assert!(theirs.items.is_empty());

    assert_eq!(s.delete_dataset(other, new.id).await.expect("delete"), None);
    assert_eq!(
        s.delete_dataset(ANONYMOUS_TENANT, new.id)
            .await
            .expect("delete"),
        Some(row)
    );
    assert_eq!(
        s.get_dataset(ANONYMOUS_TENANT, new.id).await.expect("get"),
        None
    );

    // A text dataset: no features, task `none` when it has no labels.
    let text = NewDataset {
        format: "jsonl".into(),
        features: 0,
        feature_names: json!(["text", "text_pair"]),
        target: String::new(),
        task: "none".into(),
        classes: None,
        modality: "text".into(),
        ..new_dataset(ANONYMOUS_TENANT, "corpus")
    };
    let t = s.insert_dataset(&text).await.expect("insert text dataset");
    assert_eq!(
        (t.task.as_str(), t.modality.as_str(), t.features),
        ("none", "text", 0)
    );
    assert_eq!(
        s.get_dataset(ANONYMOUS_TENANT, t.id).await.expect("get"),
        Some(t)
    );
}

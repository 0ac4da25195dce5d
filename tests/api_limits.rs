//! Hostile uploads over real HTTP, on SQLite and Postgres: files that declare huge
//! inventories, NUL characters in names the database would store, very wide CSV headers,
//! and the bounds on what list pages, model pages and analyze results return.
mod common;

use std::time::Duration;

use common::{spawn_app, Backend, TestApp, TestOptions};
use serde_json::{json, Value};
use whittle::config::LimitsConfig;

/// A safetensors file of `n` zero-sized F32 tensors named `t0`, `t1`, … (the probe of the
/// hardening issue: a big header over an empty data section).
fn empty_tensors_file(n: usize) -> Vec<u8> {
    let mut header = String::with_capacity(n * 64 + 2);
    header.push('{');
    for i in 0..n {
        if i > 0 {
            header.push(',');
        }
        header.push_str(&format!(
            r#""t{i}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}"#
        ));
    }
    header.push('}');
    with_header(&header, &[])
}

/// A file of `n` F32 tensors of `len` values each (`w0`, `w1`, …; values i, i+1, …).
fn float_tensors_file(n: usize, len: usize) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for i in 0..n {
        let start = data.len();
        for k in 0..len {
            data.extend_from_slice(&((i + k) as f32).to_le_bytes());
        }
        header.insert(
            format!("w{i}"),
            json!({"dtype": "F32", "shape": [len], "data_offsets": [start, data.len()]}),
        );
    }
    with_header(&Value::Object(header).to_string(), &data)
}

fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend_from_slice(data);
    out
}

/// Upload a model; (status, problem or model JSON).
async fn post_model(app: &TestApp, bytes: Vec<u8>) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/v1/models?name=probe"))
        .timeout(Duration::from_secs(60))
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    if status >= 400 {
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    (status, r.json().await.unwrap())
}

async fn post_csv(app: &TestApp, csv: Vec<u8>) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/v1/datasets?name=probe"))
        .header("content-type", "text/csv")
        .timeout(Duration::from_secs(20))
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    if status >= 400 {
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    (status, r.json().await.unwrap())
}

/// Files under the artifact store (uploads published there once accepted).
fn artifact_files(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        count(&p)
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    count(&app.dir.path().join("artifacts"))
}

async fn assert_nothing_stored(app: &TestApp) {
    let (_, models) = app.get_json("/v1/models").await;
    assert_eq!(
        models["items"].as_array().map(Vec::len),
        Some(0),
        "{models}"
    );
    let (_, datasets) = app.get_json("/v1/datasets").await;
    assert_eq!(
        datasets["items"].as_array().map(Vec::len),
        Some(0),
        "{datasets}"
    );
    assert_eq!(artifact_files(app), 0, "no artifact is published");
}

fn detail(problem: &Value) -> &str {
    problem["detail"].as_str().unwrap_or_default()
}

/// The hardening probe: 500,000 tensors of shape [0] (a 29 MB header) is refused at the
/// tensor cap, quickly and without storing anything; a configured cap is exact.
async fn too_many_tensors_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let probe = empty_tensors_file(500_000);
    assert!(probe.len() > 29_000_000, "a header of about 29 MB");
    let (status, problem) = post_model(&app, probe).await;
    assert_eq!(status, 413, "{problem}");
    assert!(detail(&problem).contains("100000 tensors"), "{problem}");
    assert_nothing_stored(&app).await;
    app.finish().await;

    let limits = LimitsConfig {
        max_tensors: 40,
        ..LimitsConfig::default()
    };
    let opts = TestOptions {
        workers: 0,
        limits,
        ..TestOptions::default()
    };
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let (status, problem) = post_model(&app, empty_tensors_file(41)).await;
    assert_eq!(status, 413, "{problem}");
    assert!(
        detail(&problem).contains("more than 40 tensors"),
        "{problem}"
    );
    assert_nothing_stored(&app).await;
    let (status, model) = post_model(&app, empty_tensors_file(40)).await;
    assert_eq!(status, 201, "{model}");
    assert_eq!(model["n_tensors"], 40);
    app.finish().await;
}

/// NUL in a tensor name, a metadata key or value, a CSV header cell or a class label is a
/// 422 naming it, the same on both backends (Postgres cannot store U+0000 in text).
async fn nul_characters_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let tensor = |name: &str| {
        json!({name: {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).to_string()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("tensor name", tensor("layers.0\u{0}.weight"), "tensor name at index 0"),
        (
            "metadata value",
            json!({"__metadata__": {"arch": "mlp\u{0}"}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).to_string(),
            "__metadata__.arch",
        ),
        (
            "metadata key",
            json!({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "__metadata__": {"a\u{0}": "x"}}).to_string(),
            "__metadata__",
        ),
    ];
    for (what, header, needle) in cases {
        let (status, problem) = post_model(&app, with_header(&header, &[0; 4])).await;
        assert_eq!(status, 422, "{what}: {problem}");
        let text = detail(&problem);
        assert!(
            text.contains(needle) && text.contains("U+0000"),
            "{what}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], "body", "{what}: {problem}");
    }
    let (status, problem) = post_csv(&app, b"a,b\0c,y\n1,2,0\n3,4,1\n".to_vec()).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        detail(&problem).contains("header cell 2") && detail(&problem).contains("U+0000"),
        "{problem}"
    );
    let (status, problem) = post_csv(&app, b"a,y\n1,cat\n2,d\0g\n".to_vec()).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        detail(&problem).contains("line 3") && detail(&problem).contains("U+0000"),
        "{problem}"
    );
    assert_nothing_stored(&app).await;

    // A NUL escaped inside JSON metadata (an MLP's class labels) is plain text in the
    // metadata, but would be U+0000 in the architecture: refused, naming the key.
    let mlp = json!({
        "__metadata__": {"classes": r#"["cat", "d\u0000g"]"#},
        "layers.0.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "layers.0.bias": {"dtype": "F32", "shape": [2], "data_offsets": [24, 32]},
    });
    let (status, model) = post_model(&app, with_header(&mlp.to_string(), &[0; 32])).await;
    assert_eq!(status, 422, "{model}");
    assert!(detail(&model).contains("__metadata__.classes"), "{model}");
    assert_nothing_stored(&app).await;
    app.finish().await;
}

/// A 100,000-column header is read in linear time (it took 14 s when duplicate names were
/// looked for pairwise), and one beyond the configured cap is refused before it is read.
async fn wide_csv_headers(backend: Backend) {
    let limits = LimitsConfig {
        max_dataset_features: 100_000,
        ..LimitsConfig::default()
    };
    let opts = TestOptions {
        workers: 0,
        limits,
        ..TestOptions::default()
    };
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let csv = |columns: usize| {
        let header: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
        format!("{}\n{}\n", header.join(","), vec!["1"; columns].join(",")).into_bytes()
    };
    let (status, problem) = post_csv(&app, csv(200_000)).await;
    assert_eq!(status, 413, "{problem}");
    assert!(detail(&problem).contains("limit of 100001"), "{problem}");
    assert_nothing_stored(&app).await;
    let (status, ds) = post_csv(&app, csv(100_000)).await;
    assert_eq!(status, 201, "{ds}");
    assert_eq!(ds["features"], 99_999);
    let mut dup = csv(50_000);
    dup.splice(0..0, b"c49999,".iter().copied());
    let (status, problem) = post_csv(&app, dup).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        detail(&problem).contains("duplicate column name 'c49999'"),
        "{problem}"
    );
    app.finish().await;
}

/// List pages carry the inventory summary and never the tensors (nor read them: the
/// inventory column is emptied behind the store's back and the list still knows the count);
/// the single GET pages through the tensors.
async fn inventories_are_paginated(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let (status, model) = post_model(&app, float_tensors_file(25, 2)).await;
    assert_eq!(status, 201, "{model}");
    let id = model["id"].as_str().unwrap().to_string();
    assert_eq!(model["tensors"].as_array().map(Vec::len), Some(25));
    assert!(model.get("tensors_next_offset").is_none(), "{model}");

    let (status, page) = app
        .get_json(&format!("/v1/models/{id}?tensors_limit=10"))
        .await;
    assert_eq!(status, 200, "{page}");
    let names: Vec<&str> = page["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "w0");
    assert_eq!(page["tensors_next_offset"], 10);
    assert_eq!(page["n_tensors"], 25);
    let (_, last) = app
        .get_json(&format!(
            "/v1/models/{id}?tensors_offset=20&tensors_limit=10"
        ))
        .await;
    assert_eq!(last["tensors"].as_array().map(Vec::len), Some(5));
    assert_eq!(last["tensors"][0]["name"], "w20");
    assert!(last.get("tensors_next_offset").is_none(), "{last}");
    let (status, problem) = app
        .get_json(&format!("/v1/models/{id}?tensors_limit=0"))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "tensors_limit");

    empty_inventory_column(&app, backend, &id).await;
    let (_, list) = app.get_json("/v1/models").await;
    let item = &list["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert!(item.get("tensors").is_none(), "{item}");
    assert_eq!(item["n_tensors"], 25, "{item}");
    assert_eq!(item["dtype_histogram"]["F32"], 50, "{item}");
    assert_eq!(item["n_params"], 50);
    app.finish().await;
}

/// Replace a model's stored inventory by one without tensors, with SQL the API never runs.
async fn empty_inventory_column(app: &TestApp, backend: Backend, id: &str) {
    let url = &app.storage.database_url;
    let empty =
        r#"{"tensors":[],"n_params":0,"dtype_histogram":{},"metadata":{},"header_bytes":0}"#;
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query("UPDATE models SET inventory = ? WHERE id = ?")
                .bind(empty)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query("UPDATE models SET inventory = $1::jsonb WHERE id = $2::uuid")
                .bind(empty)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

/// An analyze result keeps every tensor's summary but histograms only for the largest
/// tensors, within a fixed budget of bins.
async fn analyze_results_are_bounded(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    // 100 tensors; w99 is the largest (and w0 the smallest) once lengths differ.
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for i in 0..100usize {
        let start = data.len();
        for k in 0..(i + 1) {
            data.extend_from_slice(&(k as f32).to_le_bytes());
        }
        header.insert(
            format!("w{i}"),
            json!({"dtype": "F32", "shape": [i + 1], "data_offsets": [start, data.len()]}),
        );
    }
    let (status, model) =
        post_model(&app, with_header(&Value::Object(header).to_string(), &data)).await;
    assert_eq!(status, 201, "{model}");
    let done = app
        .run_job(
            json!({"kind": "analyze", "spec": {"model_id": model["id"], "histogram_bins": 4096}}),
        )
        .await;
    let result = &done["result"];
    let tensors = result["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), 100);
    let with_histogram: Vec<&str> = tensors
        .iter()
        .filter(|t| t["stats"]["histogram"].is_object())
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    // 2^18 bins / 4096 per histogram = 64 histograms: w36 … w99.
    assert_eq!(with_histogram.len(), 64, "{with_histogram:?}");
    assert!(with_histogram.contains(&"w99") && !with_histogram.contains(&"w35"));
    assert_eq!(result["histograms_omitted"], 36);
    let w0 = &tensors[0];
    assert_eq!(w0["name"], "w0");
    assert!(
        w0["stats"]["mean"].is_number() && w0["note"].is_string(),
        "{w0}"
    );
    app.finish().await;
}

on_both_backends!(
    too_many_tensors_are_refused,
    nul_characters_are_refused,
    wide_csv_headers,
    inventories_are_paginated,
    analyze_results_are_bounded,
);

//! The artifact store against a real S3-compatible server (moto, see `common::s3`), and the
//! local store beside it where the behaviour is shared: objects published by multipart upload
//! read back whole and by ranges, folders, deletes, the bounded cache of remote objects with
//! least-recently-used eviction, the readiness probe (a missing bucket, an unwritable local
//! store), refusing to start without credentials, a network failure surfacing as an error
//! and the store recovering; over HTTP on both backends: upload → quantize → download with
//! the S3 store, `/readyz` failing on a missing bucket, and a job whose inputs cannot be
//! fetched retried, not lost, once the network is back; and the deployment's topology as
//! processes: an API and two worker processes on Postgres sharing one bucket.
mod common;

use common::s3::S3Server;
use common::{free_port, spawn_app, Backend, Proc, TestOptions};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;
use whittle::artifacts::{ArtifactError, ArtifactStore, Durability, RemoteOptions};

fn remote(s3: &S3Server) -> RemoteOptions {
    s3.config().remote_options().unwrap()
}

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn collect(store: &ArtifactStore, key: &str, range: std::ops::Range<u64>) -> Vec<u8> {
    use futures::TryStreamExt;
    let object = store.open_object(key).await.unwrap();
    let chunks: Vec<bytes::Bytes> = object.stream(range).try_collect().await.unwrap();
    chunks.concat()
}

/// Publishing, reading (whole, by ranges, through a local path), folders and deletes behave
/// the same on a local directory and on S3.
async fn round_trip(store: &ArtifactStore, scratch: &Path) {
    // 20 MiB: three multipart parts on S3.
    let data = pattern(20 << 20, 7);
    let src = scratch.join("src.bin");
    std::fs::write(&src, &data).unwrap();
    let written = store
        .publish(&src, "models/t/m.safetensors", Durability::Durable)
        .await
        .unwrap();
    assert_eq!(written, data.len() as u64);
    let object = store.open_object("models/t/m.safetensors").await.unwrap();
    assert_eq!(object.size, data.len() as u64);
    let whole = collect(store, "models/t/m.safetensors", 0..data.len() as u64).await;
    assert!(whole == data, "whole object differs");
    let (a, b) = (8 * 1024 * 1024 - 5, 8 * 1024 * 1024 + 77);
    let part = collect(store, "models/t/m.safetensors", a..b).await;
    assert_eq!(part, data[a as usize..b as usize]);
    let local = store.local_path("models/t/m.safetensors").await.unwrap();
    assert_eq!(
        Sha256::digest(std::fs::read(&local).unwrap()),
        Sha256::digest(&data)
    );
    assert!(matches!(
        store.open_object("models/t/none.safetensors").await,
        Err(ArtifactError::NotFound(_))
    ));
    assert!(matches!(
        store.local_path("models/t/none.safetensors").await,
        Err(ArtifactError::NotFound(_))
    ));

    // A folder: files under a prefix, fetched as one local directory.
    let files = vec![
        "config.json".to_string(),
        "sub/model.safetensors".to_string(),
    ];
    for (i, f) in files.iter().enumerate() {
        let p = scratch.join(format!("f{i}"));
        std::fs::write(&p, format!("file {f}")).unwrap();
        store
            .publish(&p, &format!("models/t/folder/{f}"), Durability::Eventual)
            .await
            .unwrap();
    }
    let dir = store.local_dir("models/t/folder/", &files).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/model.safetensors")).unwrap(),
        "file sub/model.safetensors"
    );
    store
        .delete_folder("models/t/folder/", &files)
        .await
        .unwrap();
    assert!(matches!(
        store.open_object("models/t/folder/config.json").await,
        Err(ArtifactError::NotFound(_))
    ));
    store.delete("models/t/m.safetensors").await.unwrap();
    store.delete("models/t/m.safetensors").await.unwrap(); // missing is fine
    assert!(matches!(
        store.open_object("models/t/m.safetensors").await,
        Err(ArtifactError::NotFound(_))
    ));
    assert_eq!(store.probe().await.error, None);
}

#[tokio::test]
async fn local_store_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::open(
        &dir.path().join("a").display().to_string(),
        &dir.path().join("s"),
    )
    .unwrap();
    round_trip(&store, dir.path()).await;
}

#[tokio::test]
async fn s3_store_round_trip() {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    s3.create_bucket("roundtrip").await;
    let dir = tempfile::tempdir().unwrap();
    let store =
        ArtifactStore::open_with("s3://roundtrip/some/prefix", dir.path(), &remote(&s3)).unwrap();
    round_trip(&store, dir.path()).await;
    // The prefix is where objects went.
    let plain = ArtifactStore::open_with("s3://roundtrip", &dir.path().join("plain"), &remote(&s3))
        .unwrap();
    let src = dir.path().join("x");
    std::fs::write(&src, b"under the prefix").unwrap();
    store
        .publish(&src, "datasets/x.csv", Durability::Durable)
        .await
        .unwrap();
    assert_eq!(
        collect(&plain, "some/prefix/datasets/x.csv", 0..100).await,
        b"under the prefix"
    );
}

#[tokio::test]
async fn s3_cache_is_bounded_least_recently_used_first() {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    s3.create_bucket("cache").await;
    let dir = tempfile::tempdir().unwrap();
    let options = RemoteOptions {
        cache_bytes: 5 << 20,
        ..remote(&s3)
    };
    let scratch = dir.path().join("s");
    let store = ArtifactStore::open_with("s3://cache", &scratch, &options).unwrap();
    for (i, seed) in [1u8, 2, 3, 4].iter().enumerate() {
        let p = dir.path().join(format!("o{i}"));
        std::fs::write(&p, pattern(2 << 20, *seed)).unwrap();
        store
            .publish(&p, &format!("o/{i}"), Durability::Durable)
            .await
            .unwrap();
    }
    let cache = scratch.join("cache");
    let cached = |key: &str| cache.join(key.replace('/', "__")).exists();
    let cache_bytes = || -> u64 {
        std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    };
    store.local_path("o/0").await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.local_path("o/1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Using o/0 again makes o/1 the least recently used.
    store.local_path("o/0").await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let p2 = store.local_path("o/2").await.unwrap();
    assert!(
        cache_bytes() <= 5 << 20,
        "cache holds {} bytes",
        cache_bytes()
    );
    assert!(cached("o/0") && cached("o/2") && !cached("o/1"));
    assert_eq!(std::fs::read(&p2).unwrap(), pattern(2 << 20, 3));
    // An evicted object is fetched again on its next use.
    let p1 = store.local_path("o/1").await.unwrap();
    assert_eq!(std::fs::read(&p1).unwrap(), pattern(2 << 20, 2));
    assert!(cache_bytes() <= 5 << 20);
    // An object larger than the whole bound is still served (and the only one kept).
    let big = dir.path().join("big");
    std::fs::write(&big, pattern(6 << 20, 9)).unwrap();
    store
        .publish(&big, "o/big", Durability::Durable)
        .await
        .unwrap();
    let pb = store.local_path("o/big").await.unwrap();
    assert_eq!(std::fs::read(&pb).unwrap(), pattern(6 << 20, 9));
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
}

#[tokio::test]
async fn s3_probe_fails_on_a_missing_bucket_and_network_errors_surface() {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let missing = ArtifactStore::open_with("s3://no-such-bucket", dir.path(), &remote(&s3))
        .expect("opening does not contact the server");
    let health = missing.probe().await;
    assert!(health.error.is_some(), "a missing bucket is not writable");
    assert!(missing.health().unwrap().error.is_some());

    s3.create_bucket("flaky").await;
    let store =
        ArtifactStore::open_with("s3://flaky", &dir.path().join("f"), &remote(&s3)).unwrap();
    assert_eq!(store.probe().await.error, None);
    s3.set_up(false);
    let started = std::time::Instant::now();
    let down = store.probe().await;
    assert!(down.error.is_some(), "the network is down");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "retries are bounded by the configured timeout"
    );
    s3.set_up(true);
    assert_eq!(store.probe().await.error, None, "recovers with the network");
}

#[tokio::test]
async fn s3_without_credentials_refuses_to_open() {
    if std::env::vars().any(|(k, _)| {
        matches!(
            k.as_str(),
            "AWS_ACCESS_KEY_ID"
                | "AWS_SECRET_ACCESS_KEY"
                | "AWS_WEB_IDENTITY_TOKEN_FILE"
                | "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
                | "AWS_CONTAINER_CREDENTIALS_FULL_URI"
                | "AWS_SKIP_SIGNATURE"
        )
    }) {
        eprintln!("skipping: this environment carries AWS credentials");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let options = RemoteOptions {
        endpoint: Some("http://127.0.0.1:9".into()),
        allow_http: true,
        ..Default::default()
    };
    let err = ArtifactStore::open_with("s3://bucket", dir.path(), &options)
        .err()
        .expect("no credential source: refused");
    let message = err.to_string();
    assert!(
        message.contains("AWS_ACCESS_KEY_ID") && message.contains("WHITTLE_S3_INSTANCE_METADATA"),
        "{message}"
    );
    // Opting in to the instance-metadata endpoint opens (credentials are looked up lazily).
    let imds = RemoteOptions {
        instance_metadata: true,
        ..options
    };
    assert!(ArtifactStore::open_with("s3://bucket", dir.path(), &imds).is_ok());
    // A secret without its key id is a configuration error too, not a silent fallback.
    let half = RemoteOptions {
        secret_access_key: Some("s".into()),
        ..Default::default()
    };
    assert!(ArtifactStore::open_with("s3://bucket", dir.path(), &half).is_err());
}

#[tokio::test]
async fn local_store_that_cannot_take_writes_fails_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a");
    let store = ArtifactStore::open(&root.display().to_string(), &dir.path().join("s")).unwrap();
    assert_eq!(store.probe().await.error, None);
    // The probe writes under `_whittle/`: a plain file there stands in for a directory the
    // server's user may not write (tests run as root, which permissions do not stop).
    std::fs::remove_dir_all(root.join("_whittle")).ok();
    std::fs::write(root.join("_whittle"), b"in the way").unwrap();
    assert!(store.probe().await.error.is_some());
    std::fs::remove_file(root.join("_whittle")).unwrap();
    assert_eq!(store.probe().await.error, None);
}

/// A one-layer f32 model: 64×256 N(0, 0.02²)-ish values.
fn model_bytes() -> Vec<u8> {
    let (rows, cols) = (64usize, 256usize);
    let header = format!(
        "{{\"layer.weight\":{{\"dtype\":\"F32\",\"shape\":[{rows},{cols}],\"data_offsets\":[0,{}]}}}}",
        rows * cols * 4
    );
    let mut header = header.into_bytes();
    header.resize(header.len().div_ceil(8) * 8, b' ');
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    for i in 0..rows * cols {
        let v = ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.04;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

async fn quantize_on_s3(backend: Backend) {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    s3.create_bucket("jobs").await;
    let opts = TestOptions {
        artifacts: Some("s3://jobs/whittle".into()),
        s3: s3.config(),
        ..Default::default()
    };
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let (status, ready) = app.get_json("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready["artifacts_checked_at"].is_string(), "{ready}");
    let raw = model_bytes();
    let model = app.upload_model("on-s3", raw.clone()).await;
    assert_eq!(model["sha256"], hex::encode(Sha256::digest(&raw)));
    assert_eq!(app.download_model(model["id"].as_str().unwrap()).await, raw);
    let done = app
        .run_job(json!({"kind": "quantize", "spec": {"model_id": model["id"],
            "scheme": {"bits": 8, "granularity": "channel"}}}))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let out = done["output_model_id"].as_str().unwrap();
    let bytes = app.download_model(out).await;
    let (_, meta) = app.get_json(&format!("/v1/models/{out}")).await;
    assert_eq!(meta["sha256"], hex::encode(Sha256::digest(&bytes)));
    let parsed = safetensors::SafeTensors::deserialize(&bytes).expect("a safetensors file");
    assert!(parsed.names().iter().any(|n| n.starts_with("layer.weight")));

    // The network goes down: a job needing the model cannot fetch it; once the network is
    // back the queue's retry runs it (the job is not lost). A fresh model, so nothing is
    // cached yet.
    let second = app.upload_model("on-s3-2", model_bytes()).await;
    s3.set_up(false);
    let job = app
        .submit(
            json!({"kind": "quantize", "spec": {"model_id": second["id"],
            "scheme": {"bits": 4, "granularity": "group", "group_size": 64}}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, j) = app.get_json(&format!("/v1/jobs/{id}")).await;
        if j["attempt"].as_i64().unwrap_or(0) >= 1 && j["state"] == "queued" {
            assert!(
                j["error"].is_string(),
                "the failed attempt's error is kept: {j}"
            );
            break;
        }
        assert_ne!(j["state"], "failed", "a network error is not final: {j}");
        assert!(
            std::time::Instant::now() < deadline,
            "no retry scheduled: {j}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s3.set_up(true);
    let done = app.wait_job(&id, Duration::from_secs(60)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(done["attempt"].as_i64().unwrap() >= 2, "{done}");
    app.finish().await;
}

async fn readyz_fails_on_a_missing_bucket(backend: Backend) {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    let opts = TestOptions {
        artifacts: Some("s3://never-created".into()),
        s3: s3.config(),
        ..Default::default()
    };
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let resp = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let problem: Value = resp.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("artifact store is not writable"),
        "{problem}"
    );
    // Liveness is not readiness.
    assert_eq!(app.get_json("/healthz").await.0, 200);
    // Creating the bucket is picked up by the next probe; a fresh server probes at start.
    s3.create_bucket("never-created").await;
    let mut app = app;
    app.restart(TestOptions {
        artifacts: Some("s3://never-created".into()),
        s3: s3.config(),
        ..Default::default()
    })
    .await;
    assert_eq!(app.get_json("/readyz").await.0, 200);
    app.finish().await;
}

/// The deployment's topology as processes: `whittle serve --workers 0` and two `whittle
/// worker` processes on one Postgres database sharing one bucket, configured only by the
/// `AWS_*` variables (instance metadata pinned to loopback): upload, quantize, download.
#[tokio::test]
async fn api_and_two_worker_processes_share_a_bucket() {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some((db, db_name)) = common::fresh_database(Backend::Postgres, dir.path()).await else {
        return;
    };
    s3.create_bucket("shared").await;
    let port = free_port();
    let spawn = |args: &[&str], scratch: &str| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_whittle"));
        c.args(args)
            .env("DATABASE_URL", &db)
            .env("WHITTLE_ARTIFACTS", "s3://shared/deploy")
            .env("WHITTLE_SCRATCH_DIR", dir.path().join(scratch))
            .env("WHITTLE_BIND", format!("127.0.0.1:{port}"))
            .env("WHITTLE_POLL_MS", "50")
            .env("WHITTLE_COMPUTE_THREADS", "1")
            .env("RUST_LOG", "warn");
        for (k, v) in s3.env() {
            c.env(k, v);
        }
        Proc(c.spawn().expect("start whittle"))
    };
    // Migrate once first so the three processes do not race to.
    let migrated = std::process::Command::new(env!("CARGO_BIN_EXE_whittle"))
        .arg("migrate")
        .env("DATABASE_URL", &db)
        .env("WHITTLE_ARTIFACTS", "s3://shared/deploy")
        .env("WHITTLE_SCRATCH_DIR", dir.path().join("m"))
        .envs(s3.env())
        .status()
        .unwrap();
    assert!(migrated.success());
    let _api = spawn(&["serve", "--workers", "0"], "api");
    let _w1 = spawn(&["worker", "--workers", "1"], "w1");
    let _w2 = spawn(&["worker", "--workers", "1"], "w2");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the API never became ready");
    let raw = model_bytes();
    let model: Value = client
        .post(format!("{base}/v1/models?name=shared"))
        .header("content-type", "application/octet-stream")
        .body(raw.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(model["id"].is_string(), "{model}");
    let mut jobs = Vec::new();
    for bits in [8, 4] {
        let scheme = if bits == 8 {
            json!({"bits": 8, "granularity": "channel"})
        } else {
            json!({"bits": 4, "granularity": "group", "group_size": 64})
        };
        let job: Value = client
            .post(format!("{base}/v1/jobs"))
            .json(&json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": scheme}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jobs.push(job["id"].as_str().unwrap().to_string());
    }
    for id in &jobs {
        let done: Value = client
            .get(format!("{base}/v1/jobs/{id}?wait=60"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(done["state"], "succeeded", "{done}");
        let out = done["output_model_id"].as_str().unwrap();
        let resp = client
            .get(format!("{base}/v1/models/{out}/content"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let bytes = resp.bytes().await.unwrap();
        safetensors::SafeTensors::deserialize(&bytes).expect("a safetensors file");
    }
    drop((_api, _w1, _w2));
    if let Some(name) = db_name {
        common::drop_database(&name).await;
    }
}

on_both_backends!(quantize_on_s3, readyz_fails_on_a_missing_bucket,);

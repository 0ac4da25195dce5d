//! The service spine over real HTTP, on SQLite and Postgres: uploads, analyze, idempotency,
//! cancel, rescue, retries, corrupt input, tenancy.
mod common;

use async_trait::async_trait;
use common::{fixture, spawn_app, Backend, TestOptions};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;
use whittle::jobs::{Executor, Executors, JobContext, JobError, JobOutput};
use whittle::store::{NewJob, ANONYMOUS_TENANT};

/// A safetensors file built by hand (independent of the code under test).
fn safetensors_bytes(
    tensors: &[(&str, &str, Vec<usize>, Vec<u8>)],
    metadata: Option<Value>,
) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if let Some(m) = metadata {
        header.insert("__metadata__".into(), m);
    }
    let mut offset = 0usize;
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        header.insert(
            (*name).into(),
            json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes.len()]}),
        );
        offset += bytes.len();
        data.extend_from_slice(bytes);
    }
    let mut h = serde_json::to_vec(&Value::Object(header)).unwrap();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(data);
    out
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// numpy's default percentile (linear interpolation between closest ranks).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

async fn upload_then_analyze(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("digits-mlp", fixture("digits_mlp.safetensors"))
        .await;
    assert_eq!(model["n_params"], 85002);
    assert_eq!(model["n_tensors"], 6);
    let names: Vec<&str> = model["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"layers.0.weight") && names.contains(&"layers.2.bias"),
        "{names:?}"
    );
    assert_eq!(model["dtype_histogram"]["F32"], 85002);
    assert!(
        model["architecture"].is_object(),
        "the digits MLP is detected: {model}"
    );
    let id = model["id"].as_str().unwrap();

    let job = app
        .submit(json!({"kind": "analyze", "spec": {"model_id": id}}))
        .await;
    assert_eq!(job["state"], "queued");
    assert_eq!(job["spec"]["histogram_bins"], 64, "defaults are filled in");
    let done = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["progress"], 1.0);
    assert_eq!(done["attempt"], 1);

    // Independent computation of layers.1.weight's statistics from the raw file.
    let raw = fixture("digits_mlp.safetensors");
    let n = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&raw[8..8 + n]).unwrap();
    let offs = header["layers.1.weight"]["data_offsets"]
        .as_array()
        .unwrap();
    let (a, b) = (
        offs[0].as_u64().unwrap() as usize,
        offs[1].as_u64().unwrap() as usize,
    );
    let vals: Vec<f64> = raw[8 + n + a..8 + n + b]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
        .collect();
    let count = vals.len() as f64;
    let mean = vals.iter().sum::<f64>() / count;
    let std = (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count).sqrt();
    let mut sorted = vals.clone();
    sorted.sort_by(f64::total_cmp);
    let t = done["result"]["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "layers.1.weight")
        .unwrap();
    let s = &t["stats"];
    assert!(close(s["mean"].as_f64().unwrap(), mean, 1e-6), "{s}");
    assert!(close(s["std"].as_f64().unwrap(), std, 1e-6), "{s}");
    assert_eq!(s["min"].as_f64().unwrap(), sorted[0]);
    assert_eq!(s["max"].as_f64().unwrap(), *sorted.last().unwrap());
    assert!(
        close(s["p0_1"].as_f64().unwrap(), percentile(&sorted, 0.1), 1e-6),
        "{s}"
    );
    assert!(
        close(
            s["p99_9"].as_f64().unwrap(),
            percentile(&sorted, 99.9),
            1e-6
        ),
        "{s}"
    );
    let abs_max = sorted[0].abs().max(sorted.last().unwrap().abs());
    assert_eq!(s["abs_max"].as_f64().unwrap(), abs_max);
    let zeros = vals.iter().filter(|v| **v == 0.0).count() as f64 / count;
    assert!(close(s["zero_fraction"].as_f64().unwrap(), zeros, 1e-12));
    let hist: u64 = s["histogram"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(hist, vals.len() as u64);
    assert_eq!(done["result"]["n_tensors"], 6);

    // Download returns the same bytes with a sha256 ETag.
    let resp = app
        .client
        .get(app.url(&format!("/v1/models/{id}/content")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-length"],
        raw.len().to_string().as_str()
    );
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", model["sha256"].as_str().unwrap()));
    assert_eq!(resp.bytes().await.unwrap().to_vec(), raw);
    let resp = app
        .client
        .get(app.url(&format!("/v1/models/{id}/content")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    app.finish().await;
}

async fn analyze_reports_integer_and_half_tensors(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    // f16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800, 0 = 0x0000
    let half: Vec<u8> = [0x3C00u16, 0xC000, 0x3800, 0x0000]
        .iter()
        .flat_map(|h| h.to_le_bytes())
        .collect();
    let bytes = safetensors_bytes(
        &[
            ("h", "F16", vec![2, 2], half),
            (
                "ids",
                "I64",
                vec![2],
                [7i64, 9].iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
        ],
        None,
    );
    let model = app.upload_model("mixed", bytes).await;
    let job = app
        .submit(json!({"kind": "analyze", "spec": {"model_id": model["id"], "histogram_bins": 4}}))
        .await;
    let done = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let tensors = done["result"]["tensors"].as_array().unwrap();
    let h = &tensors[0]["stats"];
    assert_eq!(h["min"], -2.0);
    assert_eq!(h["max"], 1.0);
    assert_eq!(h["mean"], -0.125);
    assert_eq!(h["zero_fraction"], 0.25);
    assert!(tensors[1]["stats"].is_null());
    assert_eq!(tensors[1]["dtype"], "I64");
    app.finish().await;
}

async fn idempotency_key_under_concurrency(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let model = app
        .upload_model("m", fixture("digits_mlp.safetensors"))
        .await;
    let body = json!({"kind": "analyze", "spec": {"model_id": model["id"]}});
    let mut handles = Vec::new();
    for _ in 0..16 {
        let client = app.client.clone();
        let url = app.url("/v1/jobs");
        let body = body.clone();
        handles.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .header("Idempotency-Key", "same-key")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "all 16 requests got the same job");
    let (_, page) = app.get_json("/v1/jobs?kind=analyze").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    // Same key, different request → 409.
    let r = app
        .client
        .post(app.url("/v1/jobs"))
        .header("Idempotency-Key", "same-key")
        .json(&json!({"kind": "analyze", "spec": {"model_id": model["id"], "histogram_bins": 8}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    app.finish().await;
}

/// A job that runs until it is told to stop.
struct Hang;

#[async_trait]
impl Executor for Hang {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        loop {
            ctx.check_stop()?;
            ctx.progress(0.5, "hanging");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A job that always fails with a retryable error.
struct AlwaysFail;

#[async_trait]
impl Executor for AlwaysFail {
    async fn run(&self, _ctx: &JobContext) -> Result<JobOutput, JobError> {
        Err(JobError::Transient("deliberate failure".into()))
    }
}

/// A job that panics.
struct Panics;

#[async_trait]
impl Executor for Panics {
    async fn run(&self, ctx: &JobContext) -> Result<JobOutput, JobError> {
        ctx.compute
            .run(|| -> u8 { panic!("kernel exploded") })
            .await?;
        Ok(JobOutput::result(json!({})))
    }
}

fn test_executors() -> Executors {
    let mut e = Executors::standard();
    e.register("test_hang", Hang);
    e.register("test_fail", AlwaysFail);
    e.register("test_panic", Panics);
    e
}

async fn insert_test_job(app: &common::TestApp, kind: &str, max_attempts: i32) -> String {
    let id = Uuid::now_v7();
    app.store
        .insert_job(&NewJob {
            id,
            tenant_id: ANONYMOUS_TENANT,
            kind: kind.into(),
            spec: json!({}),
            priority: 0,
            max_attempts,
            idempotency_key: None,
            parent_job_id: None,
            scheduled_at: None,
        })
        .await
        .unwrap();
    id.to_string()
}

async fn cancel_queued_and_running(backend: Backend) {
    // Queued: no workers, so the job stays queued; once canceled it never runs.
    let Some(app) = spawn_app(
        backend,
        TestOptions {
            workers: 0,
            executors: test_executors(),
            ..Default::default()
        },
    )
    .await
    else {
        return;
    };
    let queued = insert_test_job(&app, "test_hang", 3).await;
    let job = app.cancel(&queued).await;
    assert_eq!(job["state"], "canceled");
    assert_eq!(job["attempt"], 0, "a canceled queued job never ran");
    // Canceling again is a conflict.
    let r = app
        .client
        .post(app.url(&format!("/v1/jobs/{queued}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let storage = app.storage.clone();
    app.finish().await;
    let _ = storage;

    // Running: the worker sees the cancel within one heartbeat and does not retry.
    let Some(app) = spawn_app(
        backend,
        TestOptions {
            executors: test_executors(),
            ..Default::default()
        },
    )
    .await
    else {
        return;
    };
    let running = insert_test_job(&app, "test_hang", 3).await;
    app.wait_state(&running, "running", Duration::from_secs(10))
        .await;
    app.cancel(&running).await;
    let job = app.wait_job(&running, Duration::from_secs(5)).await;
    assert_eq!(job["state"], "canceled", "{job}");
    assert_eq!(job["attempt"], 1);
    app.finish().await;
}

async fn always_failing_job_ends_failed(backend: Backend) {
    let Some(app) = spawn_app(
        backend,
        TestOptions {
            executors: test_executors(),
            ..Default::default()
        },
    )
    .await
    else {
        return;
    };
    let id = insert_test_job(&app, "test_fail", 2).await;
    let panics = insert_test_job(&app, "test_panic", 1).await;
    // Attempt 1 fails, the retry waits ~2 s (attempt⁴+1), attempt 2 fails for good.
    let job = app.wait_job(&id, Duration::from_secs(20)).await;
    assert_eq!(job["state"], "failed");
    assert_eq!(job["attempt"], 2);
    let errors = job["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "every attempt's error is kept: {job}");
    assert_eq!(errors[0]["attempt"], 1);
    assert_eq!(job["error"], "deliberate failure");
    let job = app.wait_job(&panics, Duration::from_secs(10)).await;
    assert_eq!(job["state"], "failed");
    assert!(
        job["error"].as_str().unwrap().contains("kernel exploded"),
        "{job}"
    );
    let (status, _) = app.get_json("/healthz").await;
    assert_eq!(status, 200);
    app.finish().await;
}

async fn dead_worker_lease_is_rescued(backend: Backend) {
    // No in-process worker at first: a "dead" worker claims the job and never heartbeats.
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let model = app
        .upload_model("m", fixture("digits_mlp.safetensors"))
        .await;
    let job = app
        .submit(json!({"kind": "analyze", "spec": {"model_id": model["id"]}}))
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    let claimed = app
        .store
        .claim_jobs(
            "dead-worker",
            &["analyze".to_string()],
            1,
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let stale = claimed[0].fence().unwrap();

    // A live worker process joins: its rescuer returns the job, it runs on attempt 2.
    let (store, artifacts) = whittle::app::open_storage(&app.storage).await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let handle = whittle::app::start_workers(
        store,
        artifacts,
        &common::fast_worker_config(1),
        Executors::standard(),
        std::sync::Arc::new(tokio::sync::Notify::new()),
        shutdown.clone(),
    )
    .unwrap()
    .unwrap();
    let done = app.wait_job(&id, Duration::from_secs(30)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["attempt"], 2);
    assert!(done["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("lease expired"));

    // The stale owner's late completion changes nothing.
    let wrote = app
        .store
        .complete_job(&stale, &json!({"stale": true}), None)
        .await
        .unwrap();
    assert!(!wrote);
    let (_, after) = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(after["result"], done["result"]);
    shutdown.cancel();
    handle.await.unwrap();
    app.finish().await;
}

async fn corrupt_models_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let good = safetensors_bytes(&[("w", "F32", vec![2], f32_bytes(&[1.0, 2.0]))], None);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() - 3].to_vec()),
        ("header length 2^60", {
            let mut b = good.clone();
            b[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
            b
        }),
        ("non-JSON header", {
            let mut b = 8u64.to_le_bytes().to_vec();
            b.extend(b"not json");
            b
        }),
        ("7 bytes", vec![1, 2, 3, 4, 5, 6, 7]),
    ];
    let overlap = {
        let h = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
        let mut b = (h.len() as u64).to_le_bytes().to_vec();
        b.extend(h.iter());
        b.extend([0u8; 12]);
        b
    };
    cases.push(("overlapping offsets", overlap));
    let unknown_dtype = {
        let h = br#"{"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}}"#;
        let mut b = (h.len() as u64).to_le_bytes().to_vec();
        b.extend(h.iter());
        b.extend([0u8; 8]);
        b
    };
    cases.push(("unknown dtype", unknown_dtype));
    let overflow = {
        let h = br#"{"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}}"#;
        let mut b = (h.len() as u64).to_le_bytes().to_vec();
        b.extend(h.iter());
        b.extend([0u8; 8]);
        b
    };
    cases.push(("shape x dtype overflow", overflow));
    for (what, bytes) in cases {
        let r = app
            .client
            .post(app.url("/v1/models?name=bad"))
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!((400..500).contains(&status), "{what}: status {status}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        let p: Value = r.json().await.unwrap();
        assert!(!p["detail"].as_str().unwrap().is_empty(), "{what}: {p}");
    }
    // Pickles and zips: 415 with advice.
    let r = app
        .client
        .post(app.url("/v1/models?name=model.pt"))
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = app
        .client
        .post(app.url("/v1/models?name=x"))
        .body(vec![0x80, 0x02, b'c', b'x'])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let p: Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("safetensors"));
    let r = app
        .client
        .post(app.url("/v1/models?name=x"))
        .body(b"PK\x03\x04rest".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // Still healthy, and nothing was stored.
    assert_eq!(app.get_json("/healthz").await.0, 200);
    let (_, page) = app.get_json("/v1/models").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    app.finish().await;
}

async fn bad_requests_name_the_field(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let post = |body: Value| app.client.post(app.url("/v1/jobs")).json(&body).send();
    let r = post(json!({"kind": "sleep", "spec": {}})).await.unwrap();
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "kind");
    let r =
        post(json!({"kind": "analyze", "spec": {"model_id": Uuid::now_v7()}, "priority": 1000}))
            .await
            .unwrap();
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"priority") && fields.contains(&"spec.model_id"),
        "{p}"
    );
    let r = post(json!({"kind": "analyze", "spec": {"model_id": "not-a-uuid"}}))
        .await
        .unwrap();
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "spec.model_id");
    let r = app
        .client
        .post(app.url("/v1/jobs"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .get(app.url("/v1/jobs?limit=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .client
        .get(app.url("/v1/jobs?state=done"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "state", "{p}");
    let r = app
        .client
        .get(app.url("/v1/jobs/not-an-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .client
        .get(app.url(&format!("/v1/jobs/{}", Uuid::now_v7())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // JSON bodies over the cap → 413.
    let big = json!({"kind": "analyze", "spec": {"model_id": Uuid::now_v7(), "include": vec!["x".repeat(1000); 2000]}});
    let r = post(big).await.unwrap();
    assert_eq!(r.status(), 413);
    app.finish().await;
}

async fn tenants_are_isolated(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let key_a = whittle::app::create_api_key(&app.store, "team-a")
        .await
        .unwrap();
    let key_b = whittle::app::create_api_key(&app.store, "team-b")
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/v1/models?name=a"))
        .bearer_auth(&key_a)
        .body(fixture("digits_mlp.safetensors"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let model: Value = r.json().await.unwrap();
    let id = model["id"].as_str().unwrap();
    assert_eq!(
        app.get_status_as(&format!("/v1/models/{id}"), &key_b).await,
        404,
        "another tenant's model is a 404"
    );
    assert_eq!(
        app.get_status_as(&format!("/v1/models/{id}"), &key_a).await,
        200
    );
    let r = app
        .client
        .post(app.url("/v1/jobs"))
        .bearer_auth(&key_b)
        .json(&json!({"kind": "analyze", "spec": {"model_id": id}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "tenant b cannot analyze tenant a's model");
    assert_eq!(app.get_status_as("/v1/models", "wh_wrong").await, 401);
    // Once keys exist, anonymous requests are refused (after the short key cache).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = app.client.get(app.url("/v1/models")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // A revoked key (named by its prefix, as `whittle apikey revoke` takes it) is refused at once.
    let revoked = whittle::app::revoke_api_key(&app.store, &key_b[..10])
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(app.get_status_as("/v1/models", &key_b).await, 401);
    assert_eq!(
        app.get_status_as("/v1/models", &key_a).await,
        200,
        "other keys keep working"
    );
    assert!(whittle::app::revoke_api_key(&app.store, "wh_nope")
        .await
        .is_err());
    app.finish().await;
}

async fn datasets_upload_and_errors(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let ds = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    assert_eq!(ds["rows"], 1437);
    assert_eq!(ds["features"], 64);
    assert_eq!(ds["task"], "classification");
    assert_eq!(ds["classes"].as_array().unwrap().len(), 10);
    let r = app
        .client
        .post(app.url("/v1/datasets?name=bad&target=y"))
        .header("content-type", "text/csv")
        .body("a,b,y\n1,2,0\n1,oops,1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains('3') && detail.contains('b'),
        "row and column named: {p}"
    );
    let r = app
        .client
        .post(app.url("/v1/datasets?name=bad&target=nope"))
        .body("a,y\n1,0\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .client
        .post(app.url("/v1/datasets?name=empty"))
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let (_, page) = app.get_json("/v1/datasets").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let r = app
        .client
        .delete(app.url(&format!("/v1/datasets/{}", ds["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    app.finish().await;
}

async fn system_endpoints(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let (status, ready) = app.get_json("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(
        ready["database"],
        if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("whittle_queue_depth"), "{text}");
    assert!(text.contains("whittle_jobs{"), "{text}");
    let r = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("swagger-ui-bundle.js"));
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
    app.finish().await;
}

/// Workers that run none of a kind make admission refuse it by name; the job is not queued.
async fn a_kind_no_running_worker_executes_is_refused(backend: Backend) {
    let mut executors = Executors::default();
    executors.register("test_fail", AlwaysFail);
    let opts = TestOptions {
        executors,
        ..TestOptions::default()
    };
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    // The worker records its presence as it starts.
    let start = std::time::Instant::now();
    while app
        .store
        .live_worker_kinds(whittle::jobs::runner::live_since())
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no worker presence"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let model = app
        .upload_model("digits", fixture("digits_mlp.safetensors"))
        .await;
    let body = json!({"kind": "analyze", "spec": {"model_id": model["id"]}});
    app.assert_rejected(&body, "kind").await;
    let (_, jobs) = app.get_json("/v1/jobs").await;
    assert_eq!(jobs["items"].as_array().map(Vec::len), Some(0), "{jobs}");
    app.finish().await;
}

on_both_backends!(
    a_kind_no_running_worker_executes_is_refused,
    upload_then_analyze,
    analyze_reports_integer_and_half_tensors,
    idempotency_key_under_concurrency,
    cancel_queued_and_running,
    always_failing_job_ends_failed,
    dead_worker_lease_is_rescued,
    corrupt_models_are_refused,
    bad_requests_name_the_field,
    tenants_are_isolated,
    datasets_upload_and_errors,
    system_endpoints,
);

#[tokio::test]
async fn non_loopback_without_keys_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let storage = whittle::config::StorageConfig {
        database_url: format!("sqlite://{}/w.db", dir.path().display()),
        artifacts: dir.path().join("a").display().to_string(),
        scratch_dir: dir.path().join("s"),
        s3: Default::default(),
    };
    let (store, artifacts) = whittle::app::open_storage(&storage).await.unwrap();
    let cfg = whittle::config::ServeConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        insecure_no_auth: false,
        metrics_token: None,
        bootstrap: Default::default(),
        base_path: String::new(),
        limits: Default::default(),
        worker: common::fast_worker_config(0),
    };
    let err = whittle::app::start_server(store, artifacts, &cfg, Executors::standard())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("--insecure-no-auth"), "{err}");
}

//! Hardening over real HTTP, on SQLite and Postgres: text the database cannot store, names
//! counted in characters, one rule for `limit`, case-insensitive `Authorization` schemes,
//! `/metrics` behind a credential, slow and idle connections dropped, and per-tenant quotas.
mod common;

use common::{fixture, spawn_app, Backend, TestApp, TestOptions};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use whittle::config::LimitsConfig;

fn options(limits: LimitsConfig) -> TestOptions {
    TestOptions {
        limits,
        ..TestOptions::workers(0)
    }
}

/// Assert a problem+json response with `status` whose field errors include `field`.
async fn assert_problem(r: reqwest::Response, status: u16, field: &str) -> Value {
    let got = r.status().as_u16();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let p: Value = r.json().await.unwrap();
    assert_eq!(got, status, "{p}");
    assert_eq!(ct, "application/problem+json");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&field), "expected {field} in {p}");
    p
}

async fn post_model(app: &TestApp, name: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/models"))
        .query(&[("name", name)])
        .body(fixture("digits_mlp.safetensors"))
        .send()
        .await
        .unwrap()
}

async fn post_csv(app: &TestApp, query: &[(&str, &str)], csv: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url("/v1/datasets"))
        .query(query)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
}

/// POST a multipart model upload built by hand: optional `name` part, then the `file` part.
async fn post_multipart_model(app: &TestApp, name: Option<&str>, file: &[u8]) -> reqwest::Response {
    let boundary = "whittle-test-boundary-7f3a";
    let mut body = Vec::new();
    if let Some(name) = name {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.safetensors\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    app.client
        .post(app.url("/v1/models"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn count(app: &TestApp, path: &str) -> usize {
    let (status, page) = app.get_json(path).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().len()
}

/// Files left in the upload spool (rejected uploads must leave none).
fn spooled_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.dir.path().join("scratch").join("spool"))
        .map(|d| d.count())
        .unwrap_or(0)
}

// --- 1. NUL characters ------------------------------------------------------------------------

async fn nul_in_names_is_a_422_naming_the_field(backend: Backend) {
    let Some(app) = spawn_app(backend, options(LimitsConfig::default())).await else {
        return;
    };
    assert_problem(post_model(&app, "mlp\0v2").await, 422, "name").await;
    let r = post_multipart_model(
        &app,
        Some("multi\0part"),
        &fixture("digits_mlp.safetensors"),
    )
    .await;
    assert_problem(r, 422, "name").await;
    let csv = b"a,b,label\n1,2,0\n3,4,1\n".to_vec();
    assert_problem(
        post_csv(&app, &[("name", "data\0set")], csv.clone()).await,
        422,
        "name",
    )
    .await;
    assert_problem(
        post_csv(&app, &[("name", "d"), ("target", "la\0bel")], csv.clone()).await,
        422,
        "target",
    )
    .await;
    assert_eq!(count(&app, "/v1/models").await, 0, "nothing stored");
    assert_eq!(count(&app, "/v1/datasets").await, 0, "nothing stored");
    assert_eq!(spooled_files(&app), 0);
    // Names without NUL still work on both backends.
    assert_eq!(post_csv(&app, &[("name", "d")], csv).await.status(), 201);
    app.finish().await;
}

// --- 9. names in characters, one rule for limit -----------------------------------------------

async fn names_are_counted_in_characters(backend: Backend) {
    let Some(app) = spawn_app(backend, options(LimitsConfig::default())).await else {
        return;
    };
    let e200 = "é".repeat(200);
    let r = post_model(&app, &e200).await;
    assert_eq!(r.status(), 201);
    let model: Value = r.json().await.unwrap();
    assert_eq!(model["name"], e200.as_str());
    assert_problem(post_model(&app, &"é".repeat(201)).await, 422, "name").await;
    let csv = b"a,b,label\n1,2,0\n3,4,1\n".to_vec();
    let r = post_csv(&app, &[("name", e200.as_str())], csv.clone()).await;
    assert_eq!(r.status(), 201);
    assert_problem(
        post_csv(&app, &[("name", "é".repeat(201).as_str())], csv).await,
        422,
        "name",
    )
    .await;
    app.finish().await;
}

async fn every_bad_limit_is_the_same_422(backend: Backend) {
    let Some(app) = spawn_app(backend, options(LimitsConfig::default())).await else {
        return;
    };
    for path in ["/v1/jobs", "/v1/models", "/v1/datasets"] {
        for bad in ["0", "201", "-1", "99999999999999999999", "ten"] {
            let r = app
                .client
                .get(app.url(&format!("{path}?limit={bad}")))
                .send()
                .await
                .unwrap();
            assert_problem(r, 422, "limit").await;
        }
        let (status, _) = app.get_json(&format!("{path}?limit=200")).await;
        assert_eq!(status, 200);
    }
    app.finish().await;
}

// --- 6. Authorization scheme --------------------------------------------------------------------

async fn bearer_scheme_is_case_insensitive(backend: Backend) {
    let Some(app) = spawn_app(backend, options(LimitsConfig::default())).await else {
        return;
    };
    let key = whittle::app::create_api_key(&app.store, "team-a")
        .await
        .unwrap();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let r = app
            .client
            .get(app.url("/v1/models"))
            .header("authorization", format!("{scheme} {key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
    let r = app
        .client
        .get(app.url("/v1/models"))
        .header("authorization", format!("Basic {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.finish().await;
}

// --- 5. /metrics ------------------------------------------------------------------------------------

async fn metrics_need_a_key_once_keys_exist(backend: Backend) {
    let Some(app) = spawn_app(backend, options(LimitsConfig::default())).await else {
        return;
    };
    let (status, _) = app.get_json("/metrics").await;
    assert_eq!(status, 200, "no keys on loopback: open like every endpoint");
    let key = whittle::app::create_api_key(&app.store, "team-a")
        .await
        .unwrap();
    // After the short cache of "do keys exist".
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(app.get_status_as("/metrics", &key).await, 200);
    assert_eq!(app.get_status_as("/metrics", "wh_wrong").await, 401);
    app.finish().await;
}

async fn a_metrics_token_alone_opens_metrics(backend: Backend) {
    let opts = TestOptions {
        metrics_token: Some("scrape-secret".into()),
        ..options(LimitsConfig::default())
    };
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let (status, _) = app.get_json("/metrics").await;
    assert_eq!(status, 401, "anonymous");
    assert_eq!(app.get_status_as("/metrics", "scrape-secret").await, 200);
    let key = whittle::app::create_api_key(&app.store, "team-a")
        .await
        .unwrap();
    assert_eq!(
        app.get_status_as("/metrics", &key).await,
        401,
        "a tenant's key does not show every tenant's counts"
    );
    assert_eq!(app.get_status_as("/v1/models", &key).await, 200);
    app.finish().await;
}

// --- 4. slow and idle connections -----------------------------------------------------------

/// Read until the server closes the connection; the time that took (None: still open at
/// `within`).
async fn closed_within(mut conn: TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(start + within),
            conn.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

async fn half_header(app: &TestApp) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    conn
}

async fn slow_and_idle_clients_are_dropped(backend: Backend) {
    let limits = LimitsConfig {
        header_timeout_secs: 1,
        ..LimitsConfig::default()
    };
    let Some(app) = spawn_app(backend, options(limits)).await else {
        return;
    };
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(half_header(&app).await);
    }
    let waits = futures::future::join_all(
        slow.into_iter()
            .map(|c| closed_within(c, Duration::from_secs(10))),
    )
    .await;
    for w in &waits {
        let w = w.expect("a slow client is dropped");
        assert!(w < Duration::from_secs(4), "dropped after {w:?}");
    }
    // An idle keep-alive connection is closed after as long.
    let addr = app.base.trim_start_matches("http://");
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let w = closed_within(idle, Duration::from_secs(10))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(w < Duration::from_secs(4), "closed after {w:?}");
    // The server still answers.
    let (status, _) = app.get_json("/healthz").await;
    assert_eq!(status, 200);
    app.finish().await;
}

async fn connections_beyond_the_limit_wait_for_a_free_slot(backend: Backend) {
    let limits = LimitsConfig {
        header_timeout_secs: 2,
        max_connections: 2,
        ..LimitsConfig::default()
    };
    let Some(app) = spawn_app(backend, options(limits)).await else {
        return;
    };
    let _slow = [half_header(&app).await, half_header(&app).await];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let addr = app.base.trim_start_matches("http://");
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(700), third.read(&mut buf)).await;
    assert!(early.is_err(), "both slots are taken: no answer yet");
    // Once the slow clients time out, the waiting connection is served.
    let n = tokio::time::timeout(Duration::from_secs(10), third.read(&mut buf))
        .await
        .expect("served after the slow clients are dropped")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    app.finish().await;
}

// --- 11. quotas -----------------------------------------------------------------------------------

async fn job_quota_refuses_with_429_and_stores_nothing(backend: Backend) {
    let limits = LimitsConfig {
        tenant_max_active_jobs: Some(2),
        ..LimitsConfig::default()
    };
    let Some(app) = spawn_app(backend, options(limits)).await else {
        return;
    };
    let model = app
        .upload_model("mlp", fixture("digits_mlp.safetensors"))
        .await;
    let analyze = json!({"kind": "analyze", "spec": {"model_id": model["id"]}});
    let first = app.submit(analyze.clone()).await;
    let keyed = |key: &str| {
        app.client
            .post(app.url("/v1/jobs"))
            .header("Idempotency-Key", key)
            .json(&analyze)
            .send()
    };
    let second = keyed("k-1").await.unwrap();
    assert_eq!(second.status(), 202);
    let second: Value = second.json().await.unwrap();
    // At the quota, replaying a submission answers with its job; a new key is refused.
    let replay = keyed("k-1").await.unwrap();
    assert_eq!(replay.status(), 202);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay["id"], second["id"]);
    assert_eq!(keyed("k-2").await.unwrap().status(), 429);
    let r = app
        .client
        .post(app.url("/v1/jobs"))
        .json(&analyze)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["quota"], "active_jobs", "{p}");
    assert_eq!(p["limit"], 2, "{p}");
    assert_eq!(p["used"], 2, "{p}");
    assert_eq!(count(&app, "/v1/jobs").await, 2, "nothing stored");

    let (status, tenant) = app.get_json("/v1/tenant").await;
    assert_eq!(status, 200, "{tenant}");
    assert_eq!(tenant["name"], "anonymous");
    assert_eq!(tenant["quotas"]["max_active_jobs"], 2);
    assert_eq!(tenant["quotas"]["max_stored_bytes"], Value::Null);
    assert_eq!(tenant["usage"]["active_jobs"], 2);
    assert_eq!(tenant["usage"]["models"], 1);

    // A canceled job frees its slot.
    app.cancel(first["id"].as_str().unwrap()).await;
    app.submit(analyze).await;
    app.finish().await;
}

async fn stored_bytes_quota_refuses_with_413_and_stores_nothing(backend: Backend) {
    let model_bytes = fixture("digits_mlp.safetensors");
    let limit = model_bytes.len() as u64 + 1000;
    let limits = LimitsConfig {
        tenant_max_stored_bytes: Some(limit),
        ..LimitsConfig::default()
    };
    let Some(app) = spawn_app(backend, options(limits)).await else {
        return;
    };
    app.upload_model("mlp", model_bytes.clone()).await;
    let used = model_bytes.len() as u64;

    // Refused from Content-Length, before the body is read.
    let p = assert_problem_quota(post_model(&app, "again").await, limit, used).await;
    assert!(p["detail"].as_str().unwrap().contains("quota"), "{p}");
    // A body without Content-Length is cut off when it passes what the quota leaves.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = fixture("digits_test.csv")
        .chunks(4096)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let r = app
        .client
        .post(app.url("/v1/datasets?name=streamed"))
        .header("content-type", "text/csv")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_problem_quota(r, limit, used).await;
    // Multipart too.
    let r = post_multipart_model(&app, None, &model_bytes).await;
    assert_problem_quota(r, limit, used).await;

    assert_eq!(count(&app, "/v1/models").await, 1, "nothing stored");
    assert_eq!(count(&app, "/v1/datasets").await, 0, "nothing stored");
    assert_eq!(
        spooled_files(&app),
        0,
        "rejected uploads leave no spooled file"
    );
    let (_, tenant) = app.get_json("/v1/tenant").await;
    assert_eq!(tenant["quotas"]["max_stored_bytes"], limit);
    assert_eq!(tenant["usage"]["stored_bytes"], used);

    // What fits in the rest of the quota is accepted.
    let small = b"a,b,label\n1,2,0\n3,4,1\n".to_vec();
    assert_eq!(
        post_csv(&app, &[("name", "small")], small).await.status(),
        201
    );
    app.finish().await;
}

async fn assert_problem_quota(r: reqwest::Response, limit: u64, used: u64) -> Value {
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["quota"], "stored_bytes", "{p}");
    assert_eq!(p["limit"], limit, "{p}");
    assert_eq!(p["used"], used, "{p}");
    p
}

on_both_backends!(
    nul_in_names_is_a_422_naming_the_field,
    names_are_counted_in_characters,
    every_bad_limit_is_the_same_422,
    bearer_scheme_is_case_insensitive,
    metrics_need_a_key_once_keys_exist,
    a_metrics_token_alone_opens_metrics,
    slow_and_idle_clients_are_dropped,
    connections_beyond_the_limit_wait_for_a_free_slot,
    job_quota_refuses_with_429_and_stores_nothing,
    stored_bytes_quota_refuses_with_413_and_stores_nothing,
);

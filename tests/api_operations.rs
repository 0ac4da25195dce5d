//! Running whittle as a service, on both backends: the bootstrap API key (a deployment's first
//! key, created once, never brought back after a revoke), `whittle apikey bootstrap` as an init
//! step, `/readyz` failing while the artifact store cannot take writes, a worker process's
//! health endpoints, `/metrics` with HELP and TYPE for every family (build info, process
//! metrics, queue wait), logs without colour codes when not on a terminal, and a path prefix
//! (`WHITTLE_BASE_PATH`) carried by `Location` headers, the OpenAPI `servers` and the docs page.
mod common;

use common::{free_port, spawn_app, Backend, Proc, TestOptions};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;
use whittle::config::BootstrapKey;

const KEY: &str = "wh_0123456789abcdef0123456789abcdef0123456789abcdef";

fn bootstrap(key: &str) -> BootstrapKey {
    BootstrapKey {
        tenant: "ops".into(),
        api_key: Some(key.into()),
        api_key_file: None,
    }
}

async fn status_with(app: &common::TestApp, path: &str, key: Option<&str>) -> u16 {
    let mut r = app.client.get(app.url(path));
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    r.send().await.unwrap().status().as_u16()
}

async fn bootstrap_key_opens_a_public_bind(backend: Backend) {
    // 0.0.0.0 without keys refuses to start; with a bootstrap key it starts and needs it.
    let opts = || TestOptions {
        bind: "0.0.0.0:0".parse().unwrap(),
        bootstrap: bootstrap(KEY),
        ..Default::default()
    };
    let Some(mut app) = spawn_app(backend, opts()).await else {
        return;
    };
    let port = app.server.as_ref().unwrap().addr.port();
    app.base = format!("http://127.0.0.1:{port}");
    assert_eq!(status_with(&app, "/v1/models", None).await, 401);
    assert_eq!(status_with(&app, "/v1/models", Some(KEY)).await, 200);
    // A restart finds the key: still one key.
    app.restart(opts()).await;
    let port = app.server.as_ref().unwrap().addr.port();
    app.base = format!("http://127.0.0.1:{port}");
    assert_eq!(app.store.list_api_keys().await.unwrap().len(), 1);
    assert_eq!(status_with(&app, "/v1/models", Some(KEY)).await, 200);
    // Revoked, it is not brought back by the next start (which then refuses the public bind
    // for want of keys).
    whittle::app::revoke_api_key(&app.store, &KEY[..10])
        .await
        .unwrap();
    let outcome = whittle::app::bootstrap_api_key(&app.store, "ops", Some(KEY.into()))
        .await
        .unwrap();
    assert_eq!(outcome, whittle::app::Bootstrapped::OtherKeysExist);
    assert_eq!(app.store.count_active_api_keys().await.unwrap(), 0);
    app.finish().await;
}

#[test]
fn bootstrap_keys_are_checked() {
    let bad = |k: &str| bootstrap(k).read().is_err();
    assert!(bad("wh_short"));
    assert!(bad("0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert!(bad("wh_0123456789abcdef0123456789abcdef01234567 89"));
    assert!(bad("wh_0123456789abcdef0123456789abcdef\u{0}0123456789"));
    assert_eq!(bootstrap(KEY).read().unwrap().as_deref(), Some(KEY));
    assert_eq!(
        bootstrap("  ").read().unwrap(),
        None,
        "empty counts as unset"
    );
    let both = BootstrapKey {
        api_key_file: Some("/nonexistent".into()),
        ..bootstrap(KEY)
    };
    assert!(both.read().is_err());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("key");
    std::fs::write(&file, format!("{KEY}\n")).unwrap();
    let from_file = BootstrapKey {
        tenant: "ops".into(),
        api_key: None,
        api_key_file: Some(file),
    };
    assert_eq!(from_file.read().unwrap().as_deref(), Some(KEY));
}

fn whittle(dir: &std::path::Path, db: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_whittle"));
    c.args(args)
        .env("DATABASE_URL", db)
        .env("WHITTLE_ARTIFACTS", dir.join("artifacts"))
        .env("WHITTLE_SCRATCH_DIR", dir.join("scratch"))
        .env_remove("WHITTLE_BOOTSTRAP_API_KEY")
        .env_remove("WHITTLE_BOOTSTRAP_API_KEY_FILE")
        .env("RUST_LOG", "info");
    c
}

async fn apikey_bootstrap_command(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((db, db_name)) = common::fresh_database(backend, dir.path()).await else {
        return;
    };
    let first = whittle(dir.path(), &db, &["apikey", "bootstrap"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{first:?}");
    let out = String::from_utf8(first.stdout).unwrap();
    let key = out.trim();
    assert!(key.starts_with("wh_") && key.len() > 40, "{out}");
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("shown only once"), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "no colour codes off a terminal: {stderr:?}"
    );
    let again = whittle(dir.path(), &db, &["apikey", "bootstrap"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(again.stdout.is_empty(), "nothing printed the second time");
    assert!(String::from_utf8_lossy(&again.stderr).contains("exist"));
    let refused = whittle(dir.path(), &db, &["apikey", "bootstrap"])
        .env("WHITTLE_BOOTSTRAP_API_KEY", "not-a-key")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wh_"));
    if let Some(name) = db_name {
        common::drop_database(&name).await;
    }
}

async fn readyz_reports_an_unwritable_store(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let artifacts = dir.path().join("blocked");
    std::fs::create_dir_all(&artifacts).unwrap();
    // The probe writes under `_whittle/`; a file there makes the store refuse writes (tests
    // run as root, so permissions cannot stand in for a volume owned by another user).
    std::fs::write(artifacts.join("_whittle"), b"in the way").unwrap();
    let opts = TestOptions {
        artifacts: Some(artifacts.display().to_string()),
        ..Default::default()
    };
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let resp = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let problem: Value = resp.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("artifact store is not writable"),
        "{problem}"
    );
    assert_eq!(app.get_json("/healthz").await.0, 200);
    app.finish().await;
}

async fn get(url: &str) -> Option<(u16, String)> {
    let r = reqwest::get(url).await.ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.unwrap_or_default()))
}

/// Every `# TYPE` family has a `# HELP` line, and the families a deployment alerts on exist.
fn assert_described(text: &str, families: &[&str]) {
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split_whitespace().nth(2).unwrap();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} has no HELP line"
        );
    }
    for f in families {
        assert!(text.contains(&format!("# TYPE {f} ")), "{f} missing");
    }
}

async fn worker_health_endpoints(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((db, db_name)) = common::fresh_database(backend, dir.path()).await else {
        return;
    };
    let port = free_port();
    let _worker = Proc(
        whittle(dir.path(), &db, &["worker", "--workers", "3"])
            .env("WHITTLE_HEALTH_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = None;
    for _ in 0..200 {
        if let Some((200, body)) = get(&format!("{base}/readyz")).await {
            ready = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready: Value = serde_json::from_str(&ready.expect("the worker became ready")).unwrap();
    assert_eq!(ready["slots"], 3, "{ready}");
    assert_eq!(ready["busy"], 0, "{ready}");
    assert_eq!(ready["ready"], true, "{ready}");
    assert!(ready["last_store_ok_at"].is_string(), "{ready}");
    let (status, health) = get(&format!("{base}/healthz")).await.unwrap();
    assert_eq!(status, 200, "{health}");
    let (status, metrics) = get(&format!("{base}/metrics")).await.unwrap();
    assert_eq!(status, 200);
    assert_described(
        &metrics,
        &[
            "whittle_build_info",
            "whittle_worker_slots",
            "whittle_worker_busy_slots",
            "process_resident_memory_bytes",
            "process_cpu_seconds_total",
        ],
    );
    assert!(metrics.contains("whittle_worker_slots 3"), "{metrics}");
    assert_eq!(get(&format!("{base}/nothing")).await.unwrap().0, 404);

    // A worker whose artifact store cannot take writes is alive but not ready.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(&blocked).unwrap();
    std::fs::write(blocked.join("_whittle"), b"in the way").unwrap();
    let port2 = free_port();
    let _blocked = Proc(
        whittle(dir.path(), &db, &["worker"])
            .env("WHITTLE_ARTIFACTS", &blocked)
            .env("WHITTLE_HEALTH_BIND", format!("127.0.0.1:{port2}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base2 = format!("http://127.0.0.1:{port2}");
    let mut seen = None;
    for _ in 0..200 {
        if let Some(answer) = get(&format!("{base2}/readyz")).await {
            seen = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = seen.expect("the blocked worker answers");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("artifact store is not writable"), "{body}");
    assert_eq!(get(&format!("{base2}/healthz")).await.unwrap().0, 200);
    if let Some(name) = db_name {
        common::drop_database(&name).await;
    }
}

async fn metrics_are_described(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("m", common::fixture("digits_mlp.safetensors"))
        .await;
    let done = app
        .run_job(serde_json::json!({"kind": "analyze", "spec": {"model_id": model["id"]}}))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let (status, text) = app.get_bytes("/metrics").await;
    assert_eq!(status, 200);
    let text = String::from_utf8(text).unwrap();
    assert_described(
        &text,
        &[
            "whittle_build_info",
            "whittle_jobs",
            "whittle_queue_depth",
            "whittle_job_queue_wait_seconds",
            "whittle_job_duration_seconds",
            "whittle_worker_slots",
            "whittle_http_requests_total",
            "process_resident_memory_bytes",
        ],
    );
    assert!(
        text.contains(&format!(
            "whittle_build_info{{version=\"{}\"",
            env!("CARGO_PKG_VERSION")
        )) || text.contains("whittle_build_info{target="),
        "build info labels"
    );
    app.finish().await;
}

async fn base_path_is_carried(backend: Backend) {
    let opts = TestOptions {
        base_path: "/whittle/".into(),
        ..Default::default()
    };
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let resp = app
        .client
        .post(app.url("/v1/models?name=prefixed"))
        .header("content-type", "application/octet-stream")
        .body(common::fixture("digits_mlp.safetensors"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let model: Value = resp.json().await.unwrap();
    assert_eq!(
        location,
        format!("/whittle/v1/models/{}", model["id"].as_str().unwrap())
    );
    let (_, doc) = app.get_json("/openapi.json").await;
    assert_eq!(doc["servers"][0]["url"], "/whittle");
    let (status, page) = app.get_bytes("/docs").await;
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains("href=\"docs/swagger-ui.css\"") && page.contains("url: \"openapi.json\""),
        "the docs page links relatively: {page}"
    );
    assert!(!page.contains("\"/docs/") && !page.contains("\"/openapi.json\""));
    app.finish().await;
    // Without a base path the committed document has no servers entry.
    let Some(plain) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let (_, doc) = plain.get_json("/openapi.json").await;
    assert!(doc.get("servers").is_none());
    plain.finish().await;
}

#[test]
fn base_paths_are_checked() {
    let check = |p: &str| {
        whittle::config::ServeConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            insecure_no_auth: false,
            metrics_token: None,
            base_path: p.into(),
            bootstrap: Default::default(),
            limits: Default::default(),
            worker: Default::default(),
        }
        .base_path()
    };
    assert_eq!(check("").unwrap(), "");
    assert_eq!(check("/").unwrap(), "");
    assert_eq!(check("/whittle/").unwrap(), "/whittle");
    assert_eq!(check("/a/b-c_d.e").unwrap(), "/a/b-c_d.e");
    for bad in ["whittle", "/a//b", "/a/../b", "/a b", "/a?x", "/\u{0}"] {
        assert!(check(bad).is_err(), "{bad:?}");
    }
}

on_both_backends!(
    bootstrap_key_opens_a_public_bind,
    apikey_bootstrap_command,
    readyz_reports_an_unwritable_store,
    worker_health_endpoints,
    metrics_are_described,
    base_path_is_carried,
);

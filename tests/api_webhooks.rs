//! Webhooks over real HTTP on both backends, against a receiver on loopback: deliveries
//! signed per Standard Webhooks verify with the reference library (`standardwebhooks`), one
//! per subscribed event; a receiver that fails twice gets the third attempt (same
//! `webhook-id`); a server restart between attempts loses no delivery; a webhook that keeps
//! failing is disabled with its reason and can be re-enabled; secrets rotate; private
//! targets are refused without the flag; bad input names its field; another tenant's
//! webhook is a 404.
mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{spawn_app, Backend, TestApp, TestOptions};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the receiver got, and what it answers next.
#[derive(Default)]
struct Inbox {
    received: Vec<(HeaderMap, Vec<u8>)>,
    /// Statuses to answer, in order; 200 once empty (or `fallback`).
    answers: VecDeque<u16>,
    fallback: Option<u16>,
}

#[derive(Clone)]
struct Receiver {
    inbox: Arc<Mutex<Inbox>>,
    url: String,
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut inbox = inbox.lock().unwrap();
    inbox.received.push((headers, body.to_vec()));
    let code = inbox.answers.pop_front().or(inbox.fallback).unwrap_or(200);
    StatusCode::from_u16(code).unwrap()
}

async fn start_receiver() -> Receiver {
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { inbox, url }
}

impl Receiver {
    fn count(&self) -> usize {
        self.inbox.lock().unwrap().received.len()
    }
    fn received(&self) -> Vec<(HeaderMap, Vec<u8>)> {
        self.inbox.lock().unwrap().received.clone()
    }
    async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<(HeaderMap, Vec<u8>)> {
        let start = Instant::now();
        while self.count() < n {
            assert!(
                start.elapsed() < timeout,
                "only {} of {n} deliveries arrived",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.received()
    }
}

async fn post(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn patch(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let r = app
        .client
        .patch(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn subscribe(app: &TestApp, url: &str, events: &[&str]) -> Value {
    let (status, hook) = post(app, "/v1/webhooks", &json!({"url": url, "events": events})).await;
    assert_eq!(status, 201, "{hook}");
    assert!(
        hook["secret"].as_str().unwrap().starts_with("whsec_"),
        "{hook}"
    );
    hook
}

/// A small analyze job (no dataset needed): queued → running → succeeded.
async fn run_analyze(app: &TestApp) -> Value {
    let model = app
        .upload_model("m", common::fixture("digits_mlp.safetensors"))
        .await;
    app.run_job(json!({"kind": "analyze", "spec": {"model_id": model["id"]}}))
        .await
}

fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(body, headers)
        .is_ok()
}

async fn deliveries(app: &TestApp, hook: &Value) -> Vec<Value> {
    let (status, page) = app
        .get_json(&format!(
            "/v1/webhooks/{}/deliveries",
            hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn wait_deliveries(app: &TestApp, hook: &Value, ok: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let d = deliveries(app, hook).await;
        if ok(&d) {
            return d;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{d:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn signed_deliveries_verify_with_the_reference_library(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let rx = start_receiver().await;
    let hook = subscribe(
        &app,
        &rx.url,
        &["job.queued", "job.running", "job.succeeded"],
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let job = run_analyze(&app).await;
    let got = rx.wait_for(3, Duration::from_secs(30)).await;
    let mut types = Vec::new();
    for (headers, body) in &got {
        assert!(
            verify(&secret, headers, body),
            "signature of {}",
            String::from_utf8_lossy(body)
        );
        assert!(!verify(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            headers,
            body
        ));
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(payload["data"]["job_id"], job["id"]);
        assert_eq!(payload["type"], payload["data"]["type"]);
        assert!(headers["webhook-id"].to_str().unwrap().starts_with("msg_"));
        types.push(payload["type"].as_str().unwrap().to_string());
    }
    types.sort();
    assert_eq!(types, ["job.queued", "job.running", "job.succeeded"]);
    // Exactly one per event: nothing more arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.count(), 3);
    let log = wait_deliveries(&app, &hook, |d| {
        d.len() == 3 && d.iter().all(|x| x["state"] == "succeeded")
    })
    .await;
    for d in &log {
        assert_eq!(d["attempts"], 1);
        let attempt = &d["attempt_log"][0];
        assert_eq!(attempt["status_code"], 200);
        assert!(attempt["latency_ms"].as_f64().unwrap() > 0.0);
        assert_eq!(d["job_id"], job["id"]);
    }
    // The secret is not shown again; a rotated one signs the next deliveries.
    let id = hook["id"].as_str().unwrap();
    let (_, shown) = app.get_json(&format!("/v1/webhooks/{id}")).await;
    assert!(shown.get("secret").is_none(), "{shown}");
    assert_eq!(
        shown["events"],
        json!(["job.queued", "job.running", "job.succeeded"])
    );
    let (status, rotated) = post(
        &app,
        &format!("/v1/webhooks/{id}/rotate-secret"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    // Only terminal events from now on.
    let (status, changed) = patch(
        &app,
        &format!("/v1/webhooks/{id}"),
        &json!({"events": ["job.succeeded"]}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    run_analyze(&app).await;
    let got = rx.wait_for(4, Duration::from_secs(30)).await;
    let (headers, body) = &got[3];
    assert!(verify(new_secret, headers, body));
    assert!(!verify(&secret, headers, body));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.count(), 4);
    // Listed, then deleted.
    let (_, list) = app.get_json("/v1/webhooks").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let r = app
        .client
        .delete(app.url(&format!("/v1/webhooks/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _) = app.get_json(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(status, 404);
    app.finish().await;
}

async fn a_failing_receiver_gets_the_third_attempt(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let rx = start_receiver().await;
    rx.inbox.lock().unwrap().answers = VecDeque::from([500, 500]);
    let hook = subscribe(&app, &rx.url, &["job.succeeded"]).await;
    run_analyze(&app).await;
    let got = rx.wait_for(3, Duration::from_secs(30)).await;
    let ids: Vec<&str> = got
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one message, retried: {ids:?}"
    );
    let secret = hook["secret"].as_str().unwrap();
    assert!(got.iter().all(|(h, b)| verify(secret, h, b)));
    let log = wait_deliveries(&app, &hook, |d| {
        d.len() == 1 && d[0]["state"] == "succeeded"
    })
    .await;
    let codes: Vec<i64> = log[0]["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 200]);
    assert!(log[0]["attempt_log"][0]["error"]
        .as_str()
        .unwrap()
        .contains("500"));
    let (_, shown) = app
        .get_json(&format!("/v1/webhooks/{}", hook["id"].as_str().unwrap()))
        .await;
    assert_eq!(shown["consecutive_failures"], 0);
    assert_eq!(shown["enabled"], true);
    app.finish().await;
}

async fn a_restart_between_attempts_loses_no_delivery(backend: Backend) {
    let Some(mut app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let rx = start_receiver().await;
    rx.inbox.lock().unwrap().fallback = Some(503);
    let hook = subscribe(&app, &rx.url, &["job.succeeded"]).await;
    run_analyze(&app).await;
    rx.wait_for(1, Duration::from_secs(30)).await;
    // Down while the delivery waits for its next attempt; the receiver recovers meanwhile.
    app.restart(TestOptions::workers(0)).await;
    rx.inbox.lock().unwrap().fallback = None;
    let failed_attempts = rx.count();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.count(), failed_attempts, "no worker, no attempt");
    app.restart(TestOptions::default()).await;
    let log = wait_deliveries(&app, &hook, |d| {
        d.len() == 1 && d[0]["state"] == "succeeded"
    })
    .await;
    let attempts = log[0]["attempt_log"].as_array().unwrap();
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert_eq!(attempts.last().unwrap()["status_code"], 200);
    let got = rx.received();
    let (h, b) = got.last().unwrap();
    assert!(verify(hook["secret"].as_str().unwrap(), h, b));
    app.finish().await;
}

async fn a_webhook_that_keeps_failing_is_disabled(backend: Backend) {
    let mut opts = TestOptions::default();
    opts.worker.webhooks.max_failures = 3;
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let rx = start_receiver().await;
    rx.inbox.lock().unwrap().fallback = Some(500);
    let hook = subscribe(&app, &rx.url, &["job.succeeded"]).await;
    let id = hook["id"].as_str().unwrap();
    run_analyze(&app).await;
    let start = Instant::now();
    let shown = loop {
        let (_, shown) = app.get_json(&format!("/v1/webhooks/{id}")).await;
        if shown["enabled"] == false {
            break shown;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{shown}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let reason = shown["disabled_reason"].as_str().unwrap();
    assert!(
        reason.contains("3 consecutive") && reason.contains("HTTP 500"),
        "{reason}"
    );
    assert_eq!(rx.count(), 3);
    // Disabled: nothing more is sent, the delivery waits.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.count(), 3);
    let log = deliveries(&app, &hook).await;
    assert_eq!(log[0]["state"], "pending");
    // Re-enabled with the receiver fixed: the waiting delivery goes through.
    rx.inbox.lock().unwrap().fallback = None;
    let (status, enabled) = patch(
        &app,
        &format!("/v1/webhooks/{id}"),
        &json!({"enabled": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(enabled["consecutive_failures"], 0);
    assert!(enabled["disabled_reason"].is_null());
    wait_deliveries(&app, &hook, |d| d[0]["state"] == "succeeded").await;
    app.finish().await;
}

async fn bad_subscriptions_are_refused(backend: Backend) {
    let mut opts = TestOptions::default();
    opts.worker.webhooks.allow_private = false;
    let Some(app) = spawn_app(backend, opts).await else {
        return;
    };
    let ok_events = json!(["job.succeeded"]);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/",
        "http://[::ffff:192.168.0.1]/",
        "http://localhost:9/hook",
        "ftp://example.com/",
        "not a url",
        "http://a.b/\u{0}",
    ] {
        let (status, p) = post(
            &app,
            "/v1/webhooks",
            &json!({"url": url, "events": ok_events}),
        )
        .await;
        assert_eq!(status, 422, "{url}: {p}");
        assert_eq!(p["errors"][0]["field"], "url", "{p}");
    }
    let url = "http://93.184.215.14/hook";
    for (body, field) in [
        (json!({"url": url, "events": []}), "events"),
        (json!({"url": url, "events": ["job.done"]}), "events[0]"),
        (
            json!({"url": url, "events": ok_events, "secret": "hunter2"}),
            "secret",
        ),
        (
            json!({"url": url, "events": ok_events, "secret": "whsec_AAAA"}),
            "secret",
        ),
        (
            json!({"url": url, "events": ok_events, "description": "a\u{0}b"}),
            "description",
        ),
        (
            json!({"url": url, "events": ok_events, "description": "x".repeat(501)}),
            "description",
        ),
    ] {
        let (status, p) = post(&app, "/v1/webhooks", &body).await;
        assert_eq!(status, 422, "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let (status, p) = post(
        &app,
        "/v1/webhooks",
        &json!({"url": url, "events": ok_events, "color": 1}),
    )
    .await;
    assert!(status == 400 || status == 422, "{p}");
    // A public literal address is accepted (nothing is sent until an event happens).
    let (status, hook) = post(
        &app,
        "/v1/webhooks",
        &json!({"url": url, "events": ok_events,
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
    )
    .await;
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["secret"], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let id = hook["id"].as_str().unwrap();
    let (status, p) = patch(
        &app,
        &format!("/v1/webhooks/{id}"),
        &json!({"url": "http://192.168.1.1/"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(p["errors"][0]["field"], "url");
    let (status, p) = app
        .get_json(&format!("/v1/webhooks/{id}/deliveries?cursor=x"))
        .await;
    assert_eq!(status, 422);
    assert_eq!(p["errors"][0]["field"], "cursor");
    // Another tenant sees none of it.
    let key_a = whittle::app::create_api_key(&app.store, "team-a")
        .await
        .unwrap();
    let key_b = whittle::app::create_api_key(&app.store, "team-b")
        .await
        .unwrap();
    let r = app
        .client
        .post(app.url("/v1/webhooks"))
        .bearer_auth(&key_a)
        .json(&json!({"url": url, "events": ok_events}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let a_hook: Value = r.json().await.unwrap();
    let a_id = a_hook["id"].as_str().unwrap();
    for path in [
        format!("/v1/webhooks/{a_id}"),
        format!("/v1/webhooks/{a_id}/deliveries"),
    ] {
        assert_eq!(app.get_status_as(&path, &key_b).await, 404, "{path}");
    }
    let r = app
        .client
        .delete(app.url(&format!("/v1/webhooks/{a_id}")))
        .bearer_auth(&key_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .post(app.url(&format!("/v1/webhooks/{a_id}/rotate-secret")))
        .bearer_auth(&key_b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .get(app.url("/v1/webhooks"))
        .bearer_auth(&key_b)
        .send()
        .await
        .unwrap();
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["items"], json!([]));
    app.finish().await;
}

on_both_backends!(
    signed_deliveries_verify_with_the_reference_library,
    a_failing_receiver_gets_the_third_attempt,
    a_restart_between_attempts_loses_no_delivery,
    a_webhook_that_keeps_failing_is_disabled,
    bad_subscriptions_are_refused,
);

//! Watching jobs without polling, over real HTTP on both backends: a train job's SSE stream
//! (queued → running → per-epoch metrics → succeeded, seqs without gaps, closed after the
//! end), resuming with `Last-Event-ID` / `?last_event_id=` (exactly the missing events), the
//! tenant-wide stream with filters, a job run by a separate `whittle worker` process streamed
//! by the API process, long-poll (`?wait=`) answering right after completion, bad input as
//! problem+json naming the field, and another tenant's job as a 404.
mod common;

use common::{fixture, spawn_app, Backend, TestApp, TestOptions};
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    id: String,
    event: String,
    data: Value,
}

/// Read a stream until it ends, `max` events arrived or `timeout` passed.
async fn read_sse(resp: reqwest::Response, max: usize, timeout: Duration) -> (Vec<Sse>, bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut body = resp.bytes_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    loop {
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !data.is_empty() {
                events.push(Sse {
                    id,
                    event,
                    data: serde_json::from_str(&data).expect("data is JSON"),
                });
                if events.len() >= max {
                    return (events, false);
                }
            }
        }
        match tokio::time::timeout_at(deadline, body.next()).await {
            Err(_) => return (events, false),
            Ok(None) => return (events, true),
            Ok(Some(chunk)) => text.push_str(&String::from_utf8_lossy(&chunk.expect("chunk"))),
        }
    }
}

async fn open(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut r = app.client.get(app.url(path));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let resp = r.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"),
        "{:?}",
        resp.headers()
    );
    resp
}

fn train_spec(dataset: &Value, epochs: u64) -> Value {
    json!({"kind": "train", "spec": {"dataset_id": dataset["id"],
        "architecture": {"hidden": [32], "activation": "relu"},
        "optimizer": {"kind": "adam", "lr": 0.003}, "batch_size": 64, "epochs": epochs, "seed": 0}})
}

/// The stream's events are the job's, numbered 1..=n, in lifecycle order.
fn check_lifecycle(events: &[Sse], job_id: &str, epochs: i64) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.id, (i + 1).to_string(), "no gap in ids: {events:?}");
        assert_eq!(e.data["seq"], i as i64 + 1);
        assert_eq!(e.data["type"], e.event.as_str());
        assert_eq!(e.data["job_id"], job_id);
        assert_eq!(e.data["kind"], "train");
    }
    let types: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(types[0], "job.queued", "{types:?}");
    assert_eq!(events[0].data["data"]["reason"], "submitted");
    assert_eq!(events[0].data["state"], "queued");
    assert_eq!(types[1], "job.running", "{types:?}");
    assert_eq!(events[1].data["data"]["attempt"], 1);
    assert_eq!(*types.last().unwrap(), "job.succeeded", "{types:?}");
    assert_eq!(events.last().unwrap().data["state"], "succeeded");
    // Every epoch's train_loss, in epoch order, between running and succeeded.
    let losses: Vec<i64> = events
        .iter()
        .filter(|e| e.event == "job.metric" && e.data["data"]["name"] == "train_loss")
        .map(|e| {
            assert!(e.data["data"]["value"].as_f64().unwrap().is_finite());
            e.data["data"]["step"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(losses, (1..=epochs).collect::<Vec<_>>(), "{types:?}");
    let first_metric = types.iter().position(|t| *t == "job.metric").unwrap();
    assert!(first_metric > 1);
    assert!(types
        .iter()
        .skip(2)
        .take(types.len() - 3)
        .all(|t| ["job.metric", "job.progress"].contains(t)));
}

async fn a_train_job_streams_its_lifecycle(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let train = app
        .upload_csv("digits", "label", fixture("digits_train.csv"))
        .await;
    let job = app.submit(train_spec(&train, 4)).await;
    let id = job["id"].as_str().unwrap();
    let path = format!("/v1/jobs/{id}/events");
    let (events, ended) = read_sse(
        open(&app, &path, &[]).await,
        10_000,
        Duration::from_secs(120),
    )
    .await;
    assert!(ended, "the stream closes after the terminal event");
    check_lifecycle(&events, id, 4);
    let n = events.len();

    // Resume from the middle: exactly the missing events, then the end.
    let k = n / 2;
    for headers in [vec![("last-event-id", k.to_string())], vec![]] {
        let url = if headers.is_empty() {
            format!("{path}?last_event_id={k}")
        } else {
            path.clone()
        };
        let headers: Vec<(&str, &str)> = headers.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let (rest, ended) = read_sse(
            open(&app, &url, &headers).await,
            10_000,
            Duration::from_secs(10),
        )
        .await;
        assert!(ended);
        let ids: Vec<String> = rest.iter().map(|e| e.id.clone()).collect();
        let want: Vec<String> = events[k..].iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids, want);
        assert_eq!(rest.last().unwrap().data, events[n - 1].data);
    }
    // Resuming after the last event of an ended job: nothing, and the stream closes.
    let last = n.to_string();
    let (none, ended) = read_sse(
        open(&app, &path, &[("last-event-id", &last)]).await,
        10,
        Duration::from_secs(10),
    )
    .await;
    assert!(ended && none.is_empty(), "{none:?}");

    // The metric events agree with the full series.
    let (_, metrics) = app.get_json(&format!("/v1/jobs/{id}/metrics")).await;
    let series = metrics.to_string();
    for e in events.iter().filter(|e| e.event == "job.metric") {
        assert!(series.contains(e.data["data"]["name"].as_str().unwrap()));
    }

    // Bad resume points and unknown jobs.
    let r = app
        .client
        .get(app.url(&path))
        .header("last-event-id", "seven")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "Last-Event-ID", "{p}");
    let (status, p) = app.get_json(&format!("{path}?last_event_id=-1")).await;
    assert_eq!(status, 422);
    assert_eq!(p["errors"][0]["field"], "last_event_id", "{p}");
    let (status, _) = app
        .get_json(&format!("/v1/jobs/{}/events", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, 404);
    app.finish().await;
}

async fn a_live_stream_follows_a_job_run_by_another_process(backend: Backend) {
    // No in-process workers: a `whittle worker` process runs the job.
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let train = app
        .upload_csv("digits", "label", fixture("digits_train.csv"))
        .await;
    let job = app.submit(train_spec(&train, 3)).await;
    let id = job["id"].as_str().unwrap();
    let stream = open(&app, &format!("/v1/jobs/{id}/events"), &[]).await;
    let reader = tokio::spawn(read_sse(stream, 10_000, Duration::from_secs(120)));
    // The stream is open (and has replayed `job.queued`) before the worker starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut worker = common::resume::spawn_worker_process(&app);
    let (events, ended) = reader.await.unwrap();
    let _ = worker.kill();
    let _ = worker.wait();
    assert!(ended);
    check_lifecycle(&events, id, 3);
    assert!(
        events[1].data["data"]["worker"].as_str().is_some(),
        "{:?}",
        events[1]
    );
    app.finish().await;
}

async fn the_tenant_stream_filters_and_resumes(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let train = app
        .upload_csv("digits", "label", fixture("digits_train.csv"))
        .await;
    // A job before the stream opens is not replayed without Last-Event-ID.
    let early = app.run_job(train_spec(&train, 1)).await;
    let stream = open(
        &app,
        "/v1/events?type=job.succeeded,job.failed&kind=train",
        &[],
    )
    .await;
    let reader = tokio::spawn(read_sse(stream, 2, Duration::from_secs(120)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a = app.submit(train_spec(&train, 1)).await;
    let b = app.submit(train_spec(&train, 2)).await;
    let (events, _) = reader.await.unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| {
            assert_eq!(e.event, "job.succeeded");
            assert_eq!(e.id, e.data["id"].to_string());
            e.data["job_id"].as_str().unwrap()
        })
        .collect();
    ids.sort();
    let mut want = vec![a["id"].as_str().unwrap(), b["id"].as_str().unwrap()];
    want.sort();
    assert_eq!(ids, want);
    assert!(!ids.contains(&early["id"].as_str().unwrap()));
    // Resume after the first: the second (and only it, of the succeeded ones).
    let first = events[0].id.clone();
    let (again, _) = read_sse(
        open(
            &app,
            "/v1/events?type=job.succeeded",
            &[("last-event-id", &first)],
        )
        .await,
        1,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].data, events[1].data);
    // Everything after 0: every event of the tenant, ids increasing, each job's seqs in order.
    let (all, _) = read_sse(
        open(&app, "/v1/events?last_event_id=0", &[]).await,
        10_000,
        Duration::from_secs(3),
    )
    .await;
    assert!(all
        .windows(2)
        .all(|w| w[0].data["id"].as_i64() < w[1].data["id"].as_i64()));
    for job in [&early, &a, &b] {
        let seqs: Vec<i64> = all
            .iter()
            .filter(|e| e.data["job_id"] == job["id"])
            .map(|e| e.data["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    }
    // Bad filters name their field.
    for (query, field) in [
        ("kind=bake", "kind"),
        ("state=done", "state"),
        ("type=job.done", "type"),
        ("last_event_id=x", "last_event_id"),
    ] {
        let (status, p) = app.get_json(&format!("/v1/events?{query}")).await;
        assert_eq!(status, 422, "{query}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    app.finish().await;
}

/// A stream resumed from before what the server's shared feed holds (here: events written
/// before a restart) catches up from the store, then follows new events live.
async fn a_resumed_tenant_stream_catches_up_then_follows_live(backend: Backend) {
    let Some(mut app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let train = app
        .upload_csv("digits", "label", fixture("digits_train.csv"))
        .await;
    let before = app.run_job(train_spec(&train, 1)).await;
    app.restart(TestOptions::default()).await;
    // The feed starts after the restart's first stream; this one resumes from the start.
    let stream = open(&app, "/v1/events?last_event_id=0&type=job.succeeded", &[]).await;
    let reader = tokio::spawn(read_sse(stream, 2, Duration::from_secs(120)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = app.submit(train_spec(&train, 1)).await;
    let (events, _) = reader.await.unwrap();
    let jobs: Vec<&Value> = events.iter().map(|e| &e.data["job_id"]).collect();
    assert_eq!(jobs, [&before["id"], &after["id"]], "{events:?}");
    app.finish().await;
}

async fn long_poll_answers_when_the_job_ends(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let train = app
        .upload_csv("digits", "label", fixture("digits_train.csv"))
        .await;
    let job = app.submit(train_spec(&train, 3)).await;
    let id = job["id"].as_str().unwrap();
    let start = Instant::now();
    let (status, done) = app.get_json(&format!("/v1/jobs/{id}?wait=60")).await;
    let answered = chrono::Utc::now();
    assert_eq!(status, 200);
    assert_eq!(done["state"], "succeeded", "{done}");
    let finished: chrono::DateTime<chrono::Utc> =
        done["finished_at"].as_str().unwrap().parse().unwrap();
    let late = answered - finished;
    assert!(
        late < chrono::TimeDelta::milliseconds(100),
        "answered {late:?} after the job ended (waited {:?})",
        start.elapsed()
    );
    // An ended job answers at once; bad waits name the field.
    let t = Instant::now();
    let (_, again) = app.get_json(&format!("/v1/jobs/{id}?wait=30")).await;
    assert_eq!(again["state"], "succeeded");
    assert!(t.elapsed() < Duration::from_secs(2));
    for bad in ["-1", "soon", "NaN", "inf"] {
        let (status, p) = app.get_json(&format!("/v1/jobs/{id}?wait={bad}")).await;
        assert_eq!(status, 422, "{bad}");
        assert_eq!(p["errors"][0]["field"], "wait", "{p}");
    }
    app.finish().await;
}

async fn long_poll_times_out_with_the_job_as_it_is(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let train = app
        .upload_csv("digits", "label", fixture("digits_train.csv"))
        .await;
    let job = app.submit(train_spec(&train, 1)).await;
    let id = job["id"].as_str().unwrap();
    let t = Instant::now();
    let (status, still) = app.get_json(&format!("/v1/jobs/{id}?wait=0.5")).await;
    assert_eq!(status, 200);
    assert_eq!(still["state"], "queued");
    assert!(
        t.elapsed() >= Duration::from_millis(450),
        "{:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // A cancel ends the wait (and the stream) at once.
    let waiter = {
        let client = app.client.clone();
        let url = app.url(&format!("/v1/jobs/{id}?wait=30"));
        tokio::spawn(async move {
            let t = Instant::now();
            let job: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            (job, t.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.cancel(id).await;
    let (job, waited) = waiter.await.unwrap();
    assert_eq!(job["state"], "canceled");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    let (events, ended) = read_sse(
        open(&app, &format!("/v1/jobs/{id}/events"), &[]).await,
        100,
        Duration::from_secs(10),
    )
    .await;
    assert!(ended);
    let types: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(types, ["job.queued", "job.canceled"]);
    app.finish().await;
}

async fn another_tenants_job_is_not_found(backend: Backend) {
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
    let model: Value = r.json().await.unwrap();
    let r = app
        .client
        .post(app.url("/v1/jobs"))
        .bearer_auth(&key_a)
        .json(&json!({"kind": "analyze", "spec": {"model_id": model["id"]}}))
        .send()
        .await
        .unwrap();
    let job: Value = r.json().await.unwrap();
    let id = job["id"].as_str().unwrap();
    for path in [
        format!("/v1/jobs/{id}/events"),
        format!("/v1/jobs/{id}?wait=1"),
    ] {
        assert_eq!(app.get_status_as(&path, &key_b).await, 404, "{path}");
    }
    // Team b's tenant stream does not carry team a's events.
    let resp = app
        .client
        .get(app.url("/v1/events?last_event_id=0"))
        .bearer_auth(&key_b)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (events, _) = read_sse(resp, 10, Duration::from_secs(2)).await;
    assert!(events.is_empty(), "{events:?}");
    let resp = app
        .client
        .get(app.url("/v1/events?last_event_id=0"))
        .bearer_auth(&key_a)
        .send()
        .await
        .unwrap();
    let (events, _) = read_sse(resp, 1, Duration::from_secs(5)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data["job_id"], id);
    app.finish().await;
}

on_both_backends!(
    a_train_job_streams_its_lifecycle,
    a_live_stream_follows_a_job_run_by_another_process,
    the_tenant_stream_filters_and_resumes,
    a_resumed_tenant_stream_catches_up_then_follows_live,
    long_poll_answers_when_the_job_ends,
    long_poll_times_out_with_the_job_as_it_is,
    another_tenants_job_is_not_found,
);

//! Hyper-parameter tuning over real HTTP, on SQLite and Postgres: grid/random/TPE studies with
//! cross-validation, trials as child jobs shared by workers, pruning, failures and cancel.
mod common;

use common::{fixture, spawn_app, Backend, TestApp, TestOptions};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use whittle::jobs::Executors;

async fn digits(app: &TestApp) -> (Value, Value) {
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    (train, test)
}

fn small_base() -> Value {
    json!({"architecture": {"hidden": [32], "activation": "relu"},
           "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 64, "epochs": 6, "seed": 0})
}

/// Submit a tune job with `spec`, wait for it and assert it succeeded: (id, final job).
async fn run_study(app: &TestApp, spec: Value, timeout_secs: u64) -> (String, Value) {
    let job = app.submit(json!({"kind": "tune", "spec": spec})).await;
    let id = job["id"].as_str().unwrap().to_string();
    let done = app.wait_job(&id, Duration::from_secs(timeout_secs)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    (id, done)
}

async fn trials(app: &TestApp, id: &str) -> Vec<Value> {
    let (status, page) = app.get_json(&format!("/v1/jobs/{id}/trials")).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn child_jobs(app: &TestApp, id: &str) -> Vec<Value> {
    let (status, page) = app
        .get_json(&format!("/v1/jobs?parent_job_id={id}&limit=200"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn grid_study_end_to_end(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let (train, test) = digits(&app).await;
    let job = app
        .submit(
            json!({"kind": "tune", "spec": {"dataset_id": train["id"], "base": small_base(),
            "search_space": {
                "optimizer.lr": {"type": "categorical", "choices": [0.003, 0.03]},
                "batch_size": {"type": "categorical", "choices": [32, 128]}},
            "sampler": "grid", "cv_folds": 3, "metric": "accuracy", "direction": "maximize",
            "parallelism": 2, "seed": 0, "eval_dataset_id": test["id"]}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    let done = app.wait_job(&id, Duration::from_secs(300)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let r = &done["result"];

    // Grid: exactly its 4 points, each once, each cross-validated over every epoch.
    let items = trials(&app, &id).await;
    assert_eq!(items.len(), 4, "{items:?}");
    let numbers: Vec<i64> = items
        .iter()
        .map(|t| t["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![0, 1, 2, 3]);
    let points: BTreeSet<String> = items.iter().map(|t| t["params"].to_string()).collect();
    let want: BTreeSet<String> = [(0.003, 32), (0.003, 128), (0.03, 32), (0.03, 128)]
        .iter()
        .map(|(lr, b)| json!({"batch_size": b, "optimizer.lr": lr}).to_string())
        .collect();
    assert_eq!(points, want);
    for t in &items {
        assert_eq!(t["state"], "complete", "{t}");
        assert_eq!(t["intermediate"].as_array().unwrap().len(), 6, "{t}");
        for (i, pair) in t["intermediate"].as_array().unwrap().iter().enumerate() {
            // `[step, value]`: the epochs done, then the mean fold metric.
            assert_eq!(pair[0].as_u64(), Some(i as u64 + 1), "{t}");
            assert!(pair[1].as_f64().is_some() && pair.as_array().unwrap().len() == 2);
        }
        assert!(t["duration_seconds"].as_f64().unwrap() >= 0.0);
        let v = t["value"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{t}");
    }

    // Trials are jobs of kind `trial`: listed by kind, with or without their study.
    for query in [
        format!("/v1/jobs?kind=trial&parent_job_id={id}"),
        "/v1/jobs?kind=trial&limit=200".to_string(),
    ] {
        let (status, page) = app.get_json(&query).await;
        assert_eq!(status, 200, "{page}");
        let jobs = page["items"].as_array().unwrap();
        assert_eq!(jobs.len(), 4, "{query}: {page}");
        assert!(jobs
            .iter()
            .all(|j| j["kind"] == "trial" && j["parent_job_id"] == id));
        assert!(jobs.iter().all(|j| j["result"]["fold_values"].is_array()));
    }
    let (status, body) = app.get_json("/v1/jobs?kind=bogus").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "kind", "{body}");
    // f32 fields echo the value sent: the best spec's lr is 0.003 or 0.03 exactly.
    let lr = r["best_train_spec"]["optimizer"]["lr"].as_f64().unwrap();
    assert!(lr == 0.003 || lr == 0.03, "{lr}");

    // The best trial is the one with the highest value; the result says so.
    let best = items
        .iter()
        .max_by(|a, b| {
            a["value"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["value"].as_f64().unwrap())
                .then(b["number"].as_i64().cmp(&a["number"].as_i64()))
        })
        .unwrap();
    assert_eq!(r["best_value"], best["value"], "{r}");
    assert_eq!(r["best_params"], best["params"], "{r}");
    assert_eq!(r["best_trial"], best["number"], "{r}");
    assert_eq!(r["trials_complete"], 4);
    assert_eq!(r["metric"], "accuracy");
    // The last progress message is stored even though it came after the last heartbeat.
    assert!(
        done["progress_message"]
            .as_str()
            .is_some_and(|m| m.starts_with("4 trials finished") && m.ends_with("refit done")),
        "{done}"
    );
    assert!(r["best_value"].as_f64().unwrap() > 0.9, "{r}");

    // Refit on all rows → output model, tested on the eval set.
    let output = done["output_model_id"].as_str().expect("refit model");
    let (_, model) = app.get_json(&format!("/v1/models/{output}")).await;
    assert_eq!(model["architecture"]["layer_sizes"], json!([64, 32, 10]));
    assert_eq!(r["refit"]["train_rows"], 1437, "{r}");
    assert!(r["test"]["accuracy"].as_f64().unwrap() > 0.9, "{r}");

    // Best value so far, one point per trial, never getting worse.
    let (_, m) = app.get_json(&format!("/v1/jobs/{id}/metrics")).await;
    let series: Vec<f64> = m["series"]["best_value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(series.len(), 4, "{m}");
    assert!(series.windows(2).all(|w| w[1] >= w[0]), "{series:?}");
    assert_eq!(*series.last().unwrap(), r["best_value"].as_f64().unwrap());
    assert!(m["series"]["refit_train_loss"].as_array().is_some(), "{m}");

    // Trials are child jobs: listed under their parent, ran once each, hidden from the
    // top-level list.
    let kids = child_jobs(&app, &id).await;
    assert_eq!(kids.len(), 4);
    for k in &kids {
        assert_eq!(k["kind"], "trial");
        assert_eq!(k["state"], "succeeded", "{k}");
        assert_eq!(k["attempt"], 1, "{k}");
        assert_eq!(k["parent_job_id"], id.as_str());
    }
    let (_, top) = app.get_json("/v1/jobs?limit=200").await;
    assert!(
        top["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["kind"] != "trial"),
        "{top}"
    );
    app.finish().await;
}

async fn failed_trials_do_not_stop_the_study(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let (train, _) = digits(&app).await;
    // SGD with lr 1e9 diverges (the loss overflows): that trial fails, the others go on.
    let (id, done) = run_study(
        &app,
        json!({"dataset_id": train["id"],
            "base": {"architecture": {"hidden": [16]}, "optimizer": {"kind": "sgd", "lr": 0.01},
                     "epochs": 3},
            "search_space": {"optimizer.lr": {"type": "categorical", "choices": [0.05, 1e9, 0.1]}},
            "sampler": "grid", "cv_folds": 2, "parallelism": 1, "refit": false}),
        120,
    )
    .await;
    let items = trials(&app, &id).await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["state"], "failed", "{:?}", items[1]);
    assert!(
        items[1]["error"].as_str().unwrap().contains("loss"),
        "{:?}",
        items[1]
    );
    assert_eq!(done["result"]["trials_failed"], 1);
    assert_eq!(done["result"]["trials_complete"], 2);
    assert_ne!(done["result"]["best_trial"], 1);
    assert!(done["output_model_id"].is_null(), "refit: false → no model");
    app.finish().await;
}

async fn asha_prunes_trials_that_are_behind(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let (train, _) = digits(&app).await;
    // Learning rates from hopeless to good: ASHA (rungs at epochs 1, 3) stops the laggards.
    let (id, done) = run_study(&app, json!({"dataset_id": train["id"],
            "base": {"architecture": {"hidden": [16]}, "optimizer": {"kind": "sgd", "lr": 0.01},
                     "epochs": 6, "batch_size": 64},
            "search_space": {"optimizer.lr": {"type": "float", "low": 1e-6, "high": 0.3, "log": true}},
            "sampler": "random", "n_trials": 8, "cv_folds": 2, "parallelism": 1,
            "pruner": {"type": "asha", "min_resource": 1, "reduction_factor": 3},
            "seed": 3, "refit": false}), 300).await;
    let r = &done["result"];
    let pruned = r["trials_pruned"].as_u64().unwrap();
    assert!(pruned >= 1, "{r}");
    assert!(
        r["epochs_trained"].as_f64().unwrap() < r["epochs_budget"].as_f64().unwrap(),
        "{r}"
    );
    for t in trials(&app, &id).await {
        let n = t["intermediate"].as_array().unwrap().len();
        match t["state"].as_str().unwrap() {
            // A pruned trial stopped at a rung (epoch 1 or 3), before the last epoch.
            "pruned" => assert!(n == 1 || n == 3, "{t}"),
            "complete" => assert_eq!(n, 6, "{t}"),
            other => panic!("unexpected trial state {other}: {t}"),
        }
    }
    app.finish().await;
}

async fn bad_search_spaces_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let (train, _) = digits(&app).await;
    let with_space = |space: Value| {
        json!({"kind": "tune", "spec": {"dataset_id": train["id"], "base": small_base(),
            "search_space": space}})
    };
    app.assert_rejected(
        &with_space(json!({"optimizer.lr": {"type": "float", "low": 0.1, "high": 0.01}})),
        "spec.search_space.optimizer.lr.low",
    )
    .await;
    app.assert_rejected(
        &with_space(
            json!({"optimizer.lr": {"type": "float", "low": 0.0, "high": 0.1, "log": true}}),
        ),
        "spec.search_space.optimizer.lr.low",
    )
    .await;
    app.assert_rejected(
        &with_space(
            json!({"optimizer.learning_rate": {"type": "float", "low": 0.01, "high": 0.1}}),
        ),
        "spec.search_space.optimizer.learning_rate",
    )
    .await;
    app.assert_rejected(
        &with_space(json!({"batch_size": {"type": "categorical", "choices": []}})),
        "spec.search_space.batch_size.choices",
    )
    .await;
    app.assert_rejected(
        &with_space(json!({"architecture.hidden[3]": {"type": "int", "low": 8, "high": 64}})),
        "spec.search_space.architecture.hidden[3]",
    )
    .await;
    app.assert_rejected(&with_space(json!({})), "spec.search_space")
        .await;
    let mut body = with_space(json!({"batch_size": {"type": "int", "low": 16, "high": 64}}));
    body["spec"]["metric"] = json!("r2");
    app.assert_rejected(&body, "spec.metric").await;
    let mut body = with_space(json!({"batch_size": {"type": "int", "low": 16, "high": 64}}));
    body["spec"]["pruner"] = json!("hyperband");
    app.assert_rejected(&body, "spec.pruner").await;
    let mut body = with_space(json!({"batch_size": {"type": "int", "low": 16, "high": 64}}));
    body["spec"]["base"]["optimizer"]["kind"] = json!("adagrad");
    app.assert_rejected(&body, "spec.base.optimizer.kind").await;
    // Trials are internal: nobody submits one directly.
    app.assert_rejected(&json!({"kind": "trial", "spec": {}}), "kind")
        .await;
    app.finish().await;
}

async fn cancel_stops_pending_and_running_trials(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let (train, _) = digits(&app).await;
    let job = app
        .submit(json!({"kind": "tune", "spec": {"dataset_id": train["id"],
            "base": {"architecture": {"hidden": [64]}, "epochs": 2000},
            "search_space": {"optimizer.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": true}},
            "sampler": "random", "n_trials": 50, "parallelism": 2}}))
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    // Wait until a trial is running.
    let start = std::time::Instant::now();
    loop {
        if trials(&app, &id)
            .await
            .iter()
            .any(|t| t["state"] == "running")
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no trial started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.cancel(&id).await;
    let done = app.wait_job(&id, Duration::from_secs(30)).await;
    assert_eq!(done["state"], "canceled", "{done}");
    // Every trial job ends too, and no new ones are queued.
    let start = std::time::Instant::now();
    loop {
        let kids = child_jobs(&app, &id).await;
        assert!(
            kids.len() <= 2,
            "no trials beyond the parallelism: {kids:?}"
        );
        if kids.iter().all(|k| k["state"] == "canceled") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "trials still running after cancel: {kids:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.finish().await;
}

async fn two_workers_share_one_study(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(1)).await else {
        return;
    };
    // A second worker process on the same database and artifact store.
    let (store, artifacts) = whittle::app::open_storage(&app.storage).await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut cfg = common::fast_worker_config(1);
    cfg.worker_id = Some("second-worker".into());
    cfg.poll_ms = 20;
    let handle = whittle::app::start_workers(
        store,
        artifacts,
        &cfg,
        Executors::standard(),
        std::sync::Arc::new(tokio::sync::Notify::new()),
        shutdown.clone(),
    )
    .unwrap()
    .unwrap();
    let (train, _) = digits(&app).await;
    let (id, _) = run_study(&app, json!({"dataset_id": train["id"],
            "base": {"architecture": {"hidden": [32]}, "epochs": 8},
            "search_space": {"optimizer.lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": true},
                             "batch_size": {"type": "categorical", "choices": [32, 64]}},
            "sampler": "tpe", "n_trials": 8, "cv_folds": 2, "parallelism": 2, "refit": false}), 300).await;
    let kids = child_jobs(&app, &id).await;
    assert_eq!(kids.len(), 8);
    let mut workers = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for k in &kids {
        assert_eq!(k["state"], "succeeded", "{k}");
        assert_eq!(k["attempt"], 1, "no trial ran twice: {k}");
        workers.insert(k["result"]["worker_id"].as_str().unwrap().to_string());
        assert!(numbers.insert(k["result"]["number"].as_u64().unwrap()));
    }
    assert_eq!(numbers, (0..8).collect::<BTreeSet<u64>>());
    assert_eq!(workers.len(), 2, "both workers ran trials: {workers:?}");
    assert_eq!(trials(&app, &id).await.len(), 8);
    shutdown.cancel();
    handle.await.unwrap();
    app.finish().await;
}

async fn tpe_study_is_reproducible_for_a_seed(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let (train, _) = digits(&app).await;
    let body = |seed: u64| {
        json!({"kind": "tune", "spec": {"dataset_id": train["id"],
            "base": {"architecture": {"hidden": [16]}, "epochs": 3},
            "search_space": {
                "optimizer.lr": {"type": "float", "low": 1e-3, "high": 1e-1, "log": true},
                "architecture.hidden[*]": {"type": "int", "low": 8, "high": 32, "step": 8}},
            "sampler": {"type": "tpe", "n_startup_trials": 4}, "n_trials": 8, "cv_folds": 2,
            "parallelism": 1, "seed": seed, "refit": false}})
    };
    let mut runs = Vec::new();
    for seed in [7, 7, 8] {
        let job = app.submit(body(seed)).await;
        let id = job["id"].as_str().unwrap().to_string();
        let done = app.wait_job(&id, Duration::from_secs(120)).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        let t: Vec<(Value, Value)> = trials(&app, &id)
            .await
            .into_iter()
            .map(|t| (t["params"].clone(), t["value"].clone()))
            .collect();
        assert_eq!(t.len(), 8);
        runs.push(t);
    }
    assert_eq!(runs[0], runs[1], "same seed, same trials and values");
    assert_ne!(runs[0], runs[2], "another seed samples elsewhere");
    app.finish().await;
}

async fn a_crashed_workers_trial_is_rescued(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(1)).await else {
        return;
    };
    let (train, _) = digits(&app).await;
    let job = app
        .submit(json!({"kind": "tune", "spec": {"dataset_id": train["id"],
            "base": {"architecture": {"hidden": [16]}, "epochs": 3},
            "search_space": {"optimizer.lr": {"type": "categorical", "choices": [0.003, 0.01, 0.03]}},
            "sampler": "grid", "cv_folds": 2, "parallelism": 2, "refit": false}}))
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    // A worker that dies right after claiming a trial: it never heartbeats or finishes.
    let start = std::time::Instant::now();
    let stolen = loop {
        let claimed = app
            .store
            .claim_jobs(
                "dead-worker",
                &["trial".to_string()],
                1,
                Duration::from_millis(300),
            )
            .await
            .unwrap();
        if let Some(j) = claimed.into_iter().next() {
            break j;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no trial to steal"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let done = app.wait_job(&id, Duration::from_secs(120)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["result"]["trials_complete"], 3, "{done}");
    let (_, rescued) = app.get_json(&format!("/v1/jobs/{}", stolen.id)).await;
    assert_eq!(rescued["state"], "succeeded", "{rescued}");
    assert_eq!(rescued["attempt"], 2, "{rescued}");
    assert!(
        rescued["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("lease expired"),
        "{rescued}"
    );
    app.finish().await;
}

on_both_backends!(
    a_crashed_workers_trial_is_rescued,
    tpe_study_is_reproducible_for_a_seed,
    grid_study_end_to_end,
    failed_trials_do_not_stop_the_study,
    asha_prunes_trials_that_are_behind,
    bad_search_spaces_are_refused,
    cancel_stops_pending_and_running_trials,
    two_workers_share_one_study,
);

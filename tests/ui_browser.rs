//! The web UI in a real browser (headless Chromium over WebDriver, see `common::webdriver`),
//! against a real server with API keys, on both backends: the page asks for the key, keeps it
//! for the tab and shows the tenant; a model uploaded through the page's file input is stored;
//! a train job submitted from the page opens its job page, whose loss curve gains points live
//! while the job runs and ends with as many points as the API's series; the jobs list shows
//! the job with its state; a quantize job's compression report shows every tensor with the
//! API's SQNR, bytes before and after and the tolerable-loss ladder, and sorts; a finished study's plots have one mark per
//! trial, and a running study's page gains trials live; no page has a serious or critical axe-core accessibility violation. Screenshots go to `target/ui-screenshots/`. Any error in the
//! browser console fails the test.
mod common;

use common::webdriver::Browser;
use common::{fixture, spawn_app, Backend, TestOptions};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots")
}

/// `GET path` with the key: the JSON answer.
async fn get_as(app: &common::TestApp, key: &str, path: &str) -> Value {
    app.client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `POST path` of a JSON body with the key: the JSON answer.
async fn post_as(app: &common::TestApp, key: &str, path: &str, body: &Value) -> Value {
    app.client
        .post(app.url(path))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// No serious or critical accessibility violation (axe-core, when `WHITTLE_TEST_AXE` is set).
async fn assert_accessible(browser: &Browser, page: &str) {
    if let Some(violations) = browser.accessibility_violations().await {
        assert!(
            violations.is_empty(),
            "accessibility of {page}: {violations:?}"
        );
    }
}

/// No script error or warning, and no server error; a refused request the page expects
/// (the 401 that makes it ask for a key) is the browser's network log, not an error.
async fn assert_quiet_console(browser: &Browser, page: &str) {
    let errors: Vec<_> = browser
        .console()
        .await
        .into_iter()
        .filter(|(level, source, message)| {
            let bad_level = level == "SEVERE" || level == "WARNING";
            let expected = source == "network" && message.contains("status of 4");
            bad_level && !expected
        })
        .collect();
    assert!(errors.is_empty(), "console on {page}: {errors:?}");
}

async fn a_user_works_in_the_browser(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        app.finish().await;
        return;
    };
    let key = whittle::app::create_api_key(&app.store, "browser")
        .await
        .unwrap();
    let auth = |r: reqwest::RequestBuilder| r.bearer_auth(&key);
    let resp = auth(
        app.client
            .post(app.url("/v1/datasets?name=digits&target=label")),
    )
    .header("content-type", "text/csv")
    .body(fixture("digits_train.csv"))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 201);
    let dataset: Value = resp.json().await.unwrap();

    // `/ui` redirects (relatively) to the page; the page asks for the key.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/ui"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "ui/");
    browser.goto(&app.url("/ui/")).await;
    browser
        .wait_for(
            "the key form",
            "return document.querySelector('#key-form')",
            Duration::from_secs(10),
        )
        .await;
    assert_accessible(&browser, "sign-in").await;
    browser.type_into("#key-form input[name=key]", &key).await;
    browser.click("#key-form button[type=submit]").await;
    browser
        .wait_for(
            "the jobs page",
            "return document.querySelector('#jobs') && document.getElementById('who').textContent",
            Duration::from_secs(10),
        )
        .await;
    let who = browser
        .eval(
            "return document.getElementById('who').textContent",
            json!([]),
        )
        .await;
    assert_eq!(who, "tenant: browser");
    assert_quiet_console(&browser, "jobs").await;
    assert_accessible(&browser, "jobs").await;

    // Upload a model through the page.
    browser.goto(&app.url("/ui/#/models")).await;
    browser
        .wait_for(
            "the models page",
            "return document.querySelector('#model-file')",
            Duration::from_secs(10),
        )
        .await;
    let model_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/digits_mlp.safetensors")
        .canonicalize()
        .unwrap();
    browser
        .type_into("#model-file", model_path.to_str().unwrap())
        .await;
    let model_id = browser
        .wait_for(
            "the uploaded model in the list",
            "const r = [...document.querySelectorAll('#models tr[data-model]')]
                .find(r => r.textContent.includes('digits_mlp'));
             return r && r.dataset.model",
            Duration::from_secs(20),
        )
        .await;
    let (status, stored) = {
        let r = auth(
            app.client
                .get(app.url(&format!("/v1/models/{}", model_id.as_str().unwrap()))),
        )
        .send()
        .await
        .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(stored["name"], "digits_mlp");
    browser.screenshot(&screenshots().join("models.png")).await;
    assert_quiet_console(&browser, "models").await;
    assert_accessible(&browser, "models").await;
    // The model's page: its tensors.
    let mid = model_id.as_str().unwrap().to_string();
    browser.goto(&app.url(&format!("/ui/#/models/{mid}"))).await;
    let tensors = browser
        .wait_for(
            "the model page",
            "return document.querySelectorAll('#tensors tbody tr').length",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        tensors.as_u64().unwrap(),
        stored["n_tensors"].as_u64().unwrap()
    );
    assert_quiet_console(&browser, "model").await;
    assert_accessible(&browser, "model").await;
    // The datasets page lists the CSV uploaded through the API.
    browser.goto(&app.url("/ui/#/datasets")).await;
    browser
        .wait_for(
            "the datasets page",
            &format!(
                "return document.querySelector('#datasets tr[data-dataset=\"{}\"]')",
                dataset["id"].as_str().unwrap()
            ),
            Duration::from_secs(10),
        )
        .await;
    browser
        .screenshot(&screenshots().join("datasets.png"))
        .await;
    assert_quiet_console(&browser, "datasets").await;
    assert_accessible(&browser, "datasets").await;

    // Submit a train job from the page and watch its curve grow.
    let epochs = 40;
    browser.goto(&app.url("/ui/#/jobs/new")).await;
    browser
        .wait_for(
            "the new-job form",
            "return document.querySelector('#new-job textarea')",
            Duration::from_secs(10),
        )
        .await;
    assert_accessible(&browser, "new job").await;
    // Fill the guided form; the request it writes is what gets sent.
    browser
        .eval(
            "const f = document.getElementById('guided').elements;
             const set = (n, v) => { f[n].value = v; f[n].dispatchEvent(new Event('change', {bubbles: true})); };
             set('kind', 'train'); set('dataset', arguments[0]); set('hidden', '256, 256');
             set('epochs', arguments[1]); set('lr', '0.001'); set('batch_size', '16');",
            json!([dataset["id"], epochs.to_string()]),
        )
        .await;
    let written: Value = serde_json::from_str(
        browser
            .eval(
                "return document.querySelector('#new-job textarea').value",
                json!([]),
            )
            .await
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        written,
        json!({"kind": "train", "spec": {"dataset_id": dataset["id"],
            "architecture": {"hidden": [256, 256], "activation": "relu"},
            "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 16, "epochs": epochs, "seed": 0}})
    );
    browser.screenshot(&screenshots().join("new-job.png")).await;
    // Other kinds show their own fields.
    let quantize_fields = browser
        .eval(
            "const f = document.getElementById('guided').elements;
             f.kind.value = 'quantize'; f.kind.dispatchEvent(new Event('change', {bubbles: true}));
             const shown = [...document.querySelectorAll('#guided [data-field]')].filter(l => l.offsetParent !== null).map(l => l.dataset.field);
             f.kind.value = 'train'; f.kind.dispatchEvent(new Event('change', {bubbles: true}));
             return shown",
            json!([]),
        )
        .await;
    assert_eq!(
        quantize_fields,
        json!([
            "kind",
            "model",
            "eval_dataset",
            "bits",
            "granularity",
            "group_size",
            "tolerable_loss"
        ])
    );
    browser.click("#new-job button[type=submit]").await;
    let job_id = browser
        .wait_for(
            "the job page",
            "const m = location.hash.match(/^#\\/jobs\\/([0-9a-f-]{36})$/);
             return m && document.querySelector('#curves') && m[1]",
            Duration::from_secs(10),
        )
        .await
        .as_str()
        .unwrap()
        .to_string();
    let points = "const p = document.querySelector('#curves polyline[data-series=train_loss]');
                  return p ? Number(p.dataset.points) : 0";
    let first = browser
        .wait_for("a first point", points, Duration::from_secs(60))
        .await
        .as_i64()
        .unwrap();
    // While the job runs, more points arrive without a reload.
    let live = browser
        .wait_for(
            "more points while running",
            &format!(
                "const p = document.querySelector('#curves polyline[data-series=train_loss]');
                 const n = p ? Number(p.dataset.points) : 0;
                 return n > {first} && n"
            ),
            Duration::from_secs(120),
        )
        .await;
    assert!(live.as_i64().unwrap() > first);
    browser
        .wait_for(
            "the job to succeed",
            "return document.querySelector('#main [data-state=succeeded]')",
            Duration::from_secs(180),
        )
        .await;
    let shown = browser
        .wait_for(
            "every point",
            &format!(
                "const p = document.querySelector('#curves polyline[data-series=train_loss]');
                 return p && Number(p.dataset.points) === {epochs} && {epochs}"
            ),
            Duration::from_secs(20),
        )
        .await;
    let metrics: Value = get_as(&app, &key, &format!("/v1/jobs/{job_id}/metrics")).await;
    assert_eq!(
        shown.as_i64().unwrap() as usize,
        metrics["series"]["train_loss"].as_array().unwrap().len()
    );
    browser.screenshot(&screenshots().join("job.png")).await;
    assert_quiet_console(&browser, "job").await;
    assert_accessible(&browser, "job").await;

    // The jobs list shows it, succeeded.
    browser.goto(&app.url("/ui/#/jobs?kind=train")).await;
    browser
        .wait_for(
            "the job in the list",
            &format!(
                "const r = document.querySelector('#jobs tr[data-job=\"{job_id}\"]');
                 return r && r.querySelector('[data-state=succeeded]')"
            ),
            Duration::from_secs(10),
        )
        .await;
    browser.screenshot(&screenshots().join("jobs.png")).await;
    assert_quiet_console(&browser, "jobs list").await;

    // A quantize job's compression report: one row per tensor with the API's numbers,
    // sortable, bytes and accuracy before and after.
    let resp = auth(
        app.client
            .post(app.url("/v1/datasets?name=test&target=label")),
    )
    .header("content-type", "text/csv")
    .body(fixture("digits_test.csv"))
    .send()
    .await
    .unwrap();
    let test_set: Value = resp.json().await.unwrap();
    let quantize = post_as(
        &app,
        &key,
        "/v1/jobs",
        &json!({"kind": "quantize", "spec": {"model_id": model_id,
            "scheme": {"bits": 2, "granularity": "tensor"},
            "eval_dataset_id": test_set["id"], "tolerable_loss": 0.02}}),
    )
    .await;
    let qid = quantize["id"].as_str().unwrap().to_string();
    let done: Value = get_as(&app, &key, &format!("/v1/jobs/{qid}?wait=60")).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let tensors = done["result"]["tensors"].as_array().unwrap();
    browser.goto(&app.url(&format!("/ui/#/jobs/{qid}"))).await;
    let rows = browser
        .wait_for(
            "the compression report",
            &format!(
                "return document.querySelector('h1').textContent.endsWith('{}')
                    && document.querySelectorAll('#tensor-report tbody tr').length",
                &qid[qid.len() - 8..]
            ),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(rows.as_u64().unwrap() as usize, tensors.len());
    for t in tensors {
        let shown = browser
            .eval(
                "const r = document.querySelector(`#tensor-report tr[data-tensor=\"${arguments[0]}\"]`);
                 return r && r.querySelector('[data-key=sqnr_db]').textContent",
                json!([t["name"]]),
            )
            .await;
        let want = t["sqnr_db"].as_f64().unwrap();
        let got: f64 = shown.as_str().unwrap().parse().unwrap();
        assert!(
            (got - want).abs() < 1e-3,
            "{}: page {got}, API {want}",
            t["name"]
        );
    }
    let bytes = browser
        .eval(
            "return [...document.querySelectorAll('#report figure.ba .bar')].slice(0, 2).map(b => Number(b.dataset.value))",
            json!([]),
        )
        .await;
    assert_eq!(
        bytes,
        json!([
            done["result"]["bytes_before"],
            done["result"]["bytes_after"]
        ])
    );
    // The tolerable-loss ladder: one row per scheme tried.
    let ladder = browser
        .eval(
            "return document.querySelectorAll('#attempts tbody tr').length",
            json!([]),
        )
        .await;
    let tried = done["result"]["attempts"].as_array().unwrap().len();
    assert!(tried >= 2, "{done}");
    assert_eq!(ladder.as_u64().unwrap() as usize, tried);
    // Sorting by SQNR, descending on the second click.
    browser
        .click("#tensor-report button[data-sort=sqnr_db]")
        .await;
    browser
        .click("#tensor-report button[data-sort=sqnr_db]")
        .await;
    let order = browser
        .eval(
            "return [...document.querySelectorAll('#tensor-report tbody [data-key=sqnr_db]')].map(c => Number(c.textContent))",
            json!([]),
        )
        .await;
    let order: Vec<f64> = serde_json::from_value(order).unwrap();
    assert!(order.windows(2).all(|w| w[0] >= w[1]), "{order:?}");
    browser
        .eval(
            "document.querySelector('#report').scrollIntoView()",
            json!([]),
        )
        .await;
    browser.screenshot(&screenshots().join("report.png")).await;
    assert_quiet_console(&browser, "compression report").await;
    assert_accessible(&browser, "compression report").await;

    // A study watched while it runs: its trials table and history grow without a reload.
    let live_study = post_as(
        &app,
        &key,
        "/v1/jobs",
        &json!({"kind": "tune", "spec": {"dataset_id": dataset["id"],
            "base": {"architecture": {"hidden": [128, 128], "activation": "relu"},
                     "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 16, "epochs": 15, "seed": 0},
            "search_space": {"optimizer.lr": {"type": "float", "low": 0.0005, "high": 0.01, "log": true}},
            "sampler": "random", "n_trials": 6, "cv_folds": 3, "parallelism": 1, "seed": 0}}),
    )
    .await;
    let lid = live_study["id"].as_str().unwrap().to_string();
    browser.goto(&app.url(&format!("/ui/#/jobs/{lid}"))).await;
    let rows =
        "return document.querySelectorAll('#study #trials tbody tr[data-state=complete]').length";
    let at_first = browser
        .wait_for(
            "the study page",
            &format!(
                "return document.querySelector('h1').textContent.endsWith('{}')
                    && document.querySelector('#study #trials') && 'shown'",
                &lid[lid.len() - 8..]
            ),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(at_first, "shown");
    let first = browser.eval(rows, json!([])).await.as_u64().unwrap();
    assert!(
        first < 6,
        "the study finished before the page could watch it"
    );
    browser
        .wait_for(
            "trials to complete while the page is open",
            &format!(
                "const n = document.querySelectorAll('#study #trials tbody tr[data-state=complete]').length;
                 return n > {first} && n"
            ),
            Duration::from_secs(120),
        )
        .await;
    browser
        .wait_for(
            "all six trials",
            "return document.querySelectorAll('#history g.points circle').length === 6",
            Duration::from_secs(180),
        )
        .await;
    assert_quiet_console(&browser, "live study").await;

    // A finished study: history, slices, parallel coordinates, importance and the trials
    // table, each with one mark per trial.
    let tune = post_as(
        &app,
        &key,
        "/v1/jobs",
        &json!({"kind": "tune", "spec": {"dataset_id": dataset["id"],
            "base": {"architecture": {"hidden": [16], "activation": "relu"},
                     "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 64, "epochs": 3, "seed": 0},
            "search_space": {
                "optimizer.lr": {"type": "categorical", "choices": [0.003, 0.03]},
                "batch_size": {"type": "categorical", "choices": [32, 128]}},
            "sampler": "grid", "cv_folds": 2, "metric": "accuracy", "direction": "maximize",
            "parallelism": 2, "seed": 0}}),
    )
    .await;
    let tid = tune["id"].as_str().unwrap().to_string();
    let done: Value = get_as(&app, &key, &format!("/v1/jobs/{tid}?wait=60")).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let trials: Value = get_as(&app, &key, &format!("/v1/jobs/{tid}/trials")).await;
    let n = trials["items"].as_array().unwrap().len();
    let complete = trials["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == "complete")
        .count();
    assert_eq!(n, 4);
    browser.goto(&app.url(&format!("/ui/#/jobs/{tid}"))).await;
    // Only the hash changes: wait for this job's page, not the previous one's.
    browser
        .wait_for(
            "the study",
            &format!(
                "return document.querySelector('h1').textContent.endsWith('{}')
                    && document.querySelector('#study #trials tbody tr')",
                &tid[tid.len() - 8..]
            ),
            Duration::from_secs(10),
        )
        .await;
    let counts = browser
        .eval(
            "return {
               history: document.querySelectorAll('#history g.points circle').length,
               slices: document.querySelectorAll('#slices figure').length,
               parallel: document.querySelectorAll('#parallel polyline.trial').length,
               importance: document.querySelectorAll('#importance tr').length,
               trials: document.querySelectorAll('#trials tbody tr').length,
               intermediate: document.querySelectorAll('#intermediate polyline').length,
             }",
            json!([]),
        )
        .await;
    assert_eq!(
        counts,
        json!({"history": complete, "slices": 2, "parallel": complete, "importance": 2,
               "trials": n, "intermediate": n}),
        "{counts}"
    );
    browser
        .eval(
            "document.querySelector('#study').scrollIntoView()",
            json!([]),
        )
        .await;
    browser.screenshot(&screenshots().join("study.png")).await;
    assert_quiet_console(&browser, "study").await;
    assert_accessible(&browser, "study").await;
    drop(browser);
    app.finish().await;
}

on_both_backends!(a_user_works_in_the_browser,);

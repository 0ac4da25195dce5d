//! The web UI in a real browser (headless Chromium over WebDriver, see `common::webdriver`),
//! against a real server with API keys, on both backends: the page asks for the key, keeps it
//! for the tab and shows the tenant; a model uploaded through the page's file input is stored;
//! a train job submitted from the page opens its job page, whose loss curve gains points live
//! while the job runs and ends with as many points as the API's series; the jobs list shows
//! the job with its state. Screenshots go to `target/ui-screenshots/`. Any error in the
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
    let request = json!({"kind": "train", "spec": {"dataset_id": dataset["id"],
        "architecture": {"hidden": [256, 256], "activation": "relu"},
        "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 16, "epochs": epochs, "seed": 0}});
    browser
        .eval(
            "document.querySelector('#new-job textarea').value = arguments[0]",
            json!([request.to_string()]),
        )
        .await;
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
    let metrics: Value = auth(
        app.client
            .get(app.url(&format!("/v1/jobs/{job_id}/metrics"))),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        shown.as_i64().unwrap() as usize,
        metrics["series"]["train_loss"].as_array().unwrap().len()
    );
    browser.screenshot(&screenshots().join("job.png")).await;
    assert_quiet_console(&browser, "job").await;

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
    drop(browser);
    app.finish().await;
}

#[tokio::test]
async fn a_user_works_in_the_browser_sqlite() {
    a_user_works_in_the_browser(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_user_works_in_the_browser_postgres() {
    a_user_works_in_the_browser(Backend::Postgres).await;
}

//! The digits hyper-parameter study (hidden widths, learning rate, batch size and weight
//! decay; 30 trials of 3-fold CV; the same study Optuna's TPE runs in the Python baseline
//! script) through the real service: a server on SQLite with 2 worker slots, the digits train split uploaded over HTTP,
//! one `tune` job per (sampler, pruner, seed), each waited for. Prints JSON lines:
//! best CV accuracy, wall seconds per study, epochs trained versus the budget, test accuracy
//! of the refit model.
//!
//! `cargo bench --bench tune`. Knobs: `TUNE_BENCH_SEEDS` (default "0,1,2"),
//! `TUNE_BENCH_CONFIGS` (default "tpe/none,tpe/asha,random/none"), `TUNE_BENCH_WORKERS` (2).
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use whittle::config::{LimitsConfig, ServeConfig, StorageConfig, WorkerConfig};
use whittle::jobs::Executors;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

async fn upload(client: &reqwest::Client, base: &str, name: &str, csv: Vec<u8>) -> String {
    let r: Value = client
        .post(format!("{base}/v1/datasets?name={name}&target=label"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    r["id"].as_str().expect("dataset id").to_string()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let seeds: Vec<u64> = std::env::var("TUNE_BENCH_SEEDS")
        .unwrap_or_else(|_| "0,1,2".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let configs: Vec<(String, String)> = std::env::var("TUNE_BENCH_CONFIGS")
        .unwrap_or_else(|_| "tpe/none,tpe/asha,random/none".into())
        .split(',')
        .filter_map(|c| {
            let (s, p) = c.trim().split_once('/')?;
            Some((s.to_string(), p.to_string()))
        })
        .collect();
    let workers: usize = std::env::var("TUNE_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);

    let dir = tempfile::tempdir().expect("tempdir");
    let storage = StorageConfig {
        database_url: format!("sqlite://{}/bench.db", dir.path().display()),
        artifacts: dir.path().join("a").display().to_string(),
        scratch_dir: dir.path().join("s"),
        s3: Default::default(),
    };
    let (store, artifacts) = whittle::app::open_storage(&storage).await.expect("storage");
    let cfg = ServeConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        insecure_no_auth: false,
        metrics_token: None,
        bootstrap: Default::default(),
        base_path: String::new(),
        limits: LimitsConfig::default(),
        worker: WorkerConfig {
            workers,
            compute_threads: 2,
            lease_secs: 60,
            heartbeat_ms: 1000,
            poll_ms: 50,
            rescue_ms: 5000,
            shutdown_grace_secs: 5,
            worker_id: None,
            checkpoint_ms: 30_000,
            webhooks: Default::default(),
        },
    };
    let server = whittle::app::start_server(store, artifacts, &cfg, Executors::standard())
        .await
        .expect("server");
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let train = upload(&client, &base, "digits-train", fixture("digits_train.csv")).await;
    let test = upload(&client, &base, "digits-test", fixture("digits_test.csv")).await;

    for (sampler, pruner) in &configs {
        for &seed in &seeds {
            let pruner_spec = match pruner.as_str() {
                "asha" => json!({"type": "asha", "min_resource": 2, "reduction_factor": 3}),
                other => json!(other),
            };
            let body = json!({"kind": "tune", "spec": {"dataset_id": train,
                "base": {"architecture": {"hidden": [64, 64], "activation": "relu"},
                         "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 64,
                         "epochs": 20, "seed": seed},
                "search_space": {
                    "architecture.hidden[*]": {"type": "int", "low": 16, "high": 256},
                    "optimizer.lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": true},
                    "batch_size": {"type": "categorical", "choices": [32, 64, 128, 256]},
                    "optimizer.weight_decay": {"type": "float", "low": 1e-6, "high": 1e-2, "log": true}},
                "sampler": sampler, "n_trials": 30, "cv_folds": 3, "metric": "accuracy",
                "direction": "maximize", "parallelism": workers, "pruner": pruner_spec,
                "seed": seed, "eval_dataset_id": test}});
            let started = Instant::now();
            let job: Value = client
                .post(format!("{base}/v1/jobs"))
                .json(&body)
                .send()
                .await
                .expect("submit")
                .json()
                .await
                .expect("json");
            let id = job["id"].as_str().expect("job id").to_string();
            let done = loop {
                let j: Value = client
                    .get(format!("{base}/v1/jobs/{id}"))
                    .send()
                    .await
                    .expect("get")
                    .json()
                    .await
                    .expect("json");
                if ["succeeded", "failed", "canceled"].contains(&j["state"].as_str().unwrap_or(""))
                {
                    break j;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let wall = started.elapsed().as_secs_f64();
            let r = &done["result"];
            let trials: Value = client
                .get(format!("{base}/v1/jobs/{id}/trials"))
                .send()
                .await
                .expect("trials")
                .json()
                .await
                .expect("json");
            let trial_seconds: f64 = trials["items"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t["duration_seconds"].as_f64())
                        .sum()
                })
                .unwrap_or(0.0);
            println!(
                "{}",
                json!({
                    "bench": "tune_digits_study",
                    "sampler": sampler,
                    "pruner": pruner,
                    "seed": seed,
                    "state": done["state"],
                    "best_cv_accuracy": r["best_value"],
                    "best_trial": r["best_trial"],
                    "best_params": r["best_params"],
                    "search_seconds": r["search_seconds"],
                    "trial_seconds_sum": trial_seconds,
                    "wall_seconds_incl_refit": wall,
                    "epochs_trained": r["epochs_trained"],
                    "epochs_budget": r["epochs_budget"],
                    "trials_pruned": r["trials_pruned"],
                    "test_accuracy_refit": r["test"]["accuracy"],
                    "error": done["error"],
                })
            );
        }
    }
    server.stop().await.expect("stop");
}

//! What training checkpoints cost, printed as JSON lines: the same `train` job (digits, an
//! MLP 64→256→256→10, Adam, 60 epochs) over HTTP on a server whose workers checkpoint never
//! (`WHITTLE_CHECKPOINT_MS=0`, only at a shutdown hand-back), at the default 30 s, every
//! second, and at every epoch boundary (1 ms). For each: the job's run time
//! (`finished_at − started_at`), the overhead against `off`, and the checkpoint's size beside
//! the trained model's (sampled from the artifact directory while the job runs).
//!
//! `cargo bench --bench checkpoint`. Knobs: `CHECKPOINT_BENCH_EPOCHS` (60),
//! `CHECKPOINT_BENCH_REPEATS` (3; the median is reported).
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use whittle::config::{ServeConfig, StorageConfig, WorkerConfig};
use whittle::jobs::Executors;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn timestamp(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .expect("a timestamp")
        .with_timezone(&chrono::Utc)
}

struct Run {
    seconds: f64,
    checkpoint_bytes: u64,
    writes_seen: usize,
    model_bytes: u64,
}

async fn one_run(checkpoint_ms: u64, epochs: usize) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = StorageConfig {
        database_url: format!("sqlite://{}/bench.db", dir.path().display()),
        artifacts: dir.path().join("artifacts").display().to_string(),
        scratch_dir: dir.path().join("scratch"),
        s3: Default::default(),
    };
    let (store, artifacts) = whittle::app::open_storage(&storage).await.expect("storage");
    let cfg = ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        insecure_no_auth: false,
        metrics_token: None,
        bootstrap: Default::default(),
        base_path: String::new(),
        limits: Default::default(),
        worker: WorkerConfig {
            workers: 1,
            poll_ms: 20,
            checkpoint_ms,
            ..WorkerConfig::default()
        },
    };
    let server = whittle::app::start_server(store, artifacts, &cfg, Executors::standard())
        .await
        .expect("server");
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let dataset: Value = client
        .post(format!("{base}/v1/datasets?name=digits&target=label"))
        .header("content-type", "text/csv")
        .body(fixture("digits_train.csv"))
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let job: Value = client
        .post(format!("{base}/v1/jobs"))
        .json(
            &json!({"kind": "train", "spec": {"dataset_id": dataset["id"],
            "architecture": {"hidden": [256, 256], "activation": "relu"},
            "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 64,
            "epochs": epochs, "seed": 0}}),
        )
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let id = job["id"].as_str().expect("job id").to_string();
    let ckpt = dir
        .path()
        .join("artifacts")
        .join(whittle::artifacts::checkpoint_key(id.parse().unwrap()));
    let (mut checkpoint_bytes, mut writes_seen, mut last_mtime) = (0u64, 0usize, None);
    let deadline = Instant::now() + Duration::from_secs(600);
    let done = loop {
        if let Ok(meta) = std::fs::metadata(&ckpt) {
            checkpoint_bytes = checkpoint_bytes.max(meta.len());
            let mtime = meta.modified().ok();
            if mtime != last_mtime {
                writes_seen += 1;
                last_mtime = mtime;
            }
        }
        let j: Value = client
            .get(format!("{base}/v1/jobs/{id}"))
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("json");
        if j["state"] != "queued" && j["state"] != "running" {
            break j;
        }
        assert!(Instant::now() < deadline, "job did not finish: {j}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    assert_eq!(done["state"], "succeeded", "{done}");
    let seconds = (timestamp(&done["finished_at"]) - timestamp(&done["started_at"]))
        .num_microseconds()
        .unwrap_or(0) as f64
        / 1e6;
    let model: Value = client
        .get(format!(
            "{base}/v1/models/{}",
            done["output_model_id"].as_str().unwrap()
        ))
        .send()
        .await
        .expect("model")
        .json()
        .await
        .expect("json");
    let model_bytes = model["bytes"].as_u64().unwrap_or(0);
    assert!(
        file_size(&ckpt).is_none(),
        "the checkpoint outlives its job"
    );
    server.stop().await.expect("stop");
    Run {
        seconds,
        checkpoint_bytes,
        writes_seen,
        model_bytes,
    }
}

fn main() {
    let epochs = env_usize("CHECKPOINT_BENCH_EPOCHS", 60);
    let repeats = env_usize("CHECKPOINT_BENCH_REPEATS", 3).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut baseline = None;
    for (label, ms) in [
        ("off", 0u64),
        ("default_30s", 30_000),
        ("every_1s", 1_000),
        ("every_epoch", 1),
    ] {
        let mut runs: Vec<Run> = (0..repeats)
            .map(|_| rt.block_on(one_run(ms, epochs)))
            .collect();
        runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        let median = &runs[runs.len() / 2];
        let base = *baseline.get_or_insert(median.seconds);
        println!(
            "{}",
            json!({"bench": "train_checkpoint", "checkpoint": label, "checkpoint_ms": ms,
                "epochs": epochs, "repeats": repeats, "job_seconds": median.seconds,
                "overhead_pct": (median.seconds / base - 1.0) * 100.0,
                "checkpoint_bytes": median.checkpoint_bytes,
                "checkpoint_writes_seen": median.writes_seen,
                "model_bytes": median.model_bytes})
        );
    }
}

//! What a user sees, end to end, on a 512 MiB model (8 tensors of 4096×4096 f32,
//! N(0, 0.02²)): a real `whittle serve` process (release build, SQLite, local artifacts),
//! the model uploaded with curl, quantize int8 per channel, quantize int4 groups of 128
//! asymmetric, prune 50 % global magnitude and analyze run as jobs, the outputs downloaded
//! with curl. Beside it, in the same run: `dd` of the model onto the same disk with
//! `conv=fdatasync` (what a durable upload is bounded by) and without (what writing any
//! output into the page cache is bounded by) and the same steps as a numpy pipeline (`benches/e2e_peer.py`:
//! `load_file` → numpy → `save_file`) when a Python with numpy and safetensors is found.
//!
//! Prints JSON lines: per step seconds, GB/s of the model's f32 bytes (or of the bytes moved
//! for transfers), the server's peak RSS during the step (VmHWM, reset before each step), and
//! for jobs the job time (`finished_at − started_at`) and the wall time from submit to the
//! observed end.
//!
//! `cargo bench --bench e2e`. Knobs: `E2E_TENSORS` (default 8), `E2E_DIM` (4096),
//! `E2E_PYTHON` (default: `interop/.venv-light/bin/python`, else `python3`; `E2E_PEER=0`
//! skips the numpy pipeline), `E2E_REPEAT` (runs of each step, default 2; the peer's best is
//! compared with whittle's best), `E2E_STEPS` (comma-separated job steps to run, default all), `E2E_UPLOADS` (uploads,
//! default `E2E_REPEAT`).
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use whittle::formats::safetensors::{Dtype, SafetensorsWriter, TensorPlan};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes the model: `layers.{i}.weight`, `rows × cols` f32 each.
fn write_model(path: &Path, n: usize, dim: usize) {
    let plans: Vec<TensorPlan> = (0..n)
        .map(|i| TensorPlan {
            name: format!("layers.{i}.weight"),
            dtype: Dtype::F32,
            shape: vec![dim, dim],
        })
        .collect();
    let mut w = SafetensorsWriter::create(path, plans, Default::default()).expect("create model");
    let normal = Normal::new(0.0f32, 0.02).expect("normal");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut bytes = vec![0u8; dim * dim * 4];
    for i in 0..n {
        for c in bytes.chunks_exact_mut(4) {
            c.copy_from_slice(&normal.sample(&mut rng).to_le_bytes());
        }
        w.write_tensor(&format!("layers.{i}.weight"), &bytes)
            .expect("write tensor");
    }
    w.finish().expect("finish model");
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_whittle"))
            .arg("serve")
            .env("DATABASE_URL", format!("sqlite://{}/e2e.db", dir.display()))
            .env("WHITTLE_ARTIFACTS", dir.join("artifacts"))
            .env("WHITTLE_SCRATCH_DIR", dir.join("scratch"))
            .env("WHITTLE_BIND", format!("127.0.0.1:{port}"))
            .env("WHITTLE_INSECURE_NO_AUTH", "true")
            .env("WHITTLE_WORKERS", "1")
            .env("WHITTLE_POLL_MS", "20")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start whittle serve");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resets the peak RSS (VmHWM) of the server process.
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    /// Peak RSS since the last reset, in MB.
    fn peak_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1000.0)
    }
}

fn gbps(bytes: u64, s: f64) -> f64 {
    round(bytes as f64 / s / 1e9)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn curl(args: &[&str]) -> (f64, String) {
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body"])
        .args(args)
        .output()
        .expect("run curl");
    let s = t.elapsed().as_secs_f64();
    let body = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "curl {args:?}: {body} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (s, body)
}

/// `dd` of the model onto the artifacts' disk, with fdatasync (what a durable upload is
/// bounded by) or without (what writing any output into the page cache is bounded by).
fn dd_baseline(model: &Path, dir: &Path, bytes: u64, sync: bool) -> Option<f64> {
    let target = dir.join("dd.tmp");
    let t = Instant::now();
    let ok = Command::new("dd")
        .arg(format!("if={}", model.display()))
        .arg(format!("of={}", target.display()))
        .arg("bs=4M")
        .args(sync.then_some("conv=fdatasync"))
        .stderr(Stdio::null())
        .status()
        .ok()?
        .success();
    let s = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&target);
    ok.then(|| gbps(bytes, s))
}

async fn wait_job(client: &reqwest::Client, base: &str, id: &str) -> Value {
    loop {
        let job: Value = client
            .get(format!("{base}/v1/jobs/{id}"))
            .send()
            .await
            .expect("get job")
            .json()
            .await
            .expect("job json");
        match job["state"].as_str() {
            Some("succeeded") => return job,
            Some("failed" | "canceled") => panic!("job {id} ended: {job}"),
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

fn job_seconds(job: &Value) -> f64 {
    let at = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(job[k].as_str().expect("timestamp")).expect("rfc3339")
    };
    (at("finished_at") - at("started_at"))
        .num_microseconds()
        .unwrap_or(0) as f64
        / 1e6
}

/// A Python with numpy and safetensors, if one is found.
fn python() -> Option<String> {
    let candidates = match std::env::var("E2E_PYTHON") {
        Ok(p) => vec![p],
        Err(_) => vec![
            format!(
                "{}/interop/.venv-light/bin/python",
                env!("CARGO_MANIFEST_DIR")
            ),
            "python3".to_string(),
        ],
    };
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import numpy, safetensors"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn peer(python: &str, step: &str, model: &Path, out: &Path) -> f64 {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/e2e_peer.py");
    let output = Command::new(python)
        .args([script, step])
        .arg(model)
        .arg(out)
        .output()
        .expect("run the numpy pipeline");
    assert!(
        output.status.success(),
        "numpy {step}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v: Value = serde_json::from_slice(&output.stdout).expect("peer json");
    v["s"].as_f64().expect("peer seconds")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n = env_usize("E2E_TENSORS", 8);
    let dim = env_usize("E2E_DIM", 4096);
    let repeat = env_usize("E2E_REPEAT", 2).max(1);
    let dir =
        tempfile::tempdir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/target")).expect("tempdir");
    let model = dir.path().join("model.safetensors");
    write_model(&model, n, dim);
    let model_bytes = std::fs::metadata(&model).expect("model").len();
    let f32_bytes = (n * dim * dim * 4) as u64;
    let largest_mb = (dim * dim * 4) as f64 / 1e6;
    let rss_goal_mb = round(largest_mb * 3.0 + 100.0);
    println!(
        "{}",
        json!({"bench": "e2e", "tensors": n, "shape": [dim, dim], "model_bytes": model_bytes,
               "rss_goal_mb": rss_goal_mb})
    );
    for (step, sync) in [("dd_fdatasync", true), ("dd_page_cache", false)] {
        if let Some(dd) = dd_baseline(&model, dir.path(), model_bytes, sync) {
            println!("{}", json!({"bench": "e2e", "step": step, "GBps": dd}));
        }
    }

    let server = Server::start(dir.path());
    let base = server.base.clone();
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = |step: &str, extra: Value| {
        let mut line = json!({"bench": "e2e", "impl": "whittle", "step": step,
                              "peak_rss_mb": server.peak_mb()});
        if let (Some(o), Some(e)) = (line.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        if let Some(rss) = line["peak_rss_mb"].as_f64() {
            line["rss_within_goal"] = json!(rss <= rss_goal_mb);
        }
        println!("{line}");
    };

    // Upload, as curl streams a file.
    let mut model_id = String::new();
    for _ in 0..env_usize("E2E_UPLOADS", repeat).max(1) {
        server.reset_peak();
        let (s, body) = curl(&[
            "-X",
            "POST",
            "-H",
            "content-type: application/octet-stream",
            "-H",
            "Expect:",
            "-T",
            &model.display().to_string(),
            &format!("{base}/v1/models?name=e2e"),
        ]);
        let v: Value = serde_json::from_str(&body).expect("model json");
        model_id = v["id"].as_str().expect("model id").to_string();
        report(
            "upload",
            json!({"s": round(s), "GBps": gbps(model_bytes, s)}),
        );
    }

    let jobs = [
        (
            "quantize_int8_channel",
            "int8",
            json!({"kind": "quantize", "spec": {"model_id": model_id,
                   "scheme": {"bits": 8, "granularity": "channel"}}}),
        ),
        (
            "quantize_int4_g128_asym",
            "int4",
            json!({"kind": "quantize", "spec": {"model_id": model_id,
                   "scheme": {"bits": 4, "symmetric": false, "granularity": "group", "group_size": 128}}}),
        ),
        (
            "prune_50_global_magnitude",
            "prune50",
            json!({"kind": "prune", "spec": {"model_id": model_id, "method": "magnitude",
                   "sparsity": 0.5, "scope": "global"}}),
        ),
        (
            "analyze",
            "analyze",
            json!({"kind": "analyze", "spec": {"model_id": model_id}}),
        ),
    ];
    let python = match std::env::var("E2E_PEER").as_deref() {
        Ok("0") => None,
        _ => python(),
    };
    let wanted: Option<Vec<String>> = std::env::var("E2E_STEPS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let mut outputs: Vec<(String, String)> = Vec::new();
    for (step, peer_step, request) in &jobs {
        if wanted
            .as_ref()
            .is_some_and(|w| !w.iter().any(|x| x == step))
        {
            continue;
        }
        let mut best = f64::INFINITY;
        for _ in 0..repeat {
            server.reset_peak();
            let t = Instant::now();
            let created: Value = client
                .post(format!("{base}/v1/jobs"))
                .json(request)
                .send()
                .await
                .expect("submit")
                .json()
                .await
                .expect("job json");
            let id = created["id"].as_str().expect("job id").to_string();
            let job = wait_job(&client, &base, &id).await;
            let wall = t.elapsed().as_secs_f64();
            let s = job_seconds(&job);
            best = best.min(s);
            report(
                step,
                json!({"s": round(s), "GBps": gbps(f32_bytes, s), "wall_s": round(wall),
                       "wall_GBps": gbps(f32_bytes, wall)}),
            );
            if let Some(out) = job["output_model_id"].as_str() {
                if !outputs.iter().any(|(s, _)| s == step) {
                    outputs.push((step.to_string(), out.to_string()));
                }
            }
        }
        if let Some(py) = &python {
            let out = dir.path().join(format!("peer-{peer_step}.out"));
            let mut peer_best = f64::INFINITY;
            for _ in 0..repeat {
                peer_best = peer_best.min(peer(py, peer_step, &model, &out));
            }
            let _ = std::fs::remove_file(&out);
            println!(
                "{}",
                json!({"bench": "e2e", "impl": "numpy", "step": step, "s": round(peer_best),
                       "GBps": gbps(f32_bytes, peer_best),
                       "whittle_speedup": round(peer_best / best)})
            );
        }
    }

    // Downloads with curl, to /dev/null: what the server delivers (saving to a file adds the
    // client's disk, which this bench's `dd` line bounds).
    for (step, id) in &outputs {
        for _ in 0..repeat {
            server.reset_peak();
            let (s, out) = curl(&[
                "-o",
                "/dev/null",
                "-w",
                "%{size_download}",
                &format!("{base}/v1/models/{id}/content"),
            ]);
            let bytes: u64 = out.trim().parse().unwrap_or(0);
            report(
                "download",
                json!({"of": step, "bytes": bytes, "s": round(s), "GBps": gbps(bytes, s)}),
            );
        }
    }
    drop(server);
}

//! Model folders over real HTTP, on SQLite and Postgres: multipart and `.tar` uploads of a
//! sharded folder, file listing and download, the folder back as `.tar`, refused folders
//! (nothing stored), and quantize / prune writing a folder of the same shape with the side
//! files carried over and `config.json` describing the quantization.
mod common;

use common::{spawn_app, Backend, TestApp, TestOptions};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;

/// A safetensors file of F32 tensors filled with a deterministic pattern.
fn shard(tensors: &[(&str, Vec<usize>)], seed: u32) -> Vec<u8> {
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (k, (name, shape)) in tensors.iter().enumerate() {
        let n: usize = shape.iter().product();
        let bytes = (0..n)
            .flat_map(|i| {
                let x = ((i as u32).wrapping_mul(2654435761) ^ (seed + k as u32)) % 1000;
                (x as f32 / 1000.0 - 0.5).to_le_bytes()
            })
            .collect();
        data.push((name.to_string(), shape.clone(), bytes));
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    let meta = std::collections::HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::tensor::serialize(views, Some(meta)).unwrap()
}

const SHARD1: &str = "model-00001-of-00002.safetensors";
const SHARD2: &str = "model-00002-of-00002.safetensors";

/// A small decoder-shaped folder: two shards, their index, config and tokenizer files.
fn folder() -> BTreeMap<String, Vec<u8>> {
    let s1 = vec![
        ("model.embed_tokens.weight", vec![96, 32]),
        ("model.layers.0.mlp.up_proj.weight", vec![64, 32]),
        ("model.layers.0.input_layernorm.weight", vec![32]),
    ];
    let s2 = vec![
        ("model.layers.0.mlp.down_proj.weight", vec![32, 64]),
        ("lm_head.weight", vec![96, 32]),
    ];
    let mut weight_map = serde_json::Map::new();
    for (n, _) in &s1 {
        weight_map.insert(n.to_string(), json!(SHARD1));
    }
    for (n, _) in &s2 {
        weight_map.insert(n.to_string(), json!(SHARD2));
    }
    let index =
        json!({"metadata": {"total_size": 4 * (96*32*2 + 64*32*2 + 32)}, "weight_map": weight_map});
    BTreeMap::from([
        (SHARD1.to_string(), shard(&s1, 1)),
        (SHARD2.to_string(), shard(&s2, 2)),
        (
            "model.safetensors.index.json".into(),
            serde_json::to_vec_pretty(&index).unwrap(),
        ),
        (
            "config.json".into(),
            serde_json::to_vec_pretty(&json!({"architectures": ["LlamaForCausalLM"],
                "model_type": "llama", "hidden_size": 32, "torch_dtype": "float32"}))
            .unwrap(),
        ),
        (
            "tokenizer.json".into(),
            br#"{"version":"1.0","model":{"type":"BPE"}}"#.to_vec(),
        ),
        (
            "tokenizer_config.json".into(),
            br#"{"model_max_length": 64}"#.to_vec(),
        ),
    ])
}

/// POST a folder as multipart, one part per file named by its path.
async fn post_folder(
    app: &TestApp,
    name: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> reqwest::Response {
    app.post_folder(name, files).await
}

fn tar_of(files: &BTreeMap<String, Vec<u8>>, top: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("{top}{path}"), bytes.as_slice())
            .unwrap();
    }
    b.into_inner().unwrap()
}

fn untar(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut a = tar::Archive::new(bytes);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().to_string();
        let mut v = Vec::new();
        e.read_to_end(&mut v).unwrap();
        out.insert(path, v);
    }
    out
}

async fn folder_round_trip(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let files = folder();
    let r = post_folder(&app, "tiny-llama", &files).await;
    let status = r.status();
    let model: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{model}");
    assert_eq!(model["layout"], "folder", "{model}");
    assert_eq!(model["n_tensors"], 5, "{model}");
    assert_eq!(model["name"], "tiny-llama");
    let id = model["id"].as_str().unwrap();

    let (status, listed) = app.get_json(&format!("/v1/models/{id}/files")).await;
    assert_eq!(status, 200);
    let paths: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, files.keys().map(String::as_str).collect::<Vec<_>>());
    let roles: BTreeMap<&str, &str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles[SHARD1], "shard");
    assert_eq!(roles["model.safetensors.index.json"], "index");
    assert_eq!(roles["config.json"], "config");
    assert_eq!(roles["tokenizer.json"], "side");

    for (path, bytes) in &files {
        let (status, got) = app
            .get_bytes(&format!("/v1/models/{id}/files/{path}"))
            .await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(&got, bytes, "{path} is byte-identical");
    }
    let (status, _) = app
        .get_bytes(&format!("/v1/models/{id}/files/nope.json"))
        .await;
    assert_eq!(status, 404);

    let r = app
        .client
        .get(app.url(&format!("/v1/models/{id}/content")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-tar");
    let declared: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = r.bytes().await.unwrap().to_vec();
    assert_eq!(body.len(), declared);
    assert_eq!(
        untar(&body),
        files,
        "the tar holds the folder byte for byte"
    );

    // The same folder as a tar with a top-level directory.
    let r = app
        .client
        .post(app.url("/v1/models?name=from-tar"))
        .header("content-type", "application/x-tar")
        .body(tar_of(&files, "tiny-llama/"))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let again: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["sha256"], model["sha256"], "same files, same digest");
    assert_eq!(again["files"], model["files"]);

    // Lists say which models are folders; delete removes every file.
    let (_, page) = app.get_json("/v1/models").await;
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["layout"] == "folder"));
    let r = app
        .client
        .delete(app.url(&format!("/v1/models/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _) = app
        .get_bytes(&format!("/v1/models/{id}/files/config.json"))
        .await;
    assert_eq!(status, 404);
    app.finish().await;
}

/// A refused upload: the status, the body mentions `needle`, and nothing is stored.
async fn refused(app: &TestApp, files: &BTreeMap<String, Vec<u8>>, status: u16, needle: &str) {
    let r = post_folder(app, "bad", files).await;
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_eq!(got, status, "{needle}: {body}");
    assert!(body.to_string().contains(needle), "{needle}: {body}");
    let (_, page) = app.get_json("/v1/models").await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        0,
        "nothing stored: {page}"
    );
}

async fn bad_folders_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let good = folder();

    let mut missing_shard = good.clone();
    missing_shard.remove(SHARD2);
    refused(&app, &missing_shard, 422, SHARD2).await;

    let mut twice = good.clone();
    let s2 = vec![
        ("model.layers.0.mlp.down_proj.weight", vec![32, 64]),
        ("lm_head.weight", vec![96, 32]),
        ("model.embed_tokens.weight", vec![96, 32]),
    ];
    twice.insert(SHARD2.into(), shard(&s2, 2));
    refused(&app, &twice, 422, "model.embed_tokens.weight").await;

    let mut no_index = good.clone();
    no_index.remove("model.safetensors.index.json");
    refused(&app, &no_index, 422, "model.safetensors.index.json").await;

    let mut escape = good.clone();
    escape.insert("../config.json".into(), b"{}".to_vec());
    refused(&app, &escape, 422, "..").await;

    let mut code = good.clone();
    code.insert("modeling_llama.py".into(), b"import os".to_vec());
    refused(&app, &code, 415, "modeling_llama.py").await;

    let mut pickle = good.clone();
    pickle.insert("pytorch_model.bin".into(), vec![0x80, 2, 0, 0]);
    refused(&app, &pickle, 415, "pytorch_model.bin").await;

    let mut big = good.clone();
    big.insert("config.json".into(), vec![b' '; 50 << 20]);
    refused(&app, &big, 413, "config.json").await;

    let mut not_json = good.clone();
    not_json.insert("config.json".into(), b"{not json".to_vec());
    refused(&app, &not_json, 422, "config.json").await;

    // ONNX: a clear 415, raw or by name.
    let onnx = b"\x08\x08\x12\x07pytorch\x1a\x032.1\x3a\x10graph-bytes-here".to_vec();
    let r = app
        .client
        .post(app.url("/v1/models?name=m"))
        .body(onnx)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let body: Value = r.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("ONNX"), "{body}");
    let (_, page) = app.get_json("/v1/models").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    app.finish().await;
}

/// A downloaded folder output, checked like transformers reads it: the index names every
/// tensor of every shard, each shard carries `format: pt`.
async fn download_folder(app: &TestApp, id: &str) -> BTreeMap<String, Vec<u8>> {
    let (status, body) = app.get_bytes(&format!("/v1/models/{id}/content")).await;
    assert_eq!(status, 200);
    let files = untar(&body);
    let shards: Vec<&String> = files
        .keys()
        .filter(|k| k.ends_with(".safetensors"))
        .collect();
    let mut names = Vec::new();
    for s in &shards {
        let st = safetensors::SafeTensors::deserialize(&files[*s]).unwrap();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&files[*s]).unwrap();
        assert_eq!(
            meta.metadata()
                .as_ref()
                .and_then(|m| m.get("format"))
                .map(String::as_str),
            Some("pt"),
            "{s}"
        );
        for n in st.names() {
            names.push((n.to_string(), s.to_string()));
        }
    }
    if shards.len() > 1 {
        let index: Value = serde_json::from_slice(&files["model.safetensors.index.json"]).unwrap();
        let map = index["weight_map"].as_object().unwrap();
        assert_eq!(map.len(), names.len());
        for (n, s) in &names {
            assert_eq!(map[n], json!(s), "{n}");
        }
    } else {
        assert!(!files.contains_key("model.safetensors.index.json"));
        assert_eq!(shards, vec!["model.safetensors"]);
    }
    files
}

async fn jobs_write_folders_of_the_same_shape(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let input = folder();
    let r = post_folder(&app, "tiny-llama", &input).await;
    assert_eq!(r.status(), 201);
    let model: Value = r.json().await.unwrap();

    // Quantize: small shards → several; side files carried over; config.json gets the
    // quantization_config.
    let done = app
        .run_job(json!({"kind": "quantize", "spec": {"model_id": model["id"],
            "scheme": {"bits": 4, "granularity": "group", "group_size": 32},
            "max_shard_bytes": 2048}}))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let out_id = done["output_model_id"].as_str().unwrap();
    let (_, out) = app.get_json(&format!("/v1/models/{out_id}")).await;
    assert_eq!(out["layout"], "folder", "{out}");
    assert_eq!(out["format"], "compressed-tensors", "{out}");
    let files = download_folder(&app, out_id).await;
    assert!(
        files.keys().filter(|k| k.ends_with(".safetensors")).count() > 1,
        "{:?}",
        files.keys()
    );
    for side in ["tokenizer.json", "tokenizer_config.json"] {
        assert_eq!(
            files[side], input[side],
            "{side} carried over byte for byte"
        );
    }
    let config: Value = serde_json::from_slice(&files["config.json"]).unwrap();
    assert_eq!(config["architectures"], json!(["LlamaForCausalLM"]));
    let q = &config["quantization_config"];
    assert_eq!(q["quant_method"], "compressed-tensors", "{config}");
    assert_eq!(q, &done["result"]["quantization_config"], "{config}");

    // Prune: one shard at the default size, no index; names and dtypes kept.
    let done = app
        .run_job(json!({"kind": "prune", "spec": {"model_id": model["id"], "method": "magnitude", "sparsity": 0.5}}))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let out_id = done["output_model_id"].as_str().unwrap();
    let files = download_folder(&app, out_id).await;
    assert_eq!(files["config.json"], input["config.json"]);
    let st = safetensors::SafeTensors::deserialize(&files["model.safetensors"]).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    names.sort();
    assert_eq!(names.len(), 5);
    assert!(names.contains(&"lm_head.weight".to_string()));
    app.finish().await;
}

on_both_backends!(
    folder_round_trip,
    bad_folders_are_refused,
    jobs_write_folders_of_the_same_shape
);

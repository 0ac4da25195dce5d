//! Downloads and uploads at the byte level over HTTP, on both backends: a model of several
//! serving chunks round-trips with its sha256; `Range` (206 + `Content-Range`, suffix and
//! open-ended ranges, chunk-crossing ranges), `If-Range`, 416 with `Content-Range: bytes */N`
//! as problem+json naming `Range`, `If-None-Match`; a folder's `.tar` served by ranges that
//! reassemble to the whole archive; a job's output hashed on the way out has the digest of
//! its bytes.
mod common;

use common::{spawn_app, Backend, TestApp, TestOptions};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A safetensors file of one f32 tensor with `n` values (about `4n` bytes).
fn model_bytes(n: usize) -> Vec<u8> {
    let header = format!(
        "{{\"w.weight\":{{\"dtype\":\"F32\",\"shape\":[{},{}],\"data_offsets\":[0,{}]}}}}",
        n / 1024,
        1024,
        n * 4
    );
    let mut header = header.into_bytes();
    header.resize(header.len().div_ceil(8) * 8, b' ');
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    for i in 0..n {
        out.extend_from_slice(&(((i * 7919) % 1000) as f32 * 1e-3 - 0.5).to_le_bytes());
    }
    out
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut r = app.client.get(app.url(path));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

async fn ranged(app: &TestApp, path: &str, range: &str) -> (u16, String, Vec<u8>) {
    let resp = get(app, path, &[("range", range)]).await;
    let status = resp.status().as_u16();
    let content_range = resp
        .headers()
        .get("content-range")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_range, resp.bytes().await.unwrap().to_vec())
}

async fn ranges_of_a_model_file(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    // 2.5 M values = 10 MB: three 4 MiB serving chunks.
    let raw = model_bytes(2560 * 1024);
    let n = raw.len();
    let model = app.upload_model("ranged", raw.clone()).await;
    assert_eq!(
        model["sha256"].as_str().unwrap(),
        hex::encode(Sha256::digest(&raw)),
        "the upload's digest is the digest of its bytes"
    );
    let path = format!("/v1/models/{}/content", model["id"].as_str().unwrap());

    let full = get(&app, &path, &[]).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let etag = full.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(full.bytes().await.unwrap().to_vec(), raw);

    let chunk = 4 << 20;
    for (range, start, end) in [
        ("bytes=0-0".to_string(), 0, 1),
        ("bytes=100-199".to_string(), 100, 200),
        (
            format!("bytes={}-{}", chunk - 10, chunk + 10),
            chunk - 10,
            chunk + 11,
        ),
        (format!("bytes={}-", n - 5), n - 5, n),
        ("bytes=-7".to_string(), n - 7, n),
        (format!("bytes=10-{}", n + 1000), 10, n),
    ] {
        let (status, content_range, body) = ranged(&app, &path, &range).await;
        assert_eq!(status, 206, "{range}");
        assert_eq!(
            content_range,
            format!("bytes {start}-{}/{n}", end - 1),
            "{range}"
        );
        assert_eq!(body, raw[start..end], "{range}");
    }
    // A resumed download: the first part, then the rest from where it stopped.
    let (_, _, head) = ranged(&app, &path, "bytes=0-5000000").await;
    let (_, _, tail) = ranged(&app, &path, &format!("bytes={}-", head.len())).await;
    assert_eq!([head, tail].concat(), raw);

    // Beyond the end: 416, problem+json naming Range, and the size.
    let resp = get(&app, &path, &[("range", &format!("bytes={n}-"))]).await;
    assert_eq!(resp.status(), 416);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes */{n}").as_str()
    );
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "Range", "{problem}");

    // Ranges this server answers with the whole content: other units, several ranges,
    // malformed ones, and an If-Range naming another version.
    for headers in [
        vec![("range", "items=0-1")],
        vec![("range", "bytes=0-1,5-9")],
        vec![("range", "bytes=x-y")],
        vec![("range", "bytes=0-9"), ("if-range", "\"another\"")],
    ] {
        let resp = get(&app, &path, &headers).await;
        assert_eq!(resp.status(), 200, "{headers:?}");
        assert_eq!(resp.bytes().await.unwrap().len(), n, "{headers:?}");
    }
    let resp = get(&app, &path, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(resp.status(), 206);
    let resp = get(&app, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(resp.status(), 304);
    assert_eq!(resp.headers()["etag"], etag.as_str());

    // A job's output, hashed while written, has the digest of the bytes served.
    let done = app
        .run_job(json!({"kind": "quantize", "spec": {"model_id": model["id"],
            "scheme": {"bits": 8, "granularity": "channel"}}}))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let out = done["output_model_id"].as_str().unwrap();
    let (_, out_model) = app.get_json(&format!("/v1/models/{out}")).await;
    let bytes = app.download_model(out).await;
    assert_eq!(
        out_model["sha256"].as_str().unwrap(),
        hex::encode(Sha256::digest(&bytes))
    );
    assert_eq!(out_model["bytes"].as_u64().unwrap(), bytes.len() as u64);
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("w.weight_packed").unwrap().shape(), &[2560, 256]);
    app.finish().await;
}

async fn ranges_of_a_folder_archive(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app.upload_fixture_folder("tiny-llama", "tiny-llama").await;
    let path = format!("/v1/models/{}/content", model["id"].as_str().unwrap());
    let full = get(&app, &path, &[]).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let whole = full.bytes().await.unwrap().to_vec();
    let n = whole.len();
    assert!(n > 4096, "{n}");
    // Slices across tar headers, file bodies and padding, and the closing blocks.
    for (start, end) in [
        (0, 512),
        (100, 3000),
        (511, 1537),
        (n / 2, n / 2 + 777),
        (n - 1030, n),
    ] {
        let (status, content_range, body) =
            ranged(&app, &path, &format!("bytes={start}-{}", end - 1)).await;
        assert_eq!(status, 206);
        assert_eq!(content_range, format!("bytes {start}-{}/{n}", end - 1));
        assert_eq!(body, whole[start..end], "{start}..{end}");
    }
    let mut parts = Vec::new();
    let mut at = 0;
    while at < n {
        let (_, _, body) = ranged(&app, &path, &format!("bytes={at}-{}", at + 999)).await;
        at += body.len();
        parts.extend(body);
    }
    assert_eq!(parts, whole);
    let files: Vec<String> = tar::Archive::new(&whole[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(
        files.iter().any(|f| f.ends_with("config.json")),
        "{files:?}"
    );
    app.finish().await;
}

on_both_backends!(ranges_of_a_model_file, ranges_of_a_folder_archive);

//! Quantization over real HTTP, on SQLite and Postgres: compressed and dequantized outputs
//! of the digits MLP that whittle loads again, accuracy checks, GPTQ, and refused specs.
mod common;

use common::resume::{resume_after_kill, ResumeCase};
use common::{fixture, spawn_app, Backend, TestOptions};
use serde_json::{json, Value};
use std::time::Duration;

const FLOAT_ACCURACY: f64 = 350.0 / 360.0;

async fn int8_compressed_round_trips(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("digits", fixture("digits_mlp.safetensors"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let done = app.run_job(
        json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": {"bits": 8, "granularity": "channel"},
            "method": "rtn", "output": "compressed", "eval_dataset_id": test["id"]}}),
    )
    .await;
    let r = &done["result"];
    assert_eq!(
        r["accuracy_before"].as_f64().unwrap(),
        FLOAT_ACCURACY,
        "{r}"
    );
    assert!(
        r["eval_prediction_agreement"].as_f64().unwrap() >= 0.997,
        "{r}"
    );
    assert!(r["compression_ratio"].as_f64().unwrap() > 2.5, "{r}");
    for t in r["tensors"].as_array().unwrap() {
        assert!(
            t["name"].as_str().unwrap().ends_with(".weight"),
            "biases stay float: {t}"
        );
        assert!(t["sqnr_db"].as_f64().unwrap() > 35.0, "{t}");
    }
    let output = done["output_model_id"].as_str().unwrap().to_string();
    let (_, row) = app.get_json(&format!("/v1/models/{output}")).await;
    assert_eq!(row["format"], "compressed-tensors", "{row}");

    // Download, upload again as a new model, evaluate that.
    let bytes = app
        .client
        .get(app.url(&format!("/v1/models/{output}/content")))
        .send()
        .await
        .unwrap();
    assert_eq!(bytes.status(), 200);
    let bytes = bytes.bytes().await.unwrap().to_vec();
    let config = serde_json::from_slice::<Value>(
        &bytes[8..8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize],
    )
    .unwrap();
    // 8 bits default to pack-quantized, as compressed-tensors writes weight-only int8:
    // `weight_packed` (4 codes per int32) + `weight_scale` in the weight's dtype + `weight_shape`.
    assert_eq!(config["layers.0.weight_packed"]["dtype"], "I32", "{config}");
    assert_eq!(
        config["layers.0.weight_packed"]["shape"],
        json!([256, 16]),
        "{config}"
    );
    assert_eq!(
        config["layers.0.weight_scale"]["shape"],
        json!([256, 1]),
        "{config}"
    );
    assert_eq!(config["layers.0.weight_scale"]["dtype"], "F32", "{config}");
    assert_eq!(config["layers.0.weight_shape"]["dtype"], "I64", "{config}");
    assert!(config.get("layers.0.weight").is_none(), "{config}");
    let qc: Value = serde_json::from_str(
        config["__metadata__"]["quantization_config"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(qc["format"], "pack-quantized", "{qc}");
    assert_eq!(r["quantization_config"]["format"], "pack-quantized", "{r}");
    assert_eq!(r["scheme"]["scale_dtype"], "weight", "{r}");

    // The one-int8-per-weight layout on request.
    let plain = app.run_job(
        json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": {"bits": 8, "granularity": "channel"},
            "compressed_format": "int-quantized"}}),
    )
    .await;
    assert_eq!(
        plain["result"]["quantization_config"]["format"],
        "int-quantized"
    );
    let again = app.upload_model("digits-int8", bytes).await;
    assert_eq!(again["format"], "compressed-tensors", "{again}");
    assert_eq!(again["architecture"]["layer_sizes"][0], 64, "{again}");
    let e = app.evaluate(&again["id"], &test["id"]).await;
    let acc = e["accuracy"].as_f64().unwrap();
    assert!((acc - FLOAT_ACCURACY).abs() <= 0.01, "accuracy {acc}");
    assert_eq!(
        acc,
        r["accuracy_after"].as_f64().unwrap(),
        "reloaded model = evaluated in the job"
    );
    app.finish().await;
}

async fn int4_group_mse_gptq_and_dequantized(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("digits", fixture("digits_mlp.safetensors"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let scheme = json!({"bits": 4, "symmetric": false, "granularity": "group", "group_size": 32});
    let mse = app
        .run_job(
            json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": scheme,
            "method": "mse", "output": "compressed", "eval_dataset_id": test["id"]}}),
        )
        .await;
    let r = &mse["result"];
    assert_eq!(
        r["accuracy_before"].as_f64().unwrap(),
        FLOAT_ACCURACY,
        "{r}"
    );
    let after = r["accuracy_after"].as_f64().unwrap();
    assert!(after > 0.9, "{r}");
    let tensors = r["tensors"].as_array().unwrap();
    assert!(!tensors.is_empty());
    for t in tensors {
        let sqnr = t["sqnr_db"].as_f64().unwrap();
        assert!((10.0..40.0).contains(&sqnr), "int4 SQNR {sqnr}: {t}");
        // 4 bits + (f32 scale, the weights' dtype, + 4-bit zero) / 32.
        assert!(
            (t["bits_per_weight"].as_f64().unwrap() - 5.125).abs() < 0.01,
            "{t}"
        );
    }

    // GPTQ with calibration data is at least close to MSE on this model.
    let gptq = app.run_job(
        json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": scheme, "method": "gptq",
            "calibration_dataset_id": train["id"], "eval_dataset_id": test["id"]}}),
    )
    .await;
    assert!(
        gptq["result"]["accuracy_after"].as_f64().unwrap() > 0.9,
        "{gptq}"
    );

    // Dequantized output: an ordinary float model that evaluates like the in-job check.
    let deq = app.run_job(
        json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": scheme, "method": "mse",
            "output": "dequantized", "scale_dtype": "f16", "eval_dataset_id": test["id"]}}),
    )
    .await;
    let out = deq["output_model_id"].as_str().unwrap();
    let (_, row) = app.get_json(&format!("/v1/models/{out}")).await;
    assert_eq!(row["format"], "safetensors", "{row}");
    let e = app.evaluate(&json!(out), &test["id"]).await;
    assert_eq!(
        e["accuracy"].as_f64().unwrap(),
        deq["result"]["accuracy_after"].as_f64().unwrap()
    );
    assert_eq!(
        e["accuracy"].as_f64().unwrap(),
        after,
        "same scheme, same codes"
    );

    // tolerable_loss: 2-bit per-tensor fails the budget and climbs to a finer scheme.
    let tl = app.run_job(
        json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": {"bits": 2, "granularity": "tensor"},
            "eval_dataset_id": test["id"], "tolerable_loss": 0.02}}),
    )
    .await;
    let attempts = tl["result"]["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 2, "{tl}");
    assert_eq!(attempts[0]["passed"], false, "{tl}");
    assert_eq!(attempts.last().unwrap()["passed"], true, "{tl}");
    assert!(tl["result"]["eval_loss"].as_f64().unwrap() <= 0.02, "{tl}");

    // QAT: fine-tune through fake-quantized 2-bit weights, then quantize.
    let qat = app.run_job(
        json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": {"bits": 2},
            "eval_dataset_id": test["id"], "finetune": {"dataset_id": train["id"], "epochs": 3, "lr": 0.001}}}),
    )
    .await;
    let r = &qat["result"];
    assert_eq!(r["finetune"]["epochs_run"], 3, "{r}");
    // Plain 2-bit per-channel RTN gets ~0.90 here; QAT recovers most of the float accuracy.
    assert!(r["accuracy_after"].as_f64().unwrap() > 0.93, "{r}");
    // The fine-tuning epochs are a loss curve of the job.
    let (_, m) = app
        .get_json(&format!("/v1/jobs/{}/metrics", qat["id"].as_str().unwrap()))
        .await;
    let steps: Vec<i64> = m["series"]["qat_train_loss"]
        .as_array()
        .unwrap_or_else(|| panic!("qat_train_loss series: {m}"))
        .iter()
        .map(|p| p["step"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, vec![1, 2, 3], "{m}");

    // compressed_format only fits a compressed output.
    app.assert_rejected(
        &json!({"kind": "quantize", "spec": {"model_id": model["id"], "output": "dequantized",
            "compressed_format": "int-quantized"}}),
        "spec.compressed_format",
    )
    .await;
    app.finish().await;
}

/// A safetensors file with one F32 tensor `w` [4, 8].
fn single_tensor_model() -> Vec<u8> {
    let values: Vec<u8> = (0..32)
        .flat_map(|i| ((i as f32 - 15.5) / 7.0).to_le_bytes())
        .collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4, 8], &values).unwrap();
    safetensors::serialize(vec![("w", view)], None).unwrap()
}

async fn non_mlp_models_and_bad_specs(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let plain = app.upload_model("plain", single_tensor_model()).await;
    let model = app
        .upload_model("digits", fixture("digits_mlp.safetensors"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let done = app
        .run_job(
            json!({"kind": "quantize", "spec": {"model_id": plain["id"], "scheme": {"bits": 4},
                "output": "dequantized"}}),
        )
        .await;
    let t = &done["result"]["tensors"][0];
    assert_eq!(t["name"], "w", "{done}");
    assert!(t["sqnr_db"].as_f64().unwrap() > 15.0, "{t}");
    // compressed-tensors only quantizes `<module>.weight` tensors: a bare `w` cannot be
    // written compressed, and the job says so instead of writing an unreadable file.
    let job = app
        .submit(
            json!({"kind": "quantize", "spec": {"model_id": plain["id"], "scheme": {"bits": 4}}}),
        )
        .await;
    let failed = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("output: dequantized"),
        "{failed}"
    );

    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"model_id": model["id"], "method": "gptq"}),
            "spec.calibration_dataset_id",
        ),
        (
            json!({"model_id": model["id"], "scheme": {"bits": 9}}),
            "spec.scheme.bits",
        ),
        (
            json!({"model_id": plain["id"], "method": "gptq", "calibration_dataset_id": test["id"]}),
            "spec.method",
        ),
        (
            json!({"model_id": plain["id"], "eval_dataset_id": test["id"]}),
            "spec.eval_dataset_id",
        ),
        (
            json!({"model_id": plain["id"], "finetune": {"dataset_id": test["id"]}}),
            "spec.finetune",
        ),
        (
            json!({"model_id": model["id"], "finetune": {"dataset_id": test["id"], "epochs": 0}}),
            "spec.finetune.epochs",
        ),
        (
            json!({"model_id": model["id"], "scheme": {"granularity": "group", "group_size": 0}}),
            "spec.scheme.group_size",
        ),
        (
            json!({"model_id": model["id"], "output": "gguf"}),
            "spec.output",
        ),
    ];
    for (spec, field) in cases {
        let body = json!({"kind": "quantize", "spec": spec});
        app.assert_rejected(&body, field).await;
    }
    app.finish().await;
}

async fn cancel_stops_a_running_quantize(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("digits", fixture("digits_mlp.safetensors"))
        .await;
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    // A long quantization-aware fine-tuning keeps the job busy.
    let job = app
        .submit(
            json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": {"bits": 4},
            "finetune": {"dataset_id": train["id"], "epochs": 1000, "batch_size": 8}}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    app.wait_state(&id, "running", Duration::from_secs(30))
        .await;
    // Wait for the first fine-tuning epoch, then cancel.
    let start = std::time::Instant::now();
    loop {
        let (_, m) = app.get_json(&format!("/v1/jobs/{id}/metrics")).await;
        if m["series"]["qat_train_loss"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no QAT epoch: {m}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.cancel(&id).await;
    let done = app.wait_job(&id, Duration::from_secs(20)).await;
    assert_eq!(done["state"], "canceled", "{done}");
    assert!(done["output_model_id"].is_null(), "{done}");
    assert_eq!(done["attempt"], 1, "a canceled job is not retried: {done}");
    app.finish().await;
}

/// A binary classifier with one sigmoid output, `p = sigmoid(x0 − 0.5·x1)`, as a user would
/// export it (layout `layers.0.*`, classes "0" and "1").
fn sigmoid_model() -> Vec<u8> {
    use safetensors::tensor::{Dtype, TensorView};
    let weight: Vec<u8> = [1.0f32, -0.5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let bias: Vec<u8> = 0.0f32.to_le_bytes().to_vec();
    let tensors = vec![
        (
            "layers.0.weight",
            TensorView::new(Dtype::F32, vec![1, 2], &weight).unwrap(),
        ),
        (
            "layers.0.bias",
            TensorView::new(Dtype::F32, vec![1], &bias).unwrap(),
        ),
    ];
    let metadata = std::collections::HashMap::from([
        ("arch".to_string(), "mlp".to_string()),
        ("activations".to_string(), "sigmoid".to_string()),
        ("task".to_string(), "classification".to_string()),
        ("classes".to_string(), r#"["0","1"]"#.to_string()),
    ]);
    safetensors::serialize(tensors, Some(metadata)).unwrap()
}

/// 30 rows: 10 clearly class 1 (logit +1), 10 clearly class 0 (logit −1), 4 pairs on either
/// side of the boundary (logit ±0.002 at x1 = 2) and 2 clear rows with the wrong label.
fn sigmoid_rows() -> Vec<u8> {
    let mut csv = String::from("x0,x1,label\n");
    for i in 0..10 {
        let x1 = f64::from(i) * 0.3;
        csv += &format!("{},{x1},1\n", 0.5 * x1 + 1.0);
        csv += &format!("{},{x1},0\n", 0.5 * x1 - 1.0);
    }
    for _ in 0..4 {
        csv += "1.002,2,1\n0.998,2,0\n";
    }
    csv += "3,0,0\n-3,0,1\n";
    csv.into_bytes()
}

/// `a == b` up to the rounding of a mean over 30 rows.
#[track_caller]
fn assert_close(a: f64, b: f64, context: impl std::fmt::Display) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}: {context}");
}

async fn a_sigmoid_output_is_judged_alike_by_every_job(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app.upload_model("binary", sigmoid_model()).await;
    let rows = app.upload_csv("binary-rows", "label", sigmoid_rows()).await;
    // By hand: every row is predicted as its logit's sign (p > 0.5 ⇔ logit > 0), so only the
    // two mislabelled rows are wrong.
    let float_accuracy = 28.0 / 30.0;
    let evaluated = app.evaluate(&model["id"], &rows["id"]).await;
    assert_close(
        evaluated["accuracy"].as_f64().unwrap(),
        float_accuracy,
        &evaluated,
    );
    assert_eq!(
        evaluated["confusion_matrix"],
        json!([[14, 1], [1, 14]]),
        "{evaluated}"
    );

    // int8 per channel: scale 1/127, so −0.5 becomes −63.5/127 rounded one way or the other
    // (|ŵ₁| off by ~0.0039). At x1 = 2 that moves the logit by ~0.008, more than the ±0.002
    // margin: of each boundary pair exactly one row changes class, whichever way it rounds.
    // A threshold at 0 on sigmoid outputs (all > 0) would call every row class 1 and report
    // an agreement of 1.
    let q = app
        .run_job(json!({"kind": "quantize", "spec": {"model_id": model["id"],
            "scheme": {"bits": 8, "granularity": "channel"}, "eval_dataset_id": rows["id"]}}))
        .await;
    let r = &q["result"];
    assert_close(r["accuracy_before"].as_f64().unwrap(), float_accuracy, r);
    assert_close(
        r["eval_prediction_agreement"].as_f64().unwrap(),
        26.0 / 30.0,
        r,
    );
    assert_close(r["accuracy_after"].as_f64().unwrap(), 24.0 / 30.0, r);

    // Pruning half the weights drops w₁ (the smaller magnitude): p = sigmoid(x0).
    let p = app
        .run_job(
            json!({"kind": "prune", "spec": {"model_id": model["id"], "method": "magnitude",
            "sparsity": 0.5, "eval_dataset_id": rows["id"]}}),
        )
        .await;
    let r = &p["result"];
    assert_close(r["accuracy_before"].as_f64().unwrap(), float_accuracy, r);
    let pruned = app.evaluate(&p["output_model_id"], &rows["id"]).await;
    assert_eq!(
        r["accuracy_after"].as_f64().unwrap(),
        pruned["accuracy"].as_f64().unwrap(),
        "prune and evaluate agree on the pruned model: {r} {pruned}"
    );
    // By hand, sign(x0): the clear rows keep their class except class-1 rows with
    // 0.5·x1 + 1 ≤ 0 (none) and class-0 rows with 0.5·x1 − 1 > 0 (x1 = 2.1, 2.4, 2.7: 3
    // rows); all 8 boundary rows (x0 ≈ 1) become class 1 (4 wrong); the mislabelled rows
    // stay wrong. 30 − 3 − 4 − 2 = 21.
    assert_close(pruned["accuracy"].as_f64().unwrap(), 21.0 / 30.0, &pruned);
    app.finish().await;
}

/// An F16 model shaped like a transformer block: an embedding table, a Linear layer with a
/// bias, and a Linear layer whose 30 input columns do not fill groups of 32.
fn f16_block_model() -> Vec<u8> {
    let tensor = |n: usize, seed: usize| -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let x = (((i * 7919 + seed * 104729) % 2001) as f32 - 1000.0) / 2500.0;
                half::f16::from_f32(x).to_le_bytes()
            })
            .collect()
    };
    let data = [
        (
            "embed.word_embeddings.weight",
            vec![50, 32],
            tensor(1600, 1),
        ),
        ("enc.q.weight", vec![64, 32], tensor(2048, 2)),
        ("enc.q.bias", vec![64], tensor(64, 3)),
        ("enc.odd.weight", vec![16, 30], tensor(480, 4)),
    ];
    let views: Vec<(&str, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(n, shape, b)| {
            (
                *n,
                safetensors::tensor::TensorView::new(safetensors::Dtype::F16, shape.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

/// compressed-tensors' decode of a symmetric pack-quantized weight, written from the format's
/// description (int32 words, codes least significant first, offset 2^(b-1)), computed in
/// f32 and rounded once to the scale's dtype (F16 here).
fn decode_pack_quantized(
    st: &safetensors::SafeTensors<'_>,
    name: &str,
    bits: u32,
    group: usize,
) -> Vec<u16> {
    let packed = st.tensor(&format!("{name}_packed")).unwrap();
    let scale = st.tensor(&format!("{name}_scale")).unwrap();
    let shape = st.tensor(&format!("{name}_shape")).unwrap();
    let dims: Vec<i64> = shape
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let (rows, cols) = (dims[0] as usize, dims[1] as usize);
    let words: Vec<u32> = packed
        .data()
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let scales: Vec<f32> = scale
        .data()
        .chunks_exact(2)
        .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
        .collect();
    assert_eq!(
        scale.dtype(),
        safetensors::Dtype::F16,
        "scales in the weight's dtype"
    );
    let pf = 32 / bits as usize;
    let per_row = cols.div_ceil(pf);
    let groups = cols / group;
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            let w = words[r * per_row + c / pf];
            let u = (w >> (bits as usize * (c % pf))) & ((1 << bits) - 1);
            let q = u as i32 - (1 << (bits - 1));
            let s = scales[r * groups + c / group];
            out.push(half::f16::from_f32(q as f32 * s).to_bits());
        }
    }
    out
}

async fn compressed_output_is_what_compressed_tensors_reads(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app.upload_model("block", f16_block_model()).await;
    let scheme = json!({"bits": 4, "granularity": "group", "group_size": 32});
    // By default the embedding stays in float (as llm-compressor leaves it) and only Linear
    // layers are targeted.
    let default = app
        .run_job(json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": scheme}}))
        .await;
    let d = &default["result"];
    assert_eq!(
        d["left_in_float"][0]["name"], "embed.word_embeddings.weight",
        "{d}"
    );
    assert_eq!(
        d["quantization_config"]["config_groups"]["group_0"]["targets"],
        json!(["Linear"]),
        "{d}"
    );
    let scheme_all = json!({"model_id": model["id"], "scheme": scheme, "include": ["*.weight"]});
    let done = app
        .run_job(json!({"kind": "quantize", "spec": scheme_all}))
        .await;
    let r = &done["result"];
    // The partial last group is left in float, named, and listed in `ignore`.
    assert_eq!(r["left_in_float"][0]["name"], "enc.odd.weight", "{r}");
    assert!(
        r["left_in_float"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("group_size 32"),
        "{r}"
    );
    let qc = &r["quantization_config"];
    assert_eq!(qc["ignore"], json!(["enc.odd"]), "{qc}");
    // The targets say exactly what was quantized: Linear layers and the embedding by name.
    assert_eq!(
        qc["config_groups"]["group_0"]["targets"],
        json!(["Linear", "embed.word_embeddings"]),
        "{qc}"
    );
    assert_eq!(qc["format"], "pack-quantized", "{qc}");
    let compressed = app
        .download_model(done["output_model_id"].as_str().unwrap())
        .await;
    let st = safetensors::SafeTensors::deserialize(&compressed).unwrap();
    assert_eq!(
        st.tensor("enc.odd.weight").unwrap().dtype(),
        safetensors::Dtype::F16
    );
    assert_eq!(
        st.tensor("enc.q.bias").unwrap().dtype(),
        safetensors::Dtype::F16
    );

    // Dequantized output of the same spec = the decode of the compressed one, bit for bit.
    let deq = app
        .run_job(
            json!({"kind": "quantize", "spec": {"model_id": model["id"], "scheme": scheme,
            "include": ["*.weight"], "output": "dequantized"}}),
        )
        .await;
    let floats = app
        .download_model(deq["output_model_id"].as_str().unwrap())
        .await;
    let fst = safetensors::SafeTensors::deserialize(&floats).unwrap();
    for name in ["enc.q.weight", "embed.word_embeddings.weight"] {
        let t = fst.tensor(name).unwrap();
        assert_eq!(t.dtype(), safetensors::Dtype::F16, "{name} keeps its dtype");
        let bits: Vec<u16> = t
            .data()
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(bits, decode_pack_quantized(&st, name, 4, 32), "{name}");
    }
    // With a partial group allowed (dequantized), the odd layer is quantized there.
    let deq_names: Vec<&str> = deq["result"]["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(deq_names.contains(&"enc.odd.weight"), "{deq_names:?}");
    app.finish().await;
}

/// `output: onnx`: a folder of the float and the quantized ONNX graphs beside the dequantized
/// weights, which whittle's own jobs load; refused where it cannot apply.
async fn onnx_output_is_a_folder_whittle_still_runs(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("digits", fixture("digits_mlp.safetensors"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let done = app
        .run_job(json!({"kind": "quantize", "spec": {"model_id": model["id"], "output": "onnx",
            "scheme": {"bits": 4, "granularity": "group", "group_size": 32}, "eval_dataset_id": test["id"]}}))
        .await;
    let r = &done["result"];
    assert_eq!(r["output"], "onnx", "{r}");
    assert_eq!(r["onnx"]["quantized_model"], "model_quantized.onnx", "{r}");
    assert_eq!(
        r["onnx"]["outputs"],
        json!(["logits", "probabilities", "label"]),
        "{r}"
    );
    let ops: Vec<&str> = r["onnx"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["matmul_nbits"; 3], "{r}");
    assert_eq!(
        r["accuracy_before"].as_f64().unwrap(),
        FLOAT_ACCURACY,
        "{r}"
    );
    // 4-bit codes packed two per byte: the quantized graph is far below the float file.
    assert!(r["compression_ratio"].as_f64().unwrap() > 5.0, "{r}");
    let output = done["output_model_id"].as_str().unwrap().to_string();
    let (_, row) = app.get_json(&format!("/v1/models/{output}")).await;
    assert_eq!(row["format"], "onnx", "{row}");
    let (_, files) = app.get_json(&format!("/v1/models/{output}/files")).await;
    let mut paths: Vec<&str> = files["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        ["model.onnx", "model.safetensors", "model_quantized.onnx"],
        "{files}"
    );
    let onnx = app
        .client
        .get(app.url(&format!("/v1/models/{output}/files/model_quantized.onnx")))
        .send()
        .await
        .unwrap();
    assert_eq!(onnx.status(), 200);
    let bytes = onnx.bytes().await.unwrap();
    // ModelProto field 1 (ir_version) = 10, then the producer.
    assert_eq!(&bytes[..2], &[0x08, 0x0a]);
    assert!(bytes.windows(11).any(|w| w == b"MatMulNBits"));
    // whittle's evaluate runs the folder's dequantized weights: the job's "after".
    let e = app.evaluate(&json!(output), &test["id"]).await;
    assert_eq!(e["accuracy"], r["accuracy_after"], "{e}");
    // Other jobs take it as the MLP it is; their outputs carry no stale ONNX file.
    let pruned = app
        .run_job(json!({"kind": "prune", "spec": {"model_id": output, "method": "structured", "sparsity": 0.3,
            "eval_dataset_id": test["id"]}}))
        .await;
    let pruned_id = pruned["output_model_id"].as_str().unwrap().to_string();
    let (_, files) = app.get_json(&format!("/v1/models/{pruned_id}/files")).await;
    let listed = files["items"].as_array().map(|a| a.len()).unwrap_or(0);
    assert!(
        !files.to_string().contains(".onnx") && listed <= 1,
        "{files}"
    );
    let e = app.evaluate(&json!(pruned_id), &test["id"]).await;
    assert!(e["accuracy"].as_f64().unwrap() > 0.9, "{e}");
    // int8 per channel: MatMulNBits by default, standard QDQ on request.
    for (ops, op) in [(None, "matmul_nbits"), (Some("qdq"), "dequantize_linear")] {
        let mut spec = json!({"model_id": model["id"], "output": "onnx", "scheme": {"bits": 8}});
        if let Some(ops) = ops {
            spec["onnx_ops"] = json!(ops);
        }
        let done = app.run_job(json!({"kind": "quantize", "spec": spec})).await;
        let layers = done["result"]["onnx"]["layers"].as_array().unwrap().clone();
        assert!(layers.iter().all(|l| l["op"] == op), "{layers:?}");
    }
    let plain = app.upload_model("plain", single_tensor_model()).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"model_id": plain["id"], "output": "onnx"}),
            "spec.output",
        ),
        (
            json!({"model_id": output, "output": "onnx"}),
            "spec.model_id",
        ),
        (
            json!({"model_id": model["id"], "output": "onnx", "compressed_format": "int-quantized"}),
            "spec.compressed_format",
        ),
        (
            json!({"model_id": model["id"], "output": "compressed", "onnx_ops": "qdq"}),
            "spec.onnx_ops",
        ),
        (
            json!({"model_id": model["id"], "output": "onnx", "onnx_ops": "tensorrt"}),
            "spec.onnx_ops",
        ),
    ];
    for (spec, field) in cases {
        app.assert_rejected(&json!({"kind": "quantize", "spec": spec}), field)
            .await;
    }
    app.finish().await;
}

/// Quantization-aware fine-tuning resumes from its checkpoint after its worker is killed.
async fn killed_qat_resumes_from_its_checkpoint(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let model = app
        .upload_model("digits", fixture("digits_mlp.safetensors"))
        .await;
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let epochs: u64 = 120;
    let spec = json!({"kind": "quantize", "spec": {"model_id": model["id"], "output": "dequantized",
        "scheme": {"bits": 4, "granularity": "group", "group_size": 32},
        "finetune": {"dataset_id": train["id"], "epochs": epochs, "lr": 0.0001, "batch_size": 64}}});
    let case = ResumeCase {
        epochs,
        resumed_at: "/finetune/resumed_from_epoch",
        series: "qat_train_loss",
        message_names_resume: false,
    };
    let done = resume_after_kill(&app, spec, case).await;
    assert_eq!(done["result"]["finetune"]["epochs_run"], epochs, "{done}");
    app.finish().await;
}

on_both_backends!(
    compressed_output_is_what_compressed_tensors_reads,
    a_sigmoid_output_is_judged_alike_by_every_job,
    cancel_stops_a_running_quantize,
    int8_compressed_round_trips,
    int4_group_mse_gptq_and_dequantized,
    non_mlp_models_and_bad_specs,
    onnx_output_is_a_folder_whittle_still_runs,
    killed_qat_resumes_from_its_checkpoint,
);

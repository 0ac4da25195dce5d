//! Pruning over real HTTP, on SQLite and Postgres: global magnitude with and without masked
//! fine-tuning, N:M on the streaming path, structured neuron removal, and refused specs.
mod common;

use common::resume::{resume_after_kill, ResumeCase};
use common::{fixture, spawn_app, Backend, TestApp, TestOptions};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Weights of every F32 tensor, parsed by hand from the safetensors bytes (independent of
/// whittle's reader): name → (shape, values).
fn parse_f32_tensors(bytes: &[u8]) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    let mut out = BTreeMap::new();
    for (name, t) in header.as_object().unwrap() {
        if name == "__metadata__" {
            continue;
        }
        assert_eq!(t["dtype"], "F32", "{name}");
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let start = t["data_offsets"][0].as_u64().unwrap() as usize;
        let end = t["data_offsets"][1].as_u64().unwrap() as usize;
        let values = data[start..end]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        out.insert(name.clone(), (shape, values));
    }
    out
}

/// Zero count over the 2-D (weight) tensors.
fn weight_zeros(t: &BTreeMap<String, (Vec<usize>, Vec<f32>)>) -> (usize, usize) {
    t.values()
        .filter(|(shape, _)| shape.len() == 2)
        .fold((0, 0), |(z, n), (_, v)| {
            (z + v.iter().filter(|x| **x == 0.0).count(), n + v.len())
        })
}

async fn run_prune(app: &TestApp, spec: Value) -> Value {
    let job = app.submit(json!({"kind": "prune", "spec": spec})).await;
    let done = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(120))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    done
}

async fn global_magnitude_with_and_without_finetune(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let original = fixture("digits_mlp.safetensors");
    let model = app.upload_model("sk", original.clone()).await;
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let base = json!({"model_id": model["id"], "method": "magnitude", "sparsity": 0.9,
        "scope": "global", "eval_dataset_id": test["id"]});

    let plain = run_prune(&app, base.clone()).await;
    let r = &plain["result"];
    assert_eq!(r["accuracy_before"].as_f64().unwrap(), 350.0 / 360.0, "{r}");
    let acc_plain = r["accuracy_after"].as_f64().unwrap();
    assert!(acc_plain > 0.8 && acc_plain <= 1.0, "{r}");
    assert!(
        r["rows_per_s_before"].as_f64().unwrap() > 0.0
            && r["rows_per_s_after"].as_f64().unwrap() > 0.0
    );
    assert!(
        r["speedup_note"]
            .as_str()
            .unwrap()
            .contains("no CPU speed-up"),
        "{r}"
    );
    // 64·256 + 256·256 + 256·10 weights; round(0.9 · 84480) = 76032 pruned, biases untouched.
    let before = parse_f32_tensors(&original);
    let pruned_bytes = app
        .download_model(plain["output_model_id"].as_str().unwrap())
        .await;
    let pruned = parse_f32_tensors(&pruned_bytes);
    assert_eq!(weight_zeros(&pruned), (76032, 84480));
    assert_eq!(r["global"]["zeros"], 76032);
    for (name, (shape, v)) in &pruned {
        let (_, orig) = &before[name];
        for (a, b) in v.iter().zip(orig) {
            if shape.len() == 1 || *a != 0.0 {
                assert_eq!(
                    a.to_bits(),
                    b.to_bits(),
                    "{name}: kept values (and signs) are untouched"
                );
            } else {
                assert_eq!(a.to_bits(), 0, "{name}: pruned slots are +0.0");
            }
        }
    }

    // The tolerable_loss gate fails the job and says by how much.
    let mut gated = base.clone();
    gated["tolerable_loss"] = json!(0.01);
    let job = app.submit(json!({"kind": "prune", "spec": gated})).await;
    let failed = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(120))
        .await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(failed.to_string().contains("tolerable_loss"), "{failed}");
    assert!(failed["output_model_id"].is_null(), "{failed}");

    let mut ft_spec = base.clone();
    ft_spec["finetune"] = json!({"dataset_id": train["id"], "epochs": 3, "lr": 0.001});
    let ft = run_prune(&app, ft_spec).await;
    let acc_ft = ft["result"]["accuracy_after"].as_f64().unwrap();
    eprintln!("magnitude global 0.9: accuracy {acc_plain:.4} without, {acc_ft:.4} with 3 fine-tuning epochs");
    assert!(
        acc_ft >= acc_plain,
        "fine-tuning helps: {acc_plain} → {acc_ft}"
    );
    let tuned = parse_f32_tensors(
        &app.download_model(ft["output_model_id"].as_str().unwrap())
            .await,
    );
    for (name, (shape, v)) in &pruned {
        if shape.len() == 2 {
            let t = &tuned[name].1;
            assert!(
                v.iter().zip(t).all(|(p, t)| *p != 0.0 || t.to_bits() == 0),
                "{name}: pruned weights stay +0.0"
            );
        }
    }
    assert_eq!(
        weight_zeros(&tuned).0,
        76032,
        "no pruned weight revived, no kept weight lost"
    );
    let (_, m) = app
        .get_json(&format!("/v1/jobs/{}/metrics", ft["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        m["series"]["train_loss"].as_array().map(Vec::len),
        Some(3),
        "{m}"
    );
    app.finish().await;
}

async fn layer_scope_loses_more_than_global(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("sk", fixture("digits_mlp.safetensors"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let mut acc = BTreeMap::new();
    for (scope, s) in [
        ("global", 0.5),
        ("global", 0.7),
        ("global", 0.9),
        ("layer", 0.9),
    ] {
        let done = run_prune(
            &app,
            json!({"model_id": model["id"], "method": "magnitude", "sparsity": s,
            "scope": scope, "eval_dataset_id": test["id"]}),
        )
        .await;
        let a = done["result"]["accuracy_after"].as_f64().unwrap();
        eprintln!("magnitude {scope} {s}: accuracy {a:.4}");
        acc.insert(format!("{scope}{s}"), a);
    }
    assert!(acc["global0.5"] >= 0.95, "{acc:?}");
    assert!(acc["global0.9"] > acc["layer0.9"], "{acc:?}");
    app.finish().await;
}

async fn nm_two_of_four_streams(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("sk", fixture("digits_mlp.safetensors"))
        .await;
    let done = run_prune(
        &app,
        json!({"model_id": model["id"], "method": "nm", "n": 2, "m": 4}),
    )
    .await;
    assert_eq!(done["result"]["pattern"], "2:4");
    let out = parse_f32_tensors(
        &app.download_model(done["output_model_id"].as_str().unwrap())
            .await,
    );
    let (zeros, total) = weight_zeros(&out);
    assert_eq!((zeros, total), (84480 / 2, 84480));
    for (name, (shape, v)) in &out {
        if shape.len() == 2 {
            for row in v.chunks(shape[1]) {
                for group in row.chunks(4) {
                    assert!(
                        group.iter().filter(|x| **x == 0.0).count() >= 2,
                        "{name}: {group:?}"
                    );
                }
            }
        }
    }
    let (_, m) = app
        .get_json(&format!(
            "/v1/models/{}",
            done["output_model_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        m["architecture"]["layer_sizes"],
        json!([64, 256, 256, 10]),
        "{m}"
    );
    app.finish().await;
}

async fn structured_halves_hidden_widths(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("sk", fixture("digits_mlp.safetensors"))
        .await;
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let done = run_prune(&app, json!({"model_id": model["id"], "method": "structured", "sparsity": 0.5,
        "finetune": {"dataset_id": train["id"], "epochs": 5, "lr": 0.001}, "eval_dataset_id": test["id"]})).await;
    let r = &done["result"];
    eprintln!(
        "structured 0.5 + finetune: {}",
        json!({"accuracy_before": r["accuracy_before"], "accuracy_after": r["accuracy_after"],
        "rows_per_s_before": r["rows_per_s_before"], "rows_per_s_after": r["rows_per_s_after"], "params": [r["params_before"], r["params_after"]]})
    );
    assert_eq!(r["hidden_sizes_after"], json!([128, 128]), "{r}");
    assert_eq!(
        r["params_after"],
        64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    );
    let output = done["output_model_id"].as_str().unwrap();
    let (_, m) = app.get_json(&format!("/v1/models/{output}")).await;
    assert_eq!(
        m["architecture"]["layer_sizes"],
        json!([64, 128, 128, 10]),
        "{m}"
    );
    let plain = run_prune(
        &app,
        json!({"model_id": model["id"], "method": "structured", "sparsity": 0.5,
        "eval_dataset_id": test["id"]}),
    )
    .await;
    eprintln!(
        "structured 0.5 without finetune: accuracy {}",
        plain["result"]["accuracy_after"]
    );
    let eval = app.evaluate(&json!(output), &test["id"]).await;
    let acc = eval["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.95, "{eval}");
    assert_eq!(acc, r["accuracy_after"].as_f64().unwrap());
    app.finish().await;
}

async fn wanda_and_gradual_reach_their_sparsity(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("sk", fixture("digits_mlp.safetensors"))
        .await;
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let wanda = run_prune(
        &app,
        json!({"model_id": model["id"], "method": "wanda", "sparsity": 0.5,
        "calibration_dataset_id": train["id"], "eval_dataset_id": test["id"]}),
    )
    .await;
    let r = &wanda["result"];
    eprintln!("wanda 0.5: accuracy {}", r["accuracy_after"]);
    // Wanda prunes round(0.5 · in) per output row: exactly half of every layer.
    assert_eq!(r["global"]["zeros"], 84480 / 2, "{r}");
    assert!(r["accuracy_after"].as_f64().unwrap() >= 0.9, "{r}");

    let gradual = run_prune(
        &app,
        json!({"model_id": model["id"], "method": "magnitude", "sparsity": 0.9,
        "finetune": {"dataset_id": train["id"], "epochs": 4, "lr": 0.001},
        "gradual": {"steps": 3, "initial_sparsity": 0.5}, "eval_dataset_id": test["id"]}),
    )
    .await;
    let r = &gradual["result"];
    eprintln!(
        "gradual 0.5→0.9 over 3 rounds, 4 epochs: accuracy {}",
        r["accuracy_after"]
    );
    let rounds: Vec<f64> = r["gradual_rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["sparsity"].as_f64().unwrap())
        .collect();
    assert_eq!(rounds.len(), 3);
    assert!(
        (rounds[0] - 0.5).abs() < 1e-12
            && (rounds[2] - 0.9).abs() < 1e-12
            && rounds[1] > 0.5
            && rounds[1] < 0.9,
        "{rounds:?}"
    );
    assert_eq!(r["global"]["zeros"], 76032, "{r}");
    assert_eq!(r["finetune"]["epochs_run"], 4, "{r}");
    app.finish().await;
}

/// A tensor dict that is not an MLP: one 4×4 F32 matrix.
fn not_an_mlp() -> Vec<u8> {
    embed_model(|i| i as f32 - 7.5)
}

/// One 4×4 F32 matrix `embed.weight` with element `i` = `value(i)`.
fn embed_model(value: impl Fn(usize) -> f32) -> Vec<u8> {
    let header = br#"{"embed.weight":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}}"#;
    let mut h = header.to_vec();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend((0..16).flat_map(|i| value(i).to_le_bytes()));
    out
}

/// NaN or ±inf weights fail every prune rule (as they fail quantize), naming the tensor,
/// instead of producing a model derived from them.
async fn non_finite_weights_fail_every_rule(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    for bad in [f32::NAN, f32::INFINITY] {
        let model = app
            .upload_model(
                "bad",
                embed_model(|i| if i == 5 { bad } else { i as f32 - 7.5 }),
            )
            .await;
        let specs = [
            json!({"model_id": model["id"], "method": "magnitude", "sparsity": 0.5}),
            json!({"model_id": model["id"], "method": "magnitude", "sparsity": 0.5, "scope": "layer"}),
            json!({"model_id": model["id"], "method": "threshold", "threshold": 1.0}),
            json!({"model_id": model["id"], "method": "nm", "n": 2, "m": 4}),
        ];
        for spec in specs {
            let job = app.submit(json!({"kind": "prune", "spec": spec})).await;
            let done = app
                .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(60))
                .await;
            assert_eq!(done["state"], "failed", "{spec}: {done}");
            let error = done["error"].as_str().unwrap();
            assert!(
                error.contains("embed.weight") && error.contains("NaN or infinite"),
                "{error}"
            );
            assert!(done["output_model_id"].is_null());
        }
        let job = app
            .submit(json!({"kind": "quantize", "spec": {"model_id": model["id"]}}))
            .await;
        let done = app
            .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(60))
            .await;
        assert_eq!(done["state"], "failed", "{done}");
    }
    app.finish().await;
}

async fn bad_prune_specs(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let model = app
        .upload_model("sk", fixture("digits_mlp.safetensors"))
        .await;
    let other = app.upload_model("embed", not_an_mlp()).await;
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let small = app
        .upload_csv(
            "three",
            "y",
            b"a,b,c,y\n1,2,3,0\n2,3,4,1\n3,4,5,0\n4,5,6,1\n".to_vec(),
        )
        .await;
    let (m, o) = (model["id"].clone(), other["id"].clone());
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"model_id": m, "method": "magnitude", "sparsity": 1.0}),
            "spec.sparsity",
        ),
        (
            json!({"model_id": m, "method": "nm", "n": 4, "m": 4}),
            "spec.n",
        ),
        (
            json!({"model_id": m, "method": "wanda", "sparsity": 0.5}),
            "spec.calibration_dataset_id",
        ),
        (
            json!({"model_id": m, "method": "magnitude", "sparsity": 0.5, "colour": "red"}),
            "spec.colour",
        ),
        (
            json!({"model_id": o, "method": "structured", "sparsity": 0.5}),
            "spec.method",
        ),
        (
            json!({"model_id": o, "method": "magnitude", "sparsity": 0.5, "finetune": {"dataset_id": train["id"]}}),
            "spec.finetune",
        ),
        (
            json!({"model_id": m, "method": "magnitude", "sparsity": 0.5, "eval_dataset_id": small["id"]}),
            "spec.eval_dataset_id",
        ),
    ];
    for (spec, field) in cases {
        let body = json!({"kind": "prune", "spec": spec});
        app.assert_rejected(&body, field).await;
    }
    app.finish().await;
}

/// The digits MLP as a PyTorch `nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)` state dict
/// saved in F16: `0.*`, `2.*`, `4.*`, no whittle metadata.
fn sequential_f16_model() -> Vec<u8> {
    let bytes = fixture("digits_mlp.safetensors");
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in st.tensors() {
        let renamed = name
            .replace("layers.0.", "0.")
            .replace("layers.1.", "2.")
            .replace("layers.2.", "4.");
        let f16: Vec<u8> = view
            .data()
            .chunks_exact(4)
            .flat_map(|b| {
                half::f16::from_f32(f32::from_le_bytes(b.try_into().unwrap())).to_le_bytes()
            })
            .collect();
        data.push((renamed, view.shape().to_vec(), f16));
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F16, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

/// Name → dtype of a downloaded model's tensors.
async fn tensor_dtypes(app: &TestApp, job: &Value) -> BTreeMap<String, String> {
    let id = job["output_model_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{job}"));
    let bytes = app.download_model(id).await;
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype().to_string()))
        .collect()
}

async fn outputs_keep_the_inputs_names_and_dtype(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app.upload_model("seq", sequential_f16_model()).await;
    assert_eq!(
        model["architecture"]["layer_sizes"],
        json!([64, 256, 256, 10]),
        "{model}"
    );
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let want: BTreeMap<String, String> = ["0", "2", "4"]
        .iter()
        .flat_map(|l| [format!("{l}.weight"), format!("{l}.bias")])
        .map(|n| (n, "F16".to_string()))
        .collect();

    let pruned = app
        .run_job(
            json!({"kind": "prune", "spec": {"model_id": model["id"], "method": "magnitude",
            "sparsity": 0.5, "finetune": {"dataset_id": train["id"], "epochs": 1}}}),
        )
        .await;
    assert_eq!(
        tensor_dtypes(&app, &pruned).await,
        want,
        "prune keeps names and F16"
    );

    let tuned = app
        .run_job(json!({"kind": "train", "spec": {"dataset_id": train["id"], "base_model_id": model["id"],
            "epochs": 1}}))
        .await;
    assert_eq!(
        tensor_dtypes(&app, &tuned).await,
        want,
        "fine-tuning keeps names and F16"
    );

    let as_f32 = app
        .run_job(json!({"kind": "train", "spec": {"dataset_id": train["id"], "base_model_id": model["id"],
            "epochs": 1, "output_dtype": "f32"}}))
        .await;
    let f32s: BTreeMap<String, String> = want
        .keys()
        .map(|n| (n.clone(), "F32".to_string()))
        .collect();
    assert_eq!(
        tensor_dtypes(&app, &as_f32).await,
        f32s,
        "output_dtype asks otherwise"
    );

    // A fresh model keeps whittle's own layout.
    let fresh = app
        .run_job(
            json!({"kind": "train", "spec": {"dataset_id": train["id"], "epochs": 1,
            "architecture": {"hidden": [8]}}}),
        )
        .await;
    let names: Vec<String> = tensor_dtypes(&app, &fresh).await.into_keys().collect();
    assert_eq!(
        names,
        [
            "layers.0.bias",
            "layers.0.weight",
            "layers.1.bias",
            "layers.1.weight"
        ]
    );
    app.finish().await;
}

/// Fine-tuning after pruning resumes from its checkpoint after its worker is killed.
async fn killed_prune_finetune_resumes_from_its_checkpoint(backend: Backend) {
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
    let spec = json!({"kind": "prune", "spec": {"model_id": model["id"], "method": "magnitude",
        "sparsity": 0.7, "finetune": {"dataset_id": train["id"], "epochs": epochs, "lr": 0.0005}}});
    let case = ResumeCase {
        epochs,
        resumed_at: "/finetune/resumed_from_epoch",
        series: "train_loss",
        message_names_resume: false,
    };
    let done = resume_after_kill(&app, spec, case).await;
    assert_eq!(done["result"]["finetune"]["epochs_run"], epochs, "{done}");
    app.finish().await;
}

on_both_backends!(
    outputs_keep_the_inputs_names_and_dtype,
    global_magnitude_with_and_without_finetune,
    layer_scope_loses_more_than_global,
    nm_two_of_four_streams,
    structured_halves_hidden_widths,
    wanda_and_gradual_reach_their_sparsity,
    bad_prune_specs,
    non_finite_weights_fail_every_rule,
    killed_prune_finetune_resumes_from_its_checkpoint,
);

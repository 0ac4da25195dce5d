//! Transformer models over real HTTP, on SQLite and Postgres: text datasets, `evaluate` on a
//! Llama-family decoder (perplexity as transformers computes it, top-1 agreement with a
//! reference) and a BERT-family encoder (embedding fidelity), and the 422s that name what
//! does not fit.
mod common;

use common::{fixture, spawn_app, Backend, TestApp, TestOptions};
use serde_json::{json, Value};
use std::time::Duration;

fn reference(dir: &str) -> Value {
    serde_json::from_slice(&fixture(&format!("{dir}/reference.json"))).unwrap()
}

async fn text_dataset(app: &TestApp, dir: &str) -> Value {
    let r = reference(dir);
    let lines: Vec<Value> = r["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| json!({"text": t}))
        .collect();
    app.upload_jsonl("sentences", &lines).await
}

async fn evaluate(app: &TestApp, spec: Value) -> Value {
    let job = app.submit(json!({"kind": "evaluate", "spec": spec})).await;
    let done = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(120))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    done["result"].clone()
}

fn rel_close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol * want.abs().max(1e-12)
}

async fn decoder_evaluate(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let a = app.upload_fixture_folder("tiny-llama", "tiny-llama").await;
    assert_eq!(a["architecture"]["family"], "decoder", "{a}");
    assert_eq!(a["architecture"]["architecture"], "LlamaForCausalLM");
    assert_eq!(a["architecture"]["tokenizer"], true);
    let b = app
        .upload_fixture_folder("tiny-llama-copy", "tiny-llama")
        .await;
    let ds = text_dataset(&app, "tiny-llama").await;
    assert_eq!(
        (&ds["modality"], &ds["task"], &ds["rows"], &ds["format"]),
        (&json!("text"), &json!("none"), &json!(3), &json!("jsonl")),
        "{ds}"
    );
    assert_eq!(ds["feature_names"], json!(["text"]));

    // Perplexity over every next-token prediction, as transformers' cross-entropy gives it.
    let r = reference("tiny-llama");
    let nll: Vec<f64> = r["token_nll"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    let want_ppl = (nll.iter().sum::<f64>() / nll.len() as f64).exp();
    let res = evaluate(
        &app,
        json!({"model_id": a["id"], "dataset_id": ds["id"], "reference_model_id": b["id"]}),
    )
    .await;
    assert_eq!(res["family"], "decoder", "{res}");
    assert_eq!(res["tokens"], nll.len(), "{res}");
    let ppl = res["perplexity"].as_f64().unwrap();
    assert!(
        rel_close(ppl, want_ppl, 1e-4),
        "whittle {ppl}, transformers {want_ppl}"
    );
    assert_eq!(res["reference"]["top1_agreement"], 1.0, "{res}");
    assert!(rel_close(
        res["reference"]["perplexity"].as_f64().unwrap(),
        want_ppl,
        1e-4
    ));
    assert!(res["tokens_per_second"].as_f64().unwrap() > 0.0);
    assert!(res["peak_rss_bytes"].as_u64().unwrap() > 0);

    // Short windows: every token is still scored once (all but a window's first when the
    // stride equals the window), with less context.
    let res = evaluate(
        &app,
        json!({"model_id": a["id"], "dataset_id": ds["id"], "max_length": 4, "stride": 2}),
    )
    .await;
    assert_eq!(res["tokens"], nll.len(), "{res}");
    assert_eq!((&res["max_length"], &res["stride"]), (&json!(4), &json!(2)));
    assert!(res["perplexity"].as_f64().unwrap() != ppl);

    // What does not fit is named.
    let bert = app.upload_fixture_folder("tiny-bert", "tiny-bert").await;
    let mlp = app
        .upload_model("mlp", fixture("digits_mlp.safetensors"))
        .await;
    let tabular = app
        .upload_csv("digits", "label", fixture("digits_test.csv"))
        .await;
    let cases = [
        (
            json!({"model_id": a["id"], "dataset_id": tabular["id"]}),
            "spec.dataset_id",
        ),
        (
            json!({"model_id": a["id"], "dataset_id": ds["id"], "pooling": "cls"}),
            "spec.pooling",
        ),
        (
            json!({"model_id": a["id"], "dataset_id": ds["id"], "max_length": 100}),
            "spec.max_length",
        ),
        (
            json!({"model_id": a["id"], "dataset_id": ds["id"], "reference_model_id": bert["id"]}),
            "spec.reference_model_id",
        ),
        (
            json!({"model_id": a["id"], "dataset_id": ds["id"], "reference_model_id": mlp["id"]}),
            "spec.reference_model_id",
        ),
        (
            json!({"model_id": mlp["id"], "dataset_id": tabular["id"], "max_length": 8}),
            "spec.max_length",
        ),
        (
            json!({"model_id": mlp["id"], "dataset_id": ds["id"]}),
            "spec.model_id",
        ),
        (
            json!({"model_id": a["id"], "dataset_id": ds["id"], "stride": 0}),
            "spec.stride",
        ),
    ];
    for (spec, field) in cases {
        app.assert_rejected(&json!({"kind": "evaluate", "spec": spec}), field)
            .await;
    }
    app.finish().await;
}

async fn encoder_evaluate(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let a = app.upload_fixture_folder("tiny-bert", "tiny-bert").await;
    assert_eq!(a["architecture"]["family"], "encoder", "{a}");
    let b = app
        .upload_fixture_folder("tiny-bert-copy", "tiny-bert")
        .await;
    let ds = text_dataset(&app, "tiny-bert").await;
    let res = evaluate(
        &app,
        json!({"model_id": a["id"], "dataset_id": ds["id"], "reference_model_id": b["id"], "batch_size": 2}),
    )
    .await;
    assert_eq!(
        (&res["family"], &res["pooling"]),
        (&json!("encoder"), &json!("mean")),
        "{res}"
    );
    let emb = &res["reference"]["embeddings"];
    assert!(
        rel_close(emb["mean_cosine"].as_f64().unwrap(), 1.0, 1e-6),
        "{res}"
    );
    assert!(
        rel_close(emb["min_cosine"].as_f64().unwrap(), 1.0, 1e-6),
        "{res}"
    );
    assert_eq!(emb["neighbour_agreement"], 1.0, "{res}");
    let r = reference("tiny-bert");
    let tokens: usize = r["input_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_array().unwrap().len())
        .sum();
    assert_eq!(res["tokens"], tokens, "{res}");
    // Truncation is counted.
    let res = evaluate(
        &app,
        json!({"model_id": a["id"], "dataset_id": ds["id"], "max_length": 4}),
    )
    .await;
    assert_eq!(res["truncated_examples"], 2, "{res}");

    // Labelled text as CSV: classification, classes in order.
    let resp = app
        .client
        .post(app.url("/v1/datasets?name=reviews"))
        .header("content-type", "text/csv")
        .body("text,text_pair,label\nhello world,a small test,pos\nwhittle,models,neg\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let labelled: Value = resp.json().await.unwrap();
    assert_eq!(
        (
            &labelled["modality"],
            &labelled["task"],
            &labelled["classes"],
            &labelled["feature_names"]
        ),
        (
            &json!("text"),
            &json!("classification"),
            &json!(["neg", "pos"]),
            &json!(["text", "text_pair"])
        ),
        "{labelled}"
    );
    // A text dataset cannot train an MLP.
    app.assert_rejected(
        &json!({"kind": "train", "spec": {"dataset_id": labelled["id"],
            "architecture": {"hidden": [8]}, "epochs": 1}}),
        "spec.dataset_id",
    )
    .await;

    // An architecture whittle cannot run uploads (data-free jobs work on it) but cannot be
    // evaluated: the 422 names it.
    let mut files = std::collections::BTreeMap::new();
    for f in ["model.safetensors", "tokenizer.json"] {
        files.insert(f.to_string(), fixture(&format!("tiny-bert/{f}")));
    }
    files.insert(
        "config.json".into(),
        serde_json::to_vec(&json!({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}))
            .unwrap(),
    );
    let resp = app.post_folder("gpt2", &files).await;
    assert_eq!(resp.status(), 201);
    let gpt2: Value = resp.json().await.unwrap();
    assert_eq!(gpt2["architecture"]["supported"], false, "{gpt2}");
    app.assert_rejected_with(
        &json!({"kind": "evaluate", "spec": {"model_id": gpt2["id"], "dataset_id": ds["id"]}}),
        "spec.model_id",
        "GPT2LMHeadModel",
    )
    .await;

    // Bad text uploads are 422s naming the line and field.
    for (body, needle) in [
        ("{\"text\": 3}\n", "line 1, text"),
        ("{\"text\": \"a\\u0000b\"}\n", "U+0000"),
        (
            "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"}\n",
            "line 2, label",
        ),
    ] {
        let resp = app
            .client
            .post(app.url("/v1/datasets?name=bad"))
            .header("content-type", "application/jsonl")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{body}");
        let p: Value = resp.json().await.unwrap();
        assert!(p.to_string().contains(needle), "{body}: {p}");
    }
    app.finish().await;
}

/// Quantize with a text eval dataset: quality before and after, measured on the written
/// (compressed-tensors) output; evaluate of that output agrees with the job's figures.
async fn quantize_gates(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let llama = app.upload_fixture_folder("tiny-llama", "tiny-llama").await;
    let ds = text_dataset(&app, "tiny-llama").await;
    let spec = json!({"model_id": llama["id"], "scheme": {"bits": 4, "granularity": "group", "group_size": 16},
        "eval_dataset_id": ds["id"], "tolerable_loss": 0.5});
    let job = app.submit(json!({"kind": "quantize", "spec": spec})).await;
    let done = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(120))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let r = &done["result"];
    assert_eq!(r["eval_metric"], "perplexity", "{r}");
    let (before, after) = (
        r["perplexity_before"].as_f64().unwrap(),
        r["perplexity_after"].as_f64().unwrap(),
    );
    assert!(before > 1.0 && after > 1.0 && before != after, "{r}");
    assert!(rel_close(
        r["eval_loss"].as_f64().unwrap(),
        after / before - 1.0,
        1e-9
    ));
    let agree = r["eval_prediction_agreement"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&agree), "{r}");
    assert_eq!(r["attempts"][0]["passed"], true, "{r}");
    // The stored output, evaluated on its own against the float model, gives the same figures.
    let out = done["output_model_id"].as_str().unwrap();
    let ev = evaluate(
        &app,
        json!({"model_id": out, "dataset_id": ds["id"], "reference_model_id": llama["id"]}),
    )
    .await;
    assert!(
        rel_close(ev["perplexity"].as_f64().unwrap(), after, 1e-9),
        "{ev}"
    );
    assert!(rel_close(
        ev["reference"]["perplexity"].as_f64().unwrap(),
        before,
        1e-9
    ));
    assert_eq!(ev["reference"]["top1_agreement"].as_f64().unwrap(), agree);

    // An encoder: the sentence embeddings' cosine to the float model's.
    let bert = app.upload_fixture_folder("tiny-bert", "tiny-bert").await;
    let sentences = text_dataset(&app, "tiny-bert").await;
    let job = app
        .submit(json!({"kind": "quantize", "spec": {"model_id": bert["id"],
            "scheme": {"bits": 4, "granularity": "group", "group_size": 16}, "eval_dataset_id": sentences["id"]}}))
        .await;
    let done = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(120))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let r = &done["result"];
    assert_eq!(r["eval_metric"], "embedding_cosine", "{r}");
    let cos = r["embedding_cosine_after"].as_f64().unwrap();
    assert!(cos > 0.5 && cos < 1.0, "{r}");
    assert_eq!(r["embedding_cosine_before"], 1.0);

    // A tabular eval dataset on a transformer is named.
    let tabular = app
        .upload_csv("digits", "label", fixture("digits_test.csv"))
        .await;
    app.assert_rejected(
        &json!({"kind": "quantize", "spec": {"model_id": llama["id"], "scheme": {"bits": 4},
            "eval_dataset_id": tabular["id"]}}),
        "spec.eval_dataset_id",
    )
    .await;
    app.finish().await;
}

on_both_backends!(decoder_evaluate, encoder_evaluate, quantize_gates);

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
    let longer = r["input_ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.as_array().unwrap().len() > 4)
        .count();
    assert_eq!(res["truncated_examples"], longer, "{res}");

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

async fn calibration_dataset(app: &TestApp) -> Value {
    let lines: Vec<Value> = String::from_utf8(fixture("calibration.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    app.upload_jsonl("calibration", &lines).await
}

async fn run(app: &TestApp, kind: &str, spec: Value) -> Value {
    let job = app.submit(json!({"kind": kind, "spec": spec})).await;
    app.wait_job(job["id"].as_str().unwrap(), Duration::from_secs(180))
        .await
}

async fn succeeded(app: &TestApp, kind: &str, spec: Value) -> Value {
    let done = run(app, kind, spec).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    done["result"].clone()
}

/// GPTQ through the real forward pass on both families: every block Linear is quantized
/// with its Hessian from calibration text (block by block), beats round-to-nearest on the
/// layer-output error it minimizes, and the output is judged on the eval text.
async fn gptq_through_the_forward_pass(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let calib = calibration_dataset(&app).await;
    for (dir, linears, metric) in [
        ("tiny-llama", 14, "perplexity"),
        ("tiny-bert", 12, "embedding_cosine"),
    ] {
        let model = app.upload_fixture_folder(dir, dir).await;
        let eval = text_dataset(&app, dir).await;
        let scheme = json!({"bits": 4, "granularity": "group", "group_size": 16});
        let r = succeeded(
            &app,
            "quantize",
            json!({"model_id": model["id"], "scheme": scheme, "method": "gptq",
                "calibration_dataset_id": calib["id"], "eval_dataset_id": eval["id"], "max_examples": 32}),
        )
        .await;
        let g = &r["gptq"];
        assert_eq!(g["layers"].as_array().unwrap().len(), linears, "{dir}: {g}");
        assert_eq!(g["calibration"]["blocks"], 2, "{g}");
        assert_eq!(g["calibration"]["examples"], 32, "{g}");
        assert!(g["calibration"]["tokens"].as_u64().unwrap() > 100, "{g}");
        let (rtn, gptq) = (
            g["mean_rtn_output_error"].as_f64().unwrap(),
            g["mean_gptq_output_error"].as_f64().unwrap(),
        );
        assert!(gptq < rtn && gptq > 0.0, "{dir}: gptq {gptq} vs rtn {rtn}");
        let better = g["layers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["gptq_output_error"].as_f64() < l["rtn_output_error"].as_f64())
            .count();
        assert!(
            better * 10 >= linears * 8,
            "{dir}: {better} of {linears}: {g}"
        );
        assert_eq!(r["eval_metric"], metric, "{r}");
        assert!(
            r[format!("{metric}_after")].as_f64().unwrap().is_finite(),
            "{r}"
        );
        // The same scheme data-free, for the record: its output differs.
        let rtn_r = succeeded(
            &app,
            "quantize",
            json!({"model_id": model["id"], "scheme": scheme, "eval_dataset_id": eval["id"]}),
        )
        .await;
        assert!(rtn_r.get("gptq").is_none());
        assert_ne!(
            rtn_r[format!("{metric}_after")],
            r[format!("{metric}_after")]
        );
    }
    // What does not fit is named.
    let llama = app.upload_fixture_folder("tiny-llama", "tiny-llama").await;
    let mlp = app
        .upload_model("mlp", fixture("digits_mlp.safetensors"))
        .await;
    let tabular = app
        .upload_csv("digits", "label", fixture("digits_test.csv"))
        .await;
    for (spec, field) in [
        (
            json!({"model_id": llama["id"], "method": "gptq", "calibration_dataset_id": tabular["id"]}),
            "spec.calibration_dataset_id",
        ),
        (
            json!({"model_id": llama["id"], "method": "gptq", "calibration_dataset_id": calib["id"], "max_length": 100}),
            "spec.max_length",
        ),
        (
            json!({"model_id": mlp["id"], "max_examples": 3}),
            "spec.max_examples",
        ),
        (
            json!({"model_id": llama["id"], "max_length": 1}),
            "spec.max_length",
        ),
    ] {
        app.assert_rejected(&json!({"kind": "quantize", "spec": spec}), field)
            .await;
    }
    app.finish().await;
}

/// Pruning a transformer with a text eval dataset: magnitude, 2:4 and Wanda (its input
/// norms from calibration text, block by block) report quality before and after, and
/// `tolerable_loss` fails a prune that costs too much.
async fn prune_gates(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let calib = calibration_dataset(&app).await;
    let llama = app.upload_fixture_folder("tiny-llama", "tiny-llama").await;
    let sentences = text_dataset(&app, "tiny-llama").await;
    let r = succeeded(
        &app,
        "prune",
        json!({"model_id": llama["id"], "method": "magnitude", "sparsity": 0.5, "eval_dataset_id": sentences["id"]}),
    )
    .await;
    assert_eq!(r["metric"], "perplexity", "{r}");
    let (before, after) = (
        r["perplexity_before"].as_f64().unwrap(),
        r["perplexity_after"].as_f64().unwrap(),
    );
    assert!(
        rel_close(r["loss"].as_f64().unwrap(), after / before - 1.0, 1e-9),
        "{r}"
    );
    assert!(
        r["evaluation"]["after_report"]["reference"]["top1_agreement"]
            .as_f64()
            .is_some()
    );

    // Wanda: every block Linear at exactly 50 % per output row; embeddings and the head are
    // not block Linears and stay as they were.
    let r = succeeded(
        &app,
        "prune",
        json!({"model_id": llama["id"], "method": "wanda", "sparsity": 0.5,
            "calibration_dataset_id": calib["id"], "eval_dataset_id": sentences["id"]}),
    )
    .await;
    let tensors = r["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), 14, "{r}");
    for t in tensors {
        assert_eq!(t["sparsity"], 0.5, "{t}");
    }
    let mut skipped: Vec<&str> = r["skipped_tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        ["lm_head.weight", "model.embed_tokens.weight"],
        "{r}"
    );
    assert_eq!(r["calibration"]["blocks"], 2, "{r}");
    assert!(r["perplexity_after"].as_f64().unwrap() > 1.0, "{r}");
    // Wanda's 2:4 on an encoder, judged by the embeddings' cosine.
    let bert = app.upload_fixture_folder("tiny-bert", "tiny-bert").await;
    let bert_eval = text_dataset(&app, "tiny-bert").await;
    let r = succeeded(
        &app,
        "prune",
        json!({"model_id": bert["id"], "method": "wanda", "n": 2, "m": 4,
            "calibration_dataset_id": calib["id"], "eval_dataset_id": bert_eval["id"]}),
    )
    .await;
    assert_eq!(r["pattern"], "2:4", "{r}");
    assert_eq!(r["metric"], "embedding_cosine", "{r}");
    let cos = r["embedding_cosine_after"].as_f64().unwrap();
    assert!(cos > 0.0 && cos < 1.0, "{r}");
    let r = succeeded(
        &app,
        "prune",
        json!({"model_id": bert["id"], "method": "nm", "n": 2, "m": 4, "eval_dataset_id": bert_eval["id"]}),
    )
    .await;
    // Half of every group of 4, plus the zeros the embeddings had (the padding row).
    let sparsity = r["global"]["sparsity"].as_f64().unwrap();
    assert!((0.5..0.51).contains(&sparsity), "{r}");
    assert!(r["embedding_cosine_after"].as_f64().unwrap() < 1.0, "{r}");

    // The gate trips: 90 % of the weights cost more than 0.1 % perplexity.
    let done = run(
        &app,
        "prune",
        json!({"model_id": llama["id"], "method": "magnitude", "sparsity": 0.9,
            "eval_dataset_id": sentences["id"], "tolerable_loss": 0.001}),
    )
    .await;
    assert_eq!(done["state"], "failed", "{done}");
    assert!(done.to_string().contains("tolerable_loss"), "{done}");

    let tabular = app
        .upload_csv("digits", "label", fixture("digits_test.csv"))
        .await;
    for (spec, field) in [
        (
            json!({"model_id": llama["id"], "method": "wanda", "sparsity": 0.5, "calibration_dataset_id": tabular["id"]}),
            "spec.calibration_dataset_id",
        ),
        (
            json!({"model_id": llama["id"], "method": "structured", "sparsity": 0.5}),
            "spec.method",
        ),
        (
            json!({"model_id": llama["id"], "method": "magnitude", "sparsity": 0.5, "eval_dataset_id": tabular["id"]}),
            "spec.eval_dataset_id",
        ),
    ] {
        app.assert_rejected(&json!({"kind": "prune", "spec": spec}), field)
            .await;
    }
    app.finish().await;
}

/// A sequence classifier (BertForSequenceClassification, labels neg/pos): accuracy on
/// labelled text as transformers computes it, and the accuracy gates of quantize and prune.
async fn classifier_gates(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let cls = app
        .upload_fixture_folder("tiny-bert-cls", "tiny-bert-cls")
        .await;
    assert_eq!(
        cls["architecture"]["architecture"],
        "BertForSequenceClassification"
    );
    let lines: Vec<Value> = String::from_utf8(fixture("reviews.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reviews = app.upload_jsonl("reviews", &lines).await;
    assert_eq!(reviews["classes"], json!(["neg", "pos"]), "{reviews}");
    let want = reference("tiny-bert-cls")["eval_accuracy"]
        .as_f64()
        .unwrap();
    let res = evaluate(
        &app,
        json!({"model_id": cls["id"], "dataset_id": reviews["id"]}),
    )
    .await;
    assert_eq!(
        res["classification"]["accuracy"].as_f64().unwrap(),
        want,
        "{res}"
    );
    assert!(
        res["classification"]["f1_macro"].as_f64().is_some(),
        "{res}"
    );

    let r = succeeded(
        &app,
        "quantize",
        json!({"model_id": cls["id"], "scheme": {"bits": 8}, "eval_dataset_id": reviews["id"],
            "tolerable_loss": 0.02}),
    )
    .await;
    assert_eq!(r["eval_metric"], "accuracy", "{r}");
    assert_eq!(r["accuracy_before"].as_f64().unwrap(), want, "{r}");
    assert!(r["eval_loss"].as_f64().unwrap() <= 0.02, "{r}");
    // Pruning 95 % of every weight costs more accuracy than 1 %: the job fails and says so.
    let done = run(
        &app,
        "prune",
        json!({"model_id": cls["id"], "method": "magnitude", "sparsity": 0.95,
            "eval_dataset_id": reviews["id"], "tolerable_loss": 0.01}),
    )
    .await;
    assert_eq!(done["state"], "failed", "{done}");
    assert!(done.to_string().contains("accuracy loss"), "{done}");
    app.finish().await;
}

/// Analyze groups a transformer's tensors by module and names what to leave in float; the
/// recommendation works as quantize's `exclude`.
async fn analyze_modules(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let llama = app.upload_fixture_folder("tiny-llama", "tiny-llama").await;
    let r = succeeded(&app, "analyze", json!({"model_id": llama["id"]})).await;
    let roles: Vec<&str> = r["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "embeddings",
            "attention.q",
            "attention.k",
            "attention.v",
            "attention.o",
            "mlp.gate",
            "mlp.up",
            "mlp.down",
            "norm",
            "lm_head"
        ],
        "{r}"
    );
    let q = &r["modules"][1];
    assert_eq!(
        (&q["tensors"], &q["n_elements"]),
        (&json!(2), &json!(2 * 32 * 32)),
        "{q}"
    );
    assert_eq!(q["keep_float"], false);
    assert_eq!(r["modules"][9]["keep_float"], true);
    let exclude = r["recommendation"]["exclude"].clone();
    let mut names: Vec<&str> = exclude
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["lm_head.weight", "model.embed_tokens.weight"],
        "{r}"
    );
    let q = succeeded(
        &app,
        "quantize",
        json!({"model_id": llama["id"], "scheme": {"bits": 4, "granularity": "group", "group_size": 16},
            "exclude": exclude}),
    )
    .await;
    assert_eq!(q["n_tensors_quantized"], 14, "{q}");
    // An MLP has no modules to group.
    let mlp = app
        .upload_model("mlp", fixture("digits_mlp.safetensors"))
        .await;
    let r = succeeded(&app, "analyze", json!({"model_id": mlp["id"]})).await;
    assert!(
        r.get("modules").is_none() && r.get("recommendation").is_none(),
        "{r}"
    );
    app.finish().await;
}

on_both_backends!(
    analyze_modules,
    classifier_gates,
    decoder_evaluate,
    encoder_evaluate,
    quantize_gates,
    gptq_through_the_forward_pass,
    prune_gates
);

//! Training and evaluation over real HTTP, on SQLite and Postgres.
mod common;

use common::resume::{
    checkpoint_path, resume_after, resume_after_kill, start_and_stop, ResumeCase, Stop,
};
use common::{fixture, spawn_app, Backend, TestOptions};
use serde_json::{json, Value};
use std::time::Duration;

async fn evaluate_sklearn_model_reproduces_scikit_learn(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let model = app
        .upload_model("sklearn-digits", fixture("digits_mlp.safetensors"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    let job = app.submit(json!({"kind": "evaluate", "spec": {"model_id": model["id"], "dataset_id": test["id"]}})).await;
    let done = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(60))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let r = &done["result"];
    // A numpy forward pass over the same file gets 350/360 right.
    assert_eq!(r["accuracy"].as_f64().unwrap(), 350.0 / 360.0, "{r}");
    let cm = r["confusion_matrix"].as_array().unwrap();
    assert_eq!(cm.len(), 10);
    let total: u64 = cm
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .sum();
    let diag: u64 = (0..10).map(|i| cm[i][i].as_u64().unwrap()).sum();
    assert_eq!((total, diag), (360, 350));
    assert!(r["f1_macro"].as_f64().unwrap() > 0.97, "{r}");
    assert!(r["log_loss"].as_f64().unwrap() > 0.0);
    assert_eq!(r["per_class"].as_array().unwrap().len(), 10);
    assert!(r["throughput_rows_per_s"].as_f64().unwrap() > 0.0);
    assert!(r["latency_batch1_us"].as_f64().unwrap() > 0.0);
    app.finish().await;
}

async fn train_digits_then_evaluate(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let test = app
        .upload_csv("digits-test", "label", fixture("digits_test.csv"))
        .await;
    // The example request, verbatim.
    let job = app
        .submit(json!({"kind": "train", "spec": {"dataset_id": train["id"],
            "architecture": {"hidden": [256, 256], "activation": "relu"},
            "optimizer": {"kind": "adam", "lr": 0.001}, "batch_size": 64, "epochs": 30, "seed": 0}}))
        .await;
    let id = job["id"].as_str().unwrap();
    let done = app.wait_job(id, Duration::from_secs(300)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["result"]["epochs_run"], 30);
    let output = done["output_model_id"]
        .as_str()
        .expect("an output model")
        .to_string();
    let (_, metrics) = app.get_json(&format!("/v1/jobs/{id}/metrics")).await;
    let losses = metrics["series"]["train_loss"].as_array().unwrap();
    assert_eq!(losses.len(), 30);
    let first = losses[0]["value"].as_f64().unwrap();
    let last = losses[29]["value"].as_f64().unwrap();
    assert!(last < first / 10.0, "loss falls: {first} → {last}");

    let (status, model) = app.get_json(&format!("/v1/models/{output}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        model["architecture"]["layer_sizes"],
        json!([64, 256, 256, 10])
    );
    assert_eq!(model["source_job_id"], id);
    assert_eq!(model["metadata"]["arch"], "mlp");

    let eval = app.evaluate(&json!(output), &test["id"]).await;
    let acc = eval["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.96, "test accuracy {acc}");

    // Fine-tune from the trained model with a validation split and early stopping.
    let ft = app
        .submit(json!({"kind": "train", "spec": {"dataset_id": train["id"], "base_model_id": output,
            "optimizer": {"kind": "sgd", "lr": 0.01, "momentum": 0.9}, "epochs": 5,
            "validation": {"split": 0.2}, "early_stopping": {"patience": 2, "monitor": "val_metric"}}}))
        .await;
    let ft = app
        .wait_job(ft["id"].as_str().unwrap(), Duration::from_secs(120))
        .await;
    assert_eq!(ft["state"], "succeeded", "{ft}");
    assert!(
        ft["result"]["final_val_accuracy"].as_f64().unwrap() > 0.9,
        "{ft}"
    );
    let (_, m) = app
        .get_json(&format!("/v1/jobs/{}/metrics", ft["id"].as_str().unwrap()))
        .await;
    assert!(
        m["series"]["val_accuracy"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{m}"
    );
    app.finish().await;
}

/// y = 3·x0 − 2·x1 + x2² + small noise; raw (unstandardized) features on different scales.
fn regression_csv(rows: usize) -> Vec<u8> {
    let mut s = String::from("a,b,c,y\n");
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64) / (1u64 << 31) as f64
    };
    for _ in 0..rows {
        let (a, b, c) = (next() * 10.0, next() * 100.0 - 50.0, next() * 4.0 - 2.0);
        let noise = (next() - 0.5) * 0.1;
        let y = 3.0 * a - 0.2 * b + c * c + noise;
        s.push_str(&format!("{a:.5},{b:.5},{c:.5},{y:.5}\n"));
    }
    s.into_bytes()
}

async fn regression_reaches_r2(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::default()).await else {
        return;
    };
    let train = app.upload_csv("reg-train", "y", regression_csv(2000)).await;
    assert_eq!(train["task"], "regression");
    let test = app.upload_csv("reg-test", "y", regression_csv(300)).await;
    let job = app
        .submit(json!({"kind": "train", "spec": {"dataset_id": train["id"],
            "architecture": {"hidden": [64, 64], "activation": "tanh"},
            "optimizer": {"kind": "adam", "lr": 0.003}, "batch_size": 32, "epochs": 40, "seed": 1,
            "lr_schedule": {"decay": {"kind": "cosine"}, "warmup_epochs": 2}}}))
        .await;
    let done = app
        .wait_job(job["id"].as_str().unwrap(), Duration::from_secs(300))
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let eval = app.evaluate(&done["output_model_id"], &test["id"]).await;
    let r2 = eval["r2"].as_f64().unwrap();
    assert!(r2 >= 0.95, "R² {r2}: {eval}");
    assert!(eval["rmse"].as_f64().unwrap() > 0.0);
    app.finish().await;
}

async fn bad_train_and_evaluate_specs(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
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
    let model = app
        .upload_model("sk", fixture("digits_mlp.safetensors"))
        .await;
    let ds = train["id"].clone();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"kind": "train", "spec": {"dataset_id": ds, "architecture": {"hidden": [8]}, "optimizer": {"kind": "adagrad", "lr": 0.1}}}),
            "spec.optimizer.kind",
        ),
        (
            json!({"kind": "train", "spec": {"dataset_id": ds, "architecture": {"hidden": [8]}, "optimizer": {"kind": "adam", "lr": -0.1}}}),
            "spec.optimizer.lr",
        ),
        (
            json!({"kind": "train", "spec": {"dataset_id": ds, "architecture": {"hidden": []}}}),
            "spec.architecture.hidden",
        ),
        (
            json!({"kind": "train", "spec": {"dataset_id": ds, "architecture": {"hidden": [8]}, "loss": "mse"}}),
            "spec.loss",
        ),
        (
            json!({"kind": "train", "spec": {"dataset_id": small["id"], "base_model_id": model["id"]}}),
            "spec.base_model_id",
        ),
        (
            json!({"kind": "evaluate", "spec": {"model_id": model["id"], "dataset_id": small["id"]}}),
            "spec.model_id",
        ),
        (
            json!({"kind": "train", "spec": {"dataset_id": ds, "architecture": {"hidden": [8]}, "epochs": "many"}}),
            "spec.epochs",
        ),
    ];
    for (body, field) in cases {
        app.assert_rejected(&body, field).await;
    }
    app.finish().await;
}

/// The digits training set reduced to the rows whose label is in `labels`, at most `max` rows.
fn digits_subset(labels: &[&str], max: usize) -> Vec<u8> {
    let text = String::from_utf8(fixture("digits_train.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for line in lines
        .filter(|l| labels.contains(&l.rsplit(',').next().unwrap()))
        .take(max)
    {
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

/// Data a job cannot learn from (one class, one row) and text the database cannot store
/// (U+0000) are refused at submit for every kind that trains, not failed at run time.
async fn untrainable_data_and_nul_text_are_refused_at_submit(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let one_class = app
        .upload_csv("zeros", "label", digits_subset(&["0"], 100))
        .await;
    let one_row = app
        .upload_csv("one-row", "label", digits_subset(&["0"], 1))
        .await;
    let two_classes = app
        .upload_csv("zeros-ones", "label", digits_subset(&["0", "1"], 100))
        .await;
    let model = app
        .upload_model("sk", fixture("digits_mlp.safetensors"))
        .await;
    let train = |ds: &Value| json!({"kind": "train", "spec": {"dataset_id": ds["id"], "architecture": {"hidden": [8]}, "epochs": 2}});
    for ds in [&one_class, &one_row] {
        app.assert_rejected_with(&train(ds), "spec.dataset_id", "at least 2")
            .await;
        app.assert_rejected_with(
            &json!({"kind": "tune", "spec": {"dataset_id": ds["id"], "base": {"architecture": {"hidden": [8]}, "epochs": 2},
                    "search_space": {"optimizer.lr": {"type": "categorical", "choices": [0.001, 0.01]}}, "n_trials": 2}}),
            "spec.dataset_id",
            "at least 2",
        )
        .await;
        for kind in ["quantize", "prune"] {
            let mut spec =
                json!({"model_id": model["id"], "finetune": {"dataset_id": ds["id"], "epochs": 1}});
            if kind == "prune" {
                spec["method"] = json!("magnitude");
                spec["sparsity"] = json!(0.5);
            }
            app.assert_rejected_with(
                &json!({"kind": kind, "spec": spec}),
                "spec.finetune.dataset_id",
                "at least 2",
            )
            .await;
        }
    }
    // The same requests on data with two classes are accepted.
    app.submit(train(&two_classes)).await;
    let digits = app
        .upload_csv("digits", "label", fixture("digits_train.csv"))
        .await;
    app.submit(json!({"kind": "quantize", "spec": {"model_id": model["id"], "finetune": {"dataset_id": digits["id"], "epochs": 1}}}))
        .await;

    let nul_cases = [
        (
            json!({"kind": "train", "spec": {"dataset_id": two_classes["id"], "architecture": {"hidden": [8]}, "output_name": "net\u{0}"}}),
            "spec.output_name",
        ),
        (
            json!({"kind": "analyze", "spec": {"model_id": model["id"], "exclude": ["ok", "layers\u{0}*"]}}),
            "spec.exclude[1]",
        ),
    ];
    for (body, field) in nul_cases {
        app.assert_rejected(&body, field).await;
    }
    let (_, jobs) = app.get_json("/v1/jobs").await;
    assert_eq!(jobs["items"].as_array().unwrap().len(), 2, "{jobs}");
    app.finish().await;
}

async fn killed_train_job_resumes_from_its_checkpoint(backend: Backend) {
    // No in-process worker at first: attempt 1 runs in a worker process that is killed.
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let epochs: u64 = 400;
    let spec = json!({"kind": "train", "spec": {"dataset_id": train["id"],
        "architecture": {"hidden": [24], "activation": "relu", "dropout": 0.1},
        "optimizer": {"kind": "adam", "lr": 0.002}, "batch_size": 128, "epochs": epochs,
        "seed": 11, "validation": {"split": 0.2}}});
    let case = ResumeCase {
        epochs,
        resumed_at: "/resumed_from_epoch",
        series: "train_loss",
        message_names_resume: true,
    };
    let done = resume_after_kill(&app, spec, case).await;
    assert_eq!(done["result"]["epochs_run"], epochs);
    app.finish().await;
}

/// The digits train spec the resume tests interrupt.
fn resumable_train_spec(dataset: &Value, epochs: u64) -> Value {
    json!({"kind": "train", "spec": {"dataset_id": dataset["id"],
        "architecture": {"hidden": [24], "activation": "relu", "dropout": 0.1},
        "optimizer": {"kind": "adam", "lr": 0.002}, "batch_size": 128, "epochs": epochs,
        "seed": 11, "validation": {"split": 0.2}}})
}

/// SIGTERM: the worker checkpoints and hands the job back; the next worker resumes it, and a
/// hand-back canceled while queued leaves no checkpoint behind.
async fn sigterm_hands_back_a_resumable_job(backend: Backend) {
    let Some(app) = spawn_app(backend, TestOptions::workers(0)).await else {
        return;
    };
    let train = app
        .upload_csv("digits-train", "label", fixture("digits_train.csv"))
        .await;
    let epochs: u64 = 400;
    let case = ResumeCase {
        epochs,
        resumed_at: "/resumed_from_epoch",
        series: "train_loss",
        message_names_resume: true,
    };
    let spec = resumable_train_spec(&train, epochs);
    resume_after(&app, spec.clone(), case, Stop::Term).await;

    let id = start_and_stop(&app, spec, Stop::Term).await;
    assert!(checkpoint_path(&app, &id).exists());
    let r = app
        .client
        .post(app.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let (_, j) = app.get_json(&format!("/v1/jobs/{id}")).await;
    assert_eq!(j["state"], "canceled", "{j}");
    assert!(
        !checkpoint_path(&app, &id).exists(),
        "a canceled hand-back keeps no checkpoint"
    );
    app.finish().await;
}

on_both_backends!(
    untrainable_data_and_nul_text_are_refused_at_submit,
    evaluate_sklearn_model_reproduces_scikit_learn,
    train_digits_then_evaluate,
    regression_reaches_r2,
    bad_train_and_evaluate_specs,
    killed_train_job_resumes_from_its_checkpoint,
    sigterm_hands_back_a_resumable_job,
);

//! The committed OpenAPI document matches the generated one, defines every schema it
//! references, documents every route, and every documented route exists on the server.
mod common;

use common::{spawn_app, Backend, TestOptions};
use serde_json::Value;

/// Every route the router serves (method, path template). Adding a route without adding it
/// here and to the OpenAPI document fails `every_route_is_documented`.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/models"),
    ("get", "/v1/models"),
    ("get", "/v1/models/{id}"),
    ("delete", "/v1/models/{id}"),
    ("get", "/v1/models/{id}/content"),
    ("get", "/v1/models/{id}/files"),
    ("get", "/v1/models/{id}/files/{path}"),
    ("post", "/v1/datasets"),
    ("get", "/v1/datasets"),
    ("get", "/v1/datasets/{id}"),
    ("delete", "/v1/datasets/{id}"),
    ("get", "/v1/datasets/{id}/content"),
    ("post", "/v1/jobs"),
    ("get", "/v1/jobs"),
    ("get", "/v1/jobs/{id}"),
    ("post", "/v1/jobs/{id}/cancel"),
    ("get", "/v1/jobs/{id}/metrics"),
    ("get", "/v1/jobs/{id}/trials"),
    ("get", "/v1/jobs/{id}/events"),
    ("get", "/v1/events"),
    ("post", "/v1/webhooks"),
    ("get", "/v1/webhooks"),
    ("get", "/v1/webhooks/{id}"),
    ("patch", "/v1/webhooks/{id}"),
    ("delete", "/v1/webhooks/{id}"),
    ("post", "/v1/webhooks/{id}/rotate-secret"),
    ("get", "/v1/webhooks/{id}/deliveries"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/v1/tenant"),
];

#[test]
fn committed_document_is_current() {
    let generated = whittle::api::openapi::openapi_json();
    let path = format!("{}/openapi/openapi.json", env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

/// Every `$ref` in `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_string()),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// References of `doc` that name no schema in its components.
fn dangling_refs(doc: &Value) -> Vec<String> {
    let schemas = doc["components"]["schemas"].as_object();
    let mut found = Vec::new();
    refs(doc, &mut found);
    found
        .into_iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            !schemas.is_some_and(|s| s.contains_key(name))
        })
        .collect()
}

#[test]
fn every_referenced_schema_is_defined() {
    let doc: Value = serde_json::from_str(&whittle::api::openapi::openapi_json()).unwrap();
    let dangling = dangling_refs(&doc);
    assert!(
        dangling.is_empty(),
        "referenced but not defined (generators drop these operations): {dangling:?}"
    );
}

#[test]
fn result_schemas_resolve_every_reference() {
    use whittle::jobs::exec::{analyze, evaluate, prune, quantize, tune};
    #[derive(utoipa::OpenApi)]
    #[openapi(components(schemas(
        analyze::AnalyzeResult,
        evaluate::EvaluateResult,
        whittle::jobs::fit::FitResult,
        quantize::QuantizeResult,
        prune::PruneResult,
        tune::StudyResult,
        tune::TrialResult
    )))]
    struct Results;
    let doc = serde_json::to_value(<Results as utoipa::OpenApi>::openapi()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "AnalyzeResult",
        "EvaluateResult",
        "QuantizeResult",
        "StudyResult",
    ] {
        assert!(schemas.contains_key(name), "{name} missing");
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    assert_eq!(dangling_refs(&doc), Vec::<String>::new());
    // The evaluate result documents its metrics through the evaluation it flattens: the
    // shared MLP evaluation, or a transformer's.
    let evaluate = serde_json::to_string(&schemas["EvaluateResult"]).unwrap();
    assert!(
        evaluate.contains("#/components/schemas/Evaluation"),
        "{evaluate}"
    );
    let either = serde_json::to_string(&schemas["Evaluation"]).unwrap();
    for part in ["ModelEvaluation", "TextEvaluation"] {
        assert!(
            either.contains(&format!("#/components/schemas/{part}")),
            "{either}"
        );
    }
    let text = serde_json::to_string(&schemas["TextEvaluation"]).unwrap();
    assert!(
        text.contains("perplexity") && text.contains("#/components/schemas/RunStats"),
        "{text}"
    );
    let stats = serde_json::to_string(&schemas["RunStats"]).unwrap();
    assert!(stats.contains("tokens_per_second"), "{stats}");
    let evaluation = serde_json::to_string(&schemas["ModelEvaluation"]).unwrap();
    assert!(evaluation.contains("throughput_rows_per_s"), "{evaluation}");
    let metrics = serde_json::to_string(&schemas["Metrics"]).unwrap();
    assert!(metrics.contains("confusion_matrix"), "{metrics}");
    assert!(
        !metrics.contains("\"predicted\""),
        "skipped fields stay out: {metrics}"
    );
}

#[test]
fn every_route_is_documented() {
    let doc: Value = serde_json::from_str(&whittle::api::openapi::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is missing from the OpenAPI document"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        ROUTES.len(),
        "the document has operations the ROUTES list lacks"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_exists() {
    let app = spawn_app(Backend::Sqlite, TestOptions::workers(0))
        .await
        .unwrap();
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = uuid::Uuid::now_v7().to_string();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let url = app.url(&path.replace("{id}", &id));
            let req = match method.as_str() {
                "get" => app.client.get(&url),
                "post" => app.client.post(&url),
                "delete" => app.client.delete(&url),
                "patch" => app.client.patch(&url),
                other => panic!("unexpected method {other}"),
            };
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            assert_ne!(status, 405, "{method} {path}: method not routed");
            assert!(status < 500, "{method} {path}: {status}");
            let streams = resp
                .headers()
                .get("content-type")
                .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
            if streams {
                // A live event stream does not end by itself: routed and answering is enough.
                continue;
            }
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_ne!(
                body["detail"], "route not found",
                "{method} {path}: route missing"
            );
        }
    }
    app.finish().await;
}

/// What generated clients and schemathesis rely on: every error response is
/// `application/problem+json`, operations document 400 (and 401 where keys apply, 422 where
/// they take input), binary bodies are `format: binary`, health and readiness are public.
#[test]
fn errors_binary_and_security_are_declared() {
    let doc: Value = serde_json::from_str(&whittle::api::openapi::openapi_json()).unwrap();
    let mut binary = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let at = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = r["content"].as_object().unwrap();
                    assert!(
                        content.keys().all(|k| k == "application/problem+json"),
                        "{at} {status}: {content:?}"
                    );
                }
                for (ct, c) in r["content"].as_object().into_iter().flatten() {
                    if ct == "application/octet-stream" {
                        assert_eq!(c["schema"]["format"], "binary", "{at} {status}");
                        binary += 1;
                    }
                }
            }
            assert!(responses.contains_key("400"), "{at}");
            let public = path == "/healthz" || path == "/readyz";
            if public {
                assert_eq!(op["security"], serde_json::json!([]), "{at}");
            } else if path != "/metrics" {
                assert!(responses.contains_key("401"), "{at}");
            }
            if op.get("requestBody").is_some() || op.get("parameters").is_some() {
                assert!(responses.contains_key("422"), "{at}");
            }
            for (ct, c) in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                if ct == "application/octet-stream" {
                    assert_eq!(c["schema"]["format"], "binary", "{at} body");
                    binary += 1;
                }
            }
        }
    }
    // Model and dataset uploads, model, file and dataset downloads.
    assert!(binary >= 5, "{binary}");
}

/// `POST /v1/jobs` and `JobDto` are unions per kind, discriminated by `kind`, each naming a
/// spec and a result schema that exist; nothing a generator drops (an `allOf` over a union)
/// remains.
#[test]
fn jobs_are_typed_per_kind() {
    let doc: Value = serde_json::from_str(&whittle::api::openapi::openapi_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let named = |r: &Value| -> Value {
        let name = r
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("not a schema reference: {r}"));
        assert!(schemas[name].is_object(), "{name} is not defined");
        schemas[name].clone()
    };
    let request = &schemas["CreateJobRequest"];
    assert_eq!(request["discriminator"]["propertyName"], "kind");
    for kind in whittle::jobs::JobKind::ALL {
        let s = named(&request["discriminator"]["mapping"][kind.as_str()]);
        assert_eq!(s["properties"]["kind"]["const"], kind.as_str());
        named(&s["properties"]["spec"]["$ref"]);
        assert_eq!(s["properties"]["max_attempts"]["maximum"], 25);
    }
    assert!(request["discriminator"]["mapping"]["trial"].is_null());
    let job = &schemas["JobDto"];
    for kind in whittle::jobs::exec::stored_kinds() {
        let s = named(&job["discriminator"]["mapping"][kind]);
        assert_eq!(s["properties"]["kind"]["enum"][0], kind);
        named(&s["properties"]["spec"]["$ref"]);
        let result = s["properties"]["result"]["oneOf"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            result.iter().any(|m| m["type"] == "null"),
            "{kind}: {result:?}"
        );
        for m in result.iter().filter(|m| m["type"] != "null") {
            named(&m["$ref"]);
        }
    }
    // Nested spec parts are typed.
    let train = &schemas["TrainSpec"]["properties"];
    assert_eq!(
        train["optimizer"]["$ref"],
        "#/components/schemas/OptimizerConfig"
    );
    assert_eq!(train["batch_size"]["maximum"], 1_000_000);
    let tune = &schemas["TuneSpec"]["properties"];
    assert_eq!(tune["base"]["$ref"], "#/components/schemas/TrainBase");
    assert!(schemas["TrainBase"]["properties"]["dataset_id"].is_null());
    assert!(tune["sampler"]["oneOf"].as_array().unwrap().len() >= 2);
    // No `allOf` member refers to a union (openapi-python-client drops such schemas).
    let mut stack: Vec<&Value> = schemas.as_object().unwrap().values().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                if let Some(Value::Array(all)) = o.get("allOf") {
                    for m in all {
                        if let Some(r) = m["$ref"].as_str() {
                            let t = named(&Value::String(r.into()));
                            assert!(t.get("oneOf").is_none(), "allOf over the union {r}");
                        }
                        assert!(m.get("oneOf").is_none(), "allOf over an inline union");
                    }
                }
                stack.extend(o.values());
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
}

//! The OpenAPI document (utoipa) and `/docs`, a Swagger UI served from vendored assets so it
//! works offline.
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "whittle", description = "Model-optimization service: analyze, train, evaluate, quantize, prune and tune models."),
    paths(
        super::models::upload_model, super::models::list_models, super::models::get_model,
        super::models::download_model, super::models::delete_model,
        super::models::list_model_files, super::models::download_model_file,
        super::datasets::upload_dataset, super::datasets::list_datasets, super::datasets::get_dataset,
        super::datasets::download_dataset, super::datasets::delete_dataset,
        super::jobs::create_job, super::jobs::list_jobs, super::jobs::get_job, super::jobs::cancel_job,
        super::jobs::job_metrics, super::jobs::job_trials,
        super::events::job_events, super::events::tenant_events,
        super::webhooks::create_webhook, super::webhooks::list_webhooks, super::webhooks::get_webhook,
        super::webhooks::update_webhook, super::webhooks::delete_webhook, super::webhooks::rotate_secret,
        super::webhooks::list_deliveries,
        super::system::healthz, super::system::readyz, super::system::prometheus_metrics,
        super::tenant::get_tenant,
    ),
    components(schemas(
        crate::domain::events::JobEvent,
        crate::domain::events::WebhookPayload,
        crate::domain::specs::AnalyzeSpec,
        crate::domain::specs::TrainSpec,
        crate::domain::specs::EvaluateSpec,
        crate::domain::specs::PruneSpec,
        crate::domain::specs::prune::PruneMethod,
        crate::domain::specs::prune::PruneFinetuneSpec,
        crate::domain::specs::prune::GradualSpec,
        crate::domain::specs::QuantizeSpec,
        crate::domain::specs::quantize::SchemeSpec,
        crate::domain::specs::quantize::FinetuneSpec,
        crate::domain::specs::quantize::GranularitySpec,
        crate::domain::specs::quantize::MethodSpec,
        crate::domain::specs::quantize::OutputSpec,
        crate::domain::specs::quantize::ScaleDtypeSpec,
        crate::domain::specs::train::ArchitectureSpec,
        crate::domain::specs::train::ValidationSpec,
        crate::domain::specs::train::Task,
        crate::domain::specs::TuneSpec,
        crate::domain::specs::tune::TuneMetric,
        crate::kernels::tune::Sampler,
        crate::kernels::tune::Pruner,
        crate::jobs::JobKind,
        super::datasets::DatasetFormat,
    )),
    modifiers(&BearerAuth, &Contract, &TypedJobs),
    security(("bearer" = [])),
    tags(
        (name = "models", description = "Upload and download safetensors models"),
        (name = "datasets", description = "Upload CSV / NPY datasets"),
        (name = "jobs", description = "Queue and follow analyze, train, evaluate, quantize, prune and tune jobs"),
        (name = "system", description = "Health, readiness and metrics"),
        (name = "tenant", description = "The calling tenant, its quotas and usage"),
        (name = "webhooks", description = "Subscribe to job events, delivered as signed Standard Webhooks POSTs"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API key from `whittle apikey create`"))
                    .build(),
            ),
        );
    }
}

/// What utoipa's annotations cannot say once for every operation: errors are
/// `application/problem+json` and every operation documents the errors any request can get
/// (400 malformed query or header, 401 without a valid key, 422 for a bad body); binary
/// bodies are `format: binary` strings; health and readiness are public (`security: []`) and
/// `/metrics` takes its own token or none.
struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::Operation;
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        use utoipa::openapi::security::SecurityRequirement;
        use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

        let binary = || {
            RefOr::T(utoipa::openapi::Schema::Object(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                    .build(),
            ))
        };
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        Content::new(Some(Ref::from_schema_name("Problem"))),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public = matches!(path.as_str(), "/healthz" | "/readyz");
            let operations: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let has_input = op.request_body.is_some()
                    || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                if let Some(body) = op.request_body.as_mut() {
                    for (ct, c) in body.content.iter_mut() {
                        if ct == "application/octet-stream" {
                            c.schema = Some(binary());
                        }
                    }
                }
                for (status, resp) in op.responses.responses.iter_mut() {
                    let RefOr::T(r) = resp else { continue };
                    if let Some(c) = r.content.get_mut("application/octet-stream") {
                        c.schema = Some(binary());
                    }
                    if status.starts_with('4') || status.starts_with('5') {
                        if let Some(c) = r.content.shift_remove("application/json") {
                            r.content.insert("application/problem+json".into(), c);
                        }
                    }
                }
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| problem(description));
                };
                add("400", "a malformed query string, header or body");
                if op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"))
                {
                    add("415", "the body is not sent as `application/json`");
                }
                if has_input {
                    add(
                        "422",
                        "a field or parameter is invalid: `errors` names each one with its problem",
                    );
                }
                if public {
                    op.security = Some(Vec::new());
                } else if path == "/metrics" {
                    // The metrics token when one is configured, else nothing.
                    op.security = Some(vec![
                        SecurityRequirement::default(),
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                    ]);
                } else {
                    add(
                        "401",
                        "no API key, or an unknown or revoked one (when keys are on)",
                    );
                }
            }
        }
    }
}

/// Jobs typed per kind, from the registry (`jobs::exec::kind_schemas`): `CreateJobRequest`
/// is a `oneOf` of one `<Kind>JobRequest` per submittable kind and `JobDto` a `oneOf` of one
/// `<Kind>Job` per stored kind (trials included), both discriminated by `kind`, each naming
/// its spec and result schemas. The derived `CreateJobRequest` and `JobDto` (what the server
/// parses and sends) give the shared fields.
struct TypedJobs;

impl Modify for TypedJobs {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use serde_json::{json, Map, Value};
        use utoipa::openapi::schema::Schema;
        use utoipa::openapi::RefOr;

        let components = openapi.components.get_or_insert_with(Default::default);
        let kinds = crate::jobs::exec::kind_schemas();
        for k in &kinds {
            for (name, schema) in &k.schemas {
                components
                    .schemas
                    .entry(name.clone())
                    .or_insert_with(|| schema.clone());
            }
        }
        let as_json = |s: Option<&RefOr<Schema>>| -> Map<String, Value> {
            match s.map(serde_json::to_value) {
                Some(Ok(Value::Object(o))) => o,
                _ => Map::new(),
            }
        };
        let schema_ref = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
        let pascal = |kind: &str| -> String {
            kind.split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                })
                .collect()
        };
        let mut added: Vec<(String, Value)> = Vec::new();

        // A train spec without its dataset (the tune spec's `base`).
        let mut base = as_json(components.schemas.get("TrainSpec"));
        if let Some(Value::Object(p)) = base.get_mut("properties") {
            p.remove("dataset_id");
        }
        if let Some(Value::Array(r)) = base.get_mut("required") {
            r.retain(|f| f != "dataset_id");
        }
        base.insert(
            "description".into(),
            json!("A train spec without `dataset_id`: the values a study's trials start from."),
        );
        added.push(("TrainBase".into(), Value::Object(base)));

        let request = as_json(components.schemas.get("CreateJobRequest"));
        let job = as_json(components.schemas.get("JobDto"));
        let mut request_refs = Vec::new();
        let mut request_map = Map::new();
        let mut job_refs = Vec::new();
        let mut job_map = Map::new();
        for k in &kinds {
            // Jobs: a one-value enum, which generated parsers check, so a union of jobs
            // parses each body as its own kind. Requests get a `const` instead
            // (`kind="train"` in generated constructors) in [`request_kinds`], since utoipa's
            // schema model has no `const`.
            let kind_enum = json!({ "type": "string", "enum": [k.kind] });
            if k.submittable {
                let mut r = request.clone();
                if let Some(Value::Object(p)) = r.get_mut("properties") {
                    p.insert("kind".into(), kind_enum.clone());
                    p.insert("spec".into(), schema_ref(&k.spec));
                }
                r.insert(
                    "description".into(),
                    json!(format!("Submit a `{}` job.", k.kind)),
                );
                let name = format!("{}JobRequest", pascal(k.kind));
                request_refs.push(schema_ref(&name));
                request_map.insert(k.kind.into(), json!(format!("#/components/schemas/{name}")));
                added.push((name, Value::Object(r)));
            }
            let mut j = job.clone();
            if let Some(Value::Object(p)) = j.get_mut("properties") {
                p.insert("kind".into(), kind_enum);
                p.insert("spec".into(), schema_ref(&k.spec));
                p.insert(
                    "result".into(),
                    json!({
                        "oneOf": [schema_ref(&k.result), { "type": "null" }],
                        "description": "The kind's result once succeeded."
                    }),
                );
            }
            j.insert("description".into(), json!(format!("A `{}` job.", k.kind)));
            let name = format!("{}Job", pascal(k.kind));
            job_refs.push(schema_ref(&name));
            job_map.insert(k.kind.into(), json!(format!("#/components/schemas/{name}")));
            added.push((name, Value::Object(j)));
        }
        added.push((
            "CreateJobRequest".into(),
            json!({
                "description": "Body of `POST /v1/jobs`: the kind and its spec.",
                "oneOf": request_refs,
                "discriminator": { "propertyName": "kind", "mapping": request_map },
            }),
        ));
        added.push((
            "JobDto".into(),
            json!({
                "description": "A job as clients see it: its kind's spec and result.",
                "oneOf": job_refs,
                "discriminator": { "propertyName": "kind", "mapping": job_map },
            }),
        ));
        for (name, schema) in added {
            match serde_json::from_value::<RefOr<Schema>>(schema) {
                Ok(s) => {
                    components.schemas.insert(name, s);
                }
                Err(e) => tracing::error!(schema = %name, "typed job schema: {e}"),
            }
        }
    }
}

/// [`generator_shapes`]: rewrites two shapes that serde's flatten and untagged enums produce and that client
/// generators cannot model (openapi-python-client drops the schema), into equivalent ones
/// they can: `allOf` over a `oneOf` (a struct that flattens an enum) becomes a `oneOf` of
/// `allOf`s, one per variant; a `oneOf` member that is a reference to another plain `oneOf`
/// (an optional enum, a name-or-settings field) is replaced by that union's members.
fn generator_shapes(doc: &mut serde_json::Value) {
    let Some(serde_json::Value::Object(schemas)) =
        doc.get_mut("components").and_then(|c| c.get_mut("schemas"))
    else {
        return;
    };
    // A reshaped schema can make another one reshapeable (a union that now refers to a
    // union): repeat until nothing changes.
    for _ in 0..8 {
        let snapshot: std::collections::BTreeMap<String, serde_json::Value> = schemas
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut changed = false;
        let mut variants = Vec::new();
        for (name, schema) in schemas.iter_mut() {
            changed |= reshape(
                schema,
                &snapshot,
                0,
                &mut Named {
                    name,
                    variants: &mut variants,
                },
            );
        }
        for (name, schema) in variants {
            schemas.insert(name, schema);
        }
        if !changed {
            break;
        }
    }
    // Variant titles were labels for the names above; a generator would name classes after
    // them (two `Classification`s collide).
    for (_, schema) in schemas.iter_mut() {
        strip_titles(schema);
    }
}

/// Removes `title` from `v` and every schema inside it (not from property names).
fn strip_titles(v: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(o) = v else {
        return;
    };
    if matches!(o.get("title"), Some(Value::String(_))) {
        o.remove("title");
    }
    if let Some(Value::Object(props)) = o.get_mut("properties") {
        for (_, p) in props.iter_mut() {
            strip_titles(p);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(p) = o.get_mut(key) {
            strip_titles(p);
        }
    }
    for key in ["oneOf", "allOf", "anyOf"] {
        if let Some(Value::Array(a)) = o.get_mut(key) {
            a.iter_mut().for_each(strip_titles);
        }
    }
}

/// Where a top-level schema's distributed variants go: components named after it and the
/// variant (`FitResult` → `FitResultClassification`, `FitResultRegression`), so generated
/// clients get named classes. The variant's label comes from its `title` (a
/// `#[schema(title)]` on the enum variant), or the `x-variant` of the component it refers
/// to, or its position.
struct Named<'a> {
    name: &'a str,
    variants: &'a mut Vec<(String, serde_json::Value)>,
}

fn variant_label(
    variant: &serde_json::Value,
    index: usize,
    schemas: &std::collections::BTreeMap<String, serde_json::Value>,
) -> String {
    if let Some(t) = variant.get("title").and_then(|t| t.as_str()) {
        return t.to_string();
    }
    if let Some(r) = variant.get("$ref").and_then(|r| r.as_str()) {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
        return schemas
            .get(name)
            .and_then(|t| t.get("x-variant"))
            .and_then(|l| l.as_str())
            .unwrap_or(name)
            .to_string();
    }
    if variant.get("type") == Some(&serde_json::json!("null")) {
        return "Unrated".into();
    }
    format!("Variant{}", index + 1)
}

/// The component a `{"$ref": "#/components/schemas/<name>"}` schema refers to.
fn referenced<'a>(
    v: &serde_json::Value,
    schemas: &'a std::collections::BTreeMap<String, serde_json::Value>,
) -> Option<&'a serde_json::Value> {
    let name = v
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")?;
    schemas.get(name)
}

/// The members of the plain `oneOf` (no discriminator) that `v` is or refers to.
fn union_members(
    v: &serde_json::Value,
    schemas: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Option<Vec<serde_json::Value>> {
    let target = match v.get("$ref") {
        Some(_) => referenced(v, schemas)?,
        None => v,
    };
    if target.get("discriminator").is_some() {
        return None;
    }
    target.get("oneOf")?.as_array().cloned()
}

/// The parts of an `allOf` with nested `allOf`s spliced in and referenced objects inlined
/// (openapi-python-client resolves a reference inside an `allOf` only for top-level
/// schemas, not inside a union's member).
fn flatten_all_of(
    parts: Vec<serde_json::Value>,
    schemas: &std::collections::BTreeMap<String, serde_json::Value>,
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for p in parts {
        let target = match p.get("$ref") {
            Some(_) => referenced(&p, schemas),
            None => Some(&p),
        };
        match target {
            Some(t) => match t.get("allOf").and_then(|a| a.as_array()) {
                Some(inner) => out.extend(flatten_all_of(inner.clone(), schemas)),
                None if p.get("$ref").is_some() && t.get("properties").is_some() => {
                    let mut t = t.clone();
                    if let Some(o) = t.as_object_mut() {
                        o.remove("description");
                    }
                    out.push(t);
                }
                None => out.push(p),
            },
            None => out.push(p),
        }
    }
    out
}

/// Applies [`generator_shapes`] to `v` and every schema inside it; true when it changed.
fn reshape(
    v: &mut serde_json::Value,
    schemas: &std::collections::BTreeMap<String, serde_json::Value>,
    depth: usize,
    top: &mut Named<'_>,
) -> bool {
    use serde_json::{json, Value};
    let Value::Object(o) = v else {
        return false;
    };
    if depth > 32 {
        return false;
    }
    let mut changed = false;
    if let Some(Value::Array(all)) = o.get("allOf").cloned() {
        let pending = |m: &Value| {
            // A variant that is itself still to be reshaped (or a union to be spliced) is
            // left for a later pass, so names do not compound.
            referenced(m, schemas).is_some_and(|t| {
                union_members(t, schemas).is_some()
                    || t.get("allOf")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|p| union_members(p, schemas).is_some()))
            })
        };
        let ready =
            |m: &Value| union_members(m, schemas).is_some_and(|vs| !vs.iter().any(&pending));
        if let Some(i) = all.iter().position(ready) {
            let variants = union_members(&all[i], schemas).unwrap_or_default();
            let rest: Vec<Value> = all
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, m)| m.clone())
                .collect();
            let mut one_of: Vec<Value> = Vec::new();
            for (index, variant) in variants.into_iter().enumerate() {
                let label = variant_label(&variant, index, schemas);
                // A flattened `Option` of a union: its `null` variant adds no fields.
                let mut parts = if variant.get("type") == Some(&json!("null")) {
                    Vec::new()
                } else {
                    vec![variant]
                };
                parts.extend(rest.iter().cloned());
                let mut parts = flatten_all_of(parts, schemas);
                for p in parts.iter_mut() {
                    if let Some(po) = p.as_object_mut() {
                        po.remove("title");
                    }
                }
                let merged = json!({ "allOf": parts });
                if depth == 0 {
                    let name = format!("{}{}", top.name, label);
                    let mut named = merged;
                    named["x-variant"] = json!(label);
                    if let Some(d) = o.get("description") {
                        named["description"] = d.clone();
                    }
                    top.variants.push((name.clone(), named));
                    one_of.push(json!({ "$ref": format!("#/components/schemas/{name}") }));
                } else {
                    one_of.push(merged);
                }
            }
            o.remove("allOf");
            o.insert("oneOf".into(), Value::Array(one_of));
            changed = true;
        }
    }
    if let Some(Value::Array(all)) = o.get("allOf").cloned() {
        let flat = flatten_all_of(all.clone(), schemas);
        if flat != all {
            o.insert("allOf".into(), Value::Array(flat));
            changed = true;
        }
    }
    if let Some(Value::Array(members)) = o.get("oneOf").cloned() {
        // A member is spliced when it is only a union (a reference to one, or an inline one
        // with at most a description beside it).
        let splice = |m: &Value| {
            let bare = m.as_object().is_some_and(|mo| {
                mo.keys()
                    .all(|k| matches!(k.as_str(), "$ref" | "oneOf" | "description"))
            });
            if bare {
                union_members(m, schemas)
            } else {
                None
            }
        };
        if o.get("discriminator").is_none() && members.iter().any(|m| splice(m).is_some()) {
            let mut flat = Vec::new();
            for m in members {
                match splice(&m) {
                    Some(inner) => flat.extend(inner),
                    None => flat.push(m),
                }
            }
            o.insert("oneOf".into(), Value::Array(flat));
            changed = true;
        }
    }
    for key in ["properties"] {
        if let Some(Value::Object(props)) = o.get_mut(key) {
            for (_, p) in props.iter_mut() {
                changed |= reshape(p, schemas, depth + 1, top);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(p) = o.get_mut(key) {
            changed |= reshape(p, schemas, depth + 1, top);
        }
    }
    for key in ["oneOf", "allOf", "anyOf"] {
        if let Some(Value::Array(a)) = o.get_mut(key) {
            for m in a.iter_mut() {
                changed |= reshape(m, schemas, depth + 1, top);
            }
        }
    }
    changed
}

/// The document served at `/openapi.json`: utoipa's, with [`generator_shapes`] applied.
pub fn document() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi())
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
        generator_shapes(&mut doc);
        request_kinds(&mut doc);
        webhook_deliveries(&mut doc);
        doc
    })
}

/// The requests whittle sends (OpenAPI 3.1 `webhooks`): one delivery of a subscribed job
/// event to a webhook's URL, signed per Standard Webhooks.
fn webhook_deliveries(doc: &mut serde_json::Value) {
    let header = |description: &str| {
        serde_json::json!({ "required": true, "description": description,
            "schema": { "type": "string" } })
    };
    let mut params = Vec::new();
    for (name, description) in [
        ("webhook-id", "The delivery's id (`msg_<id>`), the same on every retry: deduplicate on it"),
        ("webhook-timestamp", "Unix seconds when this attempt was signed: refuse stale ones"),
        ("webhook-signature", "`v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">` keyed with the base64-decoded part of the `whsec_` secret"),
    ] {
        let mut p = header(description);
        p["name"] = name.into();
        p["in"] = "header".into();
        params.push(p);
    }
    doc["webhooks"] = serde_json::json!({
        "jobEvent": {
            "post": {
                "summary": "A job event, delivered to a subscribed webhook",
                "description": "Sent for every event of a type the webhook subscribes to. Answer 2xx within the timeout to acknowledge; other answers are retried with exponential backoff.",
                "tags": ["webhooks"],
                "parameters": params,
                "requestBody": {
                    "required": true,
                    "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/WebhookPayload" } } }
                },
                "responses": { "2XX": { "description": "delivered" } },
                "security": []
            }
        }
    });
}

/// Each `<Kind>JobRequest`'s `kind` as a `const` (see [`TypedJobs`]).
fn request_kinds(doc: &mut serde_json::Value) {
    let mapping = doc["components"]["schemas"]["CreateJobRequest"]["discriminator"]["mapping"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (kind, target) in mapping {
        let Some(name) = target
            .as_str()
            .and_then(|t| t.strip_prefix("#/components/schemas/"))
        else {
            continue;
        };
        if let Some(p) = doc["components"]["schemas"][name]["properties"].as_object_mut() {
            p.insert(
                "kind".into(),
                serde_json::json!({ "type": "string", "const": kind }),
            );
        }
    }
}

/// The document as pretty JSON (what `whittle openapi` prints and the repo commits).
pub fn openapi_json() -> String {
    let mut s = serde_json::to_string_pretty(document())
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// The document as this server serves it: behind a base path, `servers` names it so that
/// Swagger UI and generated clients call through the proxy.
async fn served_document(State(state): State<AppState>) -> Response {
    if state.base_path.is_empty() {
        return Json(document()).into_response();
    }
    let mut doc = document().clone();
    doc["servers"] = serde_json::json!([{ "url": &*state.base_path }]);
    Json(doc).into_response()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(served_document))
        .route("/docs", get(docs_page))
        .route(
            "/docs/swagger-ui-bundle.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "application/javascript"),
                        (header::CACHE_CONTROL, "public, max-age=86400"),
                    ],
                    SWAGGER_JS,
                )
                    .into_response()
            }),
        )
        .route(
            "/docs/swagger-ui.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css"),
                        (header::CACHE_CONTROL, "public, max-age=86400"),
                    ],
                    SWAGGER_CSS,
                )
                    .into_response()
            }),
        )
}

const SWAGGER_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

async fn docs_page() -> Html<&'static str> {
    Html(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>whittle API</title>
<link rel="stylesheet" href="docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "openapi.json", dom_id: "#swagger-ui" });</script>
</body></html>"##,
    )
}

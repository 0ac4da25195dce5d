//! The OpenAPI document (utoipa) and `/docs`, a Swagger UI served from vendored assets so it
//! works offline.
use axum::http::header;
use axum::response::{Html, IntoResponse};
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
        super::system::healthz, super::system::readyz, super::system::prometheus_metrics,
        super::tenant::get_tenant,
    ),
    components(schemas(
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
        crate::jobs::JobKind,
        super::datasets::DatasetFormat,
    )),
    modifiers(&BearerAuth, &Contract),
    security(("bearer" = [])),
    tags(
        (name = "models", description = "Upload and download safetensors models"),
        (name = "datasets", description = "Upload CSV / NPY datasets"),
        (name = "jobs", description = "Queue and follow analyze, train, evaluate, quantize, prune and tune jobs"),
        (name = "system", description = "Health, readiness and metrics"),
        (name = "tenant", description = "The calling tenant, its quotas and usage"),
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

/// The document as pretty JSON (what `whittle openapi` prints and the repo commits).
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
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
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });</script>
</body></html>"##,
    )
}

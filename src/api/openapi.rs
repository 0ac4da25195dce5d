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
    modifiers(&BearerAuth),
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

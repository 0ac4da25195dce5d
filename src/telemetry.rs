//! The Prometheus families whittle exports, each described once (so `/metrics` carries
//! `# HELP` and `# TYPE` for every family), the build-info gauge, and process metrics
//! (CPU, memory, file descriptors, threads; refreshed on every scrape).
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

/// Describe every family and set `whittle_build_info`. Called once, when the recorder is
/// installed.
pub fn describe() {
    describe_gauge!(
        "whittle_build_info",
        "Always 1; the labels name the running build (version, target)."
    );
    metrics::gauge!(
        "whittle_build_info",
        "version" => env!("CARGO_PKG_VERSION"),
        "target" => std::env::consts::ARCH,
    )
    .set(1.0);
    describe_gauge!(
        "whittle_jobs",
        "Jobs in the database by kind and state, every tenant (sampled when /metrics is read)."
    );
    describe_gauge!(
        "whittle_queue_depth",
        "Queued jobs, every kind and tenant (sampled when /metrics is read)."
    );
    describe_counter!(
        "whittle_jobs_submitted_total",
        "Jobs accepted by this API process, by kind (idempotent replays not counted)."
    );
    describe_counter!(
        "whittle_jobs_finished_total",
        "Job attempts this process finished, by kind and outcome."
    );
    describe_counter!(
        "whittle_jobs_rescued_total",
        "Jobs this process returned to the queue (or failed) after their lease expired."
    );
    describe_histogram!(
        "whittle_job_duration_seconds",
        Unit::Seconds,
        "Run time of one job attempt in this process, by kind and outcome."
    );
    describe_histogram!(
        "whittle_job_queue_wait_seconds",
        Unit::Seconds,
        "Time from a job becoming runnable (submitted, or its retry due) to its claim by this process, by kind."
    );
    describe_gauge!(
        "whittle_worker_slots",
        "Job slots of this process (jobs it runs at once)."
    );
    describe_gauge!(
        "whittle_worker_busy_slots",
        "Job slots of this process running a job now."
    );
    describe_counter!(
        "whittle_webhook_attempts_total",
        "Webhook delivery attempts sent by this process, by outcome."
    );
    describe_histogram!(
        "whittle_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by method, route template and status."
    );
    describe_counter!(
        "whittle_http_requests_total",
        "HTTP requests served by method, route template and status."
    );
    process_collector().describe();
}

fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: std::sync::OnceLock<metrics_process::Collector> = std::sync::OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// Refresh the process metrics (call before rendering).
pub fn collect_process() {
    process_collector().collect();
}

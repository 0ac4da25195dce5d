//! Job events: what happened to a job, as a typed payload per event type. The database's
//! triggers write them (every state change, progress step, metric point, trial change); the
//! API streams them (`/v1/jobs/{id}/events`, `/v1/events`) and long-polls on them.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::JobState;

/// The type names of job events, as they appear in `type`, the SSE `event:` field and
/// filters.
pub const EVENT_TYPES: [&str; 10] = [
    "job.queued",
    "job.running",
    "job.progress",
    "job.metric",
    "job.trial",
    "job.cancel_requested",
    "job.retry_scheduled",
    "job.succeeded",
    "job.failed",
    "job.canceled",
];

/// Check an event type name (for filters and subscriptions).
pub fn parse_event_type(name: &str) -> Result<&'static str, String> {
    EVENT_TYPES
        .iter()
        .copied()
        .find(|t| *t == name)
        .ok_or_else(|| {
            format!(
                "unknown event type '{}' (expected one of {})",
                name.escape_debug(),
                EVENT_TYPES.join(", ")
            )
        })
}

/// `job.queued`: the job was submitted, or handed back to the queue untouched by a worker
/// that shut down (`reason`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueuedData {
    /// `submitted` or `released`.
    pub reason: String,
    /// Attempts started so far.
    pub attempt: i32,
    pub max_attempts: i32,
    pub priority: i32,
    pub parent_job_id: Option<Uuid>,
    /// Not run before this instant.
    pub scheduled_at: DateTime<Utc>,
}

/// `job.running`: a worker claimed the job and started an attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunningData {
    pub attempt: i32,
    pub max_attempts: i32,
    /// The worker running this attempt.
    pub worker: Option<String>,
}

/// `job.progress`: the running attempt reported progress (one event per whole percent or
/// message change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProgressData {
    pub attempt: i32,
    /// 0..=1
    pub progress: f64,
    pub message: Option<String>,
}

/// `job.metric`: one point of a named series (`train_loss` at epoch 3). Past 2 000 events a
/// job streams every tenth step only; `GET /v1/jobs/{id}/metrics` has every point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricData {
    pub name: String,
    pub step: i64,
    /// `null` when the value is not finite.
    pub value: Option<f64>,
}

/// `job.trial`: a trial of a study started, reported an intermediate value, or ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrialData {
    pub number: i32,
    /// `running`, `complete`, `pruned` or `failed`.
    pub state: String,
    /// The objective's value once complete (`null` when not finite).
    pub value: Option<f64>,
    #[schema(value_type = Object)]
    pub params: Value,
    /// Intermediate values reported so far (one per epoch).
    pub intermediate_steps: i64,
    /// The latest intermediate value.
    pub last_intermediate: Option<f64>,
}

/// `job.cancel_requested`: a running job was asked to stop (it ends `canceled` within one
/// heartbeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CancelRequestedData {
    pub attempt: i32,
}

/// `job.retry_scheduled`: an attempt failed (or its worker vanished) and the job will run
/// again at `retry_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetryScheduledData {
    /// The attempt that failed.
    pub attempt: i32,
    pub max_attempts: i32,
    pub error: Option<String>,
    pub retry_at: DateTime<Utc>,
}

/// `job.succeeded`: the job's result is ready (`GET /v1/jobs/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SucceededData {
    pub attempt: i32,
    /// The model the job produced, if any.
    pub output_model_id: Option<Uuid>,
}

/// `job.failed` / `job.canceled`: the job ended without a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EndedData {
    pub attempt: i32,
    /// The last attempt's error, if it failed.
    pub error: Option<String>,
}

/// An event's type and fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum EventPayload {
    #[serde(rename = "job.queued")]
    #[schema(title = "Queued")]
    Queued(QueuedData),
    #[serde(rename = "job.running")]
    #[schema(title = "Running")]
    Running(RunningData),
    #[serde(rename = "job.progress")]
    #[schema(title = "Progress")]
    Progress(ProgressData),
    #[serde(rename = "job.metric")]
    #[schema(title = "Metric")]
    Metric(MetricData),
    #[serde(rename = "job.trial")]
    #[schema(title = "Trial")]
    Trial(TrialData),
    #[serde(rename = "job.cancel_requested")]
    #[schema(title = "CancelRequested")]
    CancelRequested(CancelRequestedData),
    #[serde(rename = "job.retry_scheduled")]
    #[schema(title = "RetryScheduled")]
    RetryScheduled(RetryScheduledData),
    #[serde(rename = "job.succeeded")]
    #[schema(title = "Succeeded")]
    Succeeded(SucceededData),
    #[serde(rename = "job.failed")]
    #[schema(title = "Failed")]
    Failed(EndedData),
    #[serde(rename = "job.canceled")]
    #[schema(title = "Canceled")]
    Canceled(EndedData),
}

impl EventPayload {
    /// Type the stored fields of an event of type `event_type`.
    pub fn parse(event_type: &str, data: Value) -> Result<Self, String> {
        let tagged = serde_json::json!({ "type": event_type, "data": data });
        serde_json::from_value(tagged).map_err(|e| format!("event {event_type}: {e}"))
    }

    /// The type name (`job.running`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            EventPayload::Queued(_) => "job.queued",
            EventPayload::Running(_) => "job.running",
            EventPayload::Progress(_) => "job.progress",
            EventPayload::Metric(_) => "job.metric",
            EventPayload::Trial(_) => "job.trial",
            EventPayload::CancelRequested(_) => "job.cancel_requested",
            EventPayload::RetryScheduled(_) => "job.retry_scheduled",
            EventPayload::Succeeded(_) => "job.succeeded",
            EventPayload::Failed(_) => "job.failed",
            EventPayload::Canceled(_) => "job.canceled",
        }
    }
}

/// One event of a job: the `data:` of a server-sent event (whose `event:` is `type`), and
/// the `data` of a webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobEvent {
    /// Position among the job's events, 1, 2, 3… without gaps: the SSE `id` of
    /// `/v1/jobs/{id}/events`.
    pub seq: i64,
    /// Position among all of the tenant's events (increasing, with gaps): the SSE `id` of
    /// `/v1/events`.
    pub id: i64,
    pub job_id: Uuid,
    /// The job's kind.
    pub kind: String,
    /// The job's state right after the event.
    pub state: JobState,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// `type` (`job.running`, …) and `data`, the type's fields.
    #[serde(flatten)]
    pub payload: EventPayload,
}

/// The body of a webhook delivery (the Standard Webhooks payload shape): signed with the
/// webhook's secret in `webhook-signature`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookPayload {
    /// The event's type (`job.succeeded`, …).
    #[serde(rename = "type")]
    pub type_: String,
    /// When the event happened.
    pub timestamp: DateTime<Utc>,
    /// The event.
    pub data: JobEvent,
}

impl WebhookPayload {
    pub fn new(event: JobEvent) -> Self {
        WebhookPayload {
            type_: event.payload.type_name().to_string(),
            timestamp: event.at,
            data: event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_name_parses_and_round_trips() {
        let samples = [
            (
                "job.queued",
                serde_json::json!({"reason": "submitted", "attempt": 0, "max_attempts": 3, "priority": 0, "parent_job_id": null, "scheduled_at": "2026-01-02T03:04:05.123Z"}),
            ),
            (
                "job.running",
                serde_json::json!({"attempt": 1, "max_attempts": 3, "worker": "w"}),
            ),
            (
                "job.progress",
                serde_json::json!({"attempt": 1, "progress": 0.5, "message": null}),
            ),
            (
                "job.metric",
                serde_json::json!({"name": "loss", "step": 1, "value": null}),
            ),
            (
                "job.trial",
                serde_json::json!({"number": 0, "state": "running", "value": null, "params": {"lr": 0.1}, "intermediate_steps": 0, "last_intermediate": null}),
            ),
            ("job.cancel_requested", serde_json::json!({"attempt": 1})),
            (
                "job.retry_scheduled",
                serde_json::json!({"attempt": 1, "max_attempts": 3, "error": "boom", "retry_at": "2026-01-02T03:04:05+00:00"}),
            ),
            (
                "job.succeeded",
                serde_json::json!({"attempt": 1, "output_model_id": null}),
            ),
            (
                "job.failed",
                serde_json::json!({"attempt": 3, "error": "boom"}),
            ),
            (
                "job.canceled",
                serde_json::json!({"attempt": 0, "error": null}),
            ),
        ];
        assert_eq!(samples.len(), EVENT_TYPES.len());
        for (name, data) in samples {
            let payload = EventPayload::parse(name, data).unwrap();
            assert_eq!(payload.type_name(), name);
            assert_eq!(parse_event_type(name), Ok(name));
        }
        assert!(parse_event_type("job.done").is_err());
        assert!(EventPayload::parse("job.running", serde_json::json!({})).is_err());
    }
}

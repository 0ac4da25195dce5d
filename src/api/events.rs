//! Job events over HTTP: `GET /v1/jobs/{id}/events` and `GET /v1/events` as server-sent
//! events (replay, then live; `Last-Event-ID` resumes; heartbeat comments keep proxies from
//! closing an idle stream). The store holds the events (written by triggers); the process's
//! [`EventHub`](crate::jobs::events::EventHub) says when to read again.
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::stream::{self, Stream};
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use utoipa::IntoParams;
use uuid::Uuid;

use super::extract::{AppPath, AppQuery};
use super::{ApiError, AppState, Caller, Problem};
use crate::domain::events::{parse_event_type, JobEvent};
use crate::domain::{JobState, ValidationErrors};
use crate::jobs::events::Subscription;
use crate::jobs::JobKind;
use crate::store::{DynStore, EventFilter, JobEventRow};

/// Events read from the store per round trip.
const BATCH: i64 = 500;
/// A stream re-reads the store at least this often, notified or not.
pub const RECHECK: Duration = Duration::from_secs(5);
/// Interval of the `:` comments that keep an idle stream open through proxies.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// What an `EventSource` waits before reconnecting (the SSE `retry:` field), in ms.
const RETRY_MS: u64 = 2000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs/{id}/events", get(job_events))
        .route("/events", get(tenant_events))
}

/// An event as the stream sends it (`None`, logged, when its row cannot be read).
fn event_of(row: JobEventRow) -> Option<JobEvent> {
    let (job_id, seq) = (row.job_id, row.seq);
    match row.into_event() {
        Ok(e) => Some(e),
        Err(e) => {
            tracing::error!(%job_id, seq, error = %e, "unreadable job event skipped");
            None
        }
    }
}

/// A server-sent event: `id:` (`id`), `event:` (the type), `data:` (the event as JSON).
fn to_sse(event: &JobEvent, id: i64) -> Event {
    let sse = Event::default()
        .id(id.to_string())
        .event(event.payload.type_name())
        .retry(Duration::from_millis(RETRY_MS));
    match sse.json_data(event) {
        Ok(e) => e,
        Err(e) => Event::default().comment(format!("unserializable event: {e}")),
    }
}

/// `?last_event_id=` of the event streams.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobEventsQuery {
    /// Replay only events after this one (what `Last-Event-ID` says; the header wins when
    /// both are sent). `0` replays every event.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub last_event_id: Option<String>,
}

/// Filters of `GET /v1/events` (comma-separated lists; empty = all).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Job kinds (`train,quantize`).
    pub kind: Option<String>,
    /// The job's state after the event (`succeeded,failed`).
    pub state: Option<String>,
    /// Event types (`job.succeeded,job.failed`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub type_: Option<String>,
    /// Replay events after this id (what `Last-Event-ID` says; the header wins). Without
    /// either, the stream starts with the next event.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub last_event_id: Option<String>,
}

/// Where a stream resumes: the `Last-Event-ID` header, else `?last_event_id=`. An empty
/// header is no id (as an `EventSource` whose stream set no id would send it).
fn resume_point(headers: &HeaderMap, query: Option<&str>) -> Result<Option<i64>, ApiError> {
    let header = headers
        .get("last-event-id")
        .filter(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace));
    if let Some(v) = header {
        return match v
            .to_str()
            .ok()
            .map(str::trim)
            .and_then(|s| s.parse::<i64>().ok())
        {
            Some(n) if n >= 0 => Ok(Some(n)),
            _ => Err(ApiError::bad_request(
                "Last-Event-ID",
                "must be the id of an event this stream sent (a non-negative integer)",
            )),
        };
    }
    match query.map(|q| q.trim().parse::<i64>()) {
        None => Ok(None),
        Some(Ok(n)) if n >= 0 => Ok(Some(n)),
        Some(_) => Err(ApiError::field(
            "last_event_id",
            "must be a non-negative integer",
        )),
    }
}

/// Comma-separated values of a filter, each checked by `parse`.
fn list_filter<T>(
    errors: &mut ValidationErrors,
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let Some(raw) = raw else { return Vec::new() };
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match parse(part) {
            Ok(v) => out.push(v),
            Err(m) => errors.add(field, m),
        }
    }
    if out.len() > 32 {
        errors.add(field, "at most 32 values");
    }
    out
}

/// Stream a job's events: every past event after `Last-Event-ID`, then live ones until the
/// job ends (the stream closes after the terminal event).
///
/// Answers `text/event-stream`: each event has `id:` (the job's `seq`), `event:` (its
/// type) and `data:` (a `JobEvent`), and `:` comments every 15 s while nothing happens.
/// Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get exactly the missing events.
#[utoipa::path(get, path = "/v1/jobs/{id}/events", tag = "jobs",
    params(("id" = Uuid, Path, description = "job id"), JobEventsQuery,
        ("Last-Event-ID" = Option<String>, Header, nullable = false, description = "resume after this event (its `id:`); empty = from the start",
            pattern = r"^[0-9]{0,18}$")),
    responses((status = 200, description = "server-sent events, one `JobEvent` per event",
            content_type = "text/event-stream", body = JobEvent),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn job_events(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<JobEventsQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let after = resume_point(&headers, query.last_event_id.as_deref())?.unwrap_or(0);
    // Subscribe before the first read, so nothing written after it goes unnoticed.
    let sub = state.events.subscribe();
    state
        .store
        .get_job(caller.tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    let reader = JobReader {
        store: state.store.clone(),
        events: state.events.clone(),
        tenant_id: caller.tenant_id,
        job_id: id,
        after,
        sub,
        buffer: VecDeque::new(),
        ended: false,
    };
    let events = stream::unfold(reader, |mut r| async move {
        let event = r.next().await?;
        Some((Ok(event), r))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}

struct JobReader {
    store: DynStore,
    events: std::sync::Arc<crate::jobs::events::EventHub>,
    tenant_id: Uuid,
    job_id: Uuid,
    after: i64,
    sub: Subscription,
    buffer: VecDeque<JobEvent>,
    /// The job was seen terminal: what is in the store now is all there will be.
    ended: bool,
}

impl JobReader {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.buffer.pop_front() {
                return Some(to_sse(&e, e.seq));
            }
            if self.events.is_closing() {
                return None;
            }
            let rows = match self
                .store
                .list_job_events(self.tenant_id, self.job_id, self.after, BATCH)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(job_id = %self.job_id, error = %e, "event stream ended by a store error");
                    return None;
                }
            };
            if let Some(last) = rows.last() {
                self.after = last.seq;
                self.buffer.extend(rows.into_iter().filter_map(event_of));
                continue;
            }
            if self.ended {
                return None;
            }
            match self.store.get_job(self.tenant_id, self.job_id).await {
                // The terminal event commits with the state: one more read gets it.
                Ok(Some(job)) if job.state.is_terminal() => {
                    self.ended = true;
                    continue;
                }
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(job_id = %self.job_id, error = %e, "event stream ended by a store error");
                    return None;
                }
            }
            self.sub
                .wait(self.tenant_id, Some(self.job_id), RECHECK)
                .await;
        }
    }
}

/// Stream the tenant's events across jobs (filtered by job kind, job state and event type).
///
/// Starts with the next event, or replays events after `Last-Event-ID` (the `id` of an
/// event of this stream); never ends by itself. On Postgres an event behind an id that
/// another transaction is still writing waits until that one commits (at most 0.3 s), so
/// that a resumed stream misses none.
#[utoipa::path(get, path = "/v1/events", tag = "jobs",
    params(EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, nullable = false, description = "resume after this event (its `id:`); empty = from now",
            pattern = r"^[0-9]{0,18}$")),
    responses((status = 200, description = "server-sent events, one `JobEvent` per event",
            content_type = "text/event-stream", body = JobEvent),
        (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn tenant_events(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(query): AppQuery<EventsQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let resume = resume_point(&headers, query.last_event_id.as_deref())?;
    let mut errors = ValidationErrors::new();
    let filter = EventFilter {
        kinds: list_filter(&mut errors, "kind", query.kind.as_deref(), |k| {
            k.parse::<JobKind>().map(|k| k.as_str().to_string())
        }),
        states: list_filter(&mut errors, "state", query.state.as_deref(), |s| {
            s.parse::<JobState>()
        }),
        types: list_filter(&mut errors, "type", query.type_.as_deref(), |t| {
            parse_event_type(t).map(str::to_string)
        }),
    };
    errors.into_result()?;
    let sub = state.events.subscribe();
    // A live stream starts where the process's feed is: everything final before it is past.
    let after = match (resume, state.events.feed().end()) {
        (Some(id), _) => id,
        (None, Some(end)) => end,
        (None, None) => state.store.last_event_id(caller.tenant_id).await?,
    };
    let reader = TenantReader {
        store: state.store.clone(),
        events: state.events.clone(),
        tenant_id: caller.tenant_id,
        filter,
        after,
        sub,
        buffer: VecDeque::new(),
        held_since: None,
    };
    let events = stream::unfold(reader, |mut r| async move {
        let event = r.next().await?;
        Some((Ok(event), r))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}

struct TenantReader {
    store: DynStore,
    events: std::sync::Arc<crate::jobs::events::EventHub>,
    tenant_id: Uuid,
    filter: EventFilter,
    after: i64,
    sub: Subscription,
    buffer: VecDeque<JobEvent>,
    /// When a notice arrived that the rows read since may not have answered yet.
    held_since: Option<std::time::Instant>,
}

impl TenantReader {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.buffer.pop_front() {
                return Some(to_sse(&e, e.id));
            }
            if self.events.is_closing() {
                return None;
            }
            // Caught up: from the process's feed, waking when it reads further.
            let feed = self.events.feed();
            if let Some((rows, cursor)) =
                feed.read(self.tenant_id, &self.filter, self.after, BATCH as usize)
            {
                self.after = cursor;
                if !rows.is_empty() {
                    self.buffer.extend(rows.into_iter().filter_map(event_of));
                    continue;
                }
                let mut watch = feed.watch();
                watch.borrow_and_update();
                if feed.end().is_some_and(|end| end > self.after) {
                    continue;
                }
                tokio::select! {
                    _ = watch.changed() => {}
                    _ = tokio::time::sleep(RECHECK) => {}
                    _ = self.events.closing() => {}
                }
                continue;
            }
            // Behind the feed (a resume from long ago): from the store, then onto the feed.
            let feed_end = feed.end();
            let rows = match self
                .store
                .list_tenant_events(self.tenant_id, self.after, &self.filter, BATCH)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "event stream ended by a store error");
                    return None;
                }
            };
            let complete = (rows.len() as i64) < BATCH;
            if let Some(last) = rows.last() {
                self.after = last.id;
            }
            // The store had nothing more up to where the feed was before the read (final
            // events stay final), so the feed takes over from there.
            if let (true, Some(end)) = (complete, feed_end) {
                self.after = self.after.max(end);
            }
            if !rows.is_empty() {
                self.buffer.extend(rows.into_iter().filter_map(event_of));
                continue;
            }
            if feed_end.is_some() {
                continue;
            }
            // An event behind an id still being written is held until that id commits (its
            // own notice wakes us) or the settle time after the first notice passes (then it
            // is read once more).
            let settle = self.store.event_settle_time();
            if let Some(since) = self.held_since.filter(|_| !settle.is_zero()) {
                let until = since + settle + Duration::from_millis(20);
                match until.checked_duration_since(std::time::Instant::now()) {
                    // Any tenant's notice: the missing id may be another tenant's.
                    Some(left) if !left.is_zero() => {
                        self.sub.wait_any(left).await;
                    }
                    _ => self.held_since = None,
                }
                continue;
            }
            if self.sub.wait(self.tenant_id, None, RECHECK).await {
                self.held_since = Some(std::time::Instant::now());
            }
        }
    }
}

//! The event hub: one listener per process (Postgres `LISTEN whittle_events`, SQLite this
//! process's writes plus a poll) fanned out in memory to every reader: SSE streams,
//! long-polls. Notices are only hints; readers always read the events themselves, so a
//! missed or lagging notice delays a reader by at most its re-check interval and never loses
//! an event. Tenant streams read through the [`Feed`]: one store read per change for the
//! whole process (every tenant's final events, kept for a while), however many watch.
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::store::{DynStore, EventFilter, EventNotice, JobEventRow};

/// Notices buffered per reader before it lags (a lagging reader re-reads the store).
const FANOUT_CAPACITY: usize = 1024;
/// Wait before opening a new listener after one ended.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Events the feed keeps (every tenant's, newest); a reader further behind reads the store.
const FEED_CAPACITY: usize = 4096;
/// Events read from the store at once by the feed.
const FEED_BATCH: i64 = 1000;
/// The feed re-reads this often without a notice (as readers re-check).
const FEED_RECHECK: Duration = Duration::from_secs(5);

/// Every tenant's most recent final events, read once per change for the whole process.
pub struct Feed {
    rows: std::sync::RwLock<FeedRows>,
    advanced: tokio::sync::watch::Sender<i64>,
}

struct FeedRows {
    /// Events with ids in `(start, end]`, in id order: all of them that are final.
    events: std::collections::VecDeque<Arc<JobEventRow>>,
    start: i64,
    end: i64,
    /// False until the feed knows where the store's events end.
    live: bool,
}

impl Feed {
    fn new() -> Self {
        Feed {
            rows: std::sync::RwLock::new(FeedRows {
                events: Default::default(),
                start: 0,
                end: 0,
                live: false,
            }),
            advanced: tokio::sync::watch::channel(0).0,
        }
    }

    /// Where the feed has read up to (`None` before it started): a live stream starts here.
    pub fn end(&self) -> Option<i64> {
        let rows = self.rows.read().unwrap_or_else(|e| e.into_inner());
        rows.live.then_some(rows.end)
    }

    /// The events of `tenant_id` matching `filter` after `after`, at most `limit`, and the
    /// cursor to continue from (past other tenants' events too); `None` when `after` is
    /// older than what the feed holds (read the store instead).
    pub fn read(
        &self,
        tenant_id: Uuid,
        filter: &EventFilter,
        after: i64,
        limit: usize,
    ) -> Option<(Vec<JobEventRow>, i64)> {
        let rows = self.rows.read().unwrap_or_else(|e| e.into_inner());
        if !rows.live || after < rows.start {
            return None;
        }
        let from = rows.events.partition_point(|e| e.id <= after);
        let mut out = Vec::new();
        for e in rows.events.range(from..) {
            if e.tenant_id == tenant_id && filter.matches(e) {
                out.push((**e).clone());
                if out.len() >= limit {
                    let cursor = e.id;
                    return Some((out, cursor));
                }
            }
        }
        Some((out, rows.end.max(after)))
    }

    /// Wakes when the feed has read further.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<i64> {
        self.advanced.subscribe()
    }

    fn append(&self, batch: Vec<JobEventRow>) {
        let Some(last) = batch.last().map(|e| e.id) else {
            return;
        };
        let mut rows = self.rows.write().unwrap_or_else(|e| e.into_inner());
        rows.events.extend(batch.into_iter().map(Arc::new));
        rows.end = last;
        while rows.events.len() > FEED_CAPACITY {
            if let Some(old) = rows.events.pop_front() {
                rows.start = old.id;
            }
        }
        drop(rows);
        self.advanced.send_replace(last);
    }

    /// Read every final event as changes are announced, until `closing`.
    async fn run(
        self: Arc<Self>,
        store: DynStore,
        mut sub: Subscription,
        closing: CancellationToken,
    ) {
        let start = loop {
            match store.max_event_id().await {
                Ok(id) => break id,
                Err(e) => tracing::warn!(error = %e, "event feed cannot start; retrying"),
            }
            tokio::select! {
                _ = closing.cancelled() => return,
                _ = tokio::time::sleep(RECONNECT_DELAY) => {}
            }
        };
        {
            let mut rows = self.rows.write().unwrap_or_else(|e| e.into_inner());
            (rows.start, rows.end, rows.live) = (start, start, true);
        }
        self.advanced.send_replace(start);
        let settle = store.event_settle_time();
        let mut held_since: Option<std::time::Instant> = None;
        loop {
            if closing.is_cancelled() {
                return;
            }
            let end = self.rows.read().unwrap_or_else(|e| e.into_inner()).end;
            match store.list_events_after(end, FEED_BATCH).await {
                Ok(batch) if batch.len() as i64 == FEED_BATCH => {
                    self.append(batch);
                    continue;
                }
                Ok(batch) => self.append(batch),
                Err(e) => tracing::warn!(error = %e, "event feed read failed; retrying"),
            }
            // An event behind an id still being written is held until that id commits (a
            // notice) or the settle time after the first notice passes.
            if let Some(since) = held_since.filter(|_| !settle.is_zero()) {
                let until = since + settle + Duration::from_millis(20);
                match until.checked_duration_since(std::time::Instant::now()) {
                    Some(left) if !left.is_zero() => {
                        sub.wait_any(left).await;
                    }
                    _ => held_since = None,
                }
                continue;
            }
            if sub.wait_any(FEED_RECHECK).await {
                held_since = Some(std::time::Instant::now());
            }
        }
    }
}

/// Fans the store's event notifications out to this process's readers.
pub struct EventHub {
    /// Started by the first tenant stream (worker-only processes never need it).
    feed: std::sync::OnceLock<Arc<Feed>>,
    store: DynStore,
    tx: broadcast::Sender<EventNotice>,
    /// Cancelled when the server stops: open streams end so that connections can close.
    closing: CancellationToken,
    /// Dropping the hub stops its listener task.
    _stop: oneshot::Sender<()>,
}

impl EventHub {
    /// Start listening (the task runs until the hub is dropped). `closing` tells readers
    /// that the server is stopping.
    pub fn start(store: DynStore, closing: CancellationToken) -> Arc<Self> {
        let (tx, _) = broadcast::channel(FANOUT_CAPACITY);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let fanout = tx.clone();
        let feed_store = store.clone();
        tokio::spawn(async move {
            loop {
                match store.event_notifications().await {
                    Ok(mut notices) => {
                        // Whatever happened while no listener was open.
                        let _ = fanout.send(EventNotice::ANY);
                        loop {
                            tokio::select! {
                                _ = &mut stopped => return,
                                notice = notices.next() => match notice {
                                    Some(n) => { let _ = fanout.send(n); }
                                    None => break,
                                },
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "event listener failed; retrying"),
                }
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(RECONNECT_DELAY) => {}
                }
            }
        });
        Arc::new(EventHub {
            feed: std::sync::OnceLock::new(),
            store: feed_store,
            tx,
            closing,
            _stop: stop,
        })
    }

    /// The process's shared read of every tenant's events (started on first use, from a
    /// task of the runtime this is called on).
    pub fn feed(&self) -> &Feed {
        self.feed.get_or_init(|| {
            let feed = Arc::new(Feed::new());
            let sub = self.subscribe();
            tokio::spawn(
                feed.clone()
                    .run(self.store.clone(), sub, self.closing.clone()),
            );
            feed
        })
    }

    /// True once the server is stopping (streams end, long-polls answer at once).
    pub fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// Resolves once the server starts stopping.
    pub async fn closing(&self) {
        self.closing.cancelled().await
    }

    /// A reader's handle: subscribe before reading the store, so that nothing written after
    /// the read goes unnoticed.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
            closing: self.closing.clone(),
        }
    }
}

/// One reader's view of the hub.
pub struct Subscription {
    rx: broadcast::Receiver<EventNotice>,
    closing: CancellationToken,
}

impl Subscription {
    /// Wait until any notice arrives, `timeout` passes or the server starts stopping.
    pub async fn wait_any(&mut self, timeout: Duration) -> bool {
        tokio::select! {
            _ = self.closing.cancelled() => false,
            r = tokio::time::timeout(timeout, self.rx.recv()) => {
                matches!(r, Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))))
            }
        }
    }

    /// Wait until a notice that may concern `tenant_id`'s events (of `job_id` only, when
    /// given) arrives, or `timeout` passes, or the server starts stopping. True when
    /// notified (a lag counts as notified).
    pub async fn wait(&mut self, tenant_id: Uuid, job_id: Option<Uuid>, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = tokio::select! {
                _ = self.closing.cancelled() => return false,
                r = tokio::time::timeout_at(deadline, self.rx.recv()) => r,
            };
            match received {
                Err(_) => return false,
                Ok(Ok(notice)) if notice.concerns(tenant_id, job_id) => return true,
                Ok(Ok(_)) => continue,
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => return true,
                // The hub is gone (the server is stopping): behave like a timeout.
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    tokio::select! {
                        _ = self.closing.cancelled() => {}
                        _ = tokio::time::sleep_until(deadline) => {}
                    }
                    return false;
                }
            }
        }
    }
}

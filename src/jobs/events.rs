//! The event hub: one listener per process (Postgres `LISTEN whittle_events`, SQLite this
//! process's writes plus a poll) fanned out in memory to every reader: SSE streams,
//! long-polls. Notices are only hints; readers always read the events themselves from the
//! store, so a missed or lagging notice delays a reader by at most its re-check interval and
//! never loses an event.
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::store::{DynStore, EventNotice};

/// Notices buffered per reader before it lags (a lagging reader re-reads the store).
const FANOUT_CAPACITY: usize = 1024;
/// Wait before opening a new listener after one ended.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Fans the store's event notifications out to this process's readers.
pub struct EventHub {
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
            tx,
            closing,
            _stop: stop,
        })
    }

    /// True once the server is stopping (streams end, long-polls answer at once).
    pub fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
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

//! What a worker process can say about itself: its slots and how many are busy, when it last
//! reached the database (a claim round, a presence record or a lease renewal), and the last
//! error doing so. Read by the worker's health endpoints and exported as gauges.
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The database must have answered within this long for a worker to be ready (three
/// presence intervals: a worker with every slot busy still records its presence).
pub const READY_WITHIN: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct WorkerStatus {
    pub worker_id: String,
    pub slots: usize,
    busy: AtomicUsize,
    /// Unix milliseconds; 0 = never.
    last_store_ok: AtomicI64,
    last_claim: AtomicI64,
    started: AtomicI64,
    last_error: Mutex<Option<String>>,
}

/// A snapshot for `/readyz` and `/healthz`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkerSnapshot {
    pub worker_id: String,
    pub slots: usize,
    pub busy: usize,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the database last answered this worker (claim, presence or heartbeat).
    pub last_store_ok_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When this worker last claimed a job.
    pub last_claim_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
    pub ready: bool,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn at(ms: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    (ms > 0)
        .then(|| chrono::DateTime::from_timestamp_millis(ms))
        .flatten()
}

impl WorkerStatus {
    pub fn new(worker_id: &str, slots: usize) -> Self {
        metrics::gauge!("whittle_worker_slots").set(slots as f64);
        metrics::gauge!("whittle_worker_busy_slots").set(0.0);
        Self {
            worker_id: worker_id.to_string(),
            slots,
            busy: AtomicUsize::new(0),
            last_store_ok: AtomicI64::new(0),
            last_claim: AtomicI64::new(0),
            started: AtomicI64::new(now_ms()),
            last_error: Mutex::new(None),
        }
    }

    /// The database answered.
    pub fn store_ok(&self) {
        self.last_store_ok.store(now_ms(), Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The database did not answer (or refused).
    pub fn store_failed(&self, error: &str) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
    }

    /// `n` jobs were claimed.
    pub fn claimed(&self, n: usize) {
        self.store_ok();
        if n > 0 {
            self.last_claim.store(now_ms(), Ordering::Relaxed);
        }
    }

    /// A slot became busy (+1) or free (-1).
    pub fn set_busy(&self, busy: usize) {
        self.busy.store(busy, Ordering::Relaxed);
        metrics::gauge!("whittle_worker_busy_slots").set(busy as f64);
    }

    pub fn snapshot(&self) -> WorkerSnapshot {
        let ok = self.last_store_ok.load(Ordering::Relaxed);
        let ready = ok > 0 && now_ms() - ok <= READY_WITHIN.as_millis() as i64;
        WorkerSnapshot {
            worker_id: self.worker_id.clone(),
            slots: self.slots,
            busy: self.busy.load(Ordering::Relaxed),
            started_at: at(self.started.load(Ordering::Relaxed)),
            last_store_ok_at: at(ok),
            last_claim_at: at(self.last_claim.load(Ordering::Relaxed)),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            ready,
        }
    }
}

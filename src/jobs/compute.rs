//! The bridge from async executors to the rayon pool: CPU work never runs on tokio threads.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::JobError;

/// A rayon pool for kernels; cloning shares the pool.
#[derive(Clone)]
pub struct ComputePool {
    pool: Arc<rayon::ThreadPool>,
}

impl ComputePool {
    /// A pool with `threads` threads (0 = one per core).
    pub fn new(threads: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("whittle-compute-{i}"))
            .build()?;
        Ok(Self {
            pool: Arc::new(pool),
        })
    }

    /// Number of threads kernels get.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Run `f` on the pool and await its result; a panic becomes [`JobError::Panicked`].
    pub async fn run<F, R>(&self, f: F) -> Result<R, JobError>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(outcome);
        });
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(JobError::Panicked(panic_message(panic.as_ref()))),
            Err(_) => Err(JobError::Panicked("compute task was dropped".into())),
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_off_the_runtime_and_catches_panics() {
        let pool = ComputePool::new(1).unwrap();
        let name = pool
            .run(|| std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("whittle-compute-0"));
        let err = pool.run(|| -> u8 { panic!("boom") }).await.unwrap_err();
        assert!(matches!(err, JobError::Panicked(m) if m == "boom"));
        // The pool survives a panic.
        assert_eq!(pool.run(|| 2 + 2).await.unwrap(), 4);
    }
}

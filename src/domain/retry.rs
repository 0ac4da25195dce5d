//! Retry delay policy: `attempt⁴` seconds plus jitter (as River and Sidekiq do), capped.

use std::time::Duration;

/// Longest delay between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// Delay before retrying after failed attempt number `attempt` (1-based).
///
/// `jitter` in `[0, 1)` spreads retries of jobs that failed together: the delay is
/// `attempt⁴ + 1` seconds scaled by `1 + 0.1·jitter`, capped at [`MAX_RETRY_DELAY`].
pub fn retry_delay(attempt: i32, jitter: f64) -> Duration {
    let a = attempt.max(1) as f64;
    let base = a.powi(4) + 1.0;
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let secs = base * (1.0 + 0.1 * jitter);
    Duration::from_secs_f64(secs.min(MAX_RETRY_DELAY.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_as_fourth_power() {
        assert_eq!(retry_delay(1, 0.0), Duration::from_secs(2));
        assert_eq!(retry_delay(2, 0.0), Duration::from_secs(17));
        assert_eq!(retry_delay(3, 0.0), Duration::from_secs(82));
    }

    #[test]
    fn jitter_adds_at_most_ten_percent() {
        let d = retry_delay(2, 0.999);
        assert!(d > Duration::from_secs(17) && d < Duration::from_secs_f64(18.71));
    }

    #[test]
    fn capped_and_robust_to_bad_inputs() {
        assert_eq!(retry_delay(100, 0.5), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(0, f64::NAN), Duration::from_secs(2));
        assert_eq!(retry_delay(-3, 2.0), Duration::from_secs_f64(2.2));
    }
}

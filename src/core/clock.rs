//! Time as an input: providers never read the system clock themselves, so tests
//! can run hours of polling in virtual time.

use std::time::Duration;

#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_ms(&self) -> i64;
    async fn sleep(&self, duration: Duration);

    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// 2 s, 4 s, 8 s … after the 1st, 2nd, 3rd failed try, plus up to 50 % random
/// jitter, so clients that failed together do not retry together.
pub fn backoff(tries: u32) -> super::Result<Duration> {
    let base_ms = 2000u64 << tries.saturating_sub(1).min(6);
    Ok(Duration::from_millis(base_ms + (base_ms as f64 * 0.5 * super::crypto::random_fraction()?) as u64))
}

/// `period_ms` ± 10 %, so periodic work from many clients never falls in step.
pub fn jittered(period_ms: i64) -> super::Result<i64> {
    Ok((period_ms as f64 * (0.9 + 0.2 * super::crypto::random_fraction()?)) as i64)
}

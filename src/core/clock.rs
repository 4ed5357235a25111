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

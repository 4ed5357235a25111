//! Time as an input: providers never read the system clock themselves, so tests
//! can run hours of polling in virtual time. The randomness of timing (jitter)
//! comes through the same seam, so tests seed it and assert every wait exactly.

use std::time::Duration;

#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_ms(&self) -> i64;
    async fn sleep(&self, duration: Duration);
    /// A number in [0, 1] that spreads waits (jitter). Never for secrets:
    /// those come from the platform's secure source (`core::crypto`).
    fn random_fraction(&self) -> f64;

    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// The longest delay a JS timer takes: `setTimeout` fires at once (after 1 ms)
/// for anything above 2^31 − 1 ms, about 24.8 days.
pub const MAX_TIMER_MS: u64 = (1 << 31) - 1;

/// A wait as timer delays no longer than [`MAX_TIMER_MS`], so a long sleep
/// (a large `maxWaitSeconds`, a long watch) is never a hot loop.
pub fn timer_steps(duration: Duration) -> impl Iterator<Item = u64> {
    let mut left = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let step = left.min(MAX_TIMER_MS);
        left -= step;
        Some(step)
    })
}

/// 2 s, 4 s, 8 s … after the 1st, 2nd, 3rd failed try, plus up to 50 % random
/// jitter, so clients that failed together do not retry together.
pub fn backoff(tries: u32, clock: &impl Clock) -> Duration {
    let base_ms = 2000u64 << tries.saturating_sub(1).min(6);
    Duration::from_millis(base_ms + (base_ms as f64 * 0.5 * clock.random_fraction().clamp(0.0, 1.0)) as u64)
}

/// `period_ms` ± 10 %, so periodic work from many clients never falls in step.
pub fn jittered(period_ms: i64, clock: &impl Clock) -> i64 {
    (period_ms as f64 * (0.9 + 0.2 * clock.random_fraction().clamp(0.0, 1.0))) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that only answers the random fraction it was given.
    struct Fixed(f64);
    impl Clock for Fixed {
        fn now_ms(&self) -> i64 {
            0
        }
        async fn sleep(&self, _: Duration) {}
        fn random_fraction(&self) -> f64 {
            self.0
        }
    }

    #[test]
    fn backoff_doubles_and_adds_up_to_half_again() {
        let waits = |f: f64| (1..=4).map(|tries| backoff(tries, &Fixed(f)).as_millis()).collect::<Vec<_>>();
        assert_eq!(waits(0.0), [2000, 4000, 8000, 16000]);
        assert_eq!(waits(1.0), [3000, 6000, 12000, 24000]);
        assert_eq!(backoff(40, &Fixed(0.0)).as_millis(), 128_000, "capped");
        assert_eq!(backoff(1, &Fixed(f64::NAN)).as_millis(), 2000, "a broken source cannot make a wait absurd");
    }

    #[test]
    fn long_waits_become_timer_steps_a_js_timer_takes() {
        assert_eq!(timer_steps(Duration::from_millis(1500)).collect::<Vec<_>>(), [1500]);
        assert_eq!(timer_steps(Duration::ZERO).count(), 0);
        let month: Vec<u64> = timer_steps(Duration::from_secs(30 * 86_400)).collect();
        assert_eq!(month, [MAX_TIMER_MS, 30 * 86_400_000 - MAX_TIMER_MS]);
        assert!(timer_steps(Duration::MAX).take(3).all(|step| step == MAX_TIMER_MS), "no overflow, every step fits a timer");
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        assert_eq!(jittered(120_000, &Fixed(0.0)), 108_000);
        assert_eq!(jittered(120_000, &Fixed(0.5)), 120_000);
        assert_eq!(jittered(120_000, &Fixed(1.0)), 132_000);
    }
}

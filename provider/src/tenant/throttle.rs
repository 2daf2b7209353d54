//! A run-wide pause after a 429: when the tenant says "too many requests",
//! every worker of the run waits before its next tenant call, not only the
//! one that was told. Interactions run concurrently (`--jobs`), and a rate
//! limit is the tenant's, not one connection's: retrying each call on its
//! own would keep the others hammering it, turning one 429 into a storm
//! that spends every call's retries and fails the run.
//!
//! The pause is the answer's `Retry-After` (or the retry policy's first
//! backoff when it has none), at most the retry policy's longest wait. A
//! later 429 may extend it, never shorten it. Waiting ends: each pause is
//! bounded, and only an answer (of a call whose retries are bounded) can
//! start a new one.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The pause every tenant call of a run honours.
#[derive(Debug)]
pub(crate) struct Throttle {
    until: Mutex<Option<Instant>>,
    fallback: Duration,
    longest: Duration,
}

impl Throttle {
    /// A throttle that pauses for `Retry-After` (or `fallback` without
    /// one), at most `longest` per 429.
    pub(crate) fn new(fallback: Duration, longest: Duration) -> Self {
        Self {
            until: Mutex::new(None),
            fallback,
            longest,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.until.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits while a pause is in force (at once when none is).
    pub(crate) async fn wait(&self) {
        // Each round sleeps to the deadline read, which only a new 429 can
        // move later, by a bounded amount: the loop ends.
        loop {
            let until = *self.lock();
            match until {
                Some(deadline) if deadline > Instant::now() => {
                    tokio::time::sleep_until(deadline).await;
                }
                _ => return,
            }
        }
    }

    /// Notes a tenant's answer: a 429 pauses every caller for its
    /// `retry_after` (bounded), or the fallback.
    pub(crate) fn observe(&self, status: u16, retry_after: Option<Duration>) {
        if status != 429 {
            return;
        }
        let pause = self.pause_for(retry_after);
        let deadline = Instant::now() + pause;
        let mut until = self.lock();
        if until.is_none_or(|current| current < deadline) {
            *until = Some(deadline);
            tracing::info!(
                pause_ms = pause.as_millis() as u64,
                "the tenant answered 429: every tenant call of the run waits"
            );
        }
    }

    /// How long a 429 that asked for `retry_after` pauses the run: that
    /// long (or the fallback without one), at most the longest wait.
    pub(crate) fn pause_for(&self, retry_after: Option<Duration>) -> Duration {
        retry_after.unwrap_or(self.fallback).min(self.longest)
    }

    /// Whether a pause is in force now (for the tests).
    #[cfg(test)]
    fn paused(&self) -> bool {
        self.lock()
            .is_some_and(|deadline| deadline > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[tokio::test]
    async fn a_429_pauses_every_caller_for_its_retry_after() {
        let throttle = Throttle::new(MS(50), Duration::from_secs(30));
        let start = Instant::now();
        throttle.observe(200, Some(Duration::from_secs(60)));
        assert!(!throttle.paused(), "only a 429 pauses");
        throttle.wait().await;
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no pause without a 429"
        );
        throttle.observe(429, Some(MS(400)));
        // A shorter, later 429 does not shorten the pause.
        throttle.observe(429, Some(MS(1)));
        assert!(throttle.paused());
        let (a, b) = tokio::join!(
            async {
                throttle.wait().await;
                start.elapsed()
            },
            async {
                throttle.wait().await;
                start.elapsed()
            }
        );
        assert!(a >= MS(400) && b >= MS(400), "{a:?} {b:?}");
        assert!(!throttle.paused());
    }

    #[tokio::test]
    async fn the_pause_is_bounded() {
        let throttle = Throttle::new(MS(50), MS(300));
        let start = Instant::now();
        throttle.observe(429, Some(Duration::from_secs(86_400)));
        throttle.wait().await;
        let waited = start.elapsed();
        assert!(
            waited >= MS(300) && waited < Duration::from_secs(60),
            "{waited:?}"
        );
        throttle.observe(429, None);
        assert!(throttle.paused(), "a 429 without Retry-After pauses too");
    }
}

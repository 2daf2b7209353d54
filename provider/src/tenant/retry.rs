//! Retrying set-up, teardown and token calls: 429 (honouring `Retry-After`),
//! 502, 503, 504 and dropped connections, with exponential backoff, within
//! a number of attempts and a time budget.

use std::future::Future;
use std::time::{Duration, Instant};

use uipath_identity_client::ClientError;

use super::admin::Answer;

/// How set-up, teardown and token calls are retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first backoff; each next one doubles.
    pub base_delay: Duration,
    /// The longest single wait (also caps `Retry-After`).
    pub max_delay: Duration,
    /// The time budget of one call, retries included.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            budget: Duration::from_secs(120),
        }
    }
}

/// The wait before retry number `attempt` (0 for the first retry): `base`
/// doubled per attempt, at most `max`. The tenant calls and the broker
/// client back off alike.
pub fn exponential_backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

/// Whether an answer is worth another try.
pub fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

impl RetryPolicy {
    /// Runs `call` until it gives a non-transient answer, the retries are
    /// spent, or the budget would be exceeded by the next wait.
    pub async fn run<F, Fut>(&self, mut call: F) -> Result<Answer, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Answer, ClientError>>,
    {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let result = call().await;
            let backoff = exponential_backoff(self.base_delay, self.max_delay, attempt);
            let wait = match &result {
                Ok(a) if is_transient(a.status) => a
                    .retry_after
                    .map_or(backoff, |after| after.min(self.max_delay)),
                Ok(_) => return result,
                Err(ClientError::Transport { .. }) => backoff,
                Err(_) => return result,
            };
            if attempt >= self.retries || started.elapsed() + wait > self.budget {
                return result;
            }
            tracing::debug!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying a tenant call"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

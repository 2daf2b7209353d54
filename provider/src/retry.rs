//! The one retry loop of the command, and what each kind of call retries.
//!
//! A shared leaf: it knows no tenant, broker or HTTP client. A caller runs
//! [`RetryPolicy::run`] with one attempt as a closure, and the closure says
//! of its own result whether it is final ([`Attempt::Done`]) or worth
//! another try ([`Attempt::Again`], with the wait the server asked for and
//! the reason, which is told through the caller's callback). The loop owns
//! the counting, the exponential back-off, the cap on `Retry-After` and the
//! time budget, so that every such loop ends.
//!
//! # What is retried, and why
//!
//! Only calls whose repetition cannot change the outcome are retried. The
//! verified change-password call itself is not, with one exception: the
//! contract judges the first answer the tenant acts on, and a repeated
//! wrong old password counts toward lockout. The exception is a **429**,
//! which refuses the request before it does anything: the relay waits the
//! pause out and sends the same request again (`verify::relay`), with the
//! tenant calls' attempts, within the request's time-out.
//!
//! **Tenant calls** (token, create, read, list and delete users, set a
//! password back; [`TENANT_RETRYABLE`], see [`tenant_retryable`]):
//! - **429**: throttled, refused before the request did anything. Waits as
//!   long as `Retry-After` asks, at most the policy's `max_retry_after`.
//! - **502, 503, 504**: answered by a gateway in front of Identity, or by a
//!   service that is starting or overloaded. Each retried call is safe to
//!   repeat even if the first reached Identity (a 504 may have): a token
//!   request changes nothing, a read or a listing neither, a delete answers
//!   404 once done (counted as done), setting a password back sets the same
//!   one, and a user is created under an id the harness chose, so a repeat
//!   cannot make a second one (and a read-back checks it exists).
//! - **500 is not retried**: it is Identity's own failure on this very
//!   request, which a repeat of the same request mostly meets again; and a
//!   POST answered 500 may have taken effect before it failed. The run
//!   stops with the tenant's words instead of repeating it blindly.
//! - **408 is not retried**: the set is what Identity and its gateway
//!   answer under load (429, 502, 503, 504); a 408 says the request was not
//!   read in time, which points at the path to the tenant, and the run
//!   reports it with its status rather than waiting through retries.
//! - A **dropped or refused connection** or a time-out is retried (the
//!   calls are safe to repeat, as above).
//!
//! **Pact Broker calls** (`publish`, fetching pacts, verification results,
//! `can-i-deploy`, `record-deployment`; [`broker_retryable`]):
//! - **every 5xx, 500 included**: a broker's writes are safe to repeat
//!   (publishing the same content for the same version again is accepted,
//!   recording a deployment again leaves the version deployed, a
//!   verification result sent twice is one more row of the same verdict),
//!   so a 500 that may have followed the write costs nothing to retry,
//!   and one that passes (a restart, a lost database connection) is
//!   ridden out. pact_verifier's own broker client (`HALClient`)
//!   retries the same set, 8 times by default.
//! - **408**: the broker, or a proxy, timed out reading the request.
//! - **429**: PactFlow's rate limit; `Retry-After` is honoured up to five
//!   minutes (a CI job must not hang for hours).
//! - A **dropped or refused connection**, a time-out, or an answer whose
//!   body was cut short.
//!
//! **A state-change URL** ([`state_url_retryable`]): **every 5xx** and a
//! dropped connection. It is the provider team's own test endpoint, often
//! still starting when the run begins; a state set-up is meant to be
//! repeatable (the Pact convention), and a 4xx is its considered answer.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often and how patiently a call is retried.
///
/// `Default` is the tenant calls' policy ([`RetryPolicy::tenant`]);
/// [`RetryPolicy::broker`] and [`RetryPolicy::state_url`] are the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first back-off; each retry doubles it.
    pub base_delay: Duration,
    /// No back-off is longer than this.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a server asking for more is
    /// retried after this long instead.
    pub max_retry_after: Duration,
    /// The time budget of one call, retries included: no retry starts whose
    /// wait would end past it. [`Duration::MAX`] for none.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::tenant()
    }
}

/// The statuses retried for a tenant call (reasons in the module docs).
pub(crate) const TENANT_RETRYABLE: [u16; 4] = [429, 502, 503, 504];

/// Whether a tenant call answered `status` is retried: 429, 502, 503, 504.
pub(crate) fn tenant_retryable(status: u16) -> bool {
    TENANT_RETRYABLE.contains(&status)
}

/// Whether a Pact Broker call answered `status` is retried: every 5xx,
/// 408 and 429.
pub(crate) fn broker_retryable(status: u16) -> bool {
    (500..600).contains(&status) || status == 408 || status == 429
}

/// Whether a state-change URL that answered `status` is posted to again:
/// every 5xx.
pub(crate) fn state_url_retryable(status: u16) -> bool {
    (500..600).contains(&status)
}

/// The wait before retry number `attempt` (0 for the first retry): `base`
/// doubled per attempt, at most `max`.
pub(crate) fn exponential_backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

/// Which attempt a closure given to [`RetryPolicy::run`] is making.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Try {
    /// 1 for the first attempt.
    pub number: u32,
    /// Whether no retry follows whatever this attempt gives (the retries
    /// are spent); the time budget may still end the loop earlier.
    pub last: bool,
}

/// What one attempt came to.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Final: given to the caller as it is.
    Done(T),
    /// Worth another try. `result` is given to the caller if no retry
    /// follows.
    Again {
        /// What this attempt gave.
        result: T,
        /// How long the server asked to wait (`Retry-After`), if it did.
        after: Option<Duration>,
        /// Why another try, for the caller's message (no secrets).
        reason: String,
    },
}

/// A retry about to happen, as told to the caller's callback.
#[derive(Debug)]
pub struct Retrying<'a> {
    /// Why (from [`Attempt::Again`]).
    pub reason: &'a str,
    /// The wait before it.
    pub wait: Duration,
    /// The number of the attempt that follows (2 for the first retry).
    pub next_attempt: u32,
    /// The number of attempts the policy allows.
    pub attempts: u32,
}

impl RetryPolicy {
    /// Tenant calls: 5 retries, from 250 ms up to 30 s each (`Retry-After`
    /// too), within 2 minutes.
    pub const fn tenant() -> Self {
        Self {
            retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(30),
            budget: Duration::from_secs(120),
        }
    }

    /// Pact Broker calls: 8 retries (as pact_verifier's `HALClient`), from
    /// 500 ms up to 30 s each, `Retry-After` honoured up to 5 minutes, no
    /// budget.
    pub const fn broker() -> Self {
        Self {
            retries: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            budget: Duration::MAX,
        }
    }

    /// A state-change URL: `retries` retries, from 200 ms up to 6.4 s each;
    /// it sends no `Retry-After` worth waiting for.
    pub const fn state_url(retries: u32) -> Self {
        Self {
            retries,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_millis(6400),
            max_retry_after: Duration::ZERO,
            budget: Duration::MAX,
        }
    }

    /// The back-off before retry number `attempt` (0 for the first retry).
    pub fn backoff(&self, attempt: u32) -> Duration {
        exponential_backoff(self.base_delay, self.max_delay, attempt)
    }

    /// Runs `attempt` until it is `Attempt::Done`, the retries are spent,
    /// or the next wait would end past the budget; gives the last result.
    /// Before each retry, `tell` hears why and how long the wait is.
    pub async fn run<T, F, Fut>(&self, mut attempt: F, mut tell: impl FnMut(&Retrying<'_>)) -> T
    where
        F: FnMut(Try) -> Fut,
        Fut: Future<Output = Attempt<T>>,
    {
        let started = Instant::now();
        let attempts = self.retries.saturating_add(1);
        let mut number = 1u32;
        loop {
            let this = Try {
                number,
                last: number >= attempts,
            };
            let (result, after, reason) = match attempt(this).await {
                Attempt::Done(result) => return result,
                Attempt::Again {
                    result,
                    after,
                    reason,
                } => (result, after, reason),
            };
            let wait = after.map_or_else(
                || self.backoff(number - 1),
                |after| after.min(self.max_retry_after),
            );
            if this.last || started.elapsed().saturating_add(wait) > self.budget {
                return result;
            }
            tell(&Retrying {
                reason: &reason,
                wait,
                next_attempt: number + 1,
                attempts,
            });
            tokio::time::sleep(wait).await;
            number += 1;
        }
    }
}

/// How long `Retry-After` asks to wait, from `now`: delta-seconds or an
/// HTTP date (a date in the past means at once).
pub(crate) fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_exponentially_up_to_the_cap() {
        let policy = RetryPolicy {
            retries: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::broker()
        };
        let delays: Vec<u128> = (0..6).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.backoff(200), Duration::from_secs(1));
    }

    #[test]
    fn the_state_urls_waits_double_from_200_ms_to_6400_ms() {
        let policy = RetryPolicy::state_url(9);
        let delays: Vec<u128> = (0..8).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(delays, [200, 400, 800, 1600, 3200, 6400, 6400, 6400]);
    }

    #[test]
    fn tenant_and_broker_retry_the_statuses_their_docs_give() {
        let tenant: Vec<u16> = (400..600).filter(|s| tenant_retryable(*s)).collect();
        assert_eq!(tenant, [429, 502, 503, 504]);
        assert!(!tenant_retryable(500) && !tenant_retryable(408));
        assert!(broker_retryable(500) && broker_retryable(408) && broker_retryable(429));
        assert!(!broker_retryable(404) && !broker_retryable(409));
        assert!(state_url_retryable(500) && !state_url_retryable(429));
    }

    fn again(n: u32, after: Option<Duration>) -> Attempt<u32> {
        Attempt::Again {
            result: n,
            after,
            reason: format!("attempt {n}"),
        }
    }

    #[tokio::test]
    async fn retries_until_done_and_tells_each_retry() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::broker()
        };
        let mut told = Vec::new();
        let result = policy
            .run(
                |t| async move {
                    if t.number < 3 {
                        again(t.number, None)
                    } else {
                        Attempt::Done(t.number * 100)
                    }
                },
                |r| told.push((r.reason.to_owned(), r.wait, r.next_attempt, r.attempts)),
            )
            .await;
        assert_eq!(result, 300);
        assert_eq!(
            told,
            [
                ("attempt 1".to_owned(), Duration::from_millis(10), 2, 9),
                ("attempt 2".to_owned(), Duration::from_millis(20), 3, 9),
            ]
        );
    }

    #[tokio::test]
    async fn gives_the_last_result_when_the_retries_are_spent() {
        let policy = RetryPolicy {
            retries: 2,
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::tenant()
        };
        let mut lasts = Vec::new();
        let result = policy
            .run(
                |t| {
                    lasts.push(t.last);
                    async move { again(t.number, None) }
                },
                |_| {},
            )
            .await;
        assert_eq!(result, 3);
        assert_eq!(lasts, [false, false, true]);
    }

    #[tokio::test]
    async fn honours_retry_after_up_to_its_cap_and_stops_at_the_budget() {
        let policy = RetryPolicy {
            max_retry_after: Duration::from_millis(30),
            budget: Duration::from_millis(50),
            ..RetryPolicy::tenant()
        };
        let mut waits = Vec::new();
        let started = Instant::now();
        let result = policy
            .run(
                |t| async move { again(t.number, Some(Duration::from_secs(3600))) },
                |r| waits.push(r.wait),
            )
            .await;
        // 30 ms (the cap), then a second 30 ms would end past 50 ms: stop.
        assert_eq!(waits, [Duration::from_millis(30)]);
        assert_eq!(result, 2);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn reads_retry_after_as_seconds_or_a_date() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
        use std::time::SystemTime;

        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(12)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}

//! Retrying set-up, teardown and token calls through the one retry loop
//! ([`crate::retry`], whose docs give the statuses and why): 429 (honouring
//! `Retry-After`), 502, 503, 504 and dropped connections, with exponential
//! backoff, within a number of attempts and a time budget.

use std::future::Future;

use uipath_identity_client::ClientError;

use super::admin::Answer;

pub(crate) use crate::retry::RetryPolicy;
use crate::retry::{Attempt, tenant_retryable};

/// Runs the tenant call `call` under `policy` until it gives a
/// non-transient answer, the retries are spent, or the budget would be
/// exceeded by the next wait.
pub(crate) async fn run<F, Fut>(policy: &RetryPolicy, mut call: F) -> Result<Answer, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Answer, ClientError>>,
{
    policy
        .run(
            |_| {
                let attempt = call();
                async move {
                    let result = attempt.await;
                    match &result {
                        Ok(a) if tenant_retryable(a.status) => Attempt::Again {
                            after: a.retry_after,
                            reason: format!("the tenant answered {}", a.status),
                            result,
                        },
                        Err(ClientError::Transport { .. }) => Attempt::Again {
                            after: None,
                            reason: "the connection failed".into(),
                            result,
                        },
                        _ => Attempt::Done(result),
                    }
                }
            },
            |retrying| {
                tracing::debug!(
                    attempt = retrying.next_attempt - 2,
                    wait_ms = retrying.wait.as_millis() as u64,
                    "retrying a tenant call"
                );
            },
        )
        .await
}

//! Provider-state executors: who sets up the state an interaction needs and
//! supplies the values (`userId`, `oldPassword`, `newPassword`) it sends.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use pact_models::provider_states::ProviderState;
use pact_verifier::callback_executors::ProviderStateError;
use serde_json::{Value, json};
use url::Url;

use crate::emulator::{Emulator, states};
use crate::http::{self, BodyError};
use crate::redact::Redactor;
use crate::retry::{Attempt, RetryPolicy, Try, state_url_retryable};

pub(crate) mod tenant;

pub(crate) use tenant::Slot;

/// Where provider states come from during one verification.
#[derive(Debug)]
pub(crate) enum StateExecutor {
    /// The embedded emulator's store, called in process.
    Emulator(Arc<Emulator>),
    /// A state-change URL, posted to the way the Pact CLI does; the
    /// passwords it hands out are secrets of the run.
    Http(StateUrl, Redactor),
    /// A real tenant: throwaway users or an existing user.
    Tenant(tenant::TenantStates),
}

impl StateExecutor {
    /// Posts to the state URL `url` (set-up, and teardown if asked);
    /// every value it answers under a key naming a password, token or
    /// secret is added to `redactor`.
    pub(crate) fn http(url: StateUrl, redactor: Redactor) -> Self {
        StateExecutor::Http(url, redactor)
    }
}

/// A state-change URL, posted to as the Pact CLI does (`{"state",
/// "params", "action"}`), with the run's client: no redirect followed (the
/// answer carries passwords, and must come from the URL given) and the
/// answer read up to the cap. Not pact_verifier's own executor, which
/// reads the answer whole and follows redirects anywhere.
#[derive(Debug)]
pub(crate) struct StateUrl {
    /// The URL.
    pub url: Url,
    /// Whether teardowns are posted too.
    pub teardown: bool,
    /// Retries on 5xx and dropped connections
    /// ([`RetryPolicy::state_url`]).
    pub retries: u8,
    /// The run's client, built with [`http::Redirects::Never`].
    pub http: reqwest::Client,
    /// The largest answer read, in bytes.
    pub max_body: usize,
}

impl StateUrl {
    /// Posts one state change; gives the values a JSON object answer holds.
    async fn post(
        &self,
        state: &ProviderState,
        setup: bool,
    ) -> Result<HashMap<String, Value>, String> {
        let body = json!({
            "state": state.name,
            "params": state.params,
            "action": if setup { "setup" } else { "teardown" },
        });
        let policy = RetryPolicy::state_url(u32::from(self.retries));
        let attempt = |this: Try| {
            let body = &body;
            async move {
                let failure = match self.http.post(self.url.clone()).json(body).send().await {
                    Ok(answer) if answer.status().is_redirection() => {
                        return Attempt::Done(Err(format!(
                            "the state change URL {} answered {} with a redirect to {}, which is not followed: give `--state-change-url` the URL that answers itself",
                            self.url,
                            answer.status().as_u16(),
                            http::redirect_target(&self.url, answer.headers())
                                .unwrap_or_else(|| "nowhere".into())
                        )));
                    }
                    Ok(answer) if answer.status().is_success() => {
                        return Attempt::Done(self.values(answer).await);
                    }
                    Ok(answer) if !state_url_retryable(answer.status().as_u16()) => {
                        return Attempt::Done(Err(format!(
                            "the state change URL {} answered {}",
                            self.url,
                            answer.status().as_u16()
                        )));
                    }
                    Ok(answer) => format!("it answered {}", answer.status().as_u16()),
                    Err(e) => uipath_identity_client::client::error_chain(&e),
                };
                Attempt::Again {
                    result: Err(format!(
                        "the state change URL {} failed after {} attempt(s): {failure}",
                        self.url, this.number
                    )),
                    after: None,
                    reason: failure,
                }
            }
        };
        policy.run(attempt, |_| {}).await
    }

    /// The values a successful answer holds: a JSON object's members, or
    /// none.
    async fn values(&self, answer: reqwest::Response) -> Result<HashMap<String, Value>, String> {
        let json = answer
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
        match http::read_body(answer, self.max_body).await {
            Ok(body) if json => Ok(match serde_json::from_slice(&body) {
                Ok(Value::Object(map)) => map.into_iter().collect(),
                _ => HashMap::new(),
            }),
            Ok(_) => Ok(HashMap::new()),
            Err(BodyError::TooLarge { limit, announced }) => Err(format!(
                "the state change URL's answer is larger than the cap of {limit} bytes{}; it was not read{}",
                announced
                    .map(|n| format!(" (it announced {n})"))
                    .unwrap_or_default(),
                http::TOO_LARGE_HINT
            )),
            Err(BodyError::Transport(e)) => Err(format!(
                "the state change URL's answer was cut short: {}",
                uipath_identity_client::client::error_chain(&e)
            )),
        }
    }
}

impl StateExecutor {
    /// Sets up (or tears down) `provider_state` for the interaction in
    /// `slot` of the run; gives the values the interaction sends. The slot
    /// keeps concurrent interactions' set-ups and teardowns apart.
    pub(crate) async fn call(
        &self,
        slot: Slot,
        interaction_id: Option<String>,
        provider_state: &ProviderState,
        setup: bool,
    ) -> anyhow::Result<HashMap<String, Value>> {
        match self {
            StateExecutor::Emulator(emulator) => {
                if setup {
                    states::setup(emulator, &provider_state.name, |name| {
                        provider_state.params.get(name)
                    })
                    .map_err(|e| {
                        ProviderStateError {
                            description: e.to_string(),
                            interaction_id,
                        }
                        .into()
                    })
                } else {
                    states::teardown(emulator, &provider_state.name);
                    Ok(HashMap::new())
                }
            }
            StateExecutor::Http(state_url, redactor) => {
                let values =
                    state_url
                        .post(provider_state, setup)
                        .await
                        .map_err(|description| ProviderStateError {
                            description: redactor.scrub(&description),
                            interaction_id,
                        })?;
                for (key, value) in &values {
                    let key = key.to_ascii_lowercase();
                    if (key.contains("password") || key.contains("token") || key.contains("secret"))
                        && let Some(text) = value.as_str()
                    {
                        redactor.add_str(text);
                    }
                }
                Ok(values)
            }
            StateExecutor::Tenant(tenant) => {
                let result = if setup {
                    tenant
                        .setup(slot, &provider_state.name, |name| {
                            provider_state.params.get(name)
                        })
                        .await
                } else {
                    tenant.teardown(slot).await;
                    Ok(HashMap::new())
                };
                result.map_err(|e| {
                    ProviderStateError {
                        description: e.to_string(),
                        interaction_id,
                    }
                    .into()
                })
            }
        }
    }

    /// Whether teardowns are called at all.
    pub(crate) fn teardown(&self) -> bool {
        match self {
            StateExecutor::Emulator(_) => true,
            StateExecutor::Http(state_url, _) => state_url.teardown,
            StateExecutor::Tenant(_) => true,
        }
    }
}

/// One provider-state set-up as [`RecordingStates`] saw it: the state's
/// name and, if it failed, why.
pub(crate) type SetupRecord = (String, Option<String>);

/// A [`StateExecutor`] that records every set-up and why it failed, under
/// the interaction's slot: the replay reports a failed set-up only as "One
/// or more of the setup state change handlers has failed" (the pact
/// library's words), and the reason (an unknown state name, the tenant's
/// refusal) belongs on that interaction's line, also when interactions run
/// concurrently.
#[derive(Debug)]
pub(crate) struct RecordingStates {
    inner: Arc<StateExecutor>,
    setups: Mutex<BTreeMap<Slot, Vec<SetupRecord>>>,
}

impl RecordingStates {
    /// Records the set-ups of `inner`.
    pub(crate) fn new(inner: StateExecutor) -> Self {
        Self {
            inner: Arc::new(inner),
            setups: Mutex::default(),
        }
    }

    /// Every set-up so far, by slot, each slot's in the order its states
    /// were set up.
    pub(crate) fn take_setups(&self) -> BTreeMap<Slot, Vec<SetupRecord>> {
        std::mem::take(&mut *self.setups.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Sets up (or tears down) `provider_state` for the interaction in
    /// `slot`, recording a set-up's outcome.
    pub(crate) async fn call(
        &self,
        slot: Slot,
        interaction_id: Option<String>,
        provider_state: &ProviderState,
        setup: bool,
    ) -> anyhow::Result<HashMap<String, Value>> {
        let result = self
            .inner
            .call(slot, interaction_id, provider_state, setup)
            .await;
        if setup {
            let reason =
                result
                    .as_ref()
                    .err()
                    .map(|e| match e.downcast_ref::<ProviderStateError>() {
                        Some(e) => e.description.clone(),
                        None => format!("{e:#}"),
                    });
            self.setups
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(slot)
                .or_default()
                .push((provider_state.name.clone(), reason));
        }
        result
    }

    /// Whether teardowns are called at all.
    pub(crate) fn teardown(&self) -> bool {
        self.inner.teardown()
    }
}

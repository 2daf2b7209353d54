//! Provider-state executors: who sets up the state an interaction needs and
//! supplies the values (`userId`, `oldPassword`, `newPassword`) it sends.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use pact_models::provider_states::ProviderState;
use pact_verifier::callback_executors::{
    HttpRequestProviderStateExecutor, ProviderStateError, ProviderStateExecutor,
};
use serde_json::Value;

use crate::emulator::{Emulator, states};
use crate::verify::redact::Redactor;

pub mod tenant;

/// Where provider states come from during one verification.
#[derive(Debug)]
pub enum StateExecutor {
    /// The embedded emulator's store, called in process.
    Emulator(Arc<Emulator>),
    /// A state-change URL, posted to the way the Pact CLI does; the
    /// passwords it hands out are secrets of the run.
    Http(HttpRequestProviderStateExecutor, Redactor),
    /// A real tenant: throwaway users or an existing user.
    Tenant(tenant::TenantStates),
}

impl StateExecutor {
    /// Posts to `url` (set-up and teardown), retrying `retries` times;
    /// every value it answers under a key naming a password, token or
    /// secret is added to `redactor`.
    pub fn http(url: String, teardown: bool, retries: u8, redactor: Redactor) -> Self {
        StateExecutor::Http(
            HttpRequestProviderStateExecutor {
                state_change_url: Some(url),
                state_change_teardown: teardown,
                state_change_body: true,
                retries,
            },
            redactor,
        )
    }
}

#[async_trait]
impl ProviderStateExecutor for StateExecutor {
    async fn call(
        self: Arc<Self>,
        interaction_id: Option<String>,
        provider_state: &ProviderState,
        setup: bool,
        client: Option<&reqwest::Client>,
    ) -> anyhow::Result<HashMap<String, Value>> {
        match self.as_ref() {
            StateExecutor::Emulator(emulator) => {
                if setup {
                    states::setup(emulator, &provider_state.name).map_err(|e| {
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
            StateExecutor::Http(http, redactor) => {
                let values = Arc::new(http.clone())
                    .call(interaction_id, provider_state, setup, client)
                    .await?;
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
                    tenant.setup(&provider_state.name).await
                } else {
                    tenant.teardown().await;
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

    fn teardown(&self) -> bool {
        match self {
            StateExecutor::Emulator(_) => true,
            StateExecutor::Http(http, _) => http.state_change_teardown,
            StateExecutor::Tenant(_) => true,
        }
    }
}

/// One provider-state set-up as [`RecordingStates`] saw it: the state's
/// name and, if it failed, why.
pub type SetupRecord = (String, Option<String>);

/// A [`StateExecutor`] that records every set-up and why it failed: the
/// pact library reports a failed set-up only as "One or more of the setup
/// state change handlers has failed", and the reason (an unknown state
/// name, the tenant's refusal) belongs on the interaction's line.
#[derive(Debug)]
pub struct RecordingStates {
    inner: Arc<StateExecutor>,
    setups: Mutex<VecDeque<SetupRecord>>,
}

impl RecordingStates {
    /// Records the set-ups of `inner`.
    pub fn new(inner: StateExecutor) -> Self {
        Self {
            inner: Arc::new(inner),
            setups: Mutex::default(),
        }
    }

    /// Every set-up so far, in the order they ran (interactions are
    /// verified one after the other, each setting up its states in order).
    pub fn take_setups(&self) -> VecDeque<SetupRecord> {
        std::mem::take(&mut *self.setups.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl ProviderStateExecutor for RecordingStates {
    async fn call(
        self: Arc<Self>,
        interaction_id: Option<String>,
        provider_state: &ProviderState,
        setup: bool,
        client: Option<&reqwest::Client>,
    ) -> anyhow::Result<HashMap<String, Value>> {
        let result = self
            .inner
            .clone()
            .call(interaction_id, provider_state, setup, client)
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
                .push_back((provider_state.name.clone(), reason));
        }
        result
    }

    fn teardown(&self) -> bool {
        self.inner.teardown()
    }
}

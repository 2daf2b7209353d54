//! Provider-state executors: who sets up the state an interaction needs and
//! supplies the values (`userId`, `oldPassword`, `newPassword`) it sends.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use pact_models::provider_states::ProviderState;
use pact_verifier::callback_executors::{
    HttpRequestProviderStateExecutor, ProviderStateError, ProviderStateExecutor,
};
use serde_json::Value;

use crate::emulator::{Emulator, states};

pub mod tenant;

/// Where provider states come from during one verification.
#[derive(Debug)]
pub enum StateExecutor {
    /// The embedded emulator's store, called in process.
    Emulator(Arc<Emulator>),
    /// A state-change URL, posted to the way the Pact CLI does.
    Http(HttpRequestProviderStateExecutor),
    /// A real tenant: throwaway users or an existing user.
    Tenant(tenant::TenantStates),
}

impl StateExecutor {
    /// Posts to `url` (set-up and teardown), retrying `retries` times.
    pub fn http(url: String, teardown: bool, retries: u8) -> Self {
        StateExecutor::Http(HttpRequestProviderStateExecutor {
            state_change_url: Some(url),
            state_change_teardown: teardown,
            state_change_body: true,
            retries,
        })
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
            StateExecutor::Http(http) => {
                Arc::new(http.clone())
                    .call(interaction_id, provider_state, setup, client)
                    .await
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
            StateExecutor::Http(http) => http.state_change_teardown,
            StateExecutor::Tenant(_) => true,
        }
    }
}

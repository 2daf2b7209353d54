//! The provider states the emulator knows, shared by its
//! `/_pact/provider-states` endpoint and by `verify`'s in-process executor.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use uipath_identity_client::contract::{self, ProviderState, StateParamsError, StateValues};
use uipath_identity_client::{SecretString, UserId};

use super::Emulator;
use super::store::User;

/// Why a state could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A state name the emulator does not know.
    #[error("unknown provider state `{0}`: the emulator knows {known}", known = ProviderState::known_names())]
    Unknown(String),
    /// Parameters that contradict their state.
    #[error(transparent)]
    Params(#[from] StateParamsError),
}

/// Users created for each state, so that teardown removes them (last in,
/// first out: the verifier sets up and tears down one interaction at a time).
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    created: Mutex<HashMap<String, Vec<UserId>>>,
}

impl Ledger {
    fn push(&self, state: &str, id: UserId) {
        self.lock().entry(state.to_owned()).or_default().push(id);
    }

    fn pop(&self, state: &str) -> Option<UserId> {
        self.lock().get_mut(state).and_then(Vec::pop)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<UserId>>> {
        self.created.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Sets up `state` (one of [`ProviderState`]'s names): creates a fresh user and answers with what it set up
/// and what the interaction sends (`userId`, `password`, `oldPassword`,
/// `newPassword`). `param` reads the state's parameters: they are checked
/// against the state ([`contract::check_state_params`]), but the values are
/// the emulator's own, a fresh user and passwords that fit its policy, so
/// that verifications sharing one emulator never meet and a stricter
/// policy still gets valid passwords. A request without parameters (the
/// older protocol) is set up the same way.
pub fn setup<'a>(
    emulator: &Emulator,
    state: &str,
    param: impl Fn(&str) -> Option<&'a Value>,
) -> Result<HashMap<String, Value>, StateError> {
    let policy = &emulator.config.policy;
    let password = policy.generate();
    let Some(known) = ProviderState::from_name(state) else {
        return Err(StateError::Unknown(state.chars().take(200).collect()));
    };
    let (old, new) = match known {
        ProviderState::KnownPassword => (password.clone(), policy.generate()),
        ProviderState::WrongOldPassword => (format!("{password}-wrong"), policy.generate()),
        ProviderState::PolicyViolation => (password.clone(), policy.too_short_example()),
    };
    contract::check_state_params(state, param)?;
    let id = UserId::random();
    emulator.store.insert(User::new(
        id,
        emulator.config.first_organization(),
        format!("pact-{}", &id.to_string()[..8]),
        Some(SecretString::new(password.clone())),
    ));
    emulator.ledger.push(state, id);
    Ok(StateValues {
        user_id: id,
        password: &password,
        old_password: &old,
        new_password: &new,
    }
    .into_params())
}

/// Tears `state` down: removes the user its latest set-up created.
pub fn teardown(emulator: &Emulator, state: &str) {
    if let Some(id) = emulator.ledger.pop(state) {
        emulator.store.remove(&id);
    }
}

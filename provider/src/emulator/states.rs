//! The provider states the emulator knows, shared by its
//! `/_pact/provider-states` endpoint and by `verify`'s in-process executor.

use std::collections::HashMap;
use std::sync::Mutex;

use consumer::{SecretString, UserId};
use serde_json::{Value, json};

use super::Emulator;
use super::store::User;

/// A user exists; `oldPassword` is its password, `newPassword` a valid one.
pub const KNOWN_PASSWORD: &str = "a user exists with a known password";
/// A user exists; `oldPassword` is not its password.
pub const WRONG_OLD_PASSWORD: &str = "a user exists and the old password sent is wrong";
/// A user exists; `newPassword` breaks the password policy (too short).
pub const POLICY_VIOLATION: &str =
    "a user exists and the new password violates the password policy";

/// Every state name the emulator can set up.
pub const KNOWN_STATES: [&str; 3] = [KNOWN_PASSWORD, WRONG_OLD_PASSWORD, POLICY_VIOLATION];

/// Why a state could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A state name the emulator does not know.
    #[error("unknown provider state `{0}`: the emulator knows {known}", known = KNOWN_STATES.map(|s| format!("`{s}`")).join(", "))]
    Unknown(String),
}

/// Users created for each state, so that teardown removes them (last in,
/// first out: the verifier sets up and tears down one interaction at a time).
#[derive(Debug, Default)]
pub struct Ledger {
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

/// Sets up `state`: creates a fresh user and answers with the values the
/// interaction sends (`userId`, `oldPassword`, `newPassword`).
pub fn setup(emulator: &Emulator, state: &str) -> Result<HashMap<String, Value>, StateError> {
    let policy = &emulator.config.policy;
    let password = policy.generate();
    let (old, new) = match state {
        KNOWN_PASSWORD => (password.clone(), policy.generate()),
        WRONG_OLD_PASSWORD => (format!("{password}-wrong"), policy.generate()),
        POLICY_VIOLATION => (password.clone(), policy.too_short_example()),
        other => return Err(StateError::Unknown(other.chars().take(200).collect())),
    };
    let id = UserId::random();
    emulator.store.insert(User::new(
        id,
        emulator.config.first_organization(),
        format!("pact-{}", &id.to_string()[..8]),
        Some(SecretString::new(password)),
    ));
    emulator.ledger.push(state, id);
    Ok(HashMap::from([
        ("userId".to_owned(), json!(id.to_string())),
        ("oldPassword".to_owned(), json!(old)),
        ("newPassword".to_owned(), json!(new)),
    ]))
}

/// Tears `state` down: removes the user its latest set-up created.
pub fn teardown(emulator: &Emulator, state: &str) {
    if let Some(id) = emulator.ledger.pop(state) {
        emulator.store.remove(&id);
    }
}

//! Provider states: the users a Pact verifier asks the tenant to set up
//! before an interaction (one of [`ProviderState`]'s names) and to tear down
//! after it. Set-up answers with the values the interaction sends:
//! `userId`, `password` (the user's current one), `oldPassword` and
//! `newPassword`, which a pact's ProviderState generators put into the
//! request.
//!
//! There are two set-ups, for two kinds of verification:
//! - [`setup`], called in process, rehearses a run against a real tenant,
//!   where the run owns its users: it creates a new user with passwords of
//!   its own, whatever the parameters say, so that only a pact whose
//!   generators carry the answered values into the request verifies, and
//!   verifications sharing one tenant never meet.
//! - The HTTP endpoint at [`PROVIDER_STATES_PATH`](crate::PROVIDER_STATES_PATH)
//!   is a provider's own state handler, as in the standard Pact flow: it
//!   sets up the user the parameters name (`userId`) with the passwords they
//!   give, so that a pact without generators verifies with its example
//!   values; what the parameters leave out it chooses, and it answers with
//!   everything it set up.
//!
//! Either way, teardown undoes the latest set-up of the same state: it
//! removes the user, or puts back the user that had the id before.

use std::collections::HashMap;

use parking_lot::Mutex;
use serde_json::Value;
use uipath_identity_client::contract::{
    self, PARAM_NEW_PASSWORD, PARAM_OLD_PASSWORD, PARAM_PASSWORD, PARAM_USER_ID, ProviderState,
    StateParamsError, StateValues,
};
use uipath_identity_client::{SecretString, UserId};

use super::Emulator;
use super::store::User;

/// Why a state could not be set up; the provider-state endpoint answers it
/// with 400 and this text.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A state name the emulator does not know (cut to 200 characters).
    #[error("unknown provider state `{0}`: the emulator knows {known}", known = ProviderState::known_names())]
    Unknown(String),
    /// Parameters that contradict their state, or a password that is not a
    /// string.
    #[error(transparent)]
    Params(#[from] StateParamsError),
    /// A `userId` parameter that is not a UUID.
    #[error(
        "the provider state `{0}`: its parameter `userId` is not a user id: give a UUID, such as `5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b`"
    )]
    UserId(String),
}

/// What teardown undoes: the user a set-up put in place, and the user it
/// replaced, if any.
#[derive(Debug)]
struct SetUp {
    id: UserId,
    replaced: Option<User>,
}

/// Set-ups by state name, last in, first out: the verifier sets up and
/// tears down one interaction at a time.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    set_up: Mutex<HashMap<String, Vec<SetUp>>>,
}

impl Ledger {
    fn push(&self, state: &str, set_up: SetUp) {
        self.set_up
            .lock()
            .entry(state.to_owned())
            .or_default()
            .push(set_up);
    }

    fn pop(&self, state: &str) -> Option<SetUp> {
        self.set_up.lock().get_mut(state).and_then(Vec::pop)
    }
}

/// Sets up `state` as a run against a real tenant does: creates a new user
/// with a password of its own and answers with what it set up and what the
/// interaction sends (`userId`, `password`, `oldPassword`, `newPassword`).
/// `param` reads the state's parameters: they are checked against the state
/// ([`contract::check_state_params`]), but the values are the emulator's
/// own, a new user and passwords that fit its policy, so that verifications
/// sharing one emulator never meet and a stricter policy still gets valid
/// passwords. A request without parameters (the older protocol) is set up
/// the same way.
pub fn setup<'a>(
    emulator: &Emulator,
    state: &str,
    param: impl Fn(&str) -> Option<&'a Value>,
) -> Result<HashMap<String, Value>, StateError> {
    let known = known_state(state)?;
    contract::check_state_params(state, param)?;
    let values = Values::chosen(emulator, known, Given::default());
    Ok(values.set_up(emulator, state, UserId::random()))
}

/// Sets up `state` as a provider's own state handler does: the user the
/// parameters name (`userId`; a new id without one), whose current
/// password is the `password` they give (or, in the states that send it,
/// their `oldPassword`), replacing a user with that id until teardown.
/// The passwords they leave out, and a `newPassword` that would not give
/// the state's answer under the emulator's policy, are chosen as [`setup`]
/// chooses them. Answers with every value set up.
pub(crate) fn setup_as_named<'a>(
    emulator: &Emulator,
    state: &str,
    param: impl Fn(&str) -> Option<&'a Value>,
) -> Result<HashMap<String, Value>, StateError> {
    let known = known_state(state)?;
    contract::check_state_params(state, &param)?;
    let text = |name: &'static str| match param(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(StateParamsError::NotAString {
            state: state.chars().take(200).collect(),
            param: name,
        }),
    };
    let id = match text(PARAM_USER_ID)? {
        None => UserId::random(),
        Some(id) => id
            .parse()
            .map_err(|_| StateError::UserId(state.chars().take(200).collect()))?,
    };
    let given = Given {
        password: text(PARAM_PASSWORD)?,
        old: text(PARAM_OLD_PASSWORD)?,
        new: text(PARAM_NEW_PASSWORD)?,
    };
    let values = Values::chosen(emulator, known, given);
    Ok(values.set_up(emulator, state, id))
}

/// Tears `state` down: undoes its latest set-up, removing the user it put in
/// place or putting back the one it replaced. A state never set up is left
/// as it is.
pub fn teardown(emulator: &Emulator, state: &str) {
    let Some(SetUp { id, replaced }) = emulator.ledger.pop(state) else {
        return;
    };
    match replaced {
        Some(user) => emulator.store.insert(user),
        None => {
            emulator.store.remove(&id);
        }
    }
}

fn known_state(state: &str) -> Result<ProviderState, StateError> {
    ProviderState::from_name(state)
        .ok_or_else(|| StateError::Unknown(state.chars().take(200).collect()))
}

/// The passwords a state's parameters give.
#[derive(Default)]
struct Given<'a> {
    password: Option<&'a str>,
    old: Option<&'a str>,
    new: Option<&'a str>,
}

/// The passwords of one set-up: the user's current one, and the two the
/// interaction sends.
struct Values {
    password: String,
    old: String,
    new: String,
}

impl Values {
    /// `given`'s passwords where it has them, and for the rest passwords
    /// that make the interaction get `state`'s answer under the emulator's
    /// policy.
    fn chosen(emulator: &Emulator, state: ProviderState, given: Given<'_>) -> Self {
        let policy = &emulator.config.policy;
        let sends_current = state.sends_current_password();
        let password = match (given.password, given.old) {
            (Some(current), _) => current.to_owned(),
            (None, Some(old)) if sends_current => old.to_owned(),
            (None, Some(old)) => {
                let mut current = policy.generate();
                if current == old {
                    current.push('9');
                }
                current
            }
            (None, None) => policy.generate(),
        };
        let old = match given.old {
            Some(old) => old.to_owned(),
            None if sends_current => password.clone(),
            None => format!("{password}-wrong"),
        };
        let new = match state {
            ProviderState::PolicyViolation => given
                .new
                .filter(|new| !policy.violations(new).is_empty())
                .map_or_else(|| policy.too_short_example(), str::to_owned),
            ProviderState::KnownPassword | ProviderState::WrongOldPassword => given
                .new
                .filter(|new| policy.violations(new).is_empty())
                .map_or_else(|| policy.generate(), str::to_owned),
        };
        Self { password, old, new }
    }

    /// Puts a user with id `id` and these passwords in place (a user that
    /// had the id keeps its name and organization, and is kept for
    /// teardown), and gives the values the interaction sends.
    fn set_up(self, emulator: &Emulator, state: &str, id: UserId) -> HashMap<String, Value> {
        let replaced = emulator.store.get(&id);
        let mut user = replaced.clone().unwrap_or_else(|| {
            User::new(
                id,
                emulator.config.first_organization(),
                format!("pact-{}", &id.to_string()[..8]),
                None,
            )
        });
        user.password = Some(SecretString::new(self.password.clone()));
        user.failed_checks = 0;
        user.locked = false;
        emulator.store.insert(user);
        emulator.ledger.push(state, SetUp { id, replaced });
        StateValues {
            user_id: id,
            password: &self.password,
            old_password: &self.old,
            new_password: &self.new,
        }
        .into_params()
    }
}

//! The contract's vocabulary: the names under which it is published, the
//! provider states and their parameters, and the interactions' descriptions.
//! The consumer tests record them into `pacts/`; every provider (the
//! emulator, a state-change URL, the tenant set-up) must understand them.

use std::collections::HashMap;

use crate::user_id::UserId;

/// The consumer's name in the pact and on a broker.
pub const CONSUMER: &str = "automation-client";
/// The provider's name in the pact and on a broker.
pub const PROVIDER: &str = "uipath-identity";

/// The name of the file the consumer tests record the pact into
/// (`{consumer}-{provider}.json`, Pact's convention).
pub fn pact_file_name() -> String {
    format!("{CONSUMER}-{PROVIDER}.json")
}

/// State: a user exists whose current password is [`PARAM_PASSWORD`]; the
/// request sends it as [`PARAM_OLD_PASSWORD`] and a policy-compliant
/// [`PARAM_NEW_PASSWORD`].
pub const STATE_KNOWN_PASSWORD: &str = "a user exists with a known password";
/// State: a user exists whose current password is [`PARAM_PASSWORD`]; the
/// request sends another one as [`PARAM_OLD_PASSWORD`].
pub const STATE_WRONG_OLD_PASSWORD: &str = "a user exists and the old password sent is wrong";
/// State: a user exists whose current password is [`PARAM_PASSWORD`]; the
/// request sends it as [`PARAM_OLD_PASSWORD`] and a [`PARAM_NEW_PASSWORD`]
/// too short for the password policy.
pub const STATE_POLICY_VIOLATION: &str =
    "a user exists and the new password violates the password policy";

/// A provider state of the contract, typed: what every provider matches on
/// after reading a state's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderState {
    /// [`STATE_KNOWN_PASSWORD`].
    KnownPassword,
    /// [`STATE_WRONG_OLD_PASSWORD`].
    WrongOldPassword,
    /// [`STATE_POLICY_VIOLATION`].
    PolicyViolation,
}

impl ProviderState {
    /// Every provider state of the contract.
    pub const ALL: [Self; 3] = [
        Self::KnownPassword,
        Self::WrongOldPassword,
        Self::PolicyViolation,
    ];

    /// Its name in the pact.
    pub fn name(self) -> &'static str {
        match self {
            Self::KnownPassword => STATE_KNOWN_PASSWORD,
            Self::WrongOldPassword => STATE_WRONG_OLD_PASSWORD,
            Self::PolicyViolation => STATE_POLICY_VIOLATION,
        }
    }

    /// The state of this name; `None` for a state this contract does not
    /// define.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the request sends the user's current password as
    /// `oldPassword` (every state but [`Self::WrongOldPassword`]).
    pub fn sends_current_password(self) -> bool {
        self != Self::WrongOldPassword
    }

    /// Every state's name, each in backticks, separated by commas: how a
    /// provider that refuses an unknown state names the ones it knows.
    pub fn known_names() -> String {
        Self::ALL.map(|s| format!("`{}`", s.name())).join(", ")
    }
}

/// State parameter: the user's id (a UUID), also the path's `{userId}`.
pub const PARAM_USER_ID: &str = "userId";
/// State parameter: the user's current password, what the provider sets up.
pub const PARAM_PASSWORD: &str = "password";
/// State parameter: the `oldPassword` the request sends.
pub const PARAM_OLD_PASSWORD: &str = "oldPassword";
/// State parameter: the `newPassword` the request sends.
pub const PARAM_NEW_PASSWORD: &str = "newPassword";

/// What a provider answers a state's set-up with: the values the
/// interaction then uses in place of the pact's examples. Its passwords are
/// secrets, so it has no `Debug`.
pub struct StateValues<'a> {
    /// [`PARAM_USER_ID`]: the user set up.
    pub user_id: UserId,
    /// [`PARAM_PASSWORD`]: the user's current password.
    pub password: &'a str,
    /// [`PARAM_OLD_PASSWORD`]: the `oldPassword` the request sends.
    pub old_password: &'a str,
    /// [`PARAM_NEW_PASSWORD`]: the `newPassword` the request sends.
    pub new_password: &'a str,
}

impl StateValues<'_> {
    /// The values under their parameter names, as a state-change answer
    /// carries them.
    pub fn into_params(self) -> HashMap<String, serde_json::Value> {
        HashMap::from([
            (PARAM_USER_ID.to_owned(), self.user_id.to_string().into()),
            (PARAM_PASSWORD.to_owned(), self.password.into()),
            (PARAM_OLD_PASSWORD.to_owned(), self.old_password.into()),
            (PARAM_NEW_PASSWORD.to_owned(), self.new_password.into()),
        ])
    }
}

/// Interaction: the password is changed.
pub const CHANGES_THE_PASSWORD: &str =
    "a request to change the password with the correct old password";
/// Interaction: a wrong old password is refused with `PasswordMismatch`.
pub const REFUSES_A_WRONG_OLD_PASSWORD: &str =
    "a request to change the password with a wrong old password";
/// Interaction: a too short new password is refused with a policy code.
pub const REFUSES_A_TOO_SHORT_PASSWORD: &str =
    "a request to change the password to one that is too short";
/// Interaction: a body that cannot be bound gets `ValidationProblemDetails`.
pub const REFUSES_AN_UNBINDABLE_BODY: &str =
    "a request to change the password with a body that cannot be bound";
/// Interaction: a call without a bearer token gets 401.
pub const REFUSES_AN_ANONYMOUS_CALL: &str = "a request to change the password with no bearer token";

/// The codes of the password-policy family the policy interaction accepts
/// (ASP.NET Core Identity's `PasswordValidator`), as a regular expression.
pub const POLICY_CODE_REGEX: &str =
    "^Password(TooShort|Requires(Digit|Lower|Upper|NonAlphanumeric|UniqueChars))$";

/// Why a provider state's parameters cannot be set up as they stand.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateParamsError {
    /// A password parameter that is not a string.
    #[error("the provider state `{state}`: its parameter `{param}` is not a string")]
    NotAString {
        /// The state.
        state: String,
        /// The parameter.
        param: &'static str,
    },
    /// `oldPassword` and `password` say the opposite of the state's name.
    #[error(
        "the provider state `{state}` needs an `oldPassword` {needs} the user's current `password`, \
         but its parameters give {given}: fix the pact's parameters"
    )]
    Contradicts {
        /// The state.
        state: String,
        /// What the state needs ("equal to", "different from").
        needs: &'static str,
        /// What the parameters give ("the same", "another").
        given: &'static str,
    },
}

/// Checks that a state's parameters agree with its name: with the user's
/// current `password` given, the `oldPassword` sent must be that password,
/// except in [`STATE_WRONG_OLD_PASSWORD`], where it must be another. A
/// pact recorded before `password` existed has none, and passes: the
/// provider then chooses the current password itself. States this contract
/// does not define pass too (their provider knows what they mean).
pub fn check_state_params<'a>(
    state: &str,
    param: impl Fn(&str) -> Option<&'a serde_json::Value>,
) -> Result<(), StateParamsError> {
    let text = |name: &'static str| match param(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(StateParamsError::NotAString {
            state: state.chars().take(200).collect(),
            param: name,
        }),
    };
    let (Some(current), Some(old)) = (text(PARAM_PASSWORD)?, text(PARAM_OLD_PASSWORD)?) else {
        return Ok(());
    };
    let Some(must_match) =
        ProviderState::from_name(state).map(ProviderState::sends_current_password)
    else {
        return Ok(());
    };
    if (current == old) == must_match {
        return Ok(());
    }
    Err(StateParamsError::Contradicts {
        state: state.to_owned(),
        needs: if must_match {
            "equal to"
        } else {
            "different from"
        },
        given: if must_match { "another" } else { "the same" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::PolicyRule;

    #[test]
    fn the_policy_regex_accepts_exactly_the_policy_codes() {
        let regex = regex::Regex::new(POLICY_CODE_REGEX).unwrap();
        for code in [
            "PasswordTooShort",
            "PasswordRequiresDigit",
            "PasswordRequiresLower",
            "PasswordRequiresUpper",
            "PasswordRequiresNonAlphanumeric",
            "PasswordRequiresUniqueChars",
        ] {
            assert!(regex.is_match(code), "{code}");
            assert!(PolicyRule::is_policy_code(code), "{code}");
        }
        for code in [
            "PasswordMismatch",
            "PasswordLength",
            "UserLockedOut",
            "xPasswordTooShort",
            "",
        ] {
            assert!(!regex.is_match(code), "{code}");
            assert!(!PolicyRule::is_policy_code(code), "{code}");
        }
    }

    #[test]
    fn each_state_reads_back_from_its_name_and_no_other_name_is_a_state() {
        for state in ProviderState::ALL {
            assert_eq!(ProviderState::from_name(state.name()), Some(state));
        }
        assert_eq!(ProviderState::from_name("a user exists"), None);
        assert_eq!(
            ProviderState::known_names(),
            format!(
                "`{STATE_KNOWN_PASSWORD}`, `{STATE_WRONG_OLD_PASSWORD}`, `{STATE_POLICY_VIOLATION}`"
            )
        );
    }

    #[test]
    fn state_values_carry_each_value_under_its_parameter_name() {
        let user_id = UserId::random();
        let params = StateValues {
            user_id,
            password: "Current-1",
            old_password: "Old-2",
            new_password: "New-3",
        }
        .into_params();
        assert_eq!(params.len(), 4);
        assert_eq!(params[PARAM_USER_ID], user_id.to_string());
        assert_eq!(params[PARAM_PASSWORD], "Current-1");
        assert_eq!(params[PARAM_OLD_PASSWORD], "Old-2");
        assert_eq!(params[PARAM_NEW_PASSWORD], "New-3");
    }

    fn params(password: Option<&str>, old: &str) -> serde_json::Value {
        let mut p =
            serde_json::json!({ PARAM_OLD_PASSWORD: old, PARAM_NEW_PASSWORD: "New-passw0rd" });
        if let Some(password) = password {
            p[PARAM_PASSWORD] = password.into();
        }
        p
    }

    #[test]
    fn state_params_that_agree_with_their_state_pass() {
        for (state, old) in [
            (STATE_KNOWN_PASSWORD, "Old-passw0rd"),
            (STATE_POLICY_VIOLATION, "Old-passw0rd"),
            (STATE_WRONG_OLD_PASSWORD, "Wrong-passw0rd"),
        ] {
            let p = params(Some("Old-passw0rd"), old);
            assert_eq!(check_state_params(state, |k| p.get(k)), Ok(()), "{state}");
        }
    }

    #[test]
    fn state_params_without_a_password_pass_as_before() {
        for state in ProviderState::ALL.map(ProviderState::name) {
            let p = params(None, "Whatever-1");
            assert_eq!(check_state_params(state, |k| p.get(k)), Ok(()), "{state}");
        }
    }

    #[test]
    fn state_params_that_contradict_their_state_are_refused_without_the_passwords() {
        let same = params(Some("Old-passw0rd"), "Old-passw0rd");
        let e = check_state_params(STATE_WRONG_OLD_PASSWORD, |k| same.get(k)).unwrap_err();
        assert!(e.to_string().contains("different from"), "{e}");
        let other = params(Some("Old-passw0rd"), "Wrong-passw0rd");
        let e = check_state_params(STATE_KNOWN_PASSWORD, |k| other.get(k)).unwrap_err();
        assert!(e.to_string().contains("equal to"), "{e}");
        assert!(!e.to_string().contains("passw0rd"), "{e}");
        let number = serde_json::json!({ PARAM_PASSWORD: 7, PARAM_OLD_PASSWORD: "x" });
        assert!(matches!(
            check_state_params(STATE_KNOWN_PASSWORD, |k| number.get(k)),
            Err(StateParamsError::NotAString {
                param: PARAM_PASSWORD,
                ..
            })
        ));
    }
}

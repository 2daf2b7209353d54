//! The contract's vocabulary: the names under which it is published, the
//! provider states and their parameters, and the interactions' descriptions.
//! The consumer tests record them into `pacts/`; every provider (the
//! emulator, a state-change URL, the tenant set-up) must understand them.

/// The consumer's name in the pact and on a broker.
pub const CONSUMER: &str = "automation-client";
/// The provider's name in the pact and on a broker.
pub const PROVIDER: &str = "uipath-identity";

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
/// Every provider state of the contract.
pub const STATES: [&str; 3] = [
    STATE_KNOWN_PASSWORD,
    STATE_WRONG_OLD_PASSWORD,
    STATE_POLICY_VIOLATION,
];

/// State parameter: the user's id (a UUID), also the path's `{userId}`.
pub const PARAM_USER_ID: &str = "userId";
/// State parameter: the user's current password, what the provider sets up.
pub const PARAM_PASSWORD: &str = "password";
/// State parameter: the `oldPassword` the request sends.
pub const PARAM_OLD_PASSWORD: &str = "oldPassword";
/// State parameter: the `newPassword` the request sends.
pub const PARAM_NEW_PASSWORD: &str = "newPassword";

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
}

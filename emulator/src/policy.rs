//! The password policy, as ASP.NET Core Identity's `PasswordValidator`
//! applies it: every rule is checked and every violation reported.

use serde::Deserialize;
use uipath_identity_client::IdentityError;
use uipath_identity_client::outcome::{
    CODE_PASSWORD_REQUIRES_DIGIT, CODE_PASSWORD_REQUIRES_LOWER,
    CODE_PASSWORD_REQUIRES_NON_ALPHANUMERIC, CODE_PASSWORD_REQUIRES_UNIQUE_CHARS,
    CODE_PASSWORD_REQUIRES_UPPER, CODE_PASSWORD_TOO_SHORT,
};

/// The rules a new password must meet, as ASP.NET Core Identity's
/// `PasswordOptions` state them; the default is Standalone 2023.4's. Applied
/// to the `newPassword` of a change, the `password` of an update, and the
/// `password` of a created user when it asks for `validatePassword`; never
/// to a seeded user's.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PasswordPolicy {
    /// Counted in characters, not bytes.
    pub min_length: usize,
    /// At least one digit `0`-`9`.
    pub require_digit: bool,
    /// At least one lowercase `a`-`z`.
    pub require_lowercase: bool,
    /// At least one uppercase `A`-`Z`.
    pub require_uppercase: bool,
    /// At least one character that is neither letter nor digit.
    pub require_non_alphanumeric: bool,
    /// Distinct characters the password must contain; 1 checks nothing.
    pub required_unique_chars: usize,
}

impl Default for PasswordPolicy {
    /// Standalone 2023.4's defaults: at least 8 characters, a lowercase
    /// letter and a digit.
    fn default() -> Self {
        Self {
            min_length: 8,
            require_digit: true,
            require_lowercase: true,
            require_uppercase: false,
            require_non_alphanumeric: false,
            required_unique_chars: 1,
        }
    }
}

impl PasswordPolicy {
    /// The violations of `password`, in ASP.NET Identity's order; empty when
    /// it is acceptable.
    pub fn violations(&self, password: &str) -> Vec<IdentityError> {
        let mut errors = Vec::new();
        let length = password.chars().count();
        if password.trim().is_empty() || length < self.min_length {
            errors.push(IdentityError::new(
                CODE_PASSWORD_TOO_SHORT,
                format!("Passwords must be at least {} characters.", self.min_length),
            ));
        }
        if self.require_non_alphanumeric && password.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(IdentityError::new(
                CODE_PASSWORD_REQUIRES_NON_ALPHANUMERIC,
                "Passwords must have at least one non alphanumeric character.",
            ));
        }
        if self.require_digit && !password.chars().any(|c| c.is_ascii_digit()) {
            errors.push(IdentityError::new(
                CODE_PASSWORD_REQUIRES_DIGIT,
                "Passwords must have at least one digit ('0'-'9').",
            ));
        }
        if self.require_lowercase && !password.chars().any(|c| c.is_ascii_lowercase()) {
            errors.push(IdentityError::new(
                CODE_PASSWORD_REQUIRES_LOWER,
                "Passwords must have at least one lowercase ('a'-'z').",
            ));
        }
        if self.require_uppercase && !password.chars().any(|c| c.is_ascii_uppercase()) {
            errors.push(IdentityError::new(
                CODE_PASSWORD_REQUIRES_UPPER,
                "Passwords must have at least one uppercase ('A'-'Z').",
            ));
        }
        if self.required_unique_chars > 1 {
            let mut seen: Vec<char> = password.chars().collect();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() < self.required_unique_chars {
                errors.push(IdentityError::new(
                    CODE_PASSWORD_REQUIRES_UNIQUE_CHARS,
                    format!(
                        "Passwords must use at least {} different characters.",
                        self.required_unique_chars
                    ),
                ));
            }
        }
        errors
    }

    /// A random password this policy accepts: a letter of each case, a
    /// digit, a symbol, and enough random alphanumerics for the length and
    /// the distinct characters asked for.
    pub fn generate(&self) -> String {
        use rand::Rng;
        use rand::distr::Alphanumeric;
        let body_len = self
            .min_length
            .max(self.required_unique_chars)
            .max(16)
            .saturating_sub(4);
        let body: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(body_len)
            .map(char::from)
            .collect();
        let mut password = format!("Pa9-{body}");
        // Random alphanumerics may repeat; pad with distinct ones when the
        // policy asks for many different characters.
        for c in ('a'..='z').chain('A'..='Z').chain('0'..='9') {
            let distinct = {
                let mut seen: Vec<char> = password.chars().collect();
                seen.sort_unstable();
                seen.dedup();
                seen.len()
            };
            if distinct >= self.required_unique_chars {
                break;
            }
            if !password.contains(c) {
                password.push(c);
            }
        }
        password
    }

    /// A password this policy refuses as too short, and for nothing else
    /// where that is possible: a lowercase letter and a digit, cut below the
    /// minimum length.
    pub(crate) fn too_short_example(&self) -> String {
        let keep = self.min_length.saturating_sub(1);
        "a1Bc-2dE3fG4hI5jK6lM7nO8pQ9rS0t"
            .chars()
            .take(keep)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_reports_every_violation() {
        let codes: Vec<_> = PasswordPolicy::default()
            .violations("ABC")
            .into_iter()
            .map(|e| e.code.unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "PasswordTooShort",
                "PasswordRequiresDigit",
                "PasswordRequiresLower"
            ]
        );
    }

    #[test]
    fn generated_passwords_satisfy_strict_policies() {
        let strict = PasswordPolicy {
            min_length: 24,
            require_digit: true,
            require_lowercase: true,
            require_uppercase: true,
            require_non_alphanumeric: true,
            required_unique_chars: 20,
        };
        for _ in 0..200 {
            let p = strict.generate();
            assert!(strict.violations(&p).is_empty(), "{p}");
        }
    }

    #[test]
    fn too_short_example_is_refused_as_too_short() {
        let policy = PasswordPolicy::default();
        let codes: Vec<_> = policy
            .violations(&policy.too_short_example())
            .into_iter()
            .map(|e| e.code.unwrap())
            .collect();
        assert_eq!(codes, ["PasswordTooShort"]);
    }
}

//! Every answer the change-password call can give, typed: what automation
//! branches on (wrong old password, which policy rules, locked out, a body
//! that could not be bound, …) is a variant, and nothing the API said is
//! dropped.
//!
//! The codes are ASP.NET Core Identity's (`IdentityErrorDescriber` and its
//! `Resources.resx` in dotnet/aspnetcore, `src/Identity/Extensions.Core`):
//! `PasswordMismatch` "Incorrect password.", `PasswordTooShort` "Passwords
//! must be at least {0} characters.", `PasswordRequiresDigit`,
//! `PasswordRequiresLower`, `PasswordRequiresUpper`,
//! `PasswordRequiresNonAlphanumeric`, `PasswordRequiresUniqueChars`
//! "Passwords must use at least {0} different characters.", and the
//! resource `UserLockedOut` "User is locked out." (a resource string of the
//! same library, not one of the describer's methods; what a live tenant
//! answers to a locked-out user is not documented).

use std::fmt;

use crate::answers::{IdentityError, IdentityResult, ValidationProblem};

/// The code of a wrong old password.
pub const CODE_PASSWORD_MISMATCH: &str = "PasswordMismatch";
/// The code of a locked-out user.
pub const CODE_USER_LOCKED_OUT: &str = "UserLockedOut";
/// The code of a new password shorter than the policy's minimum.
pub const CODE_PASSWORD_TOO_SHORT: &str = "PasswordTooShort";
/// The code of a new password without a digit.
pub const CODE_PASSWORD_REQUIRES_DIGIT: &str = "PasswordRequiresDigit";
/// The code of a new password without a lowercase letter.
pub const CODE_PASSWORD_REQUIRES_LOWER: &str = "PasswordRequiresLower";
/// The code of a new password without an uppercase letter.
pub const CODE_PASSWORD_REQUIRES_UPPER: &str = "PasswordRequiresUpper";
/// The code of a new password without a character that is neither letter
/// nor digit.
pub const CODE_PASSWORD_REQUIRES_NON_ALPHANUMERIC: &str = "PasswordRequiresNonAlphanumeric";
/// The code of a new password with too few distinct characters.
pub const CODE_PASSWORD_REQUIRES_UNIQUE_CHARS: &str = "PasswordRequiresUniqueChars";

/// What the Identity API answered to a change-password call.
///
/// Transport failures (no connection, TLS, time-out) are not outcomes: they
/// are [`crate::ClientError`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangePasswordOutcome {
    /// 200 with `succeeded: true`: the password is changed.
    Changed,
    /// `succeeded: false` with `PasswordMismatch`: the old password sent is
    /// not the user's current one (and the attempt may count toward lockout).
    WrongOldPassword(Rejection),
    /// `succeeded: false` with password-policy codes: the new password
    /// breaks the rules listed (in the order the API gave them).
    PolicyViolation {
        /// The rules broken.
        rules: Vec<PolicyRule>,
        /// The whole answer.
        rejection: Rejection,
    },
    /// `succeeded: false` with `UserLockedOut`: the account is locked.
    LockedOut(Rejection),
    /// `succeeded: false` with no code the client interprets: kept whole, see
    /// [`Rejection::unknown_codes`].
    Rejected(Rejection),
    /// 400 `ValidationProblemDetails`: the body could not be bound; its
    /// `errors` name the fields.
    InvalidRequest(ValidationProblem),
    /// 401: no token, or one the tenant does not accept.
    Unauthorized,
    /// 403: the token lacks the `PM.User` or `PM.User.Write` scope.
    Forbidden,
    /// 404: no such user.
    NotFound,
    /// Any other answer, kept whole so that nothing is lost.
    Other {
        /// The HTTP status.
        status: u16,
        /// The body as text (lossily decoded).
        body: String,
    },
}

/// An `IdentityResult` with `succeeded: false`, kept whole: its status and
/// every error, the ones the client interprets and the ones it does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status: 400 as a rule, 200 on some deployments.
    pub status: u16,
    /// The Identity errors, in the API's order.
    pub errors: Vec<IdentityError>,
}

impl Rejection {
    /// The codes the client does not interpret (neither wrong password,
    /// lockout nor a policy rule), in the API's order: a tenant that renames
    /// or adds a code shows up here instead of vanishing.
    pub fn unknown_codes(&self) -> Vec<&str> {
        self.errors
            .iter()
            .filter_map(|e| e.code.as_deref())
            .filter(|code| {
                *code != CODE_PASSWORD_MISMATCH
                    && *code != CODE_USER_LOCKED_OUT
                    && !PolicyRule::is_policy_code(code)
            })
            .collect()
    }
}

/// One rule of the password policy that a new password broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyRule {
    /// `PasswordTooShort`: fewer characters than the minimum.
    TooShort {
        /// The minimum, read from the description ("Passwords must be at
        /// least 8 characters."); `None` when it names no single number.
        min_length: Option<usize>,
    },
    /// `PasswordRequiresDigit`: no digit `0`-`9`.
    RequiresDigit,
    /// `PasswordRequiresLower`: no lowercase letter.
    RequiresLower,
    /// `PasswordRequiresUpper`: no uppercase letter.
    RequiresUpper,
    /// `PasswordRequiresNonAlphanumeric`: no character that is neither
    /// letter nor digit.
    RequiresNonAlphanumeric,
    /// `PasswordRequiresUniqueChars`: too few distinct characters.
    RequiresUniqueChars {
        /// The minimum number of distinct characters, read from the
        /// description; `None` when it names no single number.
        min_unique: Option<usize>,
    },
}

impl PolicyRule {
    /// The rule an Identity error names, if its code is a policy code.
    pub fn from_error(error: &IdentityError) -> Option<Self> {
        let number = || error.description.as_deref().and_then(single_number);
        Some(match error.code.as_deref()? {
            CODE_PASSWORD_TOO_SHORT => PolicyRule::TooShort {
                min_length: number(),
            },
            CODE_PASSWORD_REQUIRES_DIGIT => PolicyRule::RequiresDigit,
            CODE_PASSWORD_REQUIRES_LOWER => PolicyRule::RequiresLower,
            CODE_PASSWORD_REQUIRES_UPPER => PolicyRule::RequiresUpper,
            CODE_PASSWORD_REQUIRES_NON_ALPHANUMERIC => PolicyRule::RequiresNonAlphanumeric,
            CODE_PASSWORD_REQUIRES_UNIQUE_CHARS => PolicyRule::RequiresUniqueChars {
                min_unique: number(),
            },
            _ => return None,
        })
    }

    /// Whether `code` is one of the password-policy codes.
    pub fn is_policy_code(code: &str) -> bool {
        PolicyRule::from_error(&IdentityError {
            code: Some(code.to_owned()),
            description: None,
        })
        .is_some()
    }

    /// The Identity code of the rule.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyRule::TooShort { .. } => CODE_PASSWORD_TOO_SHORT,
            PolicyRule::RequiresDigit => CODE_PASSWORD_REQUIRES_DIGIT,
            PolicyRule::RequiresLower => CODE_PASSWORD_REQUIRES_LOWER,
            PolicyRule::RequiresUpper => CODE_PASSWORD_REQUIRES_UPPER,
            PolicyRule::RequiresNonAlphanumeric => CODE_PASSWORD_REQUIRES_NON_ALPHANUMERIC,
            PolicyRule::RequiresUniqueChars { .. } => CODE_PASSWORD_REQUIRES_UNIQUE_CHARS,
        }
    }
}

/// The one whole number in `text` ("at least 8 characters" -> 8), also in a
/// localised text; `None` when there is none or more than one.
fn single_number(text: &str) -> Option<usize> {
    let mut numbers = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty());
    let first = numbers.next()?.parse().ok()?;
    numbers.next().is_none().then_some(first)
}

impl ChangePasswordOutcome {
    /// Reads an answer from its status and body.
    pub fn from_answer(status: u16, body: &[u8]) -> Self {
        match status {
            200 | 400 => {
                if let Ok(result) = serde_json::from_slice::<IdentityResult>(body) {
                    return if result.succeeded && status == 200 {
                        ChangePasswordOutcome::Changed
                    } else {
                        Self::rejected(Rejection {
                            status,
                            errors: result.errors,
                        })
                    };
                }
                if status == 400
                    && let Ok(problem) = serde_json::from_slice::<ValidationProblem>(body)
                {
                    return ChangePasswordOutcome::InvalidRequest(problem);
                }
                Self::other(status, body)
            }
            401 => ChangePasswordOutcome::Unauthorized,
            403 => ChangePasswordOutcome::Forbidden,
            404 => ChangePasswordOutcome::NotFound,
            _ => Self::other(status, body),
        }
    }

    /// Sorts a rejection by what automation would do about it: a locked
    /// account first (nothing else helps), then a wrong old password (the
    /// policy is checked only once the old password is right), then policy
    /// rules; anything else stays a plain rejection.
    fn rejected(rejection: Rejection) -> Self {
        let has = |code: &str| {
            rejection
                .errors
                .iter()
                .any(|e| e.code.as_deref() == Some(code))
        };
        if has(CODE_USER_LOCKED_OUT) {
            return ChangePasswordOutcome::LockedOut(rejection);
        }
        if has(CODE_PASSWORD_MISMATCH) {
            return ChangePasswordOutcome::WrongOldPassword(rejection);
        }
        let rules: Vec<PolicyRule> = rejection
            .errors
            .iter()
            .filter_map(PolicyRule::from_error)
            .collect();
        if rules.is_empty() {
            ChangePasswordOutcome::Rejected(rejection)
        } else {
            ChangePasswordOutcome::PolicyViolation { rules, rejection }
        }
    }

    fn other(status: u16, body: &[u8]) -> Self {
        ChangePasswordOutcome::Other {
            status,
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// The rejection behind a `succeeded: false` answer, whatever its reason.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            ChangePasswordOutcome::WrongOldPassword(r)
            | ChangePasswordOutcome::LockedOut(r)
            | ChangePasswordOutcome::Rejected(r)
            | ChangePasswordOutcome::PolicyViolation { rejection: r, .. } => Some(r),
            _ => None,
        }
    }

    /// The codes of a rejection's errors, empty for other outcomes.
    pub fn error_codes(&self) -> Vec<&str> {
        self.rejection()
            .map(|r| r.errors.iter().filter_map(|e| e.code.as_deref()).collect())
            .unwrap_or_default()
    }
}

impl fmt::Display for ChangePasswordOutcome {
    /// One line for a log or a message. It quotes codes and field names,
    /// never the descriptions' or the body's text, which a tenant could fill
    /// with anything.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangePasswordOutcome::Changed => f.write_str("changed"),
            ChangePasswordOutcome::WrongOldPassword(r) => {
                write!(f, "refused ({}): the old password is wrong", r.status)?;
                unknown(f, r)
            }
            ChangePasswordOutcome::PolicyViolation { rules, rejection } => {
                let codes: Vec<&str> = rules.iter().map(PolicyRule::code).collect();
                write!(
                    f,
                    "refused ({}): the new password breaks the policy ({})",
                    rejection.status,
                    codes.join(", ")
                )?;
                unknown(f, rejection)
            }
            ChangePasswordOutcome::LockedOut(r) => {
                write!(f, "refused ({}): the user is locked out", r.status)?;
                unknown(f, r)
            }
            ChangePasswordOutcome::Rejected(r) => {
                write!(
                    f,
                    "refused ({}) for a reason the client does not know",
                    r.status
                )?;
                unknown(f, r)
            }
            ChangePasswordOutcome::InvalidRequest(problem) => {
                let fields: Vec<&str> = problem.errors.keys().map(String::as_str).collect();
                write!(
                    f,
                    "refused (400): the body could not be bound (fields: {})",
                    fields.join(", ")
                )
            }
            ChangePasswordOutcome::Unauthorized => f.write_str("refused (401): unauthorized"),
            ChangePasswordOutcome::Forbidden => f.write_str("refused (403): forbidden"),
            ChangePasswordOutcome::NotFound => f.write_str("refused (404): no such user"),
            ChangePasswordOutcome::Other { status, body } => {
                write!(f, "unexpected answer {status} ({} bytes)", body.len())
            }
        }
    }
}

/// `; unknown codes: A, B` when the rejection has codes nobody interprets.
fn unknown(f: &mut fmt::Formatter<'_>, rejection: &Rejection) -> fmt::Result {
    let codes = rejection.unknown_codes();
    if codes.is_empty() {
        Ok(())
    } else {
        write!(f, "; unknown codes: {}", codes.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, body: &str) -> ChangePasswordOutcome {
        ChangePasswordOutcome::from_answer(status, body.as_bytes())
    }

    #[test]
    fn reads_success() {
        assert_eq!(
            read(200, r#"{"succeeded":true,"errors":[]}"#),
            ChangePasswordOutcome::Changed
        );
    }

    #[test]
    fn reads_a_wrong_old_password() {
        let o = read(
            400,
            r#"{"succeeded":false,"errors":[{"code":"PasswordMismatch","description":"Incorrect password."}]}"#,
        );
        match &o {
            ChangePasswordOutcome::WrongOldPassword(r) => {
                assert_eq!(r.status, 400);
                assert!(r.unknown_codes().is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(o.to_string(), "refused (400): the old password is wrong");
    }

    #[test]
    fn reads_a_200_with_succeeded_false_as_a_wrong_old_password() {
        let o = read(
            200,
            r#"{"succeeded":false,"errors":[{"code":"PasswordMismatch","description":"Incorrect password."}]}"#,
        );
        assert!(
            matches!(&o, ChangePasswordOutcome::WrongOldPassword(r) if r.status == 200),
            "{o:?}"
        );
        assert_eq!(o.error_codes(), vec!["PasswordMismatch"]);
    }

    #[test]
    fn reads_a_too_short_password_with_its_minimum() {
        let o = read(
            400,
            r#"{"succeeded":false,"errors":[{"code":"PasswordTooShort","description":"Passwords must be at least 8 characters."}]}"#,
        );
        match o {
            ChangePasswordOutcome::PolicyViolation { rules, .. } => assert_eq!(
                rules,
                [PolicyRule::TooShort {
                    min_length: Some(8)
                }]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_the_minimum_from_a_localised_description_and_none_from_a_vague_one() {
        let german = read(
            400,
            r#"{"succeeded":false,"errors":[{"code":"PasswordTooShort","description":"Passwörter müssen mindestens 12 Zeichen lang sein."}]}"#,
        );
        let vague = read(
            400,
            r#"{"succeeded":false,"errors":[{"code":"PasswordTooShort","description":"Too short."}]}"#,
        );
        let min = |o: &ChangePasswordOutcome| match o {
            ChangePasswordOutcome::PolicyViolation { rules, .. } => rules[0],
            other => panic!("{other:?}"),
        };
        assert_eq!(
            min(&german),
            PolicyRule::TooShort {
                min_length: Some(12)
            }
        );
        assert_eq!(min(&vague), PolicyRule::TooShort { min_length: None });
    }

    #[test]
    fn reads_every_policy_rule_in_the_apis_order() {
        // The six texts of ASP.NET Core Identity's PasswordValidator, as a
        // strict policy answers a one-character password.
        let o = read(
            400,
            r#"{"succeeded":false,"errors":[
                {"code":"PasswordTooShort","description":"Passwords must be at least 16 characters."},
                {"code":"PasswordRequiresNonAlphanumeric","description":"Passwords must have at least one non alphanumeric character."},
                {"code":"PasswordRequiresDigit","description":"Passwords must have at least one digit ('0'-'9')."},
                {"code":"PasswordRequiresLower","description":"Passwords must have at least one lowercase ('a'-'z')."},
                {"code":"PasswordRequiresUpper","description":"Passwords must have at least one uppercase ('A'-'Z')."},
                {"code":"PasswordRequiresUniqueChars","description":"Passwords must use at least 6 different characters."}]}"#,
        );
        match &o {
            ChangePasswordOutcome::PolicyViolation { rules, rejection } => {
                assert_eq!(
                    rules,
                    &[
                        PolicyRule::TooShort {
                            min_length: Some(16)
                        },
                        PolicyRule::RequiresNonAlphanumeric,
                        PolicyRule::RequiresDigit,
                        PolicyRule::RequiresLower,
                        PolicyRule::RequiresUpper,
                        PolicyRule::RequiresUniqueChars {
                            min_unique: Some(6)
                        },
                    ]
                );
                assert_eq!(rejection.errors.len(), 6);
            }
            other => panic!("{other:?}"),
        }
        assert!(o.to_string().contains("PasswordRequiresUniqueChars"), "{o}");
    }

    #[test]
    fn reads_a_locked_out_user() {
        let o = read(
            400,
            r#"{"succeeded":false,"errors":[{"code":"UserLockedOut","description":"User is locked out."}]}"#,
        );
        assert!(matches!(o, ChangePasswordOutcome::LockedOut(_)), "{o:?}");
        assert_eq!(o.to_string(), "refused (400): the user is locked out");
    }

    #[test]
    fn keeps_and_reports_unknown_codes_beside_known_ones() {
        let o = read(
            400,
            r#"{"succeeded":false,"errors":[{"code":"PasswordTooShort","description":"Passwords must be at least 8 characters."},{"code":"PasswordInHistory","description":"Used before."}]}"#,
        );
        match &o {
            ChangePasswordOutcome::PolicyViolation { rules, rejection } => {
                assert_eq!(rules.len(), 1);
                assert_eq!(rejection.unknown_codes(), ["PasswordInHistory"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            o.to_string()
                .ends_with("; unknown codes: PasswordInHistory"),
            "{o}"
        );
    }

    #[test]
    fn a_renamed_code_is_a_plain_rejection_that_names_it() {
        let o = read(
            400,
            r#"{"succeeded":false,"errors":[{"code":"InvalidPassword","description":"Incorrect password."}]}"#,
        );
        match &o {
            ChangePasswordOutcome::Rejected(r) => {
                assert_eq!(r.unknown_codes(), ["InvalidPassword"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            o.to_string().contains("unknown codes: InvalidPassword"),
            "{o}"
        );
    }

    #[test]
    fn reads_a_rejection_with_null_errors_as_empty() {
        assert_eq!(
            read(400, r#"{"succeeded":false,"errors":null}"#),
            ChangePasswordOutcome::Rejected(Rejection {
                status: 400,
                errors: vec![]
            })
        );
    }

    #[test]
    fn reads_a_validation_problem_with_its_field_errors() {
        // The guide's shape: Newtonsoft.Json's message under the JSON path.
        let o = read(
            400,
            r#"{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"One or more validation errors occurred.","status":400,"traceId":"00-aec3de9099a9934e9c31e26c19f5e0dd-8c0d3d5f476c7742-00","errors":{"oldPassword":["Unexpected character encountered while parsing value: {. Path 'oldPassword', line 1, position 16."]}}"#,
        );
        match &o {
            ChangePasswordOutcome::InvalidRequest(p) => {
                assert_eq!(p.errors.len(), 1);
                assert!(p.errors["oldPassword"][0].starts_with("Unexpected character"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            o.to_string(),
            "refused (400): the body could not be bound (fields: oldPassword)"
        );
    }

    #[test]
    fn reads_401_403_and_404() {
        assert_eq!(read(401, ""), ChangePasswordOutcome::Unauthorized);
        assert_eq!(read(403, ""), ChangePasswordOutcome::Forbidden);
        assert_eq!(
            read(404, r#"{"title":"Not Found","status":404}"#),
            ChangePasswordOutcome::NotFound
        );
    }

    #[test]
    fn keeps_an_unreadable_body_whole() {
        assert_eq!(
            read(200, "<html>"),
            ChangePasswordOutcome::Other {
                status: 200,
                body: "<html>".into()
            }
        );
        assert_eq!(
            read(503, "busy"),
            ChangePasswordOutcome::Other {
                status: 503,
                body: "busy".into()
            }
        );
    }
}

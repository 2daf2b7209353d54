//! Every answer the change-password call can give, typed.

use crate::answers::{IdentityError, IdentityResult, ValidationProblem};

/// What the Identity API answered to a change-password call.
///
/// Transport failures (no connection, TLS, time-out) are not outcomes: they
/// are [`crate::ClientError`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangePasswordOutcome {
    /// 200 with `succeeded: true`: the password is changed.
    Changed,
    /// `succeeded: false`: the old password was wrong, or the new one breaks
    /// the password policy. Usually a 400; some deployments answer 200.
    Rejected {
        /// The HTTP status (400 or 200).
        status: u16,
        /// The Identity errors, such as `PasswordMismatch`.
        errors: Vec<IdentityError>,
    },
    /// 400 `ValidationProblemDetails`: the body could not be bound.
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

impl ChangePasswordOutcome {
    /// Reads an answer from its status and body.
    pub fn from_answer(status: u16, body: &[u8]) -> Self {
        match status {
            200 | 400 => {
                if let Ok(result) = serde_json::from_slice::<IdentityResult>(body) {
                    return if result.succeeded && status == 200 {
                        ChangePasswordOutcome::Changed
                    } else {
                        ChangePasswordOutcome::Rejected {
                            status,
                            errors: result.errors,
                        }
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

    fn other(status: u16, body: &[u8]) -> Self {
        ChangePasswordOutcome::Other {
            status,
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// The codes of a rejection's errors, empty for other outcomes.
    pub fn error_codes(&self) -> Vec<&str> {
        match self {
            ChangePasswordOutcome::Rejected { errors, .. } => {
                errors.iter().filter_map(|e| e.code.as_deref()).collect()
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_success() {
        let o = ChangePasswordOutcome::from_answer(200, br#"{"succeeded":true,"errors":[]}"#);
        assert_eq!(o, ChangePasswordOutcome::Changed);
    }

    #[test]
    fn reads_a_rejection_with_null_errors_as_empty() {
        let o = ChangePasswordOutcome::from_answer(400, br#"{"succeeded":false,"errors":null}"#);
        assert_eq!(
            o,
            ChangePasswordOutcome::Rejected {
                status: 400,
                errors: vec![]
            }
        );
    }

    #[test]
    fn reads_a_200_with_succeeded_false_as_a_rejection() {
        let o = ChangePasswordOutcome::from_answer(
            200,
            br#"{"succeeded":false,"errors":[{"code":"PasswordMismatch","description":"Incorrect password."}]}"#,
        );
        assert_eq!(o.error_codes(), vec!["PasswordMismatch"]);
    }

    #[test]
    fn reads_a_validation_problem() {
        let o = ChangePasswordOutcome::from_answer(
            400,
            br#"{"title":"One or more validation errors occurred.","status":400,"traceId":"00-aa-bb-00","errors":{"oldPassword":["bad"]}}"#,
        );
        match o {
            ChangePasswordOutcome::InvalidRequest(p) => {
                assert_eq!(p.errors["oldPassword"], vec!["bad".to_string()])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keeps_an_unreadable_body_whole() {
        let o = ChangePasswordOutcome::from_answer(200, b"<html>");
        assert_eq!(
            o,
            ChangePasswordOutcome::Other {
                status: 200,
                body: "<html>".into()
            }
        );
    }
}

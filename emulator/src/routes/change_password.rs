//! `POST …/api/User/{userId}/changepassword`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uipath_identity_client::IdentityError;
use uipath_identity_client::outcome::{CODE_PASSWORD_MISMATCH, CODE_PASSWORD_TOO_SHORT};

use super::{UserPath, parse_user_id, read_body};
use crate::store::ChangeResult;
use crate::{Deviation, Emulator, answers, auth, binding};

/// Changes a user's password, answering as the Identity API does.
pub(crate) async fn change_password(
    State(emulator): State<Arc<Emulator>>,
    path: Result<Path<UserPath>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let deviation = emulator.config.deviation;
    if deviation != Some(Deviation::AnonymousAllowed)
        && let Err(refusal) = auth::authorize(&emulator, &headers, auth::Access::Write)
    {
        return refusal;
    }
    if let Err(refusal) = binding::require_json(&headers) {
        return refusal;
    }
    let user_id = match parse_user_id(path) {
        Ok(id) => id,
        Err(refusal) => return refusal,
    };
    let bytes = match read_body(&emulator, &headers, body).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let command = match binding::bind(&bytes) {
        Ok(c) => c,
        Err(errors) if deviation == Some(Deviation::ValidationErrorsAsList) => {
            return answers::validation_problem_as_list(errors);
        }
        Err(errors) if deviation == Some(Deviation::ValidationMessagesAsStrings) => {
            return answers::validation_problem_with_string_messages(errors);
        }
        Err(errors) => return answers::validation_problem(errors),
    };
    let new = command.new_password.as_deref().unwrap_or_default();
    if let Some(old) = &command.old_password {
        emulator.saw_secret(old);
    }
    emulator.saw_secret(new);
    let result = emulator.store.change_password(
        &user_id,
        command.old_password.as_deref(),
        new,
        &emulator.config.policy,
        emulator.config.lockout_threshold,
    );
    match result {
        ChangeResult::Changed => answers::identity_result(StatusCode::OK, vec![]),
        ChangeResult::UnknownUser => answers::problem(StatusCode::NOT_FOUND, None),
        ChangeResult::Refused(errors)
            if deviation == Some(Deviation::WrongPasswordSucceeds) && is_mismatch(&errors) =>
        {
            answers::identity_result(StatusCode::OK, vec![])
        }
        ChangeResult::Refused(errors) if deviation == Some(Deviation::RenamedErrorCodes) => {
            answers::identity_result(StatusCode::BAD_REQUEST, renamed(errors))
        }
        ChangeResult::Refused(errors) => answers::identity_result(StatusCode::BAD_REQUEST, errors),
    }
}

/// The errors under the codes of [`Deviation::RenamedErrorCodes`].
fn renamed(errors: Vec<IdentityError>) -> Vec<IdentityError> {
    errors
        .into_iter()
        .map(|mut e| {
            e.code = e.code.map(|code| match code.as_str() {
                CODE_PASSWORD_MISMATCH => "InvalidPassword".to_owned(),
                CODE_PASSWORD_TOO_SHORT => "PasswordLength".to_owned(),
                _ => code,
            });
            e
        })
        .collect()
}

fn is_mismatch(errors: &[IdentityError]) -> bool {
    errors
        .iter()
        .any(|e| e.code.as_deref() == Some(CODE_PASSWORD_MISMATCH))
}

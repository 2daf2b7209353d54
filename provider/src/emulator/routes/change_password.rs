//! `POST …/api/User/{userId}/changepassword`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consumer::{IdentityError, UserId};
use serde::Deserialize;

use crate::emulator::store::ChangeResult;
use crate::emulator::{Deviation, Emulator, answers, auth, binding};

/// The route's parameters; `org` and `tenant` may be there too and are
/// ignored, as every organization shares the one store.
#[derive(Deserialize)]
pub struct UserPath {
    user_id: String,
}

/// Reads the body up to the emulator's limit, or answers 413.
pub async fn read_body(
    emulator: &Emulator,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, Response> {
    let limit = emulator.config.max_body_bytes;
    let too_large = || {
        answers::problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(format!("the body is larger than {limit} bytes")),
        )
    };
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| too_large())
}

/// Changes a user's password, answering as the Identity API does.
pub async fn change_password(
    State(emulator): State<Arc<Emulator>>,
    path: Result<Path<UserPath>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let deviation = emulator.config.deviation;
    if deviation != Some(Deviation::AnonymousAllowed) {
        if let Err(refusal) = auth::authenticate(&emulator, &headers) {
            return refusal;
        }
    }
    if let Err(refusal) = binding::require_json(&headers) {
        return refusal;
    }
    let user_id = match path {
        Ok(Path(p)) => match p.user_id.parse::<UserId>() {
            Ok(id) => id,
            Err(_) => {
                let shown: String = p.user_id.chars().take(100).collect();
                return answers::validation_error(
                    "userId",
                    format!("The value '{shown}' is not valid."),
                );
            }
        },
        Err(rejection) => {
            return answers::validation_error("userId", rejection.body_text());
        }
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
    let result = emulator.store.change_password(
        &user_id,
        command.old_password.as_deref(),
        new,
        &emulator.config.policy,
    );
    match result {
        ChangeResult::Changed => answers::identity_result(StatusCode::OK, vec![]),
        ChangeResult::UnknownUser => answers::problem(StatusCode::NOT_FOUND, None),
        ChangeResult::Refused(errors)
            if deviation == Some(Deviation::WrongPasswordSucceeds) && is_mismatch(&errors) =>
        {
            answers::identity_result(StatusCode::OK, vec![])
        }
        ChangeResult::Refused(errors) => answers::identity_result(StatusCode::BAD_REQUEST, errors),
    }
}

fn is_mismatch(errors: &[IdentityError]) -> bool {
    errors
        .iter()
        .any(|e| e.code.as_deref() == Some("PasswordMismatch"))
}

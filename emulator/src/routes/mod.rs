//! The emulator's HTTP routes, one module per resource, and what they share:
//! reading a bounded body and parsing a user id from the path.

pub(crate) mod admin;
pub(crate) mod change_password;
pub(crate) mod provider_states;
pub(crate) mod token;
pub(crate) mod users;

use axum::body::Body;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use uipath_identity_client::UserId;

use super::{Emulator, answers};

/// A route's `{user_id}`; `org` and `tenant` may be in the path too and are
/// ignored, as organizations are told apart by `partitionGlobalId`.
#[derive(Deserialize)]
pub(crate) struct UserPath {
    user_id: String,
}

/// The user id of the path, or 400 as ASP.NET's model binding answers a
/// value that is not a GUID.
pub(crate) fn parse_user_id(
    path: Result<Path<UserPath>, PathRejection>,
) -> Result<UserId, Response> {
    match path {
        Ok(Path(p)) => p.user_id.parse::<UserId>().map_err(|_| {
            let shown: String = p.user_id.chars().take(100).collect();
            answers::validation_error("userId", format!("The value '{shown}' is not valid."))
        }),
        Err(rejection) => Err(answers::validation_error("userId", rejection.body_text())),
    }
}

/// Reads the body up to the emulator's limit, or answers 413.
pub(crate) async fn read_body(
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

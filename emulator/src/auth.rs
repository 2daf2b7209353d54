//! Bearer-token authentication and scope checks, answered as ASP.NET Core's
//! JwtBearer does: 401 with a `WWW-Authenticate` challenge and no body, 403
//! with no body.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::config::{SCOPE_USER, SCOPE_USER_READ, SCOPE_USER_WRITE};
use super::tokens::TokenCheck;
use super::{Emulator, answers};

/// What a call does to users, and so which scopes it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// `PM.User` or `PM.User.Read`.
    Read,
    /// `PM.User` or `PM.User.Write`.
    Write,
}

impl Access {
    fn allowed_by(self, scopes: &[String]) -> bool {
        let narrow = match self {
            Access::Read => SCOPE_USER_READ,
            Access::Write => SCOPE_USER_WRITE,
        };
        scopes.iter().any(|s| s == SCOPE_USER || s == narrow)
    }
}

fn forbidden() -> Response {
    StatusCode::FORBIDDEN.into_response()
}

/// Accepts the request's bearer token for `access`, or answers 401 or 403.
pub(crate) fn authorize(
    emulator: &Emulator,
    headers: &HeaderMap,
    access: Access,
) -> Result<(), Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(answers::unauthorized(answers::NO_TOKEN));
    };
    let Ok(value) = value.to_str() else {
        return Err(answers::unauthorized(answers::INVALID_TOKEN));
    };
    let mut parts = value.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or("");
    let token = parts.next().unwrap_or("").trim();
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(answers::unauthorized(answers::NO_TOKEN));
    }
    if token.is_empty() {
        return Err(answers::unauthorized(answers::INVALID_TOKEN));
    }
    match emulator.tokens.check(token) {
        TokenCheck::Valid(scopes) if access.allowed_by(&scopes) => Ok(()),
        TokenCheck::Valid(_) => Err(forbidden()),
        TokenCheck::Expired => Err(answers::unauthorized(answers::EXPIRED_TOKEN)),
        TokenCheck::Invalid => Err(answers::unauthorized(answers::INVALID_TOKEN)),
    }
}

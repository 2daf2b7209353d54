//! Bearer-token authentication, as ASP.NET Core's JwtBearer answers it.

use axum::http::{HeaderMap, header};
use axum::response::Response;

use super::{Emulator, answers};

/// Accepts the request's bearer token or answers 401.
///
/// With no tokens configured every well-formed bearer token is accepted, so
/// that any client (or Pact verifier) can use the emulator without set-up.
pub fn authenticate(emulator: &Emulator, headers: &HeaderMap) -> Result<(), Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(answers::unauthorized(false));
    };
    let Ok(value) = value.to_str() else {
        return Err(answers::unauthorized(true));
    };
    let mut parts = value.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or("");
    let token = parts.next().unwrap_or("").trim();
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(answers::unauthorized(false));
    }
    if token.is_empty() {
        return Err(answers::unauthorized(true));
    }
    let tokens = &emulator.config.tokens;
    if tokens.is_empty() || tokens.iter().any(|t| t.expose() == token) {
        Ok(())
    } else {
        Err(answers::unauthorized(true))
    }
}

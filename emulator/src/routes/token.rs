//! `POST …/connect/token`: client credentials, as IdentityServer answers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::read_body;
use crate::{Emulator, answers};

fn oauth_error(code: &str) -> Response {
    answers::error_json(StatusCode::BAD_REQUEST, code)
}

/// Issues an access token for `grant_type=client_credentials`.
pub(crate) async fn token(
    State(emulator): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form {
        return oauth_error("invalid_request");
    }
    let bytes = match read_body(&emulator, &headers, body).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let fields: HashMap<String, String> =
        url::form_urlencoded::parse(&bytes).into_owned().collect();
    match fields.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => return oauth_error("unsupported_grant_type"),
        None => return oauth_error("invalid_request"),
    }
    let (Some(id), Some(secret)) = (fields.get("client_id"), fields.get("client_secret")) else {
        return oauth_error("invalid_client");
    };
    match emulator
        .tokens
        .issue(id, secret, fields.get("scope").map(String::as_str))
    {
        Ok(issued) => {
            emulator.saw_secret(&issued.access_token);
            let mut response = Json(json!({
                "access_token": issued.access_token,
                "expires_in": issued.expires_in,
                "token_type": "Bearer",
                "scope": issued.scope,
            }))
            .into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store, no-cache, max-age=0"),
            );
            response
        }
        Err(refusal) => oauth_error(refusal.code()),
    }
}

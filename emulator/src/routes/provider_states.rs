//! `POST /_pact/provider-states`: Pact's provider-state protocol, so that any
//! Pact verifier can verify a pact of the call against the emulator, with
//! the emulator as the provider's state handler
//! ([`states::setup_as_named`]).

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::{Emulator, answers, binding, states};

use super::read_body;

/// The body a Pact verifier posts: `{"state", "params", "action"}`. The
/// parameters (`userId`, `password`, `oldPassword`, `newPassword`) name the
/// user and passwords to set up; older verifiers and pacts send none.
#[derive(Deserialize)]
struct StateChange {
    state: String,
    #[serde(default)]
    params: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    action: Option<String>,
}

/// Sets up or tears down a provider state; answers with the values to
/// inject into the interaction.
pub(crate) async fn provider_state(
    State(emulator): State<Arc<Emulator>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(refusal) = binding::require_json(&headers) {
        return refusal;
    }
    let bytes = match read_body(&emulator, &headers, body).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let change: StateChange = match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => {
            return answers::error_json(
                StatusCode::BAD_REQUEST,
                format!(
                    "expected {{\"state\": string, \"params\": object, \"action\": \"setup\"|\"teardown\"}}: {e}"
                ),
            );
        }
    };
    match change.action.as_deref().unwrap_or("setup") {
        "setup" => match states::setup_as_named(&emulator, &change.state, |name| {
            change.params.as_ref().and_then(|p| p.get(name))
        }) {
            Ok(values) => Json(values).into_response(),
            Err(e) => answers::error_json(StatusCode::BAD_REQUEST, e.to_string()),
        },
        "teardown" => {
            states::teardown(&emulator, &change.state);
            Json(json!({})).into_response()
        }
        other => answers::error_json(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown action `{}`: use `setup` or `teardown`",
                other.chars().take(40).collect::<String>()
            ),
        ),
    }
}

//! Wiring shared by the tests: a tenant on 127.0.0.1:0, an HTTP client, and
//! the provider-state and token calls a test makes before its own.

use serde_json::{Value, json};
use uipath_identity_emulator::{EmulatorConfig, EmulatorHandle, PROVIDER_STATES_PATH};

/// A tenant on `127.0.0.1:0` in this process, stopped when the handle drops.
pub(crate) async fn start_emulator(config: EmulatorConfig) -> EmulatorHandle {
    uipath_identity_emulator::start(config)
        .await
        .expect("the emulator starts")
}

/// Sets up `state` with no parameters through the provider-state endpoint
/// at `base`, and gives the values it answers with.
pub(crate) async fn setup_state(base: &str, state: &str) -> Value {
    let (status, values) = setup_state_with(base, state, json!({})).await;
    assert_eq!(status, 200, "setting up `{state}`: {values}");
    values
}

/// Posts a set-up of `state` with `params` to the provider-state endpoint;
/// gives the status and the JSON answer.
pub(crate) async fn setup_state_with(base: &str, state: &str, params: Value) -> (u16, Value) {
    state_change(
        base,
        json!({ "state": state, "params": params, "action": "setup" }),
    )
    .await
}

/// Posts `body` to the provider-state endpoint at `base`; gives the status
/// and the JSON answer.
pub(crate) async fn state_change(base: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{base}{PROVIDER_STATES_PATH}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// `GET url` with `bearer`, read as JSON.
pub(crate) async fn get_json(url: &str, bearer: &str) -> Value {
    http()
        .get(url)
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A plain HTTP client (with the TLS provider reqwest needs installed).
pub(crate) fn http() -> reqwest::Client {
    uipath_identity_client::tls::install_crypto_provider();
    reqwest::Client::new()
}

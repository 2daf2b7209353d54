//! The parts the hand-made servers of the tests share: misbehaving tenants
//! and brokers (`hostile.rs`, `secrets.rs`, `tenant_lifecycle.rs`,
//! `broker.rs`), a spec server (`spec.rs`). Each double keeps its own
//! behaviour in its own file; what they all do alike lives here.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::MethodRouter;
use serde_json::json;
use uipath_identity_client::contract::{PARAM_NEW_PASSWORD, PARAM_OLD_PASSWORD, PARAM_USER_ID};

/// The user id every password-handing state double answers with.
pub const STATE_USER_ID: &str = "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e";

/// Serves `router` on `127.0.0.1:0` in this process, until the test's
/// runtime ends, and gives the address it listens on.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("a port on 127.0.0.1");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// The request's `Authorization` header as text (empty when there is none
/// or it is not text): what an echoing double quotes back.
pub fn authorization(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A provider-state endpoint (`POST`) that hands out [`STATE_USER_ID`] with
/// these passwords for every state, so that what a double later echoes
/// holds them.
pub fn passwords_state(old: &'static str, new: &'static str) -> MethodRouter {
    axum::routing::post(move || async move {
        axum::Json(json!({
            PARAM_USER_ID: STATE_USER_ID,
            PARAM_OLD_PASSWORD: old,
            PARAM_NEW_PASSWORD: new,
        }))
    })
}

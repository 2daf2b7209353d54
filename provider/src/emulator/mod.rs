//! The Identity emulator: `POST …/api/User/{userId}/changepassword` with the
//! behaviour described in `API-FACTS.md`, and Pact's provider-state endpoint.
//!
//! [`app`] builds the router over shared state, so tests can drive it in
//! process; [`serve`] runs it on an injected listener until an injected
//! shutdown future completes; [`spawn`] does both on `127.0.0.1:0` and hands
//! back a handle, which is how `verify` embeds it.

// Refusals are axum `Response`s returned as `Err`: each lives for one
// request, and boxing it would only add an allocation on the refusal path.
#![allow(clippy::result_large_err)]

pub mod answers;
pub mod auth;
pub mod binding;
pub mod policy;
pub mod routes;
pub mod states;
pub mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use consumer::BearerToken;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use policy::PasswordPolicy;
pub use store::Store;

/// The largest request body the emulator reads (64 KiB); larger gets 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The path of Pact's provider-state endpoint.
pub const PROVIDER_STATES_PATH: &str = "/_pact/provider-states";

/// A deliberate departure from the contract, for proving that the gate goes
/// red when a tenant changes (never for anything else).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Deviation {
    /// A wrong old password gets 200 `succeeded: true`.
    WrongPasswordSucceeds,
    /// `ValidationProblemDetails.errors` is a list, not a map.
    ValidationErrorsAsList,
    /// Each `ValidationProblemDetails.errors` value is a string, not a list.
    ValidationMessagesAsStrings,
    /// Calls with no bearer token are served instead of refused.
    AnonymousAllowed,
}

/// How the emulator behaves.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// The password policy new passwords must meet.
    pub policy: PasswordPolicy,
    /// The bearer tokens accepted; empty accepts any bearer token.
    pub tokens: Vec<BearerToken>,
    /// The largest request body read.
    pub max_body_bytes: usize,
    /// A deliberate departure from the contract, if any.
    pub deviation: Option<Deviation>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            policy: PasswordPolicy::default(),
            tokens: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            deviation: None,
        }
    }
}

/// The emulator's state, shared by every request.
#[derive(Debug)]
pub struct Emulator {
    /// How it behaves.
    pub config: EmulatorConfig,
    /// Its users.
    pub store: Store,
    ledger: states::Ledger,
}

impl Emulator {
    /// An emulator with no users.
    pub fn new(config: EmulatorConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            store: Store::default(),
            ledger: states::Ledger::default(),
        })
    }
}

fn identity_routes() -> Router<Arc<Emulator>> {
    Router::new().route(
        "/api/User/{user_id}/changepassword",
        post(routes::change_password::change_password).fallback(method_not_allowed),
    )
}

async fn method_not_allowed(method: Method) -> Response {
    let mut response = answers::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        Some(format!("{method} is not served here: use POST")),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}

async fn not_found() -> Response {
    answers::problem(StatusCode::NOT_FOUND, None)
}

/// The router: the Identity API under `/identity_/` and `/identity/`, each
/// also under `/{org}/` and `/{org}/{tenant}/`, and the provider-state
/// endpoint.
pub fn app(emulator: Arc<Emulator>) -> Router {
    let identity = identity_routes();
    let mut router = Router::new().route(
        PROVIDER_STATES_PATH,
        post(routes::provider_states::provider_state).fallback(method_not_allowed),
    );
    for prefix in ["identity_", "identity"] {
        for base in ["", "/{org}", "/{org}/{tenant}"] {
            router = router.nest(&format!("{base}/{prefix}"), identity.clone());
        }
    }
    router.fallback(not_found).with_state(emulator)
}

/// Serves `emulator` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    emulator: Arc<Emulator>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(emulator))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A running emulator; dropping it stops it.
#[derive(Debug)]
pub struct EmulatorHandle {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, for looking at users from tests and in-process states.
    pub emulator: Arc<Emulator>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl EmulatorHandle {
    /// `http://127.0.0.1:{port}`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for open connections to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts an emulator on `addr` (port 0 picks a free one) in a task.
pub async fn spawn(config: EmulatorConfig, addr: SocketAddr) -> std::io::Result<EmulatorHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let emulator = Emulator::new(config);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, emulator.clone(), async {
        let _ = rx.await;
    }));
    Ok(EmulatorHandle {
        addr,
        emulator,
        shutdown: Some(tx),
        task: Some(task),
    })
}

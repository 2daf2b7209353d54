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

pub(crate) mod answers;
pub(crate) mod auth;
pub(crate) mod binding;
pub(crate) mod clock;
pub mod config;
pub mod faults;
pub mod policy;
pub(crate) mod routes;
pub mod states;
pub(crate) mod store;
pub(crate) mod tokens;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use binding::{CREATE_USER, bind, bind_command};
pub use clock::Clock;
pub use config::{
    ClientSpec, DEFAULT_MAX_BODY_BYTES, DEFAULT_ORGANIZATION, Deviation, EmulatorConfig, SeedUser,
    StaticToken,
};
pub use faults::{FaultRoute, FaultRule, classify};
pub use policy::PasswordPolicy;
pub use store::Store;

/// The path of Pact's provider-state endpoint.
pub const PROVIDER_STATES_PATH: &str = "/_pact/provider-states";

/// The emulator's state, shared by every request.
#[derive(Debug)]
pub struct Emulator {
    /// How it behaves.
    pub config: EmulatorConfig,
    /// Its users.
    pub store: Store,
    /// The bearer tokens it accepts.
    pub tokens: tokens::Tokens,
    /// The fault rules in force.
    pub faults: faults::Faults,
    ledger: states::Ledger,
    seen: std::sync::Mutex<Vec<String>>,
}

impl Emulator {
    /// An emulator with its seeded users.
    pub fn new(config: EmulatorConfig) -> Arc<Self> {
        let store = Store::default();
        for seed in &config.users {
            let id = uipath_identity_client::UserId::from(seed.id);
            let name = seed
                .user_name
                .clone()
                .unwrap_or_else(|| format!("user-{}", &id.to_string()[..8]));
            store.insert(store::User::new(
                id,
                seed.organization
                    .unwrap_or_else(|| config.first_organization()),
                name,
                Some(seed.password.secret().clone()),
            ));
        }
        Arc::new(Self {
            tokens: tokens::Tokens::new(&config),
            faults: faults::Faults::new(&config.faults),
            config,
            store,
            ledger: states::Ledger::default(),
            seen: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Remembers a secret seen on the wire, when `record_secrets` is on.
    pub fn saw_secret(&self, secret: &str) {
        if self.config.record_secrets && !secret.is_empty() {
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(secret.to_owned());
        }
    }

    /// Every password and token seen so far (with `record_secrets`).
    pub fn secrets_seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn identity_routes() -> Router<Arc<Emulator>> {
    use routes::{change_password, token, users};
    Router::new()
        .route(
            "/api/User/{user_id}/changepassword",
            post(change_password::change_password).fallback(method_not_allowed),
        )
        .route(
            "/api/User",
            post(users::create)
                .delete(users::delete_many)
                .fallback(method_not_allowed),
        )
        .route(
            "/api/User/{user_id}",
            get(users::get_one)
                .put(users::update)
                .delete(users::delete_one)
                .fallback(method_not_allowed),
        )
        .route(
            "/api/User/users/{partition}",
            get(users::list).fallback(method_not_allowed),
        )
        .route(
            "/connect/token",
            post(token::token).fallback(method_not_allowed),
        )
}

async fn method_not_allowed(method: Method) -> Response {
    answers::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        Some(format!("{method} is not served here")),
    )
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
    if emulator.config.admin {
        router = router.merge(routes::admin::routes());
    }
    router
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            emulator.clone(),
            faults::apply,
        ))
        .with_state(emulator)
}

/// How long the emulator waits on a connection, for the headers of a
/// request and for a request to arrive whole and be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time for a request's headers to arrive, counted from when the
    /// connection is ready for one: it also closes a connection left idle
    /// (a fresh one, or a kept-alive one between requests).
    pub header_read_timeout: Duration,
    /// Time for a request (its body included) to be read and answered;
    /// past it, the answer is 408.
    pub request_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// 10 s for headers (and idle connections), 60 s per request: far
    /// more than any client of the contract needs, little enough that
    /// clients that never finish cannot pile up.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Serves `emulator` on `listener` until `shutdown` completes, with the
/// default [`ConnectionLimits`].
pub async fn serve(
    listener: TcpListener,
    emulator: Arc<Emulator>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_limits(listener, emulator, ConnectionLimits::default(), shutdown).await
}

/// Serves `emulator` on `listener` until `shutdown` completes, then waits
/// for the requests in flight. Each connection is HTTP/1.1 with `limits`
/// and half-close support: a client that shuts its write side after
/// sending a request still gets the answer.
pub async fn serve_with_limits(
    listener: TcpListener,
    emulator: Arc<Emulator>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let request_timeout = limits.request_timeout;
    let app = app(emulator).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(request_timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => answers::problem(
                    StatusCode::REQUEST_TIMEOUT,
                    Some(format!(
                        "the request was not read and answered within {} s",
                        request_timeout.as_secs_f64()
                    )),
                ),
            }
        },
    ));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!("the emulator could not accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .half_close(true);
            let connection =
                builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let stop_asked = async move {
                // The guard `wait_for` gives is dropped at once.
                let _ = stopping.wait_for(|stop| *stop).await.map(|_| ());
            };
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stop_asked => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
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

//! An emulated UiPath Identity tenant for tests, served over HTTP on
//! 127.0.0.1 in your own process: start one on a free port, seed its users,
//! clients and tokens, point the code under test at its URL, add faults while
//! it runs, look at its users afterwards, stop it.
//!
//! # What it emulates
//! The user API that automation around UiPath calls, under the path prefixes
//! a tenant serves it at: `/identity_/` (Automation Cloud and Suite) and
//! `/identity/` (standalone installs), each also below `/{organization}/` and
//! `/{organization}/{tenant}/`.
//! - `POST …/api/User/{userId}/changepassword` (`{"oldPassword",
//!   "newPassword"}`): 200 `{"succeeded": true, "errors": []}`; a wrong old
//!   password, a locked user or a new password that breaks the
//!   [`PasswordPolicy`] get 400 with ASP.NET Core Identity's `IdentityResult`
//!   and its error codes (`PasswordMismatch`, `UserLockedOut`,
//!   `PasswordTooShort`, `PasswordRequiresDigit`, …); a body that cannot be
//!   bound gets 400 `ValidationProblemDetails` (`application/problem+json`)
//!   with Newtonsoft.Json's messages; an unknown user 404.
//! - `POST`, `GET`, `PUT`, `DELETE …/api/User[/{userId}]` and
//!   `GET …/api/User/users/{organizationId}`: the user administration a
//!   verifier of the call needs around it (create, read, list, set a
//!   password without the old one, delete).
//! - `POST …/connect/token`: client-credentials tokens for the
//!   [`ClientSpec`]s configured, with the scopes `PM.User`, `PM.User.Read`
//!   and `PM.User.Write` and an expiry.
//!
//! Calls without a bearer token get 401 with a `WWW-Authenticate: Bearer`
//! challenge and no body, as ASP.NET Core's JwtBearer answers; a token
//! without the scope the call needs gets 403. With no [`StaticToken`] and no
//! [`ClientSpec`] configured, any bearer token is accepted. Consecutive wrong
//! old passwords lock a user after [`EmulatorConfig::lockout_threshold`] (10,
//! as Automation Cloud). Malformed and hostile requests get a 4xx with a
//! JSON problem, never a 5xx unless a fault rule asks for one: bodies over
//! [`EmulatorConfig::max_body_bytes`] 413, other media types 415, other
//! methods 405, other paths 404.
//!
//! For contract tests it also serves Pact's provider-state endpoint at
//! [`PROVIDER_STATES_PATH`] (see [`states`]); for tests of clients,
//! [`FaultRule`]s (429 with `Retry-After`, 503, delays, dropped connections)
//! and, with [`EmulatorConfig::admin`], `/_admin/faults` and
//! `/_admin/users/{id}/unlock`; and, to prove that a contract test goes red
//! when a tenant changes, [`Deviation`]s from the contract.
//!
//! # Start one in a test
//! ```
//! use uipath_identity_client::{
//!     BaseUrl, ChangePassword, ChangePasswordOutcome, IdentityClient, IdentityPrefix, UserId,
//! };
//! use uipath_identity_emulator::{EmulatorConfig, SeedUser, StaticToken};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let user = UserId::random();
//! let tenant = uipath_identity_emulator::start(EmulatorConfig {
//!     users: vec![SeedUser::new(user, "Old-passw0rd")],
//!     tokens: vec![StaticToken::from("test-token")],
//!     ..EmulatorConfig::default()
//! })
//! .await?;
//!
//! // The code under test, pointed at the tenant's URL.
//! let base = BaseUrl::parse(&tenant.url(), IdentityPrefix::Cloud)?;
//! let client = IdentityClient::new(base, Some("test-token".into()))?;
//! let change = ChangePassword::new("Old-passw0rd", "New-passw0rd");
//!
//! // The next change-password call meets an outage.
//! let outage = "route=change-password,kind=503,next=1".parse()?;
//! tenant.emulator.faults.add(outage);
//! let first = client.change_password(&user, &change).await?;
//! assert!(matches!(first, ChangePasswordOutcome::Other { status: 503, .. }));
//!
//! let second = client.change_password(&user, &change).await?;
//! assert_eq!(second, ChangePasswordOutcome::Changed);
//! let stored = tenant.emulator.store.get(&user).expect("the seeded user");
//! assert_eq!(stored.password.expect("a password").expose(), "New-passw0rd");
//!
//! tenant.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! [`start`] and [`spawn`] run it in a task of the caller's tokio runtime;
//! [`serve`] runs it on a listener the caller binds, until a future the
//! caller gives completes; [`app`] is the bare axum router, for tests that
//! send it requests without a socket.

#![warn(missing_docs, unreachable_pub)]
// Refusals are axum `Response`s returned as `Err`: each lives for one
// request, and boxing it would only add an allocation on the refusal path.
#![allow(clippy::result_large_err)]
// Function length: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]

mod answers;
mod auth;
mod binding;
mod clock;
pub mod config;
pub mod faults;
pub mod policy;
mod routes;
pub mod states;
mod store;
mod tokens;

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

pub use clock::Clock;
pub use config::{
    ClientSpec, DEFAULT_MAX_BODY_BYTES, DEFAULT_ORGANIZATION, Deviation, EmulatorConfig, SeedUser,
    StaticToken,
};
pub use faults::{FaultKind, FaultRoute, FaultRule, Faults, classify};
pub use policy::PasswordPolicy;
pub use store::{Store, User};

// The README's example runs as a doc test too, so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;

/// Where Pact verifiers post `{"state", "params", "action"}` to set up and
/// tear down provider states (see [`states`]).
pub const PROVIDER_STATES_PATH: &str = "/_pact/provider-states";

/// One tenant: what every request reads and changes. Share it as
/// `Arc<Emulator>` ([`EmulatorHandle::emulator`]) to look at its users or
/// change its faults from the test while it serves.
#[derive(Debug)]
pub struct Emulator {
    /// The configuration it was started with; changing it needs a new
    /// emulator.
    pub config: EmulatorConfig,
    /// The users, seeded ones first: read them to see what a client did
    /// (passwords, lockout counters), or add and remove users directly.
    pub store: Store,
    /// The fault rules in force, which the test may change at any time.
    pub faults: Faults,
    tokens: tokens::Tokens,
    ledger: states::Ledger,
    seen: parking_lot::Mutex<Vec<String>>,
}

impl Emulator {
    /// A tenant with `config`'s users seeded, not yet serving: give it to
    /// [`serve`] or [`app`].
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
            seen: parking_lot::Mutex::new(Vec::new()),
        })
    }

    /// Remembers a secret seen on the wire, when `record_secrets` is on.
    pub(crate) fn saw_secret(&self, secret: &str) {
        if self.config.record_secrets && !secret.is_empty() {
            self.seen.lock().push(secret.to_owned());
        }
    }

    /// Every password and token received or issued so far, when
    /// [`EmulatorConfig::record_secrets`] is on (empty otherwise): what a
    /// test searches a client's output and logs for.
    pub fn secrets_seen(&self) -> Vec<String> {
        self.seen.lock().clone()
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

/// The axum router of `emulator`, with no socket: the Identity API under
/// `/identity_/` and `/identity/`, each also under `/{org}/` and
/// `/{org}/{tenant}/`, the provider-state endpoint, and the admin routes
/// when configured. For tests that call it as a `tower::Service`, or that
/// wrap it in middleware of their own (a tenant that misbehaves on purpose).
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
/// default [`ConnectionLimits`]: for a caller that binds its own socket and
/// owns the task (`orchestrator-pact serve` does).
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

/// A tenant serving in a task of the runtime that started it. Dropping it
/// stops it without waiting; [`EmulatorHandle::stop`] waits for the
/// requests in flight.
#[derive(Debug)]
pub struct EmulatorHandle {
    /// The address the listener got (with [`start`], 127.0.0.1 and the port
    /// the system picked).
    pub addr: SocketAddr,
    /// The tenant being served: its users, faults and configuration.
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

/// Starts a tenant on 127.0.0.1 with a port the system picks, in a task of
/// the caller's tokio runtime; its URL is [`EmulatorHandle::url`].
pub async fn start(config: EmulatorConfig) -> std::io::Result<EmulatorHandle> {
    spawn(config, SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0))).await
}

/// Starts a tenant listening on `addr` (port 0 picks a free one), in a task
/// of the caller's tokio runtime. Fails when `addr` cannot be bound.
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

//! A typed client of UiPath Identity's "Update User Password" call,
//! `POST {baseURL}identity_/api/User/{userId}/changepassword`.
//!
//! The crate's tests are the Pact consumer tests: they drive this client
//! against the Pact mock server and record, into `pacts/`, exactly what the
//! client relies on.
//!
//! # Layout
//! - [`secret`]: [`SecretString`] and its two faces, [`BearerToken`] and
//!   [`Password`], which never print their value.
//! - [`base_url`]: [`BaseUrl`], a tenant's `https://{host}/{org}/{tenant}/`
//!   plus its identity prefix (`identity_` on Automation Cloud and Suite,
//!   `identity` on standalone installs).
//! - [`user_id`]: [`UserId`], the UUID of an Identity user.
//! - [`answers`]: the JSON bodies the API answers with
//!   (`IdentityResult`, `ValidationProblemDetails`).
//! - [`outcome`]: [`ChangePasswordOutcome`], every answer the call can give,
//!   typed by what automation acts on (wrong old password, [`PolicyRule`]s
//!   broken, locked out, unbindable body, …).
//! - [`client`]: [`IdentityClient`], which sends the call, and
//!   [`read_reply`](client::read_reply), how any answer of the API is read.
//! - [`contract`]: the contract's vocabulary (provider states, their
//!   parameters, interaction descriptions) that every provider must know.
//! - [`tls`]: installs the process-wide rustls crypto provider.
//! - [`wire`]: what every call does whatever the server answers: no
//!   redirect to another origin, no body read past a cap.
//!
//! The user administration a verifier needs on a real tenant (tokens by
//! client credentials, creating, listing and deleting users) is not here:
//! it lives in the command-line crate, `orchestrator-pact`, the only user.

#![warn(missing_docs, unreachable_pub)]
// Function length: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]

pub mod answers;
pub mod base_url;
pub mod client;
pub mod contract;
pub mod outcome;
pub mod secret;
pub mod tls;
pub mod user_id;
pub mod wire;

pub use answers::{IdentityError, IdentityResult, ValidationProblem};
pub use base_url::{BaseUrl, BaseUrlError, IdentityPrefix};
pub use client::{ChangePassword, ClientError, IdentityClient, Reply};
pub use outcome::{ChangePasswordOutcome, PolicyRule, Rejection};
pub use secret::{BearerToken, Password, SecretString};
pub use user_id::{UserId, UserIdError};

/// The crate README's example compiles (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;

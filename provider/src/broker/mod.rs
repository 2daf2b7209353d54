//! Sharing pacts through a Pact Broker (or PactFlow): the consumer's build
//! publishes its pacts, a tenant's verification fetches the ones the broker
//! selects and publishes its results back, and every deploy asks the
//! broker's matrix whether it is safe.
//!
//! Hand-written over reqwest: the official `pact-broker-cli` crate would
//! bring hundreds of crates, OpenSSL built from source and a runtime of its
//! own; pact_verifier's own broker support cannot redact results and only
//! logs a failed publication.
//!
//! # Layout
//! - `client`: [`BrokerClient`]: base URL, auth,
//!   the HAL index, retries with back-off, typed errors.
//! - `hal`: links, lists of named links, URI templates.
//! - `publish`: the `publish` command, `POST /contracts/publish`.
//! - `verification`: what `verify --broker-url` adds: pacts for
//!   verification, pending and WIP pacts, publishing results.
//! - `matrix`: the `can-i-deploy` command.
//! - `deployments`: the `record-deployment` command.
//! - `ci_env`: commit, branch and build URL from the CI system or git.
//! - `notices`: the broker's explanations, printed as they come.
//! - `commands`: each command's run from its settings to an exit code
//!   (the flags are parsed in `crate::cli::broker`).

pub(crate) mod ci_env;
pub(crate) mod client;
pub(crate) mod commands;
pub(crate) mod deployments;
pub(crate) mod hal;
pub(crate) mod matrix;
pub(crate) mod notices;
pub(crate) mod publish;
pub(crate) mod verification;

pub use client::{BrokerAuth, BrokerClient, BrokerConfig, BrokerError, RetryPolicy};
pub use deployments::{RecordDeploymentSettings, record_deployment};
pub use matrix::{CanIDeploySettings, DeployTarget, ask};
pub use publish::{PublishError, PublishSettings, publish};
pub use verification::{
    BrokerPact, BrokerVerifySettings, fetch_pacts, publish_results, recommended_selectors,
    record_provider_branch, results_body,
};

//! The command line: clap's types live here only, and each command gets
//! plain typed settings built from them. Flags that mean what one of
//! `pact_verifier_cli`'s means carry its name and environment variable.
//!
//! # Layout
//! - this file: [`Cli`] and [`Command`], the flag groups several commands
//!   share ([`BodyCapArgs`], [`TestUserArgs`]) and the parsers they share.
//! - `verify`: `verify`'s flags, and the one kind of target they describe.
//! - `tenant`: a deployment and its credentials (`verify`, `cleanup`).
//! - `cleanup`, `serve`, `spec` (`check-spec`), `generate`: one command
//!   each.
//! - `broker`: the broker commands, and `verify`'s flags for pacts from a
//!   broker.
//! - `typed`: the command line as typed, read by these definitions: which
//!   value belongs to which flag, so that an argument error can show what
//!   was typed except what may be secret ([`argument_error`]), and the URLs
//!   whose secret parts the run masks ([`given_urls`]).

mod broker;
mod cleanup;
pub(crate) mod generate;
mod serve;
mod spec;
mod tenant;
mod typed;
mod verify;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, Parser, Subcommand};
use uipath_identity_client::{Password, UserId};
use url::Url;

pub use broker::{BrokerArgs, CanIDeployArgs, PublishArgs, RecordDeploymentArgs, VerifyBrokerArgs};
pub use cleanup::CleanupArgs;
pub use serve::ServeArgs;
pub use spec::CheckSpecArgs;
pub use tenant::TenantArgs;
pub use typed::{argument_error, given_urls};
pub use verify::VerifyArgs;

use crate::verify::TestUser;

/// Contract tests for UiPath Identity's "Update User Password" call.
///
/// Exit codes: 0 the contract holds (or success), 1 the contract does not
/// hold, 2 could not check (bad flags or files, unreachable target).
#[derive(Debug, Parser)]
#[command(name = "orchestrator-pact", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log level on stderr: error, warn, info, debug, trace (or a tracing
    /// filter such as `pact_verifier=debug`).
    #[arg(
        short = 'l',
        long = "loglevel",
        alias = "log-level",
        global = true,
        env = "ORCHESTRATOR_PACT_LOG",
        default_value = "warn"
    )]
    pub loglevel: String,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay the pacts against the embedded emulator (no flags) or a running
    /// deployment (`--base-url`), print one line per interaction, and exit 0
    /// (the contract holds), 1 (it does not) or 2 (could not check).
    Verify(Box<VerifyArgs>),
    /// Remove the throwaway users earlier runs left on a tenant (those whose
    /// user name starts with `orchestrator-pact-`), by id; exit 0 when none
    /// is left, 2 when some could not be removed.
    #[command(mut_args(cleanup::in_cleanup_words))]
    Cleanup(Box<CleanupArgs>),
    /// Run the Identity emulator until Ctrl-C: the change-password call under
    /// `/identity_/` and `/identity/` (also below `/{org}/` and
    /// `/{org}/{tenant}/`), and Pact provider states at
    /// `POST /_pact/provider-states`. Prints its URL on stdout's first line.
    Serve(Box<ServeArgs>),
    // --- Pact Broker commands (src/broker/) ---
    /// Publish the pacts to a Pact Broker (or PactFlow) under a consumer
    /// version (the git commit), its branch and build URL; exit 0, or 2 if
    /// the broker refused them.
    #[command(mut_args(broker::body_cap_in_broker_words))]
    Publish(Box<PublishArgs>),
    /// Ask the broker whether a version can be deployed to an environment:
    /// print the matrix and the broker's reason, and exit 0 (yes), 1 (no) or
    /// 2 (could not ask).
    #[command(mut_args(broker::body_cap_in_broker_words))]
    CanIDeploy(Box<CanIDeployArgs>),
    /// Record in the broker that a version now runs in an environment.
    #[command(mut_args(broker::body_cap_in_broker_words))]
    RecordDeployment(Box<RecordDeploymentArgs>),
    /// Check the pacts against the Identity API's own OpenAPI (or Swagger
    /// 2.0) document, offline and without credentials: path, method, path
    /// parameters, security, request body, response status and response
    /// body of every interaction. Prints one line per interaction and
    /// finding; known divergences (`spec-divergences.toml`) print as
    /// warnings. Exits 0 (compatible), 1 (incompatible) or 2 (could not
    /// check: unreadable spec, bad URL, bad pacts).
    #[command(mut_args(spec::in_spec_words))]
    CheckSpec(Box<CheckSpecArgs>),
    /// Show the contract built into this binary (`pacts/` when it was
    /// built: consumer, provider, interactions and the SHA-256 of each
    /// file), or with `--out DIR` write its pact files there, byte for byte,
    /// to publish them, read them, or hand them to another verifier.
    Pacts(PactsArgs),
    /// Print the man page (`generate man | man -l -`) or a shell's
    /// completions (`source <(orchestrator-pact generate complete-bash)`;
    /// also `complete-zsh`, `complete-fish`, `complete-powershell`).
    Generate(generate::GenerateArgs),
}

/// `orchestrator-pact pacts`.
#[derive(Debug, Args)]
pub struct PactsArgs {
    /// Write the built-in pact files into this folder (created if need be;
    /// files of the same name are replaced).
    #[arg(long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `--max-body-size`: the cap on every answer body a command reads. Its own
/// struct, flattened into each command that reads bodies, so that `verify`
/// (tenant and broker flags together) has it once.
#[derive(Clone, Copy, Debug, Args)]
pub struct BodyCapArgs {
    /// The largest answer body read from any server (tenant, token
    /// endpoint, state URL, Pact Broker): bytes, or a number with KiB, MiB
    /// or GiB. A larger answer is not read and the command exits 2.
    #[arg(
        long = "max-body-size",
        value_name = "SIZE",
        env = "ORCHESTRATOR_PACT_MAX_BODY_SIZE",
        default_value = "4MiB",
        value_parser = crate::http::parse_size
    )]
    pub max_body_size: usize,
}

/// An existing user on the tenant: `verify` verifies with it, `cleanup`
/// sets its password back. One set of flags and one pairing check for
/// both; each command words their help (`cleanup::in_cleanup_words`).
#[derive(Debug, Args)]
pub struct TestUserArgs {
    /// Verify with this existing user instead of throwaway users. Its
    /// password is changed by the success interaction and set back after
    /// each interaction as an administrator (`PUT api/User/{id}`), never by
    /// sending an old password.
    #[arg(
        id = "test_user_id",
        long = "test-user-id",
        value_name = "UUID",
        env = "UIPATH_TEST_USER_ID"
    )]
    pub id: Option<String>,
    /// The existing user's current password. Never printed.
    #[arg(
        id = "test_user_password",
        long = "test-user-password",
        value_name = "PASSWORD",
        env = "UIPATH_TEST_USER_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<Password>,
}

impl TestUserArgs {
    /// The user, when both flags are given; neither is no user; one
    /// without the other is refused, naming the one missing.
    pub(crate) fn user(&self) -> anyhow::Result<Option<TestUser>> {
        match (&self.id, &self.password) {
            (Some(id), Some(password)) => Ok(Some(TestUser {
                id: id.parse::<UserId>()?,
                password: password.clone(),
            })),
            (Some(_), None) => {
                bail!("`--test-user-id` needs `--test-user-password` (UIPATH_TEST_USER_PASSWORD)")
            }
            (None, Some(_)) => {
                bail!("`--test-user-password` needs `--test-user-id` (UIPATH_TEST_USER_ID)")
            }
            (None, None) => Ok(None),
        }
    }
}

/// An http(s) URL, the value of every flag that takes one.
fn parse_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| {
        format!(
            "`{value}` is not a URL ({e}): give a whole URL, such as `https://host.example/path`"
        )
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("`{value}` is not an http(s) URL"));
    }
    Ok(url)
}

fn parse_millis(value: &str) -> Result<Duration, String> {
    match value.trim().parse::<u64>() {
        Ok(0) => Err("the time-out must be more than 0 milliseconds".into()),
        Ok(ms) => Ok(Duration::from_millis(ms)),
        Err(_) => Err(format!("`{value}` is not a number of milliseconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn the_test_user_flags_go_in_pairs() {
        let args = |id: Option<&str>, password: Option<&str>| TestUserArgs {
            id: id.map(str::to_owned),
            password: password.map(Password::from),
        };
        let id = "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e";
        assert!(args(None, None).user().unwrap().is_none());
        let user = args(Some(id), Some("Passw0rd-1")).user().unwrap().unwrap();
        assert_eq!(user.id.to_string(), id);
        let no_password = args(Some(id), None).user().unwrap_err().to_string();
        assert!(
            no_password.contains("needs `--test-user-password`"),
            "{no_password}"
        );
        let no_id = args(None, Some("Passw0rd-1"))
            .user()
            .unwrap_err()
            .to_string();
        assert!(no_id.contains("needs `--test-user-id`"), "{no_id}");
        assert!(!no_id.contains("Passw0rd-1"), "{no_id}");
    }

    #[test]
    fn a_url_flag_takes_a_whole_http_url_and_names_the_problem() {
        assert!(parse_url(" https://host.example/a ").is_ok());
        let not_url = parse_url("not a url").unwrap_err();
        assert!(not_url.contains("is not a URL"), "{not_url}");
        let ftp = parse_url("ftp://host.example/").unwrap_err();
        assert!(ftp.contains("is not an http(s) URL"), "{ftp}");
    }
}

//! `orchestrator-pact`: checks that a UiPath Identity deployment honours the
//! change-password contract recorded in `pacts/`, and emulates that API.
//!
//! # Layout
//! Arrows point down only: a module uses modules of the layers below it,
//! never above (`provider/tests/provider/layers.rs` checks it).
//!
//! The command line
//! - [`cli`]: clap's flags, turned into typed settings for each command
//!   (a verify target cannot be an invalid combination of flags).
//!
//! Commands
//! - `verify`: pact sources → typed target → provider states → replay →
//!   teardown → reports → verdict; also `verify::cleanup`.
//! - [`broker`]: a Pact Broker: `publish`, `verify --broker-url` (through
//!   `verify`), `can-i-deploy`, `record-deployment`.
//! - `spec`: checks pacts against the API's OpenAPI document
//!   (`check-spec`).
//! - `serve`: the emulator on a socket until a signal.
//!
//! Target set-up and inputs
//! - `states`: provider-state executors (embedded emulator, state URL,
//!   a real tenant with throwaway users or an existing user).
//! - `tenant`: a real tenant's Identity API around the contract: tokens,
//!   users, retries.
//! - [`emulator`]: the Identity emulator behind `serve` and `verify`.
//! - `sources`: the pact files: `--pacts`, `pacts/`, or the built-in
//!   contract.
//!
//! Shared leaves
//! - [`redact`]: the run's secrets, scrubbed from text in every form.
//! - `http`: the one HTTP client builder (time-outs, TLS, redirects, body
//!   caps).
//! - `retry`: the one retry loop, and which statuses tenant, broker and
//!   state-URL calls retry, with the reasons.
//! - [`logging`]: logs and panics scrubbed of secrets.
//! - `signal`: the production shutdown signal.
//! - the exit codes: [`EXIT_OK`], [`EXIT_BROKEN`], [`EXIT_UNCHECKED`].
//!
//! [`run`] dispatches a parsed command and returns its exit code.

#![warn(missing_docs, unreachable_pub)]
// Function length: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]

pub mod cli;

pub mod broker;
mod serve;
mod spec;
mod verify;

pub use uipath_identity_emulator as emulator;
mod sources;
mod states;
mod tenant;

mod exit;
mod http;
pub mod logging;
pub mod redact;
mod retry;
mod signal;

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;

use cli::Command;
pub use exit::{EXIT_BROKEN, EXIT_OK, EXIT_UNCHECKED};
use redact::Redactor;
pub use verify::report;

/// Runs `command` on a new multi-threaded runtime and returns the process
/// exit code, as [`run`] does. A plain function, so that the whole async
/// call tree is instantiated here, in the library: a `block_on` in
/// `main.rs` made the binary instantiate all of it again (release builds
/// share no generic instantiations between crates), which took as long as
/// compiling the library itself.
pub fn run_blocking(command: Command, redactor: Redactor) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(run(command, redactor))
}

/// Runs `command` and returns the process exit code. Errors are for the
/// caller to print (through `redactor`); they all mean exit 2.
pub async fn run(command: Command, redactor: Redactor) -> anyhow::Result<u8> {
    match command {
        Command::Verify(args) => {
            let from_broker = args.broker.settings()?;
            let (mut settings, hooks) = args.into_settings(redactor)?;
            let mut out = std::io::stdout();
            let mut err = std::io::stderr();
            if std::io::IsTerminal::is_terminal(&err) {
                settings.progress = verify::progress::ProgressStyle::Terminal;
            }
            let shutdown = signal::shutdown();
            let report = match &from_broker {
                Some(broker) => {
                    let (out, err) = (&mut out, &mut err);
                    broker::verification::run(&settings, hooks, broker, out, err, shutdown).await?
                }
                None => verify::run(&settings, hooks, &mut out, &mut err, shutdown).await?,
            };
            let _ = out.flush();
            Ok(report.verdict().exit_code())
        }
        Command::Cleanup(args) => verify::cleanup::run(args.into_settings(redactor)?).await,
        Command::Serve(args) => {
            let (config, port) = args.emulator_config()?;
            let addr = SocketAddr::new(args.host, port);
            serve::run(config, addr, signal::shutdown()).await?;
            Ok(EXIT_OK)
        }
        Command::Publish(args) => {
            let settings = args.into_settings(&broker::commands::build_info())?;
            broker::commands::publish(settings, &redactor).await
        }
        Command::CanIDeploy(args) => {
            broker::commands::can_i_deploy(args.into_settings()?, &redactor).await
        }
        Command::RecordDeployment(args) => {
            broker::commands::record_deployment(args.into_settings()?, &redactor).await
        }
        Command::Pacts(args) => built_in_pacts(&args),
        Command::Generate(args) => cli::generate::run(&args),
        Command::CheckSpec(args) => {
            let settings = args.into_settings()?;
            let mut out = std::io::stdout();
            let report = spec::run(&settings, &mut out).await?;
            let _ = out.flush();
            Ok(report.exit_code())
        }
    }
}

/// `orchestrator-pact pacts`: lists the built-in contract, or writes it out.
fn built_in_pacts(args: &cli::PactsArgs) -> anyhow::Result<u8> {
    let pacts = sources::built_in_parsed()?;
    match &args.out {
        None => {
            for (pact, _) in &pacts {
                println!("{} ({})", pact.describe(), pact.path.display());
            }
        }
        Some(dir) => {
            for path in sources::write_built_in(dir)? {
                println!("wrote {}", path.display());
            }
        }
    }
    Ok(EXIT_OK)
}

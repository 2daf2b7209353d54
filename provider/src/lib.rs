//! `orchestrator-pact`: checks that a UiPath Identity deployment honours the
//! change-password contract recorded in `pacts/`, and emulates that API.
//!
//! # Layout
//! - [`cli`]: the command line, parsed into plain settings.
//! - [`verify`]: replays pacts against a target and reports a verdict.
//! - [`states`]: provider-state executors (embedded emulator, state URL).
//! - [`emulator`]: the Identity emulator behind `serve` and `verify`.
//! - [`broker`]: a Pact Broker: `publish`, `verify --broker-url`,
//!   `can-i-deploy`, `record-deployment`.
//! - [`run`]: runs a parsed command and returns its exit code.

pub mod broker;
pub mod cli;
pub mod emulator;
pub mod states;
pub mod verify;

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;

use cli::{Command, ServeArgs};

/// Exit code: success, or the contract holds.
pub const EXIT_OK: u8 = 0;
/// Exit code: the contract does not hold.
pub const EXIT_BROKEN: u8 = 1;
/// Exit code: could not check (configuration, network, auth).
pub const EXIT_UNCHECKED: u8 = 2;

/// Runs `command` and returns the process exit code. Errors are for the
/// caller to print; they all mean exit 2.
pub async fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Verify(args) => {
            let from_broker = args.broker.settings()?;
            let settings = args.into_settings()?;
            let mut out = std::io::stdout();
            let mut err = std::io::stderr();
            let report = match &from_broker {
                Some(broker) => {
                    broker::verification::run(&settings, broker, &mut out, &mut err).await?
                }
                None => verify::run(&settings, &mut out, &mut err).await?,
            };
            let _ = out.flush();
            Ok(report.verdict().exit_code())
        }
        Command::Serve(args) => serve(args).await.map(|()| EXIT_OK),
        Command::Publish(args) => broker::commands::publish(*args).await,
        Command::CanIDeploy(args) => broker::commands::can_i_deploy(*args).await,
        Command::RecordDeployment(args) => broker::commands::record_deployment(*args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.emulator_config()?;
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("could not listen on {addr}: pick another `--port`, or 0 for any free port")
    })?;
    let bound = listener.local_addr()?;
    // The URL alone on stdout's first line, for scripts; the rest on stderr.
    println!("http://{bound}");
    let _ = std::io::stdout().flush();
    eprintln!(
        "Identity emulator serving {} (provider states at http://{bound}{}); Ctrl-C stops it",
        if config.tokens.is_empty() {
            "any bearer token"
        } else {
            "the given bearer tokens"
        },
        emulator::PROVIDER_STATES_PATH
    );
    if let Some(d) = config.deviation {
        eprintln!("warning: deviating from the contract on purpose: {d:?}");
    }
    let emulator = emulator::Emulator::new(config);
    emulator::serve(listener, emulator, shutdown_signal())
        .await
        .context("the emulator stopped")
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

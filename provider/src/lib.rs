//! `orchestrator-pact`: checks that a UiPath Identity deployment honours the
//! change-password contract recorded in `pacts/`, and emulates that API.
//!
//! # Layout
//! - [`cli`]: the command line, parsed into plain settings.
//! - [`verify`]: replays pacts against a target and reports a verdict.
//! - [`spec`]: checks pacts against the API's OpenAPI document (`check-spec`).
//! - [`states`]: provider-state executors (embedded emulator, state URL).
//! - [`emulator`]: the Identity emulator behind `serve` and `verify`.
//! - [`run`]: runs a parsed command and returns its exit code.

pub mod cli;
pub mod emulator;
pub mod spec;
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
            let settings = args.into_settings()?;
            let mut out = std::io::stdout();
            let mut err = std::io::stderr();
            let report = verify::run(&settings, &mut out, &mut err).await?;
            let _ = out.flush();
            Ok(report.verdict().exit_code())
        }
        Command::Serve(args) => serve(args).await.map(|()| EXIT_OK),
        Command::CheckSpec(args) => {
            let settings = args.into_settings()?;
            let mut out = std::io::stdout();
            let report = spec::run(&settings, &mut out).await?;
            let _ = out.flush();
            Ok(report.exit_code())
        }
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

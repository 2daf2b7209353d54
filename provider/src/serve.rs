//! `orchestrator-pact serve`: the Identity emulator on a socket, until a
//! signal.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;

use crate::emulator::{self, EmulatorConfig};

/// Serves the emulator configured by `config` on `addr` until `shutdown`
/// completes. Prints its URL alone on stdout's first line.
pub(crate) async fn run(
    config: EmulatorConfig,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("could not listen on {addr}: pick another `--port`, or 0 for any free port")
    })?;
    let bound = listener.local_addr()?;
    // The URL alone on stdout's first line, for scripts; the rest on stderr.
    println!("http://{bound}");
    let _ = std::io::stdout().flush();
    eprintln!(
        "Identity emulator: {}; organization {}; provider states at http://{bound}{}{}; Ctrl-C stops it",
        if config.is_open() {
            "any bearer token accepted".to_owned()
        } else {
            format!(
                "{} static token(s), {} client(s) at http://{bound}/identity_/connect/token",
                config.tokens.len(),
                config.clients.len()
            )
        },
        config.first_organization(),
        emulator::PROVIDER_STATES_PATH,
        if config.admin {
            "; admin endpoints at /_admin/"
        } else {
            ""
        },
    );
    if let Some(d) = config.deviation {
        eprintln!("warning: deviating from the contract on purpose: {d:?}");
    }
    let emulator = emulator::Emulator::new(config);
    emulator::serve(listener, emulator, shutdown)
        .await
        .context("the emulator stopped")
}

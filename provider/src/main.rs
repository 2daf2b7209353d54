//! The `orchestrator-pact` binary: parse, set up logging, run, exit.

use std::process::ExitCode;

use clap::Parser;
use provider::cli::Cli;
use provider::logging::{ScrubbingStderr, install_scrubbing_panic_hook};
use provider::verify::redact::Redactor;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    if std::env::var_os("PACT_DO_NOT_TRACK").is_none() {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("PACT_DO_NOT_TRACK", "true") };
    }
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.loglevel).unwrap_or_else(|_| {
        eprintln!(
            "warning: `--loglevel {}` is not a log level; using `warn`",
            cli.loglevel
        );
        EnvFilter::new("warn")
    });
    // Every secret is added to this one redactor as it is read or made; logs,
    // panics, reports and errors all pass through it.
    let redactor = Redactor::default();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(ScrubbingStderr::new(redactor.clone()))
        .init();
    install_scrubbing_panic_hook(redactor.clone());
    match provider::run_blocking(cli.command, redactor.clone()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", redactor.scrub(&format!("{e:#}")));
            ExitCode::from(provider::EXIT_UNCHECKED)
        }
    }
}

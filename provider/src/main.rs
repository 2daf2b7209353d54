//! The `orchestrator-pact` binary: parse, set up logging, run, exit.

// Function length: the threshold is in clippy.toml.
#![warn(clippy::too_many_lines)]

use std::process::ExitCode;

use clap::Parser;
use orchestrator_pact::cli::{Cli, argument_error, given_urls};
use orchestrator_pact::logging::{ScrubbingStderr, colour_wanted, install_scrubbing_panic_hook};
use orchestrator_pact::redact::Redactor;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    if std::env::var_os("PACT_DO_NOT_TRACK").is_none() {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("PACT_DO_NOT_TRACK", "true") };
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // --help and --version.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprint!("{}", argument_error(&e, &args));
            return ExitCode::from(orchestrator_pact::EXIT_UNCHECKED);
        }
    };
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
    // A URL's password, query and fragment (`--base-url …?token=…`, in a
    // flag or its variable) are masked wherever the URL is shown, however
    // short: the errors that refuse a URL quote it.
    for url in given_urls(&args, |name| std::env::var(name).ok()) {
        redactor.add_url(&url);
    }
    let ansi = colour_wanted(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(ScrubbingStderr::new(redactor.clone()))
        .init();
    install_scrubbing_panic_hook(redactor.clone());
    match orchestrator_pact::run_blocking(cli.command, redactor.clone()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", redactor.scrub(&format!("{e:#}")));
            ExitCode::from(orchestrator_pact::EXIT_UNCHECKED)
        }
    }
}

//! `orchestrator-pact`: checks that a UiPath Identity deployment honours the
//! change-password contract recorded in `pacts/`, and emulates that API.
//!
//! # Layout
//! - [`cli`]: the command line, parsed into plain settings.
//! - [`verify`]: replays pacts against a target and reports a verdict.
//! - [`spec`]: checks pacts against the API's OpenAPI document (`check-spec`).
//! - [`states`]: provider-state executors (embedded emulator, state URL,
//!   a real tenant with throwaway users or an existing user).
//! - [`tenant`]: a real tenant's Identity API around the contract: tokens,
//!   users, retries.
//! - [`emulator`]: the Identity emulator behind `serve` and `verify`.
//! - [`logging`]: logs scrubbed of secrets.
//! - [`http`]: the one HTTP client builder (time-outs, TLS, redirects, body
//!   caps).
//! - [`redact`]: the run's secrets, scrubbed from text in every form.
//! - [`retry`]: the one retry loop, and which statuses tenant, broker and
//!   state-URL calls retry, with the reasons.
//! - [`broker`]: a Pact Broker: `publish`, `verify --broker-url`,
//!   `can-i-deploy`, `record-deployment`.
//! - [`run`]: runs a parsed command and returns its exit code.

pub mod broker;
pub mod cli;
pub mod emulator;
pub mod http;
pub mod logging;
pub mod redact;
pub mod retry;
pub mod spec;
pub mod states;
pub mod tenant;
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

/// Runs `command` on a new multi-threaded runtime and returns the process
/// exit code, as [`run`] does. A plain function, so that the whole async
/// call tree is instantiated here, in the library: a `block_on` in
/// `main.rs` made the binary instantiate all of it again (release builds
/// share no generic instantiations between crates), which took as long as
/// compiling the library itself.
pub fn run_blocking(command: Command, redactor: verify::redact::Redactor) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(run(command, redactor))
}

/// Runs `command` and returns the process exit code. Errors are for the
/// caller to print (through `redactor`); they all mean exit 2.
pub async fn run(command: Command, redactor: verify::redact::Redactor) -> anyhow::Result<u8> {
    match command {
        Command::Verify(args) => {
            let from_broker = args.broker.settings()?;
            let mut settings = args.into_settings(redactor)?;
            let mut out = std::io::stdout();
            let mut err = std::io::stderr();
            if std::io::IsTerminal::is_terminal(&err) {
                settings.progress = verify::progress::ProgressStyle::Terminal;
            }
            let report = match &from_broker {
                Some(broker) => {
                    broker::verification::run(
                        &settings,
                        broker,
                        &mut out,
                        &mut err,
                        shutdown_signal(),
                    )
                    .await?
                }
                None => verify::run(&settings, &mut out, &mut err, shutdown_signal()).await?,
            };
            let _ = out.flush();
            Ok(report.verdict().exit_code())
        }
        Command::Cleanup(args) => cleanup(*args, redactor).await,
        Command::Serve(args) => serve(*args).await.map(|()| EXIT_OK),
        Command::Publish(args) => broker::commands::publish(*args, &redactor).await,
        Command::CanIDeploy(args) => broker::commands::can_i_deploy(*args, &redactor).await,
        Command::RecordDeployment(args) => {
            broker::commands::record_deployment(*args, &redactor).await
        }
        Command::Pacts(args) => built_in_pacts(&args),
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
    let pacts = verify::sources::built_in_parsed()?;
    match &args.out {
        None => {
            for (pact, _) in &pacts {
                println!("{} ({})", pact.describe(), pact.path.display());
            }
        }
        Some(dir) => {
            for path in verify::sources::write_built_in(dir)? {
                println!("wrote {}", path.display());
            }
        }
    }
    Ok(EXIT_OK)
}

async fn cleanup(args: cli::CleanupArgs, redactor: verify::redact::Redactor) -> anyhow::Result<u8> {
    let mut settings = verify::VerifySettings {
        redactor: redactor.clone(),
        ..verify::VerifySettings::default()
    };
    args.tenant.apply(&mut settings)?;
    let test_user = args.test_user()?;
    if let Some(user) = &test_user {
        redactor.add(user.password.secret());
    }
    let verify::Target::Url(url) = &settings.target else {
        anyhow::bail!(
            "`cleanup` needs the tenant: `--base-url` (or UIPATH_URI, UIPATH_ORGANIZATION, UIPATH_TENANT)"
        );
    };
    if settings.organization_id.is_none() && test_user.is_none() {
        anyhow::bail!(
            "`cleanup` needs the organization id users were created in: `--organization-id` (UIPATH_ORGANIZATION_ID); or, to set an existing user's password back, `--test-user-id` and `--test-user-password`"
        );
    }
    let tenant = verify::connect_tenant(&settings, url).await?;
    let mut failed = 0usize;
    if let Some(user) = &test_user {
        if args.dry_run {
            println!("would set the password of {} back", user.id);
        } else {
            match tenant.set_password(&user.id, &user.password).await {
                Ok(()) => println!("set the password of {} back", user.id),
                Err(e) => {
                    failed += 1;
                    eprintln!(
                        "error: could not set the password of {} back: {}",
                        user.id,
                        redactor.scrub(&e.to_string())
                    );
                }
            }
        }
        if settings.organization_id.is_none() {
            return Ok(if failed == 0 { EXIT_OK } else { EXIT_UNCHECKED });
        }
    }
    let listing = tenant
        .users_with_prefix(&args.prefix, &mut |p| {
            eprintln!(
                "listing users: page {}, {} listed of {} the tenant counts, {} to remove",
                p.pages, p.listed, p.total, p.matching
            );
        })
        .await?;
    if let Some(why) = &listing.incomplete {
        eprintln!(
            "warning: the listing stopped early: {why}. The users found are handled; run `cleanup` again for the rest"
        );
    }
    let found = listing.users;
    let incomplete = listing.incomplete.is_some();
    if found.is_empty() {
        println!(
            "no users whose name starts with `{}`: nothing to remove",
            args.prefix
        );
        return Ok(if failed == 0 && !incomplete {
            EXIT_OK
        } else {
            EXIT_UNCHECKED
        });
    }
    let mut removed = 0usize;
    for user in &found {
        let id = uipath_identity_client::UserId::from(user.id);
        let name = user.user_name.clone().unwrap_or_default();
        if args.dry_run {
            println!("would remove {id} ({name})");
            continue;
        }
        match tenant.delete_user(&id).await {
            Ok(_) => {
                removed += 1;
                println!("removed {id} ({name})");
            }
            Err(e) => {
                failed += 1;
                eprintln!(
                    "could not remove {id} ({name}): {}",
                    redactor.scrub(&e.to_string())
                );
            }
        }
    }
    if args.dry_run {
        println!(
            "{} user(s) would be removed (dry run: nothing was)",
            found.len()
        );
        return Ok(if incomplete { EXIT_UNCHECKED } else { EXIT_OK });
    }
    println!(
        "{removed} user(s) removed, {} could not be",
        found.len() - removed
    );
    Ok(if failed == 0 && !incomplete {
        EXIT_OK
    } else {
        EXIT_UNCHECKED
    })
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (config, port) = args.emulator_config()?;
    let addr = SocketAddr::new(args.host, port);
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
    emulator::serve(listener, emulator, shutdown_signal())
        .await
        .context("the emulator stopped")
}

/// Completes on Ctrl-C, SIGTERM (Unix) or Ctrl-Break (Windows). On Unix the
/// handlers are installed when this is called, not when the future is first
/// polled: a signal that comes before the first poll (the pact library can
/// hold the thread) is kept for it, instead of the default action killing
/// the process before it cleans up the tenant.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async fn received(signal: Option<Signal>) {
            match signal {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        async move {
            tokio::select! {
                () = received(term) => {},
                () = received(interrupt) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        // A Windows build agent cancelling a job sends Ctrl-Break.
        #[cfg(windows)]
        let term = async {
            match tokio::signal::windows::ctrl_break() {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(windows))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = term => {},
        }
    }
}

//! `orchestrator-pact verify`: replays pact files against a deployment.
//!
//! The path of one run: pact sources → target (embedded emulator or URL) →
//! state executor → request filter (credentials) →
//! `pact_verifier::verify_provider_async` → report (console, JUnit, JSON,
//! all through the [`redact::Redactor`]) → [`report::Verdict`].

pub mod auth;
pub mod quiet;
pub mod redact;
pub mod report;
pub mod sources;
pub mod target;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use consumer::BearerToken;
use pact_verifier::{FilterInfo, VerificationOptions, verify_provider_async};
use url::Url;

use crate::emulator::{self, EmulatorConfig};
use crate::states::StateExecutor;
use auth::InjectBearer;
use redact::Redactor;
use report::Report;
pub use sources::PactBatch;
use sources::{PactFile, SourceError};
pub use target::Target;

/// Everything one verification needs, parsed and checked.
#[derive(Clone, Debug)]
pub struct VerifySettings {
    /// Pact files or folders of them.
    pub pacts: Vec<PathBuf>,
    /// Where the requests go.
    pub target: Target,
    /// The bearer token injected where a pact's request has `Authorization`.
    pub token: Option<BearerToken>,
    /// Where to post provider states (Pact's protocol), for a URL target.
    pub state_change_url: Option<Url>,
    /// Whether to post teardowns too.
    pub state_change_teardown: bool,
    /// Only interactions whose description matches this regex.
    pub filter_description: Option<String>,
    /// Only interactions whose provider state matches this regex.
    pub filter_state: Option<String>,
    /// Where to write a JUnit report.
    pub junit: Option<PathBuf>,
    /// Where to write a JSON report.
    pub json: Option<PathBuf>,
    /// Time-out of each request to the provider and to the state URL.
    pub request_timeout: Duration,
    /// Accept any TLS certificate.
    pub disable_ssl_verification: bool,
    /// Also print the pact library's own report.
    pub verbose: bool,
    /// Keep the pact library's `println!` report off stdout (the binary
    /// does; tests running in threads must not).
    pub silence_library_stdout: bool,
    /// How the embedded emulator behaves.
    pub emulator: EmulatorConfig,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            pacts: vec![PathBuf::from("pacts")],
            target: Target::Embedded,
            token: None,
            state_change_url: None,
            state_change_teardown: true,
            filter_description: None,
            filter_state: None,
            junit: None,
            json: None,
            request_timeout: Duration::from_secs(30),
            disable_ssl_verification: false,
            verbose: false,
            silence_library_stdout: false,
            emulator: EmulatorConfig::default(),
        }
    }
}

/// Why a verification could not be run (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The pact files.
    #[error(transparent)]
    Sources(#[from] SourceError),
    /// A filter that is not a regular expression.
    #[error("`{flag}` is not a valid regular expression: {reason}")]
    BadFilter {
        /// The flag.
        flag: &'static str,
        /// The regex parser's words.
        reason: String,
    },
    /// Flags that do not go together.
    #[error("{0}")]
    Flags(String),
    /// The target did not answer at all.
    #[error(
        "could not reach {url}: {reason}. Check that the deployment is running and that `--base-url` is right"
    )]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The embedded emulator could not start.
    #[error("could not start the embedded emulator on 127.0.0.1: {0}")]
    Emulator(#[source] std::io::Error),
    /// A report could not be written.
    #[error("could not write the report `{path}`: {reason}")]
    Report {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The pact library failed as a whole.
    #[error("the verifier failed: {0}")]
    Library(String),
}

fn filter(settings: &VerifySettings) -> Result<FilterInfo, VerifyError> {
    for (flag, value) in [
        ("--filter-description", &settings.filter_description),
        ("--filter-state", &settings.filter_state),
    ] {
        if let Some(re) = value {
            // The pact library unwraps these regexes: check them first.
            regex::Regex::new(re).map_err(|e| VerifyError::BadFilter {
                flag,
                reason: e.to_string(),
            })?;
        }
    }
    Ok(
        match (
            settings.filter_description.clone(),
            settings.filter_state.clone(),
        ) {
            (None, None) => FilterInfo::None,
            (Some(d), None) => FilterInfo::Description(d),
            (None, Some(s)) => FilterInfo::State(s),
            (Some(d), Some(s)) => FilterInfo::DescriptionAndState(d, s),
        },
    )
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

/// Checks that something answers HTTP at `url`; any status will do.
async fn probe(url: &Url, settings: &VerifySettings) -> Result<(), VerifyError> {
    consumer::tls::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(settings.request_timeout)
        .danger_accept_invalid_certs(settings.disable_ssl_verification)
        .build()
        .map_err(|e| VerifyError::Library(e.to_string()))?;
    client
        .get(url.clone())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| VerifyError::Unreachable {
            url: url.to_string(),
            reason: error_chain(&e),
        })
}

fn write_report(path: &PathBuf, contents: &str) -> Result<(), VerifyError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| VerifyError::Report {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    }
    std::fs::write(path, contents).map_err(|e| VerifyError::Report {
        path: path.clone(),
        reason: e.to_string(),
    })
}

/// Verifies every pact of `settings` and reports on `out` (the console
/// report) and `progress` (what is happening, for the impatient).
pub async fn run(
    settings: &VerifySettings,
    out: &mut (dyn Write + Send),
    progress: &mut (dyn Write + Send),
) -> Result<Report, VerifyError> {
    filter(settings)?;
    let pacts: Vec<PactFile> = sources::discover(&settings.pacts)?;
    let batch = PactBatch::files(&pacts);
    let (mut reports, redactor) =
        verify_batches(settings, vec![batch], Redactor::default(), progress).await?;
    let report = reports.pop().unwrap_or_default();
    print_console(settings, &report, &redactor, out);
    write_reports(settings, &report, &redactor)?;
    Ok(report)
}

/// Sets up the target of `settings` once, verifies each batch against it
/// with its own call of the pact library, and returns one report per batch
/// with the redactor that knows every secret of the run (`redactor` comes
/// in with the caller's own secrets, such as a broker token). Prints only
/// progress.
pub async fn verify_batches(
    settings: &VerifySettings,
    batches: Vec<PactBatch>,
    mut redactor: Redactor,
    progress: &mut (dyn Write + Send),
) -> Result<(Vec<Report>, Redactor), VerifyError> {
    let filter = filter(settings)?;
    if let Some(token) = &settings.token {
        redactor.add(token.secret());
    }

    // The target, its credentials and its provider states.
    let mut embedded = None;
    let (url, token, states, target_name) = match &settings.target {
        Target::Embedded => {
            if settings.state_change_url.is_some() {
                return Err(VerifyError::Flags(
                    "`--state-change-url` needs `--base-url`: the embedded emulator sets up its own states".into(),
                ));
            }
            // The embedded emulator accepts one random token, which the
            // request filter injects: the same path a live token takes.
            let token = settings.token.clone().unwrap_or_else(|| {
                BearerToken::new(format!("embedded-{}", uuid::Uuid::new_v4().simple()))
            });
            redactor.add(token.secret());
            let config = EmulatorConfig {
                tokens: vec![token.clone()],
                ..settings.emulator.clone()
            };
            let handle = emulator::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .await
                .map_err(VerifyError::Emulator)?;
            let url = Url::parse(&handle.url()).expect("the emulator's URL parses");
            let states = StateExecutor::Emulator(handle.emulator.clone());
            let name = format!("the embedded emulator at {}", handle.url());
            embedded = Some(handle);
            (url, Some(token), states, name)
        }
        Target::Url(url) => {
            probe(url, settings).await?;
            let states = match &settings.state_change_url {
                Some(state_url) => {
                    StateExecutor::http(state_url.to_string(), settings.state_change_teardown, 3)
                }
                None => {
                    let _ = writeln!(
                        progress,
                        "note: no --state-change-url: provider states are not set up, and each interaction sends the user and passwords recorded in the pact"
                    );
                    StateExecutor::Recorded
                }
            };
            (url.clone(), settings.token.clone(), states, url.to_string())
        }
    };

    let interactions: usize = batches.iter().map(|b| b.interactions).sum();
    let _ = writeln!(
        progress,
        "verifying {interactions} interactions from {} pact(s) against {target_name}",
        batches.iter().map(|b| b.pacts).sum::<usize>(),
    );
    let options = VerificationOptions {
        request_filter: Some(Arc::new(InjectBearer::new(token))),
        disable_ssl_verification: settings.disable_ssl_verification,
        request_timeout: settings.request_timeout.as_millis().min(u64::MAX as u128) as u64,
        coloured_output: false,
        no_pacts_is_error: true,
        ..VerificationOptions::default()
    };
    let executor = Arc::new(states);

    let mut results = Vec::with_capacity(batches.len());
    for batch in batches {
        let provider = target::provider_info(&batch.provider, &url);
        let result = {
            let _silenced = if settings.silence_library_stdout {
                quiet::SilencedStdout::new()
            } else {
                None
            };
            verify_provider_async(
                provider,
                batch.sources,
                filter.clone(),
                vec![],
                &options,
                None,
                &executor,
                None,
            )
            .await
        };
        let failed = result.is_err();
        results.push(result);
        if failed {
            break;
        }
    }
    if let Some(handle) = embedded {
        handle.stop().await;
    }
    let mut reports = Vec::with_capacity(results.len());
    for result in results {
        let result = result.map_err(|e| VerifyError::Library(redactor.scrub(&format!("{e:#}"))))?;
        reports.push(Report::from_result(target_name.clone(), &result));
    }
    Ok((reports, redactor))
}

/// Prints a report on the console: the pact library's own lines with
/// `--verbose`, then one line per interaction and the summary.
pub fn print_console(
    settings: &VerifySettings,
    report: &Report,
    redactor: &Redactor,
    out: &mut (dyn Write + Send),
) {
    if settings.verbose {
        for line in &report.library_output {
            let _ = writeln!(out, "{}", redactor.scrub(line));
        }
    }
    let _ = write!(out, "{}", report.console(redactor));
}

/// Writes the JUnit and JSON reports `settings` asks for.
pub fn write_reports(
    settings: &VerifySettings,
    report: &Report,
    redactor: &Redactor,
) -> Result<(), VerifyError> {
    if let Some(path) = &settings.junit {
        write_report(path, &report.junit(redactor))?;
    }
    if let Some(path) = &settings.json {
        let json =
            serde_json::to_string_pretty(&report.json(redactor)).expect("a JSON value serialises");
        write_report(path, &json)?;
    }
    Ok(())
}

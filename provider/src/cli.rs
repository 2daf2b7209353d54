//! The command line. Flags that mean what one of `pact_verifier_cli`'s
//! means carry its name and environment variable.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, Parser, Subcommand};
use consumer::{BaseUrl, BearerToken, IdentityPrefix};
use url::Url;

use crate::emulator::{Deviation, EmulatorConfig, PasswordPolicy};
use crate::spec::{CheckSpecSettings, SpecSource};
use crate::verify::{Target, VerifySettings};

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
    /// Run the Identity emulator until Ctrl-C: the change-password call under
    /// `/identity_/` and `/identity/` (also below `/{org}/` and
    /// `/{org}/{tenant}/`), and Pact provider states at
    /// `POST /_pact/provider-states`. Prints its URL on stdout's first line.
    Serve(ServeArgs),
    /// Check the pacts against the Identity API's own OpenAPI (or Swagger
    /// 2.0) document, offline and without credentials: path, method, path
    /// parameters, security, request body, response status and response
    /// body of every interaction. Prints one line per interaction and
    /// finding; known divergences (`spec-divergences.toml`) print as
    /// warnings. Exits 0 (compatible), 1 (incompatible) or 2 (could not
    /// check: unreadable spec, bad URL, bad pacts).
    CheckSpec(CheckSpecArgs),
}

fn parse_token(value: &str) -> Result<BearerToken, String> {
    let value = value.trim();
    let value = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(value);
    if value.is_empty() {
        Err("the token is empty".into())
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("the token contains whitespace or control characters: pass the token alone, without `Bearer`".into())
    } else {
        Ok(BearerToken::new(value))
    }
}

fn parse_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("`{value}` is not a URL ({e}): give one such as `http://127.0.0.1:8080/_pact/provider-states`"))?;
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

/// `orchestrator-pact verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A pact file, or a folder of them (*.json). Repeatable.
    #[arg(long = "pacts", value_name = "PATH", default_value = "pacts")]
    pub pacts: Vec<PathBuf>,
    /// A running deployment to verify instead of the embedded emulator:
    /// the tenant's URL, such as `https://cloud.uipath.com/myorg/mytenant/`,
    /// or an emulator's, such as `http://127.0.0.1:8080/`.
    #[arg(
        long = "base-url",
        value_name = "URL",
        env = "ORCHESTRATOR_PACT_BASE_URL"
    )]
    pub base_url: Option<String>,
    /// Whether the Identity API lives under `identity_` (Automation Cloud,
    /// Automation Suite) or `identity` (standalone). The pacts record
    /// `identity_`.
    #[arg(
        long = "identity-prefix",
        value_name = "PREFIX",
        default_value = "identity_"
    )]
    pub identity_prefix: String,
    /// Bearer token (or Personal Access Token) sent as
    /// `Authorization: Bearer …` in every request whose pact has that
    /// header; the request without one stays anonymous. Never printed.
    #[arg(long = "token", value_name = "TOKEN", env = "UIPATH_PAT", hide_env_values = true, value_parser = parse_token)]
    pub token: Option<BearerToken>,
    /// URL to post provider states to, as the Pact CLI does: `{"state",
    /// "params", "action"}`; its JSON answer supplies `userId`,
    /// `oldPassword` and `newPassword`. For `orchestrator-pact serve` it is
    /// `{URL}/_pact/provider-states`.
    #[arg(short = 's', long = "state-change-url", value_name = "URL", env = "PACT_PROVIDER_STATE_CHANGE_URL", value_parser = parse_url)]
    pub state_change_url: Option<Url>,
    /// Also post a teardown (`"action": "teardown"`) after each interaction.
    #[arg(
        long = "state-change-teardown",
        env = "PACT_PROVIDER_STATE_CHANGE_TEARDOWN"
    )]
    pub state_change_teardown: bool,
    /// Only verify interactions whose description matches this regex.
    #[arg(
        long = "filter-description",
        value_name = "REGEX",
        env = "PACT_DESCRIPTION"
    )]
    pub filter_description: Option<String>,
    /// Only verify interactions whose provider state matches this regex.
    #[arg(
        long = "filter-state",
        value_name = "REGEX",
        env = "PACT_PROVIDER_STATE"
    )]
    pub filter_state: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(
        short = 'x',
        long = "junit",
        value_name = "FILE",
        env = "PACT_VERIFIER_JUNIT_REPORT"
    )]
    pub junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(
        short = 'j',
        long = "json",
        value_name = "FILE",
        env = "PACT_VERIFIER_JSON_REPORT"
    )]
    pub json: Option<PathBuf>,
    /// Time-out of each request to the deployment and to the state URL, in
    /// milliseconds.
    #[arg(long = "request-timeout", value_name = "MS", env = "PACT_PROVIDER_REQUEST_TIMEOUT", default_value = "30000", value_parser = parse_millis)]
    pub request_timeout: Duration,
    /// Accept any TLS certificate (self-signed test deployments only).
    #[arg(
        long = "disable-ssl-verification",
        alias = "insecure",
        env = "UIPATH_INSECURE"
    )]
    pub disable_ssl_verification: bool,
    /// Also print the pact library's own detailed report.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
}

impl VerifyArgs {
    /// Checks the flags and turns them into settings.
    pub fn into_settings(self) -> anyhow::Result<VerifySettings> {
        let prefix: IdentityPrefix = self.identity_prefix.parse()?;
        if prefix != IdentityPrefix::Cloud {
            bail!(
                "`--identity-prefix identity` is not supported yet: the pacts record `identity_`; verify a standalone install through a proxy that maps `/identity_/` to `/identity/`"
            );
        }
        let target = match &self.base_url {
            Some(url) => Target::Url(BaseUrl::parse(url, prefix)?.url().clone()),
            None => Target::Embedded,
        };
        if self.state_change_teardown && self.state_change_url.is_none() {
            bail!("`--state-change-teardown` needs `--state-change-url`");
        }
        Ok(VerifySettings {
            pacts: self.pacts,
            target,
            token: self.token,
            state_change_url: self.state_change_url,
            state_change_teardown: self.state_change_teardown,
            filter_description: self.filter_description,
            filter_state: self.filter_state,
            junit: self.junit,
            json: self.json,
            request_timeout: self.request_timeout,
            disable_ssl_verification: self.disable_ssl_verification,
            verbose: self.verbose,
            silence_library_stdout: true,
            emulator: EmulatorConfig::default(),
        })
    }
}

/// `orchestrator-pact serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one (printed on start).
    #[arg(
        long = "port",
        short = 'p',
        value_name = "N",
        default_value_t = 0,
        env = "ORCHESTRATOR_PACT_PORT"
    )]
    pub port: u16,
    /// Address to listen on.
    #[arg(long = "host", value_name = "IP", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// A bearer token to accept. Repeatable. With none, any bearer token is
    /// accepted (calls without one still get 401).
    #[arg(long = "token", value_name = "TOKEN", value_parser = parse_token)]
    pub tokens: Vec<BearerToken>,
    /// Minimum length of a new password.
    #[arg(long = "min-password-length", value_name = "N", default_value_t = PasswordPolicy::default().min_length)]
    pub min_password_length: usize,
    /// Largest request body read, in bytes; larger gets 413.
    #[arg(long = "max-body-bytes", value_name = "N", default_value_t = crate::emulator::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Break the contract on purpose, to prove that a gate goes red.
    #[arg(long = "deviate", value_name = "HOW", value_enum)]
    pub deviate: Option<Deviation>,
}

impl ServeArgs {
    /// The emulator's configuration from the flags.
    pub fn emulator_config(&self) -> anyhow::Result<EmulatorConfig> {
        if self.min_password_length == 0 {
            bail!("`--min-password-length` must be at least 1");
        }
        if self.max_body_bytes < 64 {
            bail!("`--max-body-bytes` must be at least 64");
        }
        Ok(EmulatorConfig {
            policy: PasswordPolicy {
                min_length: self.min_password_length,
                ..PasswordPolicy::default()
            },
            tokens: self.tokens.clone(),
            max_body_bytes: self.max_body_bytes,
            deviation: self.deviate,
        })
    }
}

/// `orchestrator-pact check-spec`.
#[derive(Debug, Args)]
pub struct CheckSpecArgs {
    /// The Identity API's OpenAPI 3.0 or Swagger 2.0 document, YAML or
    /// JSON: a file, or an http(s) URL such as a tenant's
    /// `https://cloud.uipath.com/{org}/identity_/swagger/external/swagger.json`.
    #[arg(long = "spec", value_name = "FILE|URL", env = "ORCHESTRATOR_PACT_SPEC")]
    pub spec: Option<String>,
    /// A pact file, or a folder of them (*.json). Repeatable.
    #[arg(long = "pacts", value_name = "PATH", default_value = "pacts")]
    pub pacts: Vec<PathBuf>,
    /// The first segment of the pacts' paths, which the spec's paths are
    /// relative to: `identity_` (Automation Cloud, Automation Suite) or
    /// `identity` (standalone). A path that does not start with it is a
    /// finding.
    #[arg(
        long = "identity-prefix",
        value_name = "PREFIX",
        default_value = "identity_"
    )]
    pub identity_prefix: String,
    /// A list of known divergences to use instead of the built-in
    /// `spec-divergences.toml`; an empty file excuses nothing.
    #[arg(long = "divergences", value_name = "FILE")]
    pub divergences: Option<PathBuf>,
    /// Also write the findings as JSON here.
    #[arg(short = 'j', long = "json", value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Time-out of fetching `--spec URL`, in milliseconds.
    #[arg(long = "request-timeout", value_name = "MS", default_value = "30000", value_parser = parse_millis)]
    pub request_timeout: Duration,
}

impl CheckSpecArgs {
    /// Checks the flags and turns them into settings.
    pub fn into_settings(self) -> anyhow::Result<CheckSpecSettings> {
        let Some(spec) = self.spec.as_deref() else {
            bail!(
                "no OpenAPI document to check against: pass `--spec FILE|URL` (a tenant serves it at `https://{{host}}/{{org}}/identity_/swagger/external/swagger.json`) or set ORCHESTRATOR_PACT_SPEC"
            );
        };
        Ok(CheckSpecSettings {
            spec: SpecSource::parse(spec)?,
            pacts: self.pacts,
            prefix: self.identity_prefix.parse()?,
            divergences: self.divergences,
            json: self.json,
            request_timeout: self.request_timeout,
        })
    }
}

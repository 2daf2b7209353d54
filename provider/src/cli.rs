//! The command line. Flags that mean what one of `pact_verifier_cli`'s
//! means carry its name and environment variable.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, Parser, Subcommand};
use consumer::{BaseUrl, BearerToken, IdentityPrefix};
use url::Url;

use crate::emulator::config::{ClientSpec, ConfigFile, SeedUser, StaticToken};
use crate::emulator::faults::FaultRule;
use crate::emulator::{Deviation, EmulatorConfig};
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
    Serve(Box<ServeArgs>),
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
#[command(after_long_help = SERVE_HELP)]
pub struct ServeArgs {
    /// A TOML (or .json) file with any of the settings below, plus password
    /// policy classes and fault rules; flags add to it or override it. See
    /// the file format after the flags.
    #[arg(long = "config", value_name = "FILE", env = "ORCHESTRATOR_PACT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Port to listen on; 0 picks a free one (printed on start).
    #[arg(
        long = "port",
        short = 'p',
        value_name = "N",
        env = "ORCHESTRATOR_PACT_PORT"
    )]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long = "host", value_name = "IP", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// A static bearer token (a Personal Access Token) with its scopes,
    /// comma-separated; all user scopes (PM.User, PM.User.Read,
    /// PM.User.Write) unless listed. Repeatable. With no tokens and no
    /// clients, any bearer token is accepted with every user scope.
    #[arg(long = "token", value_name = "TOKEN[:SCOPES]")]
    pub tokens: Vec<StaticToken>,
    /// A client-credentials application for `POST …/connect/token`, with the
    /// scopes it may be granted (all user scopes unless listed). Repeatable.
    #[arg(long = "client", value_name = "ID:SECRET[:SCOPES]")]
    pub clients: Vec<ClientSpec>,
    /// An organization (partition) id users can be created in. Repeatable;
    /// the first receives seeded and provider-state users.
    #[arg(long = "organization-id", value_name = "UUID")]
    pub organizations: Vec<uuid::Uuid>,
    /// A user that exists from the start, in the first organization.
    /// Repeatable.
    #[arg(long = "user", value_name = "UUID:PASSWORD")]
    pub users: Vec<SeedUser>,
    /// Minimum length of a new password (default 8).
    #[arg(long = "min-password-length", value_name = "N")]
    pub min_password_length: Option<usize>,
    /// Consecutive failed password checks that lock a user until an unlock
    /// (`POST /_admin/users/{id}/unlock`) or a restart; 0 never locks
    /// (default 10, as Automation Cloud).
    #[arg(long = "lockout-threshold", value_name = "N")]
    pub lockout_threshold: Option<u32>,
    /// Lifetime of tokens issued by `connect/token`, in seconds (default 3600).
    #[arg(long = "token-lifetime", value_name = "SECONDS")]
    pub token_lifetime: Option<u64>,
    /// A fault rule: `route=ROUTE,kind=429|503|delay|drop` with
    /// `retry-after=S` (429), `delay-ms=N` (delay), and `next=K` (the next K
    /// requests) or `share=P` (that share of them). ROUTE is one of any,
    /// token, create-user, get-user, list-users, delete-user, delete-users,
    /// change-password. Repeatable.
    #[arg(long = "fault", value_name = "RULE")]
    pub faults: Vec<FaultRule>,
    /// Serve `/_admin/faults` (GET, POST a rule as JSON, DELETE all) and
    /// `POST /_admin/users/{id}/unlock`. Off unless given: never expose it.
    #[arg(long = "admin")]
    pub admin: bool,
    /// Largest request body read, in bytes; larger gets 413 (default 65536).
    #[arg(long = "max-body-bytes", value_name = "N")]
    pub max_body_bytes: Option<usize>,
    /// Break the contract on purpose, to prove that a gate goes red.
    #[arg(long = "deviate", value_name = "HOW", value_enum)]
    pub deviate: Option<Deviation>,
}

const SERVE_HELP: &str = r#"CONFIGURATION FILE (--config emulator.toml; every key optional):

  port = 8080
  organizations = ["6f726368-6573-7472-6174-6f722d706163"]
  lockout-threshold = 10          # 0 never locks
  token-lifetime = 3600           # seconds
  admin = false
  max-body-bytes = 65536

  [password-policy]
  min-length = 8
  require-digit = true
  require-lowercase = true
  require-uppercase = false
  require-non-alphanumeric = false
  required-unique-chars = 1

  [[clients]]
  id = "my-app"
  secret = "s3cret"
  scopes = ["PM.User", "PM.User.Write"]

  [[tokens]]
  token = "my-pat"
  scopes = ["PM.User.Read"]

  [[users]]
  id = "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e"
  password = "Passw0rd-1"
  user-name = "alice"             # optional
  organization = "…"              # optional, default the first

  [[faults]]
  route = "delete-user"
  kind = "503"                    # "429", "503", "delay", "drop"
  next = 1                        # or share = 0.1; retry-after = 2; delay-ms = 250

A file that does not parse, or has an unknown key or a wrong type, is refused
with its line and the reason (exit 2)."#;

impl ServeArgs {
    /// The emulator's configuration from the file (if any) and the flags,
    /// and the port to listen on.
    pub fn emulator_config(&self) -> anyhow::Result<(EmulatorConfig, u16)> {
        let file = match &self.config {
            Some(path) => ConfigFile::load(path)?,
            None => ConfigFile::default(),
        };
        let mut config = EmulatorConfig::default();
        let mut organizations = file.organizations;
        organizations.extend(self.organizations.iter().copied());
        if !organizations.is_empty() {
            organizations.dedup();
            config.organizations = organizations;
        }
        config.clients = file.clients;
        config.clients.extend(self.clients.iter().cloned());
        config.tokens = file.tokens;
        config.tokens.extend(self.tokens.iter().cloned());
        config.users = file.users;
        config.users.extend(self.users.iter().cloned());
        if let Some(policy) = file.password_policy {
            config.policy = policy;
        }
        if let Some(n) = self.min_password_length {
            config.policy.min_length = n;
        }
        if config.policy.min_length == 0 {
            bail!("the minimum password length must be at least 1");
        }
        for user in &config.users {
            let violations = config.policy.violations(user.password.expose());
            if !violations.is_empty() {
                bail!(
                    "the seeded user {} has a password the policy refuses ({}): give it a stronger one",
                    user.id,
                    violations
                        .iter()
                        .filter_map(|v| v.code.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if let Some(org) = user.organization
                && !config.organizations.contains(&org)
            {
                bail!(
                    "the seeded user {} is in organization {org}, which is not configured: add it with `--organization-id`",
                    user.id
                );
            }
        }
        config.lockout_threshold = self
            .lockout_threshold
            .or(file.lockout_threshold)
            .unwrap_or(config.lockout_threshold);
        if let Some(seconds) = self.token_lifetime.or(file.token_lifetime) {
            if seconds == 0 {
                bail!("the token lifetime must be at least 1 second");
            }
            config.token_lifetime = Duration::from_secs(seconds);
        }
        for rule in &file.faults {
            rule.validate()
                .map_err(|e| anyhow::anyhow!("a fault rule in the configuration file: {e}"))?;
        }
        config.faults = file.faults;
        config.faults.extend(self.faults.iter().cloned());
        config.admin = self.admin || file.admin.unwrap_or(false);
        config.max_body_bytes = self
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(config.max_body_bytes);
        if config.max_body_bytes < 64 {
            bail!("the largest request body must be at least 64 bytes");
        }
        config.deviation = self.deviate;
        Ok((config, self.port.or(file.port).unwrap_or(0)))
    }
}

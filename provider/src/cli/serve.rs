//! `orchestrator-pact serve`: the emulator's flags, and the help text of
//! its configuration file.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Args;
use uipath_identity_client::SecretString;

use crate::emulator::config::ConfigFile;
use crate::emulator::faults::FaultRule;
use crate::emulator::{Deviation, EmulatorConfig};

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
    pub tokens: Vec<SecretString>,
    /// A client-credentials application for `POST …/connect/token`, with the
    /// scopes it may be granted (all user scopes unless listed). Repeatable.
    #[arg(long = "client", value_name = "ID:SECRET[:SCOPES]")]
    pub clients: Vec<SecretString>,
    /// An organization (partition) id users can be created in. Repeatable;
    /// the first receives seeded and provider-state users.
    #[arg(long = "organization-id", value_name = "UUID")]
    pub organizations: Vec<uuid::Uuid>,
    /// A user that exists from the start, in the first organization.
    /// Repeatable.
    #[arg(long = "user", value_name = "UUID:PASSWORD")]
    pub users: Vec<SecretString>,
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
    /// token, create-user, get-user, list-users, update-user, delete-user,
    /// delete-users, change-password. Repeatable.
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

/// Parses each value of a repeatable `flag` that holds a secret; an error
/// names the flag and which of its values, never the value.
fn given<T: std::str::FromStr<Err = String>>(
    flag: &str,
    values: &[SecretString],
) -> anyhow::Result<Vec<T>> {
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            value
                .expose()
                .parse()
                .map_err(|e| anyhow::anyhow!("`{flag}` (value {} of {}): {e}", i + 1, values.len()))
        })
        .collect()
}

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
        // Read as secrets and parsed here: clap's own errors would quote
        // the value, and with it the token, secret or password.
        config.clients = file.clients;
        config.clients.extend(given("--client", &self.clients)?);
        config.tokens = file.tokens;
        config.tokens.extend(given("--token", &self.tokens)?);
        config.users = file.users;
        config.users.extend(given("--user", &self.users)?);
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

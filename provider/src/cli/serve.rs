//! `orchestrator-pact serve`: the emulator's flags, turned into what is
//! given beside its configuration file (the file, the merge and the
//! file's help are the emulator's: `emulator::config`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::Args;
use uipath_identity_client::SecretString;

use crate::emulator::config::{ConfigFile, Overrides};
use crate::emulator::faults::FaultRule;
use crate::emulator::{self, Deviation, EmulatorConfig};

/// `orchestrator-pact serve`.
#[derive(Debug, Args)]
#[command(after_long_help = emulator::config::FILE_FORMAT)]
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
        let given = Overrides {
            port: self.port,
            organizations: self.organizations.clone(),
            // Read as secrets and parsed here: clap's own errors would
            // quote the value, and with it the token, secret or password.
            tokens: given("--token", &self.tokens)?,
            clients: given("--client", &self.clients)?,
            users: given("--user", &self.users)?,
            min_password_length: self.min_password_length,
            lockout_threshold: self.lockout_threshold,
            token_lifetime: self.token_lifetime,
            faults: self.faults.clone(),
            admin: self.admin,
            max_body_bytes: self.max_body_bytes,
            deviation: self.deviate,
        };
        Ok(file.merge(given)?)
    }
}

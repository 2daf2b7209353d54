//! How a tenant behaves ([`EmulatorConfig`]), and the configuration file
//! `orchestrator-pact serve --config` reads ([`ConfigFile`]): plain values,
//! every secret wrapped so that it never prints.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use uipath_identity_client::{BearerToken, Password, SecretString, UserId};
use uuid::Uuid;

use super::clock::Clock;
use super::faults::FaultRule;
use super::policy::PasswordPolicy;

mod merge;

pub use merge::{ConfigError, FILE_FORMAT, Overrides};

/// `PM.User`: reads and writes users.
pub(crate) const SCOPE_USER: &str = "PM.User";
/// `PM.User.Read`: reads users.
pub(crate) const SCOPE_USER_READ: &str = "PM.User.Read";
/// `PM.User.Write`: writes users (create, delete, change password).
pub(crate) const SCOPE_USER_WRITE: &str = "PM.User.Write";
/// Every user scope, what a token gets unless its scopes are listed.
pub(crate) const ALL_USER_SCOPES: [&str; 3] = [SCOPE_USER, SCOPE_USER_READ, SCOPE_USER_WRITE];

/// The organization (`partitionGlobalId`) seeded and provider-state users
/// go to when [`EmulatorConfig::organizations`] is empty.
pub const DEFAULT_ORGANIZATION: Uuid = Uuid::from_u128(0x6f72_6368_6573_7472_6174_6f72_2d70_6163);

/// Every user scope, as a token's list.
pub(crate) fn all_scopes() -> Vec<String> {
    ALL_USER_SCOPES.iter().map(|s| (*s).to_owned()).collect()
}

/// The scopes of a list as people write it, with commas or spaces between
/// them (`"PM.User.Read, PM.User.Write"`).
pub fn split_scopes(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A bearer token the tenant accepts as it is, as UiPath accepts a Personal
/// Access Token: it never expires. `From<&str>` gives it every user scope;
/// `"TOKEN:SCOPES".parse()` the scopes listed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticToken {
    /// What a client sends after `Authorization: Bearer `.
    pub token: BearerToken,
    /// The scopes it carries (`PM.User`, `PM.User.Read`, `PM.User.Write`):
    /// a call needs `PM.User` or the narrower scope for what it does.
    #[serde(default = "all_scopes")]
    pub scopes: Vec<String>,
}

impl From<&str> for StaticToken {
    fn from(token: &str) -> Self {
        Self {
            token: BearerToken::new(token),
            scopes: all_scopes(),
        }
    }
}

impl From<BearerToken> for StaticToken {
    fn from(token: BearerToken) -> Self {
        Self {
            token,
            scopes: all_scopes(),
        }
    }
}

impl std::str::FromStr for StaticToken {
    type Err = String;

    /// `TOKEN[:SCOPES]`, scopes separated by commas or spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (token, scopes) = match s.split_once(':') {
            Some((t, sc)) => (t, split_scopes(sc)),
            None => (s, all_scopes()),
        };
        if token.trim().is_empty() {
            return Err("the token is empty: use `--token TOKEN[:SCOPES]`".into());
        }
        Ok(Self {
            token: BearerToken::new(token.trim()),
            scopes,
        })
    }
}

/// An External Application, which gets tokens from `connect/token` with
/// the client-credentials grant; `"ID:SECRET[:SCOPES]".parse()` builds one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// The `client_id` of the token request.
    pub id: String,
    /// The `client_secret` of the token request.
    pub secret: SecretString,
    /// The scopes it may be granted: all of them when the request asks
    /// for none, and a request for any other scope is refused
    /// (`invalid_scope`).
    #[serde(default = "all_scopes")]
    pub scopes: Vec<String>,
}

impl std::str::FromStr for ClientSpec {
    type Err = String;

    /// `ID:SECRET[:SCOPES]`, scopes separated by commas or spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ':');
        let id = parts.next().unwrap_or_default().trim();
        let secret = parts.next().unwrap_or_default();
        if id.is_empty() || secret.is_empty() {
            return Err("expected `ID:SECRET[:SCOPES]`, such as `my-app:s3cret:PM.User`".into());
        }
        Ok(Self {
            id: id.to_owned(),
            secret: SecretString::new(secret),
            scopes: parts.next().map(split_scopes).unwrap_or_else(all_scopes),
        })
    }
}

/// A user that exists from the start ([`SeedUser::new`], or
/// `"UUID:PASSWORD".parse()`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SeedUser {
    /// The `{userId}` of its paths.
    pub id: Uuid,
    /// Its current password: the `oldPassword` a change must send. Not
    /// checked against the policy, which applies to new passwords only.
    pub password: Password,
    /// Its user name (default `user-<first 8 of id>`).
    #[serde(default)]
    pub user_name: Option<String>,
    /// Its organization (default the first one).
    #[serde(default)]
    pub organization: Option<Uuid>,
}

impl SeedUser {
    /// A user with `id` and `password`, named `user-<first 8 of id>`, in
    /// the first organization.
    pub fn new(id: UserId, password: impl Into<Password>) -> Self {
        Self {
            id: *id.as_uuid(),
            password: password.into(),
            user_name: None,
            organization: None,
        }
    }
}

impl std::str::FromStr for SeedUser {
    type Err = String;

    /// `UUID:PASSWORD`; the password may contain `:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (id, password) = s.split_once(':').ok_or(
            "expected `UUID:PASSWORD`, such as `0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e:Passw0rd`",
        )?;
        let id: UserId = id
            .parse()
            .map_err(|e: uipath_identity_client::UserIdError| e.to_string())?;
        Ok(Self::new(id, Password::new(password)))
    }
}

/// A deliberate departure from the contract, for proving that the gate goes
/// red when a tenant changes (never for anything else).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Deviation {
    /// A wrong old password gets 200 `succeeded: true`.
    WrongPasswordSucceeds,
    /// `ValidationProblemDetails.errors` is a list, not a map.
    ValidationErrorsAsList,
    /// Each `ValidationProblemDetails.errors` value is a string, not a list.
    ValidationMessagesAsStrings,
    /// Calls with no bearer token are served instead of refused.
    AnonymousAllowed,
    /// Identity error codes renamed as another identity stack might name
    /// them: `PasswordMismatch` -> `InvalidPassword`, `PasswordTooShort` ->
    /// `PasswordLength` (descriptions unchanged).
    RenamedErrorCodes,
}

/// The largest request body the emulator reads (64 KiB); larger gets 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Failed password checks before a user is locked, as in Automation Cloud.
pub(crate) const DEFAULT_LOCKOUT_THRESHOLD: u32 = 10;
/// Lifetime of an issued access token, as UiPath's (one hour).
pub(crate) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Everything a tenant is started with. `EmulatorConfig::default()` is an
/// open tenant (any bearer token accepted) with no users, Standalone's
/// default password policy, lockout after 10 wrong passwords, one-hour
/// tokens, no faults and no admin endpoints.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// The password policy new passwords must meet.
    pub policy: PasswordPolicy,
    /// Static bearer tokens. With none, and no clients, any bearer token is
    /// accepted with every user scope ("open" mode).
    pub tokens: Vec<StaticToken>,
    /// The applications that may get tokens from `connect/token`.
    pub clients: Vec<ClientSpec>,
    /// Organization (partition) ids; the first gets seeded users and
    /// provider-state users.
    pub organizations: Vec<Uuid>,
    /// Users that exist from the start.
    pub users: Vec<SeedUser>,
    /// Consecutive failed password checks that lock a user; 0 never locks.
    pub lockout_threshold: u32,
    /// Lifetime of tokens issued by `connect/token`.
    pub token_lifetime: Duration,
    /// What token expiry is measured by: real time unless a test injects a
    /// manual clock.
    pub clock: Clock,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// Whether the `/_admin/` endpoints (faults, unlock) are served.
    pub admin: bool,
    /// Bodies longer than this many bytes are refused with 413 before
    /// they are read whole (default [`DEFAULT_MAX_BODY_BYTES`]).
    pub max_body_bytes: usize,
    /// A deliberate departure from the contract, if any.
    pub deviation: Option<Deviation>,
    /// Remember every password and token seen, for tests that search a
    /// run's output for secrets (off: it grows with every request).
    pub record_secrets: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            policy: PasswordPolicy::default(),
            tokens: Vec::new(),
            clients: Vec::new(),
            organizations: vec![DEFAULT_ORGANIZATION],
            users: Vec::new(),
            lockout_threshold: DEFAULT_LOCKOUT_THRESHOLD,
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            clock: Clock::system(),
            faults: Vec::new(),
            admin: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            deviation: None,
            record_secrets: false,
        }
    }
}

impl EmulatorConfig {
    /// The organization seeded and provider-state users go to.
    pub fn first_organization(&self) -> Uuid {
        self.organizations
            .first()
            .copied()
            .unwrap_or(DEFAULT_ORGANIZATION)
    }

    /// Whether any bearer token is accepted (no tokens and no clients).
    pub fn is_open(&self) -> bool {
        self.tokens.is_empty() && self.clients.is_empty()
    }
}

/// A configuration file as written (TOML, or JSON for a `.json` path):
/// every key optional and kebab-case, an unknown key refused. Each field is
/// the [`EmulatorConfig`] field of the same meaning; `None` and empty leave
/// the default (or a command-line flag) in force.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// The port to listen on, which [`EmulatorConfig`] does not hold (the
    /// caller binds the socket).
    pub port: Option<u16>,
    /// [`EmulatorConfig::organizations`].
    #[serde(default)]
    pub organizations: Vec<Uuid>,
    /// [`EmulatorConfig::clients`].
    #[serde(default)]
    pub clients: Vec<ClientSpec>,
    /// [`EmulatorConfig::tokens`].
    #[serde(default)]
    pub tokens: Vec<StaticToken>,
    /// [`EmulatorConfig::users`].
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// [`EmulatorConfig::policy`], as `[password-policy]`.
    pub password_policy: Option<PasswordPolicy>,
    /// [`EmulatorConfig::lockout_threshold`].
    pub lockout_threshold: Option<u32>,
    /// [`EmulatorConfig::token_lifetime`], in seconds.
    pub token_lifetime: Option<u64>,
    /// [`EmulatorConfig::faults`].
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    /// [`EmulatorConfig::admin`].
    pub admin: Option<bool>,
    /// [`EmulatorConfig::max_body_bytes`].
    pub max_body_bytes: Option<usize>,
}

/// Why a configuration file was refused; it displays the file's path, and
/// the line and column where the parser stopped.
#[derive(Debug, thiserror::Error)]
#[error("configuration file `{path}`: {reason}")]
pub struct ConfigFileError {
    path: String,
    reason: String,
}

impl ConfigFile {
    /// Reads a `.toml` or `.json` file; the error names the line and why.
    pub fn load(path: &Path) -> Result<Self, ConfigFileError> {
        let error = |reason: String| ConfigFileError {
            path: path.display().to_string(),
            reason,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| error(format!("cannot read it: {e}")))?;
        let is_json = path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"));
        if is_json {
            serde_json::from_str(&text).map_err(|e| {
                error(format!(
                    "line {}, column {}: {}",
                    e.line(),
                    e.column(),
                    e.to_string().split(" at line").next().unwrap_or_default()
                ))
            })
        } else {
            toml::from_str(&text).map_err(|e| {
                let position = e
                    .span()
                    .map(|span| {
                        let before = &text[..span.start.min(text.len())];
                        let line = before.matches('\n').count() + 1;
                        let column =
                            before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
                        format!("line {line}, column {column}: ")
                    })
                    .unwrap_or_default();
                error(format!("{position}{}", e.message()))
            })
        }
    }
}

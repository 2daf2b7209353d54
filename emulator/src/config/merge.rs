//! A configuration file merged with what is given beside it (`serve`'s
//! flags) into one checked [`EmulatorConfig`]; and the file's format as
//! `serve --help` prints it, tested against the parser that reads it.

use std::time::Duration;

use uuid::Uuid;

use super::{ClientSpec, ConfigFile, Deviation, EmulatorConfig, SeedUser, StaticToken};
use crate::faults::FaultRule;

/// Settings given beside a configuration file, such as `serve`'s flags:
/// each list adds to the file's, each value replaces the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// The port to listen on.
    pub port: Option<u16>,
    /// Organizations after the file's (the first of all gets seeded and
    /// provider-state users).
    pub organizations: Vec<Uuid>,
    /// Static bearer tokens after the file's.
    pub tokens: Vec<StaticToken>,
    /// Client-credentials applications after the file's.
    pub clients: Vec<ClientSpec>,
    /// Seeded users after the file's.
    pub users: Vec<SeedUser>,
    /// The password policy's minimum length, over the file's policy.
    pub min_password_length: Option<usize>,
    /// Failed password checks before lockout (0 never locks).
    pub lockout_threshold: Option<u32>,
    /// The lifetime of issued tokens, in seconds.
    pub token_lifetime: Option<u64>,
    /// Fault rules after the file's.
    pub faults: Vec<FaultRule>,
    /// Serve the `/_admin/` endpoints (also when the file does not say so).
    pub admin: bool,
    /// The largest request body read, in bytes.
    pub max_body_bytes: Option<usize>,
    /// A deliberate departure from the contract.
    pub deviation: Option<Deviation>,
}

/// Why a configuration (a file and what is given beside it) cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A minimum password length of 0.
    #[error("the minimum password length must be at least 1")]
    MinPasswordLength,
    /// A seeded user whose password the policy refuses.
    #[error(
        "the seeded user {user} has a password the policy refuses ({codes}): give it a stronger one"
    )]
    WeakSeedPassword {
        /// The user's id.
        user: Uuid,
        /// The policy's codes for what the password lacks.
        codes: String,
    },
    /// A seeded user in an organization that is not configured.
    #[error(
        "the seeded user {user} is in organization {organization}, which is not configured: add it to `organizations` (or with `--organization-id`)"
    )]
    UnknownOrganization {
        /// The user's id.
        user: Uuid,
        /// Its organization.
        organization: Uuid,
    },
    /// A token lifetime of 0.
    #[error("the token lifetime must be at least 1 second")]
    TokenLifetime,
    /// A fault rule of the file whose numbers are out of range.
    #[error("a fault rule in the configuration file: {0}")]
    FaultRule(String),
    /// A request body cap under 64 bytes.
    #[error("the largest request body must be at least 64 bytes")]
    MaxBodyBytes,
}

impl ConfigFile {
    /// The emulator's configuration from this file and `given`, checked,
    /// and the port to listen on (0: any free one).
    pub fn merge(self, given: Overrides) -> Result<(EmulatorConfig, u16), ConfigError> {
        let mut config = EmulatorConfig::default();
        let mut organizations = self.organizations;
        organizations.extend(given.organizations);
        if !organizations.is_empty() {
            organizations.dedup();
            config.organizations = organizations;
        }
        config.clients = self.clients;
        config.clients.extend(given.clients);
        config.tokens = self.tokens;
        config.tokens.extend(given.tokens);
        config.users = self.users;
        config.users.extend(given.users);
        if let Some(policy) = self.password_policy {
            config.policy = policy;
        }
        if let Some(n) = given.min_password_length {
            config.policy.min_length = n;
        }
        if config.policy.min_length == 0 {
            return Err(ConfigError::MinPasswordLength);
        }
        check_seed_users(&config)?;
        config.lockout_threshold = given
            .lockout_threshold
            .or(self.lockout_threshold)
            .unwrap_or(config.lockout_threshold);
        if let Some(seconds) = given.token_lifetime.or(self.token_lifetime) {
            if seconds == 0 {
                return Err(ConfigError::TokenLifetime);
            }
            config.token_lifetime = Duration::from_secs(seconds);
        }
        for rule in &self.faults {
            rule.validate().map_err(ConfigError::FaultRule)?;
        }
        config.faults = self.faults;
        config.faults.extend(given.faults);
        config.admin = given.admin || self.admin.unwrap_or(false);
        config.max_body_bytes = given
            .max_body_bytes
            .or(self.max_body_bytes)
            .unwrap_or(config.max_body_bytes);
        if config.max_body_bytes < 64 {
            return Err(ConfigError::MaxBodyBytes);
        }
        config.deviation = given.deviation;
        Ok((config, given.port.or(self.port).unwrap_or(0)))
    }
}

/// Every seeded user can sign in under the policy, in an organization
/// that exists.
fn check_seed_users(config: &EmulatorConfig) -> Result<(), ConfigError> {
    for user in &config.users {
        let violations = config.policy.violations(user.password.expose());
        if !violations.is_empty() {
            return Err(ConfigError::WeakSeedPassword {
                user: user.id,
                codes: violations
                    .iter()
                    .filter_map(|v| v.code.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if let Some(organization) = user.organization
            && !config.organizations.contains(&organization)
        {
            return Err(ConfigError::UnknownOrganization {
                user: user.id,
                organization,
            });
        }
    }
    Ok(())
}

/// The configuration file's format, for `serve --help`: an example with
/// every key (a test parses it with [`ConfigFile`]'s own parser and checks
/// that every key that parser knows is in it).
pub const FILE_FORMAT: &str = r#"CONFIGURATION FILE (--config emulator.toml; every key optional):

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of [`FILE_FORMAT`] as a file: its indented lines, with
    /// the first organization for the placeholder `…`.
    fn example() -> String {
        FILE_FORMAT
            .lines()
            .filter_map(|line| line.strip_prefix("  "))
            .collect::<Vec<_>>()
            .join("\n")
            .replace('…', "6f726368-6573-7472-6174-6f722d706163")
    }

    /// What the parser says it expects instead of an unknown `key` at the
    /// start of `table` (`""`: the top level; `[name]` or `[[name]]`).
    fn expected(table: &str, wrong: &str) -> Vec<String> {
        let text = format!("{table}\n{wrong}\n");
        let error = toml::from_str::<ConfigFile>(&text).unwrap_err();
        let message = error.message().to_owned();
        let listed = message
            .split_once("expected")
            .unwrap_or_else(|| panic!("{table}: {message}"))
            .1;
        let names: Vec<String> = listed
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        assert!(!names.is_empty(), "{table}: {message}");
        names
    }

    /// Whether `example` sets `key` (`key = `, also in a comment) or opens
    /// its table (`[key]`).
    fn mentions(example: &str, key: &str) -> bool {
        let set = format!("{key} = ");
        example.contains(&format!("[{key}]"))
            || example.match_indices(&set).any(|(at, _)| {
                !example[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '-')
            })
    }

    #[test]
    fn the_help_example_is_a_file_the_emulator_runs_with() {
        let file: ConfigFile = toml::from_str(&example()).unwrap();
        let (config, port) = file.merge(Overrides::default()).unwrap();
        assert_eq!(port, 8080);
        assert_eq!(config.users.len(), 1);
        assert_eq!(config.clients.len(), 1);
        assert_eq!(config.tokens.len(), 1);
        assert_eq!(config.faults.len(), 1);
    }

    #[test]
    fn the_help_names_every_key_and_fault_kind_the_file_takes() {
        let example = example();
        for table in [
            "",
            "[password-policy]",
            "[[clients]]",
            "[[tokens]]",
            "[[users]]",
            "[[faults]]",
        ] {
            for key in expected(table, "no-such-key = 1") {
                assert!(
                    mentions(&example, &key),
                    "`{key}` ({table}) is not in serve's help: {FILE_FORMAT}"
                );
            }
        }
        for kind in expected("[[faults]]\nroute = \"any\"", "kind = \"no-such-kind\"") {
            assert!(
                FILE_FORMAT.contains(&format!("\"{kind}\"")),
                "the fault kind `{kind}` is not in serve's help"
            );
        }
    }

    #[test]
    fn what_is_given_beside_the_file_adds_to_its_lists_and_replaces_its_values() {
        let file: ConfigFile = toml::from_str(&example()).unwrap();
        let org: Uuid = "0c4b6b36-0000-4a59-8b3e-5f6a7b8c9d0e".parse().unwrap();
        let (config, port) = file
            .merge(Overrides {
                port: Some(0),
                organizations: vec![org],
                tokens: vec![StaticToken::from("another-pat")],
                lockout_threshold: Some(0),
                admin: true,
                ..Overrides::default()
            })
            .unwrap();
        assert_eq!(port, 0);
        assert_eq!(config.organizations.last(), Some(&org));
        assert_eq!(config.organizations.len(), 2);
        assert_eq!(config.tokens.len(), 2);
        assert_eq!(config.lockout_threshold, 0);
        assert!(config.admin);
        assert_eq!(config.token_lifetime, Duration::from_secs(3600));
    }

    #[test]
    fn a_configuration_that_cannot_run_is_refused_naming_why() {
        let refused = |text: &str, given: Overrides| {
            let file: ConfigFile = toml::from_str(text).unwrap();
            file.merge(given).unwrap_err().to_string()
        };
        let weak = refused(
            "[[users]]\nid = \"0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e\"\npassword = \"short\"",
            Overrides::default(),
        );
        assert!(weak.contains("has a password the policy refuses"), "{weak}");
        assert!(!weak.contains("short"), "{weak}");
        let elsewhere = refused(
            "[[users]]\nid = \"0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e\"\npassword = \"Passw0rd-1\"\norganization = \"0c4b6b36-0000-4a59-8b3e-5f6a7b8c9d0e\"",
            Overrides::default(),
        );
        assert!(elsewhere.contains("which is not configured"), "{elsewhere}");
        let no_length = Overrides {
            min_password_length: Some(0),
            ..Overrides::default()
        };
        assert!(refused("", no_length).contains("at least 1"));
        assert!(refused("token-lifetime = 0", Overrides::default()).contains("at least 1 second"));
        assert!(refused("max-body-bytes = 63", Overrides::default()).contains("at least 64 bytes"));
        let fault = refused(
            "[[faults]]\nroute = \"any\"\nkind = \"503\"\nshare = 2.0",
            Overrides::default(),
        );
        assert!(
            fault.starts_with("a fault rule in the configuration file"),
            "{fault}"
        );
    }
}

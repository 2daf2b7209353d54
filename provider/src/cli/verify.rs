//! `orchestrator-pact verify`: its flags, and the one kind of target they
//! describe (an invalid combination cannot be expressed past here).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use url::Url;

use super::tenant::{CheckedTenant, TenantArgs};
use super::{TestUserArgs, broker, parse_url};
use crate::emulator::EmulatorConfig;
use crate::emulator::policy::PasswordPolicy;
use crate::redact::Redactor;
use crate::verify::{
    self, ReportFiles, TenantCredentials, TestHooks, TestUser, VerifySettings, VerifyTarget,
};

fn parse_jobs(value: &str) -> Result<NonZeroUsize, String> {
    match value.trim().parse::<usize>() {
        Ok(n) => NonZeroUsize::new(n)
            .ok_or_else(|| "at least one interaction must run at a time: give 1 or more".into()),
        Err(_) => Err(format!(
            "`{value}` is not a number of interactions to run at a time: give a whole number, 1 or more"
        )),
    }
}

/// A filter, checked as a regular expression when it is read (the pact
/// library unwraps the filters it is given); kept as the text typed, which
/// reports quote.
fn parse_regex(value: &str) -> Result<String, String> {
    match regex::Regex::new(value) {
        Ok(_) => Ok(value.to_owned()),
        // The parser's own text quotes the pattern over several lines; its
        // last line is the reason.
        Err(e) => {
            let text = e.to_string();
            let reason = text.lines().last().unwrap_or_default();
            let reason = reason.strip_prefix("error: ").unwrap_or(reason);
            Err(format!("not a valid regular expression ({reason})"))
        }
    }
}

fn parse_policy(text: &str) -> Result<PasswordPolicy, String> {
    let mut policy = PasswordPolicy {
        min_length: 8,
        require_digit: false,
        require_lowercase: false,
        require_uppercase: false,
        require_non_alphanumeric: false,
        required_unique_chars: 1,
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("`{part}`: expected a number"))
        };
        match key {
            "min-length" | "min" => policy.min_length = number()?,
            "unique" | "unique-chars" => policy.required_unique_chars = number()?,
            "digit" => policy.require_digit = true,
            "lower" | "lowercase" => policy.require_lowercase = true,
            "upper" | "uppercase" => policy.require_uppercase = true,
            "symbol" | "non-alphanumeric" => policy.require_non_alphanumeric = true,
            _ => {
                return Err(format!(
                    "`{part}` is not a policy rule: use min-length=N, unique=N, digit, lower, upper, symbol"
                ));
            }
        }
    }
    if policy.min_length == 0 || policy.min_length > 128 {
        return Err("min-length must be between 1 and 128".into());
    }
    Ok(policy)
}

/// `orchestrator-pact verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A pact file, or a folder of them (*.json). Repeatable. Default:
    /// `pacts/` in the working directory if there is one, else the contract
    /// built into the binary (`orchestrator-pact pacts` shows it).
    #[arg(long = "pacts", value_name = "PATH", conflicts_with = "broker_url")]
    pub pacts: Vec<PathBuf>,
    /// Pacts from a Pact Broker instead (`--broker-url`): `broker`.
    #[command(flatten)]
    pub broker: broker::VerifyBrokerArgs,
    /// The deployment and its credentials.
    #[command(flatten)]
    pub tenant: TenantArgs,
    /// The existing user to verify with (instead of throwaway users).
    #[command(flatten)]
    pub test_user: TestUserArgs,
    /// With an existing user, also run the interactions that send a wrong
    /// password: on a real tenant they count toward lockout (10 failures lock
    /// an Automation Cloud account for 30 days).
    #[arg(long = "allow-lockout-risk")]
    pub allow_lockout_risk: bool,
    /// The tenant's password policy, when stricter than what generated
    /// passwords meet by default (16 characters, every class):
    /// `min-length=N,unique=N,digit,lower,upper,symbol`.
    #[arg(long = "password-policy", value_name = "RULES", value_parser = parse_policy)]
    pub password_policy: Option<PasswordPolicy>,
    /// URL to post provider states to, as the Pact CLI does: `{"state",
    /// "params", "action"}`, the params being the pact's `userId`,
    /// `password` (the user's current one), `oldPassword` and
    /// `newPassword`. Answer with a JSON object of the values to use,
    /// `{"userId", "password", "oldPassword", "newPassword"}`: `userId`,
    /// `oldPassword` and `newPassword` replace the pact's examples in the
    /// request; `password`, and every value named for a password, token or
    /// secret, is kept out of all output. For `orchestrator-pact serve` it
    /// is `{URL}/_pact/provider-states`. Replaces throwaway users.
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
        env = "PACT_DESCRIPTION",
        value_parser = parse_regex
    )]
    pub filter_description: Option<String>,
    /// Only verify interactions whose provider state matches this regex.
    #[arg(
        long = "filter-state",
        value_name = "REGEX",
        env = "PACT_PROVIDER_STATE",
        value_parser = parse_regex
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
    /// Write a Markdown summary (a table of interactions and results) here.
    #[arg(long = "summary", value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// The job summary file of GitHub Actions: when set, the Markdown
    /// summary is appended to it.
    #[arg(
        long = "github-step-summary",
        value_name = "FILE",
        env = "GITHUB_STEP_SUMMARY",
        hide = true
    )]
    pub github_step_summary: Option<PathBuf>,
    /// Also print the pact library's own detailed report.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Testing the harness only: panic inside the harness after this many
    /// provider-state set-ups, to prove that the tenant is cleaned up.
    #[arg(long = "test-panic-after-setups", value_name = "N", hide = true)]
    pub test_panic_after_setups: Option<usize>,
    /// How many interactions run at a time. With throwaway users the
    /// default is 8: each interaction waits on the tenant (create, read
    /// back, change, delete), so running several at once divides a live
    /// run's time, and 8 takes the recorded contract's 5 in one wave (a
    /// tenant that answers 429 pauses the whole run). `--jobs 1` runs them
    /// one after another. Reports are the same, in pact order, either way.
    /// A state URL: one at a time unless given (its service must keep
    /// concurrent states apart). An existing user (`--test-user-id`): one
    /// at a time; more is refused (one user, one password). The embedded
    /// emulator: one at a time (in process, nothing to wait on).
    #[arg(long = "jobs", value_name = "N", env = "ORCHESTRATOR_PACT_JOBS", value_parser = parse_jobs)]
    pub jobs: Option<NonZeroUsize>,
}

impl VerifyArgs {
    /// Checks the flags and turns them into settings, with the target typed
    /// (an invalid combination is refused here, exit 2), and the hooks the
    /// binary runs with.
    pub fn into_settings(self, redactor: Redactor) -> anyhow::Result<(VerifySettings, TestHooks)> {
        let tenant = self.tenant.checked()?;
        if self.state_change_teardown && self.state_change_url.is_none() {
            bail!("`--state-change-teardown` needs `--state-change-url`");
        }
        let test_user = self.test_user.user()?;
        if self.allow_lockout_risk && test_user.is_none() {
            bail!("`--allow-lockout-risk` only applies with an existing user (`--test-user-id`)");
        }
        let target = TargetFlags {
            state_url: self.state_change_url,
            teardown: self.state_change_teardown,
            test_user,
            allow_lockout_risk: self.allow_lockout_risk,
            policy: self.password_policy.unwrap_or_else(verify::strong_policy),
        }
        .target(&tenant)?;
        let settings = VerifySettings {
            pacts: self.pacts,
            target,
            connection: tenant.connection,
            filter_description: self.filter_description,
            filter_state: self.filter_state,
            reports: ReportFiles {
                junit: self.junit,
                json: self.json,
                summary: self.summary,
                append_summary: self
                    .github_step_summary
                    .filter(|p| !p.as_os_str().is_empty()),
            },
            verbose: self.verbose,
            progress: Default::default(),
            redactor,
            jobs: self.jobs,
        };
        // `--jobs` above one with an existing user is refused here too,
        // before anything runs.
        verify::jobs(&settings)?;
        let hooks = TestHooks {
            silence_library_stdout: true,
            panic_after_setups: self.test_panic_after_setups,
        };
        Ok((settings, hooks))
    }
}

/// The flags of `verify` that choose the kind of target.
struct TargetFlags {
    state_url: Option<Url>,
    teardown: bool,
    test_user: Option<TestUser>,
    allow_lockout_risk: bool,
    policy: PasswordPolicy,
}

impl TargetFlags {
    /// The one kind of target these flags and `tenant` describe, or the
    /// error naming what is missing or too much.
    fn target(self, tenant: &CheckedTenant) -> anyhow::Result<VerifyTarget> {
        let Some(url) = tenant.url.clone() else {
            if self.state_url.is_some() || self.test_user.is_some() || tenant.client.is_some() {
                bail!(
                    "`--state-change-url`, `--test-user-id` and `--client-id` need `--base-url`: the embedded emulator sets up its own users and token"
                );
            }
            return Ok(VerifyTarget::Embedded {
                emulator: EmulatorConfig::default(),
                token: tenant.token.clone(),
            });
        };
        let credentials = tenant.credentials(&url)?;
        if let Some(state_url) = self.state_url {
            return Ok(VerifyTarget::StateUrl {
                url,
                credentials,
                state_url,
                teardown: self.teardown,
            });
        }
        let Some(credentials) = TenantCredentials::new(credentials) else {
            bail!(
                "verifying {url} needs credentials to set up its users: `--token` (UIPATH_PAT) or `--client-id` and `--client-secret` (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET); or a `--state-change-url` that sets up provider states"
            );
        };
        match (self.test_user, tenant.organization_id) {
            (Some(user), _) => Ok(VerifyTarget::ExistingUser {
                url,
                credentials,
                user,
                allow_lockout_risk: self.allow_lockout_risk,
                policy: self.policy,
            }),
            (None, Some(organization_id)) => Ok(VerifyTarget::Throwaway {
                url,
                credentials,
                organization_id,
                policy: self.policy,
            }),
            (None, None) => bail!(
                "throwaway users are created in an organization: pass its id with `--organization-id` (UIPATH_ORGANIZATION_ID), or verify with an existing user (`--test-user-id`, `--test-user-password`)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use uipath_identity_client::{BearerToken, Password, SecretString, UserId};

    use super::*;
    use crate::cli::tenant::ClientCredentials;
    use crate::tenant::Credentials;
    use crate::verify::Connection;

    const ORG: &str = "6f726368-6573-7472-6174-6f722d706163";

    fn tenant(url: Option<&str>, token: bool, client: bool, org: bool) -> CheckedTenant {
        CheckedTenant {
            url: url.map(|u| Url::parse(u).unwrap()),
            token: token.then(|| BearerToken::from("a-token-of-the-run")),
            client: client.then(|| ClientCredentials {
                id: "app".into(),
                secret: SecretString::from("a-client-secret"),
                scopes: "PM.User".into(),
            }),
            identity_url: None,
            organization_id: org.then(|| ORG.parse().unwrap()),
            connection: Connection::default(),
        }
    }

    fn flags(state_url: bool, test_user: bool) -> TargetFlags {
        TargetFlags {
            state_url: state_url
                .then(|| Url::parse("http://127.0.0.1:9/_pact/provider-states").unwrap()),
            teardown: false,
            test_user: test_user.then(|| TestUser {
                id: UserId::random(),
                password: Password::from("Existing-passw0rd"),
            }),
            allow_lockout_risk: false,
            policy: verify::strong_policy(),
        }
    }

    const URL: Option<&str> = Some("https://cloud.example/org/tenant/");

    #[test]
    fn each_kind_of_target_comes_from_its_flags() {
        let target = |t: CheckedTenant, f: TargetFlags| f.target(&t).unwrap();
        assert!(matches!(
            target(tenant(None, true, false, true), flags(false, false)),
            VerifyTarget::Embedded { token: Some(_), .. }
        ));
        assert!(matches!(
            target(tenant(URL, false, false, false), flags(true, false)),
            VerifyTarget::StateUrl {
                credentials: Credentials::None,
                ..
            }
        ));
        assert!(matches!(
            target(tenant(URL, true, false, true), flags(false, false)),
            VerifyTarget::Throwaway { .. }
        ));
        let existing = target(tenant(URL, false, true, false), flags(false, true));
        let VerifyTarget::ExistingUser { credentials, .. } = existing else {
            panic!("not an existing user: {existing:?}");
        };
        // Client credentials go to the host's identity root.
        let Credentials::Client { token_url, .. } = credentials.get() else {
            panic!("not client credentials");
        };
        assert_eq!(
            token_url.as_str(),
            "https://cloud.example/identity_/connect/token"
        );
    }

    #[test]
    fn a_combination_that_fits_no_target_is_refused_naming_the_flags() {
        let error = |t: CheckedTenant, f: TargetFlags| f.target(&t).unwrap_err().to_string();
        let cases = [
            (
                tenant(None, false, true, false),
                flags(false, false),
                "need `--base-url`",
            ),
            (
                tenant(None, false, false, false),
                flags(true, false),
                "need `--base-url`",
            ),
            (
                tenant(None, false, false, false),
                flags(false, true),
                "need `--base-url`",
            ),
            (
                tenant(URL, true, true, true),
                flags(false, false),
                "not both",
            ),
            (
                tenant(URL, false, false, true),
                flags(false, false),
                "needs credentials",
            ),
            (
                tenant(URL, true, false, false),
                flags(false, false),
                "`--organization-id`",
            ),
        ];
        for (t, f, says) in cases {
            let message = error(t, f);
            assert!(message.contains(says), "expected `{says}`: {message}");
            assert!(!message.contains("a-client-secret"), "{message}");
        }
    }

    #[test]
    fn a_filter_is_kept_as_typed_or_refused_with_the_reason_on_one_line() {
        assert_eq!(
            parse_regex("^a user (exists)?$").unwrap(),
            "^a user (exists)?$"
        );
        let refused = parse_regex("(unclosed").unwrap_err();
        assert_eq!(refused, "not a valid regular expression (unclosed group)");
    }

    #[test]
    fn a_policy_is_read_rule_by_rule_and_a_bad_rule_is_named() {
        let policy = parse_policy("min-length=12, digit,upper,unique=3").unwrap();
        assert_eq!(policy.min_length, 12);
        assert!(policy.require_digit && policy.require_uppercase);
        assert!(!policy.require_lowercase && !policy.require_non_alphanumeric);
        assert_eq!(policy.required_unique_chars, 3);
        let bad = parse_policy("digit,sparkle").unwrap_err();
        assert!(bad.starts_with("`sparkle` is not a policy rule"), "{bad}");
        assert!(parse_policy("min-length=0").is_err());
    }
}

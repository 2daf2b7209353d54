//! The broker commands' flags, with the Pact ecosystem's names and
//! variables (`PACT_BROKER_BASE_URL`, `PACT_BROKER_TOKEN`,
//! `PACT_BROKER_USERNAME`, `PACT_BROKER_PASSWORD`), turned into the typed
//! settings [`crate::broker`] runs on: the broker module knows no clap.
//!
//! Secrets are read into [`BearerToken`] and [`SecretString`] and checked
//! here rather than by clap value parsers, whose error messages would quote
//! the value.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Arg, Args};
use serde_json::Value;
use uipath_identity_client::{BearerToken, SecretString};
use url::Url;

use super::{BodyCapArgs, parse_url};
use crate::broker::ci_env::BuildInfo;
use crate::broker::client::{BrokerAuth, BrokerConfig, RetryPolicy};
use crate::broker::deployments::RecordDeploymentSettings;
use crate::broker::matrix::{CanIDeploySettings, DeployTarget};
use crate::broker::publish::PublishSettings;
use crate::broker::verification::{BrokerVerifySettings, recommended_selectors};

fn parse_selector(value: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(value) {
        Ok(selector @ Value::Object(_)) => Ok(selector),
        Ok(_) => Err(format!(
            "`{value}` is not a JSON object: give one selector such as '{{\"mainBranch\": true}}' per flag"
        )),
        Err(e) => Err(format!(
            "`{value}` is not JSON ({e}): give one selector such as '{{\"mainBranch\": true}}' per flag"
        )),
    }
}

fn parse_date(value: &str) -> Result<String, String> {
    let value = value.trim();
    let date = regex::Regex::new(
        r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$",
    )
    .expect("the date pattern compiles");
    if date.is_match(value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "`{value}` is not a date: give one such as `2024-01-31` or `2024-01-31T12:00:00Z`"
        ))
    }
}

fn parse_seconds(value: &str) -> Result<Duration, String> {
    match value.trim().parse::<f64>() {
        Ok(s) if (0.0..=3600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "`{value}` is not a number of seconds between 0 and 3600"
        )),
    }
}

/// `--max-body-size` said of what the broker commands read, among the
/// broker's flags.
pub(super) fn body_cap_in_broker_words(arg: Arg) -> Arg {
    if arg.get_id() == "max_body_size" {
        return arg
            .help("The largest answer body read from the Pact Broker: bytes, or a number with KiB, MiB or GiB. A larger answer is not read and the command exits 2")
            .long_help(None)
            .help_heading(BROKER);
    }
    arg
}

/// The help heading of the broker's own flags.
const BROKER: &str = "Pact Broker";
/// The help heading of `verify`'s flags for pacts from a broker.
const FROM_BROKER: &str = "Pacts from a Pact Broker (instead of --pacts)";

/// Where the broker is and who is calling: shared by every broker command.
#[derive(Clone, Debug, Args)]
pub struct BrokerArgs {
    /// The Pact Broker's (or PactFlow's) base URL, with its context path if
    /// it has one, such as `https://broker.example/broker/`.
    #[arg(
        help_heading = BROKER,
        id = "broker_url",
        long = "broker-url",
        short = 'b',
        visible_alias = "broker-base-url",
        env = "PACT_BROKER_BASE_URL",
        value_name = "URL",
        value_parser = parse_url
    )]
    pub url: Option<Url>,
    /// Bearer token for the broker (PactFlow's API token). Never printed.
    #[arg(
        help_heading = BROKER,
        id = "broker_token",
        long = "broker-token",
        env = "PACT_BROKER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<BearerToken>,
    /// User name for a broker with basic auth.
    #[arg(
        help_heading = BROKER,
        id = "broker_username",
        long = "broker-username",
        env = "PACT_BROKER_USERNAME",
        value_name = "NAME"
    )]
    pub username: Option<String>,
    /// Password for a broker with basic auth. Never printed.
    #[arg(
        help_heading = BROKER,
        id = "broker_password",
        long = "broker-password",
        env = "PACT_BROKER_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<SecretString>,
    /// How many times a broker call that failed with 5xx, 408, 429 or a
    /// dropped connection is retried, with exponential back-off (honouring
    /// `Retry-After`).
    #[arg(
        help_heading = BROKER,
        id = "broker_retries",
        long = "retries",
        env = "PACT_BROKER_HTTP_RETRIES",
        value_name = "N",
        default_value_t = RetryPolicy::broker().retries
    )]
    pub retries: u32,
    /// The first back-off of those retries, in milliseconds; each retry
    /// doubles it (up to 30 s).
    #[arg(
        help_heading = BROKER,
        id = "broker_retry_base_delay",
        long = "retry-base-delay",
        env = "PACT_BROKER_RETRY_BASE_DELAY_MS",
        value_name = "MS",
        default_value_t = 500
    )]
    pub retry_base_delay_ms: u64,
}

impl BrokerArgs {
    /// The broker's configuration, or `None` when no broker URL is given.
    pub fn config(&self) -> anyhow::Result<Option<BrokerConfig>> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        let auth = match (&self.token, &self.username, &self.password) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => bail!(
                "both PACT_BROKER_TOKEN and PACT_BROKER_USERNAME/PACT_BROKER_PASSWORD are set: a broker takes one of them; unset the other (or the matching `--broker-*` flag)"
            ),
            (Some(token), None, None) => {
                let token = BearerToken::given(token.expose()).map_err(|problem| {
                    anyhow::anyhow!(
                        "PACT_BROKER_TOKEN (`--broker-token`) {problem}: give the token alone, without `Bearer`"
                    )
                })?;
                Some(BrokerAuth::Token(token))
            }
            (None, Some(username), Some(password)) => Some(BrokerAuth::Basic {
                username: username.clone(),
                password: password.clone(),
            }),
            (None, Some(_), None) => bail!(
                "PACT_BROKER_USERNAME (`--broker-username`) is set but PACT_BROKER_PASSWORD (`--broker-password`) is not: basic auth needs both"
            ),
            (None, None, Some(_)) => bail!(
                "PACT_BROKER_PASSWORD (`--broker-password`) is set but PACT_BROKER_USERNAME (`--broker-username`) is not: basic auth needs both"
            ),
            (None, None, None) => None,
        };
        Ok(Some(BrokerConfig {
            auth,
            retry: RetryPolicy {
                retries: self.retries,
                base_delay: Duration::from_millis(self.retry_base_delay_ms),
                ..RetryPolicy::broker()
            },
            ..BrokerConfig::new(url.clone())
        }))
    }

    /// The broker's configuration; an error naming the variable when no
    /// broker URL is given.
    pub fn required(&self) -> anyhow::Result<BrokerConfig> {
        self.config()?.context(
            "no Pact Broker: set PACT_BROKER_BASE_URL or pass `--broker-url`, such as `https://broker.example/`",
        )
    }
}

/// `verify`'s flags for pacts from a broker (instead of `--pacts`).
#[derive(Clone, Debug, Args)]
pub struct VerifyBrokerArgs {
    /// The broker and its credentials.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The provider's name in the broker.
    #[arg(
        help_heading = FROM_BROKER,
        long = "provider-name",
        short = 'n',
        env = "PACT_PROVIDER_NAME",
        value_name = "NAME",
        default_value = uipath_identity_client::contract::PROVIDER
    )]
    pub provider_name: String,
    /// The provider version the results are published for: for a tenant,
    /// something that names what was verified, such as its release or the
    /// date of the run.
    #[arg(
        help_heading = FROM_BROKER,
        long = "provider-version",
        env = "PACT_PROVIDER_VERSION",
        value_name = "VERSION"
    )]
    pub provider_version: Option<String>,
    /// The provider version's branch: the broker decides pending status and
    /// the `matchingBranch` selector by it.
    #[arg(
        help_heading = FROM_BROKER,
        id = "provider_branch",
        long = "provider-branch",
        env = "PACT_PROVIDER_BRANCH",
        value_name = "BRANCH"
    )]
    pub provider_branch: Option<String>,
    /// A consumer version selector, as JSON; repeatable. Default: the
    /// recommended `{"mainBranch":true}`, `{"matchingBranch":true}` (with
    /// `--provider-branch`) and `{"deployedOrReleased":true}`.
    #[arg(
        help_heading = FROM_BROKER,
        long = "consumer-version-selectors",
        value_name = "JSON",
        value_parser = parse_selector,
        requires = "broker_url"
    )]
    pub consumer_version_selectors: Vec<Value>,
    /// Ask for pending pacts: a pact no provider version of this branch has
    /// verified yet is reported, but its failure does not fail the run.
    #[arg(
        help_heading = FROM_BROKER,
        id = "enable_pending",
        long = "enable-pending",
        env = "PACT_BROKER_ENABLE_PENDING",
        requires = "broker_url"
    )]
    pub enable_pending: bool,
    /// Also verify work-in-progress pacts (the latest of each consumer
    /// branch) published since this date, as pending.
    #[arg(
        help_heading = FROM_BROKER,
        long = "include-wip-pacts-since",
        env = "PACT_BROKER_INCLUDE_WIP_PACTS_SINCE",
        value_name = "DATE",
        value_parser = parse_date,
        requires_all = ["broker_url", "enable_pending", "provider_branch"]
    )]
    pub include_wip_pacts_since: Option<String>,
    /// Publish each pact's verification results to the broker (needs
    /// `--provider-version`; not with `--filter-*`, as the results of part
    /// of a pact would speak for all of it). A failure to publish fails the
    /// run (exit 2).
    #[arg(
        help_heading = FROM_BROKER,
        long = "publish",
        env = "PACT_BROKER_PUBLISH_VERIFICATION_RESULTS",
        requires_all = ["broker_url", "provider_version"],
        conflicts_with_all = ["filter_description", "filter_state"]
    )]
    pub publish: bool,
    /// The CI build's URL, published with the results.
    #[arg(long = "build-url", env = "PACT_BROKER_BUILD_URL", value_name = "URL", help_heading = FROM_BROKER)]
    pub build_url: Option<String>,
    /// Verify only the pact at this URL, as passed by the broker's
    /// `contract_requiring_verification_published` webhook
    /// (`${pactbroker.pactUrl}`).
    #[arg(
        help_heading = FROM_BROKER,
        long = "webhook-callback-url",
        env = "PACT_WEBHOOK_CALLBACK_URL",
        value_name = "URL",
        value_parser = parse_url,
        requires = "broker_url"
    )]
    pub webhook_callback_url: Option<Url>,
}

impl VerifyBrokerArgs {
    /// Where to fetch pacts from, or `None` to verify local pact files.
    pub fn settings(&self) -> anyhow::Result<Option<BrokerVerifySettings>> {
        let Some(broker) = self.broker.config()? else {
            return Ok(None);
        };
        let selectors = if self.consumer_version_selectors.is_empty() {
            recommended_selectors(self.provider_branch.is_some())
        } else {
            self.consumer_version_selectors.clone()
        };
        if self.provider_branch.is_none()
            && selectors
                .iter()
                .any(|s| s.get("matchingBranch") == Some(&Value::Bool(true)))
        {
            bail!("the selector `matchingBranch` needs `--provider-branch` (PACT_PROVIDER_BRANCH)");
        }
        Ok(Some(BrokerVerifySettings {
            broker,
            provider: self.provider_name.clone(),
            provider_version: self.provider_version.clone(),
            provider_branch: self.provider_branch.clone(),
            selectors,
            enable_pending: self.enable_pending,
            include_wip_pacts_since: self.include_wip_pacts_since.clone(),
            publish: self.publish,
            build_url: self.build_url.clone(),
            webhook_callback_url: self.webhook_callback_url.clone(),
        }))
    }
}

/// `orchestrator-pact publish`.
#[derive(Clone, Debug, Args)]
pub struct PublishArgs {
    /// A pact file, or a folder of them (*.json). Repeatable. Default:
    /// `pacts/` in the working directory if there is one, else the contract
    /// built into the binary (`orchestrator-pact pacts` shows it).
    #[arg(long = "pacts", value_name = "PATH")]
    pub pacts: Vec<PathBuf>,
    /// The broker and its credentials.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The cap on the broker's answer bodies (`--max-body-size`).
    #[command(flatten)]
    pub max_body: BodyCapArgs,
    /// The consumer version the pacts belong to. Default: the CI system's
    /// commit variable, else `git rev-parse HEAD`.
    #[arg(long = "consumer-app-version", short = 'a', value_name = "VERSION")]
    pub consumer_app_version: Option<String>,
    /// The consumer version's branch. Default: the CI system's branch
    /// variable, else `git rev-parse --abbrev-ref HEAD`.
    #[arg(long = "branch", value_name = "BRANCH")]
    pub branch: Option<String>,
    /// A tag for the consumer version. Repeatable. (Branches and
    /// environments have replaced tags; they still work.)
    #[arg(long = "tag", short = 't', value_name = "TAG")]
    pub tags: Vec<String>,
    /// The CI build's URL. Default: the CI system's build URL.
    #[arg(long = "build-url", value_name = "URL")]
    pub build_url: Option<String>,
}

impl PublishArgs {
    /// Checks the flags and fills what they leave out from the build.
    pub fn into_settings(self, build: &BuildInfo) -> anyhow::Result<PublishSettings> {
        let broker = BrokerConfig {
            max_body: self.max_body.max_body_size,
            ..self.broker.required()?
        };
        let consumer_version = self
            .consumer_app_version
            .or_else(|| build.commit.clone())
            .filter(|v| !v.trim().is_empty())
            .context(
                "could not tell the consumer version: pass `--consumer-app-version` (by convention the git commit; no CI variables were found and `git rev-parse HEAD` failed)",
            )?;
        if self.tags.iter().any(|t| t.trim().is_empty()) {
            bail!("`--tag` needs a non-empty tag");
        }
        Ok(PublishSettings {
            broker,
            pacts: self.pacts,
            consumer_version,
            branch: self.branch.or_else(|| build.branch.clone()),
            tags: self.tags,
            build_url: self.build_url.or_else(|| build.build_url.clone()),
        })
    }
}

/// `orchestrator-pact can-i-deploy`.
#[derive(Clone, Debug, Args)]
#[command(disable_version_flag = true)]
pub struct CanIDeployArgs {
    /// The broker and its credentials.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The cap on the broker's answer bodies (`--max-body-size`).
    #[command(flatten)]
    pub max_body: BodyCapArgs,
    /// The application to deploy, as the broker names it.
    #[arg(long = "pacticipant", short = 'a', value_name = "NAME")]
    pub pacticipant: String,
    /// Its version.
    #[arg(long = "version", short = 'e', value_name = "VERSION")]
    pub version: String,
    /// The environment to deploy to: checked against the versions recorded
    /// there (`record-deployment`).
    #[arg(
        long = "to-environment",
        value_name = "ENV",
        required_unless_present = "latest",
        conflicts_with = "latest"
    )]
    pub to_environment: Option<String>,
    /// Check against the latest version of every other application instead.
    #[arg(long = "latest")]
    pub latest: bool,
    /// Ask again up to N times while verification results are missing (a
    /// provider build may still be verifying).
    #[arg(long = "retry-while-unknown", value_name = "N", default_value_t = 0)]
    pub retry_while_unknown: u32,
    /// Seconds between those questions.
    #[arg(
        long = "retry-interval",
        value_name = "SECONDS",
        default_value = "10",
        value_parser = parse_seconds
    )]
    pub retry_interval: Duration,
    /// Print the answer but exit 0 even when it is no.
    #[arg(long = "dry-run", env = "PACT_BROKER_CAN_I_DEPLOY_DRY_RUN")]
    pub dry_run: bool,
}

impl CanIDeployArgs {
    /// Checks the flags.
    pub fn into_settings(self) -> anyhow::Result<CanIDeploySettings> {
        Ok(CanIDeploySettings {
            broker: BrokerConfig {
                max_body: self.max_body.max_body_size,
                ..self.broker.required()?
            },
            pacticipant: non_empty("--pacticipant", self.pacticipant)?,
            version: non_empty("--version", self.version)?,
            target: match self.to_environment {
                Some(env) => DeployTarget::Environment(non_empty("--to-environment", env)?),
                None => DeployTarget::Latest,
            },
            retry_while_unknown: self.retry_while_unknown,
            retry_interval: self.retry_interval,
            dry_run: self.dry_run,
        })
    }
}

/// `orchestrator-pact record-deployment`.
#[derive(Clone, Debug, Args)]
#[command(disable_version_flag = true)]
pub struct RecordDeploymentArgs {
    /// The broker and its credentials.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// The cap on the broker's answer bodies (`--max-body-size`).
    #[command(flatten)]
    pub max_body: BodyCapArgs,
    /// The application deployed, as the broker names it.
    #[arg(long = "pacticipant", short = 'a', value_name = "NAME")]
    pub pacticipant: String,
    /// Its version.
    #[arg(long = "version", short = 'e', value_name = "VERSION")]
    pub version: String,
    /// The environment it now runs in.
    #[arg(long = "environment", value_name = "ENV")]
    pub environment: String,
    /// Which instance, when several run side by side in one environment.
    #[arg(long = "application-instance", value_name = "NAME")]
    pub application_instance: Option<String>,
}

impl RecordDeploymentArgs {
    /// Checks the flags.
    pub fn into_settings(self) -> anyhow::Result<RecordDeploymentSettings> {
        Ok(RecordDeploymentSettings {
            broker: BrokerConfig {
                max_body: self.max_body.max_body_size,
                ..self.broker.required()?
            },
            pacticipant: non_empty("--pacticipant", self.pacticipant)?,
            version: non_empty("--version", self.version)?,
            environment: non_empty("--environment", self.environment)?,
            application_instance: self.application_instance,
        })
    }
}

fn non_empty(flag: &str, value: String) -> anyhow::Result<String> {
    if value.trim().is_empty() {
        bail!("`{flag}` needs a value");
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker(token: Option<&str>, user: Option<&str>, password: Option<&str>) -> BrokerArgs {
        BrokerArgs {
            url: Some(Url::parse("https://broker.example/").unwrap()),
            token: token.map(BearerToken::from),
            username: user.map(str::to_owned),
            password: password.map(SecretString::from),
            retries: 8,
            retry_base_delay_ms: 500,
        }
    }

    #[test]
    fn takes_a_token_or_a_user_and_password_and_never_shows_them() {
        let token = broker(Some("Bearer tok3n-value"), None, None)
            .config()
            .unwrap()
            .unwrap();
        assert!(matches!(&token.auth, Some(BrokerAuth::Token(t)) if t.expose() == "tok3n-value"));
        assert!(!format!("{token:?}").contains("tok3n-value"));
        let basic = broker(None, Some("ci"), Some("pa55word"))
            .config()
            .unwrap()
            .unwrap();
        assert!(
            matches!(&basic.auth, Some(BrokerAuth::Basic { username, .. }) if username == "ci")
        );
        assert!(!format!("{basic:?}").contains("pa55word"));
    }

    #[test]
    fn names_the_variable_that_is_missing_or_too_much() {
        let both = broker(Some("t"), Some("u"), Some("p"))
            .config()
            .unwrap_err();
        assert!(both.to_string().contains("PACT_BROKER_TOKEN"), "{both}");
        let no_password = broker(None, Some("u"), None).config().unwrap_err();
        assert!(
            no_password.to_string().contains("PACT_BROKER_PASSWORD"),
            "{no_password}"
        );
        let blank = broker(Some("a b"), None, None).config().unwrap_err();
        assert!(blank.to_string().contains("PACT_BROKER_TOKEN"), "{blank}");
        assert!(!blank.to_string().contains("a b"), "{blank}");
        let none = BrokerArgs {
            url: None,
            ..broker(None, None, None)
        };
        let missing = none.required().unwrap_err();
        assert!(
            missing.to_string().contains("PACT_BROKER_BASE_URL"),
            "{missing}"
        );
    }

    #[test]
    fn parses_selectors_dates_and_seconds() {
        assert!(parse_selector(r#"{"branch": "main"}"#).is_ok());
        assert!(
            parse_selector("[1]")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(parse_selector("{").unwrap_err().contains("not JSON"));
        assert!(parse_date("2024-01-31").is_ok());
        assert!(parse_date("2024-01-31T12:00:00+01:00").is_ok());
        assert!(parse_date("yesterday").is_err());
        assert_eq!(parse_seconds("0.25").unwrap(), Duration::from_millis(250));
        assert!(parse_seconds("-1").is_err());
    }
}

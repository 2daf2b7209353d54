//! The command line. Flags that mean what one of `pact_verifier_cli`'s
//! means carry its name and environment variable.
//!
//! The top layer: clap's types live here only, and each command gets plain
//! typed settings built from them (`broker`: the broker commands' flags).

pub(crate) mod broker;
pub(crate) mod generate;

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, Parser, Subcommand};
use uipath_identity_client::{
    BaseUrl, BearerToken, IdentityPrefix, Password, SecretString, UserId,
};
use url::Url;

use crate::emulator::config::ConfigFile;
use crate::emulator::faults::FaultRule;
use crate::emulator::policy::PasswordPolicy;
use crate::emulator::{Deviation, EmulatorConfig};
use crate::redact::Redactor;
use crate::spec::{CheckSpecSettings, SpecSource};
use crate::tenant::{Credentials, RetryPolicy};
use crate::verify::cleanup::CleanupSettings;
use crate::verify::{
    self, Connection, ReportFiles, TenantCredentials, TestHooks, TestUser, VerifySettings,
    VerifyTarget,
};

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
    /// Remove the throwaway users earlier runs left on a tenant (those whose
    /// user name starts with `orchestrator-pact-`), by id; exit 0 when none
    /// is left, 2 when some could not be removed.
    Cleanup(Box<CleanupArgs>),
    /// Run the Identity emulator until Ctrl-C: the change-password call under
    /// `/identity_/` and `/identity/` (also below `/{org}/` and
    /// `/{org}/{tenant}/`), and Pact provider states at
    /// `POST /_pact/provider-states`. Prints its URL on stdout's first line.
    Serve(Box<ServeArgs>),
    // --- Pact Broker commands (src/broker/) ---
    /// Publish the pacts to a Pact Broker (or PactFlow) under a consumer
    /// version (the git commit), its branch and build URL; exit 0, or 2 if
    /// the broker refused them.
    Publish(Box<broker::PublishArgs>),
    /// Ask the broker whether a version can be deployed to an environment:
    /// print the matrix and the broker's reason, and exit 0 (yes), 1 (no) or
    /// 2 (could not ask).
    CanIDeploy(Box<broker::CanIDeployArgs>),
    /// Record in the broker that a version now runs in an environment.
    RecordDeployment(Box<broker::RecordDeploymentArgs>),
    /// Check the pacts against the Identity API's own OpenAPI (or Swagger
    /// 2.0) document, offline and without credentials: path, method, path
    /// parameters, security, request body, response status and response
    /// body of every interaction. Prints one line per interaction and
    /// finding; known divergences (`spec-divergences.toml`) print as
    /// warnings. Exits 0 (compatible), 1 (incompatible) or 2 (could not
    /// check: unreadable spec, bad URL, bad pacts).
    CheckSpec(Box<CheckSpecArgs>),
    /// Show the contract built into this binary (`pacts/` when it was
    /// built: consumer, provider, interactions and the SHA-256 of each
    /// file), or with `--out DIR` write its pact files there, byte for byte,
    /// to publish them, read them, or hand them to another verifier.
    Pacts(PactsArgs),
    /// Print the man page (`generate man | man -l -`) or a shell's
    /// completions (`source <(orchestrator-pact generate complete-bash)`;
    /// also `complete-zsh`, `complete-fish`, `complete-powershell`).
    Generate(generate::GenerateArgs),
}

/// `orchestrator-pact pacts`.
#[derive(Debug, Args)]
pub struct PactsArgs {
    /// Write the built-in pact files into this folder (created if need be;
    /// files of the same name are replaced).
    #[arg(long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The text of an argument error (clap's), with every value the user gave
/// masked: a secret passed as a stray positional argument, or a value in
/// the wrong place, must not be echoed. Flag names, subcommands and the
/// usage line stay as they are.
pub fn masked_argument_error(error: &clap::Error, args: &[std::ffi::OsString]) -> String {
    use clap::CommandFactory;
    let command = Cli::command();
    let names: Vec<&str> = command
        .get_subcommands()
        .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
        .collect();
    let redactor = Redactor::default();
    for arg in args.iter().skip(1) {
        let arg = arg.to_string_lossy();
        let value = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with('-') => value,
            _ if arg.starts_with('-') => continue,
            _ => arg.as_ref(),
        };
        if !names.contains(&value) {
            redactor.add_str(value);
        }
    }
    let text = error.render().to_string();
    // The usage line quotes the command's definition, never a value.
    match text.split_once("\nUsage:") {
        Some((head, usage)) => format!("{}\nUsage:{usage}", redactor.scrub(head)),
        None => redactor.scrub(&text),
    }
}

/// What may be secret inside a URL-like `text`: the password of its user
/// info, the values of its query and its fragment. Parsed by hand, so that
/// it also works on text that is not a valid URL (whose error quotes it).
pub fn url_secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    // Only what looks like a URL: a regex such as `password?with` is not.
    if !text.contains("://") {
        return found;
    }
    let (rest, fragment) = match text.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (text, None),
    };
    found.extend(fragment.map(str::to_owned));
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    for pair in query.into_iter().flat_map(|q| q.split(['&', ';'])) {
        let value = pair.split_once('=').map_or(pair, |(_, v)| v);
        found.push(value.to_owned());
        // Decoded too, as an error might show it.
        if let Ok(decoded) = percent_encoding::percent_decode_str(value).decode_utf8() {
            found.push(decoded.replace('+', " "));
        }
    }
    if let Some((_, after)) = rest.split_once("://")
        && let Some((userinfo, _)) = after.split_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
    {
        found.push(password.to_owned());
    }
    found.retain(|s| !s.is_empty());
    found
}

fn parse_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| format!("`{value}` is not a URL ({e}): give one such as `http://127.0.0.1:8080/_pact/provider-states`"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("`{value}` is not an http(s) URL"));
    }
    Ok(url)
}

fn parse_jobs(value: &str) -> Result<NonZeroUsize, String> {
    match value.trim().parse::<usize>() {
        Ok(n) => NonZeroUsize::new(n)
            .ok_or_else(|| "at least one interaction must run at a time: give 1 or more".into()),
        Err(_) => Err(format!(
            "`{value}` is not a number of interactions to run at a time: give a whole number, 1 or more"
        )),
    }
}

fn parse_millis(value: &str) -> Result<Duration, String> {
    match value.trim().parse::<u64>() {
        Ok(0) => Err("the time-out must be more than 0 milliseconds".into()),
        Ok(ms) => Ok(Duration::from_millis(ms)),
        Err(_) => Err(format!("`{value}` is not a number of milliseconds")),
    }
}

/// Where a deployment is and how to authenticate to it: shared by `verify`
/// and `cleanup`. Variables are the ones UiPath's own CLI reads.
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// A running deployment to verify instead of the embedded emulator:
    /// the tenant's URL, such as `https://cloud.uipath.com/myorg/mytenant/`,
    /// or an emulator's, such as `http://127.0.0.1:8080/`. Without it,
    /// `UIPATH_URI`, `UIPATH_ORGANIZATION` and `UIPATH_TENANT` make one.
    #[arg(
        long = "base-url",
        value_name = "URL",
        env = "ORCHESTRATOR_PACT_BASE_URL"
    )]
    pub base_url: Option<String>,
    /// The host part of the base URL, such as `https://cloud.uipath.com`.
    #[arg(long = "uri", value_name = "URL", env = "UIPATH_URI", hide = true)]
    pub uri: Option<String>,
    /// The organization (logical name) part of the base URL.
    #[arg(
        long = "organization",
        value_name = "NAME",
        env = "UIPATH_ORGANIZATION",
        hide = true
    )]
    pub organization: Option<String>,
    /// The tenant (logical name) part of the base URL.
    #[arg(
        long = "tenant",
        value_name = "NAME",
        env = "UIPATH_TENANT",
        hide = true
    )]
    pub tenant: Option<String>,
    /// Whether the Identity API lives under `identity_` (Automation Cloud,
    /// Automation Suite) or `identity` (standalone). The pacts record
    /// `identity_`; requests are mapped to the prefix given.
    #[arg(
        long = "identity-prefix",
        value_name = "PREFIX",
        default_value = "identity_"
    )]
    pub identity_prefix: String,
    /// The organization's id (the partition UUID) throwaway users are
    /// created in.
    #[arg(
        long = "organization-id",
        value_name = "UUID",
        env = "UIPATH_ORGANIZATION_ID"
    )]
    pub organization_id: Option<uuid::Uuid>,
    /// Bearer token (or Personal Access Token) sent as
    /// `Authorization: Bearer …` in every request whose pact has that
    /// header; the request without one stays anonymous. Never printed.
    // Checked in `apply`, not by a clap value parser, whose errors would
    // quote the value.
    #[arg(
        long = "token",
        value_name = "TOKEN",
        env = "UIPATH_PAT",
        hide_env_values = true
    )]
    pub token: Option<BearerToken>,
    /// An External Application's App ID: a token is requested at
    /// `{identity}/connect/token` with `--client-secret` and renewed before
    /// it expires.
    #[arg(long = "client-id", value_name = "ID", env = "UIPATH_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The External Application's App secret. Never printed.
    #[arg(
        long = "client-secret",
        value_name = "SECRET",
        env = "UIPATH_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<SecretString>,
    /// The scopes to ask for with client credentials.
    #[arg(
        long = "scopes",
        value_name = "SCOPES",
        env = "UIPATH_AUTH_SCOPES",
        default_value = "PM.User PM.User.Write"
    )]
    pub scopes: String,
    /// Where the token endpoint lives (its identity root, such as
    /// `https://cloud.uipath.com/identity_`); default: the base URL's host
    /// with the identity prefix.
    #[arg(long = "identity-url", value_name = "URL", env = "UIPATH_IDENTITY_URI", value_parser = parse_url)]
    pub identity_url: Option<Url>,
    /// Time-out of each request to the deployment and to the state URL, in
    /// milliseconds; set-up and teardown calls retry within ten of these.
    #[arg(long = "request-timeout", value_name = "MS", env = "PACT_PROVIDER_REQUEST_TIMEOUT", default_value = "30000", value_parser = parse_millis)]
    pub request_timeout: Duration,
    /// The largest answer body read from the deployment, its token endpoint
    /// and the state URL: bytes, or with KiB, MiB, GiB. A larger answer
    /// stops the run (exit 2) unread.
    #[command(flatten)]
    pub max_body: BodyCapArgs,
    /// Retries of each set-up, teardown and token call on 429 (honouring
    /// Retry-After), 502, 503, 504 and dropped connections. The interaction
    /// under verification is never retried.
    #[arg(long = "setup-retries", value_name = "N", default_value_t = 5)]
    pub setup_retries: u32,
    /// Accept any TLS certificate (self-signed test deployments only).
    #[arg(
        long = "insecure",
        alias = "disable-ssl-verification",
        env = "UIPATH_INSECURE"
    )]
    pub insecure: bool,
}

impl TenantArgs {
    /// The deployment's URL, from `--base-url` or the UiPath variables.
    pub fn base_url(&self) -> anyhow::Result<Option<Url>> {
        let prefix: IdentityPrefix = self.identity_prefix.parse()?;
        let text = match (&self.base_url, &self.uri) {
            (Some(url), _) => url.clone(),
            (None, Some(uri)) => {
                let mut url = uri.trim_end_matches('/').to_owned();
                for part in [&self.organization, &self.tenant].into_iter().flatten() {
                    url.push('/');
                    url.push_str(part.trim_matches('/'));
                }
                url.push('/');
                url
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(BaseUrl::parse(&text, prefix)?.url().clone()))
    }

    /// The flags checked: the deployment (if any), its credentials and how
    /// it is reached.
    pub(crate) fn checked(&self) -> anyhow::Result<CheckedTenant> {
        let identity_prefix = self.identity_prefix.parse()?;
        let url = self.base_url()?;
        let token = match &self.token {
            Some(token) => Some(BearerToken::given(token.expose()).map_err(|problem| {
                anyhow::anyhow!(
                    "the token (`--token` or UIPATH_PAT) {problem}: pass the token alone, without `Bearer`"
                )
            })?),
            None => None,
        };
        let client = match (&self.client_id, &self.client_secret) {
            (Some(id), Some(secret)) => Some(ClientCredentials {
                id: id.clone(),
                secret: secret.clone(),
                scopes: crate::emulator::config::split_scopes(&self.scopes).join(" "),
            }),
            (Some(_), None) => {
                bail!("`--client-id` needs `--client-secret` (UIPATH_CLIENT_SECRET)")
            }
            (None, Some(_)) => bail!("`--client-secret` needs `--client-id` (UIPATH_CLIENT_ID)"),
            (None, None) => None,
        };
        Ok(CheckedTenant {
            url,
            token,
            client,
            identity_url: self.identity_url.clone(),
            organization_id: self.organization_id,
            connection: Connection {
                identity_prefix,
                retry: RetryPolicy {
                    retries: self.setup_retries,
                    budget: self.request_timeout.saturating_mul(10),
                    ..RetryPolicy::default()
                },
                request_timeout: self.request_timeout,
                max_body: self.max_body.max_body_size,
                disable_ssl_verification: self.insecure,
            },
        })
    }
}

/// An External Application's client credentials, as given.
#[derive(Clone, Debug)]
pub(crate) struct ClientCredentials {
    id: String,
    secret: SecretString,
    scopes: String,
}

/// [`TenantArgs`], checked one by one; [`CheckedTenant::credentials`]
/// checks them together.
#[derive(Debug)]
pub(crate) struct CheckedTenant {
    url: Option<Url>,
    token: Option<BearerToken>,
    client: Option<ClientCredentials>,
    identity_url: Option<Url>,
    organization_id: Option<uuid::Uuid>,
    connection: Connection,
}

impl CheckedTenant {
    /// The credentials for the deployment at `url`: a token, client
    /// credentials (with the token endpoint they go to), or none.
    fn credentials(&self, url: &Url) -> anyhow::Result<Credentials> {
        match (&self.token, &self.client) {
            (Some(_), Some(_)) => bail!(
                "give either `--token` (UIPATH_PAT) or `--client-id`/`--client-secret`, not both"
            ),
            (Some(token), None) => Ok(Credentials::Token(token.clone())),
            (None, Some(client)) => {
                let mut root = match &self.identity_url {
                    Some(u) => u.clone(),
                    None => {
                        // Automation Cloud and Suite serve the token endpoint
                        // at the host's root, not below the organization.
                        let mut root = url.clone();
                        root.set_path(&format!("/{}/", self.connection.identity_prefix));
                        root
                    }
                };
                if !root.path().ends_with('/') {
                    let p = format!("{}/", root.path());
                    root.set_path(&p);
                }
                Ok(Credentials::Client {
                    id: client.id.clone(),
                    secret: client.secret.clone(),
                    scopes: client.scopes.clone(),
                    token_url: root.join("connect/token").expect("a fixed path joins"),
                })
            }
            (None, None) => Ok(Credentials::None),
        }
    }
}

/// `--max-body-size`: the cap on every answer body a command reads. Its own
/// struct, flattened into each command that reads bodies, so that `verify`
/// (tenant and broker flags together) has it once.
#[derive(Clone, Copy, Debug, Args)]
pub struct BodyCapArgs {
    /// The largest answer body read from any server (tenant, token
    /// endpoint, state URL, Pact Broker): bytes, or a number with KiB, MiB
    /// or GiB. A larger answer is not read and the command exits 2.
    #[arg(
        long = "max-body-size",
        value_name = "SIZE",
        env = "ORCHESTRATOR_PACT_MAX_BODY_SIZE",
        default_value = "4MiB",
        value_parser = crate::http::parse_size
    )]
    pub max_body_size: usize,
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
    /// Verify with this existing user instead of throwaway users. Its
    /// password is changed by the success interaction and set back after
    /// each interaction as an administrator (`PUT api/User/{id}`), never by
    /// sending an old password.
    #[arg(
        long = "test-user-id",
        value_name = "UUID",
        env = "UIPATH_TEST_USER_ID"
    )]
    pub test_user_id: Option<String>,
    /// The existing user's current password. Never printed.
    #[arg(
        long = "test-user-password",
        value_name = "PASSWORD",
        env = "UIPATH_TEST_USER_PASSWORD",
        hide_env_values = true
    )]
    pub test_user_password: Option<Password>,
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
    /// "params", "action"}`; its JSON answer supplies `userId`,
    /// `oldPassword` and `newPassword`. For `orchestrator-pact serve` it is
    /// `{URL}/_pact/provider-states`. Replaces throwaway users.
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
        let test_user = match (&self.test_user_id, &self.test_user_password) {
            (Some(id), Some(password)) => Some(TestUser {
                id: id.parse::<UserId>()?,
                password: password.clone(),
            }),
            (Some(_), None) => {
                bail!("`--test-user-id` needs `--test-user-password` (UIPATH_TEST_USER_PASSWORD)")
            }
            (None, Some(_)) => {
                bail!("`--test-user-password` needs `--test-user-id` (UIPATH_TEST_USER_ID)")
            }
            (None, None) => None,
        };
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

/// `orchestrator-pact cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The deployment and its credentials (as for `verify`).
    #[command(flatten)]
    pub tenant: TenantArgs,
    /// Remove users whose user name starts with this (the prefix every
    /// throwaway user carries; add a run id to remove one run's).
    #[arg(long = "prefix", value_name = "TEXT", default_value = crate::tenant::USER_PREFIX)]
    pub prefix: String,
    /// List what would be removed, and remove nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// An existing user a run verified with: its password is set back to
    /// `--test-user-password` as an administrator (`PUT api/User/{id}`,
    /// which sends no old password), for a run that was killed between a
    /// change and its restore.
    #[arg(
        long = "test-user-id",
        value_name = "UUID",
        env = "UIPATH_TEST_USER_ID"
    )]
    pub test_user_id: Option<String>,
    /// The password to give `--test-user-id` back. Never printed.
    #[arg(
        long = "test-user-password",
        value_name = "PASSWORD",
        env = "UIPATH_TEST_USER_PASSWORD",
        hide_env_values = true
    )]
    pub test_user_password: Option<Password>,
}

impl CleanupArgs {
    /// Checks the flags and turns them into settings: the tenant and its
    /// credentials are required, and what to clean up.
    pub fn into_settings(self, redactor: Redactor) -> anyhow::Result<CleanupSettings> {
        let tenant = self.tenant.checked()?;
        let test_user = self.test_user()?;
        if let Some(user) = &test_user {
            redactor.add(user.password.secret());
        }
        let Some(url) = tenant.url.clone() else {
            bail!(
                "`cleanup` needs the tenant: `--base-url` (or UIPATH_URI, UIPATH_ORGANIZATION, UIPATH_TENANT)"
            );
        };
        if tenant.organization_id.is_none() && test_user.is_none() {
            bail!(
                "`cleanup` needs the organization id users were created in: `--organization-id` (UIPATH_ORGANIZATION_ID); or, to set an existing user's password back, `--test-user-id` and `--test-user-password`"
            );
        }
        let Some(credentials) = TenantCredentials::new(tenant.credentials(&url)?) else {
            bail!(
                "credentials are needed: `--token` (UIPATH_PAT) or `--client-id` and `--client-secret` (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET)"
            );
        };
        Ok(CleanupSettings {
            url,
            credentials,
            organization_id: tenant.organization_id,
            connection: tenant.connection,
            test_user,
            prefix: self.prefix,
            dry_run: self.dry_run,
            redactor,
        })
    }

    /// The existing user whose password to set back, if one is given.
    fn test_user(&self) -> anyhow::Result<Option<TestUser>> {
        match (&self.test_user_id, &self.test_user_password) {
            (Some(id), Some(password)) => Ok(Some(TestUser {
                id: id.parse::<UserId>()?,
                password: password.clone(),
            })),
            (Some(_), None) => bail!(
                "`--test-user-id` needs `--test-user-password` (UIPATH_TEST_USER_PASSWORD): the password to set back"
            ),
            (None, Some(_)) => {
                bail!("`--test-user-password` needs `--test-user-id` (UIPATH_TEST_USER_ID)")
            }
            (None, None) => Ok(None),
        }
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

/// `orchestrator-pact check-spec`.
#[derive(Debug, Args)]
pub struct CheckSpecArgs {
    /// The Identity API's OpenAPI 3.0 or Swagger 2.0 document, YAML or
    /// JSON: a file, or an http(s) URL such as a tenant's
    /// `https://cloud.uipath.com/{org}/identity_/swagger/external/swagger.json`.
    #[arg(long = "spec", value_name = "FILE|URL", env = "ORCHESTRATOR_PACT_SPEC")]
    pub spec: Option<String>,
    /// A pact file, or a folder of them (*.json). Repeatable. Default:
    /// `pacts/` in the working directory if there is one, else the contract
    /// built into the binary (`orchestrator-pact pacts` shows it).
    #[arg(long = "pacts", value_name = "PATH")]
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
    /// The cap on a fetched `--spec URL` document (`--max-body-size`).
    #[command(flatten)]
    pub max_body: BodyCapArgs,
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
            max_body: self.max_body.max_body_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

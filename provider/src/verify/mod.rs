//! `orchestrator-pact verify`: replays pact files against a deployment.
//!
//! The path of one run: pact sources → target (embedded emulator or URL) →
//! state executor → request filter (credentials) → [`replay`] (one HTTP
//! client per run; through the bounded [`relay::Relay`] for a URL) → report
//! (console, JUnit, JSON, all through the [`redact::Redactor`]) →
//! [`report::Verdict`].

pub mod auth;
pub mod progress;
pub mod quiet;
/// The redactor lives in the shared leaf [`crate::redact`]; re-exported here
/// so that `verify::redact::Redactor` keeps working.
pub use crate::redact;
pub mod relay;
pub mod replay;
pub mod report;
pub mod sources;
pub mod target;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uipath_identity_client::client::error_chain;

use pact_verifier::{FilterInfo, PactSource, VerificationOptions};
use uipath_identity_client::{
    BaseUrl, BearerToken, IdentityClient, IdentityPrefix, Password, SecretString, UserId,
};
use url::Url;
use uuid::Uuid;

use crate::emulator::policy::PasswordPolicy;
use crate::emulator::states::WRONG_OLD_PASSWORD;
use crate::emulator::{self, EmulatorConfig};
use crate::http;
use crate::states::tenant::{Ledger, TenantStates, UserMode, sweep};
use crate::states::{RecordingStates, StateExecutor};
use crate::tenant::{Credentials, RetryPolicy, Tenant, TenantError, TokenSource, network_hint};
use auth::InjectCredentials;
use redact::Redactor;
use report::Report;
pub use sources::PactBatch;
use sources::{PactFile, SourceError};
pub use target::Target;

/// How long the clean-up after a signal waits for the tenant's answers
/// (each call's retries included) before it reports what is left: the
/// interactions under way finishing, then the sweep, together.
pub const SWEEP_AFTER_SIGNAL: Duration = Duration::from_secs(30);

/// An External Application's client credentials.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// The App ID.
    pub id: String,
    /// The App secret.
    pub secret: SecretString,
    /// The scopes to ask for, space-separated.
    pub scopes: String,
}

/// An existing user to verify with, instead of throwaway users.
#[derive(Clone, Debug)]
pub struct TestUser {
    /// Its id.
    pub id: UserId,
    /// Its current password, restored after the run.
    pub password: Password,
}

/// Everything one verification needs, parsed and checked.
#[derive(Clone, Debug)]
pub struct VerifySettings {
    /// Pact files or folders of them; none: `pacts/` in the working
    /// directory, else the built-in contract.
    pub pacts: Vec<PathBuf>,
    /// Where the requests go.
    pub target: Target,
    /// A static bearer token (or Personal Access Token).
    pub token: Option<BearerToken>,
    /// Client credentials, exchanged for a token at the token endpoint.
    pub client: Option<ClientCredentials>,
    /// The identity root the token endpoint lives under (default: the
    /// target's host with the identity prefix).
    pub identity_url: Option<Url>,
    /// `identity_` (Automation Cloud and Suite) or `identity` (standalone).
    pub identity_prefix: IdentityPrefix,
    /// The organization throwaway users are created in.
    pub organization_id: Option<Uuid>,
    /// An existing user to use instead of throwaway users.
    pub test_user: Option<TestUser>,
    /// Run the interactions that send a wrong password to an existing user.
    pub allow_lockout_risk: bool,
    /// The tenant's password policy, for generating passwords.
    pub password_policy: PasswordPolicy,
    /// How set-up, teardown and token calls are retried.
    pub retry: RetryPolicy,
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
    /// Where to write a Markdown summary.
    pub summary: Option<PathBuf>,
    /// A file to append the Markdown summary to (GitHub's job summary).
    pub append_summary: Option<PathBuf>,
    /// Time-out of each request to the provider and to the state URL.
    pub request_timeout: Duration,
    /// The largest answer body read from the tenant or the state URL.
    pub max_body: usize,
    /// Accept any TLS certificate.
    pub disable_ssl_verification: bool,
    /// Also print the pact library's own report.
    pub verbose: bool,
    /// How the progress of a long run is shown on stderr.
    pub progress: progress::ProgressStyle,
    /// Keep the pact library's `println!` report off stdout (the binary
    /// does; tests running in threads must not).
    pub silence_library_stdout: bool,
    /// How the embedded emulator behaves.
    pub emulator: EmulatorConfig,
    /// Every secret of the run, shared with the log writer.
    pub redactor: Redactor,
    /// Testing the harness only: panic after this many tenant set-ups.
    pub test_panic_after_setups: Option<usize>,
    /// How many interactions run at a time (`--jobs`); `None`: the default
    /// of the target ([`jobs`]).
    pub jobs: Option<NonZeroUsize>,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            pacts: Vec::new(),
            target: Target::Embedded,
            token: None,
            client: None,
            identity_url: None,
            identity_prefix: IdentityPrefix::Cloud,
            organization_id: None,
            test_user: None,
            allow_lockout_risk: false,
            password_policy: strong_policy(),
            retry: RetryPolicy::default(),
            state_change_url: None,
            state_change_teardown: true,
            filter_description: None,
            filter_state: None,
            junit: None,
            json: None,
            summary: None,
            append_summary: None,
            request_timeout: Duration::from_secs(30),
            max_body: http::DEFAULT_MAX_BODY,
            disable_ssl_verification: false,
            verbose: false,
            progress: progress::ProgressStyle::default(),
            silence_library_stdout: false,
            emulator: EmulatorConfig::default(),
            redactor: Redactor::default(),
            test_panic_after_setups: None,
            jobs: None,
        }
    }
}

/// How many interactions with throwaway users run at a time unless
/// `--jobs` says otherwise: each waits on the tenant (create, read back,
/// change, delete), so a few at once cut a live run's time by as much, and
/// eight keep the recorded contract's five in one wave while staying far
/// below any tenant's rate limit (a 429 pauses the whole run anyway).
pub const DEFAULT_JOBS: usize = 8;

/// How many interactions of `settings`' target run at a time: throwaway
/// users `--jobs` (default [`DEFAULT_JOBS`]); a state URL `--jobs` (default
/// one: its service must keep concurrent states apart); the embedded
/// emulator one (in process, nothing to wait on); an existing user one,
/// and `--jobs` above one is refused (one user has one password).
pub fn jobs(settings: &VerifySettings) -> Result<usize, VerifyError> {
    let asked = settings.jobs.map(NonZeroUsize::get);
    match (
        &settings.target,
        &settings.state_change_url,
        &settings.test_user,
    ) {
        (Target::Embedded, ..) => Ok(1),
        (Target::Url(_), Some(_), _) => Ok(asked.unwrap_or(1)),
        (Target::Url(_), None, Some(_)) => match asked {
            Some(n) if n > 1 => Err(VerifyError::Flags(format!(
                "`--jobs {n}` cannot be used with an existing user (`--test-user-id`): its interactions change one user's password and must run one after another. Leave `--jobs` out (or give 1), or verify with throwaway users (`--organization-id` instead of `--test-user-id`)"
            ))),
            _ => Ok(1),
        },
        (Target::Url(_), None, None) => Ok(asked.unwrap_or(DEFAULT_JOBS)),
    }
}

/// How much longer the pact library waits for an answer than the relay
/// does, so that the relay's time-out, which names the flag, strikes first.
const RELAY_MARGIN: Duration = Duration::from_secs(5);

/// The policy generated passwords meet unless told otherwise: at least 16
/// characters with every class, which satisfies every policy UiPath ships.
pub fn strong_policy() -> PasswordPolicy {
    PasswordPolicy {
        min_length: 16,
        require_digit: true,
        require_lowercase: true,
        require_uppercase: true,
        require_non_alphanumeric: true,
        required_unique_chars: 6,
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
    /// Flags that do not go together, or are missing.
    #[error("{0}")]
    Flags(String),
    /// The target did not answer at all.
    #[error("could not reach {url}: {reason}{hint}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What failed.
        reason: String,
        /// The next step.
        hint: String,
    },
    /// The tenant refused the credentials, or a set-up call.
    #[error(transparent)]
    Tenant(#[from] TenantError),
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
    /// The run was stopped by a signal, after cleaning up.
    #[error("interrupted: the verification was stopped before it finished{0}")]
    Interrupted(String),
    /// The pact library failed as a whole, or the harness panicked.
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

/// An HTTP client for the tenant's set-up calls, with the run's TLS and
/// time-out settings; it follows no redirect (its requests carry the
/// client secret, tokens and passwords).
fn http_client(settings: &VerifySettings) -> Result<reqwest::Client, VerifyError> {
    http::client(http::ClientSettings {
        timeout: settings.request_timeout,
        insecure: settings.disable_ssl_verification,
        redirects: http::Redirects::Never,
    })
    .map_err(|e| VerifyError::Library(e.to_string()))
}

/// Checks that something answers HTTP at `url`; any status will do.
async fn probe(url: &Url, http: &reqwest::Client) -> Result<(), VerifyError> {
    http.get(url.clone()).send().await.map(|_| ()).map_err(|e| {
        let reason = error_chain(&e);
        VerifyError::Unreachable {
            url: url.to_string(),
            hint: network_hint(&reason).into(),
            reason,
        }
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

/// The credentials of a run.
fn credentials(settings: &VerifySettings, url: &Url) -> Result<Credentials, VerifyError> {
    match (&settings.token, &settings.client) {
        (Some(_), Some(_)) => Err(VerifyError::Flags(
            "give either `--token` (UIPATH_PAT) or `--client-id`/`--client-secret`, not both"
                .into(),
        )),
        (Some(token), None) => Ok(Credentials::Token(token.clone())),
        (None, Some(client)) => {
            let root = match &settings.identity_url {
                Some(u) => u.clone(),
                None => {
                    // Automation Cloud and Suite serve the token endpoint at
                    // the host's root, not below the organization.
                    let mut root = url.clone();
                    root.set_path(&format!("/{}/", settings.identity_prefix));
                    root
                }
            };
            let mut root = root;
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

/// The tenant at `url` with the credentials of `settings`, its token
/// fetched (so that refused credentials fail here, exit 2).
pub async fn connect_tenant(settings: &VerifySettings, url: &Url) -> Result<Tenant, VerifyError> {
    let http = http_client(settings)?;
    let credentials = credentials(settings, url)?;
    if matches!(credentials, Credentials::None) {
        return Err(VerifyError::Flags(
            "credentials are needed: `--token` (UIPATH_PAT) or `--client-id` and `--client-secret` (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET)".into(),
        ));
    }
    probe(url, &http).await?;
    let tokens = Arc::new(
        TokenSource::new(
            credentials,
            http.clone(),
            settings.retry,
            settings.redactor.clone(),
        )
        .with_max_body(settings.max_body),
    );
    tenant_at(settings, url, http, tokens).await
}

/// The tenant at `url`, reached with `http` and the tokens of `tokens`
/// (fetched now, so that refused credentials fail here, exit 2).
async fn tenant_at(
    settings: &VerifySettings,
    url: &Url,
    http: reqwest::Client,
    tokens: Arc<TokenSource>,
) -> Result<Tenant, VerifyError> {
    tokens.refresh_if_needed().await?;
    let base = BaseUrl::parse(url.as_str(), settings.identity_prefix)
        .map_err(|e| VerifyError::Flags(e.to_string()))?;
    Ok(Tenant::new(
        IdentityClient::with_http(http, base, None).with_max_body(settings.max_body),
        settings.organization_id,
        tokens,
        settings.retry,
        settings.redactor.clone(),
    ))
}

/// What a run with an existing user tells before it starts: the window in
/// which a kill leaves the user with a password nobody knows, and the
/// command that puts it back.
fn existing_user_notice(id: &UserId, url: &Url) -> String {
    format!(
        "note: verifying with the existing user {id}. Its password is changed by the interactions and set back after each one as an administrator (PUT api/User/{id}); no old password is ever guessed. If this process is killed (SIGKILL, a lost machine) between a change and its restore, the user is left with a generated password nobody knows. Put it back with:\n  orchestrator-pact cleanup --base-url {url} --test-user-id {id} --test-user-password <its password> (and the same credentials)"
    )
}

/// The sources of a batch without the interactions that send a wrong
/// password; gives them and the descriptions left out.
fn without_wrong_password(
    sources: &[PactSource],
) -> Result<(Vec<PactSource>, Vec<String>), VerifyError> {
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for source in sources {
        let (text, path) = match source {
            PactSource::File(path) => (
                std::fs::read_to_string(path).map_err(|e| SourceError::Unreadable {
                    path: PathBuf::from(path),
                    reason: e.to_string(),
                })?,
                PathBuf::from(path),
            ),
            PactSource::String(json) => (json.clone(), PathBuf::from("(pact from the broker)")),
            other => {
                kept.push(other.clone());
                continue;
            }
        };
        let mut json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| SourceError::NotAPact {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if let Some(interactions) = json.get_mut("interactions").and_then(|v| v.as_array_mut()) {
            interactions.retain(|interaction| {
                let risky = interaction["providerStates"]
                    .as_array()
                    .is_some_and(|states| states.iter().any(|st| st["name"] == WRONG_OLD_PASSWORD));
                if risky {
                    skipped.push(
                        interaction["description"]
                            .as_str()
                            .unwrap_or("?")
                            .to_owned(),
                    );
                }
                !risky
            });
        }
        kept.push(PactSource::String(json.to_string()));
    }
    Ok((kept, skipped))
}

/// Verifies every pact of `settings` and reports on `out` (the console
/// report) and `progress` (what is happening, for the impatient). When
/// `shutdown` completes first (Ctrl-C, SIGTERM), the run stops; either way,
/// and after a panic too, everything it created on a tenant is removed
/// before this returns.
pub async fn run(
    settings: &VerifySettings,
    out: &mut (dyn Write + Send),
    progress: &mut (dyn Write + Send),
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<Report, VerifyError> {
    filter(settings)?;
    let pacts: Vec<PactFile> = sources::discover(&settings.pacts)?;
    for pact in pacts.iter().filter(|p| p.built_in) {
        let _ = writeln!(
            progress,
            "the contract built into this binary: {} (`--pacts PATH` verifies others; `orchestrator-pact pacts --out DIR` writes it out)",
            pact.describe()
        );
    }
    let batch = PactBatch::files(&pacts);
    let (mut reports, redactor) = verify_batches(settings, vec![batch], progress, shutdown).await?;
    let report = reports.pop().unwrap_or_default();
    print_console(settings, &report, &redactor, out);
    write_reports(settings, &report, &redactor)?;
    Ok(report)
}

/// Sets up the target of `settings` once, verifies each batch against it
/// with its own call of the pact library, and returns one report per batch
/// with the run's redactor (`settings.redactor`, which by then knows every
/// secret of the run). Prints only progress. Stops when `shutdown`
/// completes; cleans the tenant up in every case.
pub async fn verify_batches(
    settings: &VerifySettings,
    batches: Vec<PactBatch>,
    progress: &mut (dyn Write + Send),
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(Vec<Report>, Redactor), VerifyError> {
    let filter = filter(settings)?;
    let jobs = jobs(settings)?;
    let mut batches = batches;
    let redactor = settings.redactor.clone();
    if let Some(token) = &settings.token {
        redactor.add(token.secret());
    }
    if let Some(client) = &settings.client {
        redactor.add(&client.secret);
    }
    if let Some(user) = &settings.test_user {
        redactor.add(user.password.secret());
    }
    let http = http_client(settings)?;

    // The target, its credentials and its provider states.
    let mut embedded = None;
    let mut tenant: Option<(Arc<Tenant>, Arc<Ledger>)> = None;
    let mut skipped = Vec::new();
    let (url, tokens, states, target_name) = match &settings.target {
        Target::Embedded => {
            if settings.state_change_url.is_some()
                || settings.test_user.is_some()
                || settings.client.is_some()
            {
                return Err(VerifyError::Flags(
                    "`--state-change-url`, `--test-user-id` and `--client-id` need `--base-url`: the embedded emulator sets up its own users and token".into(),
                ));
            }
            // The embedded emulator accepts one random token, which the
            // request filter injects: the same path a live token takes.
            let token = settings.token.clone().unwrap_or_else(|| {
                BearerToken::new(format!("embedded-{}", Uuid::new_v4().simple()))
            });
            let config = EmulatorConfig {
                tokens: vec![token.clone().into()],
                ..settings.emulator.clone()
            };
            let handle = emulator::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .await
                .map_err(VerifyError::Emulator)?;
            let url = Url::parse(&handle.url()).expect("the emulator's URL parses");
            let states = StateExecutor::Emulator(handle.emulator.clone());
            let name = format!("the embedded emulator at {}", handle.url());
            embedded = Some(handle);
            let tokens = TokenSource::new(
                Credentials::Token(token),
                http.clone(),
                settings.retry,
                redactor.clone(),
            );
            (url, Some(Arc::new(tokens)), states, name)
        }
        Target::Url(url) => {
            let credentials = credentials(settings, url)?;
            probe(url, &http).await?;
            let tokens = Arc::new(
                TokenSource::new(
                    credentials.clone(),
                    http.clone(),
                    settings.retry,
                    redactor.clone(),
                )
                .with_max_body(settings.max_body),
            );
            if let Some(state_url) = &settings.state_change_url {
                tokens.refresh_if_needed().await?;
                let states = StateExecutor::http(
                    crate::states::StateUrl {
                        url: state_url.clone(),
                        teardown: settings.state_change_teardown,
                        retries: 3,
                        http: http.clone(),
                        max_body: settings.max_body,
                    },
                    redactor.clone(),
                );
                (url.clone(), Some(tokens), states, url.to_string())
            } else {
                if matches!(credentials, Credentials::None) {
                    return Err(VerifyError::Flags(format!(
                        "verifying {url} needs credentials to set up its users: `--token` (UIPATH_PAT) or `--client-id` and `--client-secret` (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET); or a `--state-change-url` that sets up provider states"
                    )));
                }
                let mode = match &settings.test_user {
                    Some(user) => UserMode::Existing {
                        id: user.id,
                        password: user.password.clone(),
                    },
                    None => {
                        if settings.organization_id.is_none() {
                            return Err(VerifyError::Flags(
                                "throwaway users are created in an organization: pass its id with `--organization-id` (UIPATH_ORGANIZATION_ID), or verify with an existing user (`--test-user-id`, `--test-user-password`)".into(),
                            ));
                        }
                        UserMode::Throwaway {
                            run_id: Uuid::new_v4().simple().to_string()[..8].to_owned(),
                            created: Default::default(),
                        }
                    }
                };
                if let UserMode::Existing { .. } = mode
                    && !settings.allow_lockout_risk
                {
                    for batch in &mut batches {
                        let (sources, left_out) = without_wrong_password(&batch.sources)?;
                        batch.interactions -= left_out.len();
                        batch.sources = sources;
                        skipped.extend(left_out);
                    }
                }
                if let UserMode::Existing { id, .. } = &mode {
                    let notice = existing_user_notice(id, url);
                    let _ = writeln!(progress, "{}", redactor.scrub(&notice));
                }
                let the_tenant =
                    Arc::new(tenant_at(settings, url, http.clone(), tokens.clone()).await?);
                let ledger = Arc::new(Ledger::default());
                let states = StateExecutor::Tenant(
                    TenantStates::new(
                        the_tenant.clone(),
                        mode,
                        settings.password_policy.clone(),
                        redactor.clone(),
                        ledger.clone(),
                    )
                    .panicking_after(settings.test_panic_after_setups)
                    .with_progress(settings.silence_library_stdout),
                );
                tenant = Some((the_tenant, ledger));
                (url.clone(), Some(tokens), states, url.to_string())
            }
        }
    };

    let interactions: usize = batches.iter().map(|b| b.interactions).sum();
    let _ = writeln!(
        progress,
        "verifying {interactions} interactions from {} pact(s) against {target_name}",
        batches.iter().map(|b| b.pacts).sum::<usize>(),
    );
    // A deployment is reached through the bounded relay: the pact library
    // would read its answers whole. The relay's own time-out strikes first,
    // so that a slow answer is named as one.
    let relay = match &settings.target {
        Target::Embedded => None,
        Target::Url(_) => Some(
            relay::Relay::start(
                &url,
                http.clone(),
                settings.max_body,
                settings.request_timeout,
            )
            .await
            .map_err(|e| {
                VerifyError::Library(format!("could not start the relay on 127.0.0.1: {e}"))
            })?,
        ),
    };
    let replay_url = relay
        .as_ref()
        .map_or_else(|| url.clone(), |r| r.url_for(&url));
    let options = VerificationOptions {
        request_filter: Some(Arc::new(InjectCredentials::new(
            tokens,
            settings.identity_prefix,
        ))),
        disable_ssl_verification: settings.disable_ssl_verification,
        // A redirect is an answer the contract judges: never followed.
        follow_redirects: false,
        request_timeout: (settings.request_timeout + RELAY_MARGIN)
            .as_millis()
            .min(u64::MAX as u128) as u64,
        coloured_output: false,
        no_pacts_is_error: true,
        ..VerificationOptions::default()
    };
    let executor = Arc::new(RecordingStates::new(states));
    // One client, and its connections, for every verified request of the run.
    let client =
        replay::provider_client(&options).map_err(|e| VerifyError::Library(e.to_string()))?;

    let ending = {
        let _silenced = if settings.silence_library_stdout {
            quiet::SilencedStdout::new()
        } else {
            None
        };
        let mut shown = progress::Progress::new(settings.progress, interactions, Instant::now());
        let stop = replay::Stop::default();
        let replay = replay::Replay {
            filter: &filter,
            options: &options,
            executor: &executor,
            client: &client,
            jobs,
            tag_requests: relay.is_some(),
            stop: &stop,
        };
        let verification = async {
            let mut tell = |event: replay::Event<'_>| match event {
                replay::Event::Planned(total) => shown.planned(total),
                replay::Event::Interaction(r) => {
                    shown.interaction(r.result.is_err(), Instant::now(), &mut *progress)
                }
                replay::Event::Pact { consumer, provider } => {
                    shown.pact(consumer, provider, Instant::now(), &mut *progress)
                }
            };
            let batches = batches
                .into_iter()
                .map(|batch| replay::Batch {
                    provider: target::provider_info(&batch.provider, &replay_url),
                    sources: batch.sources,
                })
                .collect();
            replay::verify_all(&replay, batches, &mut tell).await
        };
        let ending = replay::until_signal(verification, shutdown, &stop, SWEEP_AFTER_SIGNAL).await;
        shown.finish(progress);
        ending
    };
    if let Some(handle) = embedded {
        handle.stop().await;
    }

    // Whatever happened, undo what was done on the tenant. A teardown cut
    // short by the signal is back in the ledger and sent again here: only an
    // answer of the tenant counts as undone. After a signal the sweep is
    // bounded, so that the run still ends.
    let mut leftovers = Vec::new();
    if let Some((tenant, ledger)) = &tenant
        && !ledger.is_empty()
    {
        let deadline = match ending {
            replay::Ending::Interrupted(deadline) => Some(deadline),
            _ => None,
        };
        match deadline {
            Some(d) => {
                let _ = writeln!(
                    progress,
                    "cleaning up the tenant (interrupted: waiting up to {} s after the signal for its answers)…",
                    d.bound.as_secs()
                );
            }
            None => {
                let _ = writeln!(progress, "cleaning up the tenant…");
            }
        }
        for (undo, reason) in sweep(tenant, ledger, deadline).await {
            leftovers.push(redactor.scrub(&format!("{} ({reason})", undo.describe())));
        }
    }
    if !leftovers.is_empty() {
        let _ = writeln!(progress, "left on the tenant after the run:");
        for l in &leftovers {
            let _ = writeln!(progress, "  {l}");
        }
        let _ = writeln!(
            progress,
            "remove throwaway users with `orchestrator-pact cleanup` (same --base-url, --organization-id and credentials)"
        );
    }

    let results = match ending {
        replay::Ending::Done(results) => results,
        replay::Ending::Interrupted(_) => {
            return Err(VerifyError::Interrupted(if leftovers.is_empty() {
                if tenant.is_some() {
                    "; everything it created on the tenant was removed".into()
                } else {
                    String::new()
                }
            } else {
                format!(
                    "; {} item(s) left on the tenant (listed above)",
                    leftovers.len()
                )
            }));
        }
        replay::Ending::Panicked(message) => {
            return Err(VerifyError::Library(format!(
                "internal error (please report it): {}{}",
                redactor.scrub(&message),
                match (tenant.is_some(), leftovers.len()) {
                    (false, _) => String::new(),
                    (true, 0) => "; the tenant was cleaned up".into(),
                    (true, n) => format!("; {n} item(s) left on the tenant (listed above)"),
                }
            )));
        }
    };

    // What the relay and the states recorded is matched to each
    // interaction by its slot, never by order: interactions run
    // concurrently.
    let mut setups = executor.take_setups();
    let mut reports = Vec::with_capacity(results.len());
    for verified in &results {
        let mut report = Report::from_result(target_name.clone(), &verified.result);
        if let Some(relay) = &relay {
            for warning in relay.explain(&mut report, &verified.slots) {
                let _ = writeln!(progress, "warning: {}", redactor.scrub(&warning));
            }
        }
        let records: Vec<_> = verified
            .slots
            .iter()
            .map(|slot| setups.remove(slot).unwrap_or_default())
            .collect();
        report.explain_setup_failures(&records);
        reports.push(report);
    }
    if let (Some(relay), Some(first)) = (&relay, reports.first_mut()) {
        relay.unclaimed(first);
    }
    if let Some(first) = reports.first_mut() {
        first.skipped = skipped;
        first.leftovers = leftovers;
    }
    if let Some(error) = nothing_matched(settings, &reports) {
        return Err(error);
    }
    Ok((reports, redactor))
}

/// The error when filters are given and no interaction matched them (the
/// run checked nothing: exit 2, naming the filters).
fn nothing_matched(settings: &VerifySettings, reports: &[Report]) -> Option<VerifyError> {
    // Interactions left out for lockout risk are reported as skipped.
    if reports
        .iter()
        .any(|r| !r.outcomes.is_empty() || !r.skipped.is_empty())
    {
        return None;
    }
    let filters: Vec<String> = [
        ("--filter-description", &settings.filter_description),
        ("--filter-state", &settings.filter_state),
    ]
    .into_iter()
    .filter_map(|(flag, value)| value.as_ref().map(|re| format!("`{flag} {re}`")))
    .collect();
    if filters.is_empty() {
        return None;
    }
    Some(VerifyError::Flags(format!(
        "no interaction matches {}: nothing was checked. The regular expressions are matched against each interaction's description and provider-state names; run without the filter to see them listed",
        filters.join(" and ")
    )))
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

/// Writes the JUnit, JSON and Markdown reports `settings` asks for.
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
    if let Some(path) = &settings.summary {
        write_report(path, &report.markdown(redactor))?;
    }
    if let Some(path) = &settings.append_summary {
        use std::io::Write as _;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(format!("{}\n", report.markdown(redactor)).as_bytes()));
        appended.map_err(|e| VerifyError::Report {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

//! `orchestrator-pact verify`: replays pact files against a deployment.
//!
//! The path of one run ([`verify_batches`]): pact sources → the
//! [`VerifyTarget`] (built from the flags by `crate::cli`) set up, with its
//! state executor → request filter (credentials) → [`replay`] (one HTTP
//! client per run; through the bounded [`relay::Relay`] for a URL) →
//! clean-up of the tenant → report (console, JUnit, JSON, all through the
//! [`crate::redact::Redactor`]) → [`report::Verdict`].

pub(crate) mod auth;
pub(crate) mod cleanup;
pub(crate) mod progress;
pub(crate) mod quiet;
pub(crate) mod relay;
pub(crate) mod replay;
pub mod report;
pub(crate) mod target;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uipath_identity_client::client::error_chain;
use uipath_identity_client::contract::STATE_WRONG_OLD_PASSWORD;

use pact_verifier::{FilterInfo, PactSource, VerificationOptions};
use uipath_identity_client::{BaseUrl, BearerToken, IdentityClient, IdentityPrefix, UserId};
use url::Url;
use uuid::Uuid;

use crate::emulator::policy::PasswordPolicy;
use crate::emulator::{self, EmulatorConfig, EmulatorHandle};
use crate::http;
use crate::redact::Redactor;
use crate::sources::{self, PactBatch, PactFile, SourceError};
use crate::states::tenant::{Deadline, Ledger, TenantStates, UserMode, sweep};
use crate::states::{RecordingStates, StateExecutor};
use crate::tenant::{
    Credentials, RetryPolicy, Tenant, TenantError, Throttle, TokenSource, network_hint,
};
use auth::InjectCredentials;
use report::Report;
pub(crate) use target::{TenantCredentials, TestUser, VerifyTarget};

/// How long the clean-up after a signal waits for the tenant's answers
/// (each call's retries included) before it reports what is left: the
/// interactions under way finishing, then the sweep, together.
pub(crate) const SWEEP_AFTER_SIGNAL: Duration = Duration::from_secs(30);

/// How every request of a run reaches the target, the token endpoint and
/// the state URL.
#[derive(Clone, Debug)]
pub struct Connection {
    /// `identity_` (Automation Cloud and Suite) or `identity` (standalone).
    pub identity_prefix: IdentityPrefix,
    /// How set-up, teardown and token calls are retried.
    pub retry: RetryPolicy,
    /// Time-out of each request to the provider and to the state URL.
    pub request_timeout: Duration,
    /// The largest answer body read from the tenant or the state URL.
    pub max_body: usize,
    /// Accept any TLS certificate.
    pub disable_ssl_verification: bool,
}

impl Default for Connection {
    fn default() -> Self {
        Self {
            identity_prefix: IdentityPrefix::Cloud,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            max_body: http::DEFAULT_MAX_BODY,
            disable_ssl_verification: false,
        }
    }
}

/// The report files a run writes.
#[derive(Clone, Debug, Default)]
pub struct ReportFiles {
    /// Where to write a JUnit report.
    pub junit: Option<PathBuf>,
    /// Where to write a JSON report.
    pub json: Option<PathBuf>,
    /// Where to write a Markdown summary.
    pub summary: Option<PathBuf>,
    /// A file to append the Markdown summary to (GitHub's job summary).
    pub append_summary: Option<PathBuf>,
}

/// Everything one verification needs, parsed and checked.
#[derive(Clone, Debug, Default)]
pub struct VerifySettings {
    /// Pact files or folders of them; none: `pacts/` in the working
    /// directory, else the built-in contract.
    pub pacts: Vec<PathBuf>,
    /// What the requests go to and how its provider states are set up.
    pub target: VerifyTarget,
    /// How the target is reached.
    pub connection: Connection,
    /// Only interactions whose description matches this regex.
    pub filter_description: Option<String>,
    /// Only interactions whose provider state matches this regex.
    pub filter_state: Option<String>,
    /// The report files to write.
    pub reports: ReportFiles,
    /// Also print the pact library's own report.
    pub verbose: bool,
    /// How the progress of a long run is shown on stderr.
    pub progress: progress::ProgressStyle,
    /// Every secret of the run, shared with the log writer.
    pub redactor: Redactor,
    /// How many interactions run at a time (`--jobs`); `None`: the default
    /// of the target ([`jobs`]).
    pub jobs: Option<NonZeroUsize>,
}

/// What the binary and the tests set differently, apart from the settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestHooks {
    /// Keep the pact library's `println!` report off stdout (the binary
    /// does; tests running in threads must not).
    pub silence_library_stdout: bool,
    /// Testing the harness only: panic after this many tenant set-ups.
    pub panic_after_setups: Option<usize>,
}

/// How many interactions with throwaway users run at a time unless
/// `--jobs` says otherwise: each waits on the tenant (create, read back,
/// change, delete), so a few at once cut a live run's time by as much, and
/// eight keep the recorded contract's five in one wave while staying far
/// below any tenant's rate limit (a 429 pauses the whole run anyway).
pub(crate) const DEFAULT_JOBS: usize = 8;

/// How many interactions of `settings`' target run at a time: throwaway
/// users `--jobs` (default [`DEFAULT_JOBS`]); a state URL `--jobs` (default
/// one: its service must keep concurrent states apart); the embedded
/// emulator one (its state ledger pops users by state name); an existing
/// user one, and `--jobs` above one is refused (one user has one password).
pub(crate) fn jobs(settings: &VerifySettings) -> Result<usize, VerifyError> {
    let asked = settings.jobs.map(NonZeroUsize::get);
    match &settings.target {
        VerifyTarget::Embedded { .. } => Ok(1),
        VerifyTarget::StateUrl { .. } => Ok(asked.unwrap_or(1)),
        VerifyTarget::ExistingUser { .. } => match asked {
            Some(n) if n > 1 => Err(VerifyError::Flags(format!(
                "`--jobs {n}` cannot be used with an existing user (`--test-user-id`): its interactions change one user's password and must run one after another. Leave `--jobs` out (or give 1), or verify with throwaway users (`--organization-id` instead of `--test-user-id`)"
            ))),
            _ => Ok(1),
        },
        VerifyTarget::Throwaway { .. } => Ok(asked.unwrap_or(DEFAULT_JOBS)),
    }
}

/// How much longer the pact library waits for an answer than the relay
/// does, so that the relay's time-out, which names the flag, strikes first.
const RELAY_MARGIN: Duration = Duration::from_secs(5);

/// The policy generated passwords meet unless told otherwise: at least 16
/// characters with every class, which satisfies every policy UiPath ships.
pub(crate) fn strong_policy() -> PasswordPolicy {
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
pub(crate) enum VerifyError {
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
fn http_client(connection: &Connection) -> Result<reqwest::Client, VerifyError> {
    http::client(http::ClientSettings {
        timeout: connection.request_timeout,
        insecure: connection.disable_ssl_verification,
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

/// The tokens of a deployment's requests, from `credentials`.
fn token_source(
    connection: &Connection,
    credentials: &Credentials,
    http: &reqwest::Client,
    redactor: &Redactor,
) -> Arc<TokenSource> {
    Arc::new(
        TokenSource::new(
            credentials.clone(),
            http.clone(),
            connection.retry,
            redactor.clone(),
        )
        .with_max_body(connection.max_body),
    )
}

/// The tenant at `url` with `credentials`, its token fetched (so that
/// refused credentials fail here, exit 2).
pub(crate) async fn connect_tenant(
    connection: &Connection,
    url: &Url,
    credentials: &TenantCredentials,
    organization_id: Option<Uuid>,
    redactor: &Redactor,
) -> Result<Tenant, VerifyError> {
    let http = http_client(connection)?;
    probe(url, &http).await?;
    let tokens = token_source(connection, credentials.get(), &http, redactor);
    tenant_at(connection, url, organization_id, http, tokens, redactor).await
}

/// The tenant at `url`, reached with `http` and the tokens of `tokens`
/// (fetched now, so that refused credentials fail here, exit 2).
async fn tenant_at(
    connection: &Connection,
    url: &Url,
    organization_id: Option<Uuid>,
    http: reqwest::Client,
    tokens: Arc<TokenSource>,
    redactor: &Redactor,
) -> Result<Tenant, VerifyError> {
    tokens.refresh_if_needed().await?;
    let base = BaseUrl::parse(url.as_str(), connection.identity_prefix)
        .map_err(|e| VerifyError::Flags(e.to_string()))?;
    Ok(Tenant::new(
        IdentityClient::with_http(http, base, None).with_max_body(connection.max_body),
        organization_id,
        tokens,
        connection.retry,
        redactor.clone(),
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
                    .is_some_and(|states| {
                        states
                            .iter()
                            .any(|st| st["name"] == STATE_WRONG_OLD_PASSWORD)
                    });
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
pub(crate) async fn run(
    settings: &VerifySettings,
    hooks: TestHooks,
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
    let (mut reports, redactor) =
        verify_batches(settings, hooks, vec![batch], progress, shutdown).await?;
    let report = reports.pop().unwrap_or_default();
    print_console(settings, &report, &redactor, out);
    write_reports(settings, &report, &redactor)?;
    Ok(report)
}

/// A target, set up: where the requests go, what they carry, who sets up
/// provider states, and what must be stopped or undone after the run.
struct SetUp {
    /// The target's URL (the embedded emulator's, once it listens).
    url: Url,
    /// The tokens the requests carry.
    tokens: Option<Arc<TokenSource>>,
    /// Who sets up provider states.
    states: StateExecutor,
    /// The target as the reports name it.
    name: String,
    /// The embedded emulator, stopped after the run.
    embedded: Option<EmulatorHandle>,
    /// The tenant and the ledger of what to undo on it.
    tenant: Option<(Arc<Tenant>, Arc<Ledger>)>,
    /// Interactions left out (lockout risk), by description.
    skipped: Vec<String>,
}

/// Starts the embedded emulator, which accepts one token: `token`, or a
/// random one. The request filter injects it: the same path a live token
/// takes.
async fn set_up_embedded(
    settings: &VerifySettings,
    emulator_config: &EmulatorConfig,
    token: Option<&BearerToken>,
    http: &reqwest::Client,
) -> Result<SetUp, VerifyError> {
    let token = token
        .cloned()
        .unwrap_or_else(|| BearerToken::new(format!("embedded-{}", Uuid::new_v4().simple())));
    let config = EmulatorConfig {
        tokens: vec![token.clone().into()],
        ..emulator_config.clone()
    };
    let handle = emulator::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .map_err(VerifyError::Emulator)?;
    let url = Url::parse(&handle.url()).expect("the emulator's URL parses");
    let states = StateExecutor::Emulator(handle.emulator.clone());
    let name = format!("the embedded emulator at {}", handle.url());
    let tokens = TokenSource::new(
        Credentials::Token(token),
        http.clone(),
        settings.connection.retry,
        settings.redactor.clone(),
    );
    Ok(SetUp {
        url,
        tokens: Some(Arc::new(tokens)),
        states,
        name,
        embedded: Some(handle),
        tenant: None,
        skipped: Vec::new(),
    })
}

/// Checks that the deployment answers and that its token comes; provider
/// states go to the state URL.
async fn set_up_state_url(
    settings: &VerifySettings,
    target: (&Url, &Credentials),
    state_url: &Url,
    teardown: bool,
    http: &reqwest::Client,
) -> Result<SetUp, VerifyError> {
    let (url, credentials) = target;
    probe(url, http).await?;
    let tokens = token_source(&settings.connection, credentials, http, &settings.redactor);
    tokens.refresh_if_needed().await?;
    let states = StateExecutor::http(
        crate::states::StateUrl {
            url: state_url.clone(),
            teardown,
            retries: 3,
            http: http.clone(),
            max_body: settings.connection.max_body,
        },
        settings.redactor.clone(),
    );
    Ok(SetUp {
        url: url.clone(),
        tokens: Some(tokens),
        states,
        name: url.to_string(),
        embedded: None,
        tenant: None,
        skipped: Vec::new(),
    })
}

/// Connects to a tenant whose provider states the harness sets up itself,
/// with throwaway users or an existing one (`mode`), and leaves out the
/// interactions that risk locking an existing user out unless allowed.
async fn set_up_tenant(
    settings: &VerifySettings,
    hooks: TestHooks,
    target: TenantTarget<'_>,
    batches: &mut [PactBatch],
    http: &reqwest::Client,
    progress: &mut (dyn Write + Send),
) -> Result<SetUp, VerifyError> {
    let TenantTarget {
        url,
        credentials,
        organization_id,
        mode,
        policy,
        lockout_allowed,
    } = target;
    probe(url, http).await?;
    let tokens = token_source(&settings.connection, credentials, http, &settings.redactor);
    let mut skipped = Vec::new();
    if let UserMode::Existing { id, .. } = &mode {
        if !lockout_allowed {
            for batch in batches.iter_mut() {
                let (sources, left_out) = without_wrong_password(&batch.sources)?;
                batch.interactions -= left_out.len();
                batch.sources = sources;
                skipped.extend(left_out);
            }
        }
        let notice = existing_user_notice(id, url);
        let _ = writeln!(progress, "{}", settings.redactor.scrub(&notice));
    }
    let tenant = Arc::new(
        tenant_at(
            &settings.connection,
            url,
            organization_id,
            http.clone(),
            tokens.clone(),
            &settings.redactor,
        )
        .await?,
    );
    let ledger = Arc::new(Ledger::default());
    let states = StateExecutor::Tenant(
        TenantStates::new(
            tenant.clone(),
            mode,
            policy.clone(),
            settings.redactor.clone(),
            ledger.clone(),
        )
        .panicking_after(hooks.panic_after_setups)
        .with_progress(hooks.silence_library_stdout),
    );
    Ok(SetUp {
        url: url.clone(),
        tokens: Some(tokens),
        states,
        name: url.to_string(),
        embedded: None,
        tenant: Some((tenant, ledger)),
        skipped,
    })
}

/// A tenant whose provider states the harness sets up itself.
struct TenantTarget<'a> {
    url: &'a Url,
    credentials: &'a Credentials,
    organization_id: Option<Uuid>,
    mode: UserMode,
    policy: &'a PasswordPolicy,
    lockout_allowed: bool,
}

/// Sets up the target of `settings`: one function per kind of target.
async fn set_up(
    settings: &VerifySettings,
    hooks: TestHooks,
    batches: &mut [PactBatch],
    http: &reqwest::Client,
    progress: &mut (dyn Write + Send),
) -> Result<SetUp, VerifyError> {
    let tenant = match &settings.target {
        VerifyTarget::Embedded { emulator, token } => {
            return set_up_embedded(settings, emulator, token.as_ref(), http).await;
        }
        VerifyTarget::StateUrl {
            url,
            credentials,
            state_url,
            teardown,
        } => {
            let target = (url, credentials);
            return set_up_state_url(settings, target, state_url, *teardown, http).await;
        }
        VerifyTarget::Throwaway {
            url,
            credentials,
            organization_id,
            policy,
        } => TenantTarget {
            url,
            credentials: credentials.get(),
            organization_id: Some(*organization_id),
            mode: UserMode::Throwaway {
                run_id: Uuid::new_v4().simple().to_string()[..8].to_owned(),
                created: Default::default(),
            },
            policy,
            lockout_allowed: true,
        },
        VerifyTarget::ExistingUser {
            url,
            credentials,
            user,
            allow_lockout_risk,
            policy,
        } => TenantTarget {
            url,
            credentials: credentials.get(),
            organization_id: None,
            mode: UserMode::Existing {
                id: user.id,
                password: user.password.clone(),
            },
            policy,
            lockout_allowed: *allow_lockout_risk,
        },
    };
    set_up_tenant(settings, hooks, tenant, batches, http, progress).await
}

/// A deployment is reached through the bounded relay: the pact library
/// would read its answers whole. The relay's own time-out strikes first,
/// so that a slow answer is named as one. A 429 to a verified request
/// pauses the run through `tenant`'s throttle (a state-URL target, with no
/// tenant calls, gets one of its own). None for the embedded emulator.
async fn start_relay(
    settings: &VerifySettings,
    url: &Url,
    http: &reqwest::Client,
    tenant: Option<&Arc<Tenant>>,
) -> Result<Option<relay::Relay>, VerifyError> {
    if settings.target.url().is_none() {
        return Ok(None);
    }
    let retry = settings.connection.retry;
    let throttle = tenant.map_or_else(
        || Arc::new(Throttle::new(retry.base_delay, retry.max_delay)),
        |t| t.throttle(),
    );
    relay::Relay::start(
        url,
        http.clone(),
        settings.connection.max_body,
        settings.connection.request_timeout,
        throttle,
        retry,
    )
    .await
    .map(Some)
    .map_err(|e| VerifyError::Library(format!("could not start the relay on 127.0.0.1: {e}")))
}

/// The pact library's options for the run.
fn verification_options(
    settings: &VerifySettings,
    tokens: Option<Arc<TokenSource>>,
) -> VerificationOptions<InjectCredentials> {
    VerificationOptions {
        request_filter: Some(Arc::new(InjectCredentials::new(
            tokens,
            settings.connection.identity_prefix,
        ))),
        disable_ssl_verification: settings.connection.disable_ssl_verification,
        // A redirect is an answer the contract judges: never followed.
        follow_redirects: false,
        request_timeout: (settings.connection.request_timeout + RELAY_MARGIN)
            .as_millis()
            .min(u64::MAX as u128) as u64,
        coloured_output: false,
        no_pacts_is_error: true,
        ..VerificationOptions::default()
    }
}

/// Replays every batch with one pool of `run.jobs` workers, showing
/// progress, until done, a panic, or `shutdown` (then the interactions
/// under way finish within [`SWEEP_AFTER_SIGNAL`]).
async fn replay_batches(
    settings: &VerifySettings,
    hooks: TestHooks,
    batches: Vec<PactBatch>,
    url: &Url,
    run: replay::Replay<'_, InjectCredentials>,
    progress: &mut (dyn Write + Send),
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> replay::Ending<Vec<replay::Verified>> {
    let _silenced = if hooks.silence_library_stdout {
        quiet::SilencedStdout::new()
    } else {
        None
    };
    let interactions: usize = batches.iter().map(|b| b.interactions).sum();
    let mut shown = progress::Progress::new(settings.progress, interactions, Instant::now());
    let stop = run.stop;
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
                provider: target::provider_info(&batch.provider, url),
                sources: batch.sources,
            })
            .collect();
        replay::verify_all(&run, batches, &mut tell).await
    };
    let ending = replay::until_signal(verification, shutdown, stop, SWEEP_AFTER_SIGNAL).await;
    shown.finish(progress);
    ending
}

/// Whatever happened, undoes what was done on the tenant, and lists what
/// is left. A teardown cut short by the signal is back in the ledger and
/// sent again here: only an answer of the tenant counts as undone. After a
/// signal the sweep ends by the signal's deadline, so that the run still
/// ends.
async fn clean_up(
    tenant: Option<&(Arc<Tenant>, Arc<Ledger>)>,
    deadline: Option<Deadline>,
    redactor: &Redactor,
    progress: &mut (dyn Write + Send),
) -> Vec<String> {
    let mut leftovers = Vec::new();
    if let Some((tenant, ledger)) = tenant
        && !ledger.is_empty()
    {
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
    leftovers
}

/// The results of a run that ended, or the error of one that was
/// interrupted or panicked, saying what was left on the tenant.
fn finished<T>(
    ending: replay::Ending<T>,
    had_tenant: bool,
    leftovers: &[String],
    redactor: &Redactor,
) -> Result<T, VerifyError> {
    match ending {
        replay::Ending::Done(results) => Ok(results),
        replay::Ending::Interrupted(_) => Err(VerifyError::Interrupted(if leftovers.is_empty() {
            if had_tenant {
                "; everything it created on the tenant was removed".into()
            } else {
                String::new()
            }
        } else {
            format!(
                "; {} item(s) left on the tenant (listed above)",
                leftovers.len()
            )
        })),
        replay::Ending::Panicked(message) => Err(VerifyError::Library(format!(
            "internal error (please report it): {}{}",
            redactor.scrub(&message),
            match (had_tenant, leftovers.len()) {
                (false, _) => String::new(),
                (true, 0) => "; the tenant was cleaned up".into(),
                (true, n) => format!("; {n} item(s) left on the tenant (listed above)"),
            }
        ))),
    }
}

/// One report per batch result, with the relay's explanations and the
/// reasons of failed set-ups; the first carries what the run left out and
/// left behind.
fn build_reports(
    results: &[replay::Verified],
    target_name: &str,
    relay: Option<&relay::Relay>,
    executor: &RecordingStates,
    left: (Vec<String>, Vec<String>),
    redactor: &Redactor,
    progress: &mut (dyn Write + Send),
) -> Vec<Report> {
    // What the relay and the states recorded is matched to each
    // interaction by its slot, never by order: interactions run
    // concurrently.
    let mut setups = executor.take_setups();
    let mut reports = Vec::with_capacity(results.len());
    for verified in results {
        let mut report = Report::from_result(target_name.to_owned(), &verified.result);
        if let Some(relay) = relay {
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
    if let (Some(relay), Some(first)) = (relay, reports.first_mut()) {
        relay.unclaimed(first);
    }
    if let Some(first) = reports.first_mut() {
        (first.skipped, first.leftovers) = left;
    }
    reports
}

/// Sets up the target of `settings` once, verifies each batch against it
/// with its own call of the pact library, and returns one report per batch
/// with the run's redactor (`settings.redactor`, which by then knows every
/// secret of the run). Prints only progress. Stops when `shutdown`
/// completes; cleans the tenant up in every case.
pub(crate) async fn verify_batches(
    settings: &VerifySettings,
    hooks: TestHooks,
    batches: Vec<PactBatch>,
    progress: &mut (dyn Write + Send),
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(Vec<Report>, Redactor), VerifyError> {
    let filter = filter(settings)?;
    let jobs = jobs(settings)?;
    let mut batches = batches;
    let redactor = settings.redactor.clone();
    settings.target.register_secrets(&redactor);
    let http = http_client(&settings.connection)?;
    let set_up = set_up(settings, hooks, &mut batches, &http, progress).await?;

    let interactions: usize = batches.iter().map(|b| b.interactions).sum();
    let _ = writeln!(
        progress,
        "verifying {interactions} interactions from {} pact(s) against {}",
        batches.iter().map(|b| b.pacts).sum::<usize>(),
        set_up.name,
    );
    let tenant = set_up.tenant.as_ref().map(|(t, _)| t);
    let relay = start_relay(settings, &set_up.url, &http, tenant).await?;
    let replay_url = relay
        .as_ref()
        .map_or_else(|| set_up.url.clone(), |r| r.url_for(&set_up.url));
    let options = verification_options(settings, set_up.tokens.clone());
    let executor = RecordingStates::new(set_up.states);
    let client =
        replay::provider_client(&options).map_err(|e| VerifyError::Library(e.to_string()))?;
    let stop = replay::Stop::default();
    let run = replay::Replay {
        filter: &filter,
        options: &options,
        executor: &executor,
        client: &client,
        jobs,
        tag_requests: relay.is_some(),
        stop: &stop,
    };
    let ending = replay_batches(
        settings,
        hooks,
        batches,
        &replay_url,
        run,
        progress,
        shutdown,
    )
    .await;
    if let Some(handle) = set_up.embedded {
        handle.stop().await;
    }

    let deadline = match &ending {
        replay::Ending::Interrupted(deadline) => Some(*deadline),
        _ => None,
    };
    let leftovers = clean_up(set_up.tenant.as_ref(), deadline, &redactor, progress).await;
    let results = finished(ending, set_up.tenant.is_some(), &leftovers, &redactor)?;
    let left = (set_up.skipped, leftovers);
    let reports = build_reports(
        &results,
        &set_up.name,
        relay.as_ref(),
        &executor,
        left,
        &redactor,
        progress,
    );
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
pub(crate) fn print_console(
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
pub(crate) fn write_reports(
    settings: &VerifySettings,
    report: &Report,
    redactor: &Redactor,
) -> Result<(), VerifyError> {
    let files = &settings.reports;
    if let Some(path) = &files.junit {
        write_report(path, &report.junit(redactor))?;
    }
    if let Some(path) = &files.json {
        let json =
            serde_json::to_string_pretty(&report.json(redactor)).expect("a JSON value serialises");
        write_report(path, &json)?;
    }
    if let Some(path) = &files.summary {
        write_report(path, &report.markdown(redactor))?;
    }
    if let Some(path) = &files.append_summary {
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

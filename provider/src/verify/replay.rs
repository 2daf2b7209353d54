//! The replay loop: each interaction of each pact, its provider states set
//! up, its request sent, its response matched, its states torn down, with
//! one HTTP client (and its connections) for the whole run.
//!
//! Why not `pact_verifier::verify_provider_async`: per interaction it builds
//! a new HTTP client (decoding every TLS root certificate, opening a new
//! connection) and clones the whole pact twice, so a run costs the square
//! of its interactions (500: 18 s, 5,000: 25 min). This loop uses the same
//! parts of the pact crates (`pact_matching::generate_request` with the
//! provider-state values, `pact_verifier::provider_client::make_provider_request`
//! with the request filter, `pact_matching::match_response`) and gives the
//! same `VerificationExecutionResult`, the library's report lines included,
//! so every report reads as before.
//!
//! Interactions run up to `--jobs` at a time, from one pool over every
//! pact of the run (a broker's many pacts included). Each has a slot, its
//! position in the run in pact order: its provider states, its ledger
//! entries and what the relay saw of its request are kept under that slot,
//! and results are gathered in slot order, so that every report is the
//! same for one job and for many.

use std::collections::{BTreeMap, HashMap};
use std::panic::RefUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::relay::SLOT_HEADER;
use crate::sources::{LoadedPact, PactText};
use crate::states::tenant::Deadline;
use crate::states::{RecordingStates, Slot};
use futures_util::{FutureExt, StreamExt};
use humantime::format_duration;
use pact_matching::Mismatch;
use pact_models::generators::GeneratorTestMode;
use pact_models::interaction::Interaction;
use pact_models::pact::Pact;
use pact_models::provider_states::ProviderState;
use pact_models::v4::interaction::V4Interaction;
use pact_models::v4::synch_http::SynchronousHttp;
use pact_verifier::callback_executors::{ProviderStateError, RequestFilterExecutor};
use pact_verifier::provider_client::make_provider_request;
use pact_verifier::verification_result::{
    VerificationExecutionResult, VerificationInteractionResult,
};
use pact_verifier::{
    FilterInfo, MismatchResult, PactSource, ProviderInfo, VerificationOptions,
    interaction_mismatch_output,
};
use serde_json::Value;

type BoxedPact = Box<dyn Pact + Send + Sync + RefUnwindSafe>;

/// The HTTP client of a run's verified requests, built once by the one
/// client builder ([`crate::http::client`]): the run's time-out and TLS
/// setting, the command's user agent, and no redirect followed (a verified
/// answer's redirect is judged by the contract, never followed).
pub(crate) fn provider_client<F: RequestFilterExecutor>(
    options: &VerificationOptions<F>,
) -> anyhow::Result<reqwest::Client> {
    anyhow::ensure!(
        options.custom_headers.is_empty(),
        "custom headers are not supported by the replay loop"
    );
    Ok(crate::http::client(crate::http::ClientSettings {
        timeout: Duration::from_millis(options.request_timeout),
        insecure: options.disable_ssl_verification,
        // `verify` never sets `follow_redirects`; were it set, a redirect
        // would still not leave the origin with the request's credentials.
        redirects: if options.follow_redirects {
            crate::http::Redirects::SameOrigin
        } else {
            crate::http::Redirects::Never
        },
    })?)
}

/// Loads a pact as the pact library does for the same source.
fn load(source: &PactSource) -> anyhow::Result<LoadedPact> {
    let (name, text): (&str, PactText) = match source {
        PactSource::File(path) => (
            path.as_str(),
            serde_json::from_str(&std::fs::read_to_string(path)?)?,
        ),
        PactSource::String(json) => ("<json>", serde_json::from_str(json)?),
        other => anyhow::bail!("the replay loop reads files and strings, not {other}"),
    };
    LoadedPact::from_text(name, text)
}

/// Whether `filter` selects `interaction` (the pact library's rule).
fn selected(interaction: &dyn Interaction, filter: &FilterInfo) -> bool {
    if filter.is_for_interaction_ids() {
        filter.match_ids(interaction)
    } else {
        (!filter.has_description() || filter.match_description(interaction))
            && (!filter.has_state() || filter.match_state(interaction))
    }
}

/// What the loop tells its caller as it goes, for progress.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event<'a> {
    /// How many interactions the filter selected, before the first runs.
    Planned(usize),
    /// An interaction was verified (or failed).
    Interaction(&'a VerificationInteractionResult),
    /// Every selected interaction of a pact was verified.
    Pact {
        /// The pact's consumer.
        consumer: &'a str,
        /// The pact's provider.
        provider: &'a str,
    },
}

/// Once stopped (a signal), no further interaction of the run starts;
/// those under way finish, teardown included, without sending their
/// request if they have not yet.
#[derive(Debug, Default)]
pub(crate) struct Stop(AtomicBool);

impl Stop {
    /// Stops the run.
    pub(crate) fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the run was stopped.
    pub(crate) fn stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How a run of the loop ended.
#[derive(Debug)]
pub(crate) enum Ending<T> {
    /// It finished.
    Done(T),
    /// A signal stopped it; the clean-up must end by the deadline.
    Interrupted(Deadline),
    /// The harness panicked (the message).
    Panicked(String),
}

/// Runs `verification` until it finishes or `shutdown` completes. The
/// signal is looked at first: one that came before the verification
/// started (the handlers are installed early) stops it before it creates
/// anything. After a signal `stop` is set: nothing new starts, and the
/// interactions under way finish, their teardowns included (a create or a
/// change still in flight would otherwise land after the sweep), within
/// `bound`; the sweep then has what is left of it. A panic is caught.
pub(crate) async fn until_signal<T>(
    verification: impl Future<Output = T>,
    shutdown: impl Future<Output = ()>,
    stop: &Stop,
    bound: Duration,
) -> Ending<T> {
    let verification = std::panic::AssertUnwindSafe(verification).catch_unwind();
    let mut verification = std::pin::pin!(verification);
    let first = tokio::select! {
        biased;
        () = shutdown => None,
        result = &mut verification => Some(result),
    };
    match first {
        Some(Ok(done)) => Ending::Done(done),
        Some(Err(panic)) => Ending::Panicked(crate::logging::panic_message(&*panic)),
        None => {
            let deadline = Deadline {
                at: tokio::time::Instant::now() + bound,
                bound,
            };
            stop.stop();
            let _ = tokio::time::timeout_at(deadline.at, &mut verification).await;
            Ending::Interrupted(deadline)
        }
    }
}

/// How one run replays its pacts: what every interaction shares.
#[derive(Debug)]
pub(crate) struct Replay<'a, F: RequestFilterExecutor> {
    /// Which interactions.
    pub filter: &'a FilterInfo,
    /// The pact library's options (request filter, time-out, redirects).
    pub options: &'a VerificationOptions<F>,
    /// The provider states, recorded per slot.
    pub executor: &'a RecordingStates,
    /// The one HTTP client of the verified requests.
    pub client: &'a reqwest::Client,
    /// How many interactions run at a time (at least one).
    pub jobs: usize,
    /// Whether each verified request carries its slot in
    /// [`super::relay::SLOT_HEADER`], for the relay to tell whose answer
    /// it could not pass on.
    pub tag_requests: bool,
    /// Set on a signal.
    pub stop: &'a Stop,
}

/// One pact batch to verify: a provider and its pact sources.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The provider, pointed at the target.
    pub provider: ProviderInfo,
    /// Its pacts.
    pub sources: Vec<PactSource>,
}

/// What the run verified of one batch: the pact library's result, and the
/// slot of each of its interaction results (in the same order), so that
/// what the states and the relay recorded per slot lands on the right one.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The result, as `verify_provider_async` gives it.
    pub result: VerificationExecutionResult,
    /// `slots[i]` is the slot of `result.interaction_results[i]`.
    pub slots: Vec<Slot>,
}

type Chosen = (LoadedPact, Vec<usize>, Duration);
type Failures = Vec<(String, MismatchResult)>;

/// Loads every pact of every batch, with the interactions `filter` selects;
/// a pact that does not load is an error of its batch.
fn load_all(batches: &[Batch], filter: &FilterInfo) -> Vec<(Vec<Chosen>, Failures)> {
    let mut all = Vec::with_capacity(batches.len());
    for batch in batches {
        let mut loaded = Vec::with_capacity(batch.sources.len());
        let mut errors = Vec::new();
        for source in &batch.sources {
            let start = Instant::now();
            let chosen = load(source).and_then(|pact| {
                let mut chosen = Vec::new();
                for index in 0..pact.len() {
                    if selected(
                        pact.interaction(index)?.as_ref() as &dyn Interaction,
                        filter,
                    ) {
                        chosen.push(index);
                    }
                }
                Ok((pact, chosen))
            });
            match chosen {
                Ok((pact, chosen)) => {
                    let loading = Duration::from_millis(start.elapsed().as_millis() as u64);
                    loaded.push((pact, chosen, loading));
                }
                Err(e) => errors.push((
                    "Failed to load pact".into(),
                    MismatchResult::Error(format!("{e:#}"), None),
                )),
            }
        }
        all.push((loaded, errors));
    }
    all
}

type Outcome = (
    Box<dyn V4Interaction + Send + Sync + RefUnwindSafe>,
    Result<Option<String>, MismatchResult>,
    Duration,
);

/// Verifies every interaction of every batch against its provider, up to
/// `replay.jobs` at a time from one pool over all batches, telling `events`
/// as it goes. Results, events and report lines come in pact order
/// whatever the concurrency: each interaction has its slot (its position
/// in the run), and they are gathered in slot order. Each batch's result
/// is the one `verify_provider_async` gives for its pacts (without
/// printing it).
pub(crate) async fn verify_all<F: RequestFilterExecutor>(
    replay: &Replay<'_, F>,
    batches: Vec<Batch>,
    events: &mut (dyn FnMut(Event<'_>) + Send),
) -> Vec<Verified> {
    pact_matching::matchingrules::configure_core_catalogue();
    // Every pact is loaded first, so that the number of interactions to
    // verify is known before the first one runs.
    let loaded = load_all(&batches, replay.filter);
    let mut plan = Vec::new();
    for (b, (pacts, _)) in loaded.iter().enumerate() {
        for (p, (_, chosen, _)) in pacts.iter().enumerate() {
            plan.extend(chosen.iter().map(|&index| (b, p, index)));
        }
    }
    events(Event::Planned(plan.len()));
    let (loaded, batches) = (&loaded, &batches);
    // Unordered, so that a slow interaction (a 2 s Retry-After) does not
    // hold the other workers back; put back in slot order below.
    let mut outcomes = futures_util::stream::iter(plan.into_iter().enumerate())
        .map(|(slot, (b, p, index))| async move {
            if replay.stop.stopped() {
                return (slot, None);
            }
            let pact = &loaded[b].0[p].0;
            let outcome = match pact.interaction(index) {
                Ok(interaction) => {
                    let provider = &batches[b].provider;
                    let (result, duration) =
                        verify_one(replay, provider, interaction.as_ref(), &pact.pact, slot).await;
                    Ok((interaction, result, duration))
                }
                Err(e) => Err(e),
            };
            (slot, Some(outcome))
        })
        .buffer_unordered(replay.jobs.max(1));
    // Outcomes that finished before an earlier slot's, until their turn.
    let mut early = BTreeMap::new();
    let mut slot = 0;
    let mut all = Vec::with_capacity(batches.len());
    for (pacts, load_errors) in loaded {
        let mut run = VerificationExecutionResult::new();
        let mut slots = Vec::new();
        let mut errors: Vec<(String, MismatchResult)> = load_errors
            .iter()
            .map(|(d, e)| (d.clone(), clone_mismatch(e)))
            .collect();
        let mut pending_errors = Vec::new();
        for (pact, chosen, loading) in pacts {
            let (consumer, provider_name) = (pact.pact.consumer().name, pact.pact.provider().name);
            run.output.push(format!(
                "\nVerifying a pact between {consumer} and {provider_name}"
            ));
            if pact.is_empty() {
                run.output
                    .push("WARNING: Pact file has no interactions".into());
                continue;
            }
            for _ in chosen {
                let this = slot;
                slot += 1;
                let outcome = loop {
                    if let Some(outcome) = early.remove(&this) {
                        break outcome;
                    }
                    match outcomes.next().await {
                        Some((done, outcome)) => {
                            early.insert(done, outcome);
                        }
                        None => break None,
                    }
                };
                match outcome {
                    // Not started: the run was stopped, its report unused.
                    None => {}
                    Some(Err(e)) => errors.push((
                        "Failed to load pact".into(),
                        MismatchResult::Error(format!("{e:#}"), None),
                    )),
                    Some(Ok(outcome)) => {
                        let lists = (&mut errors, &mut pending_errors);
                        let result = record(
                            &mut run,
                            lists,
                            (&consumer, &provider_name),
                            *loading,
                            outcome,
                        );
                        events(Event::Interaction(&result));
                        run.interaction_results.push(result);
                        slots.push(this);
                    }
                }
            }
            events(Event::Pact {
                consumer: &consumer,
                provider: &provider_name,
            });
            run.output.push(String::new());
        }
        finish(
            &mut run,
            errors,
            pending_errors,
            replay.options.coloured_output,
        );
        all.push(Verified { result: run, slots });
    }
    all
}

/// One verified interaction's report lines, error-list entry and result.
fn record(
    run: &mut VerificationExecutionResult,
    (errors, pending_errors): (&mut Failures, &mut Failures),
    (consumer, provider_name): (&str, &str),
    loading: Duration,
    (interaction, result, duration): Outcome,
) -> VerificationInteractionResult {
    let states: Vec<String> = interaction
        .provider_states()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut description = format!("Verifying a pact between {consumer} and {provider_name}");
    for (n, state) in states.iter().enumerate() {
        description.push_str(if n == 0 { " Given " } else { " And " });
        description.push_str(state);
    }
    description.push_str(" - ");
    description.push_str(&interaction.description());
    report_lines(
        &mut run.output,
        interaction.as_ref(),
        &states,
        &result,
        loading,
        duration,
    );
    let pending = interaction.pending();
    if let Err(error) = &result {
        let list = if pending { pending_errors } else { errors };
        list.push((description.clone(), clone_mismatch(error)));
    }
    VerificationInteractionResult {
        interaction_id: interaction.id(),
        interaction_key: interaction.key(),
        consumer: consumer.to_owned(),
        provider: provider_name.to_owned(),
        description,
        interaction_description: interaction.description(),
        provider_states: states,
        result: result.map(|_| ()),
        pending,
        duration,
    }
}

fn clone_mismatch(error: &MismatchResult) -> MismatchResult {
    match error {
        MismatchResult::Mismatches {
            mismatches,
            expected,
            actual,
            interaction_id,
        } => MismatchResult::Mismatches {
            mismatches: mismatches.clone(),
            expected: expected.boxed(),
            actual: actual.boxed(),
            interaction_id: interaction_id.clone(),
        },
        MismatchResult::Error(e, id) => MismatchResult::Error(e.clone(), id.clone()),
    }
}

/// The library's closing lines and error lists.
fn finish(
    run: &mut VerificationExecutionResult,
    errors: Vec<(String, MismatchResult)>,
    pending_errors: Vec<(String, MismatchResult)>,
    coloured: bool,
) {
    let listing = |title: &str, list: &[(String, MismatchResult)], output: &mut Vec<String>| {
        output.push(title.to_owned());
        for (i, (description, mismatch)) in list.iter().enumerate() {
            match mismatch {
                MismatchResult::Error(e, _) => {
                    output.push(format!("{}) {description} - {e}\n", i + 1))
                }
                MismatchResult::Mismatches {
                    mismatches,
                    expected,
                    actual,
                    ..
                } => interaction_mismatch_output(
                    output,
                    coloured,
                    i,
                    description,
                    mismatches,
                    expected.as_ref(),
                    actual.as_ref(),
                ),
            }
        }
    };
    if !pending_errors.is_empty() {
        listing("\nPending Failures:\n", &pending_errors, &mut run.output);
        run.output.push(format!("\nThere were {} non-fatal pact failures on pending pacts or interactions (see docs.pact.io/pending for more information)\n", pending_errors.len()));
    }
    if errors.is_empty() {
        run.output.push(String::new());
    } else {
        listing("\nFailures:\n", &errors, &mut run.output);
        run.output
            .push(format!("\nThere were {} pact failures\n", errors.len()));
        run.result = false;
    }
    run.errors = errors.iter().map(|(d, e)| (d.clone(), e.into())).collect();
    run.pending_errors = pending_errors
        .iter()
        .map(|(d, e)| (d.clone(), e.into()))
        .collect();
}

/// One interaction in `slot`: states set up, request, match, states torn
/// down. After a stop, an interaction whose states are set up sends no
/// request, but is torn down.
async fn verify_one<F: RequestFilterExecutor>(
    replay: &Replay<'_, F>,
    provider: &ProviderInfo,
    interaction: &(dyn V4Interaction + Send + Sync + RefUnwindSafe),
    pact: &BoxedPact,
    slot: Slot,
) -> (Result<Option<String>, MismatchResult>, Duration) {
    let start = Instant::now();
    let result = async {
        let values = states(interaction, replay.executor, slot, true).await?;
        let mut context: HashMap<String, Value> = HashMap::new();
        for state in interaction.provider_states() {
            context.extend(state.params);
        }
        context.extend(values);
        let context: HashMap<&str, Value> = context
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let result = match interaction.as_v4_http() {
            _ if replay.stop.stopped() => Err(MismatchResult::Error(
                "interrupted before the request was sent".into(),
                interaction.id(),
            )),
            Some(http) => exchange(replay, provider, &http, pact, &context, slot).await,
            None => Err(MismatchResult::Error(
                "No interaction was verified".into(),
                interaction.id(),
            )),
        };
        if replay.executor.teardown() {
            states(interaction, replay.executor, slot, false).await?;
        }
        result
    }
    .await;
    (
        result,
        Duration::from_millis(start.elapsed().as_millis() as u64),
    )
}

/// Sends the interaction's request (with generated values) and matches the
/// response, as `pact_verifier` does.
async fn exchange<F: RequestFilterExecutor>(
    replay: &Replay<'_, F>,
    provider: &ProviderInfo,
    interaction: &SynchronousHttp,
    pact: &BoxedPact,
    context: &HashMap<&str, Value>,
    slot: Slot,
) -> Result<Option<String>, MismatchResult> {
    let id = interaction.id.clone();
    let mut request = pact_matching::generate_request(
        &interaction.request,
        &GeneratorTestMode::Provider,
        context,
    )
    .await;
    if replay.tag_requests {
        request
            .headers
            .get_or_insert_with(HashMap::new)
            .insert(SLOT_HEADER.to_owned(), vec![slot.to_string()]);
    }
    let transport = provider
        .transports
        .iter()
        .find(|t| match &interaction.transport {
            Some(name) => &t.transport == name,
            None => t.transport == "http",
        })
        .cloned()
        .map(|mut t| {
            t.scheme.get_or_insert_with(|| "http".into());
            t
        });
    let actual =
        make_provider_request(provider, &request, replay.options, replay.client, transport)
            .await
            .map_err(|e| MismatchResult::Error(e.to_string(), id.clone()))?;
    let mismatches = pact_matching::match_response(
        interaction.response.clone(),
        actual.clone(),
        pact,
        &interaction.boxed(),
    )
    .await
    .map_err(|e| MismatchResult::Error(e.to_string(), id.clone()))?;
    let mismatches = body_mismatches_in_order(mismatches);
    if mismatches.is_empty() {
        Ok(id)
    } else {
        Err(MismatchResult::Mismatches {
            mismatches,
            expected: Box::new(interaction.clone()),
            actual: Box::new(SynchronousHttp {
                response: actual,
                ..SynchronousHttp::default()
            }),
            interaction_id: id,
        })
    }
}

/// `mismatches` with the body mismatches among themselves in the order of
/// their paths (then descriptions), each other mismatch where it was: the
/// pact library gives a JSON body's mismatches in hash-map order, which
/// differs from run to run, and a report must not.
fn body_mismatches_in_order(mut mismatches: Vec<Mismatch>) -> Vec<Mismatch> {
    let at: Vec<usize> = (0..mismatches.len())
        .filter(|&i| matches!(mismatches[i], Mismatch::BodyMismatch { .. }))
        .collect();
    let mut body: Vec<Mismatch> = at.iter().map(|&i| mismatches[i].clone()).collect();
    body.sort_by(|a, b| match (a, b) {
        (
            Mismatch::BodyMismatch {
                path: p,
                mismatch: m,
                ..
            },
            Mismatch::BodyMismatch {
                path: q,
                mismatch: n,
                ..
            },
        ) => (p, m).cmp(&(q, n)),
        _ => std::cmp::Ordering::Equal,
    });
    for (i, m) in at.into_iter().zip(body) {
        mismatches[i] = m;
    }
    mismatches
}

/// Sets up (or tears down) every provider state of `interaction`, in order;
/// the values they give, merged.
async fn states(
    interaction: &(dyn V4Interaction + Send + Sync + RefUnwindSafe),
    executor: &RecordingStates,
    slot: Slot,
    setup: bool,
) -> Result<HashMap<String, Value>, MismatchResult> {
    let mut list = interaction.provider_states();
    if list.is_empty() {
        list.push(ProviderState::default(""));
    }
    let mut values = HashMap::new();
    let mut failed = false;
    for state in &list {
        match executor.call(slot, interaction.id(), state, setup).await {
            Ok(v) => values.extend(v),
            Err(e) => {
                tracing::error!(
                    "Provider {} state change for '{}' has failed - {e:?}",
                    if setup { "setup" } else { "teardown" },
                    state.name
                );
                if let Some(e) = e.downcast_ref::<ProviderStateError>() {
                    tracing::debug!(reason = %e.description, "provider state failed");
                }
                failed = true;
            }
        }
    }
    if failed {
        return Err(MismatchResult::Error(
            format!(
                "One or more of the {} state change handlers has failed",
                if setup { "setup" } else { "teardown" }
            ),
            interaction.id(),
        ));
    }
    Ok(values)
}

/// The pact library's report lines for one interaction (uncoloured).
fn report_lines(
    output: &mut Vec<String>,
    interaction: &(dyn V4Interaction + Send + Sync + RefUnwindSafe),
    states: &[String],
    result: &Result<Option<String>, MismatchResult>,
    loading: Duration,
    duration: Duration,
) {
    output.push(String::new());
    output.push(format!(
        "  {} ({} loading, {} verification){}",
        interaction.description(),
        format_duration(loading),
        format_duration(duration),
        if interaction.pending() {
            " [PENDING]"
        } else {
            ""
        }
    ));
    for (n, state) in states.iter().enumerate() {
        output.push(format!(
            "     {} {state}",
            if n == 0 { "Given" } else { "And" }
        ));
    }
    let Some(http) = interaction.as_v4_http() else {
        return;
    };
    let mismatches: &[Mismatch] = match result {
        Err(MismatchResult::Error(e, _)) => {
            output.push(format!("      Request Failed - {e}"));
            return;
        }
        Err(MismatchResult::Mismatches { mismatches, .. }) => mismatches,
        Ok(_) => &[],
    };
    let verdict = |failed: bool| if failed { "FAILED" } else { "OK" };
    let kind = |kinds: &[&str]| {
        verdict(
            mismatches
                .iter()
                .any(|m| kinds.contains(&m.mismatch_type())),
        )
    };
    output.push("    returns a response which".into());
    output.push(format!(
        "      has status code {} ({})",
        http.response.status,
        kind(&["StatusMismatch"])
    ));
    if let Some(headers) = &http.response.headers {
        output.push("      includes headers".into());
        for (key, values) in headers {
            let failed = mismatches
                .iter()
                .any(|m| matches!(m, Mismatch::HeaderMismatch { key: k, .. } if k == key));
            output.push(format!(
                "        \"{key}\" with value \"{}\" ({})",
                values.join(", "),
                verdict(failed)
            ));
        }
    }
    output.push(format!(
        "      has a matching body ({})",
        kind(&["BodyMismatch", "BodyTypeMismatch"])
    ));
}

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

use std::collections::HashMap;
use std::panic::RefUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sources::{LoadedPact, PactText};
use humantime::format_duration;
use pact_matching::Mismatch;
use pact_models::generators::GeneratorTestMode;
use pact_models::interaction::Interaction;
use pact_models::pact::Pact;
use pact_models::provider_states::ProviderState;
use pact_models::v4::interaction::V4Interaction;
use pact_models::v4::synch_http::SynchronousHttp;
use pact_verifier::callback_executors::{
    ProviderStateError, ProviderStateExecutor, RequestFilterExecutor,
};
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

/// Verifies every interaction of `sources` against `provider` with the one
/// `client`, telling `events` as it goes; the result is the one
/// `verify_provider_async` gives for the same pacts (without printing it).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn verify<F: RequestFilterExecutor, S: ProviderStateExecutor>(
    provider: &ProviderInfo,
    sources: Vec<PactSource>,
    filter: &FilterInfo,
    options: &VerificationOptions<F>,
    executor: &Arc<S>,
    client: &reqwest::Client,
    events: &mut (dyn FnMut(Event<'_>) + Send),
) -> VerificationExecutionResult {
    pact_matching::matchingrules::configure_core_catalogue();
    let mut run = VerificationExecutionResult::new();
    let mut errors: Vec<(String, MismatchResult)> = Vec::new();
    let mut pending_errors: Vec<(String, MismatchResult)> = Vec::new();
    // Every pact is loaded first, so that the number of interactions to
    // verify is known before the first one runs.
    let mut loaded = Vec::with_capacity(sources.len());
    for source in sources {
        let start = Instant::now();
        let chosen = load(&source).and_then(|pact| {
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
    events(Event::Planned(
        loaded.iter().map(|(_, chosen, _)| chosen.len()).sum(),
    ));
    for (loaded, chosen, loading) in loaded {
        let pact = &loaded.pact;
        let (consumer, provider_name) = (pact.consumer().name, pact.provider().name);
        run.output.push(format!(
            "\nVerifying a pact between {consumer} and {provider_name}"
        ));
        if loaded.is_empty() {
            run.output
                .push("WARNING: Pact file has no interactions".into());
            continue;
        }
        for index in chosen {
            // Built and checked on loading already, so this does not fail.
            let interaction = match loaded.interaction(index) {
                Ok(interaction) => interaction,
                Err(e) => {
                    errors.push((
                        "Failed to load pact".into(),
                        MismatchResult::Error(format!("{e:#}"), None),
                    ));
                    continue;
                }
            };
            let (result, duration) = verify_one(
                provider,
                interaction.as_ref(),
                pact,
                options,
                executor,
                client,
            )
            .await;
            let states: Vec<String> = interaction
                .provider_states()
                .iter()
                .map(|s| s.name.clone())
                .collect();
            let mut description =
                format!("Verifying a pact between {consumer} and {provider_name}");
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
                let list = if pending {
                    &mut pending_errors
                } else {
                    &mut errors
                };
                list.push((description.clone(), clone_mismatch(error)));
            }
            let outcome = VerificationInteractionResult {
                interaction_id: interaction.id(),
                interaction_key: interaction.key(),
                consumer: consumer.clone(),
                provider: provider_name.clone(),
                description,
                interaction_description: interaction.description(),
                provider_states: states,
                result: result.map(|_| ()),
                pending,
                duration,
            };
            events(Event::Interaction(&outcome));
            run.interaction_results.push(outcome);
        }
        events(Event::Pact {
            consumer: &consumer,
            provider: &provider_name,
        });
        run.output.push(String::new());
    }
    finish(&mut run, errors, pending_errors, options.coloured_output);
    run
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

/// One interaction: states set up, request, match, states torn down.
async fn verify_one<F: RequestFilterExecutor, S: ProviderStateExecutor>(
    provider: &ProviderInfo,
    interaction: &(dyn V4Interaction + Send + Sync + RefUnwindSafe),
    pact: &BoxedPact,
    options: &VerificationOptions<F>,
    executor: &Arc<S>,
    client: &reqwest::Client,
) -> (Result<Option<String>, MismatchResult>, Duration) {
    let start = Instant::now();
    let result = async {
        let values = states(interaction, executor, client, true).await?;
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
            Some(http) => exchange(provider, &http, pact, options, client, &context).await,
            None => Err(MismatchResult::Error(
                "No interaction was verified".into(),
                interaction.id(),
            )),
        };
        if executor.teardown() {
            states(interaction, executor, client, false).await?;
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
    provider: &ProviderInfo,
    interaction: &SynchronousHttp,
    pact: &BoxedPact,
    options: &VerificationOptions<F>,
    client: &reqwest::Client,
    context: &HashMap<&str, Value>,
) -> Result<Option<String>, MismatchResult> {
    let id = interaction.id.clone();
    let request = pact_matching::generate_request(
        &interaction.request,
        &GeneratorTestMode::Provider,
        context,
    )
    .await;
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
    let actual = make_provider_request(provider, &request, options, client, transport)
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

/// Sets up (or tears down) every provider state of `interaction`, in order;
/// the values they give, merged.
async fn states<S: ProviderStateExecutor>(
    interaction: &(dyn V4Interaction + Send + Sync + RefUnwindSafe),
    executor: &Arc<S>,
    client: &reqwest::Client,
    setup: bool,
) -> Result<HashMap<String, Value>, MismatchResult> {
    let mut list = interaction.provider_states();
    if list.is_empty() {
        list.push(ProviderState::default(""));
    }
    let mut values = HashMap::new();
    let mut failed = false;
    for state in &list {
        match executor
            .clone()
            .call(interaction.id(), state, setup, Some(client))
            .await
        {
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

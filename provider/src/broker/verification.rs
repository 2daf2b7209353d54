//! `orchestrator-pact verify --broker-url …`: fetch the pacts the broker
//! selects for this provider ("pacts for verification"), verify each one
//! with its own call of the pact library, and publish each one's results to
//! its `pb:publish-verification-results` link.
//!
//! Not pact_verifier's own broker support: it only logs a failed
//! publication, and its results cannot be redacted. Here a failure to fetch
//! or to publish is an error of the run (exit 2), and every result body
//! passes through the run's [`Redactor`] before it leaves the process.

use std::io::Write;

use pact_verifier::PactSource;
use serde_json::{Value, json};
use url::Url;

use super::client::{BrokerClient, BrokerConfig, BrokerError};
use super::hal;
use super::notices::{self, Notice};
use crate::redact::Redactor;
use crate::sources::PactBatch;
use crate::verify::report::{Report, Status, Verdict};
use crate::verify::{self, TestHooks, VerifyError, VerifySettings};

/// Where the pacts come from and what becomes of the results.
#[derive(Clone, Debug)]
pub struct BrokerVerifySettings {
    /// The broker.
    pub broker: BrokerConfig,
    /// The provider's name in the broker.
    pub provider: String,
    /// The provider version the results are published for.
    pub provider_version: Option<String>,
    /// The provider version's branch: decides pending status and the
    /// `matchingBranch` selector.
    pub provider_branch: Option<String>,
    /// Consumer version selectors, as JSON objects.
    pub selectors: Vec<Value>,
    /// Ask for the pending status of each pact.
    pub enable_pending: bool,
    /// Also verify work-in-progress pacts published since this date.
    pub include_wip_pacts_since: Option<String>,
    /// Publish the results.
    pub publish: bool,
    /// The build URL published with the results.
    pub build_url: Option<String>,
    /// Verify only this pact (the `${pactbroker.pactUrl}` of the broker's
    /// `contract_requiring_verification_published` webhook).
    pub webhook_callback_url: Option<Url>,
}

/// The selectors Pact recommends when none are given: the consumers' main
/// branch, the branch of the same name as the provider's (when that is
/// known), and whatever is deployed or released.
pub fn recommended_selectors(provider_branch_known: bool) -> Vec<Value> {
    let mut selectors = vec![json!({ "mainBranch": true })];
    if provider_branch_known {
        selectors.push(json!({ "matchingBranch": true }));
    }
    selectors.push(json!({ "deployedOrReleased": true }));
    selectors
}

/// One pact the broker handed out, with what it said about it.
#[derive(Clone, Debug)]
pub struct BrokerPact {
    /// Where it was fetched from.
    pub url: Url,
    /// The broker's name for it, such as `Pact between automation-client
    /// (abc123) and uipath-identity`.
    pub label: String,
    /// Its content, as fetched.
    pub content: Value,
    /// The consumer's name.
    pub consumer: String,
    /// The provider's name.
    pub provider: String,
    /// How many interactions it holds.
    pub interactions: usize,
    /// Pending: its failures do not fail the run.
    pub pending: bool,
    /// Work in progress: selected only by `includeWipPactsSince`.
    pub wip: bool,
    /// Why it was selected and what its pending status means.
    pub notices: Vec<Notice>,
    /// Where its verification results go.
    pub publish_url: Option<Url>,
}

/// Why a verification from a broker could not run or finish (exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum BrokerVerifyError {
    /// The verification itself.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The pacts could not be fetched.
    #[error("could not fetch the pacts to verify: {0}")]
    Fetch(String),
    /// The broker selected no pact.
    #[error(
        "the Pact Broker has no pact for provider `{provider}` matching the consumer version selectors {selectors}: check `--provider-name`, publish the consumer's pacts (`orchestrator-pact publish`), or pass other `--consumer-version-selectors`"
    )]
    NoPacts {
        /// The provider asked for.
        provider: String,
        /// The selectors sent, as JSON.
        selectors: String,
    },
    /// Verification results could not be published.
    #[error("could not publish the verification results: {0}")]
    Publish(String),
}

/// Fetches the pacts the broker selects: `POST` to the index relation
/// `pb:provider-pacts-for-verification`, then `GET` each pact.
pub async fn fetch_pacts(
    client: &BrokerClient,
    settings: &BrokerVerifySettings,
) -> Result<Vec<BrokerPact>, BrokerError> {
    let url = client
        .relation(
            "pb:provider-pacts-for-verification",
            &[("provider", &settings.provider)],
        )
        .await?;
    let answer = match client.post(&url, &request_body(settings)).await {
        // An unknown provider: no pacts, which the caller reports.
        Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => return Ok(Vec::new()),
        other => other?,
    };
    let entries = answer
        .pointer("/_embedded/pacts")
        .and_then(Value::as_array)
        .ok_or_else(|| BrokerError::Unexpected {
            method: reqwest::Method::POST,
            url: url.to_string(),
            reason: "it has no `_embedded.pacts` list".into(),
        })?;
    let mut pacts = Vec::with_capacity(entries.len());
    for entry in entries {
        let link = hal::link(entry, "self").ok_or_else(|| BrokerError::Unexpected {
            method: reqwest::Method::POST,
            url: url.to_string(),
            reason: "a pact in `_embedded.pacts` has no `self` link".into(),
        })?;
        let properties = entry.get("verificationProperties");
        let flag = |key: &str| {
            properties
                .and_then(|p| p.get(key))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let mut pact = fetch_pact(client, client.follow(&link, &[])?).await?;
        pact.pending = flag("pending");
        pact.wip = flag("wip");
        pact.notices = Notice::list(properties.and_then(|p| p.get("notices")), "text", "type");
        if let Some(name) = link.name.or_else(|| {
            entry
                .get("shortDescription")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }) {
            pact.label = name;
        }
        pacts.push(pact);
    }
    Ok(pacts)
}

/// The body of the pacts-for-verification request.
pub(crate) fn request_body(settings: &BrokerVerifySettings) -> Value {
    let mut body = json!({
        "consumerVersionSelectors": settings.selectors,
        "includePendingStatus": settings.enable_pending,
    });
    if let Some(branch) = &settings.provider_branch {
        body["providerVersionBranch"] = json!(branch);
    }
    if let Some(since) = &settings.include_wip_pacts_since {
        body["includeWipPactsSince"] = json!(since);
    }
    body
}

/// Fetches one pact by URL, with its `pb:publish-verification-results` link.
pub(crate) async fn fetch_pact(client: &BrokerClient, url: Url) -> Result<BrokerPact, BrokerError> {
    let content = client.get(&url).await?;
    let unexpected = |reason: &str| BrokerError::Unexpected {
        method: reqwest::Method::GET,
        url: url.to_string(),
        reason: format!("it is not a pact: {reason}"),
    };
    let name = |role: &str| {
        content
            .pointer(&format!("/{role}/name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| unexpected(&format!("it has no `{role}.name`")))
    };
    let consumer = name("consumer")?;
    let provider = name("provider")?;
    let interactions = content
        .get("interactions")
        .and_then(Value::as_array)
        .ok_or_else(|| unexpected("it has no `interactions` list"))?
        .len();
    let publish_url = hal::link(&content, "pb:publish-verification-results")
        .map(|link| client.follow(&link, &[]))
        .transpose()?;
    Ok(BrokerPact {
        label: format!("Pact between {consumer} and {provider}"),
        url,
        content,
        consumer,
        provider,
        interactions,
        pending: false,
        wip: false,
        notices: Vec::new(),
        publish_url,
    })
}

/// Whether a pact's verification can be published, and as what: `None`
/// when something could not be checked (a result would claim what nobody
/// saw), else whether every interaction verified.
pub(crate) fn outcome(report: &Report) -> Option<bool> {
    let unchecked = report.outcomes.is_empty()
        || !report.general_errors.is_empty()
        || report
            .outcomes
            .iter()
            .any(|o| matches!(o.status, Status::Error(_)));
    (!unchecked).then(|| report.outcomes.iter().all(|o| o.status == Status::Verified))
}

/// The verification results of one pact, as the broker takes them, scrubbed
/// of every secret the run knows.
pub fn results_body(
    pact: &BrokerPact,
    report: &Report,
    provider_version: &str,
    build_url: Option<&str>,
    redactor: &Redactor,
) -> Value {
    let test_results: Vec<Value> = report
        .outcomes
        .iter()
        .map(|o| {
            let mut result = json!({
                "interactionDescription": o.description,
                "success": o.status == Status::Verified,
            });
            if let Some(id) = interaction_id(&pact.content, &o.description, &o.states) {
                result["interactionId"] = json!(id);
            }
            match &o.status {
                Status::Verified => {}
                Status::Mismatch(lines) => {
                    result["mismatches"] = lines.iter().map(|l| mismatch(l)).collect();
                }
                Status::Error(message) => {
                    result["exceptions"] = json!([{ "message": message }]);
                }
            }
            result
        })
        .collect();
    let mut body = json!({
        "success": outcome(report) == Some(true),
        "providerApplicationVersion": provider_version,
        "testResults": test_results,
        "verifiedBy": {
            "implementation": "orchestrator-pact",
            "version": env!("CARGO_PKG_VERSION"),
        },
    });
    if let Some(url) = build_url {
        body["buildUrl"] = json!(url);
    }
    // The one gate every result passes: mismatch lines quote the provider's
    // actual answers, which may carry tokens or passwords.
    redactor.scrub_json(&mut body);
    body
}

/// A mismatch line as the broker's `{attribute, identifier, description}`.
fn mismatch(line: &str) -> Value {
    if let Some((path, description)) = line.split_once(" -> ").filter(|(p, _)| p.starts_with('$')) {
        return json!({ "attribute": "body", "identifier": path, "description": description });
    }
    let lower = line.to_ascii_lowercase();
    let attribute = if lower.starts_with("expected a body") {
        "body"
    } else if lower.contains("header") {
        "header"
    } else if lower.contains("query") {
        "query"
    } else if lower.starts_with("expected ")
        && lower
            .split(' ')
            .nth(1)
            .is_some_and(|s| s.parse::<u16>().is_ok())
    {
        "status"
    } else {
        "other"
    };
    json!({ "attribute": attribute, "description": line })
}

/// The broker's id (`_id`) or the V4 `key` of the interaction with this
/// description and these provider states.
fn interaction_id(pact: &Value, description: &str, states: &[String]) -> Option<String> {
    let interactions = pact.get("interactions")?.as_array()?;
    let state_names = |i: &Value| -> Vec<String> {
        match (i.get("providerStates"), i.get("providerState")) {
            (Some(Value::Array(list)), _) => list
                .iter()
                .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect(),
            (_, Some(Value::String(one))) => vec![one.clone()],
            _ => Vec::new(),
        }
    };
    interactions
        .iter()
        .find(|i| {
            i.get("description").and_then(Value::as_str) == Some(description)
                && state_names(i) == states
        })
        .and_then(|i| i.get("_id").or_else(|| i.get("key")))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Posts one pact's results to its `pb:publish-verification-results` link.
pub async fn publish_results(
    client: &BrokerClient,
    pact: &BrokerPact,
    body: &Value,
) -> Result<Value, BrokerError> {
    let url = pact.publish_url.as_ref().ok_or_else(|| {
        BrokerError::missing_relation(
            &format!("pact at {}", pact.url),
            &pact.content,
            "pb:publish-verification-results",
            "Results can only be published for a pact fetched from a Pact Broker",
        )
    })?;
    client.post(url, body).await
}

/// Records that `version` of the provider belongs to `branch`, through the
/// index relation `pb:pacticipant-branch-version`: the broker decides
/// pending status and `matchingBranch` from the branches of the versions
/// that published results.
pub async fn record_provider_branch(
    client: &BrokerClient,
    provider: &str,
    branch: &str,
    version: &str,
) -> Result<(), BrokerError> {
    let url = client
        .relation(
            "pb:pacticipant-branch-version",
            &[
                ("pacticipant", provider),
                ("branch", branch),
                ("version", version),
            ],
        )
        .await?;
    client.put(&url, &json!({})).await.map(|_| ())
}

/// Fetches the pacts, verifies each against the target of `settings`,
/// prints each pact's notices and report, writes the reports, and
/// publishes the results if asked to.
pub(crate) async fn run(
    settings: &VerifySettings,
    hooks: TestHooks,
    broker: &BrokerVerifySettings,
    out: &mut (dyn Write + Send),
    progress: &mut (dyn Write + Send),
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<Report, BrokerVerifyError> {
    let redactor = settings.redactor.clone();
    if let Some(auth) = &broker.broker.auth {
        auth.register(&redactor);
    }
    // One cap for the run: `--max-body-size` bounds the broker's answers too.
    let client = BrokerClient::new(&BrokerConfig {
        max_body: settings.connection.max_body,
        ..broker.broker.clone()
    })
    .map_err(|e| fetch_error(e, &redactor))?;
    let pacts = fetch_selected(&client, broker, &redactor).await?;
    let _ = writeln!(
        progress,
        "the Pact Broker at {} selected {} pact(s) for {}",
        client.base_url(),
        pacts.len(),
        broker.provider
    );

    let batches = pacts
        .iter()
        .map(|p| PactBatch {
            provider: p.provider.clone(),
            sources: vec![PactSource::String(p.content.to_string())],
            pacts: 1,
            interactions: p.interactions,
        })
        .collect();
    let (reports, redactor) =
        verify::verify_batches(settings, hooks, batches, progress, shutdown).await?;
    let (merged, verified) = print_reports(settings, &pacts, reports, &redactor, out);
    verify::write_reports(settings, &merged, &redactor)?;

    if broker.publish {
        let version = broker
            .provider_version
            .as_deref()
            .ok_or_else(|| VerifyError::Flags("`--publish` needs `--provider-version`".into()))?;
        publish_all(&client, broker, version, &pacts, &verified, &redactor, out).await?;
    } else {
        for (pact, report) in pacts.iter().zip(&verified) {
            if let Some(success) = outcome(report) {
                notices::print(
                    out,
                    pact.notices
                        .iter()
                        .filter(|n| n.is_after_verification(success, false)),
                    "  ",
                );
            }
        }
    }
    Ok(merged)
}

/// A broker error while fetching, scrubbed of the run's secrets.
fn fetch_error(e: BrokerError, redactor: &Redactor) -> BrokerVerifyError {
    BrokerVerifyError::Fetch(redactor.scrub(&e.to_string()))
}

/// The pacts to verify: the one of the webhook's URL, else those the
/// broker selects; an error when there are none.
async fn fetch_selected(
    client: &BrokerClient,
    broker: &BrokerVerifySettings,
    redactor: &Redactor,
) -> Result<Vec<BrokerPact>, BrokerVerifyError> {
    let pacts = match &broker.webhook_callback_url {
        Some(url) => {
            let url = client
                .resolve(url.as_str())
                .map_err(|e| fetch_error(e, redactor))?;
            vec![
                fetch_pact(client, url)
                    .await
                    .map_err(|e| fetch_error(e, redactor))?,
            ]
        }
        None => fetch_pacts(client, broker)
            .await
            .map_err(|e| fetch_error(e, redactor))?,
    };
    if pacts.is_empty() {
        return Err(BrokerVerifyError::NoPacts {
            provider: broker.provider.clone(),
            selectors: Value::from(broker.selectors.clone()).to_string(),
        });
    }
    Ok(pacts)
}

/// Prints each pact's heading, notices and report; gives the reports
/// merged into one (for the report files and the exit code) and each
/// pact's own, pending status applied.
fn print_reports(
    settings: &VerifySettings,
    pacts: &[BrokerPact],
    reports: Vec<Report>,
    redactor: &Redactor,
    out: &mut (dyn Write + Send),
) -> (Report, Vec<Report>) {
    let mut merged = Report::default();
    let mut verified = Vec::with_capacity(pacts.len());
    for (i, (pact, mut report)) in pacts.iter().zip(reports).enumerate() {
        for o in &mut report.outcomes {
            o.pending |= pact.pending;
        }
        let _ = writeln!(
            out,
            "{}pact {} of {}: {}{}",
            if i == 0 { "" } else { "\n" },
            i + 1,
            pacts.len(),
            pact.label,
            match (pact.pending, pact.wip) {
                (_, true) => " [work in progress: its failures do not fail the run]",
                (true, false) => " [pending: its failures do not fail the run]",
                _ => "",
            }
        );
        let _ = writeln!(out, "  {}", pact.url);
        notices::print(
            out,
            pact.notices.iter().filter(|n| n.is_before_verification()),
            "  ",
        );
        verify::print_console(settings, &report, redactor, out);
        merged.target = report.target.clone();
        merged.outcomes.extend(report.outcomes.iter().cloned());
        merged
            .general_errors
            .extend(report.general_errors.iter().cloned());
        merged
            .library_output
            .extend(report.library_output.iter().cloned());
        // What the run left out or left behind is part of the record too.
        merged.skipped.extend(report.skipped.iter().cloned());
        merged.leftovers.extend(report.leftovers.iter().cloned());
        verified.push(report);
    }
    if pacts.len() > 1 {
        let _ = writeln!(out, "\n{}", summary(pacts.len(), &merged));
    }
    (merged, verified)
}

async fn publish_all(
    client: &BrokerClient,
    broker: &BrokerVerifySettings,
    version: &str,
    pacts: &[BrokerPact],
    reports: &[Report],
    redactor: &Redactor,
    out: &mut (dyn Write + Send),
) -> Result<(), BrokerVerifyError> {
    let publish_error = |what: &str, e: BrokerError| {
        BrokerVerifyError::Publish(format!("{what}: {}", redactor.scrub(&e.to_string())))
    };
    if let Some(branch) = &broker.provider_branch {
        record_provider_branch(client, &broker.provider, branch, version)
            .await
            .map_err(|e| {
                publish_error(
                    &format!(
                        "recording that {} version {version} is on branch {branch}",
                        broker.provider
                    ),
                    e,
                )
            })?;
    }
    let _ = writeln!(out);
    for (pact, report) in pacts.iter().zip(reports) {
        let Some(success) = outcome(report) else {
            let _ = writeln!(
                out,
                "results not published for {}: it could not be checked, and a result would claim what nobody saw",
                pact.label
            );
            continue;
        };
        let body = results_body(pact, report, version, broker.build_url.as_deref(), redactor);
        publish_results(client, pact, &body)
            .await
            .map_err(|e| publish_error(&pact.label, e))?;
        let _ = writeln!(
            out,
            "published the verification results of {} for {} version {version}: {}",
            pact.label,
            broker.provider,
            if success { "verified" } else { "failed" }
        );
        notices::print(
            out,
            pact.notices
                .iter()
                .filter(|n| n.is_after_verification(success, true)),
            "  ",
        );
    }
    Ok(())
}

fn summary(pacts: usize, report: &Report) -> String {
    let count =
        |pick: &dyn Fn(&Status) -> bool| report.outcomes.iter().filter(|o| pick(&o.status)).count();
    let pending_failures = report
        .outcomes
        .iter()
        .filter(|o| o.pending && o.status != Status::Verified)
        .count();
    format!(
        "{pacts} pacts, {} interactions: {} verified, {} failed, {} could not be checked{}: {}",
        report.outcomes.len(),
        count(&|s| *s == Status::Verified),
        count(&|s| matches!(s, Status::Mismatch(_))),
        count(&|s| matches!(s, Status::Error(_))),
        if pending_failures > 0 {
            format!(" ({pending_failures} of them pending, which do not fail the run)")
        } else {
            String::new()
        },
        match report.verdict() {
            Verdict::Holds => "the contracts hold",
            Verdict::Broken => "a contract does not hold",
            Verdict::Unchecked => "the contracts could not be checked",
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::report::InteractionOutcome;
    use std::time::Duration;
    use uipath_identity_client::SecretString;

    fn outcome_with(status: Status) -> InteractionOutcome {
        InteractionOutcome {
            consumer: "c".into(),
            provider: "p".into(),
            description: "a request".into(),
            states: vec!["a state".into()],
            pending: false,
            duration: Duration::from_millis(3),
            status,
        }
    }

    fn pact() -> BrokerPact {
        BrokerPact {
            url: Url::parse("http://broker/pacts/1").unwrap(),
            label: "Pact between c and p".into(),
            content: json!({
                "consumer": {"name": "c"}, "provider": {"name": "p"},
                "interactions": [{"_id": "abc", "description": "a request",
                                  "providerStates": [{"name": "a state"}]}]
            }),
            consumer: "c".into(),
            provider: "p".into(),
            interactions: 1,
            pending: false,
            wip: false,
            notices: vec![],
            publish_url: None,
        }
    }

    #[test]
    fn the_results_body_carries_each_interaction_and_no_secret() {
        let report = Report {
            outcomes: vec![outcome_with(Status::Mismatch(vec![
                "$.echo -> Expected 'x' to be equal to 'Bearer s3cret-token'".into(),
                "expected 400 but was 200".into(),
            ]))],
            ..Report::default()
        };
        let redactor = Redactor::default();
        redactor.add(&SecretString::new("s3cret-token"));
        let body = results_body(&pact(), &report, "1.2.3", Some("http://ci/1"), &redactor);
        assert_eq!(body["success"], false);
        assert_eq!(body["providerApplicationVersion"], "1.2.3");
        assert_eq!(body["buildUrl"], "http://ci/1");
        let result = &body["testResults"][0];
        assert_eq!(result["interactionId"], "abc");
        assert_eq!(result["mismatches"][0]["attribute"], "body");
        assert_eq!(result["mismatches"][0]["identifier"], "$.echo");
        assert_eq!(result["mismatches"][1]["attribute"], "status");
        assert!(!body.to_string().contains("s3cret-token"), "{body}");
    }

    #[test]
    fn only_a_fully_checked_pact_is_published() {
        let verified = Report {
            outcomes: vec![outcome_with(Status::Verified)],
            ..Report::default()
        };
        assert_eq!(outcome(&verified), Some(true));
        let failed = Report {
            outcomes: vec![outcome_with(Status::Mismatch(vec!["x".into()]))],
            ..Report::default()
        };
        assert_eq!(outcome(&failed), Some(false));
        let unchecked = Report {
            outcomes: vec![outcome_with(Status::Error("state".into()))],
            ..Report::default()
        };
        assert_eq!(outcome(&unchecked), None);
        assert_eq!(outcome(&Report::default()), None);
    }

    #[test]
    fn recommends_matching_branch_only_with_a_provider_branch() {
        assert_eq!(recommended_selectors(false).len(), 2);
        assert_eq!(
            recommended_selectors(true),
            vec![
                json!({"mainBranch": true}),
                json!({"matchingBranch": true}),
                json!({"deployedOrReleased": true})
            ]
        );
    }
}

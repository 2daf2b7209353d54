//! `orchestrator-pact record-deployment`: tells the broker that a version
//! now runs in an environment, through the version's own
//! `pb:record-deployment` relation for that environment (the environment
//! must exist: it is checked against `pb:environments` first, so that a typo
//! gets a list of the environments there are).

use std::io::Write;

use serde_json::{Value, json};

use super::client::{BrokerClient, BrokerConfig, BrokerError};
use super::hal;

/// What `record-deployment` needs, parsed and checked.
#[derive(Clone, Debug)]
pub struct RecordDeploymentSettings {
    /// The broker.
    pub broker: BrokerConfig,
    /// The application deployed.
    pub pacticipant: String,
    /// Its version.
    pub version: String,
    /// Where it now runs.
    pub environment: String,
    /// Which instance, when several run side by side in one environment.
    pub application_instance: Option<String>,
}

/// Why a deployment could not be recorded (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The broker failed.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// An environment the broker does not know.
    #[error(
        "the Pact Broker has no environment `{environment}` (it has: {known}): create it (`pact-broker create-environment --name {environment}`, or in PactFlow's settings) or fix `--environment`"
    )]
    UnknownEnvironment {
        /// The environment asked for.
        environment: String,
        /// The ones there are.
        known: String,
    },
    /// A version the broker does not know.
    #[error(
        "the Pact Broker knows no version {version} of {pacticipant}: a version exists once pacts or verification results were published for it; check `--pacticipant` and `--version`"
    )]
    UnknownVersion {
        /// The application.
        pacticipant: String,
        /// The version.
        version: String,
    },
    /// A version that offers no way to record a deployment there.
    #[error(
        "the Pact Broker offers no `pb:record-deployment` link for {pacticipant} version {version} to `{environment}` (it offers: {offered})"
    )]
    NoRecordLink {
        /// The application.
        pacticipant: String,
        /// The version.
        version: String,
        /// The environment.
        environment: String,
        /// The environments it does offer.
        offered: String,
    },
}

/// The environments the broker knows, by name.
pub(crate) async fn environments(client: &BrokerClient) -> Result<Vec<String>, BrokerError> {
    let url = client.relation("pb:environments", &[]).await?;
    let answer = client.get(&url).await?;
    let mut names: Vec<String> = answer
        .pointer("/_embedded/environments")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|e| e.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        // Some brokers list environments as named links only.
        names = hal::links(&answer, "pb:environments")
            .into_iter()
            .filter_map(|l| l.name)
            .collect();
    }
    Ok(names)
}

/// Records the deployment and says so on `out`.
pub async fn record_deployment(
    settings: &RecordDeploymentSettings,
    out: &mut (dyn Write + Send),
) -> Result<(), DeploymentError> {
    let client = BrokerClient::new(&settings.broker)?;
    let known = environments(&client).await?;
    if !known.contains(&settings.environment) {
        return Err(DeploymentError::UnknownEnvironment {
            environment: settings.environment.clone(),
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        });
    }
    let url = client
        .relation(
            "pb:pacticipant-version",
            &[
                ("pacticipant", &settings.pacticipant),
                ("version", &settings.version),
            ],
        )
        .await?;
    let version = match client.get(&url).await {
        Err(e) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
            return Err(DeploymentError::UnknownVersion {
                pacticipant: settings.pacticipant.clone(),
                version: settings.version.clone(),
            });
        }
        other => other?,
    };
    let links = hal::links(&version, "pb:record-deployment");
    let link = links
        .iter()
        .find(|l| l.name.as_deref() == Some(settings.environment.as_str()))
        .ok_or_else(|| DeploymentError::NoRecordLink {
            pacticipant: settings.pacticipant.clone(),
            version: settings.version.clone(),
            environment: settings.environment.clone(),
            offered: links
                .iter()
                .filter_map(|l| l.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let body = match &settings.application_instance {
        Some(instance) => json!({ "applicationInstance": instance }),
        None => json!({}),
    };
    client.post(&client.follow(link, &[])?, &body).await?;
    let _ = writeln!(
        out,
        "recorded the deployment of {} version {} to {}{}",
        settings.pacticipant,
        settings.version,
        settings.environment,
        settings
            .application_instance
            .as_deref()
            .map(|i| format!(" (instance {i})"))
            .unwrap_or_default()
    );
    Ok(())
}

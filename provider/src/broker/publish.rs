//! `orchestrator-pact publish`: the consumer's build sends its pacts to the
//! broker with `POST /contracts/publish`, found through the index relation
//! `pb:publish-contracts`, under a consumer version (the git commit), its
//! branch, tags and build URL.

use std::io::Write;
use std::path::PathBuf;

use base64::Engine;
use serde_json::{Value, json};

use super::client::{BrokerClient, BrokerConfig, BrokerError};
use super::notices::{self, Notice};
use crate::sources::{self, SourceError};

/// What `publish` needs, parsed and checked.
#[derive(Clone, Debug)]
pub struct PublishSettings {
    /// The broker.
    pub broker: BrokerConfig,
    /// Pact files or folders of them.
    pub pacts: Vec<PathBuf>,
    /// The consumer version the pacts belong to.
    pub consumer_version: String,
    /// The consumer version's branch.
    pub branch: Option<String>,
    /// Tags of the consumer version.
    pub tags: Vec<String>,
    /// The build that produced the pacts.
    pub build_url: Option<String>,
}

/// Why publishing failed (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The pact files.
    #[error(transparent)]
    Sources(#[from] SourceError),
    /// Pacts of different consumers, which one publication cannot hold.
    #[error(
        "the pacts name different consumers ({0}): one publication holds one consumer version; publish each consumer's pacts separately with `--pacts FILE`"
    )]
    MixedConsumers(String),
    /// The broker refused a changed pact for an existing version.
    #[error(
        "the Pact Broker refused the pacts of {consumer} version {version} (409 Conflict): {explanation}. A version's pacts cannot change once published: publish the changed pacts under a new `--consumer-app-version` (by default the git commit, so commit first)"
    )]
    Conflict {
        /// The consumer.
        consumer: String,
        /// The version.
        version: String,
        /// The broker's own words.
        explanation: String,
    },
    /// Any other broker failure.
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

/// The body of `POST /contracts/publish` for these pact files.
pub(crate) fn request_body(settings: &PublishSettings) -> Result<(String, Value), PublishError> {
    let files = sources::discover(&settings.pacts)?;
    let mut consumers: Vec<&str> = files.iter().map(|f| f.consumer.as_str()).collect();
    consumers.sort_unstable();
    consumers.dedup();
    if consumers.len() > 1 {
        return Err(PublishError::MixedConsumers(consumers.join(", ")));
    }
    let consumer = consumers.first().copied().unwrap_or_default().to_owned();
    let mut contracts = Vec::with_capacity(files.len());
    for file in &files {
        // The file's own bytes, as recorded: the broker hashes the content
        // to tell whether a pact changed.
        let bytes = file.content.as_bytes();
        contracts.push(json!({
            "consumerName": file.consumer,
            "providerName": file.provider,
            "specification": "pact",
            "contentType": "application/json",
            "content": base64::engine::general_purpose::STANDARD.encode(bytes),
        }));
    }
    let mut body = json!({
        "pacticipantName": consumer,
        "pacticipantVersionNumber": settings.consumer_version,
        "contracts": contracts,
    });
    if let Some(branch) = &settings.branch {
        body["branch"] = json!(branch);
    }
    if !settings.tags.is_empty() {
        body["tags"] = json!(settings.tags);
    }
    if let Some(url) = &settings.build_url {
        body["buildUrl"] = json!(url);
    }
    Ok((consumer, body))
}

/// Publishes the pacts and prints what the broker says on `out`.
pub async fn publish(
    settings: &PublishSettings,
    out: &mut (dyn Write + Send),
) -> Result<(), PublishError> {
    let (consumer, body) = request_body(settings)?;
    let count = body["contracts"].as_array().map_or(0, Vec::len);
    let client = BrokerClient::new(&settings.broker)?;
    let answer = publish_contracts(&client, &body)
        .await
        .map_err(|e| match e {
            BrokerError::Status {
                status: reqwest::StatusCode::CONFLICT,
                explanation,
                ..
            } => PublishError::Conflict {
                consumer: consumer.clone(),
                version: settings.consumer_version.clone(),
                explanation,
            },
            other => PublishError::Broker(other),
        })?;
    let _ = writeln!(
        out,
        "published {count} pact(s) of {consumer} version {}{} to {}",
        settings.consumer_version,
        settings
            .branch
            .as_deref()
            .map(|b| format!(" (branch {b})"))
            .unwrap_or_default(),
        client.base_url()
    );
    notices::print(out, &Notice::from_answer(&answer), "  ");
    Ok(())
}

/// `POST` to the index relation `pb:publish-contracts`; the broker's answer.
pub(crate) async fn publish_contracts(
    client: &BrokerClient,
    body: &Value,
) -> Result<Value, BrokerError> {
    let url = client.relation("pb:publish-contracts", &[]).await?;
    client.post(&url, body).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use uipath_identity_client::contract;
    use url::Url;

    fn settings(pacts: PathBuf) -> PublishSettings {
        PublishSettings {
            broker: BrokerConfig::new(Url::parse("http://127.0.0.1:1/").unwrap()),
            pacts: vec![pacts],
            consumer_version: "abc".into(),
            branch: Some("main".into()),
            tags: vec!["dev".into()],
            build_url: None,
        }
    }

    #[test]
    fn sends_each_pact_file_base64_encoded_under_one_consumer_version() {
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../pacts"));
        let (consumer, body) = request_body(&settings(dir.clone())).unwrap();
        assert_eq!(consumer, contract::CONSUMER);
        assert_eq!(body["pacticipantVersionNumber"], "abc");
        assert_eq!(body["branch"], "main");
        assert_eq!(body["tags"], json!(["dev"]));
        assert!(body.get("buildUrl").is_none());
        let published = &body["contracts"][0];
        assert_eq!(published["providerName"], contract::PROVIDER);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(published["content"].as_str().unwrap())
            .unwrap();
        let file = std::fs::read(dir.join(contract::pact_file_name())).unwrap();
        assert_eq!(decoded, file);
    }
}

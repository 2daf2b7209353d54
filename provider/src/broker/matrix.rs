//! `orchestrator-pact can-i-deploy`: asks the broker's matrix whether a
//! version of an application can go to an environment (or live beside the
//! latest versions of everything else), prints the matrix as a table and
//! the broker's reason, and answers with an exit code.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use super::client::{BrokerClient, BrokerConfig, BrokerError};
use super::notices::{self, Notice};

/// Against what a version is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeployTarget {
    /// The versions currently deployed (or released) to this environment.
    Environment(String),
    /// The latest version of every other application.
    Latest,
}

/// What `can-i-deploy` needs, parsed and checked.
#[derive(Clone, Debug)]
pub struct CanIDeploySettings {
    /// The broker.
    pub broker: BrokerConfig,
    /// The application to deploy.
    pub pacticipant: String,
    /// Its version.
    pub version: String,
    /// Where it goes.
    pub target: DeployTarget,
    /// How many more times to ask while verification results are missing.
    pub retry_while_unknown: u32,
    /// How long to wait between those.
    pub retry_interval: Duration,
    /// Answer 0 whatever the broker says (it still must be reachable).
    pub dry_run: bool,
}

/// One row of the matrix: a pact between two versions and its verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The consumer.
    pub consumer: String,
    /// Its version.
    pub consumer_version: String,
    /// The provider.
    pub provider: String,
    /// Its version, if there is one to check against.
    pub provider_version: Option<String>,
    /// The verification's outcome; `None` when there is none yet.
    pub success: Option<bool>,
    /// Where the verification result is.
    pub verification_url: Option<String>,
}

/// The broker's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// `Some(true)` deployable, `Some(false)` not; `None` not known yet.
    pub deployable: Option<bool>,
    /// The broker's reason.
    pub reason: String,
    /// How many verification results are missing.
    pub unknown: u64,
    /// The rows.
    pub rows: Vec<Row>,
    /// The broker's notices.
    pub notices: Vec<Notice>,
}

impl Answer {
    /// Reads a `/matrix` answer.
    pub fn from_json(json: &Value) -> Option<Self> {
        let summary = json.get("summary")?;
        let text = |v: &Value, pointer: &str| {
            v.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let rows = json
            .get("matrix")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .map(|r| Row {
                        consumer: text(r, "/consumer/name").unwrap_or_default(),
                        consumer_version: text(r, "/consumer/version/number").unwrap_or_default(),
                        provider: text(r, "/provider/name").unwrap_or_default(),
                        provider_version: text(r, "/provider/version/number"),
                        success: r
                            .pointer("/verificationResult/success")
                            .and_then(Value::as_bool),
                        verification_url: text(r, "/verificationResult/_links/self/href"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            deployable: summary.get("deployable").and_then(Value::as_bool),
            reason: summary
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("the broker gave no reason")
                .to_owned(),
            unknown: summary.get("unknown").and_then(Value::as_u64).unwrap_or(0),
            rows,
            notices: Notice::from_answer(json),
        })
    }

    /// Whether waiting could change the answer.
    pub fn is_unknown(&self) -> bool {
        self.deployable.is_none() || (self.deployable == Some(false) && self.unknown > 0)
    }
}

/// The matrix query: this version, against the target, one row per
/// consumer/provider version pair (`latestby=cvp`).
pub(crate) fn query(settings: &CanIDeploySettings) -> Vec<(&'static str, String)> {
    let mut query = vec![
        ("q[][pacticipant]", settings.pacticipant.clone()),
        ("q[][version]", settings.version.clone()),
        ("latestby", "cvp".to_owned()),
    ];
    match &settings.target {
        DeployTarget::Environment(env) => query.push(("environment", env.clone())),
        DeployTarget::Latest => query.push(("latest", "true".to_owned())),
    }
    query
}

/// Asks the broker's `/matrix` once.
pub async fn ask(
    client: &BrokerClient,
    settings: &CanIDeploySettings,
) -> Result<Answer, BrokerError> {
    let mut url = client.resolve("matrix")?;
    {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in query(settings) {
            pairs.append_pair(key, &value);
        }
    }
    let json = client.get(&url).await?;
    Answer::from_json(&json).ok_or_else(|| BrokerError::Unexpected {
        method: reqwest::Method::GET,
        url: url.to_string(),
        reason: "it has no `summary`".into(),
    })
}

/// Asks (again while results are unknown, if asked to), prints the matrix
/// and the reason on `out`, and returns the exit code: 0 deployable, 1 not.
pub(crate) async fn can_i_deploy(
    settings: &CanIDeploySettings,
    out: &mut (dyn Write + Send),
    progress: &mut (dyn Write + Send),
) -> Result<u8, BrokerError> {
    let client = BrokerClient::new(&settings.broker)?;
    let mut asked = 0;
    let answer = loop {
        let answer = ask(&client, settings).await?;
        if !answer.is_unknown() || asked >= settings.retry_while_unknown {
            break answer;
        }
        asked += 1;
        let _ = writeln!(
            progress,
            "{} verification result(s) unknown; asking again in {:.1} s ({asked} of {})",
            answer.unknown.max(1),
            settings.retry_interval.as_secs_f64(),
            settings.retry_while_unknown
        );
        tokio::time::sleep(settings.retry_interval).await;
    };
    let where_to = match &settings.target {
        DeployTarget::Environment(env) => format!("to {env}"),
        DeployTarget::Latest => "beside the latest versions of the others".to_owned(),
    };
    let _ = write!(out, "{}", table(&answer.rows));
    let deployable = answer.deployable == Some(true);
    let _ = writeln!(
        out,
        "\n{}: {} version {} {} deployed {where_to}",
        if deployable { "yes" } else { "no" },
        settings.pacticipant,
        settings.version,
        if deployable { "can be" } else { "cannot be" },
    );
    let _ = writeln!(out, "reason: {}", answer.reason);
    notices::print(out, &answer.notices, "");
    if deployable {
        Ok(0)
    } else if settings.dry_run {
        let _ = writeln!(out, "dry run: exiting 0 although the answer is no");
        Ok(0)
    } else {
        Ok(1)
    }
}

/// The matrix as a text table, with the verification results' URLs under it.
pub(crate) fn table(rows: &[Row]) -> String {
    let headers = [
        "CONSUMER",
        "C.VERSION",
        "PROVIDER",
        "P.VERSION",
        "SUCCESS?",
        "RESULT#",
    ];
    let mut results = Vec::new();
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let number = r.verification_url.as_ref().map(|url| {
                results.push(url.clone());
                results.len().to_string()
            });
            [
                r.consumer.clone(),
                r.consumer_version.clone(),
                r.provider.clone(),
                r.provider_version.clone().unwrap_or_else(|| "???".into()),
                match r.success {
                    Some(true) => "true".into(),
                    Some(false) => "false".into(),
                    None => "???".into(),
                },
                number.unwrap_or_default(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cols: &[&str]| {
        let mut text = cols
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ");
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    };
    let mut out = line(&headers);
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-"),
    );
    out.push('\n');
    for row in &cells {
        out.push_str(&line(&row.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    if rows.is_empty() {
        out.push_str("(no pacts to check)\n");
    }
    if !results.is_empty() {
        out.push_str("\nVERIFICATION RESULTS\n");
        for (i, url) in results.iter().enumerate() {
            let _ = writeln!(out, "{}. {url}", i + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_summary_and_the_rows() {
        let answer = Answer::from_json(&json!({
            "summary": {"deployable": false, "reason": "a verification failed", "unknown": 0},
            "matrix": [{
                "consumer": {"name": "c", "version": {"number": "1"}},
                "provider": {"name": "p", "version": {"number": "2"}},
                "verificationResult": {"success": false, "_links": {"self": {"href": "http://b/r/1"}}}
            }],
            "notices": [{"type": "warning", "text": "careful"}]
        }))
        .unwrap();
        assert_eq!(answer.deployable, Some(false));
        assert!(!answer.is_unknown());
        assert_eq!(answer.rows[0].provider_version.as_deref(), Some("2"));
        assert_eq!(answer.rows[0].success, Some(false));
        assert_eq!(answer.notices[0].text, "careful");
        let table = table(&answer.rows);
        assert!(
            table.contains("c        | 1         | p        | 2         | false    | 1"),
            "{table}"
        );
        assert!(table.contains("1. http://b/r/1"), "{table}");
    }

    #[test]
    fn missing_results_are_unknown() {
        let answer = Answer::from_json(&json!({
            "summary": {"deployable": null, "reason": "missing", "unknown": 1},
            "matrix": []
        }))
        .unwrap();
        assert!(answer.is_unknown());
        assert!(Answer::from_json(&json!({"matrix": []})).is_none());
    }
}

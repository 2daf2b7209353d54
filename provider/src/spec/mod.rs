//! `orchestrator-pact check-spec`: checks the recorded pacts against the
//! API's own OpenAPI (or Swagger 2.0) document, offline and without
//! credentials ("bi-directional" contract testing).
//!
//! The path of one run: divergence list ([`divergences`]) → pact files
//! ([`crate::sources`], [`pact`]) → the document, from a file or a
//! URL ([`document`]) → per interaction, the checks ([`check`]) with the
//! schemas rewritten to JSON Schema ([`schema`]) and checked by the `boon`
//! crate ([`validator`], findings worded by [`wording`]) and the matcher
//! widening ([`matchers`]) → findings split into errors and warnings →
//! [`report::Report`].

pub(crate) mod check;
pub(crate) mod divergences;
pub(crate) mod document;
pub(crate) mod matchers;
pub(crate) mod pact;
pub(crate) mod report;
pub(crate) mod schema;
pub(crate) mod validator;
pub(crate) mod wording;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use uipath_identity_client::IdentityPrefix;

use crate::sources::{self, SourceError};
use divergences::Divergences;
pub(crate) use document::SpecSource;
use report::{InteractionReport, PactReport, Report, Warning};
use schema::SchemaError;

/// Everything one check needs, parsed and checked.
#[derive(Clone, Debug)]
pub struct CheckSpecSettings {
    /// The OpenAPI or Swagger document.
    pub spec: SpecSource,
    /// Pact files or folders of them.
    pub pacts: Vec<PathBuf>,
    /// The segment the pacts' paths start with (`identity_`).
    pub prefix: IdentityPrefix,
    /// A divergence list to use instead of the built-in one.
    pub divergences: Option<PathBuf>,
    /// Where to write a JSON report.
    pub json: Option<PathBuf>,
    /// Time-out of fetching a `--spec URL`.
    pub request_timeout: Duration,
    /// The largest document fetched from a `--spec URL`, in bytes.
    pub max_body: usize,
}

/// Why a check could not be made (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec file does not exist.
    #[error(
        "the spec `{0}` does not exist: pass the Identity API's OpenAPI document with `--spec FILE|URL` (a tenant serves it at `https://{{host}}/{{org}}/identity_/swagger/external/swagger.json`)"
    )]
    Missing(PathBuf),
    /// The spec file cannot be read.
    #[error("cannot read the spec `{origin}`: {reason}")]
    Unreadable {
        /// The file.
        origin: String,
        /// Why.
        reason: String,
    },
    /// `--spec` is not a usable URL.
    #[error(
        "`{input}` is not a usable spec URL ({reason}): give a file, or an http(s) URL such as `https://cloud.uipath.com/myorg/identity_/swagger/external/swagger.json`"
    )]
    BadUrl {
        /// What was given.
        input: String,
        /// Why.
        reason: String,
    },
    /// The URL could not be fetched.
    #[error(
        "could not fetch the spec from `{url}`: {reason}: check the URL and the network, or download the document and pass it as a file"
    )]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The URL answered with an error status.
    #[error(
        "fetching the spec from `{url}` answered {status}: check the organization in the URL (`https://{{host}}/{{org}}/identity_/swagger/external/swagger.json`)"
    )]
    HttpStatus {
        /// The URL.
        url: String,
        /// The status.
        status: String,
    },
    /// Neither JSON nor YAML.
    #[error(
        "the spec `{origin}` cannot be parsed: {reason}; give an OpenAPI 3.0 or Swagger 2.0 document in JSON or YAML"
    )]
    Unparsable {
        /// The file or URL.
        origin: String,
        /// Why.
        reason: String,
    },
    /// JSON or YAML, but not an OpenAPI 3.0 / Swagger 2.0 document.
    #[error(
        "the spec `{origin}` is not an OpenAPI 3.0 or Swagger 2.0 document this can read: {reason}"
    )]
    NotOpenApi {
        /// The file or URL.
        origin: String,
        /// Why.
        reason: String,
    },
    /// A schema the checks reached cannot be followed.
    #[error("while checking `{interaction}`: {source}")]
    Schema {
        /// The interaction being checked.
        interaction: String,
        /// What is wrong with the schema.
        source: SchemaError,
    },
    /// The pact files could not be found or read.
    #[error(transparent)]
    Pacts(#[from] SourceError),
    /// A pact file whose interactions cannot be read.
    #[error("`{path}` is not a pact file this can read: {reason}")]
    Pact {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Nothing to check.
    #[error(
        "the pacts hold no HTTP interactions to check: record them with `cargo test -p uipath-identity-client`, or pass `--pacts PATH`"
    )]
    NoInteractions,
    /// The divergence list cannot be read.
    #[error(
        "the divergence list `{origin}` cannot be used: {reason}; see `spec-divergences.toml` for the format"
    )]
    Divergences {
        /// The file.
        origin: String,
        /// Why.
        reason: String,
    },
    /// The JSON report cannot be written.
    #[error("cannot write the JSON report `{path}`: {reason}")]
    Report {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Runs the check, prints its lines to `out`, and returns what it found.
pub(crate) async fn run(
    settings: &CheckSpecSettings,
    out: &mut dyn Write,
) -> Result<Report, SpecError> {
    let divergences = match &settings.divergences {
        Some(path) => Divergences::load(path)?,
        None => Divergences::builtin()?,
    };
    let files = sources::discover_parsed(&settings.pacts)?;
    let doc = document::load(&settings.spec, settings.request_timeout, settings.max_body).await?;
    let validator = validator::Validator::new(&doc.root, doc.dialect);
    let mut used = std::collections::BTreeSet::new();
    let mut pacts = Vec::new();
    for (file, json) in files {
        let read = pact::interactions(&file, &json)?;
        let mut interactions = Vec::new();
        for interaction in &read.interactions {
            let checked =
                check::check(&doc, &validator, interaction, settings.prefix).map_err(|source| {
                    SpecError::Schema {
                        interaction: interaction.description.clone(),
                        source,
                    }
                })?;
            let operation = checked.operation.map(|i| &doc.operations[i]);
            let mut errors = Vec::new();
            let mut warnings = Vec::new();
            for finding in checked.findings {
                match operation.and_then(|op| divergences.excuse(op, interaction, &finding)) {
                    Some(d) => {
                        used.insert(d.id.clone());
                        warnings.push(Warning {
                            finding,
                            divergence: d.id.clone(),
                        });
                    }
                    None => errors.push(finding),
                }
            }
            interactions.push(InteractionReport {
                description: interaction.description.clone(),
                operation: operation.map(document::Operation::label),
                status: interaction.status,
                errors,
                warnings,
                notes: checked.notes,
            });
        }
        pacts.push(PactReport {
            built_in: file.built_in,
            file: file.path,
            consumer: read.consumer,
            provider: read.provider,
            interactions,
            skipped: read.skipped,
        });
    }
    if pacts.iter().all(|p| p.interactions.is_empty()) {
        return Err(SpecError::NoInteractions);
    }
    let title = if doc.title.is_empty() {
        "untitled".to_owned()
    } else {
        doc.title.clone()
    };
    let report = Report {
        spec: format!(
            "{title} {} ({}) from {}",
            doc.version,
            doc.format,
            settings.spec.label()
        ),
        pacts,
        unused_divergences: divergences
            .entries
            .iter()
            .filter(|d| !used.contains(&d.id))
            .map(|d| d.id.clone())
            .collect(),
    };
    let _ = out.write_all(report.console().as_bytes());
    if let Some(path) = &settings.json {
        let text = serde_json::to_string_pretty(&report.to_json()).unwrap_or_default();
        std::fs::write(path, text).map_err(|e| SpecError::Report {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    }
    Ok(report)
}

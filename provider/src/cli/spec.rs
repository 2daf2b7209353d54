//! `orchestrator-pact check-spec`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Arg, Args};

use super::{BodyCapArgs, parse_millis};
use crate::spec::{CheckSpecSettings, SpecSource};

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
    /// The cap on a fetched `--spec URL` document (`--max-body-size`,
    /// worded by `in_spec_words`).
    #[command(flatten)]
    pub max_body: BodyCapArgs,
}

/// `--max-body-size` said of what `check-spec` reads.
pub(super) fn in_spec_words(arg: Arg) -> Arg {
    if arg.get_id() == "max_body_size" {
        return arg
            .help("The largest document read from `--spec URL`: bytes, or a number with KiB, MiB or GiB. A larger one is not read and the command exits 2")
            .long_help(None);
    }
    arg
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

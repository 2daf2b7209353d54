//! What a `check-spec` run found, and its renderings: console lines and
//! JSON.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::check::Finding;

/// How one interaction fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No finding.
    Compatible,
    /// Findings, each explained by a known divergence.
    Warned,
    /// At least one finding nothing explains.
    Incompatible,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Compatible => "compatible",
            Verdict::Warned => "compatible with known divergences",
            Verdict::Incompatible => "incompatible",
        }
    }
}

/// A finding a known divergence explains.
#[derive(Clone, Debug)]
pub(crate) struct Warning {
    /// The finding.
    pub finding: Finding,
    /// The divergence's id.
    pub divergence: String,
}

/// One interaction's result.
#[derive(Clone, Debug)]
pub(crate) struct InteractionReport {
    /// Its description.
    pub description: String,
    /// The operation it was matched to (`POST /api/User/{userId}/changepassword`).
    pub operation: Option<String>,
    /// The status it expects.
    pub status: u16,
    /// Findings nothing explains.
    pub errors: Vec<Finding>,
    /// Findings known divergences explain.
    pub warnings: Vec<Warning>,
    /// What a rule accepted, or what was not decided.
    pub notes: Vec<String>,
}

impl InteractionReport {
    /// Its verdict.
    pub(crate) fn verdict(&self) -> Verdict {
        if !self.errors.is_empty() {
            Verdict::Incompatible
        } else if !self.warnings.is_empty() {
            Verdict::Warned
        } else {
            Verdict::Compatible
        }
    }
}

/// One pact file's results.
#[derive(Clone, Debug)]
pub(crate) struct PactReport {
    /// Where it is.
    pub file: PathBuf,
    /// Whether it is the contract built into the binary.
    pub built_in: bool,
    /// Its consumer.
    pub consumer: String,
    /// Its provider.
    pub provider: String,
    /// Each HTTP interaction, in file order.
    pub interactions: Vec<InteractionReport>,
    /// Interactions of other kinds, not checked.
    pub skipped: Vec<String>,
}

/// Everything a run found.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    /// The document, for the reader (its title and version, the OpenAPI
    /// version, and where it was read from).
    pub spec: String,
    /// Each pact file.
    pub pacts: Vec<PactReport>,
    /// Known divergences that explained nothing in this run.
    pub unused_divergences: Vec<String>,
}

impl Report {
    fn all(&self) -> impl Iterator<Item = &InteractionReport> {
        self.pacts.iter().flat_map(|p| &p.interactions)
    }

    /// Whether every interaction is compatible (warnings allowed).
    pub(crate) fn compatible(&self) -> bool {
        self.all().all(|i| i.verdict() != Verdict::Incompatible)
    }

    /// The process exit code: 0 compatible, 1 incompatible.
    pub(crate) fn exit_code(&self) -> u8 {
        if self.compatible() {
            crate::exit::EXIT_OK
        } else {
            crate::exit::EXIT_BROKEN
        }
    }

    /// One line per interaction and per finding, and a summary.
    pub(crate) fn console(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "spec: {}", self.spec);
        if self.pacts.iter().any(|p| p.built_in) {
            let _ = writeln!(
                out,
                "pacts: the contract built into this binary, since there is no `pacts/` folder here (`--pacts PATH` checks others; `orchestrator-pact pacts --out DIR` writes it out)"
            );
        }
        for pact in &self.pacts {
            let _ = writeln!(
                out,
                "{} -> {} ({})",
                pact.consumer,
                pact.provider,
                pact.file.display()
            );
            for i in &pact.interactions {
                let tag = match i.verdict() {
                    Verdict::Compatible => "ok",
                    Verdict::Warned => "WARN",
                    Verdict::Incompatible => "FAILED",
                };
                let against = match &i.operation {
                    Some(op) => format!("{op} -> {}", i.status),
                    None => format!("no operation -> {}", i.status),
                };
                let _ = writeln!(out, "  {tag:<7} {} ({against})", i.description);
                for f in &i.errors {
                    let _ = writeln!(out, "          - {f}");
                }
                for w in &i.warnings {
                    let _ = writeln!(
                        out,
                        "          warning: {} [known divergence `{}`]",
                        w.finding, w.divergence
                    );
                }
                for n in &i.notes {
                    let _ = writeln!(out, "          note: {n}");
                }
            }
            for s in &pact.skipped {
                let _ = writeln!(out, "  skipped {s} (not an HTTP interaction)");
            }
        }
        for id in &self.unused_divergences {
            let _ = writeln!(
                out,
                "note: the known divergence `{id}` explained nothing in these pacts (if the spec now declares it, remove its entry)"
            );
        }
        let count = |v: Verdict| self.all().filter(|i| i.verdict() == v).count();
        let total = self.all().count();
        let skipped: usize = self.pacts.iter().map(|p| p.skipped.len()).sum();
        let _ = write!(
            out,
            "{total} interaction{}: {} compatible, {} compatible with known divergences (warnings), {} incompatible",
            if total == 1 { "" } else { "s" },
            count(Verdict::Compatible),
            count(Verdict::Warned),
            count(Verdict::Incompatible),
        );
        if skipped > 0 {
            let _ = write!(out, ", {skipped} skipped");
        }
        let _ = writeln!(
            out,
            ": {}",
            if self.compatible() {
                "the pacts are compatible with the spec"
            } else {
                "the pacts ask for something the spec does not declare"
            }
        );
        out
    }

    /// The same as JSON, for scripts.
    pub(crate) fn to_json(&self) -> Value {
        let interactions: Vec<Value> = self
            .pacts
            .iter()
            .flat_map(|p| {
                p.interactions.iter().map(move |i| {
                    let mut findings: Vec<Value> = i
                        .errors
                        .iter()
                        .map(|f| json!({ "check": f.check.as_str(), "message": f.message, "excused_by": null }))
                        .collect();
                    findings.extend(i.warnings.iter().map(|w| {
                        json!({ "check": w.finding.check.as_str(), "message": w.finding.message, "excused_by": w.divergence })
                    }));
                    json!({
                        "pact": p.file.display().to_string(),
                        "consumer": p.consumer,
                        "provider": p.provider,
                        "description": i.description,
                        "operation": i.operation,
                        "status": i.status,
                        "verdict": i.verdict().as_str(),
                        "findings": findings,
                        "notes": i.notes,
                    })
                })
            })
            .collect();
        json!({
            "spec": self.spec,
            "compatible": self.compatible(),
            "interactions": interactions,
            "skipped": self.pacts.iter().flat_map(|p| p.skipped.clone()).collect::<Vec<_>>(),
            "unused_divergences": self.unused_divergences,
        })
    }
}

//! What a verification found, and its renderings: console lines, JUnit XML,
//! JSON. Every text passes through the run's [`Redactor`], before any escaping.

use std::fmt::Write as _;
use std::time::Duration;

use pact_verifier::verification_result::{VerificationExecutionResult, VerificationMismatchResult};
use serde_json::{Value, json};

use super::redact::Redactor;
use crate::states::SetupRecord;

/// How one interaction fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The provider answered as the pact says.
    Verified,
    /// The provider answered otherwise: the contract does not hold.
    Mismatch(Vec<String>),
    /// It could not be checked (provider state, connection, time-out).
    Error(String),
}

/// One interaction's result.
#[derive(Clone, Debug)]
pub struct InteractionOutcome {
    /// The consumer of its pact.
    pub consumer: String,
    /// The provider of its pact.
    pub provider: String,
    /// The interaction's description.
    pub description: String,
    /// Its provider states.
    pub states: Vec<String>,
    /// Whether it was pending (its failure does not fail the run).
    pub pending: bool,
    /// How long it took.
    pub duration: Duration,
    /// The verdict.
    pub status: Status,
}

/// The verdict of a whole run, as an exit code tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every interaction verified: exit 0.
    Holds,
    /// At least one interaction's answer broke the contract: exit 1.
    Broken,
    /// Something could not be checked, and nothing was found broken: exit 2.
    Unchecked,
}

impl Verdict {
    /// The process exit code: 0, 1 or 2.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Holds => 0,
            Verdict::Broken => 1,
            Verdict::Unchecked => 2,
        }
    }
}

/// Everything a run found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Where the requests went, for the reader.
    pub target: String,
    /// Each interaction verified, in order.
    pub outcomes: Vec<InteractionOutcome>,
    /// Failures not tied to an interaction (a pact that failed to load).
    pub general_errors: Vec<String>,
    /// The pact library's own report lines, for `--verbose`.
    pub library_output: Vec<String>,
    /// Interactions left out on purpose (lockout risk), by description.
    pub skipped: Vec<String>,
    /// What could not be removed from the tenant (ids only).
    pub leftovers: Vec<String>,
}

fn mismatch_lines(result: &VerificationMismatchResult) -> Status {
    match result {
        VerificationMismatchResult::Mismatches { mismatches, .. } => {
            Status::Mismatch(mismatches.iter().map(|m| m.description()).collect())
        }
        VerificationMismatchResult::Error { error, .. } => Status::Error(error.clone()),
    }
}

impl Report {
    /// Reads the pact library's result.
    pub fn from_result(target: String, result: &VerificationExecutionResult) -> Self {
        let outcomes: Vec<InteractionOutcome> = result
            .interaction_results
            .iter()
            .map(|r| InteractionOutcome {
                consumer: r.consumer.clone(),
                provider: r.provider.clone(),
                description: r.interaction_description.clone(),
                states: r.provider_states.clone(),
                pending: r.pending,
                duration: r.duration,
                status: match &r.result {
                    Ok(()) => Status::Verified,
                    Err(e) => mismatch_lines(&VerificationMismatchResult::from(e)),
                },
            })
            .collect();
        let known: Vec<&str> = result
            .interaction_results
            .iter()
            .map(|r| r.description.as_str())
            .collect();
        let general_errors = result
            .errors
            .iter()
            .filter(|(d, _)| !known.contains(&d.as_str()))
            .map(|(d, e)| match mismatch_lines(e) {
                Status::Error(msg) => format!("{d}: {msg}"),
                Status::Mismatch(lines) => format!("{d}: {}", lines.join("; ")),
                Status::Verified => d.clone(),
            })
            .collect();
        Self {
            target,
            outcomes,
            general_errors,
            library_output: result.output.clone(),
            skipped: Vec::new(),
            leftovers: Vec::new(),
        }
    }

    /// Puts the reason of each failed provider-state set-up (recorded per
    /// interaction by [`crate::states::RecordingStates`]) on the
    /// interactions the pact library reports only as "One or more of the
    /// setup state change handlers has failed". `setups[i]` holds the
    /// set-ups of outcome `i`, in the order its states were set up.
    pub fn explain_setup_failures(&mut self, setups: &[Vec<SetupRecord>]) {
        for (o, records) in self.outcomes.iter_mut().zip(setups) {
            // An interaction without states sets up the empty one.
            let names = if o.states.is_empty() {
                vec![String::new()]
            } else {
                o.states.clone()
            };
            let mut records = records.iter().peekable();
            let mut reasons = Vec::new();
            for name in &names {
                if records.peek().is_some_and(|(n, _)| n == name)
                    && let Some((_, Some(reason))) = records.next()
                {
                    reasons.push(reason.clone());
                }
            }
            if let Status::Error(message) = &mut o.status
                && message.contains("setup state change handlers has failed")
                && !reasons.is_empty()
            {
                *message = format!(
                    "the provider state could not be set up: {}",
                    reasons.join("; ")
                );
            }
        }
    }

    /// 1 if any non-pending interaction broke the contract; else 2 if
    /// anything could not be checked; else 0.
    pub fn verdict(&self) -> Verdict {
        let counted = || self.outcomes.iter().filter(|o| !o.pending);
        if counted().any(|o| matches!(o.status, Status::Mismatch(_))) {
            Verdict::Broken
        } else if !self.general_errors.is_empty()
            || counted().any(|o| matches!(o.status, Status::Error(_)))
            || self.outcomes.is_empty()
        {
            Verdict::Unchecked
        } else {
            Verdict::Holds
        }
    }

    fn count(&self, pick: impl Fn(&Status) -> bool) -> usize {
        self.outcomes.iter().filter(|o| pick(&o.status)).count()
    }

    /// A copy with every text scrubbed of the run's secrets: the renderings
    /// that escape (XML, Markdown) start from it, so that no escaping runs
    /// before the scrubbing and hides a secret's form from it.
    fn scrubbed(&self, redactor: &Redactor) -> Report {
        let all = |list: &mut Vec<String>| {
            for text in list.iter_mut() {
                *text = redactor.scrub(text);
            }
        };
        let mut copy = self.clone();
        copy.target = redactor.scrub(&copy.target);
        for o in &mut copy.outcomes {
            o.consumer = redactor.scrub(&o.consumer);
            o.provider = redactor.scrub(&o.provider);
            o.description = redactor.scrub(&o.description);
            all(&mut o.states);
            match &mut o.status {
                Status::Verified => {}
                Status::Mismatch(lines) => all(lines),
                Status::Error(message) => *message = redactor.scrub(message),
            }
        }
        all(&mut copy.general_errors);
        all(&mut copy.library_output);
        all(&mut copy.skipped);
        all(&mut copy.leftovers);
        copy
    }

    /// The console report: one line per interaction (with its findings
    /// indented under it) and a summary.
    pub fn console(&self, redactor: &Redactor) -> String {
        let mut out = String::new();
        let mut pact = None;
        for o in &self.outcomes {
            let this = (o.consumer.as_str(), o.provider.as_str());
            if pact != Some(this) {
                let _ = writeln!(out, "{} -> {} ({})", o.consumer, o.provider, self.target);
                pact = Some(this);
            }
            let mark = match (&o.status, o.pending) {
                (Status::Verified, _) => "ok     ",
                (Status::Mismatch(_), false) => "FAILED ",
                (Status::Error(_), false) => "ERROR  ",
                (_, true) => "PENDING",
            };
            let _ = writeln!(
                out,
                "  {mark} {} ({} ms)",
                o.description,
                o.duration.as_millis()
            );
            match &o.status {
                Status::Verified => {}
                Status::Mismatch(lines) => {
                    if !o.states.is_empty() {
                        let _ = writeln!(out, "          given: {}", o.states.join("; "));
                    }
                    for line in lines {
                        let _ =
                            writeln!(out, "          - {}", line.replace('\n', "\n            "));
                    }
                }
                Status::Error(message) => {
                    let _ = writeln!(out, "          could not check: {message}");
                }
            }
        }
        for description in &self.skipped {
            let _ = writeln!(
                out,
                "  SKIPPED {description}: it sends a wrong password, which counts toward lockout of the existing user (run it with --allow-lockout-risk, or use throwaway users)"
            );
        }
        for e in &self.general_errors {
            let _ = writeln!(out, "ERROR   {e}");
        }
        for l in &self.leftovers {
            let _ = writeln!(out, "LEFT ON THE TENANT  {l}");
        }
        let verified = self.count(|s| *s == Status::Verified);
        let failed = self.count(|s| matches!(s, Status::Mismatch(_)));
        let errors = self.count(|s| matches!(s, Status::Error(_)));
        let verdict = match self.verdict() {
            Verdict::Holds => "the contract holds",
            Verdict::Broken => "the contract does not hold",
            Verdict::Unchecked => "the contract could not be checked",
        };
        let _ = writeln!(
            out,
            "{} interactions: {verified} verified, {failed} failed, {errors} could not be checked{}: {verdict}",
            self.outcomes.len(),
            if self.skipped.is_empty() {
                String::new()
            } else {
                format!(", {} skipped", self.skipped.len())
            }
        );
        redactor.scrub(&out)
    }

    /// JUnit XML: one test suite per pact, one test case per interaction.
    pub fn junit(&self, redactor: &Redactor) -> String {
        // Scrubbed before escaping: `&amp;` would hide a secret with `&`.
        self.scrubbed(redactor).junit_of_scrubbed(redactor)
    }

    fn junit_of_scrubbed(&self, redactor: &Redactor) -> String {
        let mut suites: Vec<(String, Vec<&InteractionOutcome>)> = Vec::new();
        for o in &self.outcomes {
            let name = format!("{} -> {}", o.consumer, o.provider);
            match suites.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.push(o),
                None => suites.push((name, vec![o])),
            }
        }
        let total_failures = self.count(|s| matches!(s, Status::Mismatch(_)));
        let total_errors =
            self.count(|s| matches!(s, Status::Error(_))) + self.general_errors.len();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"orchestrator-pact verify\" tests=\"{}\" failures=\"{total_failures}\" errors=\"{total_errors}\">",
            self.outcomes.len() + self.general_errors.len()
        );
        for (name, outcomes) in &suites {
            let failures = outcomes
                .iter()
                .filter(|o| matches!(o.status, Status::Mismatch(_)))
                .count();
            let errors = outcomes
                .iter()
                .filter(|o| matches!(o.status, Status::Error(_)))
                .count();
            let time: f64 = outcomes.iter().map(|o| o.duration.as_secs_f64()).sum();
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">",
                escape(name),
                outcomes.len()
            );
            for o in outcomes {
                let _ = write!(
                    xml,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                    escape(name),
                    escape(&o.description),
                    o.duration.as_secs_f64()
                );
                match &o.status {
                    Status::Verified => xml.push_str("/>\n"),
                    Status::Mismatch(lines) => {
                        let _ = writeln!(
                            xml,
                            ">\n      <failure message=\"the provider's answer does not match the pact\">{}</failure>\n    </testcase>",
                            escape(&lines.join("\n"))
                        );
                    }
                    Status::Error(message) => {
                        let _ = writeln!(
                            xml,
                            ">\n      <error message=\"could not check\">{}</error>\n    </testcase>",
                            escape(message)
                        );
                    }
                }
            }
            xml.push_str("  </testsuite>\n");
        }
        if !self.general_errors.is_empty() {
            let _ = writeln!(
                xml,
                "  <testsuite name=\"pact sources\" tests=\"{0}\" failures=\"0\" errors=\"{0}\">",
                self.general_errors.len()
            );
            for e in &self.general_errors {
                let _ = writeln!(
                    xml,
                    "    <testcase classname=\"pact sources\" name=\"load\">\n      <error message=\"could not check\">{}</error>\n    </testcase>",
                    escape(e)
                );
            }
            xml.push_str("  </testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        redactor.scrub(&xml)
    }

    /// The JSON report: the verdict, the counts and every interaction.
    pub fn json(&self, redactor: &Redactor) -> Value {
        let interactions: Vec<Value> = self
            .outcomes
            .iter()
            .map(|o| {
                let (result, details) = match &o.status {
                    Status::Verified => ("verified", Value::Null),
                    Status::Mismatch(lines) => ("failed", json!(lines)),
                    Status::Error(message) => ("error", json!(message)),
                };
                json!({
                    "consumer": o.consumer,
                    "provider": o.provider,
                    "description": o.description,
                    "providerStates": o.states,
                    "pending": o.pending,
                    "durationMs": o.duration.as_millis() as u64,
                    "result": result,
                    "details": details,
                })
            })
            .collect();
        let verdict = self.verdict();
        let mut value = json!({
            "target": self.target,
            "verdict": match verdict {
                Verdict::Holds => "holds",
                Verdict::Broken => "broken",
                Verdict::Unchecked => "unchecked",
            },
            "exitCode": verdict.exit_code(),
            "interactions": interactions,
            "skipped": self.skipped,
            "leftovers": self.leftovers,
            "errors": self.general_errors,
        });
        redactor.scrub_json(&mut value);
        value
    }
}

impl Report {
    /// A Markdown summary: the verdict, and a table of interactions and
    /// results, for `--summary` and GitHub's job summary.
    pub fn markdown(&self, redactor: &Redactor) -> String {
        // Scrubbed before escaping: `\|` would hide a secret with `|`.
        self.scrubbed(redactor).markdown_of_scrubbed(redactor)
    }

    fn markdown_of_scrubbed(&self, redactor: &Redactor) -> String {
        let cell = |t: &str| t.replace('|', "\\|").replace('\n', "<br>");
        let verdict = match self.verdict() {
            Verdict::Holds => "✅ the contract holds",
            Verdict::Broken => "❌ the contract does not hold",
            Verdict::Unchecked => "⚠️ the contract could not be checked",
        };
        let mut md = format!(
            "### orchestrator-pact verify: {verdict}\n\nTarget: {}\n\n",
            cell(&self.target)
        );
        md.push_str("| Interaction | Provider states | Result | Details |\n|---|---|---|---|\n");
        for o in &self.outcomes {
            let (result, details) = match &o.status {
                Status::Verified => ("✅ verified", String::new()),
                Status::Mismatch(lines) if o.pending => ("⏳ failed (pending)", lines.join("; ")),
                Status::Mismatch(lines) => ("❌ failed", lines.join("; ")),
                Status::Error(message) => ("⚠️ could not check", message.clone()),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {result} | {} |",
                cell(&o.description),
                cell(&o.states.join("; ")),
                cell(&details)
            );
        }
        for description in &self.skipped {
            let _ = writeln!(
                md,
                "| {} | | ⏭️ skipped | lockout risk for an existing user |",
                cell(description)
            );
        }
        for e in &self.general_errors {
            let _ = writeln!(
                md,
                "| (pact sources) | | ⚠️ could not check | {} |",
                cell(e)
            );
        }
        if !self.leftovers.is_empty() {
            md.push_str("\nLeft on the tenant (run `orchestrator-pact cleanup`):\n\n");
            for l in &self.leftovers {
                let _ = writeln!(md, "- {}", cell(l));
            }
        }
        redactor.scrub(&md)
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

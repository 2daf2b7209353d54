//! What a verification found, and its renderings: console lines, JUnit XML
//! (through `quick-junit`), JSON, Markdown. Every text passes through the
//! run's [`Redactor`], before any escaping.

use std::fmt::Write as _;
use std::time::Duration;

use pact_verifier::verification_result::{VerificationExecutionResult, VerificationMismatchResult};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite, XmlString};
use serde_json::{Value, json};

use crate::redact::Redactor;
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
    /// interaction by `crate::states::RecordingStates`) on the
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

    /// JUnit XML: one test suite per pact, one test case per interaction,
    /// and a `pact sources` suite for the pacts that could not be loaded.
    ///
    /// Written by [`quick_junit`], which escapes as it serialises: every
    /// text it gets is already scrubbed. Before the scrubbing, each text
    /// loses what the serialiser would drop (ANSI escapes, control
    /// characters XML 1.0 forbids), so that dropping them afterwards cannot
    /// join the halves of a secret; the XML is scrubbed once more at the end.
    pub fn junit(&self, redactor: &Redactor) -> String {
        let text =
            |t: &str| -> XmlString { XmlString::new(redactor.scrub(XmlString::new(t).as_str())) };
        let mut report = quick_junit::Report::new("orchestrator-pact verify");
        let mut suites: Vec<(String, TestSuite)> = Vec::new();
        for o in &self.outcomes {
            let name = format!("{} -> {}", o.consumer, o.provider);
            let at = match suites.iter().position(|(n, _)| *n == name) {
                Some(at) => at,
                None => {
                    suites.push((name.clone(), TestSuite::new(text(&name))));
                    suites.len() - 1
                }
            };
            let status = match &o.status {
                Status::Verified => TestCaseStatus::success(),
                Status::Mismatch(lines) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message("the provider's answer does not match the pact")
                        .set_description(text(&lines.join("\n")));
                    status
                }
                Status::Error(message) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    status
                        .set_message("could not check")
                        .set_description(text(message));
                    status
                }
            };
            let mut case = TestCase::new(text(&o.description), status);
            case.set_classname(text(&name)).set_time(o.duration);
            let suite = &mut suites[at].1;
            let time = suite.time.unwrap_or_default() + o.duration;
            suite.set_time(time);
            suite.add_test_case(case);
        }
        report.add_test_suites(suites.into_iter().map(|(_, suite)| suite));
        if !self.general_errors.is_empty() {
            let mut suite = TestSuite::new("pact sources");
            for e in &self.general_errors {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message("could not check")
                    .set_description(text(e));
                let mut case = TestCase::new("load", status);
                case.set_classname("pact sources");
                suite.add_test_case(case);
            }
            report.add_test_suite(suite);
        }
        // Serialising into memory fails only on a bug of the serialiser;
        // then the report still parses, and says it is empty for a reason.
        let xml = report.to_string().unwrap_or_else(|e| {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- the JUnit report could not be written: {e} -->\n<testsuites name=\"orchestrator-pact verify\" tests=\"0\" failures=\"0\" errors=\"0\"/>\n"
            )
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(consumer: &str, description: &str, status: Status) -> InteractionOutcome {
        InteractionOutcome {
            consumer: consumer.into(),
            provider: "UiPath Identity".into(),
            description: description.into(),
            states: vec!["a user exists".into()],
            pending: false,
            duration: Duration::from_millis(1234),
            status,
        }
    }

    fn report() -> Report {
        Report {
            target: "http://127.0.0.1:1/".into(),
            outcomes: vec![
                outcome("app", "a change <ok> & \"quoted\"", Status::Verified),
                outcome(
                    "app",
                    "a wrong old password",
                    Status::Mismatch(vec![
                        "status: expected 400 but was 200".into(),
                        "body: saw s3cr&t<pw> in it\u{1}".into(),
                    ]),
                ),
                outcome(
                    "other",
                    "a weak password",
                    Status::Error("state failed: token s3cr&t<pw>".into()),
                ),
            ],
            general_errors: vec!["pacts/x.json: not JSON".into()],
            ..Report::default()
        }
    }

    fn junit_of(report: &Report) -> (String, quick_junit::Report) {
        let redactor = Redactor::default();
        redactor.add_str("s3cr&t<pw>");
        let xml = report.junit(&redactor);
        let parsed = quick_junit::Report::deserialize_from_str(&xml).expect(&xml);
        (xml, parsed)
    }

    #[test]
    fn junit_has_a_suite_per_pact_and_a_case_per_interaction() {
        let (xml, parsed) = junit_of(&report());
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            "{xml}"
        );
        assert_eq!(
            parsed.name.as_ref().map(|n| n.as_str()),
            Some("orchestrator-pact verify")
        );
        assert_eq!(
            (parsed.tests, parsed.failures, parsed.errors),
            (4, 1, 2),
            "{xml}"
        );
        let suites: Vec<(&str, usize, usize, usize)> = parsed
            .test_suites
            .iter()
            .map(|s| (s.name.as_str(), s.tests, s.failures, s.errors))
            .collect();
        assert_eq!(
            suites,
            [
                ("app -> UiPath Identity", 2, 1, 0),
                ("other -> UiPath Identity", 1, 0, 1),
                ("pact sources", 1, 0, 1),
            ]
        );
        assert_eq!(
            parsed.test_suites[0].time,
            Some(Duration::from_millis(2468))
        );
        let cases: Vec<(&str, Option<&str>, Option<Duration>)> = parsed
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .map(|c| {
                (
                    c.name.as_str(),
                    c.classname.as_ref().map(|n| n.as_str()),
                    c.time,
                )
            })
            .collect();
        let took = Some(Duration::from_millis(1234));
        assert_eq!(
            cases,
            [
                (
                    "a change <ok> & \"quoted\"",
                    Some("app -> UiPath Identity"),
                    took
                ),
                ("a wrong old password", Some("app -> UiPath Identity"), took),
                ("a weak password", Some("other -> UiPath Identity"), took),
                ("load", Some("pact sources"), None),
            ]
        );
    }

    #[test]
    fn junit_failures_and_errors_carry_their_message_and_the_findings() {
        let (xml, parsed) = junit_of(&report());
        let statuses: Vec<(bool, Option<&str>, Option<&str>)> = parsed
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .filter_map(|c| match &c.status {
                TestCaseStatus::NonSuccess {
                    kind,
                    message,
                    description,
                    ..
                } => Some((
                    *kind == NonSuccessKind::Failure,
                    message.as_ref().map(|m| m.as_str()),
                    description.as_ref().map(|d| d.as_str()),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            statuses,
            [
                (
                    true,
                    Some("the provider's answer does not match the pact"),
                    Some("status: expected 400 but was 200\nbody: saw *** in it")
                ),
                (
                    false,
                    Some("could not check"),
                    Some("state failed: token ***")
                ),
                (
                    false,
                    Some("could not check"),
                    Some("pacts/x.json: not JSON")
                ),
            ],
            "{xml}"
        );
    }

    #[test]
    fn junit_shows_no_secret_in_any_form_even_one_split_by_characters_xml_drops() {
        let mut split = report();
        split.outcomes[0].description = "leaks s3cr\u{1b}[0m&t<pw> or s3cr\u{2}&t<pw>?".into();
        for report in [report(), split] {
            let (xml, parsed) = junit_of(&report);
            for form in ["s3cr", "t<pw>", "t&lt;pw&gt;"] {
                assert!(!xml.contains(form), "{form} in {xml}");
            }
            let texts = format!("{parsed:?}");
            assert!(!texts.contains("s3cr"), "{texts}");
        }
    }
}

//! What users read, pinned: the console report (stdout), the lines on
//! stderr, the JUnit XML, the JSON report and the Markdown summary of real
//! runs of the binary, as `insta` snapshots in `snapshots/` (as
//! pact-reference pins its verifier's reports). A change to any of them is
//! then a diff a reviewer reads, not a surprise for a pipeline that parses
//! them.
//!
//! What differs from one run to the next (ports, durations, the random ids
//! and names of throwaway users, scratch folders) is replaced by a
//! placeholder before comparing; everything else is compared as printed.
//! To accept a deliberate change, run the test with `INSTA_UPDATE=always`
//! and review the diff of `snapshots/` (under CI, `CI` is set and a
//! mismatch or a missing snapshot fails instead).

use std::path::Path;

use orchestrator_pact::emulator::{Deviation, EmulatorConfig, EmulatorHandle, FaultRule};
use uipath_identity_client::contract::{REFUSES_A_TOO_SHORT_PASSWORD, pact_file_name};
use uuid::Uuid;

use crate::broker_double::BrokerDouble;
use crate::fixtures::{
    RefusingPort, Run, ScratchDir, committed_pact, interaction_mut, orchestrator_pact,
    orchestrator_pact_with_env, pacts,
};
use crate::tenant::{existing_user, live_args, tenant};

/// The existing user of the existing-user runs: a fixed id, so that the
/// lines naming it need no placeholder.
const EXISTING_USER: Uuid = Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0001);

/// The report files of one run, in a scratch folder of their own.
struct Reports {
    dir: ScratchDir,
}

impl Reports {
    fn new() -> Self {
        Self {
            dir: ScratchDir::new(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// `--junit`, `--json` and `--summary` into the folder.
    fn args(&self) -> Vec<String> {
        vec![
            "--junit".into(),
            self.path("junit.xml"),
            "--json".into(),
            self.path("report.json"),
            "--summary".into(),
            self.path("summary.md"),
        ]
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name))
            .unwrap_or_else(|e| panic!("the run wrote no {name}: {e}"))
    }

    /// Pins `run`'s console and its three report files as `{scenario}_…`,
    /// with the folder's own path filtered too.
    fn assert_snapshots(&self, scenario: &str, run: &Run) {
        let mut settings = settings();
        settings.add_filter(&regex::escape(&self.dir.to_string_lossy()), "[REPORTS]");
        settings.bind(|| {
            insta::assert_snapshot!(format!("{scenario}_console"), console(run));
            insta::assert_snapshot!(format!("{scenario}_junit_xml"), self.read("junit.xml"));
            insta::assert_snapshot!(format!("{scenario}_report_json"), self.read("report.json"));
            insta::assert_snapshot!(format!("{scenario}_summary_md"), self.read("summary.md"));
        });
    }
}

/// The snapshot settings every test shares: the snapshots live beside this
/// file under their own names, and what changes from run to run is
/// replaced by a placeholder.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings
        .set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/provider/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for (pattern, placeholder) in [
        // Ports of the servers a test starts on port 0.
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        // Durations: the console's `(12 ms)`, JUnit's `time="0.012"`, the
        // JSON report's `"durationMs": 12`, progress's `(3 s)`.
        (r"\(\d+ ms\)", "([MS] ms)"),
        (r#"time="\d+\.\d+""#, r#"time="[SECONDS]""#),
        (r#""durationMs": \d+"#, r#""durationMs": "[MS]""#),
        (r"\(\d+ s\)", "([S] s)"),
        // Throwaway users: random ids, and the run's random part of the
        // names made for them (`orchestrator-pact-9124ac96-1`).
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[UUID]",
        ),
        (
            r"orchestrator-pact-[0-9a-f]{8}-(\d+)",
            "orchestrator-pact-[RUN]-$1",
        ),
        // The time stamps of log lines, and the emulator's random trace ids.
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]"),
        (r"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]", "[TRACE]"),
        // The operating system's number for an error (ECONNREFUSED is 111
        // on Linux, 61 on macOS).
        (r"\(os error \d+\)", "(os error [N])"),
    ] {
        settings.add_filter(pattern, placeholder);
    }
    settings
}

/// What a person at the console reads: the exit code, stdout and stderr.
fn console(run: &Run) -> String {
    format!(
        "exit code: {}\n--- stdout ---\n{}--- stderr ---\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// `verify` against the tenant `emulator` (set up by [`tenant`]) with
/// client credentials, `extra` and the report flags.
async fn against_the_tenant(emulator: &EmulatorHandle, extra: &[&str], reports: &Reports) -> Run {
    let flags = reports.args();
    let mut all: Vec<&str> = extra.to_vec();
    all.extend(flags.iter().map(String::as_str));
    orchestrator_pact(live_args(&emulator.url(), &all)).await
}

fn args(base: &[&str], extra: Vec<String>) -> Vec<String> {
    let mut all: Vec<String> = base.iter().map(|s| (*s).to_owned()).collect();
    all.extend(extra);
    all
}

#[tokio::test]
async fn a_run_against_the_embedded_emulator_that_verifies_every_interaction() {
    let reports = Reports::new();
    let run = orchestrator_pact(args(&["verify", "--pacts", &pacts()], reports.args())).await;
    assert_eq!(run.code, 0, "{run}");
    reports.assert_snapshots("embedded_emulator", &run);
}

/// One interaction fails (the deployment accepts an anonymous call) and one
/// could not be checked (its provider state is one the deployment does not
/// know, as in another team's pact); one answer is slow, so that the run
/// lasts long enough to print its progress line on stderr.
#[tokio::test]
async fn a_run_where_one_interaction_fails_and_one_could_not_be_checked() {
    let mut pact = committed_pact();
    interaction_mut(&mut pact, REFUSES_A_TOO_SHORT_PASSWORD)["providerStates"][0]["name"] =
        "a state this deployment does not know".into();
    let dir = ScratchDir::new();
    std::fs::write(dir.join(pact_file_name()), pact.to_string()).unwrap();
    let emulator = crate::fixtures::start_emulator(EmulatorConfig {
        deviation: Some(Deviation::AnonymousAllowed),
        faults: vec![
            "route=change-password,kind=delay,delay-ms=2100,next=1"
                .parse::<FaultRule>()
                .unwrap(),
        ],
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let reports = Reports::new();
    let run = orchestrator_pact(args(
        &[
            "verify",
            "--pacts",
            dir.to_str().unwrap(),
            "--base-url",
            &url,
            "--state-change-url",
            &format!("{url}/_pact/provider-states"),
        ],
        reports.args(),
    ))
    .await;
    assert_eq!(run.code, 1, "{run}");
    reports.assert_snapshots("failures", &run);
}

/// An existing user without `--allow-lockout-risk`: the interaction that
/// sends a wrong password is skipped, and the user's password is set back.
#[tokio::test]
async fn an_existing_user_run_with_its_skipped_interaction() {
    let emulator = crate::fixtures::start_emulator(tenant(EmulatorConfig {
        users: vec![existing_user(EXISTING_USER)],
        ..EmulatorConfig::default()
    }))
    .await;
    let reports = Reports::new();
    let user = EXISTING_USER.to_string();
    let run = against_the_tenant(
        &emulator,
        &[
            "--test-user-id",
            &user,
            "--test-user-password",
            "Existing-passw0rd",
        ],
        &reports,
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    reports.assert_snapshots("existing_user", &run);
}

/// Throwaway users, made and removed by the run, one interaction at a time
/// so that the teardown lines on stderr come in pact order.
#[tokio::test]
async fn a_run_with_throwaway_users() {
    let emulator = crate::fixtures::start_emulator(tenant(EmulatorConfig::default())).await;
    let reports = Reports::new();
    let run = against_the_tenant(&emulator, &["--jobs", "1"], &reports).await;
    assert_eq!(run.code, 0, "{run}");
    reports.assert_snapshots("throwaway_users", &run);
}

/// Pacts from a broker, verified against the embedded emulator with the
/// results published: the console names each pact and what was published.
#[tokio::test]
async fn a_verification_from_a_broker_with_its_results_published() {
    let broker = BrokerDouble::start().await;
    let publish = orchestrator_pact_with_env(
        [
            "publish",
            "--broker-url",
            &broker.url(),
            "--pacts",
            &pacts(),
            "--consumer-app-version",
            "c1",
            "--branch",
            "main",
        ],
        &[],
    )
    .await;
    assert_eq!(publish.code, 0, "{publish}");
    let reports = Reports::new();
    let run = orchestrator_pact(args(
        &[
            "verify",
            "--broker-url",
            &broker.url(),
            "--provider-version",
            "t1",
            "--provider-branch",
            "main",
            "--publish",
        ],
        reports.args(),
    ))
    .await;
    assert_eq!(run.code, 0, "{run}");
    settings().bind(|| insta::assert_snapshot!("broker_publish_console", console(&publish)));
    reports.assert_snapshots("broker", &run);
}

/// A tenant that refuses every delete: the users the run made are left
/// there, named by id, with the command that removes them.
#[tokio::test]
async fn a_run_that_leaves_users_on_the_tenant() {
    let emulator = crate::fixtures::start_emulator(tenant(EmulatorConfig {
        faults: vec!["route=delete-user,kind=503".parse::<FaultRule>().unwrap()],
        ..EmulatorConfig::default()
    }))
    .await;
    let reports = Reports::new();
    let run = against_the_tenant(
        &emulator,
        &["--jobs", "1", "--setup-retries", "0"],
        &reports,
    )
    .await;
    // The contract held; what is left is reported, not hidden.
    assert_eq!(run.code, 0, "{run}");
    reports.assert_snapshots("leftovers", &run);
}

/// Nobody answers at the deployment's URL: nothing could be checked, and
/// the run stops before any interaction (so it writes no report file).
#[tokio::test]
async fn a_run_where_nothing_could_be_checked() {
    let nobody = RefusingPort::new();
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--base-url",
        &nobody.url(),
        "--token",
        "t0ken",
        "--organization-id",
        "6f726368-6573-7472-6174-6f722d706163",
    ])
    .await;
    assert_eq!(run.code, 2, "{run}");
    settings().bind(|| insta::assert_snapshot!("unreachable_console", console(&run)));
}

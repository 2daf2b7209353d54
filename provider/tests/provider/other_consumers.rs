//! Pacts from other consumers (a team using Pact in C# or Python), whose
//! provider-state names the harness does not know: each interaction's line
//! and every report say why it could not be checked.

use orchestrator_pact::emulator::EmulatorConfig;
use uipath_identity_client::contract::{PROVIDER, STATE_KNOWN_PASSWORD};

use crate::fixtures::{Run, ScratchDir, committed_pact, orchestrator_pact, start_emulator};
use crate::tenant::{live_args, tenant};

const FOREIGN_STATE: &str = "a user named Bob exists";

/// A folder with the committed pact, its consumer renamed and every
/// provider state replaced by [`FOREIGN_STATE`].
fn foreign_pacts() -> ScratchDir {
    let mut pact = committed_pact();
    pact["consumer"]["name"] = "csharp-automation".into();
    for interaction in pact["interactions"].as_array_mut().unwrap() {
        interaction["providerStates"] = serde_json::json!([{ "name": FOREIGN_STATE }]);
    }
    let dir = ScratchDir::new();
    std::fs::create_dir_all(dir.join("pacts")).unwrap();
    std::fs::write(
        dir.join(format!("pacts/csharp-automation-{PROVIDER}.json")),
        serde_json::to_vec(&pact).unwrap(),
    )
    .unwrap();
    dir
}

/// The report flags writing into `dir`.
fn report_args(dir: &std::path::Path) -> Vec<String> {
    [
        "--junit",
        "junit.xml",
        "--json",
        "report.json",
        "--summary",
        "summary.md",
    ]
    .chunks(2)
    .flat_map(|pair| {
        [
            pair[0].to_owned(),
            dir.join(pair[1]).to_string_lossy().into_owned(),
        ]
    })
    .collect()
}

/// Asserts that the console lines and every report give `reason` for each
/// of the 5 interactions.
fn assert_reason_everywhere(run: &Run, dir: &std::path::Path, reason: &str) {
    assert_eq!(run.code, 2, "{run}");
    let lines = run
        .stdout
        .lines()
        .filter(|l| l.contains("could not check:") && l.contains(reason))
        .count();
    assert_eq!(
        lines, 5,
        "each interaction's line must give the reason: {run}"
    );
    assert!(
        !run.stdout
            .contains("One or more of the setup state change handlers"),
        "{run}"
    );
    for file in ["junit.xml", "report.json", "summary.md"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(
            text.matches(reason).count(),
            5,
            "{file} must give the reason for each interaction: {text}"
        );
    }
}

#[tokio::test]
async fn an_unknown_provider_state_is_named_on_each_line_and_in_each_report_for_the_emulator() {
    let dir = foreign_pacts();
    let mut args = vec![
        "verify".to_owned(),
        "--pacts".to_owned(),
        dir.join("pacts").to_string_lossy().into_owned(),
    ];
    args.extend(report_args(&dir));
    let run = orchestrator_pact(&args).await;
    assert_reason_everywhere(
        &run,
        &dir,
        &format!(
            "unknown provider state `{FOREIGN_STATE}`: the emulator knows `{STATE_KNOWN_PASSWORD}`"
        ),
    );
}

#[tokio::test]
async fn an_unknown_provider_state_is_named_on_each_line_and_in_each_report_for_a_tenant() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let dir = foreign_pacts();
    let mut args = live_args(&emulator.url(), &[]);
    let at = args.iter().position(|a| a == "--pacts").unwrap() + 1;
    args[at] = dir.join("pacts").to_string_lossy().into_owned();
    args.extend(report_args(&dir));
    let run = orchestrator_pact(&args).await;
    assert_reason_everywhere(
        &run,
        &dir,
        &format!("`{FOREIGN_STATE}`: unknown state; the harness knows `{STATE_KNOWN_PASSWORD}`"),
    );
}

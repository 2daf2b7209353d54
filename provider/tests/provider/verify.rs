//! `orchestrator-pact verify`, run as a user runs it.

use orchestrator_pact::emulator::{Deviation, EmulatorConfig};
use rstest::rstest;
use serde_json::Value;
use uipath_identity_client::contract::{
    CHANGES_THE_PASSWORD, CONSUMER, PARAM_PASSWORD, PROVIDER, REFUSES_A_TOO_SHORT_PASSWORD,
    REFUSES_A_WRONG_OLD_PASSWORD, REFUSES_AN_ANONYMOUS_CALL, REFUSES_AN_UNBINDABLE_BODY,
    STATE_KNOWN_PASSWORD, pact_file_name,
};

use crate::fixtures::{
    RefusingPort, Run, ScratchDir, committed_pact, copied_pact, orchestrator_pact,
    orchestrator_pact_with_env, pacts, pacts_dir, start_emulator,
};

const INTERACTIONS: [&str; 5] = [
    REFUSES_A_TOO_SHORT_PASSWORD,
    REFUSES_AN_UNBINDABLE_BODY,
    REFUSES_A_WRONG_OLD_PASSWORD,
    REFUSES_AN_ANONYMOUS_CALL,
    CHANGES_THE_PASSWORD,
];

#[tokio::test]
async fn verifies_every_interaction_against_the_embedded_emulator() {
    let run = orchestrator_pact(["verify", "--pacts", &pacts()]).await;
    assert_eq!(run.code, 0, "{run}");
    for description in INTERACTIONS {
        assert!(
            run.stdout.contains(&format!("ok      {description}")),
            "{description}: {run}"
        );
    }
    assert!(
        run.stdout.contains("5 interactions: 5 verified, 0 failed"),
        "{run}"
    );
}

#[tokio::test]
async fn runs_with_no_flags_from_the_workspace_root() {
    let run = orchestrator_pact(["verify"]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("the contract holds"), "{run}");
}

#[rstest]
#[case::wrong_password_succeeds(Deviation::WrongPasswordSucceeds, INTERACTIONS[2], "expected 400 but was 200")]
#[case::validation_errors_as_list(Deviation::ValidationErrorsAsList, INTERACTIONS[1], "Type mismatch")]
#[case::validation_messages_as_strings(Deviation::ValidationMessagesAsStrings, INTERACTIONS[1], "$.errors.oldPassword")]
#[case::anonymous_allowed(Deviation::AnonymousAllowed, INTERACTIONS[3], "expected 401 but was 200")]
#[tokio::test]
async fn a_deployment_that_breaks_the_contract_fails_and_is_named(
    #[case] deviation: Deviation,
    #[case] broken: &str,
    #[case] finding: &str,
) {
    let emulator = start_emulator(EmulatorConfig {
        deviation: Some(deviation),
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--base-url",
        &url,
        "--state-change-url",
        &format!("{url}/_pact/provider-states"),
    ])
    .await;
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains(&format!("FAILED  {broken}")), "{run}");
    assert!(run.stdout.contains(finding), "{run}");
    assert!(run.stdout.contains("4 verified, 1 failed"), "{run}");
    assert!(run.stdout.contains("the contract does not hold"), "{run}");
}

/// A tenant whose Identity stack names its errors otherwise answers the
/// same statuses and shapes, so only pinned codes can catch it: automation
/// that asks "was the old password wrong?" would break there.
#[tokio::test]
async fn a_deployment_that_renames_the_error_codes_fails_and_names_the_codes() {
    let emulator = start_emulator(EmulatorConfig {
        deviation: Some(Deviation::RenamedErrorCodes),
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--base-url",
        &url,
        "--state-change-url",
        &format!("{url}/_pact/provider-states"),
    ])
    .await;
    assert_eq!(run.code, 1, "{run}");
    let report = |description: &str| {
        let start = run
            .stdout
            .find(&format!("FAILED  {description}"))
            .unwrap_or_else(|| panic!("`{description}` is not reported as failed: {run}"));
        let rest = &run.stdout[start + 8..];
        let end = rest
            .find("\n  ok")
            .or_else(|| rest.find("\n  FAILED"))
            .unwrap_or(rest.len());
        rest[..end].to_owned()
    };
    let mismatch = report(REFUSES_A_WRONG_OLD_PASSWORD);
    assert!(
        mismatch.contains("InvalidPassword") && mismatch.contains("PasswordMismatch"),
        "the finding names both codes: {run}"
    );
    let policy = report(REFUSES_A_TOO_SHORT_PASSWORD);
    assert!(policy.contains("PasswordLength"), "{run}");
    assert!(run.stdout.contains("3 verified, 2 failed"), "{run}");
    assert!(run.stdout.contains("the contract does not hold"), "{run}");
}

/// A pact recorded before the states named the user's current `password`
/// (another consumer's, or an older one of ours) still verifies, in process
/// and through the state endpoint (a regression guard: the original code
/// passes it too).
#[tokio::test]
async fn a_pact_whose_states_carry_no_password_still_verifies() {
    let dir = ScratchDir::new();
    let file = pact_file_name();
    let mut pact = committed_pact();
    for interaction in pact["interactions"].as_array_mut().unwrap() {
        for state in interaction["providerStates"].as_array_mut().unwrap() {
            let params = state["params"].as_object_mut().unwrap();
            assert!(params.remove(PARAM_PASSWORD).is_some(), "{state}");
        }
    }
    std::fs::write(dir.join(file), pact.to_string()).unwrap();
    let old = dir.to_string_lossy().into_owned();

    let (embedded, through_url) = verify_in_process_and_through_the_state_url(&old).await;
    assert_eq!(embedded.code, 0, "{embedded}");
    assert_eq!(through_url.code, 0, "{through_url}");
}

/// The contract guide's example of another consumer's interaction, which uses the
/// contract's state vocabulary, verifies against the emulator: in process
/// and through its state endpoint.
#[tokio::test]
async fn the_contract_guides_example_of_another_consumers_interaction_verifies() {
    let guide = std::fs::read_to_string(pacts_dir().join("../docs/contract.md"))
        .expect("docs/contract.md is readable");
    let fragment = guide
        .split("A fragment of such an interaction (Pact\nV4):\n\n```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/contract.md has the example fragment");
    let interaction: Value = serde_json::from_str(fragment).expect("the fragment is JSON");
    let pact = serde_json::json!({
        "consumer": { "name": "robot-rotator" },
        "provider": { "name": PROVIDER },
        "interactions": [interaction],
        "metadata": { "pactSpecification": { "version": "4.0" } },
    });
    let dir = ScratchDir::new();
    std::fs::write(
        dir.join(format!("robot-rotator-{PROVIDER}.json")),
        pact.to_string(),
    )
    .unwrap();
    let pacts = dir.to_string_lossy().into_owned();

    let (embedded, through_url) = verify_in_process_and_through_the_state_url(&pacts).await;
    assert_eq!(embedded.code, 0, "{embedded}");
    assert!(embedded.stdout.contains("1 verified"), "{embedded}");
    assert_eq!(through_url.code, 0, "{through_url}");
}

/// `verify` of `pacts` twice: against the embedded emulator, and against a
/// served one through its state URL.
async fn verify_in_process_and_through_the_state_url(pacts: &str) -> (Run, Run) {
    let embedded = orchestrator_pact(["verify", "--pacts", pacts]).await;
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let url = emulator.url();
    let through_url = orchestrator_pact([
        "verify",
        "--pacts",
        pacts,
        "--base-url",
        &url,
        "--state-change-url",
        &format!("{url}/_pact/provider-states"),
    ])
    .await;
    (embedded, through_url)
}

#[tokio::test]
async fn verifies_a_deployment_under_a_base_path_and_tears_its_users_down() {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let url = emulator.url();
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--base-url",
        &format!("{url}/myorg/mytenant/"),
        "--state-change-url",
        &format!("{url}/_pact/provider-states"),
        "--state-change-teardown",
    ])
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert!(emulator.emulator.store.is_empty(), "users were left behind");
}

#[tokio::test]
async fn injects_the_token_only_where_the_pact_has_an_authorization_header() {
    let token = "t0ken-only-this-one-works";
    let emulator = start_emulator(EmulatorConfig {
        tokens: vec![token.into()],
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let states = format!("{url}/_pact/provider-states");
    let with_token = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--base-url",
        &url,
        "-s",
        &states,
        "--token",
        token,
    ])
    .await;
    // The anonymous interaction still gets its 401: no token was added to it.
    assert_eq!(with_token.code, 0, "{with_token}");
    assert!(
        !with_token.output().contains(token),
        "the token was printed: {with_token}"
    );

    let wrong = "not-the-token";
    let without = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--base-url",
        &url,
        "-s",
        &states,
        "--token",
        wrong,
    ])
    .await;
    assert_eq!(without.code, 1, "{without}");
    assert!(
        without.stdout.contains("expected 200 but was 401"),
        "{without}"
    );
    assert!(
        !without.output().contains(wrong),
        "the token was printed: {without}"
    );
}

#[tokio::test]
async fn writes_junit_and_json_reports() {
    let dir = ScratchDir::new();
    let junit = dir.join("reports/junit.xml");
    let json = dir.join("reports/verify.json");
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 0, "{run}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 5, "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["verdict"], "holds");
    assert_eq!(report["exitCode"], 0);
    let interactions = report["interactions"].as_array().unwrap();
    assert_eq!(interactions.len(), 5);
    assert!(interactions.iter().all(|i| i["result"] == "verified"));
}

#[tokio::test]
async fn writes_a_markdown_summary_and_appends_it_to_githubs_job_summary() {
    let dir = ScratchDir::new();
    let summary = dir.join("summary.md");
    let github = dir.join("step-summary.md");
    std::fs::write(&github, "earlier step\n").unwrap();
    let run = orchestrator_pact_with_env(
        [
            "verify",
            "--pacts",
            &pacts(),
            "--summary",
            summary.to_str().unwrap(),
        ],
        &[("GITHUB_STEP_SUMMARY", github.to_str().unwrap())],
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("the contract holds"), "{md}");
    assert_eq!(md.matches("✅ verified").count(), 5, "{md}");
    let appended = std::fs::read_to_string(&github).unwrap();
    assert!(
        appended.starts_with("earlier step\n") && appended.contains("| Interaction |"),
        "{appended}"
    );
}

#[tokio::test]
async fn filters_interactions_by_description_and_state() {
    let by_description = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--filter-description",
        "wrong old password",
    ])
    .await;
    assert_eq!(by_description.code, 0, "{by_description}");
    assert!(
        by_description.stdout.contains("1 interactions: 1 verified"),
        "{by_description}"
    );

    let by_state = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--filter-state",
        &format!("^{STATE_KNOWN_PASSWORD}$"),
    ])
    .await;
    assert_eq!(by_state.code, 0, "{by_state}");
    assert!(
        by_state.stdout.contains("3 interactions: 3 verified"),
        "{by_state}"
    );
}

#[rstest]
#[case::empty_pact_folder(&["--pacts", "{empty}"], "no pact files")]
#[case::missing_pact_path(&["--pacts", "{empty}/nope.json"], "does not exist")]
#[case::not_a_pact(&["--pacts", "{garbage}"], "is not a pact file")]
#[case::bad_description_regex(&["--filter-description", "(unclosed"], "not a valid regular expression")]
#[case::base_url_not_a_url(&["--base-url", "not a url"], "is not a URL")]
#[case::base_url_with_prefix(&["--base-url", "https://cloud.example/org/tenant/identity_/"], "without it")]
#[case::nobody_listening(&["--base-url", "{nobody}/", "--token", "t0ken", "--organization-id", "6f726368-6573-7472-6174-6f722d706163"], "could not reach")]
#[case::state_url_without_base_url(&["--state-change-url", "http://127.0.0.1:1/"], "need `--base-url`")]
#[case::unknown_flag(&["--frobnicate"], "--frobnicate")]
#[case::zero_timeout(&["--request-timeout", "0"], "more than 0")]
#[case::description_filter_matching_nothing(&["--filter-description", "matches nothing"], "error: no interaction matches `--filter-description matches nothing`")]
#[case::state_filter_matching_nothing(&["--filter-state", "^nobody$"], "error: no interaction matches `--filter-state ^nobody$`")]
#[tokio::test]
async fn cannot_check_exits_2_and_says_why(#[case] args: &[&str], #[case] message: &str) {
    let dir = ScratchDir::new();
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, b"{\"hello\": 1}").unwrap();
    let nobody = RefusingPort::new();
    let mut full = vec!["verify".to_owned()];
    if !args.contains(&"--pacts") {
        full.extend(["--pacts".to_owned(), pacts()]);
    }
    full.extend(args.iter().map(|a| {
        a.replace("{empty}", empty.to_str().unwrap())
            .replace("{garbage}", garbage.to_str().unwrap())
            .replace("{nobody}", &nobody.url())
    }));
    let run = orchestrator_pact(&full).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains(message),
        "expected `{message}` on stderr: {run}"
    );
}

/// A token that cannot be sent (whitespace inside) is refused by name, and
/// the refusal never quotes it: clap's own errors would print the value.
#[rstest]
#[case::token_flag(&["--token", "s3cret-half other-half"], &[], "`--token` or UIPATH_PAT")]
#[case::token_variable(&[], &[("UIPATH_PAT", "Bearer s3cret-half other-half")], "`--token` or UIPATH_PAT")]
#[case::broker_token_flag(&["--broker-url", "http://127.0.0.1:1/", "--broker-token", "s3cret-half other-half"], &[], "PACT_BROKER_TOKEN")]
#[tokio::test]
async fn a_malformed_token_is_refused_without_being_printed(
    #[case] args: &[&str],
    #[case] env: &[(&str, &str)],
    #[case] names: &str,
) {
    let pacts = pacts();
    let mut full = vec!["verify"];
    if !args.contains(&"--broker-url") {
        full.extend(["--pacts", &pacts]);
    }
    full.extend_from_slice(args);
    let run = orchestrator_pact_with_env(&full, env).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains(names), "the flag is named: {run}");
    assert!(
        run.stderr.contains("contains whitespace"),
        "the problem is named: {run}"
    );
    assert!(
        !run.output().contains("s3cret-half") && !run.output().contains("other-half"),
        "the token was printed: {run}"
    );
}

#[tokio::test]
async fn a_failing_state_change_url_means_could_not_check() {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let url = emulator.url();
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--base-url",
        &url,
        "--state-change-url",
        &format!("{url}/no-such-state-endpoint"),
    ])
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stdout.contains("could not be checked"), "{run}");
}

/// A filter that matches only the interaction skipped for lockout risk
/// reports the skip, not "no interaction matches".
#[tokio::test]
async fn a_filter_matching_only_a_skipped_interaction_reports_the_skip() {
    use orchestrator_pact::emulator::SeedUser;

    let id = uipath_identity_client::UserId::random();
    let emulator = start_emulator(crate::tenant::tenant(EmulatorConfig {
        users: vec![SeedUser {
            id: *id.as_uuid(),
            password: "Existing-passw0rd".into(),
            user_name: Some("ci-user".into()),
            organization: None,
        }],
        ..EmulatorConfig::default()
    }))
    .await;
    let id = id.to_string();
    let run = orchestrator_pact(crate::tenant::live_args(
        &emulator.url(),
        &[
            "--test-user-id",
            &id,
            "--test-user-password",
            "Existing-passw0rd",
            "--filter-description",
            "wrong old password",
        ],
    ))
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stdout
            .contains(&format!("SKIPPED {REFUSES_A_WRONG_OLD_PASSWORD}")),
        "{run}"
    );
    assert!(!run.stderr.contains("no interaction matches"), "{run}");
}

/// A pact of `n` interactions, copies of the recorded ones under new
/// descriptions ([`copied_pact`]), written to a scratch folder; with the
/// descriptions in pact order.
fn many_interactions(n: usize) -> (ScratchDir, Vec<String>) {
    let pact = copied_pact(n);
    let descriptions = pact["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["description"].as_str().unwrap().to_owned())
        .collect();
    let dir = ScratchDir::new();
    std::fs::write(dir.join("many.json"), pact.to_string()).unwrap();
    (dir, descriptions)
}

#[tokio::test]
async fn a_pact_of_many_interactions_reports_each_once_in_pact_order_with_its_verdict() {
    let (dir, descriptions) = many_interactions(300);
    let emulator = start_emulator(EmulatorConfig {
        deviation: Some(Deviation::WrongPasswordSucceeds),
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let json = dir.join("report.json");
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        dir.to_str().unwrap(),
        "--base-url",
        &url,
        "--state-change-url",
        &format!("{url}/_pact/provider-states"),
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout
            .contains("300 interactions: 240 verified, 60 failed, 0 could not be checked"),
        "{run}"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let reported: Vec<(&str, &str)> = report["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["description"].as_str().unwrap(),
                i["result"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str)> = descriptions
        .iter()
        .map(|d| {
            let broken = d.starts_with(INTERACTIONS[2]);
            (d.as_str(), if broken { "failed" } else { "verified" })
        })
        .collect();
    assert_eq!(reported, expected);
}

#[tokio::test]
async fn a_long_run_shows_its_progress_on_stderr_one_line_per_pact_and_keeps_stdout_the_report() {
    // Every answer 800 ms late: the four interactions selected take three
    // seconds; the total counts only those.
    let emulator = start_emulator(EmulatorConfig {
        faults: vec![
            "route=change-password,kind=delay,delay-ms=800"
                .parse()
                .unwrap(),
        ],
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        &pacts(),
        "--base-url",
        &url,
        "--state-change-url",
        &format!("{url}/_pact/provider-states"),
        "--filter-description",
        "correct|short|wrong|bound",
    ])
    .await;
    assert_eq!(run.code, 0, "{run}");
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("verified "))
        .collect();
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].starts_with(
            &format!("verified {CONSUMER} -> {PROVIDER}: 4 interactions, 0 failed; 4/4 interactions, 0 failed so far")
        ),
        "{run}"
    );
    assert!(!run.stdout.contains("so far"), "{run}");
    assert!(
        !run.stderr.contains('\r'),
        "no terminal codes in a log: {run}"
    );
}

#[tokio::test]
async fn a_short_run_shows_no_progress() {
    let run = orchestrator_pact(["verify", "--pacts", &pacts()]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(!run.stderr.contains("so far"), "{run}");
}

//! Sharing pacts through a broker, run as a pipeline runs it: the real
//! binary against the in-process broker double (`broker_double.rs`) over
//! real sockets. publish → verify from the broker (`--publish`) →
//! can-i-deploy → record-deployment, the broken and pending cases, the
//! broker's faults, and the redaction of published results.

use std::time::Duration;

use axum::http::Method;
use orchestrator_pact::emulator::SeedUser;
use orchestrator_pact::emulator::{Deviation, EmulatorConfig};
use serde_json::Value;
use uipath_identity_client::contract::{
    CONSUMER, PROVIDER, REFUSES_A_WRONG_OLD_PASSWORD, REFUSES_AN_ANONYMOUS_CALL, pact_file_name,
};

use crate::broker_double::{BrokerDouble, DoubleConfig, Fault};
use crate::doubles;
// Every broker run gets a clean environment plus the variables it names.
use crate::fixtures::orchestrator_pact_with_env as run;
use crate::fixtures::{
    RefusingPort, Run, ScratchDir, committed_pact, interaction_mut, pacts, start_emulator,
};

/// `COMMAND --broker-url URL --retry-base-delay 5 ARGS`: retries in
/// milliseconds, so that fault tests stay fast.
fn cmd(command: &str, broker: &BrokerDouble, args: &[&str]) -> Vec<String> {
    let mut full = vec![
        command.to_owned(),
        "--broker-url".to_owned(),
        broker.url(),
        "--retry-base-delay".to_owned(),
        "5".to_owned(),
    ];
    full.extend(args.iter().map(|a| (*a).to_owned()));
    full
}

/// A copy of the tenant contract with one interaction changed, in a folder
/// of its own: a different pact content for the broker. `breaking` makes
/// the no-token interaction expect 418, which no deployment answers.
fn changed_pact(breaking: bool) -> ScratchDir {
    let mut pact = committed_pact();
    let interaction = interaction_mut(&mut pact, REFUSES_AN_ANONYMOUS_CALL);
    if breaking {
        interaction["response"]["status"] = 418.into();
    } else {
        interaction["comments"] = serde_json::json!({ "text": ["a change that verifies"] });
    }
    let dir = ScratchDir::new();
    std::fs::write(
        dir.join(pact_file_name()),
        serde_json::to_vec_pretty(&pact).unwrap(),
    )
    .unwrap();
    dir
}

async fn publish(broker: &BrokerDouble, pacts: &str, version: &str, branch: &str) -> Run {
    run(
        cmd(
            "publish",
            broker,
            &[
                "--pacts",
                pacts,
                "--consumer-app-version",
                version,
                "--branch",
                branch,
            ],
        ),
        &[],
    )
    .await
}

/// `can-i-deploy --pacticipant NAME --version VERSION --to-environment
/// production EXTRA`, with the variables `env`. The command line is built at
/// once, so the run borrows nothing but `env`.
fn can_i_deploy_to_production<'a>(
    broker: &BrokerDouble,
    pacticipant: &str,
    version: &str,
    extra: &[&str],
    env: &'a [(&'a str, &'a str)],
) -> impl Future<Output = Run> + use<'a> {
    let mut args = vec![
        "--pacticipant",
        pacticipant,
        "--version",
        version,
        "--to-environment",
        "production",
    ];
    args.extend_from_slice(extra);
    run(cmd("can-i-deploy", broker, &args), env)
}

#[tokio::test]
async fn publish_verify_can_i_deploy_and_record_deployment_through_a_broker_under_a_context_path() {
    let token = "broker-t0ken-7f3e";
    let broker = BrokerDouble::start_with(DoubleConfig {
        context: "/broker".into(),
        token: Some(token.into()),
    })
    .await;
    broker.create_environment("production", true);
    let auth = [("PACT_BROKER_TOKEN", token)];
    assert!(broker.url().ends_with("/broker/"), "{}", broker.url());

    let published = the_consumer_publishes_c1(&broker, &auth).await;

    // Nothing of the provider is in production yet: the consumer may not go.
    let too_early = can_i_deploy_to_production(&broker, CONSUMER, "c1", &[], &auth).await;
    assert_eq!(too_early.code, 1, "{too_early}");
    assert!(
        too_early.stdout.contains(&format!(
            "There is no version of {PROVIDER} currently in production"
        )),
        "{too_early}"
    );

    let verified = the_tenant_verifies_and_publishes_t1(&broker, &auth).await;

    // The provider may go to production (no consumer is there), and goes.
    let provider_can = can_i_deploy_to_production(&broker, PROVIDER, "t1", &[], &auth).await;
    assert_eq!(provider_can.code, 0, "{provider_can}");
    let recorded = record_deployment_to_production(&broker, PROVIDER, "t1", &auth).await;
    assert!(
        recorded.stdout.contains(&format!(
            "recorded the deployment of {PROVIDER} version t1 to production"
        )),
        "{recorded}"
    );

    // Now the consumer can go: the tenant in production verified its pact.
    let consumer_can = can_i_deploy_to_production(&broker, CONSUMER, "c1", &[], &auth).await;
    assert_eq!(consumer_can.code, 0, "{consumer_can}");
    assert!(
        consumer_can.stdout.contains(&format!(
            "{CONSUMER} | c1        | {PROVIDER} | t1        | true"
        )),
        "the matrix is printed as a table: {consumer_can}"
    );
    assert!(
        consumer_can
            .stdout
            .contains("reason: All required verification results are published and successful"),
        "{consumer_can}"
    );
    record_deployment_to_production(&broker, CONSUMER, "c1", &auth).await;
    let deployments = broker.deployments();
    assert_eq!(deployments.len(), 2);
    assert!(
        deployments
            .iter()
            .all(|d| d.environment == "production" && d.currently_deployed)
    );

    // can-i-deploy asked the matrix for one version against an environment.
    assert!(
        broker.received().iter().any(|r| r.path == "/broker/matrix"
            && r.query.contains("latestby=cvp")
            && r.query.contains("environment=production")),
        "{:?}",
        broker.received()
    );
    every_call_went_under_the_context_path_with_the_token_which_no_output_shows(
        &broker,
        token,
        &[
            &published,
            &too_early,
            &verified,
            &provider_can,
            &recorded,
            &consumer_can,
        ],
    );
}

/// The consumer's pipeline publishes its pacts as version c1 of `main`
/// (tag `dev`, with a build URL); the broker's notices are printed and the
/// version is recorded with all three.
async fn the_consumer_publishes_c1(broker: &BrokerDouble, auth: &[(&str, &str)]) -> Run {
    let published = run(
        cmd(
            "publish",
            broker,
            &[
                "--pacts",
                &pacts(),
                "--consumer-app-version",
                "c1",
                "--branch",
                "main",
                "--tag",
                "dev",
                "--build-url",
                "https://ci.example/builds/1",
            ],
        ),
        auth,
    )
    .await;
    assert_eq!(published.code, 0, "{published}");
    assert!(
        published.stdout.contains(&format!(
            "published 1 pact(s) of {CONSUMER} version c1 (branch main)"
        )),
        "{published}"
    );
    assert!(
        published.stdout.contains(&format!(
            "broker: Created {CONSUMER} version c1 with branch main and tags dev"
        )),
        "the broker's notices are printed: {published}"
    );
    assert_eq!(
        broker.version(CONSUMER, "c1"),
        Some((
            Some("main".into()),
            vec!["dev".into()],
            Some("https://ci.example/builds/1".into())
        ))
    );
    published
}

/// The tenant pipeline verifies what the broker selects (pending, as the
/// first verification of the pact) and publishes the results as version
/// t1 of `main`: one result, a success, with every interaction's.
async fn the_tenant_verifies_and_publishes_t1(broker: &BrokerDouble, auth: &[(&str, &str)]) -> Run {
    let verified = run(
        cmd(
            "verify",
            broker,
            &[
                "--provider-version",
                "t1",
                "--provider-branch",
                "main",
                "--publish",
                "--enable-pending",
                "--build-url",
                "https://ci.example/builds/2",
            ],
        ),
        auth,
    )
    .await;
    assert_eq!(verified.code, 0, "{verified}");
    assert!(
        verified.stdout.contains(&format!(
            "pact 1 of 1: Pact between {CONSUMER} (c1) and {PROVIDER} [pending"
        )),
        "the first verification of a pact is pending: {verified}"
    );
    assert!(
        verified.stdout.contains("is being verified because the pact content belongs to the consumer version matching the following criterion: latest version from the main branch 'main' (c1)"),
        "the broker's notices are printed per pact: {verified}"
    );
    assert!(
        verified.stdout.contains("5 interactions: 5 verified"),
        "{verified}"
    );
    assert!(
        verified.stdout.contains(&format!("published the verification results of Pact between {CONSUMER} (c1) and {PROVIDER} for {PROVIDER} version t1: verified")),
        "{verified}"
    );
    assert!(
        verified
            .stdout
            .contains("broker: This pact is no longer in pending state"),
        "the after-verification notice: {verified}"
    );
    let results = broker.verifications();
    assert_eq!(results.len(), 1);
    assert_eq!(
        (results[0].consumer.as_str(), results[0].provider.as_str()),
        (CONSUMER, PROVIDER)
    );
    assert!(results[0].success);
    assert_eq!(results[0].body["providerApplicationVersion"], "t1");
    assert_eq!(results[0].body["buildUrl"], "https://ci.example/builds/2");
    assert_eq!(
        results[0].body["verifiedBy"]["implementation"],
        "orchestrator-pact"
    );
    let tests = results[0].body["testResults"].as_array().unwrap();
    assert_eq!(tests.len(), 5);
    assert!(
        tests
            .iter()
            .all(|t| t["success"] == true && t["interactionId"].is_string()),
        "{tests:?}"
    );
    assert_eq!(
        broker.version(PROVIDER, "t1").and_then(|v| v.0),
        Some("main".into()),
        "the provider version's branch is recorded"
    );
    verified
}

/// `record-deployment --pacticipant PACTICIPANT --version VERSION
/// --environment production`, which succeeds.
async fn record_deployment_to_production(
    broker: &BrokerDouble,
    pacticipant: &str,
    version: &str,
    auth: &[(&str, &str)],
) -> Run {
    let recorded = run(
        cmd(
            "record-deployment",
            broker,
            &[
                "--pacticipant",
                pacticipant,
                "--version",
                version,
                "--environment",
                "production",
            ],
        ),
        auth,
    )
    .await;
    assert_eq!(recorded.code, 0, "{recorded}");
    recorded
}

/// Every call the broker received went under its context path with the
/// token, and none of `runs` printed the token.
fn every_call_went_under_the_context_path_with_the_token_which_no_output_shows(
    broker: &BrokerDouble,
    token: &str,
    runs: &[&Run],
) {
    for request in broker.received() {
        assert!(request.path.starts_with("/broker/"), "{request:?}");
        assert_eq!(
            request.authorization.as_deref(),
            Some(&*format!("Bearer {token}"))
        );
    }
    for run in runs {
        assert!(
            !run.output().contains(token),
            "the broker token was printed: {run}"
        );
    }
}

#[tokio::test]
async fn a_tenant_that_breaks_the_contract_fails_publishes_a_failure_and_may_not_be_deployed() {
    let broker = BrokerDouble::start().await;
    broker.create_environment("production", true);
    assert_eq!(publish(&broker, &pacts(), "c1", "main").await.code, 0);
    let consumer_deployed = run(
        cmd(
            "record-deployment",
            &broker,
            &[
                "--pacticipant",
                CONSUMER,
                "--version",
                "c1",
                "--environment",
                "production",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(consumer_deployed.code, 0, "{consumer_deployed}");

    let emulator = start_emulator(EmulatorConfig {
        deviation: Some(Deviation::WrongPasswordSucceeds),
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let verified = run(
        cmd(
            "verify",
            &broker,
            &[
                "--base-url",
                &url,
                "--state-change-url",
                &format!("{url}/_pact/provider-states"),
                "--provider-version",
                "t2",
                "--publish",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(verified.code, 1, "{verified}");
    assert!(
        verified
            .stdout
            .contains(&format!("FAILED  {REFUSES_A_WRONG_OLD_PASSWORD}")),
        "{verified}"
    );
    assert!(
        verified.stdout.contains("latest version from the main branch 'main' (c1), currently deployed or released version(s) (c1)"),
        "one pact selected by two selectors is verified once: {verified}"
    );
    assert!(
        verified
            .stdout
            .contains(&format!("for {PROVIDER} version t2: failed")),
        "{verified}"
    );
    let results = broker.verifications();
    assert_eq!(results.len(), 1);
    assert!(!results[0].success);
    let failed: Vec<&Value> = results[0].body["testResults"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["success"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", results[0].body);
    assert_eq!(
        failed[0]["interactionDescription"],
        REFUSES_A_WRONG_OLD_PASSWORD
    );
    assert!(
        failed[0]["mismatches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["attribute"] == "status" && m["description"] == "expected 400 but was 200"),
        "{:?}",
        failed[0]
    );

    let may_not = can_i_deploy_to_production(&broker, PROVIDER, "t2", &[], &[]).await;
    assert_eq!(may_not.code, 1, "{may_not}");
    assert!(
        may_not.stdout.contains(&format!(
            "no: {PROVIDER} version t2 cannot be deployed to production"
        )),
        "{may_not}"
    );
    assert!(
        may_not.stdout.contains(&format!("reason: The verification for the pact between {CONSUMER} (c1) and {PROVIDER} (t2) failed")),
        "{may_not}"
    );
    assert!(may_not.stdout.contains("| false"), "{may_not}");

    let dry = can_i_deploy_to_production(&broker, PROVIDER, "t2", &["--dry-run"], &[]).await;
    assert_eq!(dry.code, 0, "{dry}");
    assert!(
        dry.stdout
            .contains("dry run: exiting 0 although the answer is no"),
        "{dry}"
    );
}

/// With an existing user the wrong-password interaction is skipped (lockout
/// risk); the report files of a run from the broker list it, as those of a
/// run from files do.
#[tokio::test]
async fn the_report_files_of_a_run_from_the_broker_list_skipped_interactions() {
    let broker = BrokerDouble::start().await;
    assert_eq!(publish(&broker, &pacts(), "c1", "main").await.code, 0);
    let id = uuid::Uuid::new_v4();
    let emulator = start_emulator(EmulatorConfig {
        users: vec![SeedUser {
            id,
            password: "Existing-passw0rd".into(),
            user_name: Some("ci-user".into()),
            organization: None,
        }],
        ..EmulatorConfig::default()
    })
    .await;
    let dir = ScratchDir::new();
    let json = dir.join("report.json");
    let summary = dir.join("summary.md");
    let verified = run(
        cmd(
            "verify",
            &broker,
            &[
                "--base-url",
                &format!("{}/", emulator.url()),
                "--token",
                "any-token",
                "--test-user-id",
                &id.to_string(),
                "--test-user-password",
                "Existing-passw0rd",
                "--json",
                json.to_str().unwrap(),
                "--summary",
                summary.to_str().unwrap(),
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(verified.code, 0, "{verified}");
    let skipped = REFUSES_A_WRONG_OLD_PASSWORD;
    assert!(
        verified.stdout.contains(&format!("SKIPPED {skipped}")),
        "{verified}"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["skipped"], serde_json::json!([skipped]), "{report}");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains(&format!("| {skipped} | | ⏭️ skipped |")),
        "{summary}"
    );
}

#[tokio::test]
async fn a_failing_pending_pact_is_reported_and_does_not_fail_the_run_until_it_was_verified() {
    let broker = BrokerDouble::start().await;
    assert_eq!(publish(&broker, &pacts(), "c1", "main").await.code, 0);
    let emulator = start_emulator(EmulatorConfig {
        deviation: Some(Deviation::WrongPasswordSucceeds),
        ..EmulatorConfig::default()
    })
    .await;
    let url = emulator.url();
    let states = format!("{url}/_pact/provider-states");
    let against_broken_tenant = |version: &'static str| {
        let broker = &broker;
        let url = url.clone();
        let states = states.clone();
        async move {
            run(
                cmd(
                    "verify",
                    broker,
                    &[
                        "--base-url",
                        &url,
                        "--state-change-url",
                        &states,
                        "--enable-pending",
                        "--provider-branch",
                        "main",
                        "--provider-version",
                        version,
                        "--publish",
                    ],
                ),
                &[],
            )
            .await
        }
    };

    let pending = against_broken_tenant("t1").await;
    assert_eq!(
        pending.code, 0,
        "a pending pact's failure does not fail the run: {pending}"
    );
    assert!(
        pending
            .stdout
            .contains("[pending: its failures do not fail the run]"),
        "{pending}"
    );
    assert!(
        pending
            .stdout
            .contains(&format!("PENDING {REFUSES_A_WRONG_OLD_PASSWORD}")),
        "{pending}"
    );
    assert!(
        pending
            .stdout
            .contains("broker: This pact is in pending state"),
        "{pending}"
    );
    assert!(
        pending
            .stdout
            .contains(&format!("for {PROVIDER} version t1: failed")),
        "{pending}"
    );
    assert!(
        !broker.verifications()[0].success,
        "the failure is published all the same"
    );

    // Once a version of the branch verified it, the pact is no longer
    // pending, and the same failure fails the run.
    let good = run(
        cmd(
            "verify",
            &broker,
            &[
                "--enable-pending",
                "--provider-branch",
                "main",
                "--provider-version",
                "t2",
                "--publish",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(good.code, 0, "{good}");
    let broken = against_broken_tenant("t3").await;
    assert_eq!(broken.code, 1, "{broken}");
    assert!(
        broken
            .stdout
            .contains("has previously been successfully verified"),
        "{broken}"
    );
    assert!(!broken.stdout.contains("[pending"), "{broken}");
}

#[tokio::test]
async fn work_in_progress_pacts_are_verified_as_pending() {
    let broker = BrokerDouble::start().await;
    assert_eq!(publish(&broker, &pacts(), "c1", "main").await.code, 0);
    let first = run(
        cmd(
            "verify",
            &broker,
            &[
                "--provider-branch",
                "main",
                "--provider-version",
                "t1",
                "--publish",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(first.code, 0, "{first}");
    // A feature branch of the consumer expects something no tenant answers.
    let feature = publish(
        &broker,
        &changed_pact(true).to_string_lossy(),
        "c2",
        "feature/teapot",
    )
    .await;
    assert_eq!(feature.code, 0, "{feature}");

    let without_wip = run(
        cmd(
            "verify",
            &broker,
            &[
                "--provider-branch",
                "main",
                "--provider-version",
                "t2",
                "--enable-pending",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(without_wip.code, 0, "{without_wip}");
    assert!(without_wip.stdout.contains("pact 1 of 1"), "{without_wip}");

    let with_wip = run(
        cmd(
            "verify",
            &broker,
            &[
                "--provider-branch",
                "main",
                "--provider-version",
                "t2",
                "--enable-pending",
                "--include-wip-pacts-since",
                "2020-01-01",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(
        with_wip.code, 0,
        "a failing WIP pact does not fail the run: {with_wip}"
    );
    assert!(
        with_wip.stdout.contains(&format!(
            "pact 2 of 2: Pact between {CONSUMER} (c2) and {PROVIDER} [work in progress"
        )),
        "{with_wip}"
    );
    assert!(
        with_wip.stdout.contains("'work in progress' pact"),
        "{with_wip}"
    );
    assert!(
        with_wip
            .stdout
            .contains(&format!("PENDING {REFUSES_AN_ANONYMOUS_CALL}")),
        "{with_wip}"
    );
    assert!(
        with_wip.stdout.contains("2 pacts, 10 interactions: 9 verified, 1 failed, 0 could not be checked (1 of them pending, which do not fail the run): the contracts hold"),
        "{with_wip}"
    );
}

#[tokio::test]
async fn the_webhook_callback_url_verifies_that_pact_only() {
    let broker = BrokerDouble::start().await;
    assert_eq!(publish(&broker, &pacts(), "c1", "main").await.code, 0);
    assert_eq!(
        publish(
            &broker,
            &changed_pact(false).to_string_lossy(),
            "c2",
            "feature/x"
        )
        .await
        .code,
        0
    );
    let pact_url = broker.pact_url(CONSUMER, "c2", PROVIDER).unwrap();
    let verified = run(
        cmd(
            "verify",
            &broker,
            &[
                "--webhook-callback-url",
                &pact_url,
                "--provider-version",
                "t1",
                "--publish",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(verified.code, 0, "{verified}");
    assert!(verified.stdout.contains("pact 1 of 1"), "{verified}");
    let results = broker.verifications();
    assert_eq!(results.len(), 1);
    assert!(pact_url.ends_with(&format!("pact-version/{}", results[0].content)));
}

#[tokio::test]
async fn can_i_deploy_waits_while_verification_results_are_unknown() {
    let broker = BrokerDouble::start().await;
    broker.create_environment("production", true);
    // The tenant in production verified the consumer's old pact.
    assert_eq!(publish(&broker, &pacts(), "c0", "main").await.code, 0);
    let verified = run(
        cmd(
            "verify",
            &broker,
            &["--provider-version", "t1", "--publish"],
        ),
        &[],
    )
    .await;
    assert_eq!(verified.code, 0, "{verified}");
    let recorded = run(
        cmd(
            "record-deployment",
            &broker,
            &[
                "--pacticipant",
                PROVIDER,
                "--version",
                "t1",
                "--environment",
                "production",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(recorded.code, 0, "{recorded}");
    // The consumer's new pact has not been verified yet.
    assert_eq!(
        publish(
            &broker,
            &changed_pact(false).to_string_lossy(),
            "c1",
            "main"
        )
        .await
        .code,
        0
    );
    let ask = |retries: &'static str| {
        can_i_deploy_to_production(
            &broker,
            CONSUMER,
            "c1",
            &["--retry-while-unknown", retries, "--retry-interval", "0.2"],
            &[],
        )
    };

    let unknown = ask("0").await;
    assert_eq!(unknown.code, 1, "{unknown}");
    assert!(
        unknown
            .stdout
            .contains("Missing one or more required verification results"),
        "{unknown}"
    );
    assert!(unknown.stdout.contains("| ???"), "{unknown}");

    // While it waits, the tenant pipeline (started by the broker's webhook)
    // verifies the new pact: once the waiting can-i-deploy has asked (and
    // heard "unknown"), not after a guessed delay.
    let is_matrix = |r: &crate::broker_double::Received| r.path.ends_with("/matrix");
    let asked_before = broker.received().iter().filter(|r| is_matrix(r)).count();
    let waiting = ask("50");
    let verifying = async {
        broker
            .wait_for(|all| all.iter().filter(|r| is_matrix(r)).count() > asked_before)
            .await;
        run(
            cmd(
                "verify",
                &broker,
                &["--provider-version", "t1", "--publish"],
            ),
            &[],
        )
        .await
    };
    let (waited, verified) = tokio::join!(waiting, verifying);
    assert_eq!(verified.code, 0, "{verified}");
    assert_eq!(waited.code, 0, "{waited}");
    assert!(
        waited
            .stderr
            .contains("verification result(s) unknown; asking again"),
        "{waited}"
    );
}

#[tokio::test]
async fn a_broker_answering_503_twice_is_retried_until_it_answers() {
    let broker = BrokerDouble::start().await;
    broker.inject(Fault::status(503, 2));
    let published = publish(&broker, &pacts(), "c1", "main").await;
    assert_eq!(published.code, 0, "{published}");
    assert_eq!(broker.published_pacts(), 1);
    let received = broker.received();
    assert_eq!(
        received.len(),
        4,
        "3 index calls (two 503s) and the publication: {received:?}"
    );
    assert!(
        received[..3]
            .iter()
            .all(|r| r.method == Method::GET && r.path == "/")
    );
    assert!(
        published
            .stderr
            .contains("answered 503 Service Unavailable"),
        "{published}"
    );
    assert!(published.stderr.contains("retrying"), "{published}");
}

#[tokio::test]
async fn an_answer_cut_short_is_retried_like_a_dropped_connection() {
    let broker = BrokerDouble::start().await;
    broker.inject(
        Fault::status(200, 1)
            .body(serde_json::json!({ "_links": {} }))
            .cut_short(),
    );
    let published = publish(&broker, &pacts(), "c1", "main").await;
    assert_eq!(published.code, 0, "{published}");
    assert_eq!(broker.published_pacts(), 1);
    let received = broker.received();
    assert_eq!(
        received.len(),
        3,
        "2 index calls (one cut short) and the publication: {received:?}"
    );
    assert!(published.stderr.contains("retrying"), "{published}");
}

#[tokio::test]
async fn a_429_is_retried_after_the_time_the_broker_asks_for() {
    let broker = BrokerDouble::start().await;
    broker.inject(
        Fault::status(429, 1)
            .on(Method::POST, "/contracts/publish")
            .retry_after("1"),
    );
    let published = publish(&broker, &pacts(), "c1", "main").await;
    assert_eq!(published.code, 0, "{published}");
    let posts: Vec<_> = broker
        .received()
        .into_iter()
        .filter(|r| r.method == Method::POST)
        .collect();
    assert_eq!(posts.len(), 2);
    let waited = posts[1].at - posts[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured (waited {waited:?}, the back-off alone is 5 ms)"
    );
}

#[tokio::test]
async fn a_broker_that_keeps_failing_exits_2_after_the_retries() {
    let broker = BrokerDouble::start().await;
    broker.inject(Fault::status(502, 100));
    let published = run(
        cmd(
            "publish",
            &broker,
            &["--consumer-app-version", "c1", "--retries", "2"],
        ),
        &[],
    )
    .await;
    assert_eq!(published.code, 2, "{published}");
    assert_eq!(broker.received().len(), 3);
    assert!(published.stderr.contains("502 Bad Gateway"), "{published}");
    assert!(
        published.stderr.contains("through 3 attempt(s)"),
        "{published}"
    );
    assert!(
        published.stderr.contains("PACT_BROKER_HTTP_RETRIES"),
        "{published}"
    );
}

#[rstest::rstest]
#[case::no_credentials(&[], "set PACT_BROKER_TOKEN (PactFlow, or a broker with bearer tokens) or PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD")]
#[case::a_wrong_token(&[("PACT_BROKER_TOKEN", "wr0ng-t0ken-value")], "refused the token in PACT_BROKER_TOKEN")]
#[case::wrong_basic_auth(&[("PACT_BROKER_USERNAME", "ci"), ("PACT_BROKER_PASSWORD", "wr0ng-passw0rd")], "refused the user name and password in PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD")]
#[tokio::test]
async fn a_401_exits_2_and_names_the_variable_to_set(
    #[case] env: &[(&str, &str)],
    #[case] message: &str,
) {
    let broker = BrokerDouble::start_with(DoubleConfig {
        token: Some("the-right-t0ken".into()),
        ..DoubleConfig::default()
    })
    .await;
    for args in [
        cmd("publish", &broker, &["--consumer-app-version", "c1"]),
        cmd("verify", &broker, &[]),
        cmd(
            "can-i-deploy",
            &broker,
            &["--pacticipant", CONSUMER, "--version", "c1", "--latest"],
        ),
        cmd(
            "record-deployment",
            &broker,
            &[
                "--pacticipant",
                CONSUMER,
                "--version",
                "c1",
                "--environment",
                "production",
            ],
        ),
    ] {
        let refused = run(&args, env).await;
        assert_eq!(refused.code, 2, "{refused}");
        assert!(refused.stderr.contains("401 Unauthorized"), "{refused}");
        assert!(refused.stderr.contains(message), "{refused}");
        for (name, value) in env {
            if !name.ends_with("USERNAME") {
                assert!(
                    !refused.output().contains(value),
                    "a credential was printed: {refused}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_changed_pact_for_a_published_version_is_refused_with_the_brokers_explanation() {
    let broker = BrokerDouble::start().await;
    assert_eq!(publish(&broker, &pacts(), "c1", "main").await.code, 0);
    let again = publish(&broker, &pacts(), "c1", "main").await;
    assert_eq!(again.code, 0, "the same content again is fine: {again}");
    let changed = publish(
        &broker,
        &changed_pact(false).to_string_lossy(),
        "c1",
        "main",
    )
    .await;
    assert_eq!(changed.code, 2, "{changed}");
    assert!(changed.stderr.contains("(409 Conflict)"), "{changed}");
    assert!(
        changed.stderr.contains(&format!("Cannot change the content of the pact for {CONSUMER} version c1 and provider {PROVIDER}")),
        "the broker's own explanation: {changed}"
    );
    assert!(
        changed.stderr.contains("new `--consumer-app-version`"),
        "{changed}"
    );
}

#[tokio::test]
async fn a_failure_to_publish_verification_results_fails_the_run() {
    let broker = BrokerDouble::start().await;
    assert_eq!(publish(&broker, &pacts(), "c1", "main").await.code, 0);
    broker.inject(
        Fault::status(500, 100)
            .on(Method::POST, "/verification-results")
            .body(serde_json::json!({ "error": { "message": "the database is on fire" } })),
    );
    let verified = run(
        cmd(
            "verify",
            &broker,
            &["--provider-version", "t1", "--publish", "--retries", "1"],
        ),
        &[],
    )
    .await;
    assert_eq!(verified.code, 2, "{verified}");
    assert!(
        verified.stdout.contains("5 interactions: 5 verified"),
        "the report is still printed: {verified}"
    );
    assert!(
        verified
            .stderr
            .contains("could not publish the verification results"),
        "{verified}"
    );
    assert!(
        verified.stderr.contains("the database is on fire"),
        "the broker's answer: {verified}"
    );
}

#[tokio::test]
async fn a_failure_to_fetch_pacts_fails_the_run() {
    let broker = BrokerDouble::start().await;
    assert_eq!(publish(&broker, &pacts(), "c1", "main").await.code, 0);
    broker.inject(
        Fault::status(400, 1)
            .on(Method::POST, "/for-verification")
            .body(serde_json::json!({ "errors": { "consumerVersionSelectors": ["is invalid"] } })),
    );
    let verified = run(cmd("verify", &broker, &[]), &[]).await;
    assert_eq!(verified.code, 2, "{verified}");
    assert!(
        verified
            .stderr
            .contains("could not fetch the pacts to verify"),
        "{verified}"
    );
    assert!(
        verified
            .stderr
            .contains("consumerVersionSelectors: is invalid"),
        "{verified}"
    );
}

#[rstest::rstest]
#[case::no_pacts(&["verify"], &format!("has no pact for provider `{PROVIDER}`"))]
#[case::unknown_environment(&["record-deployment", "--pacticipant", CONSUMER, "--version", "c1", "--environment", "staging"], "has no environment `staging` (it has: production)")]
#[case::unknown_version(&["record-deployment", "--pacticipant", CONSUMER, "--version", "nope", "--environment", "production"], &format!("knows no version nope of {CONSUMER}"))]
#[case::matching_branch_without_a_branch(&["verify", "--consumer-version-selectors", r#"{"matchingBranch": true}"#], "needs `--provider-branch`")]
#[case::selector_not_json(&["verify", "--consumer-version-selectors", "mainBranch"], "is not JSON")]
#[case::publish_without_version(&["verify", "--publish"], "--provider-version")]
#[case::wip_without_pending(&["verify", "--provider-branch", "main", "--include-wip-pacts-since", "2024-01-01"], "--enable-pending")]
#[case::wip_bad_date(&["verify", "--provider-branch", "main", "--enable-pending", "--include-wip-pacts-since", "last week"], "is not a date")]
#[case::pacts_and_broker(&["verify", "--pacts", "pacts"], "cannot be used with")]
#[case::publish_filtered(&["verify", "--provider-version", "t1", "--publish", "--filter-state", "x"], "cannot be used with")]
#[case::both_token_and_user(&["publish", "--broker-token", "t0k3n-x", "--broker-username", "u", "--broker-password", "p"], "both PACT_BROKER_TOKEN and PACT_BROKER_USERNAME")]
#[tokio::test]
async fn cannot_ask_exits_2_and_says_why(#[case] args: &[&str], #[case] message: &str) {
    let broker = BrokerDouble::start().await;
    broker.create_environment("production", false);
    let mut full = vec![args[0].to_owned(), "--broker-url".to_owned(), broker.url()];
    full.extend(args[1..].iter().map(|a| (*a).to_owned()));
    if args[0] == "publish" {
        full.extend(["--consumer-app-version".to_owned(), "c1".to_owned()]);
    }
    let failed = run(&full, &[]).await;
    assert_eq!(failed.code, 2, "{failed}");
    assert!(
        failed.stderr.contains(message),
        "expected `{message}` on stderr: {failed}"
    );
    assert!(!failed.output().contains("t0k3n-x"), "{failed}");
}

#[tokio::test]
async fn without_a_broker_url_the_commands_name_the_variable() {
    for args in [
        vec!["publish", "--consumer-app-version", "c1"],
        vec![
            "can-i-deploy",
            "--pacticipant",
            CONSUMER,
            "--version",
            "c1",
            "--latest",
        ],
        vec![
            "record-deployment",
            "--pacticipant",
            CONSUMER,
            "--version",
            "c1",
            "--environment",
            "production",
        ],
    ] {
        let failed = run(&args, &[]).await;
        assert_eq!(failed.code, 2, "{failed}");
        assert!(
            failed
                .stderr
                .contains("set PACT_BROKER_BASE_URL or pass `--broker-url`"),
            "{failed}"
        );
    }
}

#[tokio::test]
async fn nobody_listening_at_the_broker_url_exits_2() {
    let nobody = RefusingPort::new();
    let failed = run(
        [
            "publish",
            "--broker-url",
            &format!("{}/", nobody.url()),
            "--consumer-app-version",
            "c1",
            "--retries",
            "1",
            "--retry-base-delay",
            "5",
        ],
        &[],
    )
    .await;
    assert_eq!(failed.code, 2, "{failed}");
    assert!(
        failed.stderr.contains("could not reach the Pact Broker"),
        "{failed}"
    );
    assert!(failed.stderr.contains("after 2 attempt(s)"), "{failed}");
}

#[tokio::test]
async fn publish_where_nobody_listens_tells_each_retry_and_its_wait_at_any_log_level() {
    let nobody = RefusingPort::new();
    let failed = run(
        [
            "publish",
            "--broker-url",
            &format!("{}/", nobody.url()),
            "--consumer-app-version",
            "c1",
            "--retries",
            "2",
            "--retry-base-delay",
            "5",
            "--loglevel",
            "error",
        ],
        &[],
    )
    .await;
    assert_eq!(failed.code, 2, "{failed}");
    for told in [
        "retrying in 5 ms (attempt 2 of 3",
        "retrying in 10 ms (attempt 3 of 3",
    ] {
        assert!(failed.stderr.contains(told), "`{told}` missing: {failed}");
    }
    assert!(failed.stderr.contains("after 3 attempt(s)"), "{failed}");
}

#[rstest::rstest]
#[case::github_actions(
    &[("GITHUB_ACTIONS", "true"), ("GITHUB_SHA", "0a1b2c3d"), ("GITHUB_REF_NAME", "release/7"),
      ("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_REPOSITORY", "acme/automation"), ("GITHUB_RUN_ID", "99")],
    "GitHub Actions", "0a1b2c3d", "release/7", "https://github.com/acme/automation/actions/runs/99")]
#[case::gitlab_ci(
    &[("GITLAB_CI", "true"), ("CI_COMMIT_SHA", "4e5f6a7b"), ("CI_COMMIT_REF_NAME", "main"), ("CI_JOB_URL", "https://gitlab.example/acme/-/jobs/5")],
    "GitLab CI", "4e5f6a7b", "main", "https://gitlab.example/acme/-/jobs/5")]
#[tokio::test]
async fn publish_takes_the_commit_branch_and_build_url_from_the_ci_system(
    #[case] env: &[(&str, &str)],
    #[case] ci: &str,
    #[case] commit: &str,
    #[case] branch: &str,
    #[case] build_url: &str,
) {
    let broker = BrokerDouble::start().await;
    let published = run(cmd("publish", &broker, &[]), env).await;
    assert_eq!(published.code, 0, "{published}");
    assert!(
        published.stderr.contains(&format!("running in {ci}")),
        "{published}"
    );
    assert_eq!(
        broker.version(CONSUMER, commit),
        Some((Some(branch.into()), vec![], Some(build_url.into())))
    );
}

#[tokio::test]
async fn publish_outside_ci_takes_the_commit_from_git() {
    let broker = BrokerDouble::start().await;
    let published = run(cmd("publish", &broker, &["--branch", "main"]), &[]).await;
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(head) => {
            assert_eq!(published.code, 0, "{published}");
            assert!(broker.version(CONSUMER, &head).is_some(), "{published}");
        }
        // Not a git checkout (a source tarball): the message says what to pass.
        None => {
            assert_eq!(published.code, 2, "{published}");
            assert!(
                published.stderr.contains("--consumer-app-version"),
                "{published}"
            );
        }
    }
}

const STATE_OLD_PASSWORD: &str = "Old-SECRET-passw0rd-81";
const STATE_NEW_PASSWORD: &str = "New-SECRET-passw0rd-82";

/// A provider that answers every request 200 with the request's
/// `Authorization` header as `succeeded` and its body as a description:
/// every mismatch it causes quotes the bearer token and the passwords, as a
/// careless tenant's error page might. Its provider states (`/_states`)
/// hand out passwords.
async fn start_echoing_provider() -> String {
    use axum::http::HeaderMap;
    let app = axum::Router::new()
        .route(
            "/_states",
            doubles::passwords_state(STATE_OLD_PASSWORD, STATE_NEW_PASSWORD),
        )
        .fallback(|headers: HeaderMap, body: String| async move {
            let auth = doubles::authorization(&headers);
            axum::Json(serde_json::json!({ "succeeded": auth, "errors": [{ "code": auth, "description": body }] }))
        });
    format!("http://{}/", doubles::serve(app).await)
}

#[tokio::test]
async fn published_verification_results_carry_no_secret() {
    let broker_token = "broker-s3cret-b0b";
    let broker = BrokerDouble::start_with(DoubleConfig {
        token: Some(broker_token.into()),
        ..DoubleConfig::default()
    })
    .await;
    let auth = [("PACT_BROKER_TOKEN", broker_token)];
    let published = run(
        cmd(
            "publish",
            &broker,
            &[
                "--pacts",
                &pacts(),
                "--consumer-app-version",
                "c1",
                "--branch",
                "main",
            ],
        ),
        &auth,
    )
    .await;
    assert_eq!(published.code, 0, "{published}");

    let tenant_token = "tenant-t0ken-SECRET-4711";
    let provider = start_echoing_provider().await;
    let verified = run(
        cmd(
            "verify",
            &broker,
            &[
                "--base-url",
                &provider,
                "--state-change-url",
                &format!("{provider}_states"),
                "--token",
                tenant_token,
                "--provider-version",
                "t1",
                "--publish",
            ],
        ),
        &auth,
    )
    .await;
    assert_eq!(verified.code, 1, "{verified}");

    let sent: Vec<String> = broker
        .received()
        .into_iter()
        .filter(|r| r.method == Method::POST && r.path.ends_with("/verification-results"))
        .map(|r| r.body)
        .collect();
    assert_eq!(sent.len(), 1, "{verified}");
    let body = &sent[0];
    assert!(
        body.contains("Bearer ***"),
        "the test must provoke a mismatch that quotes the token, scrubbed: {body}"
    );
    for secret in [
        tenant_token,
        broker_token,
        STATE_OLD_PASSWORD,
        STATE_NEW_PASSWORD,
    ] {
        assert!(
            !body.contains(secret),
            "`{secret}` reached the broker: {body}"
        );
        assert!(
            !verified.output().contains(secret),
            "`{secret}` was printed: {verified}"
        );
    }
}

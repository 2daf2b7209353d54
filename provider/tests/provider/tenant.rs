//! `verify` against a tenant — the emulator acting as one, over real HTTP:
//! credentials, throwaway users, an existing user, guaranteed teardown
//! under faults and signals, and no secret in any output.

use orchestrator_pact::emulator::SeedUser;
use orchestrator_pact::emulator::{Deviation, EmulatorConfig, EmulatorHandle, FaultRoute};
use rstest::rstest;
use serde_json::Value;
use uipath_identity_client::UserId;
use uipath_identity_client::contract::{
    PARAM_OLD_PASSWORD, PARAM_PASSWORD, REFUSES_A_WRONG_OLD_PASSWORD, pact_file_name,
};

use crate::fixtures::{
    self, Running, ScratchDir, committed_pact, get_json, http, orchestrator_pact, pacts_dir,
    start_emulator,
};
use crate::watched::WatchedEmulator;

pub(crate) const CLIENT: &str = "gate";
pub(crate) const CLIENT_SECRET: &str = "gate-s3cret-5b1f";
pub(crate) const ORG: &str = "6f726368-6573-7472-6174-6f722d706163";

pub(crate) fn tenant(mut extra: EmulatorConfig) -> EmulatorConfig {
    let bystander = SeedUser {
        id: uuid::Uuid::new_v4(),
        password: "Bystander-passw0rd".into(),
        user_name: Some("bystander".into()),
        organization: None,
    };
    EmulatorConfig {
        clients: vec![
            format!("{CLIENT}:{CLIENT_SECRET}").parse().unwrap(),
            "read-only:ro-s3cret-77:PM.User.Read".parse().unwrap(),
        ],
        tokens: vec!["read-pat-9931:PM.User.Read".parse().unwrap()],
        users: {
            extra.users.push(bystander);
            std::mem::take(&mut extra.users)
        },
        admin: true,
        ..extra
    }
}

/// The existing user `id` of the existing-user runs, whose password is
/// `Existing-passw0rd`.
pub(crate) fn existing_user(id: uuid::Uuid) -> SeedUser {
    SeedUser {
        id,
        password: "Existing-passw0rd".into(),
        user_name: Some("ci-user".into()),
        organization: None,
    }
}

/// A client-credentials token of the test tenant's external application.
pub(crate) async fn client_token(emulator: &EmulatorHandle) -> String {
    fixtures::client_token(&emulator.url(), CLIENT, CLIENT_SECRET).await
}

/// The users the tenant has, as its own API lists them.
pub(crate) async fn users(emulator: &EmulatorHandle) -> Vec<(String, String)> {
    users_at(&emulator.url()).await
}

/// The users the tenant at `url` (an emulator set up by [`tenant`]) has, as
/// its own API lists them.
pub(crate) async fn users_at(url: &str) -> Vec<(String, String)> {
    let token = fixtures::client_token(url, CLIENT, CLIENT_SECRET).await;
    let page: Value = get_json(
        &format!("{url}/identity_/api/User/users/{ORG}?top=1000"),
        &token,
    )
    .await;
    let mut users: Vec<(String, String)> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().to_owned(),
                u["userName"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    users.sort();
    users
}

pub(crate) fn live_args(url: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "verify",
        "--pacts",
        pacts_dir().to_str().unwrap(),
        "--base-url",
        &format!("{url}/myorg/mytenant/"),
        "--client-id",
        CLIENT,
        "--client-secret",
        CLIENT_SECRET,
        "--organization-id",
        ORG,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

#[tokio::test]
async fn a_live_run_with_client_credentials_verifies_everything_and_leaves_the_tenant_as_it_was() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let run = orchestrator_pact(live_args(&emulator.url(), &[])).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("5 interactions: 5 verified, 0 failed"),
        "{run}"
    );
    assert_eq!(
        users(&emulator).await,
        before,
        "the users API shows a change: {run}"
    );
}

#[rstest]
#[case::delete_fails_once_with_503("route=delete-user,kind=503,next=1", 0)]
#[case::create_throttled_with_retry_after("route=create-user,kind=429,retry-after=1,next=1", 0)]
#[case::token_endpoint_busy("route=token,kind=503,next=2", 0)]
#[case::connection_dropped_on_delete("route=delete-user,kind=drop,next=1", 0)]
#[case::create_always_fails("route=create-user,kind=503", 2)]
#[tokio::test]
async fn faults_of_the_tenant_leave_nothing_behind(#[case] fault: &str, #[case] code: i32) {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    set_fault(&emulator, fault).await;
    let run = orchestrator_pact(live_args(&emulator.url(), &["--setup-retries", "3"])).await;
    assert_eq!(run.code, code, "{run}");
    // The fault rules are cleared so that listing works whatever they were.
    http()
        .delete(format!("{}/_admin/faults", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(users(&emulator).await, before, "{run}");
}

/// Sets a fault rule at run time, through the admin endpoint.
pub(crate) async fn set_fault(emulator: &EmulatorHandle, rule: &str) {
    let rule: orchestrator_pact::emulator::FaultRule = rule.parse().unwrap();
    let response = http()
        .post(format!("{}/_admin/faults", emulator.url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn a_broken_contract_exits_1_and_still_cleans_up() {
    let emulator = start_emulator(tenant(EmulatorConfig {
        deviation: Some(Deviation::WrongPasswordSucceeds),
        ..EmulatorConfig::default()
    }))
    .await;
    let before = users(&emulator).await;
    let run = orchestrator_pact(live_args(&emulator.url(), &[])).await;
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout
            .contains(&format!("FAILED  {REFUSES_A_WRONG_OLD_PASSWORD}")),
        "{run}"
    );
    assert_eq!(users(&emulator).await, before, "{run}");
}

/// A pact whose state parameters contradict the state (it says the old
/// password sent is wrong, but sends the user's current one) cannot be
/// checked: nothing is created on the tenant, and the run exits 2.
#[tokio::test]
async fn state_parameters_that_contradict_their_state_create_nothing_and_exit_2() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let dir = ScratchDir::new();
    let file = pact_file_name();
    let mut pact = committed_pact();
    for interaction in pact["interactions"].as_array_mut().unwrap() {
        for state in interaction["providerStates"].as_array_mut().unwrap() {
            let params = state["params"].as_object_mut().unwrap();
            let current = params[PARAM_PASSWORD].clone();
            params.insert(PARAM_OLD_PASSWORD.into(), current);
        }
    }
    std::fs::write(dir.join(file), pact.to_string()).unwrap();
    let mut args = live_args(
        &emulator.url(),
        &["--filter-description", "wrong old password"],
    );
    args[2] = dir.to_string_lossy().into_owned();
    let run = orchestrator_pact(&args).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stdout.contains("could not be checked"), "{run}");
    assert_eq!(users(&emulator).await, before, "{run}");
    assert_eq!(
        emulator.emulator.store.len(),
        before.len(),
        "a user was created: {run}"
    );
}

#[tokio::test]
async fn what_cannot_be_deleted_is_printed_by_id_and_cleanup_removes_it() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let url = emulator.url();
    let before = users(&emulator).await;
    set_fault(&emulator, "route=delete-user,kind=503").await;
    let run = orchestrator_pact(live_args(&url, &["--setup-retries", "1"])).await;
    // The contract held; the leftovers are reported, not hidden.
    assert_eq!(run.code, 0, "{run}");
    http()
        .delete(format!("{url}/_admin/faults"))
        .send()
        .await
        .unwrap();
    let left: Vec<(String, String)> = users(&emulator)
        .await
        .into_iter()
        .filter(|u| !before.contains(u))
        .collect();
    assert_eq!(left.len(), 5, "{run}");
    for (id, _) in &left {
        assert!(
            run.stderr.contains(id) && run.stdout.contains(id),
            "leftover {id} not printed: {run}"
        );
    }

    let cleanup = orchestrator_pact([
        "cleanup",
        "--base-url",
        &format!("{url}/myorg/mytenant/"),
        "--client-id",
        CLIENT,
        "--client-secret",
        CLIENT_SECRET,
        "--organization-id",
        ORG,
    ])
    .await;
    assert_eq!(cleanup.code, 0, "{cleanup}");
    assert!(cleanup.stdout.contains("5 user(s) removed"), "{cleanup}");
    assert_eq!(users(&emulator).await, before, "{cleanup}");
}

/// Where the Identity API is not (a 404 for the listing), cleanup cannot
/// tell whether users are left: it says so and exits 2, rather than report
/// that nothing was left.
#[tokio::test]
async fn cleanup_where_no_identity_api_answers_exits_2_instead_of_finding_nothing() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let url = emulator.url();
    let cleanup = orchestrator_pact([
        "cleanup",
        "--base-url",
        &format!("{url}/one/two/three/"),
        "--token",
        "any-token",
        "--organization-id",
        ORG,
    ])
    .await;
    assert_eq!(cleanup.code, 2, "{cleanup}");
    assert!(
        cleanup
            .stderr
            .contains("listing users: the tenant answered 404")
            && cleanup.stderr.contains("Check `--base-url`"),
        "{cleanup}"
    );
}

// SIGTERM is Unix's.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_in_the_middle_of_a_run_still_removes_every_user() {
    let emulator = WatchedEmulator::start(tenant(EmulatorConfig::default())).await;
    let before = users_at(&emulator.url()).await;
    // The verified requests wait at the barrier until the signal is sent:
    // the run is in the middle of its interactions, their users made, and
    // the tenant answers once the run is told to stop (as a slow tenant
    // would).
    emulator.hold(|request, _| request.is(FaultRoute::ChangePassword));
    let running = Running::start(live_args(&emulator.url(), &[]));
    emulator
        .wait_until("the run sent no change-password request", |log| {
            log.iter().any(|e| e.held)
        })
        .await;
    assert!(emulator.emulator.store.len() > before.len());
    running.terminate();
    emulator.release();
    let run = running.finish().await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("interrupted"), "{run}");
    assert_eq!(users_at(&emulator.url()).await, before, "{run}");
}

#[tokio::test]
async fn a_panic_inside_the_harness_still_removes_every_user() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let run = orchestrator_pact(live_args(
        &emulator.url(),
        &["--test-panic-after-setups", "2"],
    ))
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("internal error"), "{run}");
    assert_eq!(users(&emulator).await, before, "{run}");
}

#[rstest]
#[case::wrong_client_secret(&["--client-id", CLIENT, "--client-secret", "not-the-s3cret"], &["invalid_client", "`gate`"], "not-the-s3cret")]
#[case::scope_not_granted(&["--client-id", "read-only", "--client-secret", "ro-s3cret-77"], &["invalid_scope", "PM.User.Write"], "ro-s3cret-77")]
#[case::token_without_write_scope(&["--token", "read-pat-9931"], &["403", "lacks a scope"], "read-pat-9931")]
#[case::unknown_token(&["--token", "unknown-pat-1234"], &["401", "UIPATH_PAT"], "unknown-pat-1234")]
#[case::no_credentials(&[], &["needs credentials", "UIPATH_CLIENT_ID"], "")]
#[tokio::test]
async fn refused_credentials_exit_2_naming_the_credential_not_the_secret(
    #[case] credentials: &[&str],
    #[case] says: &[&str],
    #[case] secret: &str,
) {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let url = emulator.url();
    let mut args = vec![
        "verify".to_owned(),
        "--pacts".into(),
        pacts_dir().to_string_lossy().into_owned(),
        "--base-url".into(),
        url.clone(),
        "--organization-id".into(),
        ORG.into(),
    ];
    args.extend(credentials.iter().map(|s| (*s).to_owned()));
    let run = orchestrator_pact(&args).await;
    assert_eq!(run.code, 2, "{run}");
    for s in says {
        assert!(run.output().contains(s), "expected `{s}`: {run}");
    }
    if !secret.is_empty() {
        assert!(
            !run.output().contains(secret),
            "the secret was printed: {run}"
        );
    }
    assert_eq!(users(&emulator).await, before, "{run}");
}

#[tokio::test]
async fn an_existing_user_is_verified_without_lockout_risk_and_its_password_restored() {
    let id = UserId::random();
    let emulator = start_emulator(tenant(EmulatorConfig {
        users: vec![existing_user(*id.as_uuid())],
        ..EmulatorConfig::default()
    }))
    .await;
    let args = |extra: &[&str]| {
        let mut a = live_args(
            &emulator.url(),
            &[
                "--test-user-id",
                &id.to_string(),
                "--test-user-password",
                "Existing-passw0rd",
            ],
        );
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    };
    let run = orchestrator_pact(args(&[])).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains(&format!("SKIPPED {REFUSES_A_WRONG_OLD_PASSWORD}")),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("4 interactions: 4 verified, 0 failed, 0 could not be checked, 1 skipped"),
        "{run}"
    );
    let user = emulator.emulator.store.get(&id).unwrap();
    assert_eq!(user.password.unwrap().expose(), "Existing-passw0rd");
    assert_eq!(user.failed_checks, 0, "a wrong password was sent");

    let risky = orchestrator_pact(args(&["--allow-lockout-risk"])).await;
    assert_eq!(risky.code, 0, "{risky}");
    assert!(
        risky.stdout.contains("5 interactions: 5 verified"),
        "{risky}"
    );
    let user = emulator.emulator.store.get(&id).unwrap();
    assert_eq!(user.password.unwrap().expose(), "Existing-passw0rd");
}

#[tokio::test]
async fn a_standalone_install_is_reached_under_identity() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let run = orchestrator_pact(live_args(
        &emulator.url(),
        &["--identity-prefix", "identity", "--loglevel", "info"],
    ))
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("/identity/api/User/"), "{run}");
    assert!(
        !run.stderr.contains("/identity_/api/User/"),
        "a request kept the recorded prefix: {run}"
    );
}

#[rstest]
#[case::passing(None, 0)]
#[case::failing(Some(Deviation::ValidationErrorsAsList), 1)]
#[tokio::test]
async fn no_secret_reaches_any_output_or_report_at_trace_level(
    #[case] deviation: Option<Deviation>,
    #[case] code: i32,
) {
    let id = UserId::random();
    let emulator = start_emulator(tenant(EmulatorConfig {
        deviation,
        record_secrets: true,
        users: vec![existing_user(*id.as_uuid())],
        ..EmulatorConfig::default()
    }))
    .await;
    let dir = ScratchDir::new();
    let junit = dir.join("junit.xml");
    let json = dir.join("report.json");
    let reports = [
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--loglevel",
        "trace",
        "--verbose",
    ];
    let throwaway = orchestrator_pact(live_args(&emulator.url(), &reports)).await;
    assert_eq!(throwaway.code, code, "{throwaway}");
    let mut everything = throwaway.output();
    everything.push_str(&std::fs::read_to_string(&junit).unwrap());
    everything.push_str(&std::fs::read_to_string(&json).unwrap());

    let mut existing_args = live_args(&emulator.url(), &reports);
    existing_args.extend([
        "--test-user-id".into(),
        id.to_string(),
        "--test-user-password".into(),
        "Existing-passw0rd".into(),
        "--allow-lockout-risk".into(),
    ]);
    let existing = orchestrator_pact(&existing_args).await;
    assert_eq!(existing.code, code, "{existing}");
    everything.push_str(&existing.output());
    everything.push_str(&std::fs::read_to_string(&junit).unwrap());
    everything.push_str(&std::fs::read_to_string(&json).unwrap());

    // The test would prove nothing if the run had logged nothing.
    assert!(
        everything.contains("TRACE") && everything.len() > 10_000,
        "too little output to search"
    );
    let mut secrets = emulator.emulator.secrets_seen();
    assert!(
        secrets.len() >= 10,
        "the emulator saw too few secrets: {}",
        secrets.len()
    );
    secrets.extend([CLIENT_SECRET.to_owned(), "Existing-passw0rd".to_owned()]);
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret of {} characters leaked",
            secret.len()
        );
    }
}

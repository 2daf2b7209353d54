//! The CI gate scripts (`ci/gate-consumer.sh`, `ci/gate-tenant.sh`), which
//! every pipeline template calls, run end to end against the emulator as a
//! tenant and the broker double: so a template whose script calls a flag
//! that does not exist fails here.

use std::path::Path;

use orchestrator_pact::emulator::{Deviation, EmulatorConfig};
use uipath_identity_client::contract::{CONSUMER, PROVIDER};

use crate::broker_double::{BrokerDouble, DoubleConfig};
use crate::fixtures::{BINARY, Run, ScratchDir, clean_command, finish, start_emulator};

const ORG: &str = "6f726368-6573-7472-6174-6f722d706163";
const BROKER_TOKEN: &str = "gate-broker-t0ken";

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Runs `bash ci/SCRIPT` with only the given variables in a clean
/// environment.
async fn gate(script: &str, env: &[(&str, &str)]) -> Run {
    let mut command = clean_command("bash");
    command
        .arg(Path::new("ci").join(script))
        .env("ORCHESTRATOR_PACT", BINARY)
        .env("GATE_SKIP_TESTS", "1")
        .env("PACT_BROKER_RETRY_BASE_DELAY_MS", "5")
        .envs(env.iter().copied());
    finish(command, vec![script.to_owned()]).await
}

fn tenant_config(deviation: Option<Deviation>) -> EmulatorConfig {
    EmulatorConfig {
        clients: vec!["gate-app:gate-app-s3cret".parse().unwrap()],
        deviation,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn the_gate_scripts_run_a_whole_pipeline_and_go_red_on_a_broken_tenant() {
    let broker = BrokerDouble::start_with(DoubleConfig {
        context: String::new(),
        token: Some(BROKER_TOKEN.into()),
    })
    .await;
    broker.create_environment("production", true);
    let broker_url = broker.url();
    let reports = ScratchDir::new();
    let reports_dir = reports.to_string_lossy().into_owned();
    let broker_env = [
        ("PACT_BROKER_BASE_URL", broker_url.as_str()),
        ("PACT_BROKER_TOKEN", BROKER_TOKEN),
    ];
    let consumer_env = |version: &'static str| {
        let mut env = broker_env.to_vec();
        env.extend([
            ("CONSUMER_VERSION", version),
            ("CONSUMER_BRANCH", "main"),
            ("GATE_RETRY_WHILE_UNKNOWN", "0"),
        ]);
        env
    };

    // The automation's pipeline: published, but no tenant version is known
    // to be in production yet: red.
    let early = gate("gate-consumer.sh", &consumer_env("c1")).await;
    assert_eq!(early.code, 1, "{early}");
    assert_eq!(broker.published_pacts(), 1, "{early}");

    // The tenant's pipeline: the emulator as a tenant, verified from the
    // broker, results published, the tenant version recorded.
    let tenant = start_emulator(tenant_config(None)).await;
    let tenant_url = tenant.url();
    let tenant_env = |version: &'static str, url: &str| {
        let mut env: Vec<(String, String)> = broker_env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.extend(
            [
                ("UIPATH_URI", url),
                ("UIPATH_ORGANIZATION", "myorg"),
                ("UIPATH_TENANT", "mytenant"),
                ("UIPATH_ORGANIZATION_ID", ORG),
                ("UIPATH_CLIENT_ID", "gate-app"),
                ("UIPATH_CLIENT_SECRET", "gate-app-s3cret"),
                ("PROVIDER_VERSION", version),
                ("REPORTS_DIR", reports_dir.as_str()),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        env
    };
    let env = tenant_env("t1", &tenant_url);
    let verified = gate("gate-tenant.sh", &as_refs(&env)).await;
    assert_eq!(verified.code, 0, "{verified}");
    assert!(
        verified.stdout.contains("5 interactions: 5 verified"),
        "{verified}"
    );
    assert!(
        tenant.emulator.store.is_empty(),
        "the tenant was left with users"
    );
    let junit = std::fs::read_to_string(reports.join("contract-junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 5, "{junit}");
    assert!(
        std::fs::read_to_string(reports.join("contract-summary.md"))
            .unwrap()
            .contains("the contract holds")
    );
    assert!(
        broker.verifications().iter().any(|v| v.success),
        "no successful result was published: {verified}"
    );
    assert!(
        broker
            .deployments()
            .iter()
            .any(|d| d.pacticipant == PROVIDER && d.version == "t1"),
        "the tenant's deployment was not recorded: {verified}"
    );

    // The automation's pipeline again: now green, and its deployment recorded.
    let green = gate("gate-consumer.sh", &consumer_env("c1")).await;
    assert_eq!(green.code, 0, "{green}");
    assert!(
        green.stdout.contains("may be deployed to production"),
        "{green}"
    );
    assert!(
        broker
            .deployments()
            .iter()
            .any(|d| d.pacticipant == CONSUMER && d.version == "c1"),
        "the automation's deployment was not recorded: {green}"
    );

    // A tenant that breaks the contract turns the tenant gate red (exit 1).
    let broken = start_emulator(tenant_config(Some(Deviation::WrongPasswordSucceeds))).await;
    let env = tenant_env("t2", &broken.url());
    let red = gate("gate-tenant.sh", &as_refs(&env)).await;
    assert_eq!(red.code, 1, "{red}");
    assert!(
        red.stderr.contains("no longer honours the contract"),
        "{red}"
    );
    assert!(
        broker.verifications().iter().any(|v| !v.success),
        "no failed result was published: {red}"
    );
    assert!(
        broken.emulator.store.is_empty(),
        "the broken tenant was left with users"
    );
    for run in [&early, &verified, &green, &red] {
        assert!(
            !run.output().contains(BROKER_TOKEN) && !run.output().contains("gate-app-s3cret"),
            "a secret was printed: {run}"
        );
    }
}

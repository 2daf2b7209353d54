//! The broker client's own contract: what `orchestrator-pact` asks of a
//! Pact Broker and relies on in its answers, recorded with pact_consumer
//! (consumer `orchestrator-pact`, provider `Pact Broker`) by driving the
//! real [`BrokerClient`] and commands against the Pact mock server, as
//! pact-foundation's own broker clients do. A real broker can verify the
//! file, given the provider states named here.
//!
//! The pact is written to `$BROKER_PACT_OUTPUT_DIR` (default
//! `target/broker-pacts/`), apart from the tenant contract in `pacts/`;
//! `ci/record-broker-pacts.sh` copies a clean recording into `broker-pacts/`
//! and `ci/check-broker-pact-drift.sh` fails when the committed file differs
//! from a fresh one. Hrefs in answers use the `MockServerURL` generator, so
//! the client follows them to the mock server, and a real broker's own URLs
//! (under any host and context path) match their regexes.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use orchestrator_pact::broker::{
    self, BrokerClient, BrokerConfig, BrokerPact, BrokerVerifySettings, CanIDeploySettings,
    DeployTarget, PublishError, PublishSettings, RecordDeploymentSettings, RetryPolicy,
};
use orchestrator_pact::redact::Redactor;
use orchestrator_pact::report::{InteractionOutcome, Report, Status};
use pact_consumer::builders::InteractionBuilder;
use pact_consumer::mock_server::StartMockServerAsync;
use pact_consumer::prelude::*;
use pact_consumer::{each_like, json_pattern, like, term};
use pact_models::generators::Generator;
use serde_json::json;
use uipath_identity_client::contract::{
    CONSUMER, PROVIDER, REFUSES_A_WRONG_OLD_PASSWORD, pact_file_name,
};
use url::Url;

use crate::fixtures::ScratchDir;

const CLIENT: &str = "orchestrator-pact";
const BROKER: &str = "Pact Broker";

const CONSUMER_VERSION: &str = "5556b8149bf8bac76bc30f50a8a2dd4c22c85f30";
const PROVIDER_VERSION: &str = "2024.10.1";
const PACT_VERSION: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
const ENVIRONMENT_UUID: &str = "cb632df3-0a0d-4227-aac3-60114dd36479";
/// Where the examples of absolute hrefs point before the mock server's URL
/// replaces it.
const EXAMPLE_BASE: &str = "http://localhost:9292";

const STATE_INDEX: &str = "the index resource offers the relations orchestrator-pact follows";
const ACCEPT: &str = "application/hal+json, application/json";

/// The smallest pact the broker takes, as the pact file to publish.
fn tiny_pact() -> serde_json::Value {
    json!({
        "consumer": { "name": CONSUMER },
        "provider": { "name": PROVIDER },
        "interactions": [],
        "metadata": { "pactSpecification": { "version": "4.0" } }
    })
}

/// Where this run writes the pact: `$BROKER_PACT_OUTPUT_DIR`, else
/// `target/broker-pacts/`. The file is removed once, before the first test
/// records into it, so that no stale interaction survives a run.
fn pact_dir() -> PathBuf {
    static CLEAN: LazyLock<PathBuf> = LazyLock::new(|| {
        let dir = std::env::var_os("BROKER_PACT_OUTPUT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../target/broker-pacts"
                ))
            });
        let file = dir.join(format!("{CLIENT}-{BROKER}.json"));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("cannot remove the stale pact {}: {e}", file.display()),
        }
        dir
    });
    CLEAN.clone()
}

fn builder() -> PactBuilderAsync {
    let mut pact = PactBuilderAsync::new_v4(CLIENT, BROKER);
    pact.output_dir(pact_dir());
    pact
}

/// An absolute href to `path` on the broker: any scheme, host and context
/// path match; the mock server answers with its own URL.
fn href(path: &str) -> JsonPattern {
    term!(
        format!("^https?://.*{}$", regex::escape(path)),
        format!("{EXAMPLE_BASE}{path}")
    )
    .into()
}

fn mock_server_url(path: &str) -> Generator {
    Generator::MockServerURL(
        format!("{EXAMPLE_BASE}{path}"),
        format!(".*({})$", regex::escape(path)),
    )
}

const PUBLISH_CONTRACTS: &str = "/contracts/publish";
const FOR_VERIFICATION: &str = "/pacts/provider/{provider}/for-verification";
const PACTICIPANT_VERSION: &str = "/pacticipants/{pacticipant}/versions/{version}";
const BRANCH_VERSION: &str = "/pacticipants/{pacticipant}/branches/{branch}/versions/{version}";
const ENVIRONMENTS: &str = "/environments";

/// The index, with every relation the client follows: one interaction,
/// identical in every test that needs it.
fn index(mut i: InteractionBuilder) -> InteractionBuilder {
    i.given(STATE_INDEX);
    i.request.get().path("/").header("Accept", ACCEPT);
    i.response
        .status(200)
        .header(
            "Content-Type",
            term!(
                "^application/hal\\+json",
                "application/hal+json;charset=utf-8"
            ),
        )
        .json_body(json_pattern!({
            "_links": {
                "pb:publish-contracts": { "href": href(PUBLISH_CONTRACTS) },
                "pb:provider-pacts-for-verification": { "href": href(FOR_VERIFICATION) },
                "pb:pacticipant-version": { "href": href(PACTICIPANT_VERSION) },
                "pb:pacticipant-branch-version": { "href": href(BRANCH_VERSION) },
                "pb:environments": { "href": href(ENVIRONMENTS) }
            }
        }));
    for (rel, path) in [
        ("pb:publish-contracts", PUBLISH_CONTRACTS),
        ("pb:provider-pacts-for-verification", FOR_VERIFICATION),
        ("pb:pacticipant-version", PACTICIPANT_VERSION),
        ("pb:pacticipant-branch-version", BRANCH_VERSION),
        ("pb:environments", ENVIRONMENTS),
    ] {
        i.response
            .body_generator(format!("$._links['{rel}'].href"), mock_server_url(path));
    }
    i
}

fn client_of(server: &dyn ValidatingMockServer) -> BrokerClient {
    let mut config = BrokerConfig::new(Url::parse(server.url().as_str()).unwrap());
    config.retry = RetryPolicy {
        retries: 0,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        ..RetryPolicy::broker()
    };
    BrokerClient::new(&config).unwrap()
}

fn config_of(server: &dyn ValidatingMockServer) -> BrokerConfig {
    let mut config = BrokerConfig::new(Url::parse(server.url().as_str()).unwrap());
    config.retry.retries = 0;
    config
}

fn publish_settings(server: &dyn ValidatingMockServer) -> (PublishSettings, ScratchDir) {
    let dir = ScratchDir::new();
    std::fs::write(
        dir.join(pact_file_name()),
        serde_json::to_vec(&tiny_pact()).unwrap(),
    )
    .unwrap();
    (
        PublishSettings {
            broker: config_of(server),
            pacts: vec![dir.to_path_buf()],
            consumer_version: CONSUMER_VERSION.into(),
            branch: Some("main".into()),
            tags: vec!["dev".into()],
            build_url: Some("https://ci.example/builds/1".into()),
        },
        dir,
    )
}

fn tiny_pact_base64() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&tiny_pact()).unwrap())
}

fn publish_request(i: &mut InteractionBuilder) {
    i.request
        .post()
        .path(PUBLISH_CONTRACTS)
        .header("Accept", ACCEPT)
        .header("Content-Type", "application/json")
        .json_body(json_pattern!({
            "pacticipantName": CONSUMER,
            "pacticipantVersionNumber": like!(CONSUMER_VERSION),
            "branch": like!("main"),
            "tags": each_like!("dev"),
            "buildUrl": like!("https://ci.example/builds/1"),
            "contracts": each_like!({
                "consumerName": CONSUMER,
                "providerName": PROVIDER,
                "specification": "pact",
                "contentType": "application/json",
                "content": like!(tiny_pact_base64()),
            }),
        }));
}

#[tokio::test]
async fn publishes_contracts_through_the_index_and_prints_the_notices() {
    let server = builder()
        .interaction("a request for the index resource", "", |i| async move { index(i) })
        .await
        .interaction("a request to publish contracts", "", |mut i| async move {
            i.given(format!("no pact is published for {CONSUMER} version {CONSUMER_VERSION}"));
            publish_request(&mut i);
            i.response
                .status(200)
                .header(
                    "Content-Type",
                    term!("^application/hal\\+json", "application/hal+json;charset=utf-8"),
                )
                .json_body(json_pattern!({
                    "notices": each_like!({
                        "type": like!("info"),
                        "text": like!(format!("Pact published for {CONSUMER} version {CONSUMER_VERSION} and provider {PROVIDER}.")),
                    }),
                }));
            i
        })
        .await
        .start_mock_server_async(None, None)
        .await;

    let (settings, dir) = publish_settings(server.as_ref());
    let mut out = Vec::new();
    broker::publish(&settings, &mut out).await.unwrap();
    drop(dir);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(&format!(
            "published 1 pact(s) of {CONSUMER} version {CONSUMER_VERSION} (branch main)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("broker: Pact published for {CONSUMER}")),
        "{out}"
    );
}

#[tokio::test]
async fn a_changed_pact_for_a_published_version_is_a_conflict() {
    let server = builder()
        .interaction("a request for the index resource", "", |i| async move {
            index(i)
        })
        .await
        .interaction(
            "a request to publish contracts whose content changed for a published version",
            "",
            |mut i| async move {
                i.given(format!(
                    "a different pact is published for {CONSUMER} version {CONSUMER_VERSION}"
                ));
                publish_request(&mut i);
                i.response.status(409);
                i
            },
        )
        .await
        .start_mock_server_async(None, None)
        .await;

    let (settings, dir) = publish_settings(server.as_ref());
    let error = broker::publish(&settings, &mut Vec::new())
        .await
        .unwrap_err();
    drop(dir);
    assert!(matches!(error, PublishError::Conflict { .. }), "{error}");
}

static PACT_PATH: LazyLock<String> =
    LazyLock::new(|| format!("/pacts/provider/{PROVIDER}/consumer/{CONSUMER}/pact-version/"));
static PACT_PATH_TEMPLATE: LazyLock<String> =
    LazyLock::new(|| format!("{}${{pactVersion}}", *PACT_PATH));

fn pact_path() -> String {
    format!("{}{PACT_VERSION}", *PACT_PATH)
}

fn pact_path_pattern() -> StringPattern {
    term!(
        format!("^{}[0-9a-f]+$", regex::escape(&PACT_PATH)),
        pact_path()
    )
    .into()
}

/// The broker's pacts for verification, asked with the recommended
/// selectors, pending status and work in progress: one pending pact.
fn the_pacts_for_verification(mut i: InteractionBuilder) -> InteractionBuilder {
    i.given_with_params(
        format!("a pact between {CONSUMER} and {PROVIDER} is published on branch main"),
        &json!({ "pactVersion": PACT_VERSION }),
    );
    i.request
        .post()
        .path(format!("/pacts/provider/{PROVIDER}/for-verification"))
        .header("Accept", ACCEPT)
        .header("Content-Type", "application/json")
        .json_body(json!({
            "consumerVersionSelectors": [
                { "mainBranch": true },
                { "matchingBranch": true },
                { "deployedOrReleased": true }
            ],
            "includePendingStatus": true,
            "providerVersionBranch": "main",
            "includeWipPactsSince": "2024-01-01"
        }));
    let self_href = pact_path();
    i.response
        .status(200)
        .header(
            "Content-Type",
            term!("^application/hal\\+json", "application/hal+json;charset=utf-8"),
        )
        .json_body(json_pattern!({
            "_embedded": {
                "pacts": each_like!({
                    "shortDescription": like!("latest from main"),
                    "verificationProperties": {
                        "pending": like!(true),
                        "notices": each_like!({
                            "when": like!("before_verification"),
                            "text": like!("The pact is being verified because it matches the following configured selection criterion: latest pact for the main branch"),
                        }),
                    },
                    "_links": {
                        "self": {
                            "href": term!(
                                format!("^https?://.*{}[0-9a-f]+$", regex::escape(&PACT_PATH)),
                                format!("{EXAMPLE_BASE}{self_href}")
                            ),
                            "name": like!(format!("Pact between {CONSUMER} ({CONSUMER_VERSION}) and {PROVIDER}")),
                        },
                    },
                }),
            },
        }))
        .body_generator(
            "$._embedded.pacts[0]._links.self.href",
            Generator::MockServerURL(
                format!("{EXAMPLE_BASE}{self_href}"),
                format!(".*({}[0-9a-f]+)$", regex::escape(&PACT_PATH)),
            ),
        );
    i
}

/// One pact to verify, with the link its results are published to.
fn a_pact_to_verify(mut i: InteractionBuilder) -> InteractionBuilder {
    i.given_with_params(
        format!("a pact between {CONSUMER} and {PROVIDER} is published on branch main"),
        &json!({ "pactVersion": PACT_VERSION }),
    );
    i.request
        .get()
        .path_from_provider_state(PACT_PATH_TEMPLATE.as_str(), pact_path_pattern())
        .header("Accept", ACCEPT);
    let results = format!("{}/verification-results", pact_path());
    i.response
        .status(200)
        .header(
            "Content-Type",
            term!("^application/(hal\\+)?json", "application/hal+json;charset=utf-8"),
        )
        .json_body(json_pattern!({
            "consumer": { "name": CONSUMER },
            "provider": { "name": PROVIDER },
            "interactions": like!(json!([])),
            "_links": {
                "pb:publish-verification-results": {
                    "href": term!(
                        format!("^https?://.*{}[0-9a-f]+/verification-results$", regex::escape(&PACT_PATH)),
                        format!("{EXAMPLE_BASE}{results}")
                    ),
                },
            },
        }))
        .body_generator(
            "$._links['pb:publish-verification-results'].href",
            Generator::MockServerURL(
                format!("{EXAMPLE_BASE}{results}"),
                format!(".*({}[0-9a-f]+/verification-results)$", regex::escape(&PACT_PATH)),
            ),
        );
    i
}

#[tokio::test]
async fn fetches_the_pacts_for_verification_with_selectors_pending_and_wip() {
    let server = builder()
        .interaction("a request for the index resource", "", |i| async move {
            index(i)
        })
        .await
        .interaction(
            "a request for the pacts for verification",
            "",
            |i| async move { the_pacts_for_verification(i) },
        )
        .await
        .interaction("a request for a pact to verify", "", |i| async move {
            a_pact_to_verify(i)
        })
        .await
        .start_mock_server_async(None, None)
        .await;

    let settings = BrokerVerifySettings {
        broker: config_of(server.as_ref()),
        provider: PROVIDER.into(),
        provider_version: Some(PROVIDER_VERSION.into()),
        provider_branch: Some("main".into()),
        selectors: broker::recommended_selectors(true),
        enable_pending: true,
        include_wip_pacts_since: Some("2024-01-01".into()),
        publish: true,
        build_url: None,
        webhook_callback_url: None,
    };
    let pacts = broker::fetch_pacts(&client_of(server.as_ref()), &settings)
        .await
        .unwrap();
    assert_eq!(pacts.len(), 1);
    let pact = &pacts[0];
    assert!(pact.pending);
    assert!(!pact.wip);
    assert_eq!(
        (pact.consumer.as_str(), pact.provider.as_str()),
        (CONSUMER, PROVIDER)
    );
    assert_eq!(pact.notices.len(), 1);
    assert!(pact.notices[0].is_before_verification());
    assert_eq!(
        pact.publish_url.as_ref().map(|u| u.path().to_owned()),
        Some(format!("{}/verification-results", pact_path()))
    );
}

#[tokio::test]
async fn publishes_verification_results_after_recording_the_provider_branch() {
    let results_path = format!("{}/verification-results", pact_path());
    let server = builder()
        .interaction("a request for the index resource", "", |i| async move {
            index(i)
        })
        .await
        .interaction(
            "a request to record the branch of a provider version",
            "",
            |mut i| async move {
                i.given(format!(
                    "{PROVIDER} exists with no version {PROVIDER_VERSION}"
                ));
                i.request
                    .put()
                    .path(format!(
                        "/pacticipants/{PROVIDER}/branches/main/versions/{PROVIDER_VERSION}"
                    ))
                    .header("Accept", ACCEPT)
                    .header("Content-Type", "application/json")
                    .json_body(json!({}));
                i.response.status(201);
                i
            },
        )
        .await
        .interaction(
            "a request to publish verification results",
            "",
            |mut i| async move {
                i.given_with_params(
                    format!("a pact between {CONSUMER} and {PROVIDER} is published on branch main"),
                    &json!({ "pactVersion": PACT_VERSION }),
                );
                i.request
                    .post()
                    .path_from_provider_state(
                        format!("{}/verification-results", *PACT_PATH_TEMPLATE),
                        term!(
                            format!(
                                "^{}[0-9a-f]+/verification-results$",
                                regex::escape(&PACT_PATH)
                            ),
                            format!("{}/verification-results", pact_path())
                        ),
                    )
                    .header("Accept", ACCEPT)
                    .header("Content-Type", "application/json")
                    .json_body(json_pattern!({
                        "success": like!(false),
                        "providerApplicationVersion": like!(PROVIDER_VERSION),
                        "buildUrl": like!("https://ci.example/builds/2"),
                        "testResults": each_like!({
                            "interactionDescription": like!(REFUSES_A_WRONG_OLD_PASSWORD),
                            "success": like!(false),
                            "mismatches": each_like!({
                                "attribute": like!("status"),
                                "description": like!("expected 400 but was 200"),
                            }),
                        }),
                        "verifiedBy": {
                            "implementation": "orchestrator-pact",
                            "version": like!(env!("CARGO_PKG_VERSION")),
                        },
                    }));
                i.response.status(201);
                i
            },
        )
        .await
        .start_mock_server_async(None, None)
        .await;

    let client = client_of(server.as_ref());
    broker::record_provider_branch(&client, PROVIDER, "main", PROVIDER_VERSION)
        .await
        .unwrap();
    let pact = BrokerPact {
        url: client.resolve(&pact_path()).unwrap(),
        label: "a pact".into(),
        content: tiny_pact(),
        consumer: CONSUMER.into(),
        provider: PROVIDER.into(),
        interactions: 0,
        pending: false,
        wip: false,
        notices: Vec::new(),
        publish_url: Some(client.resolve(&results_path).unwrap()),
    };
    let report = Report {
        outcomes: vec![InteractionOutcome {
            consumer: CONSUMER.into(),
            provider: PROVIDER.into(),
            description: REFUSES_A_WRONG_OLD_PASSWORD.into(),
            states: Vec::new(),
            pending: false,
            duration: Duration::from_millis(3),
            status: Status::Mismatch(vec!["expected 400 but was 200".into()]),
        }],
        ..Report::default()
    };
    let body = broker::results_body(
        &pact,
        &report,
        PROVIDER_VERSION,
        Some("https://ci.example/builds/2"),
        &Redactor::default(),
    );
    broker::publish_results(&client, &pact, &body)
        .await
        .unwrap();
}

#[tokio::test]
async fn asks_the_matrix_whether_a_version_can_go_to_an_environment() {
    let server = builder()
        .interaction("a request for the compatibility matrix of a version and an environment", "", |mut i| async move {
            i.given(format!(
                "{CONSUMER} version {CONSUMER_VERSION} was verified successfully by the version of {PROVIDER} deployed to production"
            ));
            i.request
                .get()
                .path("/matrix")
                .query_param("q[][pacticipant]", CONSUMER)
                .query_param("q[][version]", CONSUMER_VERSION)
                .query_param("latestby", "cvp")
                .query_param("environment", "production")
                .header("Accept", ACCEPT);
            i.response
                .status(200)
                .header(
                    "Content-Type",
                    term!("^application/hal\\+json", "application/hal+json;charset=utf-8"),
                )
                .json_body(json_pattern!({
                    "summary": {
                        "deployable": true,
                        "reason": like!("All required verification results are published and successful"),
                        "unknown": like!(0),
                    },
                    "matrix": each_like!({
                        "consumer": { "name": CONSUMER, "version": { "number": CONSUMER_VERSION } },
                        "provider": { "name": PROVIDER, "version": { "number": like!(PROVIDER_VERSION) } },
                        "verificationResult": {
                            "success": true,
                            "_links": { "self": { "href": like!(format!("{EXAMPLE_BASE}/verification-results/1")) } },
                        },
                    }),
                }));
            i
        })
        .await
        .start_mock_server_async(None, None)
        .await;

    let settings = CanIDeploySettings {
        broker: config_of(server.as_ref()),
        pacticipant: CONSUMER.into(),
        version: CONSUMER_VERSION.into(),
        target: DeployTarget::Environment("production".into()),
        retry_while_unknown: 0,
        retry_interval: Duration::from_millis(1),
        dry_run: false,
    };
    let answer = broker::ask(&client_of(server.as_ref()), &settings)
        .await
        .unwrap();
    assert_eq!(answer.deployable, Some(true));
    assert_eq!(answer.rows.len(), 1);
    assert_eq!(
        answer.rows[0].provider_version.as_deref(),
        Some(PROVIDER_VERSION)
    );
    assert_eq!(answer.rows[0].success, Some(true));
}

static RECORD_PATH: LazyLock<String> = LazyLock::new(|| {
    format!("/pacticipants/{PROVIDER}/versions/2024.10.1/deployed-versions/environment/")
});

#[tokio::test]
async fn records_a_deployment_through_the_versions_link_for_the_environment() {
    let record = format!("{}{ENVIRONMENT_UUID}", *RECORD_PATH);
    let record_for_version = record.clone();
    let server = builder()
        .interaction("a request for the index resource", "", |i| async move { index(i) })
        .await
        .interaction("a request for the environments", "", |mut i| async move {
            i.given("an environment named production exists");
            i.request.get().path(ENVIRONMENTS).header("Accept", ACCEPT);
            i.response
                .status(200)
                .header(
                    "Content-Type",
                    term!("^application/hal\\+json", "application/hal+json;charset=utf-8"),
                )
                .json_body(json_pattern!({
                    "_embedded": {
                        "environments": each_like!({
                            "name": like!("production"),
                            "uuid": like!(ENVIRONMENT_UUID),
                        }),
                    },
                }));
            i
        })
        .await
        .interaction("a request for a provider version", "", |mut i| async move {
            i.given_with_params(
                format!("version {PROVIDER_VERSION} of {PROVIDER} exists and an environment named production exists"),
                &json!({ "environmentUuid": ENVIRONMENT_UUID }),
            );
            i.request
                .get()
                .path(format!("/pacticipants/{PROVIDER}/versions/{PROVIDER_VERSION}"))
                .header("Accept", ACCEPT);
            i.response
                .status(200)
                .header(
                    "Content-Type",
                    term!("^application/hal\\+json", "application/hal+json;charset=utf-8"),
                )
                .json_body(json_pattern!({
                    "_links": {
                        "pb:record-deployment": each_like!({
                            "name": like!("production"),
                            "href": term!(
                                format!("^https?://.*{}[0-9a-f-]+$", regex::escape(&RECORD_PATH)),
                                format!("{EXAMPLE_BASE}{record_for_version}")
                            ),
                        }),
                    },
                }))
                .body_generator(
                    "$._links['pb:record-deployment'][0].href",
                    Generator::MockServerURL(
                        format!("{EXAMPLE_BASE}{record_for_version}"),
                        format!(".*({}[0-9a-f-]+)$", regex::escape(&RECORD_PATH)),
                    ),
                );
            i
        })
        .await
        .interaction("a request to record a deployment", "", |mut i| async move {
            i.given_with_params(
                format!("version {PROVIDER_VERSION} of {PROVIDER} exists and an environment named production exists"),
                &json!({ "environmentUuid": ENVIRONMENT_UUID }),
            );
            i.request
                .post()
                .path_from_provider_state(
                    format!("{}${{environmentUuid}}", *RECORD_PATH),
                    term!(
                        format!("^{}[0-9a-f-]+$", regex::escape(&RECORD_PATH)),
                        record.clone()
                    ),
                )
                .header("Accept", ACCEPT)
                .header("Content-Type", "application/json")
                .json_body(json!({ "applicationInstance": "blue" }));
            i.response.status(201);
            i
        })
        .await
        .start_mock_server_async(None, None)
        .await;

    let settings = RecordDeploymentSettings {
        broker: config_of(server.as_ref()),
        pacticipant: PROVIDER.into(),
        version: PROVIDER_VERSION.into(),
        environment: "production".into(),
        application_instance: Some("blue".into()),
    };
    let mut out = Vec::new();
    broker::record_deployment(&settings, &mut out)
        .await
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(&format!(
            "recorded the deployment of {PROVIDER} version 2024.10.1 to production (instance blue)"
        )),
        "{out}"
    );
}

//! The change-password contract, one interaction per test, each driving the
//! real [`IdentityClient`] against the Pact mock server.
//!
//! Every interaction names a provider state whose values (`userId`,
//! `oldPassword`, `newPassword`) replace the examples below when a provider
//! verifies, so that any deployment supplies its own user and passwords.

use std::path::PathBuf;
use std::sync::LazyLock;

use consumer::{
    BaseUrl, BearerToken, ChangePassword, ChangePasswordOutcome, IdentityClient, IdentityPrefix,
    UserId,
};
use pact_consumer::mock_server::StartMockServerAsync;
use pact_consumer::prelude::*;
use pact_consumer::{each_like, json_pattern, like, term};
use pact_models::generators::Generator;
use pact_models::matchingrules::MatchingRule;
use pact_models::matchingrules::expressions::{MatchingRuleDefinition, ValueType};
use pact_models::prelude::DataType;
use rstest::{fixture, rstest};
use serde_json::json;

/// The names under which the contract is published and verified.
const CONSUMER: &str = "automation-client";
const PROVIDER: &str = "uipath-identity";

/// Provider states: each names what the deployment must set up, and answers
/// with the values to send.
const STATE_KNOWN_PASSWORD: &str = "a user exists with a known password";
const STATE_WRONG_OLD_PASSWORD: &str = "a user exists and the old password sent is wrong";
const STATE_POLICY_VIOLATION: &str =
    "a user exists and the new password violates the password policy";

/// Examples, replaced at verification time by the provider state's values.
const EXAMPLE_USER: &str = "5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b";
const EXAMPLE_OLD: &str = "Old-passw0rd";
const EXAMPLE_NEW: &str = "New-passw0rd";
const EXAMPLE_WRONG_OLD: &str = "Wrong-passw0rd";
const EXAMPLE_TOO_SHORT: &str = "a1";
const EXAMPLE_TOKEN: &str = "example-token";

const PATH_TEMPLATE: &str = "/identity_/api/User/${userId}/changepassword";
const PATH_REGEX: &str = r"^/identity_/api/User/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/changepassword$";
const BEARER_REGEX: &str = r"^Bearer .+$";
const JSON_CONTENT_TYPE_REGEX: &str = r"^application/(problem\+)?json(;.*)?$";
/// W3C traceparent (older ASP.NET Core), the bare 32-hex trace id (newer),
/// or the connection-based request id ASP.NET falls back to with no activity.
const TRACE_ID_REGEX: &str =
    r"^(00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}|[0-9a-f]{32}|[0-9A-Za-z]+:[0-9A-Fa-f]{8})$";

fn example_path() -> String {
    PATH_TEMPLATE.replace("${userId}", EXAMPLE_USER)
}

fn state_params(old: &str, new: &str) -> serde_json::Value {
    json!({ "userId": EXAMPLE_USER, "oldPassword": old, "newPassword": new })
}

/// Where this run writes its pact file: `$PACT_OUTPUT_DIR`, else the
/// workspace's `target/pacts/`. The file is removed once, before the first
/// test records into it: the pact library merges into an existing file, and
/// a stale interaction must never survive a run.
#[fixture]
fn pact_dir() -> PathBuf {
    static CLEAN: LazyLock<PathBuf> = LazyLock::new(|| {
        let dir = std::env::var_os("PACT_OUTPUT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/pacts"))
            });
        let file = dir.join(format!("{CONSUMER}-{PROVIDER}.json"));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("cannot remove the stale pact {}: {e}", file.display()),
        }
        dir
    });
    CLEAN.clone()
}

fn builder(dir: PathBuf) -> PactBuilderAsync {
    let mut pact = PactBuilderAsync::new_v4(CONSUMER, PROVIDER);
    pact.output_dir(dir);
    pact
}

/// A client of the mock server, the way a team's automation builds one.
fn client_of(server: &dyn ValidatingMockServer, token: Option<&str>) -> IdentityClient {
    let base = BaseUrl::parse(server.url().as_str(), IdentityPrefix::Cloud).unwrap();
    IdentityClient::new(base, token.map(BearerToken::from)).unwrap()
}

/// The request every state-driven interaction sends: the path and both
/// passwords from the provider state, and a bearer token unless `anonymous`.
fn state_driven_request(
    request: &mut pact_consumer::builders::RequestBuilder,
    old: &str,
    new: &str,
    anonymous: bool,
) {
    request
        .post()
        .path_from_provider_state(PATH_TEMPLATE, term!(PATH_REGEX, example_path()));
    if !anonymous {
        request.header(
            "Authorization",
            term!(BEARER_REGEX, format!("Bearer {EXAMPLE_TOKEN}")),
        );
    }
    request
        .header("Content-Type", "application/json")
        .json_body(json_pattern!({
            "oldPassword": like!(old),
            "newPassword": like!(new),
        }))
        .body_generator(
            "$.oldPassword",
            Generator::ProviderStateGenerator("oldPassword".into(), Some(DataType::STRING)),
        )
        .body_generator(
            "$.newPassword",
            Generator::ProviderStateGenerator("newPassword".into(), Some(DataType::STRING)),
        );
}

/// `errors` of a `ValidationProblemDetails`: any keys, each value a
/// non-empty array of strings. Built from explicit rules rather than
/// `each_value(each_like!(…))`, whose nested rules come out of a hash map in
/// a different order on every run, which would make the pact file differ
/// from one recording to the next.
fn errors_map(example_message: &str) -> ObjectMatching {
    let example = json!({ "oldPassword": [example_message] });
    ObjectMatching::new(
        example.clone().into(),
        vec![
            MatchingRule::EachKey(MatchingRuleDefinition::new(
                "oldPassword".into(),
                ValueType::String,
                MatchingRule::Regex(r"^.+$".into()),
                None,
                String::new(),
            )),
            MatchingRule::EachValue(MatchingRuleDefinition::new(
                example["oldPassword"].to_string(),
                ValueType::Unknown,
                MatchingRule::MinType(1),
                None,
                String::new(),
            )),
        ],
    )
}

fn example_user() -> UserId {
    EXAMPLE_USER.parse().unwrap()
}

#[rstest]
#[tokio::test]
async fn changes_the_password_when_the_old_one_is_right(pact_dir: PathBuf) {
    let server = builder(pact_dir)
        .interaction(
            "a request to change the password with the correct old password",
            "",
            |mut i| async move {
                i.given_with_params(
                    STATE_KNOWN_PASSWORD,
                    &state_params(EXAMPLE_OLD, EXAMPLE_NEW),
                );
                state_driven_request(&mut i.request, EXAMPLE_OLD, EXAMPLE_NEW, false);
                i.response
                    .status(200)
                    .header(
                        "Content-Type",
                        term!(JSON_CONTENT_TYPE_REGEX, "application/json; charset=utf-8"),
                    )
                    .json_body(json_pattern!({
                        "succeeded": true,
                        "errors": like!(json!([])),
                    }));
                i
            },
        )
        .await
        .start_mock_server_async(None, None)
        .await;

    let outcome = client_of(server.as_ref(), Some(EXAMPLE_TOKEN))
        .change_password(
            &example_user(),
            &ChangePassword::new(EXAMPLE_OLD, EXAMPLE_NEW),
        )
        .await
        .unwrap();

    assert_eq!(outcome, ChangePasswordOutcome::Changed);
}

#[rstest]
#[case::wrong_old_password(
    "a request to change the password with a wrong old password",
    STATE_WRONG_OLD_PASSWORD,
    EXAMPLE_WRONG_OLD,
    EXAMPLE_NEW,
    "PasswordMismatch",
    "Incorrect password."
)]
#[case::new_password_too_short(
    "a request to change the password to one that is too short",
    STATE_POLICY_VIOLATION,
    EXAMPLE_OLD,
    EXAMPLE_TOO_SHORT,
    "PasswordTooShort",
    "Passwords must be at least 8 characters."
)]
#[tokio::test]
async fn reports_the_identity_errors_of_a_refused_change(
    pact_dir: PathBuf,
    #[case] description: &'static str,
    #[case] state: &'static str,
    #[case] old: &'static str,
    #[case] new: &'static str,
    #[case] code: &'static str,
    #[case] text: &'static str,
) {
    let server = builder(pact_dir)
        .interaction(description, "", |mut i| async move {
            i.given_with_params(state, &state_params(old, new));
            state_driven_request(&mut i.request, old, new, false);
            i.response
                .status(400)
                .header(
                    "Content-Type",
                    term!(JSON_CONTENT_TYPE_REGEX, "application/json; charset=utf-8"),
                )
                .json_body(json_pattern!({
                    "succeeded": false,
                    "errors": each_like!({
                        "code": like!(code),
                        "description": like!(text),
                    }),
                }));
            i
        })
        .await
        .start_mock_server_async(None, None)
        .await;

    let outcome = client_of(server.as_ref(), Some(EXAMPLE_TOKEN))
        .change_password(&example_user(), &ChangePassword::new(old, new))
        .await
        .unwrap();

    match outcome.rejection() {
        Some(rejection) if rejection.status == 400 => {
            let errors = &rejection.errors;
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].code.as_deref(), Some(code));
            assert_eq!(errors[0].description.as_deref(), Some(text));
        }
        _ => panic!("expected a 400 rejection, got {outcome:?}"),
    }
}

#[rstest]
#[tokio::test]
async fn reports_the_validation_problem_of_a_body_that_cannot_bind(pact_dir: PathBuf) {
    let unbindable =
        json!({ "oldPassword": { "value": EXAMPLE_OLD }, "newPassword": [EXAMPLE_NEW] });
    let example_message = "Unexpected character encountered while parsing value: {. Path 'oldPassword', line 1, position 16.";
    let body = unbindable.clone();
    let server = builder(pact_dir)
        .interaction("a request to change the password with a body that cannot be bound", "", |mut i| async move {
            i.given_with_params(STATE_KNOWN_PASSWORD, &state_params(EXAMPLE_OLD, EXAMPLE_NEW));
            i.request
                .post()
                .path_from_provider_state(PATH_TEMPLATE, term!(PATH_REGEX, example_path()))
                .header("Authorization", term!(BEARER_REGEX, format!("Bearer {EXAMPLE_TOKEN}")))
                .header("Content-Type", "application/json")
                .json_body(body);
            i.response
                .status(400)
                .header("Content-Type", term!(JSON_CONTENT_TYPE_REGEX, "application/problem+json; charset=utf-8"))
                .json_body(json_pattern!({
                    "status": like!(400),
                    "title": like!("One or more validation errors occurred."),
                    "traceId": term!(TRACE_ID_REGEX, "00-aec3de9099a9934e9c31e26c19f5e0dd-8c0d3d5f476c7742-00"),
                    "errors": errors_map(example_message),
                }));
            i
        })
        .await
        .start_mock_server_async(None, None)
        .await;

    let outcome = client_of(server.as_ref(), Some(EXAMPLE_TOKEN))
        .send_change_password_body(&example_user(), &unbindable)
        .await
        .unwrap();

    match outcome {
        ChangePasswordOutcome::InvalidRequest(problem) => {
            assert_eq!(problem.status, Some(400));
            assert_eq!(problem.title, "One or more validation errors occurred.");
            assert!(problem.trace_id.is_some());
            assert_eq!(
                problem.errors["oldPassword"],
                vec![example_message.to_string()]
            );
        }
        other => panic!("expected a validation problem, got {other:?}"),
    }
}

#[rstest]
#[tokio::test]
async fn is_refused_without_a_bearer_token(pact_dir: PathBuf) {
    let server = builder(pact_dir)
        .interaction(
            "a request to change the password with no bearer token",
            "",
            |mut i| async move {
                i.given_with_params(
                    STATE_KNOWN_PASSWORD,
                    &state_params(EXAMPLE_OLD, EXAMPLE_NEW),
                );
                // No Authorization header at all: the verifier injects credentials
                // only where the pact's request has one, so against a real tenant
                // this still proves that anonymous calls are refused.
                state_driven_request(&mut i.request, EXAMPLE_OLD, EXAMPLE_NEW, true);
                i.response.status(401);
                i
            },
        )
        .await
        .start_mock_server_async(None, None)
        .await;

    let outcome = client_of(server.as_ref(), None)
        .change_password(
            &example_user(),
            &ChangePassword::new(EXAMPLE_OLD, EXAMPLE_NEW),
        )
        .await
        .unwrap();

    assert_eq!(outcome, ChangePasswordOutcome::Unauthorized);
}

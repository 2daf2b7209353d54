//! The change-password contract, one interaction per test, each driving the
//! real [`IdentityClient`] against the Pact mock server and asserting the
//! typed outcome the client gives, so the pact records exactly what the
//! client relies on.
//!
//! Every interaction names a provider state whose parameters say what the
//! provider sets up (`userId` and its current `password`) and what the
//! request sends (`oldPassword`, `newPassword`); the provider's values
//! replace the examples below when it verifies, so that any deployment
//! supplies its own user and passwords. The names come from
//! [`uipath_identity_client::contract`], never from copies.

use std::path::PathBuf;
use std::sync::LazyLock;

use pact_consumer::mock_server::StartMockServerAsync;
use pact_consumer::prelude::*;
use pact_consumer::{json_pattern, like, term};
use pact_models::generators::Generator;
use pact_models::matchingrules::expressions::{MatchingRuleDefinition, ValueType};
use pact_models::matchingrules::{MatchingRule, MatchingRuleCategory, RuleLogic};
use pact_models::pact::Pact;
use pact_models::path_exp::DocPath;
use pact_models::prelude::DataType;
use rstest::{fixture, rstest};
use serde_json::{Value, json};
use uipath_identity_client::contract::{
    CHANGES_THE_PASSWORD, CONSUMER, PARAM_NEW_PASSWORD, PARAM_OLD_PASSWORD, PARAM_PASSWORD,
    PARAM_USER_ID, POLICY_CODE_REGEX, PROVIDER, REFUSES_A_TOO_SHORT_PASSWORD,
    REFUSES_A_WRONG_OLD_PASSWORD, REFUSES_AN_ANONYMOUS_CALL, REFUSES_AN_UNBINDABLE_BODY,
    STATE_KNOWN_PASSWORD, STATE_POLICY_VIOLATION, STATE_WRONG_OLD_PASSWORD, pact_file_name,
};
use uipath_identity_client::outcome::{CODE_PASSWORD_MISMATCH, CODE_PASSWORD_TOO_SHORT};
use uipath_identity_client::{
    BaseUrl, BearerToken, ChangePassword, ChangePasswordOutcome, IdentityClient, IdentityPrefix,
    PolicyRule, UserId,
};

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

/// A state's parameters: the user to set up with its current `password`,
/// and the two passwords the request sends.
fn state_params(password: &str, old: &str, new: &str) -> Value {
    json!({
        PARAM_USER_ID: EXAMPLE_USER,
        PARAM_PASSWORD: password,
        PARAM_OLD_PASSWORD: old,
        PARAM_NEW_PASSWORD: new,
    })
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
        let file = dir.join(pact_file_name());
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
            Generator::ProviderStateGenerator(PARAM_OLD_PASSWORD.into(), Some(DataType::STRING)),
        )
        .body_generator(
            "$.newPassword",
            Generator::ProviderStateGenerator(PARAM_NEW_PASSWORD.into(), Some(DataType::STRING)),
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

/// `errors` of a refusing `IdentityResult`: at least one error, every one
/// with a `code` its rule accepts and a `description` of any text (tenants
/// localise and reword them). Hand-built because `each_like!` matches every
/// field by type, and the code is exactly what automation branches on.
#[derive(Debug)]
struct IdentityErrors {
    code: &'static str,
    code_rule: MatchingRule,
    description: &'static str,
}

impl IdentityErrors {
    /// Every error's code is `code`, exactly.
    fn exactly(code: &'static str, description: &'static str) -> Self {
        Self {
            code,
            code_rule: MatchingRule::Equality,
            description,
        }
    }

    /// Every error's code matches `regex`; `code` is the recorded example.
    fn matching(regex: &str, code: &'static str, description: &'static str) -> Self {
        Self {
            code,
            code_rule: MatchingRule::Regex(regex.into()),
            description,
        }
    }
}

impl Pattern for IdentityErrors {
    type Matches = Value;

    fn to_example(&self) -> Value {
        json!([{ "code": self.code, "description": self.description }])
    }

    fn to_example_bytes(&self) -> Vec<u8> {
        self.to_example().to_string().into_bytes()
    }

    fn extract_matching_rules(&self, path: DocPath, rules_out: &mut MatchingRuleCategory) {
        rules_out.add_rule(path.clone(), MatchingRule::MinType(1), RuleLogic::And);
        let mut code = path.clone();
        code.push_star_index().push_field("code");
        rules_out.add_rule(code, self.code_rule.clone(), RuleLogic::And);
        let mut description = path;
        description.push_star_index().push_field("description");
        rules_out.add_rule(description, MatchingRule::Type, RuleLogic::And);
    }
}

/// The 400 `IdentityResult` of a refused change, with `errors`.
fn refusal(response: &mut pact_consumer::builders::ResponseBuilder, errors: IdentityErrors) {
    response
        .status(400)
        .header(
            "Content-Type",
            term!(JSON_CONTENT_TYPE_REGEX, "application/json; charset=utf-8"),
        )
        .json_body(json_pattern!({
            "succeeded": false,
            "errors": JsonPattern::pattern(errors),
        }));
}

/// What a verifier finds wrong when the provider answers the pact's only
/// interaction with a 400 refusal carrying `code`: empty when the contract
/// accepts that answer. It proves a code is pinned by the pact's matchers,
/// not merely present in its example.
async fn mismatches_for_code(pact: &(dyn Pact + Send + Sync), code: &str) -> Vec<String> {
    let interaction = pact.interactions().remove(0);
    let expected = interaction
        .as_v4_http()
        .expect("an HTTP interaction")
        .response;
    let actual = pact_models::v4::http_parts::HttpResponse {
        status: 400,
        headers: Some(
            [(
                "Content-Type".to_owned(),
                vec!["application/json; charset=utf-8".to_owned()],
            )]
            .into(),
        ),
        body: json!({
            "succeeded": false,
            "errors": [{ "code": code, "description": "Some text." }],
        })
        .into(),
        ..Default::default()
    };
    pact_matching::match_response(expected, actual, &pact.boxed(), &interaction)
        .await
        .expect("the answer can be compared")
        .iter()
        .map(|m| m.description())
        .collect()
}

#[rstest]
#[tokio::test]
async fn changes_the_password_when_the_old_one_is_right(pact_dir: PathBuf) {
    let server = builder(pact_dir)
        .interaction(CHANGES_THE_PASSWORD, "", |mut i| async move {
            i.given_with_params(
                STATE_KNOWN_PASSWORD,
                &state_params(EXAMPLE_OLD, EXAMPLE_OLD, EXAMPLE_NEW),
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
        })
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
#[tokio::test]
async fn tells_a_wrong_old_password_by_its_exact_code(pact_dir: PathBuf) {
    let mut pact = builder(pact_dir);
    pact.interaction(REFUSES_A_WRONG_OLD_PASSWORD, "", |mut i| async move {
        i.given_with_params(
            STATE_WRONG_OLD_PASSWORD,
            &state_params(EXAMPLE_OLD, EXAMPLE_WRONG_OLD, EXAMPLE_NEW),
        );
        state_driven_request(&mut i.request, EXAMPLE_WRONG_OLD, EXAMPLE_NEW, false);
        refusal(
            &mut i.response,
            IdentityErrors::exactly(CODE_PASSWORD_MISMATCH, "Incorrect password."),
        );
        i
    })
    .await;
    let recorded = pact.build();
    let server = pact.start_mock_server_async(None, None).await;

    let outcome = client_of(server.as_ref(), Some(EXAMPLE_TOKEN))
        .change_password(
            &example_user(),
            &ChangePassword::new(EXAMPLE_WRONG_OLD, EXAMPLE_NEW),
        )
        .await
        .unwrap();

    match &outcome {
        ChangePasswordOutcome::WrongOldPassword(rejection) => {
            assert_eq!(rejection.status, 400);
            assert!(rejection.unknown_codes().is_empty(), "{outcome}");
        }
        other => panic!("expected a wrong old password, got {other:?}"),
    }
    // The code is pinned: a tenant that renames it breaks the contract.
    assert_eq!(
        mismatches_for_code(recorded.as_ref(), CODE_PASSWORD_MISMATCH).await,
        Vec::<String>::new()
    );
    for renamed in ["InvalidPassword", CODE_PASSWORD_TOO_SHORT] {
        let found = mismatches_for_code(recorded.as_ref(), renamed).await;
        assert!(
            found.iter().any(|m| m.contains(renamed)),
            "`{renamed}` must break the contract: {found:?}"
        );
    }
}

#[rstest]
#[tokio::test]
async fn tells_a_too_short_password_by_a_policy_code(pact_dir: PathBuf) {
    let mut pact = builder(pact_dir);
    pact.interaction(REFUSES_A_TOO_SHORT_PASSWORD, "", |mut i| async move {
        i.given_with_params(
            STATE_POLICY_VIOLATION,
            &state_params(EXAMPLE_OLD, EXAMPLE_OLD, EXAMPLE_TOO_SHORT),
        );
        state_driven_request(&mut i.request, EXAMPLE_OLD, EXAMPLE_TOO_SHORT, false);
        refusal(
            &mut i.response,
            IdentityErrors::matching(
                POLICY_CODE_REGEX,
                CODE_PASSWORD_TOO_SHORT,
                "Passwords must be at least 8 characters.",
            ),
        );
        i
    })
    .await;
    let recorded = pact.build();
    let server = pact.start_mock_server_async(None, None).await;

    let outcome = client_of(server.as_ref(), Some(EXAMPLE_TOKEN))
        .change_password(
            &example_user(),
            &ChangePassword::new(EXAMPLE_OLD, EXAMPLE_TOO_SHORT),
        )
        .await
        .unwrap();

    match &outcome {
        ChangePasswordOutcome::PolicyViolation { rules, rejection } => {
            assert_eq!(
                rules,
                &[PolicyRule::TooShort {
                    min_length: Some(8)
                }]
            );
            assert_eq!(rejection.status, 400);
            assert!(rejection.unknown_codes().is_empty(), "{outcome}");
        }
        other => panic!("expected a policy violation, got {other:?}"),
    }
    // Any code of the policy family is accepted; anything else, including
    // the wrong-old-password code and a renamed length code, is not.
    for policy in [CODE_PASSWORD_TOO_SHORT, "PasswordRequiresDigit"] {
        assert_eq!(
            mismatches_for_code(recorded.as_ref(), policy).await,
            Vec::<String>::new(),
            "`{policy}` must be accepted"
        );
    }
    for other in ["PasswordLength", CODE_PASSWORD_MISMATCH] {
        let found = mismatches_for_code(recorded.as_ref(), other).await;
        assert!(
            found.iter().any(|m| m.contains(other)),
            "`{other}` must break the contract: {found:?}"
        );
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
        .interaction(REFUSES_AN_UNBINDABLE_BODY, "", |mut i| async move {
            i.given_with_params(STATE_KNOWN_PASSWORD, &state_params(EXAMPLE_OLD, EXAMPLE_OLD, EXAMPLE_NEW));
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
        .interaction(REFUSES_AN_ANONYMOUS_CALL, "", |mut i| async move {
            i.given_with_params(
                STATE_KNOWN_PASSWORD,
                &state_params(EXAMPLE_OLD, EXAMPLE_OLD, EXAMPLE_NEW),
            );
            // No Authorization header at all: the verifier injects credentials
            // only where the pact's request has one, so against a real tenant
            // this still proves that anonymous calls are refused.
            state_driven_request(&mut i.request, EXAMPLE_OLD, EXAMPLE_NEW, true);
            i.response.status(401);
            i
        })
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

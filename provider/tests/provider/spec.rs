//! `orchestrator-pact check-spec`, run as a user runs it, against spec
//! fixtures written for these tests and pact copies broken on purpose.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use rstest::rstest;
use serde_json::{Value, json};
use uipath_identity_client::contract::{
    CHANGES_THE_PASSWORD, REFUSES_A_TOO_SHORT_PASSWORD, REFUSES_A_WRONG_OLD_PASSWORD,
    REFUSES_AN_ANONYMOUS_CALL, REFUSES_AN_UNBINDABLE_BODY,
};

use crate::fixtures::{
    Run, ScratchDir, committed_pact, orchestrator_pact, orchestrator_pact_in,
    orchestrator_pact_with_env, pacts,
};

const TOO_SHORT: &str = REFUSES_A_TOO_SHORT_PASSWORD;
const UNBINDABLE: &str = REFUSES_AN_UNBINDABLE_BODY;
const WRONG_OLD: &str = REFUSES_A_WRONG_OLD_PASSWORD;
const NO_TOKEN: &str = REFUSES_AN_ANONYMOUS_CALL;
const SUCCESS: &str = CHANGES_THE_PASSWORD;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spec")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn openapi_3() -> String {
    fixture("identity-users-openapi-3.0.yaml")
}

fn swagger_2() -> String {
    fixture("identity-users-swagger-2.0.json")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The committed pact with only the interaction `description`, changed by
/// `breaks`, written to a scratch file.
fn broken_pact(description: &str, breaks: impl FnOnce(&mut Value)) -> (ScratchDir, String) {
    let mut pact = committed_pact();
    let interactions = pact["interactions"].as_array_mut().unwrap();
    interactions.retain(|i| i["description"] == description);
    assert_eq!(interactions.len(), 1, "the pact has `{description}`");
    breaks(&mut interactions[0]);
    let dir = ScratchDir::new();
    let path = write(&dir, "broken.json", &pact.to_string());
    (dir, path)
}

async fn check_spec(spec: &str, pacts: &str, more: &[&str]) -> Run {
    let mut args = vec!["check-spec", "--spec", spec, "--pacts", pacts];
    args.extend_from_slice(more);
    orchestrator_pact(args).await
}

fn assert_compatible_with_two_known_divergences(run: &Run) {
    assert_eq!(run.code, 0, "{run}");
    for ok in [TOO_SHORT, WRONG_OLD, SUCCESS] {
        assert!(
            run.stdout.contains(&format!(
                "  ok      {ok} (POST /api/User/{{userId}}/changepassword"
            )),
            "{ok}: {run}"
        );
    }
    for warned in [UNBINDABLE, NO_TOKEN] {
        assert!(
            run.stdout.contains(&format!("  WARN    {warned}")),
            "{warned}: {run}"
        );
    }
    assert!(
        run.stdout
            .contains("[known divergence `unbindable-body-problem-details`]"),
        "{run}"
    );
    assert!(
        run.stdout.contains("warning: response.status: the spec declares 200, 400 for `POST /api/User/{userId}/changepassword`, not 401 [known divergence `unauthenticated-401`]"),
        "{run}"
    );
    assert!(
        run.stdout.contains("5 interactions: 3 compatible, 2 compatible with known divergences (warnings), 0 incompatible: the pacts are compatible with the spec"),
        "{run}"
    );
}

#[rstest]
#[case::openapi_3_yaml(openapi_3())]
#[case::swagger_2_json(swagger_2())]
#[tokio::test]
async fn the_committed_pacts_are_compatible_with_known_divergences_as_warnings(
    #[case] spec: String,
) {
    let run = check_spec(&spec, &pacts(), &[]).await;
    assert_compatible_with_two_known_divergences(&run);
}

#[tokio::test]
async fn the_401_without_a_token_is_accepted_with_a_note_saying_why() {
    let run = check_spec(&openapi_3(), &pacts(), &[]).await;
    assert!(
        run.stdout.contains("note: sent without the credentials the operation requires (an `Authorization: Bearer …` header (`Jwt`)): accepted, the interaction expects 401"),
        "{run}"
    );
    assert!(
        run.stdout.contains("note: the request body does not match the spec's schema (`$.newPassword`: expected string or null, the pact has an array of 1 item;"),
        "{run}"
    );
}

#[tokio::test]
async fn without_the_divergence_list_the_divergences_are_errors() {
    let dir = ScratchDir::new();
    let empty = write(&dir, "none.toml", "");
    let run = check_spec(&openapi_3(), &pacts(), &["--divergences", &empty]).await;
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.contains(&format!("  FAILED  {UNBINDABLE}")),
        "{run}"
    );
    assert!(
        run.stdout.contains(&format!("  FAILED  {NO_TOKEN}")),
        "{run}"
    );
    assert!(
        run.stdout.contains(
            "- response.body: `$.errors`: expected array or null, the pact has an object"
        ),
        "{run}"
    );
    assert!(
        run.stdout.contains("- response.status: the spec declares 200, 400 for `POST /api/User/{userId}/changepassword`, not 401"),
        "{run}"
    );
    assert!(
        run.stdout.contains(
            "3 compatible, 0 compatible with known divergences (warnings), 2 incompatible"
        ),
        "{run}"
    );
}

/// Sets (or adds) the value at a JSON pointer into the interaction.
fn set(pointer: &str, value: Value) -> impl FnOnce(&mut Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
    let (parent, key) = (parent.to_owned(), key.replace("~1", "/").replace("~0", "~"));
    move |i: &mut Value| {
        let parent = i.pointer_mut(&parent).expect("the parent exists");
        match parent {
            Value::Object(map) => {
                map.insert(key, value);
            }
            other => panic!("not an object: {other}"),
        }
    }
}

#[rstest]
#[case::a_wrong_path(
    SUCCESS,
    set("/request/path", json!("/identity_/api/Users/5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b/changepassword")),
    "- path.unknown: no path of the spec matches `/api/Users/5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b/changepassword`"
)]
#[case::a_wrong_method(
    SUCCESS,
    set("/request/method", json!("PUT")),
    "- method.unknown: the spec declares `/api/User/{userId}/changepassword` for POST, not for PUT"
)]
#[case::a_user_id_that_is_not_a_uuid(
    SUCCESS,
    set("/request/path", json!("/identity_/api/User/har-3107/changepassword")),
    "- path.parameter: the path parameter `userId`: \"har-3107\" is not a uuid (the spec's `format: uuid`)"
)]
#[case::a_string_where_the_spec_says_boolean(
    SUCCESS,
    set("/response/body/content/succeeded", json!("true")),
    "- response.body: `$.succeeded`: expected boolean, the pact has the string \"true\""
)]
#[case::an_undeclared_status(
    SUCCESS,
    set("/response/status", json!(201)),
    "- response.status: the spec declares 200, 400 for `POST /api/User/{userId}/changepassword`, not 201"
)]
#[case::a_property_the_spec_never_promised(
    SUCCESS,
    set("/response/body/content/userName", json!("someone")),
    "- response.body: `$.userName`: the pact expects a property the spec does not declare (the API never promised it)"
)]
#[case::a_missing_required_request_field(
    SUCCESS,
    |i: &mut Value| {
        i["request"]["body"]["content"].as_object_mut().unwrap().remove("newPassword");
        i["request"]["generators"]["body"].as_object_mut().unwrap().remove("$.newPassword");
    },
    "- request.body: `$`: the spec requires the property `newPassword`, the pact has none"
)]
#[case::a_number_where_the_spec_says_string(
    SUCCESS,
    set("/request/body/content/oldPassword", json!(12345678)),
    "- request.body: `$.oldPassword`: expected string or null, the pact has the number 12345678"
)]
#[case::no_token_on_a_call_that_expects_success(
    SUCCESS,
    |i: &mut Value| { i["request"]["headers"].as_object_mut().unwrap().remove("Authorization"); },
    "- security: the operation requires an `Authorization: Bearer …` header (`Jwt`), the request has none"
)]
#[case::a_matcher_that_allows_what_the_spec_does_not(
    SUCCESS,
    set("/response/matchingRules/body/$.errors[*].code", json!({ "combine": "AND", "matchers": [ { "match": "integer" } ] })),
    "- response.body: `$.errors[*].code`: the pact's `integer` matcher accepts only integer, the spec declares string or null"
)]
#[case::a_regex_matcher_on_a_boolean(
    SUCCESS,
    |i: &mut Value| {
        i["response"]["body"]["content"]["succeeded"] = json!("yes");
        i["response"]["matchingRules"]["body"]["$.succeeded"] =
            json!({ "combine": "AND", "matchers": [ { "match": "regex", "regex": "^(yes|no)$" } ] });
    },
    "- response.body: `$.succeeded`: the pact's `regex` matcher accepts only string, the spec declares boolean"
)]
#[case::a_content_type_the_spec_does_not_declare(
    SUCCESS,
    |i: &mut Value| {
        i["response"]["headers"]["Content-Type"] = json!(["text/plain"]);
        i["response"]["matchingRules"]["header"] = json!({});
    },
    "- response.content-type: the pact expects `text/plain`, the spec declares `application/json` for 200"
)]
#[case::the_declared_400_shape_broken_is_not_excused(
    WRONG_OLD,
    set("/response/body/content/succeeded", json!("false")),
    "- response.body: `$.succeeded`: expected boolean, the pact has the string \"false\""
)]
#[case::a_401_that_expects_a_body(
    NO_TOKEN,
    set("/response/body", json!({ "content": { "message": "no" }, "contentType": "application/json", "encoded": false })),
    "- response.body: the pact expects a body with 401, a status for which the spec declares nothing"
)]
#[tokio::test]
async fn a_pact_broken_on_purpose_is_incompatible_and_the_finding_is_named(
    #[case] description: &str,
    #[case] breaks: impl FnOnce(&mut Value),
    #[case] finding: &str,
    #[values(openapi_3(), swagger_2())] spec: String,
) {
    let (_dir, pact) = broken_pact(description, breaks);
    let run = check_spec(&spec, &pact, &[]).await;
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.contains(&format!("  FAILED  {description}")),
        "{run}"
    );
    // Swagger 2.0 names its schemes otherwise; the rest reads the same.
    let finding = if spec.ends_with(".json") {
        finding.replace(
            "an `Authorization: Bearer …` header (`Jwt`)",
            "the header `Authorization` (`Jwt`)",
        )
    } else {
        finding.to_owned()
    };
    assert!(
        run.stdout.contains(&finding),
        "expected `{finding}` in:{run}"
    );
    assert!(
        run.stdout
            .contains("1 incompatible: the pacts ask for something the spec does not declare"),
        "{run}"
    );
}

#[tokio::test]
async fn a_path_without_the_identity_prefix_given_is_a_finding() {
    let run = check_spec(&openapi_3(), &pacts(), &["--identity-prefix", "identity"]).await;
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.contains("- path.prefix: the path `/identity_/api/User/5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b/changepassword` does not start with the Identity prefix `/identity/`"),
        "{run}"
    );
    assert!(
        run.stdout.contains(
            "0 compatible, 0 compatible with known divergences (warnings), 5 incompatible"
        ),
        "{run}"
    );
}

#[tokio::test]
async fn the_json_report_names_each_finding_and_what_excused_it() {
    let dir = ScratchDir::new();
    let report = dir.join("report.json");
    let run = check_spec(
        &openapi_3(),
        &pacts(),
        &["--json", &report.to_string_lossy()],
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["compatible"], true);
    let no_token = json["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["description"] == NO_TOKEN)
        .expect("the 401 interaction is reported");
    assert_eq!(no_token["findings"][0]["check"], "response.status");
    assert_eq!(no_token["findings"][0]["excused_by"], "unauthenticated-401");
}

#[rstest]
#[case::a_missing_file(
    vec!["check-spec", "--spec", "no/such/spec.yaml"],
    "the spec `no/such/spec.yaml` does not exist"
)]
#[case::not_a_url(
    vec!["check-spec", "--spec", "ftp://example.invalid/spec.json"],
    "is not a usable spec URL (the scheme `ftp` is not http or https)"
)]
#[case::missing_pacts(
    vec!["check-spec", "--spec", "provider/tests/fixtures/spec/identity-users-openapi-3.0.yaml", "--pacts", "no/such/pacts"],
    "`no/such/pacts` does not exist"
)]
#[case::an_unknown_prefix(
    vec!["check-spec", "--spec", "provider/tests/fixtures/spec/identity-users-openapi-3.0.yaml", "--identity-prefix", "idp"],
    "idp"
)]
#[case::no_spec_at_all(
    vec!["check-spec"],
    "no OpenAPI document to check against: pass `--spec FILE|URL`"
)]
#[tokio::test]
async fn what_cannot_be_checked_exits_2_and_says_why(
    #[case] args: Vec<&str>,
    #[case] message: &str,
) {
    let run = orchestrator_pact(args).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains(message),
        "expected `{message}` in:{run}"
    );
    assert!(run.stdout.is_empty(), "{run}");
}

#[rstest]
#[case::not_json_nor_yaml(
    "spec.yaml",
    "openapi: [3.0\n  : {",
    "cannot be parsed: neither JSON nor valid YAML"
)]
#[case::broken_json("spec.json", "{ \"openapi\": ", "cannot be parsed: invalid JSON")]
#[case::not_openapi(
    "spec.yaml",
    "name: not an API\n",
    "is not an OpenAPI 3.0 or Swagger 2.0 document this can read"
)]
#[case::an_unsupported_version(
    "spec.json",
    "{\"swagger\": \"1.2\", \"paths\": {}}",
    "`swagger: 1.2` is not a version this reads"
)]
#[case::a_dangling_ref(
    "spec.yaml",
    "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /api/User/{userId}/changepassword:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/Gone'}\n      responses:\n        '200': {description: ok}\n        '400': {description: no}\n",
    "the spec's `$ref` `#/components/schemas/Gone` cannot be followed"
)]
#[case::a_schema_json_schema_refuses(
    "spec.yaml",
    "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /api/User/{userId}/changepassword:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/Change'}\n      responses:\n        '200': {description: ok}\n        '400': {description: no}\ncomponents:\n  schemas:\n    Change: {type: object, minProperties: -1}\n",
    "the spec's schema `#/components/schemas/Change` is not one JSON Schema allows: `/minProperties`"
)]
#[tokio::test]
async fn an_unusable_spec_exits_2_and_names_the_problem(
    #[case] name: &str,
    #[case] text: &str,
    #[case] message: &str,
) {
    let dir = ScratchDir::new();
    let spec = write(&dir, name, text);
    let run = check_spec(&spec, &pacts(), &[]).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains(message),
        "expected `{message}` in:{run}"
    );
}

/// Serves `body` at `/myorg/identity_/swagger/external/swagger.json` on
/// 127.0.0.1; other paths get 404.
async fn serve_spec(body: String) -> SocketAddr {
    let app = axum::Router::new().route(
        "/myorg/identity_/swagger/external/swagger.json",
        axum::routing::get(move || {
            let body = body.clone();
            async move { body }
        }),
    );
    crate::doubles::serve(app).await
}

#[tokio::test]
async fn reads_the_spec_from_a_url_as_a_tenant_serves_it() {
    let text = std::fs::read_to_string(swagger_2()).unwrap();
    let addr = serve_spec(text).await;
    let url = format!("http://{addr}/myorg/identity_/swagger/external/swagger.json");
    let run = check_spec(&url, &pacts(), &[]).await;
    assert_compatible_with_two_known_divergences(&run);
    assert!(
        run.stdout.contains(&format!("(Swagger 2.0) from {url}")),
        "{run}"
    );
}

#[tokio::test]
async fn a_url_that_answers_404_exits_2() {
    let addr = serve_spec("{}".into()).await;
    let url = format!("http://{addr}/otherorg/identity_/swagger/external/swagger.json");
    let run = check_spec(&url, &pacts(), &[]).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains("answered 404 Not Found: check the organization in the URL"),
        "{run}"
    );
}

#[tokio::test]
async fn an_unreachable_url_exits_2() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/swagger.json");
    let run = check_spec(&url, &pacts(), &["--request-timeout", "5000"]).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains(&format!("could not fetch the spec from `{url}`")),
        "{run}"
    );
}

#[tokio::test]
async fn the_spec_can_come_from_the_environment() {
    let run = orchestrator_pact_with_env(
        ["check-spec", "--pacts", &pacts()],
        &[("ORCHESTRATOR_PACT_SPEC", &openapi_3())],
    )
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("Identity users (test fixture) 1.0.0 (OpenAPI 3.0.3)"),
        "{run}"
    );
}

#[tokio::test]
async fn a_password_or_token_in_the_spec_url_is_shown_masked_in_every_output() {
    let text = std::fs::read_to_string(swagger_2()).unwrap();
    let addr = serve_spec(text).await;
    let dir = ScratchDir::new();
    let report = dir.join("report.json");
    let path = "myorg/identity_/swagger/external/swagger.json";
    let url = format!("http://ci:Pa55-w0rd-9q@{addr}/{path}?access_token=t0k3n-Zq81x");
    let run = check_spec(&url, &pacts(), &["--json", &report.to_string_lossy()]).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains(&format!(
            "from http://ci:***@{addr}/{path}?access_token=***"
        )),
        "{run}"
    );
    let json = std::fs::read_to_string(&report).unwrap();
    for secret in ["Pa55-w0rd-9q", "t0k3n-Zq81x"] {
        assert!(!run.stdout.contains(secret), "{run}");
        assert!(!run.stderr.contains(secret), "{run}");
        assert!(!json.contains(secret), "{json}");
    }
}

#[tokio::test]
async fn a_token_in_a_spec_url_from_the_environment_is_masked_in_its_error() {
    let addr = serve_spec("{}".into()).await;
    let url = format!(
        "http://{addr}/otherorg/identity_/swagger/external/swagger.json?access_token=t0k3n-Zq81x"
    );
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_orchestrator-pact"))
        .args(["check-spec", "--pacts", &pacts()])
        .env("PACT_DO_NOT_TRACK", "true")
        .env("ORCHESTRATOR_PACT_SPEC", &url)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("swagger.json?access_token=***` answered 404 Not Found"),
        "{stderr}"
    );
    assert!(!stderr.contains("t0k3n-Zq81x"), "{stderr}");
}

/// The fixture with `text` put after the line `after` (which must be in it).
fn openapi_3_with(dir: &Path, after: &str, text: &str) -> String {
    let fixture = std::fs::read_to_string(openapi_3()).unwrap();
    assert!(fixture.contains(after), "the fixture has `{after}`");
    write(
        dir,
        "spec.yaml",
        &fixture.replacen(after, &format!("{after}{text}"), 1),
    )
}

/// `$id` and `$schema` name a resource a JSON Schema crate would load; a
/// spec is untrusted input, so check-spec leaves them out and reads no file.
#[tokio::test]
async fn a_schema_that_names_a_file_to_load_is_checked_without_reading_it() {
    let dir = ScratchDir::new();
    let spec = openapi_3_with(
        &dir,
        "    PasswordChange:\n",
        "      $schema: 'file:///etc/passwd'\n      $id: 'file:///etc/hostname'\n",
    );
    let run = check_spec(&spec, &pacts(), &[]).await;
    assert_compatible_with_two_known_divergences(&run);
}

/// Checked since the hand-written validator gave way to a JSON Schema
/// crate: `maxProperties` (ignored before) holds for a pact's example too.
#[tokio::test]
async fn a_keyword_the_old_validator_ignored_is_a_finding_now() {
    let dir = ScratchDir::new();
    let spec = openapi_3_with(&dir, "    PasswordChange:\n", "      maxProperties: 1\n");
    let (_dir, pact) = broken_pact(SUCCESS, |_| {});
    let run = check_spec(&spec, &pact, &[]).await;
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout
            .contains("- request.body: `$`: 2 properties, the spec allows at most 1"),
        "{run}"
    );
}

/// Outside a checkout there is no `pacts/`: check-spec checks the contract
/// built into the binary, and says so in one line (issue 22.6).
#[tokio::test]
async fn outside_a_checkout_the_built_in_contract_is_checked_and_said_so() {
    const SAID: &str = "pacts: the contract built into this binary, since there is no `pacts/` folder here (`--pacts PATH` checks others; `orchestrator-pact pacts --out DIR` writes it out)";
    let empty = ScratchDir::new();
    let run = orchestrator_pact_in(&empty, ["check-spec", "--spec", &openapi_3()]).await;
    assert_compatible_with_two_known_divergences(&run);
    assert!(run.stdout.contains(SAID), "{run}");
    assert!(run.stdout.contains("(built-in:"), "{run}");
    let in_checkout = check_spec(&openapi_3(), &pacts(), &[]).await;
    assert!(!in_checkout.stdout.contains(SAID), "{in_checkout}");
}

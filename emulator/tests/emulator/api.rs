//! The Identity emulator over real sockets: its answers, its provider
//! states, and its refusal of hostile input without a 5xx.

use rstest::rstest;
use serde_json::{Value, json};
use uipath_identity_client::contract::{
    PARAM_NEW_PASSWORD, PARAM_OLD_PASSWORD, PARAM_PASSWORD, PARAM_USER_ID, STATE_KNOWN_PASSWORD,
    STATE_POLICY_VIOLATION, STATE_WRONG_OLD_PASSWORD,
};
use uipath_identity_client::{
    BaseUrl, BearerToken, ChangePassword, ChangePasswordOutcome, IdentityClient, IdentityPrefix,
    PolicyRule, UserId,
};
use uipath_identity_emulator::EmulatorConfig;

use crate::fixtures::{http, setup_state, setup_state_with, start_emulator};

fn client(base: &str, prefix: IdentityPrefix, token: Option<&str>) -> IdentityClient {
    IdentityClient::new(
        BaseUrl::parse(base, prefix).unwrap(),
        token.map(BearerToken::from),
    )
    .unwrap()
}

fn values(v: &Value) -> (UserId, String, String) {
    (
        v[PARAM_USER_ID].as_str().unwrap().parse().unwrap(),
        v[PARAM_OLD_PASSWORD].as_str().unwrap().to_owned(),
        v[PARAM_NEW_PASSWORD].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn changes_the_password_and_then_refuses_the_old_one() {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let (user, old, new) = values(&setup_state(&emulator.url(), STATE_KNOWN_PASSWORD).await);
    let api = client(&emulator.url(), IdentityPrefix::Cloud, Some("any"));

    let first = api
        .change_password(&user, &ChangePassword::new(old.as_str(), new.as_str()))
        .await
        .unwrap();
    assert_eq!(first, ChangePasswordOutcome::Changed);

    let again = api
        .change_password(&user, &ChangePassword::new(old.as_str(), "Another-0ne"))
        .await
        .unwrap();
    assert_eq!(again.error_codes(), ["PasswordMismatch"]);

    let with_new = api
        .change_password(&user, &ChangePassword::new(new.as_str(), "Another-0ne"))
        .await
        .unwrap();
    assert_eq!(with_new, ChangePasswordOutcome::Changed);
}

#[rstest]
#[case::cloud_root("", IdentityPrefix::Cloud)]
#[case::cloud_org("/myorg/", IdentityPrefix::Cloud)]
#[case::cloud_tenant("/myorg/mytenant/", IdentityPrefix::Cloud)]
#[case::standalone_root("", IdentityPrefix::Standalone)]
#[case::standalone_org("/myorg/", IdentityPrefix::Standalone)]
#[case::standalone_tenant("/myorg/mytenant/", IdentityPrefix::Standalone)]
#[tokio::test]
async fn serves_the_call_under_every_prefix(
    #[case] base_path: &str,
    #[case] prefix: IdentityPrefix,
) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let (user, old, new) = values(&setup_state(&emulator.url(), STATE_KNOWN_PASSWORD).await);
    let api = client(
        &format!("{}{base_path}", emulator.url()),
        prefix,
        Some("any"),
    );
    let outcome = api
        .change_password(&user, &ChangePassword::new(old, new))
        .await
        .unwrap();
    assert_eq!(outcome, ChangePasswordOutcome::Changed);
}

#[tokio::test]
async fn reports_every_policy_violation_with_identity_codes() {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let (user, old, _) = values(&setup_state(&emulator.url(), STATE_KNOWN_PASSWORD).await);
    let api = client(&emulator.url(), IdentityPrefix::Cloud, Some("any"));
    let outcome = api
        .change_password(&user, &ChangePassword::new(old, "ABC"))
        .await
        .unwrap();
    assert_eq!(
        outcome.error_codes(),
        [
            "PasswordTooShort",
            "PasswordRequiresDigit",
            "PasswordRequiresLower"
        ]
    );
    // The client reads each rule, with the minimum the emulator's text names.
    match &outcome {
        ChangePasswordOutcome::PolicyViolation { rules, .. } => assert_eq!(
            rules,
            &[
                PolicyRule::TooShort {
                    min_length: Some(8)
                },
                PolicyRule::RequiresDigit,
                PolicyRule::RequiresLower,
            ]
        ),
        other => panic!("expected a policy violation, got {other:?}"),
    }
}

#[rstest]
#[case::wrong_old_password(STATE_WRONG_OLD_PASSWORD, "PasswordMismatch")]
#[case::policy_violation(STATE_POLICY_VIOLATION, "PasswordTooShort")]
#[tokio::test]
async fn provider_states_supply_values_that_produce_their_answer(
    #[case] state: &str,
    #[case] code: &str,
) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let (user, old, new) = values(&setup_state(&emulator.url(), state).await);
    let api = client(&emulator.url(), IdentityPrefix::Cloud, Some("any"));
    let outcome = api
        .change_password(&user, &ChangePassword::new(old, new))
        .await
        .unwrap();
    assert_eq!(
        outcome.rejection().map(|r| r.status),
        Some(400),
        "{outcome:?}"
    );
    assert_eq!(outcome.error_codes(), [code]);
}

/// The answer names the user's current password too, so a state handler
/// or another consumer's pact (`${password}`) need not guess it.
#[rstest]
#[case::known_password(STATE_KNOWN_PASSWORD)]
#[case::wrong_old_password(STATE_WRONG_OLD_PASSWORD)]
#[case::policy_violation(STATE_POLICY_VIOLATION)]
#[tokio::test]
async fn provider_states_answer_with_the_users_current_password(#[case] state: &str) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let params = json!({
        PARAM_USER_ID: "5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b",
        PARAM_PASSWORD: "Old-passw0rd",
        PARAM_OLD_PASSWORD: if state == STATE_WRONG_OLD_PASSWORD { "Wrong-passw0rd" } else { "Old-passw0rd" },
        PARAM_NEW_PASSWORD: "New-passw0rd",
    });
    let (status, answer) = setup_state_with(&emulator.url(), state, params).await;
    assert_eq!(status, 200, "{answer}");
    let (user, old, _) = values(&answer);
    let current = answer[PARAM_PASSWORD]
        .as_str()
        .expect("`password` is answered");
    assert_eq!(
        old == current,
        state != STATE_WRONG_OLD_PASSWORD,
        "{answer}"
    );
    // It is the user's password: a change from it succeeds.
    let outcome = client(&emulator.url(), IdentityPrefix::Cloud, Some("any"))
        .change_password(&user, &ChangePassword::new(current, "Another-passw0rd"))
        .await
        .unwrap();
    assert_eq!(outcome, ChangePasswordOutcome::Changed);
}

/// Pacts recorded before `password` existed, and verifiers that send no
/// parameters at all, still get their state (a regression guard: the
/// original code passes it too).
#[rstest]
#[case::no_params_key(None)]
#[case::params_without_password(Some(json!({
    PARAM_USER_ID: "5a8f3c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b",
    PARAM_OLD_PASSWORD: "Wrong-passw0rd",
    PARAM_NEW_PASSWORD: "New-passw0rd",
})))]
#[tokio::test]
async fn an_old_style_state_request_without_a_password_still_works(#[case] params: Option<Value>) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let mut body = json!({ "state": STATE_WRONG_OLD_PASSWORD, "action": "setup" });
    if let Some(params) = params {
        body["params"] = params;
    }
    let response = http()
        .post(format!("{}/_pact/provider-states", emulator.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (user, old, new) = values(&response.json().await.unwrap());
    let outcome = client(&emulator.url(), IdentityPrefix::Cloud, Some("any"))
        .change_password(&user, &ChangePassword::new(old, new))
        .await
        .unwrap();
    assert!(
        matches!(outcome, ChangePasswordOutcome::WrongOldPassword(_)),
        "{outcome:?}"
    );
}

/// A pact whose parameters say the opposite of its state name cannot be
/// verified meaningfully: refused with a 400 that names the state and the
/// parameters, and never quotes the passwords.
#[rstest]
#[case::wrong_state_sending_the_current_password(
    STATE_WRONG_OLD_PASSWORD,
    "Old-passw0rd",
    "different from"
)]
#[case::known_state_sending_another_password(STATE_KNOWN_PASSWORD, "Other-passw0rd", "equal to")]
#[tokio::test]
async fn refuses_state_parameters_that_contradict_their_state(
    #[case] state: &str,
    #[case] old: &str,
    #[case] needs: &str,
) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let params = json!({ PARAM_PASSWORD: "Old-passw0rd", PARAM_OLD_PASSWORD: old, PARAM_NEW_PASSWORD: "New-passw0rd" });
    let (status, answer) = setup_state_with(&emulator.url(), state, params).await;
    assert_eq!(status, 400, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains(state) && error.contains(needs), "{error}");
    assert!(
        !error.contains("passw0rd"),
        "a password was quoted: {error}"
    );
    assert!(
        emulator.emulator.store.is_empty(),
        "a user was set up anyway"
    );
}

#[tokio::test]
async fn teardown_removes_the_user_its_setup_created() {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    setup_state(&emulator.url(), STATE_KNOWN_PASSWORD).await;
    assert_eq!(emulator.emulator.store.len(), 1);
    let response = http()
        .post(format!("{}/_pact/provider-states", emulator.url()))
        .json(&json!({ "state": STATE_KNOWN_PASSWORD, "params": {}, "action": "teardown" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(emulator.emulator.store.is_empty());
}

#[tokio::test]
async fn refuses_an_unknown_provider_state_and_names_the_known_ones() {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let response = http()
        .post(format!("{}/_pact/provider-states", emulator.url()))
        .json(&json!({ "state": "the moon is full", "action": "setup" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("the moon is full") && error.contains(STATE_KNOWN_PASSWORD),
        "{error}"
    );
}

#[tokio::test]
async fn answers_401_with_a_bearer_challenge_and_no_body() {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let (user, old, new) = values(&setup_state(&emulator.url(), STATE_KNOWN_PASSWORD).await);
    let response = http()
        .post(format!(
            "{}/identity_/api/User/{user}/changepassword",
            emulator.url()
        ))
        .json(&json!({ "oldPassword": old, "newPassword": new }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn only_configured_tokens_are_accepted_when_there_are_some() {
    let emulator = start_emulator(EmulatorConfig {
        tokens: vec!["good-token".into()],
        ..EmulatorConfig::default()
    })
    .await;
    let (user, old, new) = values(&setup_state(&emulator.url(), STATE_KNOWN_PASSWORD).await);
    let bad = client(&emulator.url(), IdentityPrefix::Cloud, Some("bad-token"));
    let command = ChangePassword::new(old, new);
    assert_eq!(
        bad.change_password(&user, &command).await.unwrap(),
        ChangePasswordOutcome::Unauthorized
    );
    let good = client(&emulator.url(), IdentityPrefix::Cloud, Some("good-token"));
    assert_eq!(
        good.change_password(&user, &command).await.unwrap(),
        ChangePasswordOutcome::Changed
    );
}

/// A hostile request: method, path (after the base), content type, body.
struct Hostile {
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn post_json(body: impl Into<Vec<u8>>) -> Hostile {
    Hostile {
        method: "POST",
        path: "/identity_/api/User/{user}/changepassword".into(),
        content_type: Some("application/json"),
        body: body.into(),
    }
}

#[rstest]
#[case::wrong_content_type(Hostile { content_type: Some("text/plain"), ..post_json("{}") }, 415, "Unsupported Media Type")]
#[case::no_content_type(Hostile { content_type: None, ..post_json("{}") }, 415, "no Content-Type")]
#[case::form_body(Hostile { content_type: Some("application/x-www-form-urlencoded"), ..post_json("a=b") }, 415, "Unsupported")]
#[case::enormous_body(post_json(vec![b' '; 70 * 1024]), 413, "larger than")]
#[case::empty_body(post_json(""), 400, "non-empty request body")]
#[case::truncated_json(post_json(r#"{"oldPassword": "abc"#), 400, "Invalid JSON")]
#[case::not_json(post_json("hello"), 400, "Invalid JSON")]
#[case::invalid_utf8(post_json(b"{\"oldPassword\": \"\xff\xfe\"}".to_vec()), 400, "not valid UTF-8")]
#[case::array_body(post_json("[1,2]"), 400, "JSON array")]
#[case::object_for_string(
    post_json(r#"{"oldPassword": {"a": 1}, "newPassword": "x"}"#),
    400,
    "Path 'oldPassword'"
)]
#[case::array_for_string(
    post_json(r#"{"oldPassword": "x", "newPassword": ["y"]}"#),
    400,
    "Path 'newPassword'"
)]
#[case::unknown_field(
    post_json(r#"{"oldPassword": "x", "newPassword": "y", "admin": true}"#),
    400,
    "Could not find member 'admin'"
)]
#[case::missing_new_password(
    post_json(r#"{"oldPassword": "x"}"#),
    400,
    "NewPassword field is required"
)]
#[case::huge_string(post_json(format!(r#"{{"oldPassword": "x", "newPassword": "{}"}}"#, "a1".repeat(20_000))), 400, "maximum length")]
#[case::deep_nesting(post_json(format!("{}{}", "[".repeat(5000), "]".repeat(5000))), 400, "Invalid JSON")]
#[case::deep_nesting_in_field(post_json(format!(r#"{{"oldPassword": {}{}}}"#, "{\"a\":".repeat(3000), "}".repeat(3000))), 400, "Invalid JSON")]
#[case::not_a_uuid(Hostile { path: "/identity_/api/User/har-3107/changepassword".into(), ..post_json("{}") }, 400, "'har-3107' is not valid")]
#[case::unknown_user(Hostile { path: format!("/identity_/api/User/{}/changepassword", uuid::Uuid::nil()), ..post_json(r#"{"oldPassword":"a","newPassword":"b"}"#) }, 404, "Not Found")]
#[case::get_instead_of_post(Hostile { method: "GET", ..post_json("") }, 405, "not served here")]
#[case::delete_instead_of_post(Hostile { method: "DELETE", ..post_json("") }, 405, "not served here")]
#[case::unknown_path(Hostile { path: "/identity_/api/Nope".into(), ..post_json("{}") }, 404, "Not Found")]
#[case::percent_encoded_garbage(Hostile { path: "/identity_/api/User/%FF%FE/changepassword".into(), ..post_json("{}") }, 400, "userId")]
#[case::create_user_wrong_types(Hostile { path: "/identity_/api/User".into(), ..post_json(r#"{"userName": {"a": 1}, "validatePassword": "maybe", "groupIDs": ["x"]}"#) }, 400, "Path 'userName'")]
#[case::create_user_unknown_field(Hostile { path: "/identity_/api/User".into(), ..post_json(r#"{"userName": "a", "isAdmin": true}"#) }, 400, "Could not find member 'isAdmin'")]
#[case::create_user_huge_name(Hostile { path: "/identity_/api/User".into(), ..post_json(format!(r#"{{"userName": "{}"}}"#, "x".repeat(10_000))) }, 400, "maximum length")]
#[case::list_top_out_of_range(Hostile { method: "GET", path: format!("/identity_/api/User/users/{}?top=5000", uuid::Uuid::nil()), ..post_json("") }, 400, "between 0 and 1000")]
#[case::list_bad_partition(Hostile { method: "GET", path: "/identity_/api/User/users/not-a-guid".into(), ..post_json("") }, 400, "GUID")]
#[case::get_odd_user_id(Hostile { method: "GET", path: "/identity_/api/User/%20%00x".into(), ..post_json("") }, 400, "is not valid")]
#[case::bulk_delete_garbage(Hostile { method: "DELETE", path: "/identity_/api/User".into(), ..post_json("[") }, 400, "Invalid JSON")]
#[case::token_as_json(Hostile { path: "/identity_/connect/token".into(), ..post_json(r#"{"grant_type": "client_credentials"}"#) }, 400, "invalid_request")]
#[case::state_endpoint_garbage(Hostile { path: "/_pact/provider-states".into(), ..post_json("{\"nope\":1}") }, 400, "expected")]
#[tokio::test]
async fn refuses_hostile_requests_with_a_json_problem_and_never_a_5xx(
    #[case] request: Hostile,
    #[case] status: u16,
    #[case] says: &str,
) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let (user, _, _) = values(&setup_state(&emulator.url(), STATE_KNOWN_PASSWORD).await);
    let url = format!(
        "{}{}",
        emulator.url(),
        request.path.replace("{user}", &user.to_string())
    );
    let mut builder = http()
        .request(request.method.parse().unwrap(), url)
        .header("Authorization", "Bearer any")
        .body(request.body);
    if let Some(ct) = request.content_type {
        builder = builder.header("Content-Type", ct);
    }
    let response = builder.send().await.unwrap();
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.contains("json"), "{content_type}");
    let body: Value = response.json().await.expect("a JSON body");
    assert!(
        body.to_string().contains(says),
        "expected `{says}` in {body}"
    );
}

#[tokio::test]
async fn survives_header_abuse_over_a_raw_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let cases: Vec<Vec<u8>> = vec![
        // A header far over any sane size.
        format!("POST /identity_/api/User/x/changepassword HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\n\r\n", "a".repeat(200_000)).into_bytes(),
        // A Content-Length that lies.
        b"POST /identity_/api/User/x/changepassword HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{}".to_vec(),
        // Not HTTP at all.
        b"\x00\x01\x02 garbage \xff\r\n\r\n".to_vec(),
        // A non-UTF-8 Authorization header.
        b"POST /identity_/api/User/x/changepassword HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer \xff\xfe\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ];
    for raw in cases {
        let mut socket = tokio::net::TcpStream::connect(emulator.addr).await.unwrap();
        let _ = socket.write_all(&raw).await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            socket.read_to_end(&mut answer),
        )
        .await;
        let text = String::from_utf8_lossy(&answer);
        assert!(
            !text.starts_with("HTTP/1.1 5"),
            "a 5xx for {:?}: {text}",
            String::from_utf8_lossy(&raw[..raw.len().min(80)])
        );
    }
    // And it still serves.
    let (user, old, new) = values(&setup_state(&emulator.url(), STATE_KNOWN_PASSWORD).await);
    let api = client(&emulator.url(), IdentityPrefix::Cloud, Some("any"));
    assert_eq!(
        api.change_password(&user, &ChangePassword::new(old, new))
            .await
            .unwrap(),
        ChangePasswordOutcome::Changed
    );
}

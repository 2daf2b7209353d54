//! The emulator as a tenant: tokens, scopes, users, lockout, faults — over
//! real sockets, with the typed client where it has the call.

use std::time::{Duration, Instant};

use rstest::rstest;
use serde_json::{Value, json};
use uipath_identity_client::{
    BaseUrl, BearerToken, ChangePassword, ChangePasswordOutcome, IdentityClient, IdentityPrefix,
    UserId,
};
use uipath_identity_emulator::{ClientSpec, DEFAULT_ORGANIZATION, SeedUser, StaticToken};
use uipath_identity_emulator::{Clock, EmulatorConfig};

use crate::fixtures::{get_json, http, start_emulator};

const SECRET: &str = "app-s3cret";

fn tenant_config() -> EmulatorConfig {
    EmulatorConfig {
        clients: vec![
            "app:app-s3cret".parse().unwrap(),
            "reader:r-s3cret:PM.User.Read".parse().unwrap(),
        ],
        tokens: vec![
            "writer-pat".into(),
            "read-pat:PM.User.Read".parse().unwrap(),
            StaticToken {
                token: BearerToken::new("no-scope-pat"),
                scopes: vec!["OR.Folders".into()],
            },
        ],
        ..EmulatorConfig::default()
    }
}

async fn token(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http()
        .post(format!("{url}/identity_/connect/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn create_user(url: &str, bearer: &str, body: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{url}/identity_/api/User"))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn issues_client_credentials_tokens_that_the_api_accepts() {
    let emulator = start_emulator(tenant_config()).await;
    let url = emulator.url();
    let (status, body) = token(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", SECRET),
            ("scope", "PM.User PM.User.Write"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "PM.User PM.User.Write");
    let access = body["access_token"].as_str().unwrap();
    let (status, result) = create_user(
        &url,
        access,
        json!({ "userName": "alice", "password": "Passw0rd-1", "partitionGlobalId": DEFAULT_ORGANIZATION }),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result, json!({ "succeeded": true, "errors": [] }));
}

#[rstest]
#[case::wrong_secret(&[("grant_type", "client_credentials"), ("client_id", "app"), ("client_secret", "nope")], "invalid_client")]
#[case::unknown_client(&[("grant_type", "client_credentials"), ("client_id", "who"), ("client_secret", SECRET)], "invalid_client")]
#[case::scope_not_allowed(&[("grant_type", "client_credentials"), ("client_id", "reader"), ("client_secret", "r-s3cret"), ("scope", "PM.User.Write")], "invalid_scope")]
#[case::unknown_scope(&[("grant_type", "client_credentials"), ("client_id", "app"), ("client_secret", SECRET), ("scope", "OR.Everything")], "invalid_scope")]
#[case::password_grant(&[("grant_type", "password"), ("client_id", "app"), ("client_secret", SECRET)], "unsupported_grant_type")]
#[tokio::test]
async fn refuses_bad_token_requests_as_identity_server_does(
    #[case] form: &[(&str, &str)],
    #[case] error: &str,
) {
    let emulator = start_emulator(tenant_config()).await;
    let (status, body) = token(&emulator.url(), form).await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({ "error": error }));
}

#[tokio::test]
async fn an_expired_token_gets_401() {
    let clock = Clock::manual();
    let emulator = start_emulator(EmulatorConfig {
        token_lifetime: Duration::from_secs(1),
        clock: clock.clone(),
        ..tenant_config()
    })
    .await;
    let url = emulator.url();
    let (_, body) = token(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", SECRET),
        ],
    )
    .await;
    let access = body["access_token"].as_str().unwrap().to_owned();
    let get = |t: String| {
        let url = url.clone();
        async move {
            http()
                .get(format!(
                    "{url}/identity_/api/User/users/{DEFAULT_ORGANIZATION}"
                ))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(get(access.clone()).await.status(), 200);
    clock.advance(Duration::from_millis(1100));
    let expired = get(access).await;
    assert_eq!(expired.status(), 401);
    assert!(
        expired.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[rstest]
#[case::read_token_cannot_write("read-pat", "POST", 403)]
#[case::read_token_can_read("read-pat", "GET", 200)]
#[case::unrelated_scope_cannot_read("no-scope-pat", "GET", 403)]
#[case::unknown_token("made-up", "GET", 401)]
#[case::writer_can_write("writer-pat", "POST", 200)]
#[tokio::test]
async fn enforces_user_scopes(#[case] bearer: &str, #[case] method: &str, #[case] status: u16) {
    let emulator = start_emulator(tenant_config()).await;
    let url = emulator.url();
    let response = if method == "GET" {
        http()
            .get(format!(
                "{url}/identity_/api/User/users/{DEFAULT_ORGANIZATION}"
            ))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
    } else {
        http()
            .post(format!("{url}/identity_/api/User"))
            .bearer_auth(bearer)
            .json(&json!({ "userName": "bob", "password": "Passw0rd-1" }))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(response.status().as_u16(), status);
}

#[tokio::test]
async fn creates_finds_lists_and_deletes_users() {
    let emulator = start_emulator(tenant_config()).await;
    let url = emulator.url();
    let id = uuid::Uuid::new_v4();
    let (status, _) = create_user(
        &url,
        "writer-pat",
        json!({ "id": id, "userName": "carol", "email": "carol@example.test", "name": "Carol", "type": "user",
                "password": "Passw0rd-1", "partitionGlobalId": DEFAULT_ORGANIZATION }),
    )
    .await;
    assert_eq!(status, 200);
    for n in 0..5 {
        create_user(
            &url,
            "writer-pat",
            json!({ "userName": format!("dave{n}"), "password": "Passw0rd-1" }),
        )
        .await;
    }
    let user = get_json(
        &format!("{url}/myorg/mytenant/identity_/api/User/{id}"),
        "read-pat",
    )
    .await;
    assert_eq!(user["userName"], "carol");
    assert_eq!(user["email"], "carol@example.test");
    assert_eq!(user["isActive"], true);

    let page = get_json(
        &format!(
            "{url}/identity_/api/User/users/{DEFAULT_ORGANIZATION}?searchTerm=DAVE&top=2&skip=1"
        ),
        "read-pat",
    )
    .await;
    assert_eq!(page["totalCount"], 5);
    let names: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dave1", "dave2"]);

    let deleted = http()
        .delete(format!("{url}/identity_/api/User/{id}"))
        .bearer_auth("writer-pat")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = http()
        .get(format!("{url}/identity_/api/User/{id}"))
        .bearer_auth("read-pat")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    let ids: Vec<String> = emulator
        .emulator
        .store
        .all()
        .iter()
        .map(|u| u.id.to_string())
        .collect();
    let bulk = http()
        .delete(format!("{url}/identity_/api/User"))
        .bearer_auth("writer-pat")
        .json(&json!({ "partitionGlobalId": DEFAULT_ORGANIZATION, "userIds": ids }))
        .send()
        .await
        .unwrap();
    assert_eq!(bulk.status(), 204);
    assert!(emulator.emulator.store.is_empty());
}

#[rstest]
#[case::same_user_name(json!({ "userName": "ERIN", "password": "Passw0rd-2" }), "DuplicateUserName")]
#[case::same_email(json!({ "userName": "erin2", "email": "Erin@Example.test", "password": "Passw0rd-2" }), "DuplicateEmail")]
#[case::weak_password(json!({ "userName": "frank", "password": "short" }), "PasswordTooShort")]
#[case::unknown_organization(json!({ "userName": "gina", "partitionGlobalId": uuid::Uuid::nil() }), "PartitionNotFound")]
#[case::no_user_name(json!({ "password": "Passw0rd-2" }), "InvalidUserName")]
#[tokio::test]
async fn refuses_a_user_it_cannot_create(#[case] body: Value, #[case] code: &str) {
    let emulator = start_emulator(tenant_config()).await;
    let url = emulator.url();
    let (status, _) = create_user(
        &url,
        "writer-pat",
        json!({ "userName": "erin", "email": "erin@example.test", "password": "Passw0rd-1" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, result) = create_user(&url, "writer-pat", body).await;
    assert_eq!(status, 400, "{result}");
    assert_eq!(result["succeeded"], false);
    let codes: Vec<&str> = result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&code), "{codes:?}");
    assert_eq!(emulator.emulator.store.len(), 1);
}

fn seeded(threshold: u32, admin: bool) -> (EmulatorConfig, UserId) {
    let id = UserId::random();
    let config = EmulatorConfig {
        users: vec![SeedUser {
            id: *id.as_uuid(),
            password: "Right-passw0rd".into(),
            user_name: None,
            organization: None,
        }],
        lockout_threshold: threshold,
        admin,
        ..EmulatorConfig::default()
    };
    (config, id)
}

fn api(url: &str) -> IdentityClient {
    IdentityClient::new(
        BaseUrl::parse(url, IdentityPrefix::Cloud).unwrap(),
        Some("any".into()),
    )
    .unwrap()
}

#[tokio::test]
async fn locks_a_user_after_consecutive_failures_until_unlocked() {
    let (config, id) = seeded(3, true);
    let emulator = start_emulator(config).await;
    let url = emulator.url();
    let client = api(&url);
    for _ in 0..3 {
        let o = client
            .change_password(&id, &ChangePassword::new("wrong", "New-passw0rd"))
            .await
            .unwrap();
        assert_eq!(o.error_codes(), ["PasswordMismatch"]);
        assert!(
            matches!(o, ChangePasswordOutcome::WrongOldPassword(_)),
            "{o:?}"
        );
    }
    let locked = client
        .change_password(&id, &ChangePassword::new("Right-passw0rd", "New-passw0rd"))
        .await
        .unwrap();
    assert_eq!(locked.error_codes(), ["UserLockedOut"]);
    // The client tells a locked account apart, even with the right password.
    assert!(
        matches!(locked, ChangePasswordOutcome::LockedOut(_)),
        "{locked:?}"
    );

    let unlock = http()
        .post(format!("{url}/_admin/users/{id}/unlock"))
        .send()
        .await
        .unwrap();
    assert_eq!(unlock.status(), 204);
    let changed = client
        .change_password(&id, &ChangePassword::new("Right-passw0rd", "New-passw0rd"))
        .await
        .unwrap();
    assert_eq!(changed, ChangePasswordOutcome::Changed);
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let (config, id) = seeded(2, false);
    let emulator = start_emulator(config).await;
    let client = api(&emulator.url());
    client
        .change_password(&id, &ChangePassword::new("wrong", "New-passw0rd"))
        .await
        .unwrap();
    let ok = client
        .change_password(&id, &ChangePassword::new("Right-passw0rd", "New-passw0rd"))
        .await
        .unwrap();
    assert_eq!(ok, ChangePasswordOutcome::Changed);
    let once = client
        .change_password(&id, &ChangePassword::new("wrong", "Other-passw0rd"))
        .await
        .unwrap();
    assert_eq!(once.error_codes(), ["PasswordMismatch"]);
    let still = client
        .change_password(&id, &ChangePassword::new("New-passw0rd", "Other-passw0rd"))
        .await
        .unwrap();
    assert_eq!(still, ChangePasswordOutcome::Changed);
}

#[tokio::test]
async fn admin_endpoints_are_off_unless_enabled() {
    let (config, id) = seeded(3, false);
    let emulator = start_emulator(config).await;
    let url = emulator.url();
    assert_eq!(
        http()
            .get(format!("{url}/_admin/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        http()
            .post(format!("{url}/_admin/users/{id}/unlock"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

async fn add_fault(url: &str, rule: Value) {
    let response = http()
        .post(format!("{url}/_admin/faults"))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn faults_set_at_run_time_answer_429_then_503_then_recover() {
    let emulator = start_emulator(EmulatorConfig {
        admin: true,
        ..tenant_config()
    })
    .await;
    let url = emulator.url();
    add_fault(
        &url,
        json!({ "route": "create-user", "kind": "429", "retry-after": 7, "next": 1 }),
    )
    .await;
    add_fault(
        &url,
        json!({ "route": "create-user", "kind": "503", "next": 1 }),
    )
    .await;
    let body = json!({ "userName": "henry", "password": "Passw0rd-1" });
    let first = http()
        .post(format!("{url}/identity_/api/User"))
        .bearer_auth("writer-pat")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "7");
    let second = http()
        .post(format!("{url}/identity_/api/User"))
        .bearer_auth("writer-pat")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 503);
    let third = http()
        .post(format!("{url}/identity_/api/User"))
        .bearer_auth("writer-pat")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 200);
    let left: Value = http()
        .get(format!("{url}/_admin/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(left, json!([]));
}

#[tokio::test]
async fn faults_can_delay_and_drop() {
    let emulator = start_emulator(EmulatorConfig {
        faults: vec![
            "route=get-user,kind=delay,delay-ms=300,next=1"
                .parse()
                .unwrap(),
            "route=delete-user,kind=drop".parse().unwrap(),
        ],
        ..tenant_config()
    })
    .await;
    let url = emulator.url();
    let started = Instant::now();
    let slow = http()
        .get(format!("{url}/identity_/api/User/{}", uuid::Uuid::nil()))
        .bearer_auth("read-pat")
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 404);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let dropped = async {
        http()
            .delete(format!("{url}/identity_/api/User/{}", uuid::Uuid::nil()))
            .bearer_auth("writer-pat")
            .send()
            .await?
            .bytes()
            .await
    }
    .await;
    assert!(
        dropped.is_err(),
        "the connection should have been dropped: {dropped:?}"
    );
}

#[tokio::test]
async fn a_share_of_requests_faults() {
    let emulator = start_emulator(EmulatorConfig {
        faults: vec!["route=list-users,kind=503,share=0.5".parse().unwrap()],
        ..tenant_config()
    })
    .await;
    let url = emulator.url();
    let mut failed = 0;
    let client = http();
    for _ in 0..200 {
        let r = client
            .get(format!(
                "{url}/identity_/api/User/users/{DEFAULT_ORGANIZATION}"
            ))
            .bearer_auth("read-pat")
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            failed += 1;
        }
    }
    // Binomial(200, 0.5): outside 60..140 has probability below 1e-8.
    assert!((60..140).contains(&failed), "{failed} of 200 failed");
}

#[test]
fn client_and_token_flags_parse_with_and_without_scopes() {
    let all: ClientSpec = "ci:s3cret".parse().unwrap();
    assert_eq!((all.id.as_str(), all.secret.expose()), ("ci", "s3cret"));
    assert_eq!(all.scopes, ["PM.User", "PM.User.Read", "PM.User.Write"]);
    let some: ClientSpec = "ci:s3cret:PM.User.Read,PM.User.Write".parse().unwrap();
    assert_eq!(some.scopes, ["PM.User.Read", "PM.User.Write"]);
    assert!(
        "no-secret"
            .parse::<ClientSpec>()
            .unwrap_err()
            .contains("ID:SECRET")
    );
    let pat: StaticToken = "pat:PM.User.Read".parse().unwrap();
    assert_eq!(
        (pat.token.expose(), pat.scopes.as_slice()),
        ("pat", ["PM.User.Read".to_owned()].as_slice())
    );
    assert!(":PM.User".parse::<StaticToken>().is_err());
}

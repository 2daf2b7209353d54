//! `orchestrator-pact serve` as a process.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use serde_json::{Value, json};
use uipath_identity_client::contract::{PARAM_USER_ID, STATE_KNOWN_PASSWORD, pact_file_name};

use crate::fixtures::{
    ScratchDir, client_token, committed_pact, get_json, http, orchestrator_pact,
    orchestrator_pact_command, setup_state,
};

/// Starts `orchestrator-pact serve ARGS` and waits for the URL it prints.
pub(crate) async fn spawn_serve(args: &[&str]) -> (tokio::process::Child, String) {
    let mut child = orchestrator_pact_command()
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("the URL within 10 s")
        .unwrap()
        .expect("a first line");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

async fn change_password(url: &str, token: &str, user: &str, old: &str, new: &str) -> (u16, Value) {
    let r = http()
        .post(format!("{url}/identity_/api/User/{user}/changepassword"))
        .bearer_auth(token)
        .json(&json!({ "oldPassword": old, "newPassword": new }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

const USER: &str = "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e";

#[tokio::test]
async fn starts_a_tenant_from_flags_in_one_line() {
    let org = uuid::Uuid::new_v4().to_string();
    let user = format!("{USER}:Seeded-passw0rd");
    let (_child, url) = spawn_serve(&[
        "--client",
        "pipeline:s3cret",
        "--organization-id",
        &org,
        "--user",
        &user,
        "--lockout-threshold",
        "2",
        "--min-password-length",
        "12",
    ])
    .await;
    let token = client_token(&url, "pipeline", "s3cret").await;
    let (status, body) = change_password(&url, &token, USER, "Seeded-passw0rd", "short1a").await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (400, json!("PasswordTooShort"))
    );
    let (status, _) = change_password(
        &url,
        &token,
        USER,
        "Seeded-passw0rd",
        "Long-enough-passw0rd",
    )
    .await;
    assert_eq!(status, 200);
    let listed: Value = get_json(&format!("{url}/identity_/api/User/users/{org}"), &token).await;
    assert_eq!(listed["totalCount"], 1);
    // Two failures lock the user.
    change_password(&url, &token, USER, "wrong", "Another-passw0rd").await;
    change_password(&url, &token, USER, "wrong", "Another-passw0rd").await;
    let (_, locked) = change_password(
        &url,
        &token,
        USER,
        "Long-enough-passw0rd",
        "Another-passw0rd",
    )
    .await;
    assert_eq!(locked["errors"][0]["code"], "UserLockedOut");
}

#[tokio::test]
async fn starts_a_tenant_from_a_config_file() {
    let dir = ScratchDir::new();
    let file = dir.join("emulator.toml");
    std::fs::write(
        &file,
        format!(
            r#"port = 0
lockout-threshold = 0
token-lifetime = 60
admin = true

[password-policy]
min-length = 10
require-uppercase = true

[[clients]]
id = "app"
secret = "file-s3cret"
scopes = ["PM.User"]

[[users]]
id = "{USER}"
password = "Seeded-Passw0rd"

[[faults]]
route = "change-password"
kind = "503"
next = 1
"#
        ),
    )
    .unwrap();
    let (_child, url) = spawn_serve(&["--config", file.to_str().unwrap()]).await;
    let token = client_token(&url, "app", "file-s3cret").await;
    let (first, _) = change_password(&url, &token, USER, "Seeded-Passw0rd", "new-passw0rd-x").await;
    assert_eq!(first, 503, "the fault rule from the file applies first");
    let (second, body) =
        change_password(&url, &token, USER, "Seeded-Passw0rd", "new-passw0rd-x").await;
    assert_eq!(
        (second, body["errors"][0]["code"].clone()),
        (400, json!("PasswordRequiresUpper"))
    );
    let faults = http()
        .get(format!("{url}/_admin/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), 200, "admin = true in the file");
}

#[tokio::test]
async fn refuses_a_bad_config_file_with_its_line_and_reason() {
    let dir = ScratchDir::new();
    let toml = dir.join("bad.toml");
    std::fs::write(
        &toml,
        "port = 0\n\n[[clients]]\nid = \"a\"\nsecret = \"b\"\ncolour = \"blue\"\n",
    )
    .unwrap();
    let run = orchestrator_pact(["serve", "--config", toml.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("line 6") && run.stderr.contains("colour"),
        "{run}"
    );

    let json = dir.join("bad.json");
    std::fs::write(&json, "{\n  \"lockout-threshold\": \"ten\"\n}\n").unwrap();
    let run = orchestrator_pact(["serve", "--config", json.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("line 2"), "{run}");

    let missing = orchestrator_pact(["serve", "--config", "/nonexistent/emulator.toml"]).await;
    assert_eq!(missing.code, 2, "{missing}");
    assert!(missing.stderr.contains("cannot read it"), "{missing}");
}

/// A malformed flag that carries a secret is refused by name; the refusal
/// never quotes the secret (clap's own errors would print the value).
#[rstest::rstest]
#[case::client_without_id(&["--client", ":s3cret-value"], "`--client`")]
#[case::user_with_a_bad_id(&["--user", "not-a-uuid:s3cret-value"], "`--user`")]
#[case::token_without_token(&["--token", ":PM.User", "--token", "s3cret-value"], "`--token` (value 1 of 2)")]
#[tokio::test]
async fn a_malformed_secret_flag_is_refused_without_being_printed(
    #[case] args: &[&str],
    #[case] names: &str,
) {
    let mut full = vec!["serve"];
    full.extend_from_slice(args);
    let run = orchestrator_pact(&full).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains(names), "the flag is named: {run}");
    assert!(
        !run.output().contains("s3cret-value"),
        "the secret was printed: {run}"
    );
}

#[tokio::test]
async fn serve_help_documents_every_setting() {
    let run = orchestrator_pact(["serve", "--help"]).await;
    assert_eq!(run.code, 0, "{run}");
    for setting in [
        "--config",
        "--port",
        "--token",
        "--client",
        "--organization-id",
        "--user",
        "--min-password-length",
        "--lockout-threshold",
        "--token-lifetime",
        "--fault",
        "--admin",
        "--max-body-bytes",
        "[password-policy]",
        "require-non-alphanumeric",
        "required-unique-chars",
        "[[clients]]",
        "[[tokens]]",
        "[[users]]",
        "[[faults]]",
    ] {
        assert!(
            run.stdout.contains(setting),
            "`{setting}` is not documented:{run}"
        );
    }
}

// SIGTERM is Unix's.
#[cfg(unix)]
#[tokio::test]
async fn prints_its_url_serves_and_stops_on_sigterm() {
    let (mut child, url) = spawn_serve(&[]).await;
    let values = setup_state(&url, STATE_KNOWN_PASSWORD).await;
    assert!(values[PARAM_USER_ID].is_string());

    let pid = child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("it stops within 10 s")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn refuses_a_port_in_use_with_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = orchestrator_pact(["serve", "--port", &port]).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("could not listen"), "{run}");
}

/// Removes every `generators` block from `value`, at any depth.
fn without_generators(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.remove("generators");
            members.values_mut().for_each(without_generators);
        }
        Value::Array(items) => items.iter_mut().for_each(without_generators),
        _ => {}
    }
}

/// The standard Pact flow, where the provider's state handler sets up the
/// pact's example user and no generator is needed: the committed pact with
/// every `generators` block removed sends its example user id and
/// passwords, and verifies against `serve` through its state endpoint, as
/// any verifier runs it (with teardown calls and without).
#[rstest::rstest]
#[case::without_teardown(&[])]
#[case::with_teardown(&["--state-change-teardown"])]
#[tokio::test]
async fn the_committed_pact_without_generators_verifies_against_serve(#[case] extra: &[&str]) {
    let mut pact = committed_pact();
    without_generators(&mut pact);
    assert!(!pact.to_string().contains("ProviderState"), "{pact}");
    let dir = ScratchDir::new();
    std::fs::write(dir.join(pact_file_name()), pact.to_string()).unwrap();
    let (_serve, url) = spawn_serve(&[]).await;
    let states = format!("{url}/_pact/provider-states");
    let mut args = vec![
        "verify",
        "--pacts",
        dir.to_str().unwrap(),
        "--base-url",
        &url,
        "--state-change-url",
        &states,
    ];
    args.extend_from_slice(extra);
    let run = orchestrator_pact(&args).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("5 verified"), "{run}");
}

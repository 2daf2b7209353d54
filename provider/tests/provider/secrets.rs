//! No secret in any form: doubles over real sockets that echo what they
//! received (a bearer token, passwords, a broker's basic-auth header) in
//! every form a server or a log can carry it, and a search of stdout,
//! stderr and every report file for each of those forms.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;
use uipath_identity_client::contract::{CONSUMER, REFUSES_AN_ANONYMOUS_CALL};

use crate::doubles::{authorization, passwords_state, serve};
use crate::fixtures::{Run, ScratchDir, orchestrator_pact, orchestrator_pact_with_env, pacts_dir};

/// Characters that escaping changes (XML, JSON, Markdown, URLs), a space
/// (`+` or `%20`) and non-ASCII letters.
/// Each holds a marker that no escaping changes: a form the redactor does
/// not know would leave it visible.
const OLD_PASSWORD: &str = "Öld pa|ss&<>\"'\\%wörd-1-MarkOld7";
const NEW_PASSWORD: &str = "Nëw|pa ss<&>'\"\\%€-2x-MarkNew8";
/// A bearer token can hold no space or non-ASCII character; all the rest.
const TOKEN: &str = "t0k&<>\"'|\\%-SECRET-MarkTok9";
const MARKERS: [&str; 3] = ["MarkOld7", "MarkNew8", "MarkTok9"];

/// The base64 characters that encode `bytes` alone when they start at
/// `offset` (0, 1 or 2) bytes into a 3-byte group of a longer stream:
/// the characters at either end mix in neighbouring bytes and are left out.
fn base64_core(bytes: &[u8], offset: usize) -> String {
    let mut stream = vec![b'x'; offset];
    stream.extend_from_slice(bytes);
    let encoded = STANDARD_NO_PAD.encode(&stream);
    let first = (8 * offset).div_ceil(6);
    let end = 8 * (offset + bytes.len()) / 6;
    encoded.get(first..end).unwrap_or_default().to_owned()
}

fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Every form `secret` can take in output, by name.
fn forms(secret: &str) -> Vec<(String, String)> {
    let json = serde_json::to_string(secret).unwrap();
    let json = json.trim_matches('"').to_owned();
    let mut forms = vec![
        ("raw".to_owned(), secret.to_owned()),
        ("JSON-escaped".to_owned(), json.clone()),
        (
            "form-encoded".to_owned(),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        ),
        (
            "percent-encoded".to_owned(),
            utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string(),
        ),
        ("XML-escaped".to_owned(), xml_escaped(secret)),
        ("Markdown-escaped".to_owned(), secret.replace('|', "\\|")),
    ];
    for (name, bytes) in [("", secret), (" of the JSON-escaped", json.as_str())] {
        for offset in 0..3 {
            let core = base64_core(bytes.as_bytes(), offset);
            forms.push((format!("base64{name} at {offset}"), core.clone()));
            forms.push((
                format!("URL-safe base64{name} at {offset}"),
                core.replace('+', "-").replace('/', "_"),
            ));
        }
    }
    // Too short to tell from chance (the secrets here are long).
    forms.retain(|(_, text)| text.len() >= 4);
    forms
}

/// The text of `secret` in every form of [`forms`], as a server echoing it
/// would send it: each form alone and inside longer base64 streams.
fn echo(secret: &str) -> String {
    let mut text: Vec<String> = forms(secret).into_iter().map(|(_, f)| f).collect();
    for prefix in ["", "p", "pq"] {
        let stream = format!("{prefix}{secret}!tail");
        text.push(STANDARD.encode(&stream));
        text.push(URL_SAFE.encode(&stream));
    }
    text.join(" ")
}

/// Asserts that no form of any of `secrets` is in `what` (named `name`).
fn assert_no_form(secrets: &[&str], name: &str, what: &str, run: &Run) {
    for marker in MARKERS {
        assert!(
            !what.contains(marker),
            "a secret's marker `{marker}` is in {name}, in a form not scrubbed: {run}\n--- {name} ---\n{what}"
        );
    }
    for secret in secrets {
        for (form, text) in forms(secret) {
            assert!(
                !what.contains(&text),
                "the {form} form of a secret of {} characters is in {name}: {run}\n--- {name} ---\n{what}",
                secret.chars().count()
            );
        }
    }
}

/// A tenant that answers every call 200 with, as `succeeded`, the request's
/// `Authorization` header, its body (in base64 at every offset too), and
/// both passwords in every form; its provider states (`/_states`) hand out
/// the passwords. Every mismatch quotes them.
async fn start_echoing_tenant() -> String {
    let app = axum::Router::new()
        .route("/_states", passwords_state(OLD_PASSWORD, NEW_PASSWORD))
        .fallback(|headers: HeaderMap, body: String| async move {
            let auth = authorization(&headers);
            let echoed = [
                auth.clone(),
                echo(&auth),
                echo(&body),
                echo(OLD_PASSWORD),
                echo(NEW_PASSWORD),
            ]
            .join(" ");
            axum::Json(json!({
                "succeeded": echoed,
                "errors": [{ "code": auth, "description": echo(&body) }],
            }))
        });
    format!("http://{}/", serve(app).await)
}

#[tokio::test]
async fn a_tenant_echoing_secrets_in_every_form_gets_none_into_any_output_or_report() {
    let tenant = start_echoing_tenant().await;
    let dir = ScratchDir::new();
    let (junit, json, summary) = (
        dir.join("junit.xml"),
        dir.join("report.json"),
        dir.join("summary.md"),
    );
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        pacts_dir().to_str().unwrap(),
        "--base-url",
        &tenant,
        "--state-change-url",
        &format!("{tenant}_states"),
        "--token",
        TOKEN,
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
        "--loglevel",
        "trace",
        "--verbose",
    ])
    .await;
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stdout.contains("Bearer ***"),
        "the double must provoke mismatches that quote the token: {run}"
    );
    let secrets = [TOKEN, OLD_PASSWORD, NEW_PASSWORD];
    assert_no_form(&secrets, "stdout", &run.stdout, &run);
    assert_no_form(&secrets, "stderr", &run.stderr, &run);
    for file in [&junit, &json, &summary] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains("***"), "{}: {text}", file.display());
        assert_no_form(&secrets, &file.display().to_string(), &text, &run);
    }
}

/// A broker that refuses every call (400, not retried) quoting the
/// `Authorization` header it received, as a careless proxy's error page
/// might.
async fn start_echoing_broker() -> String {
    let app = axum::Router::new().fallback(|headers: HeaderMap| async move {
        let auth = authorization(&headers);
        (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(json!({ "errors": [format!("you sent `{auth}`")] })),
        )
    });
    format!("http://{}/", serve(app).await)
}

#[tokio::test]
async fn a_broker_echoing_the_basic_auth_header_gets_no_credential_printed() {
    let broker = start_echoing_broker().await;
    let password = "br0ker|pa&ss<\"'\\%ä";
    let pair = format!("ci:{password}");
    let env = [
        ("PACT_BROKER_USERNAME", "ci"),
        ("PACT_BROKER_PASSWORD", password),
    ];
    for args in [
        vec![
            "publish",
            "--pacts",
            pacts_dir().to_str().unwrap(),
            "--consumer-app-version",
            "c1",
        ],
        vec![
            "can-i-deploy",
            "--pacticipant",
            CONSUMER,
            "--version",
            "c1",
            "--latest",
        ],
        vec!["verify"],
    ] {
        let mut args: Vec<&str> = args;
        args.extend(["--broker-url", &broker, "--retry-base-delay", "5"]);
        let run = orchestrator_pact_with_env(&args, &env).await;
        assert_eq!(run.code, 2, "{run}");
        assert!(
            run.stderr.contains("you sent `Basic ***"),
            "the broker's echo must be printed, scrubbed: {run}"
        );
        assert_no_form(&[password, &pair], "the output", &run.output(), &run);
    }
}

#[rstest::rstest]
#[case::a_stray_positional_argument(&["verify", "Str4y-s3cret"], "unexpected argument")]
#[case::a_stray_argument_after_a_flag(&["verify", "--verbose", "Str4y-s3cret"], "unexpected argument")]
#[case::a_secret_flags_value_read_as_flags(&["verify", "--client-secret", "-Str4y-s3cret"], "unexpected argument")]
#[case::a_token_in_the_base_urls_query(&["verify", "--base-url", "https://tenant.example/org/t/?access_token=Str4y-s3cret"], "has a query")]
#[case::a_password_in_the_base_urls_user_info(&["cleanup", "--base-url", "ht tp://ci:Str4y-s3cret@tenant.example/?x=1"], "is not a URL")]
#[case::a_secret_in_the_identity_urls_query(&["verify", "--identity-url", "nota url?client_secret=Str4y-s3cret"], "--identity-url")]
#[tokio::test]
async fn argument_errors_mask_what_looks_like_a_value(#[case] args: &[&str], #[case] names: &str) {
    let run = orchestrator_pact(args).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.starts_with("error: "), "{run}");
    assert!(
        run.stderr.contains(names),
        "the error must name the problem: {run}"
    );
    assert!(run.stderr.contains("***"), "{run}");
    assert_no_form(&["Str4y-s3cret"], "the output", &run.output(), &run);
}

/// Only URLs have their query values taken for secrets: a filter with a
/// `?` in it masks nothing.
#[tokio::test]
async fn a_question_mark_outside_a_url_masks_nothing() {
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        pacts_dir().to_str().unwrap(),
        "--filter-description",
        "passwords? with no bearer",
    ])
    .await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains(REFUSES_AN_ANONYMOUS_CALL), "{run}");
}

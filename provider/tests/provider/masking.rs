//! Secrets masked, words shown: what the command line was given comes
//! back in errors with a secret flag's value and a URL's password, query
//! values and fragment masked however short, and everything else (a
//! misspelt command, `--help`, an organization id, a policy rule, the
//! tool's own words) as typed.

use crate::doubles::serve;
use crate::fixtures::{Run, ScratchDir, orchestrator_pact, orchestrator_pact_with_env, pacts_dir};

const TENANT: &str = "https://tenant.example/org/t/";

/// Exit 2 with an `error:` line that says `says`, and no `***` anywhere:
/// nothing in it was a secret.
fn refused_as_typed(run: &Run, says: &str) {
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.starts_with("error: "), "{run}");
    assert!(run.stderr.contains(says), "expected `{says}`: {run}");
    assert!(
        !run.output().contains("***"),
        "nothing here is a secret: {run}"
    );
}

/// Exit 2 with an `error:` line that says `says` (masked), and `secret`
/// nowhere in the output.
fn refused_masked(run: &Run, says: &str, secret: &str) {
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.starts_with("error: "), "{run}");
    assert!(run.stderr.contains(says), "expected `{says}`: {run}");
    assert!(!run.output().contains(secret), "`{secret}` is shown: {run}");
}

#[tokio::test]
async fn a_misspelt_command_is_shown_as_typed() {
    let run = orchestrator_pact(["verfy"]).await;
    refused_as_typed(&run, "unrecognized subcommand 'verfy'");
    assert!(
        run.stderr.contains("a similar subcommand exists: 'verify'"),
        "{run}"
    );
}

#[tokio::test]
async fn help_with_a_flag_names_the_flag() {
    let run = orchestrator_pact(["help", "--help"]).await;
    refused_as_typed(&run, "'--help'");
}

#[tokio::test]
async fn an_organization_id_that_is_not_a_uuid_is_shown_as_typed() {
    let run = orchestrator_pact([
        "verify",
        "--base-url",
        TENANT,
        "--token",
        "t0ken-of-the-run",
        "--organization-id",
        "my-org",
    ])
    .await;
    refused_as_typed(
        &run,
        "invalid value 'my-org' for '--organization-id <UUID>'",
    );
}

#[tokio::test]
async fn a_password_policy_rule_that_is_not_one_is_shown_as_typed() {
    let run = orchestrator_pact(["verify", "--password-policy", "min-length=8,sparkle"]).await;
    refused_as_typed(&run, "invalid value 'min-length=8,sparkle'");
    assert!(
        run.stderr.contains("`sparkle` is not a policy rule"),
        "{run}"
    );
}

#[tokio::test]
async fn the_value_of_an_ordinary_flag_is_shown_as_typed() {
    let run = orchestrator_pact(["verify", "--request-timeout=soon"]).await;
    refused_as_typed(&run, "invalid value 'soon' for '--request-timeout <MS>'");
}

#[tokio::test]
async fn a_short_token_in_a_urls_query_is_masked() {
    let run = orchestrator_pact(["verify", "--base-url", &format!("{TENANT}?token=q7z")]).await;
    refused_masked(&run, &format!("`{TENANT}?token=***` has a query"), "q7z");
    // Refused by the flag's parser, in clap's words.
    let run = orchestrator_pact([
        "verify",
        "--state-change-url",
        "ftp://states.example/?token=q7z",
    ])
    .await;
    refused_masked(
        &run,
        "invalid value 'ftp://states.example/?token=***' for '--state-change-url <URL>'",
        "q7z",
    );
}

#[tokio::test]
async fn a_short_password_in_a_urls_user_info_is_masked() {
    let run = orchestrator_pact([
        "verify",
        "--base-url",
        "https://ci:q7@tenant.example/org/t/",
    ])
    .await;
    refused_masked(
        &run,
        "verifying https://ci:***@tenant.example/org/t/ needs credentials",
        "q7@",
    );
    let run = orchestrator_pact([
        "check-spec",
        "--spec",
        "http://ci:q7@127.0.0.1:1/swagger.json",
        "--pacts",
        pacts_dir().to_str().unwrap(),
    ])
    .await;
    refused_masked(
        &run,
        "could not fetch the spec from `http://ci:***@127.0.0.1:1/swagger.json`",
        "q7@",
    );
}

#[tokio::test]
async fn the_word_fragment_is_left_alone_and_the_fragment_is_masked() {
    let run = orchestrator_pact(["verify", "--base-url", &format!("{TENANT}#frag")]).await;
    refused_masked(
        &run,
        &format!("`{TENANT}#***` has a query or fragment: give the tenant's URL alone"),
        "#frag",
    );
}

#[tokio::test]
async fn a_short_token_leaves_the_words_of_an_error_about_another_flag_alone() {
    // "tion" and "ion" are in "interaction", "organization".
    let run = orchestrator_pact(["verify", "--token", "tion", "--jobs", "0"]).await;
    refused_as_typed(&run, "at least one interaction must run at a time");
    let run = orchestrator_pact(["verify", "--base-url", TENANT, "--token", "ion"]).await;
    refused_as_typed(
        &run,
        "throwaway users are created in an organization: pass its id with `--organization-id`",
    );
}

#[tokio::test]
async fn a_short_token_quoted_by_an_error_is_masked() {
    // Clap reads a value that starts with `-` as flags, and quotes them.
    let run = orchestrator_pact(["verify", "--token", "-q7"]).await;
    refused_masked(&run, "unexpected argument '***'", "q7");
    let run = orchestrator_pact(["cleanup", "--client-secret", "-k9"]).await;
    refused_masked(&run, "unexpected argument '***'", "k9");
}

/// A run, not only its flags: a state URL's short query value and
/// fragment are masked in what the run prints and writes when the state
/// service fails, and its words are not.
#[tokio::test]
async fn a_state_urls_short_secrets_are_masked_in_the_runs_output_and_reports() {
    // Answers 404 to everything: the state set-up fails, quoting its URL.
    let addr = serve(axum::Router::new()).await;
    let dir = ScratchDir::new();
    let junit = dir.join("junit.xml");
    let state_url = format!("http://{addr}/states?key=q7z#frag");
    let run = orchestrator_pact_with_env(
        [
            "verify",
            "--pacts",
            pacts_dir().to_str().unwrap(),
            "--base-url",
            &format!("http://{addr}/"),
            "--junit",
            junit.to_str().unwrap(),
        ],
        &[("PACT_PROVIDER_STATE_CHANGE_URL", &state_url)],
    )
    .await;
    assert_ne!(run.code, 0, "{run}");
    let masked = format!("http://{addr}/states?key=***#***");
    let junit = std::fs::read_to_string(&junit).unwrap_or_default();
    assert!(
        run.output().contains(&masked) || junit.contains(&masked),
        "the state URL is quoted, masked: {run}\n--- junit ---\n{junit}"
    );
    for text in [run.output(), junit] {
        assert!(!text.contains("q7z"), "{run}\n{text}");
        assert!(!text.contains("#frag"), "{run}\n{text}");
        assert!(!text.contains("***ment"), "{run}\n{text}");
    }
}

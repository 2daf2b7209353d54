//! `--help` says what each command does with each flag: the flags
//! `cleanup` shares with `verify` in cleanup's words, the state URL's
//! answer as the run reads it, and each command's body cap naming what
//! that command reads.

use std::collections::BTreeMap;

use uipath_identity_client::contract::{
    PARAM_NEW_PASSWORD, PARAM_OLD_PASSWORD, PARAM_PASSWORD, PARAM_USER_ID,
};

use crate::fixtures::{committed_pact, orchestrator_pact};

/// `orchestrator-pact COMMAND --help`, as one text per flag (by its long
/// name), whitespace collapsed (clap wraps to the terminal's width).
async fn flags_help(command: &str) -> BTreeMap<String, String> {
    let run = orchestrator_pact([command, "--help"]).await;
    assert_eq!(run.code, 0, "{run}");
    let mut flags = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in run.stdout.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if trimmed.starts_with('-') && indent <= 6 {
            flags.extend(current.take());
            let long = trimmed
                .split_whitespace()
                .find_map(|word| word.strip_prefix("--"))
                .unwrap_or_default()
                .trim_end_matches(',')
                .to_owned();
            current = Some((long, String::new()));
        } else if indent <= 6 {
            // A heading, or the end of the flags.
            flags.extend(current.take());
            continue;
        }
        if let Some((_, text)) = &mut current {
            text.push(' ');
            text.push_str(trimmed);
        }
    }
    flags.extend(current);
    flags
        .into_iter()
        .map(|(flag, text)| (flag, text.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect()
}

fn help_of<'h>(flags: &'h BTreeMap<String, String>, flag: &str) -> &'h str {
    flags
        .get(flag)
        .unwrap_or_else(|| panic!("no `--{flag}` in {flags:#?}"))
}

#[tokio::test]
async fn cleanup_describes_the_flags_it_shares_with_verify_in_its_own_words() {
    let flags = flags_help("cleanup").await;
    let base_url = help_of(&flags, "base-url");
    assert!(base_url.contains("The tenant to clean up"), "{base_url}");
    let token = help_of(&flags, "token");
    assert!(
        token.contains("to list the organization's users, remove the throwaway ones"),
        "{token}"
    );
    assert!(token.contains("Never printed"), "{token}");
    assert!(
        help_of(&flags, "test-user-id").contains("its password is set back"),
        "{flags:#?}"
    );
    // Nothing that only `verify` does.
    for (flag, text) in &flags {
        for verify_words in [
            "verify instead of",
            "embedded emulator",
            "whose pact has",
            "stays anonymous",
            "state URL",
            "under verification",
            "The pacts record",
            "Verify with this existing user",
        ] {
            assert!(
                !text.contains(verify_words),
                "`cleanup --help` describes --{flag} in verify's words (`{verify_words}`): {text}"
            );
        }
    }
}

#[tokio::test]
async fn the_state_urls_help_names_every_value_its_answer_gives() {
    let flags = flags_help("verify").await;
    let state_url = help_of(&flags, "state-change-url");
    for field in [
        PARAM_USER_ID,
        PARAM_PASSWORD,
        PARAM_OLD_PASSWORD,
        PARAM_NEW_PASSWORD,
    ] {
        assert!(
            state_url.contains(&format!("`{field}`")),
            "`{field}` is not named: {state_url}"
        );
    }
    // Every value the committed pact's requests take from the state.
    let pact = committed_pact().to_string();
    for expression in pact.split("\"expression\":").skip(1) {
        let expression = expression.trim_start().trim_start_matches('"');
        let expression = &expression[..expression.find('"').unwrap()];
        let name = match expression.split_once("${") {
            Some((_, rest)) => &rest[..rest.find('}').unwrap()],
            None => expression,
        };
        assert!(
            state_url.contains(&format!("`{name}`")),
            "the pact takes `{name}` from the state, which the help does not name: {state_url}"
        );
    }
}

#[tokio::test]
async fn each_commands_body_cap_names_what_that_command_reads() {
    for (command, reads, not) in [
        ("verify", "state URL", "--spec"),
        ("cleanup", "tenant", "Pact Broker"),
        ("check-spec", "--spec URL", "tenant"),
        ("publish", "Pact Broker", "tenant"),
        ("can-i-deploy", "Pact Broker", "tenant"),
        ("record-deployment", "Pact Broker", "tenant"),
    ] {
        let flags = flags_help(command).await;
        let cap = help_of(&flags, "max-body-size");
        assert!(cap.contains(reads), "{command}: {cap}");
        assert!(!cap.contains(not), "{command}: {cap}");
    }
}

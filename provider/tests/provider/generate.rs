//! `orchestrator-pact generate`: the man page as `man` and `groff` read it,
//! and the bash completions as bash runs them.

use crate::fixtures::{BINARY, Run, clean_command, finish, orchestrator_pact};

/// Runs `script` in bash with `$BIN` set to the binary under test.
async fn bash(script: &str) -> Run {
    let mut command = clean_command("bash");
    command.arg("-c").arg(script).env("BIN", BINARY);
    finish(command, vec!["bash".into(), "-c".into(), script.into()]).await
}

/// What bash offers for `words` with the cursor on the last one, after
/// sourcing `generate complete-bash`, through the function the script
/// registered for `orchestrator-pact` (`complete -p` names it), as bash
/// calls it on a TAB.
async fn bash_completes(words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let script = format!(
        r#"source <("$BIN" generate complete-bash) || exit 3
spec=$(complete -p orchestrator-pact) || exit 4
function=${{spec#*-F }}; function=${{function%% *}}
COMP_WORDS=({line}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}
"$function" orchestrator-pact "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        cword = words.len() - 1
    );
    let run = bash(&script).await;
    assert_eq!(run.code, 0, "{run}");
    run.stdout.lines().map(str::to_owned).collect()
}

#[tokio::test]
async fn bash_completes_ver_to_verify_after_sourcing_the_script() {
    assert_eq!(
        bash_completes(&["orchestrator-pact", "ver"]).await,
        ["verify"]
    );
}

#[tokio::test]
async fn bash_completes_a_commands_flags() {
    let offered = bash_completes(&["orchestrator-pact", "verify", "--state-change-"]).await;
    assert_eq!(
        offered,
        ["--state-change-url", "--state-change-teardown"],
        "{offered:?}"
    );
}

#[tokio::test]
async fn the_man_page_is_roff_that_man_renders_with_a_section_per_command() {
    let page = orchestrator_pact(["generate", "man"]).await;
    assert_eq!(page.code, 0, "{page}");
    let head: Vec<&str> = page.stdout.lines().take(3).collect();
    assert!(
        head.iter()
            .any(|l| l.starts_with(".TH orchestrator-pact 1 ")),
        "no .TH title line at the top: {head:?}"
    );

    // groff, as `man` runs it (-k: preconv for UTF-8), with every warning on.
    let groff = bash(r#""$BIN" generate man | groff -k -man -Tutf8 -ww 2>&1 >/dev/null"#).await;
    assert_eq!(groff.code, 0, "{groff}");
    assert_eq!(groff.stdout, "", "groff warned about the page: {groff}");

    let rendered = bash(r#""$BIN" generate man | MANWIDTH=120 man -l - 2>&1"#).await;
    assert_eq!(rendered.code, 0, "{rendered}");
    for command in [
        "verify",
        "cleanup",
        "serve",
        "publish",
        "can-i-deploy",
        "record-deployment",
        "check-spec",
        "pacts",
        "generate",
    ] {
        let heading = format!("\nORCHESTRATOR-PACT {}\n", command.to_uppercase());
        assert!(
            rendered.stdout.contains(&heading),
            "no section for `{command}` in the rendered page:\n{}",
            rendered.stdout
        );
    }
    assert!(rendered.stdout.contains("--state-change-url"), "{rendered}");
}

#[tokio::test]
async fn every_shell_gets_completions_and_a_wrong_name_is_refused() {
    for shell in ["zsh", "fish", "powershell"] {
        let script = orchestrator_pact(["generate", &format!("complete-{shell}")]).await;
        assert_eq!(script.code, 0, "{script}");
        assert!(script.stdout.contains("record-deployment"), "{script}");
    }
    let wrong = orchestrator_pact(["generate", "complete-tcsh"]).await;
    assert_eq!(wrong.code, 2, "{wrong}");
    assert!(wrong.stderr.contains("complete-bash"), "{wrong}");
}

//! The `ci/` scripts that start a server check that the server answering
//! is the one they started: a script whose emulator could not take its port
//! must fail, not walk through against whoever holds the port.

use std::path::Path;

use orchestrator_pact::emulator::EmulatorConfig;

use crate::fixtures::{BINARY, Run, clean_command, finish, start_emulator};

/// Runs `bash ci/SCRIPT` with the debug binary and the variables `env`.
async fn script(name: &str, env: &[(&str, &str)]) -> Run {
    let mut command = clean_command("bash");
    command
        .arg(Path::new("ci").join(name))
        .env("ORCHESTRATOR_PACT", BINARY)
        .envs(env.iter().copied());
    finish(command, vec![name.to_owned()]).await
}

#[tokio::test]
async fn the_emulator_walk_through_fails_when_another_server_holds_its_port_and_passes_on_its_own()
{
    // Another emulator on the port the walk-through is given, set up so
    // that the walk-through would succeed against it.
    let other = start_emulator(EmulatorConfig {
        clients: vec!["my-app:my-secret".parse().unwrap()],
        organizations: vec!["11111111-2222-3333-4444-555555555555".parse().unwrap()],
        ..EmulatorConfig::default()
    })
    .await;
    let port = other.addr.port().to_string();
    let taken = script(
        "develop-against-emulator.sh",
        &[("WALKTHROUGH_PORT", &port)],
    )
    .await;
    assert_eq!(taken.code, 2, "{taken}");
    assert!(
        taken
            .stderr
            .contains("error: the emulator this script started did not start"),
        "{taken}"
    );
    assert_eq!(
        other.emulator.store.len(),
        0,
        "the walk-through went on against the other server: {taken}"
    );
    other.stop().await;

    // Port 0: any free port, which the script reads from the URL its
    // emulator prints.
    let own = script("develop-against-emulator.sh", &[("WALKTHROUGH_PORT", "0")]).await;
    assert_eq!(own.code, 0, "{own}");
    assert!(
        own.stdout
            .contains("walk-through: token, user, password change all worked"),
        "{own}"
    );
}

/// The walk-through script runs the guide's commands: its copy of them is
/// docs/emulator.md's console block without the `$ ` prompts and the
/// answers shown, character for character.
#[test]
fn the_walk_through_script_runs_the_guides_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let guide = std::fs::read_to_string(root.join("docs/emulator.md")).unwrap();
    let script = std::fs::read_to_string(root.join("ci/develop-against-emulator.sh")).unwrap();
    let section = guide
        .split("## A walk-through")
        .nth(1)
        .expect("the guide's walk-through");
    // The `sh` block starts the emulator, which the script does itself (on
    // the port it is given); the console block holds the rest.
    let block = section
        .split("```console\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section's console block");
    let copy = script
        .split("cat <<'GUIDE'\n")
        .nth(1)
        .and_then(|rest| rest.split("\nGUIDE\n").next())
        .expect("the script's copy of the guide's commands");
    let commands = console_commands(block);
    assert!(commands.contains("/changepassword"), "{commands}");
    assert_eq!(copy.trim_end(), commands.trim_end());
}

/// The commands of a console block: a command starts at `$ ` and goes on
/// while its line ends with `\` or leaves a single quote open; the other
/// lines are the answers shown.
fn console_commands(block: &str) -> String {
    let mut commands = String::new();
    let mut open = false;
    for line in block.lines() {
        let text = match line.strip_prefix("$ ") {
            Some(command) => command,
            None if open => line,
            None => continue,
        };
        commands.push_str(text);
        commands.push('\n');
        let quotes = commands.matches('\'').count();
        open = line.ends_with('\\') || quotes % 2 == 1;
    }
    commands
}

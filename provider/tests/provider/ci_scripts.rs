//! The `ci/` scripts that start a server check that the server answering
//! is the one they started: a script whose emulator could not take its port
//! must fail, not walk through against whoever holds the port.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use orchestrator_pact::emulator::{self, EmulatorConfig};

use crate::fixtures::{BINARY, Run, clean_command, finish};

/// Runs `bash ci/SCRIPT` with the debug binary.
async fn script(name: &str) -> Run {
    let mut command = clean_command("bash");
    command
        .arg(Path::new("ci").join(name))
        .env("ORCHESTRATOR_PACT", BINARY);
    finish(command, vec![name.to_owned()]).await
}

#[tokio::test]
async fn the_emulator_walk_through_fails_when_another_server_holds_its_port_and_passes_on_its_own()
{
    // Another emulator on the walk-through's port (docs/emulator.md), set up so that the walk-through
    // would succeed against it.
    let other = EmulatorConfig {
        clients: vec!["my-app:my-secret".parse().unwrap()],
        organizations: vec!["11111111-2222-3333-4444-555555555555".parse().unwrap()],
        ..EmulatorConfig::default()
    };
    let held = emulator::spawn(other, SocketAddr::from((Ipv4Addr::LOCALHOST, 8080))).await;
    let taken = script("develop-against-emulator.sh").await;
    assert_eq!(taken.code, 2, "{taken}");
    assert!(
        taken
            .stderr
            .contains("error: the emulator this script started did not start"),
        "{taken}"
    );
    match held {
        Ok(handle) => handle.stop().await,
        // Something else holds 8080 on this machine: the failure above is
        // all that can be checked.
        Err(_) => return,
    }

    let own = script("develop-against-emulator.sh").await;
    assert_eq!(own.code, 0, "{own}");
    assert!(
        own.stdout
            .contains("walk-through: token, user, password change all worked"),
        "{own}"
    );
}

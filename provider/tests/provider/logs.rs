//! Logs on stderr: coloured on a terminal only, plain in a file or a CI
//! log, and never coloured when `NO_COLOR` is set.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;

use crate::fixtures::{orchestrator_pact, orchestrator_pact_command, pacts_dir};

const ESC: char = '\u{1b}';

fn verify_args() -> Vec<String> {
    [
        "verify",
        "--pacts",
        pacts_dir().to_str().unwrap(),
        "--loglevel",
        "info",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[tokio::test]
async fn logs_in_a_file_or_a_pipe_carry_no_colour_codes() {
    let run = orchestrator_pact(verify_args()).await;
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains(" INFO "), "too little to search: {run}");
    assert!(!run.stderr.contains(ESC), "ANSI codes on a pipe: {run}");
}

/// Runs `verify` with its stderr on a pseudo-terminal and `env`; gives what
/// the terminal received.
async fn on_a_terminal(env: &[(&str, &str)]) -> String {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors, which are owned from here on.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "no pseudo-terminal");
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            OwnedFd::from_raw_fd(slave),
        )
    };
    // Read all along, so that a full terminal buffer never blocks the run;
    // the read ends (EIO) when the run has closed the terminal.
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let mut command = orchestrator_pact_command();
    command
        .args(verify_args())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave));
    let status = command.status().await.unwrap();
    drop(command);
    assert!(status.success(), "verify failed: {status}");
    reader.join().unwrap()
}

#[tokio::test]
async fn logs_on_a_terminal_are_coloured_unless_no_color_is_set() {
    let coloured = on_a_terminal(&[]).await;
    assert!(
        coloured.contains("INFO"),
        "too little to search: {coloured}"
    );
    assert!(
        coloured.contains(ESC),
        "no colour on a terminal: {coloured}"
    );

    let plain = on_a_terminal(&[("NO_COLOR", "1")]).await;
    assert!(plain.contains("INFO"), "too little to search: {plain}");
    assert!(!plain.contains(ESC), "colour despite NO_COLOR: {plain}");
}

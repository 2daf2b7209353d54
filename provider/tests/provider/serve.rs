//! `orchestrator-pact serve` as a process.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::fixtures::{orchestrator_pact, setup_state};

#[tokio::test]
async fn prints_its_url_serves_and_stops_on_sigterm() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orchestrator-pact"))
        .arg("serve")
        .env("PACT_DO_NOT_TRACK", "true")
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
    let values = setup_state(&url, "a user exists with a known password").await;
    assert!(values["userId"].is_string());

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

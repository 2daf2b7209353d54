//! Wiring shared by the tests: running the binary, starting emulators.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use provider::emulator::{self, EmulatorConfig, EmulatorHandle};
use serde_json::{Value, json};

/// The committed pacts.
pub fn pacts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pacts")
}

/// What a run of the binary did.
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\n$ orchestrator-pact {}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

impl Run {
    /// Everything the run printed.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `orchestrator-pact ARGS` from the workspace root and waits for it.
pub async fn orchestrator_pact<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_orchestrator-pact"));
    command
        .args(&args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("PACT_DO_NOT_TRACK", "true")
        .env_remove("UIPATH_PAT")
        .env_remove("ORCHESTRATOR_PACT_BASE_URL")
        .env_remove("ORCHESTRATOR_PACT_SPEC");
    // A pipeline's broker variables (PACT_BROKER_BASE_URL would turn
    // `verify` into a broker verification) must not reach these runs.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("PACT_BROKER_")
            || name.starts_with("PACT_PROVIDER_")
            || name.starts_with("UIPATH_")
        {
            command.env_remove(&*name);
        }
    }
    let output = command.output().await.expect("the binary runs");
    Run {
        args,
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// An emulator on `127.0.0.1:0` in this process.
pub async fn start_emulator(config: EmulatorConfig) -> EmulatorHandle {
    emulator::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("the emulator starts")
}

/// Sets up a provider state through the emulator's HTTP endpoint and returns
/// the values it answers with.
pub async fn setup_state(base: &str, state: &str) -> Value {
    let response = http()
        .post(format!("{base}/_pact/provider-states"))
        .json(&json!({ "state": state, "params": {}, "action": "setup" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "setting up `{state}`");
    response.json().await.unwrap()
}

/// A plain HTTP client (with the TLS provider reqwest needs installed).
pub fn http() -> reqwest::Client {
    consumer::tls::install_crypto_provider();
    reqwest::Client::new()
}

//! Wiring shared by the tests: running the binary with a clean
//! environment, starting emulators, scratch folders that clean up, and
//! waiting on a condition with a bound.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use orchestrator_pact::emulator::{self, EmulatorConfig, EmulatorHandle};
use serde_json::{Value, json};
use uipath_identity_client::contract::pact_file_name;

/// The committed pacts.
pub fn pacts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pacts")
}

/// The committed pact (`pact_file_name()`) as JSON, for tests that write a
/// changed copy.
pub fn committed_pact() -> Value {
    let text = std::fs::read(pacts_dir().join(pact_file_name())).expect("the committed pact");
    serde_json::from_slice(&text).expect("the committed pact is JSON")
}

/// The committed pact with its interactions copied until there are `n`:
/// copy `k` is recorded interaction `k % len` under the description
/// `… (copy k)`, without its key (V4 keys are derived from the
/// description).
pub fn copied_pact(n: usize) -> Value {
    let mut pact = committed_pact();
    let recorded = pact["interactions"].as_array().unwrap().clone();
    let copies: Vec<Value> = (0..n)
        .map(|k| {
            let mut copy = recorded[k % recorded.len()].clone();
            copy["description"] =
                format!("{} (copy {k})", copy["description"].as_str().unwrap()).into();
            copy.as_object_mut().unwrap().remove("key");
            copy
        })
        .collect();
    pact["interactions"] = copies.into();
    pact
}

/// The interaction of `pact` described as `description`.
pub fn interaction_mut<'a>(pact: &'a mut Value, description: &str) -> &'a mut Value {
    pact["interactions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["description"] == description)
        .unwrap_or_else(|| panic!("the pact has no interaction `{description}`"))
}

/// The committed pacts, as the text of a `--pacts` argument.
pub fn pacts() -> String {
    pacts_dir().to_string_lossy().into_owned()
}

/// An empty folder of its own under the system's temporary folder,
/// removed with everything in it when dropped: the one way the tests make
/// scratch folders. It derefs to its [`Path`], so `dir.join(…)` and
/// `dir.to_str()` work on it directly.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// A fresh, empty folder.
    pub fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("orchestrator-pact-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("the temporary folder is writable");
        Self(dir)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `orchestrator-pact ARGS` from `dir` (a clean environment, as
/// [`orchestrator_pact`]) and waits for it: what a user who installed the
/// binary sees outside the checkout.
pub async fn orchestrator_pact_in<I, S>(dir: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut command = orchestrator_pact_command();
    command.current_dir(dir).args(&args);
    finish(command, args).await
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
    /// What a finished process did; `args` are for messages.
    pub fn from_output(args: Vec<String>, output: &std::process::Output) -> Self {
        Self {
            args,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Everything the run printed.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The path of the `orchestrator-pact` binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_orchestrator-pact");

/// The `orchestrator-pact` binary under test as a [`clean_command`], not
/// yet started: every test that runs the binary starts it this way (or
/// through the helpers below, which use it) and adds the variables it needs.
pub fn orchestrator_pact_command() -> tokio::process::Command {
    clean_command(BINARY)
}

/// `program`, to be run from the workspace root with a clean environment:
/// only PATH, HOME and `PACT_DO_NOT_TRACK`, so that no PACT_BROKER_*,
/// UIPATH_* or CI variable of the machine running the tests leaks in.
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env_clear()
        .env("PACT_DO_NOT_TRACK", "true");
    for keep in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(keep) {
            command.env(keep, value);
        }
    }
    command
}

/// Waits for `command` and keeps what it did; `args` are for messages.
pub async fn finish(mut command: tokio::process::Command, args: Vec<String>) -> Run {
    let output = command.output().await.expect("the command runs");
    Run::from_output(args, &output)
}

/// Runs `orchestrator-pact ARGS` with only `env` (and the clean
/// environment's variables) and waits for it.
pub async fn orchestrator_pact_with_env<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut command = orchestrator_pact_command();
    command.args(&args).envs(env.iter().copied());
    finish(command, args).await
}

/// Runs `orchestrator-pact ARGS` from the workspace root and waits for it.
pub async fn orchestrator_pact<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    orchestrator_pact_with_env(args, &[]).await
}

/// A port on 127.0.0.1 where nobody listens, for as long as this lives: a
/// socket bound to port 0 that never listens, so that a connection to it
/// is refused and no other process can take the port meanwhile (unlike a
/// fixed port such as 1 or 9, which a machine may serve, or a port 0
/// listener dropped before use, which another test may take).
pub struct RefusingPort {
    _socket: tokio::net::TcpSocket,
    addr: SocketAddr,
}

impl RefusingPort {
    /// A fresh one.
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .expect("a port on 127.0.0.1");
        let addr = socket.local_addr().unwrap();
        Self {
            _socket: socket,
            addr,
        }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
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
    let (status, values) = setup_state_with(base, state, json!({})).await;
    assert_eq!(status, 200, "setting up `{state}`: {values}");
    values
}

/// Posts a set-up of `state` with `params` to the emulator's state endpoint;
/// gives the status and the JSON answer.
pub async fn setup_state_with(base: &str, state: &str, params: Value) -> (u16, Value) {
    let response = http()
        .post(format!("{base}/_pact/provider-states"))
        .json(&json!({ "state": state, "params": params, "action": "setup" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// A client-credentials token from `connect/token` at `url` (an
/// emulator's or `serve`'s URL).
pub async fn client_token(url: &str, id: &str, secret: &str) -> String {
    let body: Value = http()
        .post(format!("{url}/identity_/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().expect("a token").to_owned()
}

/// `GET url` with `bearer`, read as JSON.
pub async fn get_json(url: &str, bearer: &str) -> Value {
    http()
        .get(url)
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A plain HTTP client (with the TLS provider reqwest needs installed).
pub fn http() -> reqwest::Client {
    uipath_identity_client::tls::install_crypto_provider();
    reqwest::Client::new()
}

/// Waits until `condition` holds, looking every 20 ms; fails the test with
/// `what` if it still does not after `within`. For waiting on another
/// process, where no event can be awaited and no clock can be moved.
pub async fn wait_for(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

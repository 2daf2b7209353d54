//! Wiring shared by the tests: running the binary with a clean
//! environment (to its end, or while the test watches its stderr),
//! starting emulators, and scratch folders that clean up.

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

/// An empty folder of its own under the system's temporary folder
/// (`tempfile`: created exclusively, owner-only), removed with everything in
/// it when dropped, also when the test panics: the one way the tests make
/// scratch folders. It derefs to its [`Path`], so `dir.join(…)` and
/// `dir.to_str()` work on it directly.
pub struct ScratchDir(tempfile::TempDir);

impl ScratchDir {
    /// A fresh, empty folder.
    pub fn new() -> Self {
        Self(
            tempfile::Builder::new()
                .prefix("orchestrator-pact-test-")
                .tempdir()
                .expect("the temporary folder is writable"),
        )
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        self.0.path()
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

    /// `http://127.0.0.1:{port}`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// An emulator on `127.0.0.1:0` in this process.
pub async fn start_emulator(config: EmulatorConfig) -> EmulatorHandle {
    emulator::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("the emulator starts")
}

/// Sets up a provider state with no parameters through the state endpoint
/// at `base` (an emulator's or `serve`'s URL) and returns the values it
/// answers with.
pub async fn setup_state(base: &str, state: &str) -> Value {
    let response = http()
        .post(format!("{base}/_pact/provider-states"))
        .json(&json!({ "state": state, "params": {}, "action": "setup" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let values: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "setting up `{state}`: {values}");
    values
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

/// `orchestrator-pact ARGS` running (a clean environment, as
/// [`orchestrator_pact`]), not yet waited for, its stderr read line by line
/// as it comes: a test waits for a line the run prints (an event of the
/// run) before it acts, instead of sleeping.
pub struct Running {
    args: Vec<String>,
    child: tokio::process::Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    stdout: tokio::task::JoinHandle<String>,
    stderr: tokio::task::JoinHandle<String>,
}

impl Running {
    /// Starts the binary with `args`.
    pub fn start<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut child = orchestrator_pact_command()
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let mut out = child.stdout.take().unwrap();
        let stdout = tokio::spawn(async move {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text).await;
            text
        });
        let (send, lines) = tokio::sync::mpsc::unbounded_channel();
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            while let Ok(Some(line)) = err.next_line().await {
                text.push_str(&line);
                text.push('\n');
                let _ = send.send(line);
            }
            text
        });
        Self {
            args,
            child,
            lines,
            stdout,
            stderr,
        }
    }

    /// Waits until the run prints a line on stderr for which `wanted`
    /// holds; panics naming `what` if the run ends first or after 60 s.
    pub async fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) {
        let waiting = async {
            while let Some(line) = self.lines.recv().await {
                if wanted(&line) {
                    return true;
                }
            }
            false
        };
        match tokio::time::timeout(Duration::from_secs(60), waiting).await {
            Ok(true) => {}
            Ok(false) => panic!("{what}: the run ended without printing it"),
            Err(_) => panic!("{what}: not within 60 s"),
        }
    }

    /// Sends the run SIGTERM, as a CI system cancelling a job does.
    #[cfg(unix)]
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the run is still running");
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }

    /// Waits for the run to end (at most 60 s) and gives what it did.
    pub async fn finish(mut self) -> Run {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "orchestrator-pact {}: still running after 60 s",
                    self.args.join(" ")
                )
            })
            .expect("the run can be waited for");
        Run {
            args: self.args,
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.await.unwrap(),
            stderr: self.stderr.await.unwrap(),
        }
    }
}

/// A test that fails leaves no scratch folder behind: the folder goes with
/// the panic's unwinding.
#[test]
fn a_scratch_folder_is_removed_when_its_test_panics() {
    let (send, receive) = std::sync::mpsc::channel();
    let failed = std::thread::spawn(move || {
        let dir = ScratchDir::new();
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        std::fs::write(dir.join("nested/report.json"), "{}").unwrap();
        send.send(dir.to_path_buf()).unwrap();
        panic!("the test fails with its scratch folder in use");
    })
    .join();
    assert!(failed.is_err(), "the thread was meant to panic");
    let path = receive.recv().unwrap();
    assert!(!path.exists(), "{} was left behind", path.display());
}

//! A hostile or broken tenant (or broker): a front on 127.0.0.1 that passes
//! requests to a real emulator, except those a rule picks, which it answers
//! with a redirect to a second listener (another port: another origin), a
//! body announced as 1 GiB, an endless chunked body, or a body that stalls.
//! The second listener (the sink) records everything it receives: nothing
//! may ever reach it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use orchestrator_pact::emulator::EmulatorConfig;
use uipath_identity_client::contract::CONSUMER;

use crate::fixtures::{RefusingPort, orchestrator_pact, start_emulator};
use crate::tenant::{live_args, tenant, users};

/// What the front does to a request a rule picks.
#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Answers this 3xx status with `Location` on the sink.
    Redirect(u16),
    /// Announces `Content-Length: 1 GiB` and streams zeros while read.
    Huge,
    /// Streams zeros in chunks, with no length, while read (up to 1 GiB).
    Endless,
    /// Sends the status line and headers, then nothing for a minute.
    Stall,
}

/// A rule: requests with this method whose path contains this text.
#[derive(Clone, Debug)]
pub struct Rule {
    method: Method,
    path_contains: &'static str,
    misbehaviour: Misbehaviour,
}

impl Rule {
    /// `method` requests whose path contains `path_contains` get `misbehaviour`.
    pub fn new(method: Method, path_contains: &'static str, misbehaviour: Misbehaviour) -> Self {
        Self {
            method,
            path_contains,
            misbehaviour,
        }
    }
}

struct Front {
    upstream: String,
    sink: String,
    rules: Vec<Rule>,
    http: reqwest::Client,
    passed: Arc<Mutex<Vec<String>>>,
}

/// The running front and its sink.
pub struct Hostile {
    /// The front's URL, without a trailing slash.
    pub url: String,
    /// The sink's origin (`http://127.0.0.1:PORT`), which messages must name.
    pub sink: String,
    received: Arc<Mutex<Vec<String>>>,
    passed: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    /// A front passing to `upstream` (an emulator's URL) except what `rules` pick.
    pub async fn start(upstream: &str, rules: Vec<Rule>) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = serve(Router::new().fallback(record).with_state(received.clone())).await;
        uipath_identity_client::tls::install_crypto_provider();
        let passed = Arc::new(Mutex::new(Vec::new()));
        let front = Arc::new(Front {
            passed: passed.clone(),
            upstream: upstream.trim_end_matches('/').to_owned(),
            sink: sink.clone(),
            rules,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        });
        let url = serve(Router::new().fallback(misbehave).with_state(front)).await;
        Self {
            url,
            sink,
            received,
            passed,
        }
    }

    /// Every request passed to the emulator, as `METHOD path user-agent`.
    pub fn passed(&self) -> Vec<String> {
        self.passed.lock().unwrap().clone()
    }

    /// Every request the sink received, as `METHOD path body`.
    pub fn sink_received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

async fn serve(router: Router) -> String {
    format!("http://{}", crate::doubles::serve(router).await)
}

async fn record(State(received): State<Arc<Mutex<Vec<String>>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    received.lock().unwrap().push(format!(
        "{} {} {}",
        parts.method,
        parts.uri,
        String::from_utf8_lossy(&body)
    ));
    // What a thief would answer: a success, with a token for good measure.
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"access_token":"stolen","expires_in":3600,"succeeded":true,"errors":[]}"#,
        ))
        .unwrap()
}

/// Zeros in 64 KiB chunks, 1 GiB in all, produced only as fast as read.
fn zeros() -> Body {
    let chunk = Bytes::from(vec![0u8; 64 * 1024]);
    let stream = futures_util::stream::iter(
        std::iter::repeat_n(chunk, 16 * 1024).map(Ok::<_, std::io::Error>),
    );
    Body::from_stream(stream)
}

async fn misbehave(State(front): State<Arc<Front>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let rule = front
        .rules
        .iter()
        .find(|r| r.method == request.method() && path.contains(r.path_contains));
    let json = |builder: axum::http::response::Builder| {
        builder.header(header::CONTENT_TYPE, "application/json")
    };
    match rule.map(|r| r.misbehaviour) {
        Some(Misbehaviour::Redirect(status)) => Response::builder()
            .status(status)
            .header(header::LOCATION, format!("{}{path}", front.sink))
            .body(Body::empty())
            .unwrap(),
        Some(Misbehaviour::Huge) => json(Response::builder())
            .header(header::CONTENT_LENGTH, HeaderValue::from(1u64 << 30))
            .body(zeros())
            .unwrap(),
        Some(Misbehaviour::Endless) => json(Response::builder()).body(zeros()).unwrap(),
        Some(Misbehaviour::Stall) => {
            let stream = futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, std::io::Error>(Bytes::from_static(b"{}"))
            });
            json(Response::builder())
                .body(Body::from_stream(stream))
                .unwrap()
        }
        None => pass(&front, request).await,
    }
}

async fn pass(front: &Front, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    front.passed.lock().unwrap().push(format!(
        "{} {} {}",
        parts.method,
        parts.uri.path(),
        parts
            .headers
            .get(header::USER_AGENT)
            .map_or("(no user agent)", |v| v.to_str().unwrap_or("(not text)"))
    ));
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let url = format!(
        "{}{}",
        front.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forwarded = front.http.request(parts.method, url).body(body);
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            forwarded = forwarded.header(name, value);
        }
    }
    let answer = forwarded.send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != header::TRANSFER_ENCODING && name != header::CONTENT_LENGTH {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}

fn assert_sink_untouched(front: &Hostile, run: &crate::fixtures::Run) {
    assert!(
        front.sink_received().is_empty(),
        "the redirect target received {:?}{run}",
        front.sink_received()
    );
}

#[tokio::test]
async fn a_token_endpoint_redirecting_elsewhere_gets_no_secret_and_the_run_exits_2_naming_the_host()
{
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let front = Hostile::start(
        &emulator.url(),
        vec![Rule::new(
            Method::POST,
            "/connect/token",
            Misbehaviour::Redirect(307),
        )],
    )
    .await;
    let run = orchestrator_pact(live_args(&front.url, &[])).await;
    assert_eq!(run.code, 2, "{run}");
    assert_sink_untouched(&front, &run);
    assert!(
        run.stderr.contains(&front.sink) && run.stderr.contains("not followed"),
        "the message does not name the redirect's target {}{run}",
        front.sink
    );
}

#[tokio::test]
async fn a_delete_redirected_elsewhere_is_not_counted_as_removed() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let front = Hostile::start(
        &emulator.url(),
        vec![Rule::new(
            Method::DELETE,
            "/api/User/",
            Misbehaviour::Redirect(307),
        )],
    )
    .await;
    let run = orchestrator_pact(live_args(&front.url, &["--setup-retries", "0"])).await;
    assert_sink_untouched(&front, &run);
    let left: Vec<(String, String)> = users(&emulator)
        .await
        .into_iter()
        .filter(|u| !before.contains(u))
        .collect();
    assert_eq!(left.len(), 5, "{run}");
    for (id, _) in &left {
        assert!(
            run.stderr.contains(id),
            "the user {id} stayed on the tenant but is not reported as left{run}"
        );
    }
    assert!(run.stderr.contains(&front.sink), "{run}");
}

/// `(misbehaviour, route)`: every answer the harness reads is capped.
async fn capped_run(rule: Rule, extra: &[&str]) -> (crate::fixtures::Run, Duration) {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let front = Hostile::start(&emulator.url(), vec![rule]).await;
    let started = Instant::now();
    let run = orchestrator_pact(live_args(&front.url, extra)).await;
    let took = started.elapsed();
    assert_eq!(users(&emulator).await, before, "{run}");
    (run, took)
}

#[tokio::test]
async fn a_token_answer_announcing_a_gigabyte_is_not_read_and_the_run_exits_2_naming_the_cap() {
    let (run, took) = capped_run(
        Rule::new(Method::POST, "/connect/token", Misbehaviour::Huge),
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("larger than the cap of 4194304 bytes")
            && run.stderr.contains("--max-body-size"),
        "{run}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}{run}");
}

#[tokio::test]
async fn an_endless_create_user_answer_stops_at_the_cap_the_flag_sets() {
    let (run, _) = capped_run(
        Rule::new(Method::POST, "/api/User", Misbehaviour::Endless),
        &["--max-body-size", "64KiB", "--setup-retries", "0"],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.output().contains("larger than the cap of 65536 bytes"),
        "{run}"
    );
}

#[tokio::test]
async fn a_broker_index_announcing_a_gigabyte_is_not_read() {
    // Whatever the rules do not answer goes to a port where nobody listens.
    let nobody = RefusingPort::new();
    let front = Hostile::start(
        &nobody.url(),
        vec![Rule::new(Method::GET, "/", Misbehaviour::Huge)],
    )
    .await;
    let run = orchestrator_pact([
        "can-i-deploy",
        "--broker-url",
        &front.url,
        "--pacticipant",
        CONSUMER,
        "--version",
        "1",
        "--latest",
    ])
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("larger than the cap of 4194304 bytes")
            && run.stderr.contains("--max-body-size"),
        "{run}"
    );
}

#[tokio::test]
async fn a_broker_redirecting_to_another_origin_gets_no_credentials() {
    // Whatever the rules do not answer goes to a port where nobody listens.
    let nobody = RefusingPort::new();
    let front = Hostile::start(
        &nobody.url(),
        vec![Rule::new(Method::GET, "/", Misbehaviour::Redirect(302))],
    )
    .await;
    let run = crate::fixtures::orchestrator_pact_with_env(
        [
            "can-i-deploy",
            "--broker-url",
            &front.url,
            "--pacticipant",
            CONSUMER,
            "--version",
            "1",
            "--latest",
            "--retries",
            "0",
        ],
        &[("PACT_BROKER_TOKEN", "broker-t0ken-7f3a")],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert_sink_untouched(&front, &run);
    assert!(run.stderr.contains(&front.sink), "{run}");
}
#[tokio::test]
async fn a_change_password_redirected_elsewhere_sends_no_password_there_and_fails_the_contract() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let before = users(&emulator).await;
    let front = Hostile::start(
        &emulator.url(),
        vec![Rule::new(
            Method::POST,
            "/changepassword",
            Misbehaviour::Redirect(307),
        )],
    )
    .await;
    let run = orchestrator_pact(live_args(&front.url, &[])).await;
    assert_sink_untouched(&front, &run);
    // A redirect is the tenant's answer, and the contract says 200 or 400.
    assert_eq!(run.code, 1, "{run}");
    assert!(run.output().contains(&front.sink), "{run}");
    assert_eq!(users(&emulator).await, before, "{run}");
}

#[tokio::test]
async fn every_request_to_the_tenant_names_the_command_as_its_user_agent() {
    let emulator = start_emulator(tenant(EmulatorConfig::default())).await;
    let front = Hostile::start(&emulator.url(), vec![]).await;
    let run = orchestrator_pact(live_args(&front.url, &[])).await;
    assert_eq!(run.code, 0, "{run}");
    let agent = concat!("orchestrator-pact/", env!("CARGO_PKG_VERSION"));
    let passed = front.passed();
    // The verified interactions as much as the set-up around them.
    assert!(
        passed
            .iter()
            .any(|r| r.starts_with("POST ") && r.contains("/changepassword ")),
        "{passed:#?}{run}"
    );
    for request in &passed {
        assert!(request.ends_with(&format!(" {agent}")), "{passed:#?}{run}");
    }
}

#[tokio::test]
async fn a_verified_answer_announcing_a_gigabyte_is_not_read_and_the_run_exits_2_naming_the_cap() {
    let (run, took) = capped_run(
        Rule::new(Method::POST, "/changepassword", Misbehaviour::Huge),
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stdout.contains("larger than the cap of 4194304 bytes")
            && run.stdout.contains("--max-body-size"),
        "{run}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}{run}");
}

#[tokio::test]
async fn an_endless_verified_answer_stops_at_the_cap() {
    let (run, _) = capped_run(
        Rule::new(Method::POST, "/changepassword", Misbehaviour::Endless),
        &["--max-body-size", "1MiB"],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stdout.contains("larger than the cap of 1048576 bytes"),
        "{run}"
    );
}

#[tokio::test]
async fn a_verified_answer_that_stalls_is_named_a_time_out() {
    let (run, _) = capped_run(
        Rule::new(Method::POST, "/changepassword", Misbehaviour::Stall),
        &[
            "--request-timeout",
            "1000",
            "--filter-description",
            "correct old password",
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stdout.contains("within `--request-timeout` (1000 ms)")
            && !run.output().contains("error decoding response body"),
        "{run}"
    );
}

/// `verify` against an emulator whose provider states come through the
/// front, which misbehaves on them.
async fn state_url_run(misbehaviour: Misbehaviour) -> (crate::fixtures::Run, Hostile) {
    let emulator = start_emulator(EmulatorConfig::default()).await;
    let front = Hostile::start(
        &emulator.url(),
        vec![Rule::new(
            Method::POST,
            orchestrator_pact::emulator::PROVIDER_STATES_PATH,
            misbehaviour,
        )],
    )
    .await;
    let run = orchestrator_pact([
        "verify",
        "--pacts",
        crate::fixtures::pacts_dir().to_str().unwrap(),
        "--base-url",
        &emulator.url(),
        "--state-change-url",
        &format!(
            "{}{}",
            front.url,
            orchestrator_pact::emulator::PROVIDER_STATES_PATH
        ),
    ])
    .await;
    (run, front)
}

#[tokio::test]
async fn a_state_url_redirecting_elsewhere_is_not_followed() {
    let (run, front) = state_url_run(Misbehaviour::Redirect(307)).await;
    assert_eq!(run.code, 2, "{run}");
    assert_sink_untouched(&front, &run);
    assert!(run.output().contains(&front.sink), "{run}");
}

#[tokio::test]
async fn a_state_url_answer_announcing_a_gigabyte_is_not_read() {
    let (run, _front) = state_url_run(Misbehaviour::Huge).await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.output()
            .contains("larger than the cap of 4194304 bytes"),
        "{run}"
    );
}

#[tokio::test]
async fn a_spec_url_streaming_past_the_cap_is_not_read() {
    // Whatever the rules do not answer goes to a port where nobody listens.
    let nobody = RefusingPort::new();
    let front = Hostile::start(
        &nobody.url(),
        vec![Rule::new(Method::GET, "/swagger", Misbehaviour::Endless)],
    )
    .await;
    let run = orchestrator_pact([
        "check-spec",
        "--spec",
        &format!("{}/swagger/external/swagger.json", front.url),
        "--max-body-size",
        "64KiB",
    ])
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("larger than the cap of 65536 bytes")
            && run.stderr.contains("--max-body-size"),
        "{run}"
    );
}

#[tokio::test]
async fn a_token_answer_that_stalls_is_named_a_time_out_with_its_flag() {
    let (run, _) = capped_run(
        Rule::new(Method::POST, "/connect/token", Misbehaviour::Stall),
        &["--request-timeout", "1000", "--setup-retries", "0"],
    )
    .await;
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("timed out")
            && run.stderr.contains("--request-timeout")
            && !run.stderr.contains("error decoding response body"),
        "{run}"
    );
}

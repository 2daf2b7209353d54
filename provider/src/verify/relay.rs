//! A bounded relay on 127.0.0.1 between the pact library and a deployment.
//!
//! `pact_verifier` sends the verified requests with its own HTTP client and
//! reads each answer whole (`response.bytes()`): it has no cap, so a tenant
//! announcing a gigabyte would make this process hold it. It is pointed here
//! instead; the relay passes each request to the deployment with the run's
//! own client ([`crate::http`]: no redirect followed, the run's TLS and
//! time-out) and reads the answer through the cap. An answer past the cap,
//! or one that does not arrive in time, is not passed on: the connection is
//! cut, so the interaction is "could not check" (never a verdict on a
//! half-read answer), and the reason is kept for the report. A redirect is
//! passed on as the answer (the contract judges it) and noted, naming its
//! target.
//!
//! A 429 is not an answer the contract judges: the tenant only says "not
//! now". The relay tells the run-wide [`Throttle`] (every worker's tenant
//! calls pause too), waits `Retry-After` and sends the same request again,
//! a bounded number of times within the request's `--request-timeout`;
//! every verified request also waits out a pause another call started.
//! Still 429 when the attempts or the time run out, the interaction is
//! "could not check" (exit 2), never "does not hold".

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, header};
use axum::response::Response;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use url::Url;

use super::report::{Report, Status};
use crate::http::{self, BodyError};
use crate::retry::{RetryPolicy, retry_after};
use crate::states::Slot;
use crate::tenant::Throttle;

/// The header the replay tags each verified request with (its slot: the
/// interaction's position in the run), which the relay reads and strips
/// before passing the request on: interactions run concurrently, so what
/// the relay saw is matched to its interaction by slot, not by order.
pub(crate) const SLOT_HEADER: &str = "x-orchestrator-pact-slot";

/// Something the relay saw that the report must tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Incident {
    /// No answer was passed on: the interaction could not be checked.
    Failed {
        /// The slot of the interaction whose request it was, if tagged.
        slot: Option<Slot>,
        /// `METHOD path` of the request.
        request: String,
        /// Why, and the next step.
        reason: String,
    },
    /// A redirect was passed on as the answer, and followed by no one.
    Redirect {
        /// `METHOD path` of the request.
        request: String,
        /// The status.
        status: u16,
        /// Where it pointed (`scheme://host:port`).
        target: String,
    },
}

struct Relayed {
    origin: Url,
    http: reqwest::Client,
    max_body: usize,
    timeout: Duration,
    throttle: Arc<Throttle>,
    /// How many times a request answered 429 is sent in all.
    attempts: u32,
    incidents: Mutex<Vec<Incident>>,
}

/// A running relay; stopped when dropped.
pub(crate) struct Relay {
    addr: SocketAddr,
    state: Arc<Relayed>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("addr", &self.addr)
            .field("origin", &self.state.origin.as_str())
            .finish()
    }
}

/// Headers that belong to one hop, not to the request or answer.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::HOST,
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::TE,
    header::UPGRADE,
];

impl Relay {
    /// A relay to `target`'s origin on `127.0.0.1:0`; requests go through
    /// `http` (built with [`http::Redirects::Never`]), whose time-out is
    /// `timeout`, and answers are read up to `max_body` bytes. A 429 is
    /// told to `throttle` (the run's, shared with the tenant calls) and the
    /// request is sent again, at most `retry`'s attempts in all, all within
    /// `timeout`.
    pub(crate) async fn start(
        target: &Url,
        http: reqwest::Client,
        max_body: usize,
        timeout: Duration,
        throttle: Arc<Throttle>,
        retry: RetryPolicy,
    ) -> std::io::Result<Self> {
        let mut origin = target.clone();
        origin.set_path("/");
        origin.set_query(None);
        origin.set_fragment(None);
        let state = Arc::new(Relayed {
            origin,
            http,
            max_body,
            timeout,
            throttle,
            attempts: retry.retries.saturating_add(1),
            incidents: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(relay).with_state(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The URL the pact library is pointed at instead of `target`: the
    /// relay's origin with `target`'s path.
    pub(crate) fn url_for(&self, target: &Url) -> Url {
        let mut url = target.clone();
        // An http URL on 127.0.0.1 always takes these.
        let _ = url.set_scheme("http");
        let _ = url.set_ip_host(self.addr.ip());
        let _ = url.set_port(Some(self.addr.port()));
        url
    }

    /// Puts the relay's reasons into `report`, whose outcome `i` is the
    /// interaction in `slots[i]`: each interaction that could not be
    /// checked because of the relay gets the reason in place of the pact
    /// library's words. Reasons of untagged requests, or of interactions
    /// that are not this report's, are left for another report (or, from
    /// [`Relay::unclaimed`], become general errors). Gives a warning for
    /// each redirect passed on, naming its target.
    pub(crate) fn explain(&self, report: &mut Report, slots: &[Slot]) -> Vec<String> {
        let mut incidents = lock(&self.state.incidents);
        let mut warnings = Vec::new();
        let mut kept = Vec::new();
        for incident in std::mem::take(&mut *incidents) {
            match incident {
                Incident::Failed {
                    slot: Some(slot),
                    request,
                    reason,
                } if slots.contains(&slot) => {
                    let at = slots.iter().position(|s| *s == slot).expect("contained");
                    let text = format!(
                        "the deployment's answer to {request} was not passed on: {reason}"
                    );
                    match report.outcomes.get_mut(at) {
                        Some(outcome)
                            if matches!(&outcome.status, Status::Error(t) if is_transport_error(t)) =>
                        {
                            outcome.status = Status::Error(text);
                        }
                        _ => report.general_errors.push(text),
                    }
                }
                Incident::Redirect {
                    request,
                    status,
                    target,
                } => warnings.push(format!(
                    "the deployment answered {request} with {status}, a redirect to {target}: not followed (no request goes to another origin); the contract judges the redirect itself"
                )),
                other => kept.push(other),
            }
        }
        *incidents = kept;
        warnings
    }

    /// Puts the reasons no [`Relay::explain`] claimed (requests without a
    /// slot) into `report` as general errors.
    pub(crate) fn unclaimed(&self, report: &mut Report) {
        for incident in std::mem::take(&mut *lock(&self.state.incidents)) {
            if let Incident::Failed {
                request, reason, ..
            } = incident
            {
                report.general_errors.push(format!(
                    "the deployment's answer to {request} was not passed on: {reason}"
                ));
            }
        }
    }
}

/// Whether the pact library's words for an interaction say its request or
/// answer failed on the wire (rather than, say, a provider state).
fn is_transport_error(text: &str) -> bool {
    let text = text.to_lowercase();
    ["request", "response", "body", "connection", "decoding"]
        .iter()
        .any(|w| text.contains(w))
        && !text.contains("state change")
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An answer that is never complete: hyper cuts the connection when the
/// body fails, so the pact library records an error, not a verdict.
fn cut() -> Response {
    let body = Body::from_stream(futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "not passed on by the relay",
        ))
    }));
    let mut response = Response::new(body);
    *response.status_mut() = axum::http::StatusCode::BAD_GATEWAY;
    response
}

async fn relay(State(relay): State<Arc<Relayed>>, request: Request) -> Response {
    // The whole of it, 429 waits and resends included, is within the
    // request's time-out, which strikes before the pact library's.
    let deadline = Instant::now() + relay.timeout;
    let (mut parts, body) = request.into_parts();
    let slot = parts
        .headers
        .remove(SLOT_HEADER)
        .and_then(|v| v.to_str().ok()?.parse::<Slot>().ok());
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let shown = format!("{} {}", parts.method, parts.uri.path());
    let fail = |reason: String| {
        lock(&relay.incidents).push(Incident::Failed {
            slot,
            request: shown.clone(),
            reason,
        });
        cut()
    };
    // The requests are the pacts' own, small; bound them all the same.
    let Ok(body) = axum::body::to_bytes(body, relay.max_body).await else {
        return fail("the request was larger than the cap".into());
    };
    let Ok(url) = relay.origin.join(path.trim_start_matches('/')) else {
        return fail(format!("`{path}` does not join the deployment's URL"));
    };
    let sent = Sent {
        method: &parts.method,
        url: &url,
        headers: &parts.headers,
        body,
    };
    let answer = match forward(&relay, &sent, deadline).await {
        Ok(answer) => answer,
        Err(reason) => return fail(reason),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    if status.is_redirection() {
        lock(&relay.incidents).push(Incident::Redirect {
            request: shown.clone(),
            status: status.as_u16(),
            target: http::redirect_target(answer.url(), &headers)
                .unwrap_or_else(|| "nowhere (no usable Location header)".into()),
        });
    }
    let read = timeout_at(deadline, http::read_body(answer, relay.max_body)).await;
    let body = match read {
        Ok(Ok(body)) => body,
        Ok(Err(BodyError::TooLarge { limit, announced })) => {
            return fail(format!(
                "it is larger than the cap of {limit} bytes{}; it was not read{}",
                announced
                    .map(|n| format!(" (it announced {n})"))
                    .unwrap_or_default(),
                http::TOO_LARGE_HINT
            ));
        }
        Ok(Err(BodyError::Transport(e))) => return fail(transport_reason(&e, relay.timeout)),
        Err(_) => return fail(timed_out(relay.timeout)),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(name) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// A request as the relay passes it on, which it may send more than once.
struct Sent<'a> {
    method: &'a axum::http::Method,
    url: &'a Url,
    headers: &'a axum::http::HeaderMap,
    body: bytes::Bytes,
}

/// Sends `sent` to the deployment and gives its answer, headers read; a
/// 429 is waited out and the request sent again. Gives the reason when no
/// answer is to be passed on.
///
/// Resending is safe: a 429 means the request was refused before it was
/// processed (nothing changed, no wrong password counted toward lockout),
/// so the same request again is the first one the tenant acts on, and the
/// contract judges that answer. The loop ends: each round sends once, at
/// most `attempts` rounds, and every wait ends by `deadline`.
async fn forward(
    relay: &Relayed,
    sent: &Sent<'_>,
    deadline: Instant,
) -> Result<reqwest::Response, String> {
    let mut number = 0u32;
    loop {
        // A pause another call's 429 started holds this request too.
        if timeout_at(deadline, relay.throttle.wait()).await.is_err() {
            return Err(rate_limited(number, relay.timeout));
        }
        number += 1;
        let mut request = relay
            .http
            .request(sent.method.clone(), sent.url.clone())
            .body(sent.body.clone());
        for (name, value) in sent.headers {
            if !HOP_BY_HOP.contains(name) {
                request = request.header(name, value);
            }
        }
        let answer = match timeout_at(deadline, request.send()).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => return Err(transport_reason(&e, relay.timeout)),
            Err(_) => return Err(timed_out(relay.timeout)),
        };
        if answer.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Ok(answer);
        }
        let asked = retry_after(answer.headers(), SystemTime::now());
        relay.throttle.observe(429, asked);
        let wait = relay.throttle.pause_for(asked);
        if number >= relay.attempts || Instant::now() + wait > deadline {
            return Err(rate_limited(number, relay.timeout));
        }
        tracing::info!(
            attempt = number,
            wait_ms = wait.as_millis() as u64,
            "the deployment answered 429 to a verified request: sent again after the pause"
        );
        drop(answer);
        tokio::time::sleep(wait).await;
    }
}

/// Why a request the deployment kept answering 429 was not checked, after
/// `attempts` sends (0: the run's pause outlasted its time-out before it
/// was sent), and the next step.
fn rate_limited(attempts: u32, timeout: Duration) -> String {
    let ms = timeout.as_millis();
    let what = match attempts {
        0 => format!(
            "the run was paused for the deployment's rate limit (429 Too Many Requests) beyond `--request-timeout` ({ms} ms) before the request could be sent"
        ),
        n => format!(
            "the deployment still answered 429 Too Many Requests (rate limit) after {n} attempt{} within `--request-timeout` ({ms} ms) and `--setup-retries`",
            if n == 1 { "" } else { "s" }
        ),
    };
    format!(
        "{what}; the contract was not checked: run again later, or with `--jobs 1` to send fewer requests at a time"
    )
}

/// Why no complete answer arrived in time, and the next step.
fn timed_out(timeout: Duration) -> String {
    format!(
        "no complete answer within `--request-timeout` ({} ms): raise it (PACT_PROVIDER_REQUEST_TIMEOUT) if the deployment is slow",
        timeout.as_millis()
    )
}

fn transport_reason(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        timed_out(timeout)
    } else {
        uipath_identity_client::client::error_chain(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::report::InteractionOutcome;

    fn report(descriptions: &[&str]) -> Report {
        Report {
            outcomes: descriptions
                .iter()
                .map(|d| InteractionOutcome {
                    consumer: "c".into(),
                    provider: "p".into(),
                    description: (*d).into(),
                    states: Vec::new(),
                    pending: false,
                    duration: Duration::ZERO,
                    status: Status::Error("error sending request".into()),
                })
                .collect(),
            ..Report::default()
        }
    }

    /// Reasons arrive in the order the answers failed, not the pacts'
    /// order: each lands on the interaction of its slot, in its own report.
    #[tokio::test]
    async fn reasons_land_on_the_interaction_of_their_slot_whatever_their_order() {
        uipath_identity_client::tls::install_crypto_provider();
        let target = Url::parse("http://127.0.0.1:9/").unwrap();
        let relay = Relay::start(
            &target,
            reqwest::Client::new(),
            1024,
            Duration::from_secs(1),
            Arc::new(Throttle::new(Duration::ZERO, Duration::ZERO)),
            RetryPolicy::tenant(),
        )
        .await
        .unwrap();
        for (slot, reason) in [(Some(3), "three"), (Some(0), "zero"), (None, "untagged")] {
            lock(&relay.state.incidents).push(Incident::Failed {
                slot,
                request: format!("POST /{reason}"),
                reason: reason.into(),
            });
        }
        let (mut first, mut second) = (report(&["a", "b"]), report(&["c", "d"]));
        assert!(relay.explain(&mut first, &[0, 1]).is_empty());
        assert!(relay.explain(&mut second, &[2, 3]).is_empty());
        relay.unclaimed(&mut first);
        let status = |r: &Report, i: usize| match &r.outcomes[i].status {
            Status::Error(text) => text.clone(),
            other => panic!("{other:?}"),
        };
        assert!(status(&first, 0).ends_with("POST /zero was not passed on: zero"));
        assert_eq!(status(&first, 1), "error sending request");
        assert_eq!(status(&second, 0), "error sending request");
        assert!(status(&second, 1).ends_with("POST /three was not passed on: three"));
        assert_eq!(first.general_errors.len(), 1, "{:?}", first.general_errors);
        assert!(first.general_errors[0].contains("untagged"));
        assert!(second.general_errors.is_empty());
    }

    /// A deployment on 127.0.0.1 that answers 429 with `retry_after` (a
    /// header value made from the time of the request) to its first
    /// `refusals` requests, then 200; gives its URL and the bodies it got.
    async fn limited(
        refusals: usize,
        retry_after: fn() -> String,
    ) -> (Url, Arc<Mutex<Vec<bytes::Bytes>>>) {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        let app = Router::new().fallback(move |body: bytes::Bytes| {
            let seen = seen.clone();
            async move {
                let mut seen = lock(&seen);
                seen.push(body);
                if seen.len() <= refusals {
                    let mut answer = Response::new(Body::from("slow down"));
                    *answer.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
                    answer.headers_mut().insert(
                        header::RETRY_AFTER,
                        retry_after().parse().expect("a header value"),
                    );
                    answer
                } else {
                    Response::new(Body::from("done"))
                }
            }
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, bodies)
    }

    /// A 429 whose `Retry-After` is an HTTP date is waited out and the same
    /// request, body included, sent again; the answer after it is passed on.
    #[tokio::test]
    async fn a_429_with_a_date_is_waited_out_and_the_same_request_sent_again() {
        uipath_identity_client::tls::install_crypto_provider();
        let (target, bodies) = limited(1, || {
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2))
        })
        .await;
        let throttle = Arc::new(Throttle::new(Duration::ZERO, Duration::from_secs(5)));
        let relay = Relay::start(
            &target,
            reqwest::Client::new(),
            1024,
            Duration::from_secs(10),
            throttle,
            RetryPolicy::tenant(),
        )
        .await
        .unwrap();
        let started = Instant::now();
        let answer = reqwest::Client::new()
            .post(relay.url_for(&target.join("x/changepassword").unwrap()))
            .body("the same")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.text().await.unwrap(), "done");
        // The date has whole seconds: between 1 and 2 s from the request.
        assert!(started.elapsed() >= Duration::from_secs(1));
        assert_eq!(*lock(&bodies), ["the same", "the same"]);
        assert!(lock(&relay.state.incidents).is_empty());
    }

    /// A deployment that keeps answering 429: the relay stops when the
    /// next wait would end past the request's time-out, passes nothing on,
    /// and tells why, with the attempts made.
    #[tokio::test]
    async fn a_429_that_outlasts_the_time_out_is_not_passed_on() {
        uipath_identity_client::tls::install_crypto_provider();
        let (target, bodies) = limited(usize::MAX, || "1".into()).await;
        let throttle = Arc::new(Throttle::new(Duration::ZERO, Duration::from_secs(5)));
        let relay = Relay::start(
            &target,
            reqwest::Client::new(),
            1024,
            Duration::from_millis(1500),
            throttle,
            RetryPolicy::tenant(),
        )
        .await
        .unwrap();
        let sent = reqwest::Client::new()
            .post(relay.url_for(&target))
            .send()
            .await;
        let cut = match sent {
            Err(_) => true,
            Ok(answer) => answer.bytes().await.is_err(),
        };
        assert!(cut, "a 429 was passed on as the answer");
        assert_eq!(lock(&bodies).len(), 2);
        let incidents = lock(&relay.state.incidents).clone();
        assert!(
            matches!(&incidents[..], [Incident::Failed { reason, .. }]
                if reason.contains("429 Too Many Requests (rate limit) after 2 attempts")
                    && reason.contains("--jobs 1")),
            "{incidents:?}"
        );
    }
}

//! [`BrokerClient`]: HTTP to a Pact Broker (or PactFlow), hand-written over
//! reqwest. It owns the base URL (a context path such as `/broker/` is
//! kept), the credentials, the HAL index, and the retry policy every call
//! follows: 5xx, 408, 429 and dropped connections are retried with
//! exponential back-off, honouring `Retry-After`, through the one retry
//! loop (`crate::retry`, whose docs say why these statuses).
//!
//! # Why not pact_verifier's broker types
//!
//! `pact_verifier::pact_broker` makes public a HAL client (`HALClient`),
//! `Link`, `PactsForVerificationRequest`, `ConsumerVersionSelector`,
//! `PactVerificationProperties` and `publish_verification_results`. None
//! fits without changing what is sent or read, so the broker module keeps
//! its own:
//! - `HALClient` reads every answer whole (no cap), follows redirects to
//!   other origins by default (a posted body goes along), and retries by
//!   its own rules; this client uses `crate::http` and `crate::retry`
//!   and resolves every link on the broker's origin.
//! - Its `Link` names a link by its relation, not by the link's own `name`
//!   (which `pb:record-deployment` uses for environments), and fills a
//!   template with `urlencoding`, where `super::hal::expand` encodes all
//!   but RFC 3986's unreserved characters.
//! - `PactsForVerificationRequest` holds `ConsumerVersionSelector`s: the
//!   selectors given with `--consumer-version-selectors` would pass through
//!   that struct, which drops any key it does not know (a newer broker's,
//!   or a misspelt one the broker would refuse and name), so they are sent
//!   as given, in a JSON body built by
//!   [`super::verification::request_body`].
//! - `PactVerificationProperties` has `pending` and `notices` but no `wip`,
//!   and refuses a notice with a value that is not a string; the pacts'
//!   properties are read leniently from the JSON.
//! - `publish_verification_results` builds its body privately (no
//!   `testResults`, `implementation: Pact-Rust`, nothing scrubbed), and only
//!   logs a failure; [`super::verification::results_body`] sends each
//!   interaction's result, scrubbed, and a failure is an error of the run.

use std::time::{Duration, SystemTime};
use uipath_identity_client::client::error_chain;

use reqwest::header::{ACCEPT, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::OnceCell;
use uipath_identity_client::{BearerToken, SecretString};
use url::Url;

use super::hal::{self, Link};
use crate::retry::{Attempt, Try, retry_after};

/// How the broker knows who is calling.
#[derive(Clone, Debug)]
pub enum BrokerAuth {
    /// A bearer token (PactFlow, or a broker configured for tokens):
    /// `PACT_BROKER_TOKEN`.
    Token(BearerToken),
    /// Basic auth: `PACT_BROKER_USERNAME` and `PACT_BROKER_PASSWORD`.
    Basic {
        /// The user name (not secret).
        username: String,
        /// The password.
        password: SecretString,
    },
}

impl BrokerAuth {
    /// The secret this carries, for the run's redactor.
    pub fn secret(&self) -> &SecretString {
        match self {
            BrokerAuth::Token(token) => token.secret(),
            BrokerAuth::Basic { password, .. } => password,
        }
    }

    /// Teaches `redactor` the secret this carries, and for basic auth the
    /// `username:password` pair whose base64 the `Authorization` header
    /// holds (a broker echoing the header must not print a credential).
    pub fn register(&self, redactor: &crate::redact::Redactor) {
        match self {
            BrokerAuth::Token(token) => redactor.add(token.secret()),
            BrokerAuth::Basic { username, password } => redactor.add_basic(username, password),
        }
    }
}

/// How often and how patiently a call is retried: the one policy type
/// ([`crate::retry::RetryPolicy`]); a broker's is [`RetryPolicy::broker`].
pub use crate::retry::RetryPolicy;

/// Where the broker is and how to talk to it.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// The broker's base URL, with its context path if any.
    pub url: Url,
    /// Credentials, if the broker wants them.
    pub auth: Option<BrokerAuth>,
    /// Retries of failed calls.
    pub retry: RetryPolicy,
    /// Time-out of each request.
    pub timeout: Duration,
    /// The largest answer body read, in bytes.
    pub max_body: usize,
}

impl BrokerConfig {
    /// A configuration for `url` with no credentials and default retries.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            auth: None,
            retry: RetryPolicy::broker(),
            timeout: Duration::from_secs(30),
            max_body: crate::http::DEFAULT_MAX_BODY,
        }
    }
}

/// Why a broker call failed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A broker URL that cannot be used.
    #[error("`{url}` cannot be used as the Pact Broker's URL: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why not.
        reason: String,
    },
    /// No answer at all, after every retry.
    #[error(
        "could not reach the Pact Broker: {method} {url} failed after {attempts} attempt(s): {reason}. Check `--broker-url` (PACT_BROKER_BASE_URL) and that the broker is up"
    )]
    Unreachable {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
    /// An answer that is not a success, after every retry.
    #[error("the Pact Broker answered {status} to {method} {url}: {explanation}{hint}")]
    Status {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The status.
        status: StatusCode,
        /// What the broker said, in its own words.
        explanation: String,
        /// What to do, starting with `. `, or empty.
        hint: String,
    },
    /// An answer whose body is larger than the cap, left unread.
    #[error(
        "the Pact Broker's answer to {method} {url} is larger than the cap of {limit} bytes{announced}; it was not read{}",
        crate::http::TOO_LARGE_HINT
    )]
    TooLarge {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// The cap.
        limit: usize,
        /// What the broker announced, as words (may be empty).
        announced: String,
    },
    /// A success whose body is not the JSON expected.
    #[error("the Pact Broker's answer to {method} {url} is not what a Pact Broker sends: {reason}")]
    Unexpected {
        /// The method.
        method: Method,
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A relation the broker does not offer.
    #[error("the Pact Broker's {resource} has no `{rel}` relation (it offers: {offered}). {hint}")]
    MissingRelation {
        /// The relation.
        rel: String,
        /// Which resource was searched.
        resource: String,
        /// The relations it has.
        offered: String,
        /// What to do.
        hint: String,
    },
}

impl BrokerError {
    /// The HTTP status the broker answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            BrokerError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error for a missing relation of `resource`.
    pub fn missing_relation(resource_name: &str, resource: &Value, rel: &str, hint: &str) -> Self {
        let offered = hal::relations(resource);
        BrokerError::MissingRelation {
            rel: rel.to_owned(),
            resource: resource_name.to_owned(),
            offered: if offered.is_empty() {
                "none".into()
            } else {
                offered.join(", ")
            },
            hint: hint.to_owned(),
        }
    }
}

/// A client of one Pact Broker.
#[derive(Debug)]
pub struct BrokerClient {
    http: reqwest::Client,
    base: Url,
    auth: Option<BrokerAuth>,
    retry: RetryPolicy,
    max_body: usize,
    index: OnceCell<Value>,
}

impl BrokerClient {
    /// A client of the broker `config` describes.
    pub fn new(config: &BrokerConfig) -> Result<Self, BrokerError> {
        let shown = {
            let mut url = config.url.clone();
            if !url.username().is_empty() || url.password().is_some() {
                let _ = url.set_username("***");
                let _ = url.set_password(None);
            }
            url.to_string()
        };
        let bad = |reason: &str| BrokerError::BadUrl {
            url: shown.clone(),
            reason: reason.to_owned(),
        };
        let mut base = config.url.clone();
        if base.scheme() != "http" && base.scheme() != "https" {
            return Err(bad("it is not an http(s) URL"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(bad(
                "it carries credentials, which would end up in logs: set PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD (or PACT_BROKER_TOKEN) instead",
            ));
        }
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            // Keep the context path: `https://host/broker` means `/broker/`.
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        // A broker may move a path within its origin; a redirect to another
        // origin would take the credentials (or the pact) along: refused.
        let http = crate::http::client(crate::http::ClientSettings {
            timeout: config.timeout,
            insecure: false,
            redirects: crate::http::Redirects::SameOrigin,
        })
        .map_err(|e| bad(&e.to_string()))?;
        Ok(Self {
            http,
            base,
            auth: config.auth.clone(),
            retry: config.retry,
            max_body: config.max_body,
            index: OnceCell::new(),
        })
    }

    /// The broker's base URL, ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The URL an `href` from the broker points at.
    ///
    /// Relative hrefs are joined to the base URL. Absolute ones keep their
    /// path and query but are sent to the broker's own origin: brokers
    /// behind a proxy often advertise an internal host, and credentials
    /// must never go anywhere but the broker named by `--broker-url`. A
    /// path that lacks the base URL's context path gets it.
    pub fn resolve(&self, href: &str) -> Result<Url, BrokerError> {
        let unexpected = |reason: String| BrokerError::Unexpected {
            method: Method::GET,
            url: self.base.to_string(),
            reason,
        };
        let url = match Url::parse(href) {
            Ok(absolute) => {
                if absolute.scheme() != "http" && absolute.scheme() != "https" {
                    return Err(unexpected(format!("the link `{href}` is not http(s)")));
                }
                if absolute.origin() != self.base.origin() {
                    tracing::debug!(%href, base = %self.base, "following a link to another origin on the broker's own origin");
                }
                let mut url = self.base.clone();
                url.set_path(absolute.path());
                url.set_query(absolute.query());
                self.with_context_path(url)
            }
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let joined = self
                    .base
                    .join(href)
                    .map_err(|e| unexpected(format!("the link `{href}` is not a URL: {e}")))?;
                if href.starts_with('/') {
                    self.with_context_path(joined)
                } else {
                    joined
                }
            }
            Err(e) => return Err(unexpected(format!("the link `{href}` is not a URL: {e}"))),
        };
        Ok(url)
    }

    fn with_context_path(&self, mut url: Url) -> Url {
        let context = self.base.path().trim_end_matches('/');
        let path = url.path().to_owned();
        if !context.is_empty() && path != context && !path.starts_with(&format!("{context}/")) {
            url.set_path(&format!("{context}{path}"));
        }
        url
    }

    /// The broker's index resource (`GET /`), fetched once.
    pub async fn index(&self) -> Result<&Value, BrokerError> {
        self.index
            .get_or_try_init(|| async {
                let index = self.get(&self.base).await?;
                if index.get("_links").is_none() {
                    return Err(BrokerError::Unexpected {
                        method: Method::GET,
                        url: self.base.to_string(),
                        reason: "the index has no `_links`: is `--broker-url` a Pact Broker?"
                            .into(),
                    });
                }
                Ok(index)
            })
            .await
    }

    /// The URL of the index relation `rel`, its template filled with `vars`.
    pub async fn relation(&self, rel: &str, vars: &[(&str, &str)]) -> Result<Url, BrokerError> {
        let index = self.index().await?;
        let link = hal::link(index, rel).ok_or_else(|| {
            BrokerError::missing_relation(
                "index",
                index,
                rel,
                "The broker may be too old for this command (it needs Pact Broker 2.86 or later, or PactFlow), or `--broker-url` points at something else",
            )
        })?;
        self.resolve(&link.expand(vars))
    }

    /// The URL a link points at, its template filled with `vars`.
    pub fn follow(&self, link: &Link, vars: &[(&str, &str)]) -> Result<Url, BrokerError> {
        self.resolve(&link.expand(vars))
    }

    /// `GET url`, as JSON.
    pub async fn get(&self, url: &Url) -> Result<Value, BrokerError> {
        self.call(Method::GET, url, None).await
    }

    /// `POST url` with a JSON body, as JSON.
    pub async fn post(&self, url: &Url, body: &Value) -> Result<Value, BrokerError> {
        self.call(Method::POST, url, Some(body)).await
    }

    /// `PUT url` with a JSON body, as JSON.
    pub async fn put(&self, url: &Url, body: &Value) -> Result<Value, BrokerError> {
        self.call(Method::PUT, url, Some(body)).await
    }

    async fn call(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<Value, BrokerError> {
        let attempt = |this: Try| {
            let method = method.clone();
            async move { self.attempt(method, url, body, this).await }
        };
        self.retry
            .run(attempt, |r| {
                tell_retry(r.reason, r.wait, r.next_attempt, r.attempts)
            })
            .await
    }

    /// One attempt of [`Self::call`]: an answer to retry is dropped unread,
    /// unless it is the last attempt (its body then explains the failure).
    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        this: Try,
    ) -> Attempt<Result<Value, BrokerError>> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(ACCEPT, "application/hal+json, application/json")
            .header(USER_AGENT, crate::http::USER_AGENT);
        request = match &self.auth {
            Some(BrokerAuth::Token(token)) => request.bearer_auth(token.expose()),
            Some(BrokerAuth::Basic { username, password }) => {
                request.basic_auth(username, Some(password.expose()))
            }
            None => request,
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        tracing::debug!(%method, %url, attempt = this.number, "broker call");
        let received = match request.send().await {
            Ok(response) => {
                let status = response.status();
                if retryable(status) && !this.last {
                    return Attempt::Again {
                        after: retry_after(response.headers(), SystemTime::now()),
                        reason: format!("the Pact Broker answered {status} to {method} {url}"),
                        result: Err(BrokerError::Status {
                            method,
                            url: url.to_string(),
                            status,
                            explanation: "(not read: retried)".into(),
                            hint: String::new(),
                        }),
                    };
                }
                // A body cut short is a failed call like a dropped
                // connection, not an empty answer; one past the cap is
                // not read at all.
                match crate::http::read_body(response, self.max_body).await {
                    Ok(body) => Ok((status, String::from_utf8_lossy(&body).into_owned())),
                    Err(crate::http::BodyError::TooLarge { limit, announced }) => {
                        return Attempt::Done(Err(BrokerError::TooLarge {
                            method,
                            url: url.to_string(),
                            limit,
                            announced: announced
                                .map(|n| format!(" (it announced {n})"))
                                .unwrap_or_default(),
                        }));
                    }
                    Err(crate::http::BodyError::Transport(e)) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        match received {
            Ok((status, text)) => {
                Attempt::Done(self.answer(method, url, status, &text, this.number))
            }
            Err(e) => {
                let reason = error_chain(&e);
                let again = transient(&e).then(|| format!("{method} {url} failed ({reason})"));
                let result = Err(BrokerError::Unreachable {
                    method,
                    url: url.to_string(),
                    attempts: this.number,
                    reason,
                });
                match again {
                    Some(reason) => Attempt::Again {
                        result,
                        after: None,
                        reason,
                    },
                    None => Attempt::Done(result),
                }
            }
        }
    }

    fn answer(
        &self,
        method: Method,
        url: &Url,
        status: StatusCode,
        text: &str,
        attempts: u32,
    ) -> Result<Value, BrokerError> {
        if status.is_success() {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(text).map_err(|e| BrokerError::Unexpected {
                method,
                url: url.to_string(),
                reason: format!("invalid JSON ({e}): {}", truncate(text, 200)),
            });
        }
        let hint = match status {
            StatusCode::UNAUTHORIZED => format!(". {}", self.unauthorized_hint()),
            StatusCode::FORBIDDEN => format!(". {}", self.forbidden_hint()),
            s if retryable(s) => format!(
                ". The broker kept failing through {attempts} attempt(s); try again later, or raise `--retries` (PACT_BROKER_HTTP_RETRIES)"
            ),
            _ => String::new(),
        };
        Err(BrokerError::Status {
            method,
            url: url.to_string(),
            status,
            explanation: explain(text),
            hint,
        })
    }

    fn unauthorized_hint(&self) -> &'static str {
        match &self.auth {
            None => {
                "The broker wants credentials: set PACT_BROKER_TOKEN (PactFlow, or a broker with bearer tokens) or PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD (basic auth)"
            }
            Some(BrokerAuth::Token(_)) => {
                "The broker refused the token in PACT_BROKER_TOKEN (`--broker-token`): check that it is current and meant for this broker"
            }
            Some(BrokerAuth::Basic { .. }) => {
                "The broker refused the user name and password in PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD (`--broker-username`, `--broker-password`): check them"
            }
        }
    }

    fn forbidden_hint(&self) -> &'static str {
        match &self.auth {
            None => {
                "The broker does not allow anonymous calls to do this: set PACT_BROKER_TOKEN, or PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD"
            }
            Some(BrokerAuth::Token(_)) => {
                "The token in PACT_BROKER_TOKEN is valid but not allowed to do this: publishing and recording deployments need a read/write (CI) token"
            }
            Some(BrokerAuth::Basic { .. }) => {
                "The user in PACT_BROKER_USERNAME is not allowed to do this: publishing and recording deployments need the read/write user"
            }
        }
    }
}

/// Tells on stderr, whatever the log level, that a call is retried: which
/// attempt comes next and after how long. A CI job that waits through the
/// back-off (a minute and a half with the default retries) must say why.
/// The text holds the method, the URL (which carries no credentials: see
/// [`BrokerClient::new`]) and the status or the connection error.
fn tell_retry(what: &str, wait: Duration, next_attempt: u32, attempts: u32) {
    eprintln!(
        "warning: {what}; retrying in {} ms (attempt {next_attempt} of {attempts}; `--retries` sets how many)",
        wait.as_millis()
    );
}

/// Whether an answer with this status is worth another try:
/// `crate::retry::broker_retryable` (every 5xx, 408, 429).
pub(crate) fn retryable(status: StatusCode) -> bool {
    crate::retry::broker_retryable(status.as_u16())
}

fn transient(e: &reqwest::Error) -> bool {
    // Refused and dropped connections, time-outs, bodies cut short: all can
    // pass. A request that could not even be built cannot.
    !e.is_builder() && !e.is_redirect()
}

/// What a broker's error body says, in one line: the messages of
/// `{"errors": {field: [..]}}`, `{"errors": [..]}`, `{"error": ..}`,
/// problem details (`title`, `detail`), or the text itself.
pub(crate) fn explain(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(no explanation in the answer)".into();
    }
    let Ok(json) = serde_json::from_str::<Value>(text) else {
        return truncate(text, 500);
    };
    let mut parts = Vec::new();
    for key in ["title", "detail", "message"] {
        if let Some(s) = json.get(key).and_then(Value::as_str) {
            parts.push(s.to_owned());
        }
    }
    match json.get("errors") {
        Some(Value::Object(fields)) => {
            for (field, messages) in fields {
                let messages = strings(messages);
                if !messages.is_empty() {
                    parts.push(format!("{field}: {}", messages.join("; ")));
                }
            }
        }
        Some(other) => parts.extend(strings(other)),
        None => {}
    }
    match json.get("error") {
        Some(Value::String(s)) => parts.push(s.clone()),
        Some(Value::Object(e)) => {
            if let Some(m) = e.get("message").and_then(Value::as_str) {
                parts.push(m.to_owned());
            }
        }
        _ => {}
    }
    if parts.is_empty() {
        truncate(&json.to_string(), 500)
    } else {
        parts.join(" - ")
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(map) => map
            .get("message")
            .map(strings)
            .unwrap_or_else(|| map.values().flat_map(strings).collect()),
        _ => Vec::new(),
    }
}

fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if end < text.len() {
        format!("{}…", &text[..end])
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> BrokerClient {
        BrokerClient::new(&BrokerConfig::new(Url::parse(url).unwrap())).unwrap()
    }

    #[test]
    fn keeps_the_context_path_of_the_base_url() {
        let c = client("https://host.example/broker");
        assert_eq!(c.base_url().as_str(), "https://host.example/broker/");
        assert_eq!(
            c.resolve("contracts/publish").unwrap().as_str(),
            "https://host.example/broker/contracts/publish"
        );
        assert_eq!(
            c.resolve("/contracts/publish").unwrap().as_str(),
            "https://host.example/broker/contracts/publish"
        );
        assert_eq!(
            c.resolve("https://host.example/broker/pacts/x?a=1")
                .unwrap()
                .as_str(),
            "https://host.example/broker/pacts/x?a=1"
        );
    }

    #[test]
    fn sends_links_to_other_hosts_to_the_broker_itself() {
        let c = client("https://broker.example/");
        assert_eq!(
            c.resolve("http://internal:9292/pacts/provider/p/for-verification")
                .unwrap()
                .as_str(),
            "https://broker.example/pacts/provider/p/for-verification"
        );
    }

    #[test]
    fn refuses_credentials_in_the_url() {
        let e = BrokerClient::new(&BrokerConfig::new(
            Url::parse("https://user:pw@broker.example/").unwrap(),
        ))
        .unwrap_err();
        let message = e.to_string();
        assert!(message.contains("PACT_BROKER_USERNAME"), "{message}");
        assert!(!message.contains("pw@"), "{message}");
    }

    #[tokio::test]
    async fn retries_a_dropped_connection() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let server = tokio::spawn(async move {
            // The first connection is dropped without an answer.
            let (first, _) = listener.accept().await.unwrap();
            drop(first);
            let (mut second, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = second.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
            }
            second
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}")
                .await
                .unwrap();
        });
        let mut config = BrokerConfig::new(url.clone());
        config.retry.base_delay = Duration::from_millis(5);
        let answer = BrokerClient::new(&config).unwrap().get(&url).await.unwrap();
        assert_eq!(answer, serde_json::json!({"ok": true}));
        server.await.unwrap();
    }

    #[test]
    fn explains_the_error_shapes_brokers_send() {
        assert_eq!(
            explain(r#"{"errors": {"content": ["Cannot change the content"]}}"#),
            "content: Cannot change the content"
        );
        assert_eq!(explain(r#"{"errors": ["a", "b"]}"#), "a - b");
        assert_eq!(
            explain(r#"{"title": "Conflict", "detail": "no"}"#),
            "Conflict - no"
        );
        assert_eq!(explain(r#"{"error": {"message": "boom"}}"#), "boom");
        assert_eq!(
            explain("<html>Bad Gateway</html>"),
            "<html>Bad Gateway</html>"
        );
        assert_eq!(explain(""), "(no explanation in the answer)");
    }
}

//! An in-process Pact Broker double: the subset of the broker's documented
//! HAL API that `orchestrator-pact` uses, over real sockets on 127.0.0.1,
//! with an in-memory state a test can read (pacticipants, versions with
//! branches and tags, pacts stored by content, verification results,
//! environments, deployments) and faults it can inject (503s, 429 with
//! `Retry-After`, 401, any status on any path).
//!
//! What it follows, from the Pact Broker's API documentation:
//! - the index (`GET /`) with templated relations and absolute hrefs that
//!   carry the context path (`/broker/…` when mounted there);
//! - `POST /contracts/publish` (base64 contents; 409 when a version's pact
//!   content changes; `notices` in the answer);
//! - pacts for verification: selectors `mainBranch` (the branch `main`),
//!   `branch`, `matchingBranch`, `deployedOrReleased`, `deployed`,
//!   `released`, `environment`, `consumer`, `tag`/`latest`;
//!   `includePendingStatus` (a pact is pending until a version of the
//!   provider's branch verified it successfully), `includeWipPactsSince`
//!   (the latest pact of each consumer branch that is pending and not
//!   otherwise selected), `notices` with `when`;
//! - each pact's `pb:publish-verification-results` link;
//! - `pb:pacticipant-branch-version` (PUT), `pb:pacticipant-version` with
//!   `pb:record-deployment` links named for environments, `pb:environments`;
//! - `/matrix?q[][pacticipant]=&q[][version]=&latestby=cvp&environment=|latest=true`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How the double is set up.
#[derive(Clone, Debug, Default)]
pub struct DoubleConfig {
    /// A context path such as `/broker`, or empty.
    pub context: String,
    /// A bearer token every request must carry, if any.
    pub token: Option<String>,
}

/// A request as the double received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub body: String,
    pub at: std::time::Instant,
}

/// A scripted answer for the next requests that match.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Only requests with this method, if set.
    pub method: Option<Method>,
    /// Only requests whose path contains this, if set.
    pub path_contains: Option<String>,
    /// The status to answer with.
    pub status: u16,
    /// A `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The body.
    pub body: Value,
    /// How many requests it applies to.
    pub times: usize,
    /// Send half the body, then break the connection.
    pub cut_short: bool,
}

impl Fault {
    /// `status` for the next `times` requests, whatever they are.
    pub fn status(status: u16, times: usize) -> Self {
        Self {
            method: None,
            path_contains: None,
            status,
            retry_after: None,
            body: json!({ "error": format!("injected {status}") }),
            times,
            cut_short: false,
        }
    }

    /// Only for requests whose path contains `fragment`.
    pub fn on(mut self, method: Method, fragment: &str) -> Self {
        self.method = Some(method);
        self.path_contains = Some(fragment.to_owned());
        self
    }

    /// With a `Retry-After` header.
    pub fn retry_after(mut self, value: &str) -> Self {
        self.retry_after = Some(value.to_owned());
        self
    }

    /// With this body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = body;
        self
    }

    /// With its body cut short: half of it is sent, then the connection
    /// breaks.
    pub fn cut_short(mut self) -> Self {
        self.cut_short = true;
        self
    }
}

#[derive(Clone, Debug)]
struct Version {
    number: String,
    branch: Option<String>,
    tags: Vec<String>,
    build_url: Option<String>,
    created: SystemTime,
    seq: u64,
}

#[derive(Clone, Debug)]
struct Published {
    consumer: String,
    provider: String,
    consumer_version: String,
    content: usize,
}

/// A verification result the double received.
#[derive(Clone, Debug)]
pub struct Verification {
    pub consumer: String,
    pub provider: String,
    pub provider_version: String,
    pub content: usize,
    pub success: bool,
    pub body: Value,
    pub id: usize,
}

#[derive(Clone, Debug)]
struct Environment {
    uuid: String,
    name: String,
    production: bool,
}

/// A deployment the double recorded.
#[derive(Clone, Debug)]
pub struct Deployment {
    pub pacticipant: String,
    pub version: String,
    pub environment: String,
    pub application_instance: Option<String>,
    pub currently_deployed: bool,
}

#[derive(Debug, Default)]
struct Broker {
    config: DoubleConfig,
    versions: BTreeMap<String, Vec<Version>>,
    contents: Vec<Value>,
    pacts: Vec<Published>,
    verifications: Vec<Verification>,
    environments: Vec<Environment>,
    deployments: Vec<Deployment>,
    faults: VecDeque<Fault>,
    received: Vec<Received>,
    /// Woken at each request received, for tests that wait on one.
    arrived: Arc<tokio::sync::Notify>,
    seq: u64,
}

/// The pacts a verification selected: content id -> consumer, consumer
/// version, the reasons they were selected.
type Selected = BTreeMap<usize, (String, String, Vec<String>)>;

/// One pact of a pacts-for-verification answer, and what its notices
/// depend on.
#[derive(Clone, Copy)]
struct ToVerify<'a> {
    provider: &'a str,
    provider_branch: Option<&'a str>,
    pending_status: bool,
    id: usize,
    consumer: &'a str,
    version: &'a str,
    /// Why it was selected; `None` for a work-in-progress pact.
    reasons: Option<&'a [String]>,
}

/// A matrix row: consumer, its version, provider, its version, and the
/// latest verification result between them.
type Row<'a> = (String, String, String, String, Option<&'a Verification>);

type Shared = Arc<Mutex<Broker>>;

/// A running double; stops when dropped.
pub struct BrokerDouble {
    base: String,
    state: Shared,
    _stop: oneshot::Sender<()>,
}

impl BrokerDouble {
    /// A double at the root of 127.0.0.1:0 with no auth.
    pub async fn start() -> Self {
        Self::start_with(DoubleConfig::default()).await
    }

    /// A double as `config` says.
    pub async fn start_with(config: DoubleConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let context = config.context.trim_end_matches('/').to_owned();
        let state: Shared = Arc::new(Mutex::new(Broker {
            config: DoubleConfig {
                context: context.clone(),
                ..config
            },
            ..Broker::default()
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            base: format!("http://{addr}{context}/"),
            state,
            _stop: stop,
        }
    }

    /// The base URL to pass as `--broker-url`, ending in `/`.
    pub fn url(&self) -> String {
        self.base.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Broker> {
        self.state.lock().unwrap()
    }

    /// Creates an environment.
    pub fn create_environment(&self, name: &str, production: bool) {
        self.lock().environments.push(Environment {
            uuid: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            production,
        });
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Waits until the requests received so far satisfy `done` (for
    /// ordering two processes on an event rather than a sleep); panics
    /// after 60 s.
    pub async fn wait_for(&self, done: impl Fn(&[Received]) -> bool) {
        let arrived = self.lock().arrived.clone();
        let waiting = async {
            loop {
                let next = arrived.notified();
                tokio::pin!(next);
                // Registered before looking, so no request slips between.
                next.as_mut().enable();
                if done(&self.lock().received) {
                    return;
                }
                next.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), waiting)
            .await
            .expect("the awaited request never came");
    }

    /// Every verification result received so far.
    pub fn verifications(&self) -> Vec<Verification> {
        self.lock().verifications.clone()
    }

    /// Every deployment recorded so far.
    pub fn deployments(&self) -> Vec<Deployment> {
        self.lock().deployments.clone()
    }

    /// The branch and tags of a version, if the double knows it.
    pub fn version(
        &self,
        pacticipant: &str,
        number: &str,
    ) -> Option<(Option<String>, Vec<String>, Option<String>)> {
        self.lock()
            .versions
            .get(pacticipant)?
            .iter()
            .find(|v| v.number == number)
            .map(|v| (v.branch.clone(), v.tags.clone(), v.build_url.clone()))
    }

    /// How many pacts (consumer versions × providers) were published.
    pub fn published_pacts(&self) -> usize {
        self.lock().pacts.len()
    }

    /// The URL of the pact a consumer version published for a provider, as
    /// the broker's webhook passes it (`${pactbroker.pactUrl}`).
    pub fn pact_url(&self, consumer: &str, version: &str, provider: &str) -> Option<String> {
        let broker = self.lock();
        let pact = broker.pacts.iter().find(|p| {
            p.consumer == consumer && p.consumer_version == version && p.provider == provider
        })?;
        Some(format!(
            "{}pacts/provider/{}/consumer/{}/pact-version/{}",
            self.base,
            encode(provider),
            encode(consumer),
            pact.content
        ))
    }
}

/// The pacts of a publication by `name`, each with its provider; a 400
/// for the first that is not a JSON pact of `name` in base64.
fn decode_contracts(name: &str, contracts: &[Value]) -> Result<Vec<(String, Value)>, Refused> {
    let mut decoded = Vec::new();
    for contract in contracts {
        let field = |k: &str| contract.get(k).and_then(Value::as_str).unwrap_or_default();
        if field("specification") != "pact" || field("contentType") != "application/json" {
            return Err(Refused::new(
                "contracts",
                "only pacts in application/json are supported",
            ));
        }
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(field("content")) else {
            return Err(Refused::new("contracts", "content is not base64"));
        };
        let Ok(content) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(Refused::new("contracts", "content is not JSON"));
        };
        if field("consumerName") != name
            || content.pointer("/consumer/name").and_then(Value::as_str) != Some(name)
        {
            return Err(Refused::new(
                "contracts",
                "the consumer name must match the pacticipant name and the pact's consumer",
            ));
        }
        decoded.push((field("providerName").to_owned(), content));
    }
    Ok(decoded)
}

/// A request the broker refuses with 400, naming the field at fault.
struct Refused {
    field: &'static str,
    message: String,
}

impl Refused {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    fn answer(&self) -> Response {
        errors(StatusCode::BAD_REQUEST, self.field, &self.message)
    }
}

fn answer(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/hal+json;charset=utf-8"),
    );
    response
}

fn errors(status: StatusCode, field: &str, message: &str) -> Response {
    answer(status, json!({ "errors": { field: [message] } }))
}

async fn handle(State(state): State<Shared>, request: Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let received = Received::read(request).await;
    let mut broker = state.lock().unwrap();
    broker.received.push(received.clone());
    broker.arrived.notify_waiters();
    if let Some(response) = broker.scripted_fault(&received) {
        return response;
    }
    if let Some(token) = &broker.config.token
        && received.authorization.as_deref() != Some(&format!("Bearer {token}"))
    {
        let mut response = answer(StatusCode::UNAUTHORIZED, json!({ "error": "Unauthorized" }));
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"Pact Broker\""),
        );
        return response;
    }
    let context = broker.config.context.clone();
    let Some(rest) = received.path.strip_prefix(&context) else {
        return answer(
            StatusCode::NOT_FOUND,
            json!({ "error": "not under the context path" }),
        );
    };
    let base = format!("http://{host}{context}");
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    broker.route(&base, &received, &segments)
}

impl Received {
    /// The request as the double keeps it (its body read whole).
    async fn read(request: Request) -> Self {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or_default().to_owned();
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let body = to_bytes(request.into_body(), 16 * 1024 * 1024)
            .await
            .unwrap_or_default();
        Self {
            method,
            path,
            query,
            authorization,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: std::time::Instant::now(),
        }
    }
}

impl Broker {
    /// The answer of the first queued fault that matches `request`, if any
    /// (it counts the request against the fault).
    fn scripted_fault(&mut self, request: &Received) -> Option<Response> {
        let i = self.faults.iter().position(|f| {
            f.times > 0
                && f.method.as_ref().is_none_or(|m| *m == request.method)
                && f.path_contains
                    .as_ref()
                    .is_none_or(|p| request.path.contains(p.as_str()))
        })?;
        let fault = &mut self.faults[i];
        fault.times -= 1;
        let mut response = answer(
            StatusCode::from_u16(fault.status).unwrap(),
            fault.body.clone(),
        );
        if fault.cut_short {
            let text = fault.body.to_string();
            let half = bytes::Bytes::from(text[..text.len() / 2].to_owned());
            // The status, headers and half the body go out first; then the
            // stream fails and the server breaks the connection.
            let chunks = futures_util::stream::unfold(0, move |step| {
                let half = half.clone();
                async move {
                    match step {
                        0 => Some((Ok(half), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            Some((Err(std::io::Error::other("cut short")), 2))
                        }
                        _ => None,
                    }
                }
            });
            *response.body_mut() = axum::body::Body::from_stream(chunks);
            response.headers_mut().remove(header::CONTENT_LENGTH);
        }
        if let Some(after) = &fault.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_str(after).unwrap());
        }
        if fault.times == 0 {
            self.faults.remove(i);
        }
        Some(response)
    }

    /// The answer to `request`, whose path below the context is `segments`.
    fn route(&mut self, base: &str, request: &Received, segments: &[&str]) -> Response {
        let json_body = || serde_json::from_str::<Value>(&request.body);
        match (request.method.as_str(), segments) {
            ("GET", []) => index(base),
            ("POST", ["contracts", "publish"]) => match json_body() {
                Ok(b) => self.publish(base, &b),
                Err(e) => errors(StatusCode::BAD_REQUEST, "body", &e.to_string()),
            },
            ("POST", ["pacts", "provider", provider, "for-verification"]) => match json_body() {
                Ok(b) => self.for_verification(base, provider, &b),
                Err(e) => errors(StatusCode::BAD_REQUEST, "body", &e.to_string()),
            },
            (
                "GET",
                [
                    "pacts",
                    "provider",
                    provider,
                    "consumer",
                    consumer,
                    "pact-version",
                    id,
                ],
            ) => self.pact(base, provider, consumer, id),
            (
                "POST",
                [
                    "pacts",
                    "provider",
                    provider,
                    "consumer",
                    consumer,
                    "pact-version",
                    id,
                    "verification-results",
                ],
            ) => match json_body() {
                Ok(b) => self.verify(base, provider, consumer, id, b),
                Err(e) => errors(StatusCode::BAD_REQUEST, "body", &e.to_string()),
            },
            (
                "PUT",
                [
                    "pacticipants",
                    pacticipant,
                    "branches",
                    branch,
                    "versions",
                    version,
                ],
            ) => {
                // 201 when the branch version is new, 200 when it existed.
                let existed = self
                    .find_version(pacticipant, version)
                    .is_some_and(|v| v.branch.as_deref() == Some(*branch));
                let v = self.version_mut(pacticipant, version);
                v.branch = Some((*branch).to_owned());
                let status = if existed {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
                answer(status, json!({ "name": branch, "_links": {} }))
            }
            ("GET", ["pacticipants", pacticipant, "versions", version]) => {
                self.pacticipant_version(base, pacticipant, version)
            }
            (
                "POST",
                [
                    "pacticipants",
                    pacticipant,
                    "versions",
                    version,
                    "deployed-versions",
                    "environment",
                    uuid,
                ],
            ) => self.record_deployment(pacticipant, version, uuid, json_body().ok()),
            ("GET", ["environments"]) => self.environments(base),
            ("GET", ["matrix"]) => self.matrix(base, &request.query),
            _ => answer(
                StatusCode::NOT_FOUND,
                json!({ "error": format!("the double does not serve {} {}", request.method, request.path) }),
            ),
        }
    }
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn index(base: &str) -> Response {
    answer(
        StatusCode::OK,
        json!({ "_links": {
            "self": { "href": base, "title": "Index" },
            "pb:publish-contracts": { "href": format!("{base}/contracts/publish"), "title": "Publish contracts" },
            "pb:provider-pacts-for-verification": {
                "href": format!("{base}/pacts/provider/{{provider}}/for-verification"),
                "title": "Pact versions to be verified for the specified provider",
                "templated": true
            },
            "pb:pacticipant-version": {
                "href": format!("{base}/pacticipants/{{pacticipant}}/versions/{{version}}"),
                "title": "Get, create or delete a pacticipant version",
                "templated": true
            },
            "pb:pacticipant-branch-version": {
                "href": format!("{base}/pacticipants/{{pacticipant}}/branches/{{branch}}/versions/{{version}}"),
                "title": "Get or add/create a version for a branch of a pacticipant",
                "templated": true
            },
            "pb:environments": { "href": format!("{base}/environments"), "title": "Environments" },
            "curies": [{ "name": "pb", "href": format!("{base}/doc/{{rel}}?context=index"), "templated": true }]
        }}),
    )
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn parse_since(date: &str) -> Option<SystemTime> {
    let parts: Vec<i64> = date
        .get(..10)?
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [y, m, d] = parts[..] else { return None };
    let days = days_from_civil(y, m, d);
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(days).ok()? * 86_400))
}

impl Broker {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn version_mut(&mut self, pacticipant: &str, number: &str) -> &mut Version {
        let seq = self.next_seq();
        let versions = self.versions.entry(pacticipant.to_owned()).or_default();
        if let Some(i) = versions.iter().position(|v| v.number == number) {
            return &mut versions[i];
        }
        versions.push(Version {
            number: number.to_owned(),
            branch: None,
            tags: Vec::new(),
            build_url: None,
            created: SystemTime::now(),
            seq,
        });
        versions.last_mut().unwrap()
    }

    /// The consumers with a pact for `provider`, sorted, each once.
    fn consumers_of(&self, provider: &str) -> Vec<String> {
        let mut consumers: Vec<String> = self
            .pacts
            .iter()
            .filter(|p| p.provider == provider)
            .map(|p| p.consumer.clone())
            .collect();
        consumers.sort();
        consumers.dedup();
        consumers
    }

    fn find_version(&self, pacticipant: &str, number: &str) -> Option<&Version> {
        self.versions
            .get(pacticipant)?
            .iter()
            .find(|v| v.number == number)
    }

    fn content_id(&mut self, content: Value) -> usize {
        match self.contents.iter().position(|c| *c == content) {
            Some(i) => i,
            None => {
                self.contents.push(content);
                self.contents.len() - 1
            }
        }
    }

    /// A 409 when a version already published another content for one of
    /// these providers: the broker's race-condition rule.
    fn changed_content(
        &self,
        name: &str,
        number: &str,
        decoded: &[(String, Value)],
    ) -> Option<Response> {
        for (provider, content) in decoded {
            if let Some(existing) = self.pacts.iter().find(|p| {
                p.consumer == name && p.provider == *provider && p.consumer_version == number
            }) && self.contents[existing.content] != *content
            {
                return Some(answer(
                    StatusCode::CONFLICT,
                    json!({ "errors": { "content": [format!(
                        "Cannot change the content of the pact for {name} version {number} and provider {provider}, as race conditions will cause unreliable results for can-i-deploy. Each pact must be published with a unique consumer version number."
                    )] } }),
                ));
            }
        }
        None
    }

    fn publish(&mut self, base: &str, body: &Value) -> Response {
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(name), Some(number)) =
            (text("pacticipantName"), text("pacticipantVersionNumber"))
        else {
            return errors(
                StatusCode::BAD_REQUEST,
                "pacticipantVersionNumber",
                "pacticipantName and pacticipantVersionNumber are required",
            );
        };
        let Some(contracts) = body
            .get("contracts")
            .and_then(Value::as_array)
            .filter(|c| !c.is_empty())
        else {
            return errors(
                StatusCode::BAD_REQUEST,
                "contracts",
                "at least one contract is required",
            );
        };
        let decoded = match decode_contracts(&name, contracts) {
            Ok(decoded) => decoded,
            Err(refused) => return refused.answer(),
        };
        if let Some(refused) = self.changed_content(&name, &number, &decoded) {
            return refused;
        }
        let branch = text("branch");
        let build_url = text("buildUrl");
        let tags: Vec<String> = body
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        {
            let version = self.version_mut(&name, &number);
            if branch.is_some() {
                version.branch = branch.clone();
            }
            if build_url.is_some() {
                version.build_url = build_url.clone();
            }
            for tag in &tags {
                if !version.tags.contains(tag) {
                    version.tags.push(tag.clone());
                }
            }
        }
        let mut notices = vec![json!({
            "type": "success",
            "text": format!(
                "Created {name} version {number}{}{}",
                branch.as_deref().map(|b| format!(" with branch {b}")).unwrap_or_default(),
                if tags.is_empty() { String::new() } else { format!(" and tags {}", tags.join(", ")) }
            )
        })];
        let mut contract_links = Vec::new();
        for (provider, content) in decoded {
            let id = self.content_id(content);
            self.pacts.retain(|p| {
                !(p.consumer == name && p.provider == provider && p.consumer_version == number)
            });
            self.pacts.push(Published {
                consumer: name.clone(),
                provider: provider.clone(),
                consumer_version: number.clone(),
                content: id,
            });
            notices.push(json!({
                "type": "info",
                "text": format!("Pact published for {name} version {number} and provider {provider}.")
            }));
            contract_links.push(json!({
                "name": format!("Pact between {name} ({number}) and {provider}"),
                "href": format!("{base}/pacts/provider/{}/consumer/{}/pact-version/{id}", encode(&provider), encode(&name)),
            }));
        }
        answer(
            StatusCode::OK,
            json!({
                "notices": notices,
                "_embedded": { "pacticipant": { "name": name }, "version": { "number": number } },
                "_links": { "pb:contracts": contract_links }
            }),
        )
    }

    fn successful_by_branch(&self, provider: &str, content: usize, branch: Option<&str>) -> bool {
        self.verifications.iter().any(|v| {
            v.provider == provider
                && v.content == content
                && v.success
                && match branch {
                    Some(b) => {
                        self.find_version(provider, &v.provider_version)
                            .and_then(|pv| pv.branch.as_deref())
                            == Some(b)
                    }
                    None => true,
                }
        })
    }

    fn deployed_versions(&self, pacticipant: &str, environment: Option<&str>) -> Vec<String> {
        self.deployments
            .iter()
            .filter(|d| {
                d.pacticipant == pacticipant
                    && d.currently_deployed
                    && environment.is_none_or(|e| d.environment == e)
            })
            .map(|d| d.version.clone())
            .collect()
    }

    fn for_verification(&mut self, base: &str, provider: &str, body: &Value) -> Response {
        if !self.pacts.iter().any(|p| p.provider == provider) {
            return answer(
                StatusCode::NOT_FOUND,
                json!({ "error": format!("No provider with name '{provider}' found") }),
            );
        }
        let provider_branch = body.get("providerVersionBranch").and_then(Value::as_str);
        let pending_status = body
            .get("includePendingStatus")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let wip_since = body.get("includeWipPactsSince").and_then(Value::as_str);
        if wip_since.is_some() && provider_branch.is_none() {
            return errors(
                StatusCode::BAD_REQUEST,
                "providerVersionBranch",
                "providerVersionBranch or providerVersionTags is required when includeWipPactsSince is set",
            );
        }
        let Some(selectors) = body
            .get("consumerVersionSelectors")
            .and_then(Value::as_array)
        else {
            return errors(
                StatusCode::BAD_REQUEST,
                "consumerVersionSelectors",
                "must be a list",
            );
        };
        let mut selected = BTreeMap::new();
        for selector in selectors {
            if let Err(refused) = self.select(provider, provider_branch, selector, &mut selected) {
                return refused.answer();
            }
        }
        let wip = match wip_since.and_then(parse_since) {
            Some(since) => self.work_in_progress(provider, provider_branch, since, &selected),
            None => BTreeMap::new(),
        };
        let all = selected
            .iter()
            .map(|(id, (c, v, reasons))| (*id, c.clone(), v.clone(), Some(reasons.clone())))
            .chain(
                wip.iter()
                    .map(|(id, (c, v))| (*id, c.clone(), v.clone(), None)),
            );
        let list: Vec<Value> = all
            .map(|(id, consumer, version, reasons)| {
                let to_verify = ToVerify {
                    provider,
                    provider_branch,
                    pending_status,
                    id,
                    consumer: &consumer,
                    version: &version,
                    reasons: reasons.as_deref(),
                };
                self.pact_to_verify(base, &to_verify)
            })
            .collect();
        answer(
            StatusCode::OK,
            json!({
                "_embedded": { "pacts": list },
                "_links": { "self": { "href": format!("{base}/pacts/provider/{}/for-verification", encode(provider)), "title": "Pacts to be verified" } }
            }),
        )
    }

    /// Adds to `selected` (content id -> consumer, consumer version,
    /// reasons) the pacts of `provider` that `selector` selects; a 400 for
    /// a selector the broker refuses.
    fn select(
        &self,
        provider: &str,
        provider_branch: Option<&str>,
        selector: &Value,
        selected: &mut Selected,
    ) -> Result<(), Refused> {
        const KNOWN: [&str; 10] = [
            "mainBranch",
            "branch",
            "matchingBranch",
            "deployedOrReleased",
            "deployed",
            "released",
            "environment",
            "consumer",
            "tag",
            "latest",
        ];
        let Some(fields) = selector.as_object() else {
            return Err(Refused::new(
                "consumerVersionSelectors",
                "each selector must be an object",
            ));
        };
        if let Some(unknown) = fields.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(Refused::new(
                "consumerVersionSelectors",
                format!("unknown selector property {unknown}"),
            ));
        }
        let flag = |k: &str| selector.get(k).and_then(Value::as_bool) == Some(true);
        let text = |k: &str| selector.get(k).and_then(Value::as_str);
        if flag("matchingBranch") && provider_branch.is_none() {
            return Err(Refused::new(
                "consumerVersionSelectors",
                "the providerVersionBranch must be specified when the selector matchingBranch is used",
            ));
        }
        let mut consumers = self.consumers_of(provider);
        consumers.retain(|c| text("consumer").is_none_or(|only| only == c));
        for consumer in consumers {
            let (chosen, reason) = self.chosen(provider, provider_branch, selector, &consumer)?;
            for p in chosen {
                let entry = selected.entry(p.content).or_insert_with(|| {
                    (p.consumer.clone(), p.consumer_version.clone(), Vec::new())
                });
                entry.2.push(format!("{reason} ({})", p.consumer_version));
            }
        }
        Ok(())
    }

    /// The pacts of `consumer` for `provider` that `selector` chooses, in
    /// publication order, and the reason the broker gives.
    fn chosen(
        &self,
        provider: &str,
        provider_branch: Option<&str>,
        selector: &Value,
        consumer: &str,
    ) -> Result<(Vec<&Published>, String), Refused> {
        let flag = |k: &str| selector.get(k).and_then(Value::as_bool) == Some(true);
        let text = |k: &str| selector.get(k).and_then(Value::as_str);
        let pacts: Vec<&Published> = {
            let mut p: Vec<&Published> = self
                .pacts
                .iter()
                .filter(|p| p.provider == provider && p.consumer == consumer)
                .collect();
            p.sort_by_key(|p| {
                self.find_version(consumer, &p.consumer_version)
                    .map(|v| v.seq)
            });
            p
        };
        let on_branch = |b: &str| -> Vec<&Published> {
            pacts
                .iter()
                .rfind(|p| {
                    self.find_version(consumer, &p.consumer_version)
                        .and_then(|v| v.branch.as_deref())
                        == Some(b)
                })
                .copied()
                .into_iter()
                .collect()
        };
        Ok(if flag("mainBranch") {
            (
                on_branch("main"),
                "latest version from the main branch 'main'".into(),
            )
        } else if flag("matchingBranch") {
            let b = provider_branch.unwrap_or_default();
            (
                on_branch(b),
                format!("latest version from a branch matching the provider's branch '{b}'"),
            )
        } else if let Some(b) = text("branch") {
            (on_branch(b), format!("latest version from branch '{b}'"))
        } else if flag("deployedOrReleased") || flag("deployed") || flag("released") {
            let env = text("environment");
            let deployed = self.deployed_versions(consumer, env);
            (
                pacts
                    .iter()
                    .filter(|p| deployed.contains(&p.consumer_version))
                    .copied()
                    .collect(),
                match env {
                    Some(e) => format!("version(s) currently deployed to {e}"),
                    None => "currently deployed or released version(s)".into(),
                },
            )
        } else if let Some(tag) = text("tag") {
            let tagged: Vec<&Published> = pacts
                .iter()
                .filter(|p| {
                    self.find_version(consumer, &p.consumer_version)
                        .is_some_and(|v| v.tags.iter().any(|t| t == tag))
                })
                .copied()
                .collect();
            if flag("latest") {
                (
                    tagged.last().copied().into_iter().collect(),
                    format!("latest version tagged '{tag}'"),
                )
            } else {
                (tagged, format!("all versions tagged '{tag}'"))
            }
        } else if flag("latest") {
            (
                pacts.last().copied().into_iter().collect(),
                "latest version".into(),
            )
        } else {
            return Err(Refused::new(
                "consumerVersionSelectors",
                "a selector selects nothing",
            ));
        })
    }

    /// Work in progress: the latest pact of each consumer branch, published
    /// since `since`, pending, and not selected otherwise (content id ->
    /// consumer, consumer version).
    fn work_in_progress(
        &self,
        provider: &str,
        provider_branch: Option<&str>,
        since: SystemTime,
        selected: &Selected,
    ) -> BTreeMap<usize, (String, String)> {
        let mut heads: BTreeMap<(String, String), &Published> = BTreeMap::new();
        for p in self.pacts.iter().filter(|p| p.provider == provider) {
            let Some(v) = self.find_version(&p.consumer, &p.consumer_version) else {
                continue;
            };
            let Some(b) = &v.branch else { continue };
            let key = (p.consumer.clone(), b.clone());
            let newer = heads.get(&key).is_none_or(|h| {
                self.find_version(&h.consumer, &h.consumer_version)
                    .map(|hv| hv.seq)
                    < Some(v.seq)
            });
            if newer && v.created >= since {
                heads.insert(key, p);
            }
        }
        heads
            .values()
            .filter(|p| {
                !selected.contains_key(&p.content)
                    && !self.successful_by_branch(provider, p.content, provider_branch)
            })
            .map(|p| (p.content, (p.consumer.clone(), p.consumer_version.clone())))
            .collect()
    }

    /// One entry of the pacts-for-verification answer, with its notices.
    fn pact_to_verify(&self, base: &str, pact: &ToVerify<'_>) -> Value {
        let ToVerify {
            provider,
            provider_branch,
            pending_status,
            id,
            consumer,
            version,
            reasons,
        } = *pact;
        let href = format!(
            "{base}/pacts/provider/{}/consumer/{}/pact-version/{id}",
            encode(provider),
            encode(consumer)
        );
        let is_wip = reasons.is_none();
        let verified = self.successful_by_branch(provider, id, provider_branch);
        let pending = pending_status && (is_wip || !verified);
        let mut notices = vec![json!({
            "when": "before_verification",
            "text": match reasons {
                Some(r) => format!(
                    "The pact at {href} is being verified because the pact content belongs to the consumer version matching the following criterion: {}",
                    r.join(", ")
                ),
                None => format!(
                    "The pact at {href} is being verified because it is a 'work in progress' pact (ie. it is the pact for the latest version of {consumer} from branch with a pending status). Read more at https://docs.pact.io/go/wip"
                ),
            },
        })];
        let branch_text = provider_branch
            .map(|b| format!(" from branch '{b}'"))
            .unwrap_or_default();
        if pending_status {
            if pending {
                notices.push(json!({
                    "when": "before_verification",
                    "text": format!("This pact is in pending state for this version of {provider} because a successful verification result for a version of {provider}{branch_text} does not yet exist. If this verification fails, it will not cause the overall build to fail. Read more at https://docs.pact.io/go/pending")
                }));
                notices.push(json!({
                    "when": "after_verification:success_true_published_true",
                    "text": format!("This pact is no longer in pending state for {provider}{branch_text}, as a successful verification result has been published.")
                }));
                notices.push(json!({
                    "when": "after_verification:success_false_published_true",
                    "text": format!("This pact is still in pending state for {provider}{branch_text}, as the verification failed. The failure does not fail the build.")
                }));
            } else {
                notices.push(json!({
                    "when": "before_verification",
                    "text": format!("This pact has previously been successfully verified by a version of {provider}{branch_text}. If this verification fails, it will fail the build. Read more at https://docs.pact.io/go/pending")
                }));
            }
        }
        notices.push(json!({
            "when": "after_verification:success_true_published_false",
            "text": "This verification result was not published: pass --publish to record it."
        }));
        let mut properties = json!({ "pending": pending, "notices": notices });
        if is_wip {
            properties["wip"] = json!(true);
        }
        json!({
            "shortDescription": if is_wip { "work in progress".to_owned() } else { format!("pact for {consumer} {version}") },
            "verificationProperties": properties,
            "_links": { "self": {
                "href": href,
                "name": format!("Pact between {consumer} ({version}) and {provider}")
            } }
        })
    }

    fn pact(&self, base: &str, provider: &str, consumer: &str, id: &str) -> Response {
        let Some(content) = id.parse::<usize>().ok().and_then(|i| self.contents.get(i)) else {
            return answer(
                StatusCode::NOT_FOUND,
                json!({ "error": "no such pact version" }),
            );
        };
        let mut content = content.clone();
        if let Some(interactions) = content
            .get_mut("interactions")
            .and_then(Value::as_array_mut)
        {
            for (n, interaction) in interactions.iter_mut().enumerate() {
                interaction["_id"] = json!(format!("{id}-{n}"));
            }
        }
        let here = format!(
            "{base}/pacts/provider/{}/consumer/{}/pact-version/{id}",
            encode(provider),
            encode(consumer)
        );
        content["_links"] = json!({
            "self": { "href": here, "title": "Pact" },
            "pb:publish-verification-results": {
                "title": "Publish verification results",
                "href": format!("{here}/verification-results")
            }
        });
        answer(StatusCode::OK, content)
    }

    fn verify(
        &mut self,
        base: &str,
        provider: &str,
        consumer: &str,
        id: &str,
        body: Value,
    ) -> Response {
        let Some(content) = id
            .parse::<usize>()
            .ok()
            .filter(|i| *i < self.contents.len())
        else {
            return answer(
                StatusCode::NOT_FOUND,
                json!({ "error": "no such pact version" }),
            );
        };
        let (Some(success), Some(version)) = (
            body.get("success").and_then(Value::as_bool),
            body.get("providerApplicationVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
        ) else {
            return errors(
                StatusCode::BAD_REQUEST,
                "providerApplicationVersion",
                "success and providerApplicationVersion are required",
            );
        };
        self.version_mut(provider, &version);
        let id = self.verifications.len() + 1;
        self.verifications.push(Verification {
            consumer: consumer.to_owned(),
            provider: provider.to_owned(),
            provider_version: version.clone(),
            content,
            success,
            body,
            id,
        });
        answer(
            StatusCode::CREATED,
            json!({
                "success": success,
                "providerApplicationVersion": version,
                "_links": { "self": { "href": format!("{base}/verification-results/{id}") } }
            }),
        )
    }

    fn pacticipant_version(&self, base: &str, pacticipant: &str, number: &str) -> Response {
        let Some(version) = self.find_version(pacticipant, number) else {
            return answer(
                StatusCode::NOT_FOUND,
                json!({ "error": format!("No version {number} of {pacticipant}") }),
            );
        };
        let here = format!(
            "{base}/pacticipants/{}/versions/{}",
            encode(pacticipant),
            encode(number)
        );
        let record: Vec<Value> = self
            .environments
            .iter()
            .map(|e| {
                json!({
                    "name": e.name,
                    "title": format!("Record deployment to {}", e.name),
                    "href": format!("{here}/deployed-versions/environment/{}", e.uuid)
                })
            })
            .collect();
        answer(
            StatusCode::OK,
            json!({
                "number": version.number,
                "branch": version.branch,
                "_links": { "self": { "href": here }, "pb:record-deployment": record }
            }),
        )
    }

    fn record_deployment(
        &mut self,
        pacticipant: &str,
        number: &str,
        uuid: &str,
        body: Option<Value>,
    ) -> Response {
        let Some(environment) = self
            .environments
            .iter()
            .find(|e| e.uuid == uuid)
            .map(|e| e.name.clone())
        else {
            return answer(
                StatusCode::NOT_FOUND,
                json!({ "error": "no such environment" }),
            );
        };
        if self.find_version(pacticipant, number).is_none() {
            return answer(StatusCode::NOT_FOUND, json!({ "error": "no such version" }));
        }
        let instance = body
            .as_ref()
            .and_then(|b| b.get("applicationInstance"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        for d in &mut self.deployments {
            if d.pacticipant == pacticipant
                && d.environment == environment
                && d.application_instance == instance
            {
                d.currently_deployed = false;
            }
        }
        self.deployments.push(Deployment {
            pacticipant: pacticipant.to_owned(),
            version: number.to_owned(),
            environment: environment.clone(),
            application_instance: instance.clone(),
            currently_deployed: true,
        });
        answer(
            StatusCode::CREATED,
            json!({
                "currentlyDeployed": true,
                "applicationInstance": instance,
                "_embedded": { "version": { "number": number }, "environment": { "name": environment } }
            }),
        )
    }

    fn environments(&self, base: &str) -> Response {
        let list: Vec<Value> = self
            .environments
            .iter()
            .map(|e| json!({ "uuid": e.uuid, "name": e.name, "displayName": e.name, "production": e.production }))
            .collect();
        answer(
            StatusCode::OK,
            json!({ "_embedded": { "environments": list }, "_links": { "self": { "href": format!("{base}/environments") } } }),
        )
    }

    fn matrix(&self, base: &str, query: &str) -> Response {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let (Some(pacticipant), Some(number)) = (get("q[][pacticipant]"), get("q[][version]"))
        else {
            return errors(
                StatusCode::BAD_REQUEST,
                "q",
                "q[][pacticipant] and q[][version] are required",
            );
        };
        let environment = get("environment");
        let latest = get("latest").as_deref() == Some("true");
        if environment.is_none() && !latest {
            return errors(
                StatusCode::BAD_REQUEST,
                "q",
                "environment or latest=true is required",
            );
        }
        if let Some(env) = &environment
            && !self.environments.iter().any(|e| e.name == *env)
        {
            return errors(
                StatusCode::BAD_REQUEST,
                "environment",
                &format!("Environment with name '{env}' does not exist"),
            );
        }
        if !self.versions.contains_key(&pacticipant) {
            return errors(
                StatusCode::BAD_REQUEST,
                "q",
                &format!("Pacticipant {pacticipant} not found"),
            );
        }
        if self.find_version(&pacticipant, &number).is_none() {
            return answer(
                StatusCode::OK,
                json!({
                    "summary": { "deployable": false, "reason": format!("No version with number {number} found for {pacticipant}"), "success": 0, "failed": 0, "unknown": 0 },
                    "matrix": []
                }),
            );
        }
        let (rows, missing) = self.matrix_rows(&pacticipant, &number, environment.as_deref());
        matrix_answer(base, &rows, missing)
    }

    /// The matrix rows of `pacticipant` at `number` against the versions
    /// in `environment` (or the latest ones), and what is missing there.
    fn matrix_rows(
        &self,
        pacticipant: &str,
        number: &str,
        environment: Option<&str>,
    ) -> (Vec<Row<'_>>, Vec<String>) {
        let others = |other: &str| -> Vec<String> {
            match environment {
                Some(env) => self.deployed_versions(other, Some(env)),
                None => self
                    .versions
                    .get(other)
                    .and_then(|v| v.iter().max_by_key(|v| v.seq))
                    .map(|v| vec![v.number.clone()])
                    .unwrap_or_default(),
            }
        };
        let place = environment
            .map(|e| format!("currently in {e}"))
            .unwrap_or_else(|| "latest".into());
        let mut rows = Vec::new();
        let mut missing = Vec::new();
        let verification_of = |content: usize, provider: &str, provider_version: &str| {
            self.verifications
                .iter()
                .filter(|v| {
                    v.content == content
                        && v.provider == provider
                        && v.provider_version == provider_version
                })
                .max_by_key(|v| v.id)
        };
        // As a consumer: each provider of this version's pacts.
        for p in self
            .pacts
            .iter()
            .filter(|p| p.consumer == pacticipant && p.consumer_version == number)
        {
            let provider_versions = others(&p.provider);
            if provider_versions.is_empty() {
                missing.push(format!("There is no version of {} {place}", p.provider));
            }
            for pv in provider_versions {
                rows.push((
                    p.consumer.clone(),
                    p.consumer_version.clone(),
                    p.provider.clone(),
                    pv.clone(),
                    verification_of(p.content, &p.provider, &pv),
                ));
            }
        }
        // As a provider: each consumer version in the environment (or latest).
        for consumer in self.consumers_of(pacticipant) {
            for cv in others(&consumer) {
                if let Some(p) = self.pacts.iter().find(|p| {
                    p.consumer == consumer && p.consumer_version == cv && p.provider == pacticipant
                }) {
                    rows.push((
                        consumer.clone(),
                        cv.clone(),
                        pacticipant.to_owned(),
                        number.to_owned(),
                        verification_of(p.content, pacticipant, number),
                    ));
                }
            }
        }
        (rows, missing)
    }
}

/// The matrix answer for `rows`: each row with its verification, and the
/// summary that says whether the version is deployable and why.
fn matrix_answer(base: &str, rows: &[Row<'_>], missing: Vec<String>) -> Response {
    let mut problems = Vec::new();
    let mut success = 0;
    let mut failed = 0;
    let mut unknown = 0;
    let matrix: Vec<Value> = rows
        .iter()
        .map(|(c, cv, p, pv, v)| {
            match v.map(|v| v.success) {
                Some(true) => success += 1,
                Some(false) => {
                    failed += 1;
                    problems.push(format!("The verification for the pact between {c} ({cv}) and {p} ({pv}) failed"));
                }
                None => {
                    unknown += 1;
                    problems.push(format!("There is no verified pact between {c} ({cv}) and {p} ({pv})"));
                }
            }
            json!({
                "consumer": { "name": c, "version": { "number": cv } },
                "provider": { "name": p, "version": { "number": pv } },
                "verificationResult": v.map(|v| json!({
                    "success": v.success,
                    "_links": { "self": { "href": format!("{base}/verification-results/{}", v.id) } }
                }))
            })
        })
        .collect();
    let (deployable, reason) = if failed > 0 || !missing.is_empty() {
        (
            json!(false),
            missing
                .into_iter()
                .chain(problems)
                .collect::<Vec<_>>()
                .join("; "),
        )
    } else if unknown > 0 {
        (
            Value::Null,
            format!(
                "Missing one or more required verification results: {}",
                problems.join("; ")
            ),
        )
    } else if rows.is_empty() {
        (json!(true), "There are no missing dependencies".to_owned())
    } else {
        (
            json!(true),
            "All required verification results are published and successful".to_owned(),
        )
    };
    answer(
        StatusCode::OK,
        json!({
            "summary": { "deployable": deployable, "reason": reason, "success": success, "failed": failed, "unknown": unknown },
            "notices": [],
            "matrix": matrix
        }),
    )
}

//! Faults on demand, for testing how a client copes: per route, answer 429
//! with `Retry-After`, 503, a delay, or drop the connection; for the next K
//! requests, for a share of them, or for all. Rules come from
//! [`EmulatorConfig::faults`](crate::EmulatorConfig::faults) at start, and
//! from [`Faults::add`] (or `POST /_admin/faults`) while the tenant serves.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::{Emulator, answers};

/// The operation a fault rule applies to, as [`classify`] tells it from a
/// request's method and path (under any prefix). Written in kebab-case in
/// rules: `create-user`, `change-password`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultRoute {
    /// Every request [`classify`] recognises; not the provider-state and
    /// admin endpoints.
    Any,
    /// `POST …/connect/token`.
    Token,
    /// `POST …/api/User`.
    CreateUser,
    /// `GET …/api/User/{userId}`.
    GetUser,
    /// `GET …/api/User/users/{partitionGlobalId}`.
    ListUsers,
    /// `PUT …/api/User/{userId}`.
    UpdateUser,
    /// `DELETE …/api/User/{userId}`.
    DeleteUser,
    /// `DELETE …/api/User`.
    DeleteUsers,
    /// `POST …/api/User/{userId}/changepassword`.
    ChangePassword,
}

/// What a matching request gets instead of its answer; written `429`,
/// `503`, `delay` and `drop` in rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// 429 Too Many Requests with `Retry-After`.
    #[serde(rename = "429")]
    TooManyRequests,
    /// 503 Service Unavailable, with a `ProblemDetails` body.
    #[serde(rename = "503")]
    Unavailable,
    /// The answer as usual, [`FaultRule::delay_ms`] late.
    Delay,
    /// The connection closed after the headers, with the body announced
    /// but never sent, as a crashed server or a cut connection does.
    Drop,
}

/// One fault rule. Without `next` and `share` it applies to every matching
/// request; `"route=…,kind=…".parse()` reads the command-line form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultRule {
    /// The requests it applies to.
    pub route: FaultRoute,
    /// What they get instead.
    pub kind: FaultKind,
    /// `Retry-After` seconds of a 429 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// How late a [`FaultKind::Delay`] answers, in milliseconds (at most
    /// ten minutes); required for a delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Only the next K matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
    /// Only this share (0 to 1] of matching requests, at random.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
}

impl FaultRule {
    /// Refuses a rule that could never apply or makes no sense (`next=0`, a
    /// share outside (0, 1], a delay without `delay-ms`, a delay over ten
    /// minutes), saying why.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(share) = self.share
            && !(share > 0.0 && share <= 1.0)
        {
            return Err(format!("share {share} is not in (0, 1]"));
        }
        if self.next == Some(0) {
            return Err("next=0 would never apply: use next=1 or more".into());
        }
        if self.kind == FaultKind::Delay && self.delay_ms.is_none() {
            return Err("a delay needs delay-ms=N".into());
        }
        if self.delay_ms.is_some_and(|ms| ms > 600_000) {
            return Err("delay-ms is at most 600000 (ten minutes)".into());
        }
        Ok(())
    }
}

impl std::str::FromStr for FaultRule {
    type Err = String;

    /// `route=ROUTE,kind=429|503|delay|drop[,retry-after=S][,delay-ms=N][,next=K|,share=P]`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut object = serde_json::Map::new();
        for pair in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not KEY=VALUE"))?;
            let key = key.trim();
            let value = value.trim();
            let json = match key {
                "retry-after" | "delay-ms" | "next" => serde_json::Value::from(
                    value
                        .parse::<u64>()
                        .map_err(|_| format!("{key}={value}: not a whole number"))?,
                ),
                "share" => serde_json::Value::from(
                    value
                        .parse::<f64>()
                        .map_err(|_| format!("share={value}: not a number"))?,
                ),
                _ => serde_json::Value::from(value),
            };
            object.insert(key.to_owned(), json);
        }
        let rule: FaultRule = serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| {
            format!("{e}; expected route=any|token|create-user|get-user|list-users|update-user|delete-user|delete-users|change-password,kind=429|503|delay|drop")
        })?;
        rule.validate()?;
        Ok(rule)
    }
}

struct Active {
    rule: FaultRule,
    remaining: Option<u64>,
}

/// The fault rules in force, in the order they were added: a request gets
/// the first rule that matches it.
#[derive(Default)]
pub struct Faults {
    rules: Mutex<Vec<Active>>,
    /// How many rules are in force, read without the lock so that a tenant
    /// with no faults pays nothing for them.
    count: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list()).finish()
    }
}

impl Faults {
    /// Rules in force from the start.
    pub(crate) fn new(rules: &[FaultRule]) -> Self {
        let faults = Self::default();
        for rule in rules {
            faults.add(rule.clone());
        }
        faults
    }

    /// Puts `rule` in force after the others, from the next request on.
    pub fn add(&self, rule: FaultRule) {
        let remaining = rule.next;
        let mut rules = self.rules.lock();
        rules.push(Active { rule, remaining });
        self.count
            .store(rules.len(), std::sync::atomic::Ordering::Release);
    }

    /// Ends every rule: requests are answered as usual again.
    pub fn clear(&self) {
        let mut rules = self.rules.lock();
        rules.clear();
        self.count.store(0, std::sync::atomic::Ordering::Release);
    }

    /// The rules in force, with `next` showing what is left of it.
    pub fn list(&self) -> Vec<FaultRule> {
        self.rules
            .lock()
            .iter()
            .map(|a| FaultRule {
                next: a.remaining,
                ..a.rule.clone()
            })
            .collect()
    }

    /// Whether no rule is in force (one atomic load, no lock).
    pub fn is_empty(&self) -> bool {
        self.count.load(std::sync::atomic::Ordering::Acquire) == 0
    }

    /// The fault to apply to a request on `route`, if any; counts it.
    pub(crate) fn pick(&self, route: FaultRoute) -> Option<FaultRule> {
        if self.is_empty() {
            return None;
        }
        let mut rules = self.rules.lock();
        let index = rules.iter().position(|a| {
            (a.rule.route == FaultRoute::Any || a.rule.route == route)
                && a.rule.share.is_none_or(|p| rand::random::<f64>() < p)
        })?;
        let rule = rules[index].rule.clone();
        if let Some(left) = rules[index].remaining.as_mut() {
            *left -= 1;
            if *left == 0 {
                rules.remove(index);
                self.count
                    .store(rules.len(), std::sync::atomic::Ordering::Release);
            }
        }
        Some(rule)
    }
}

/// The operation a request is for, from its method and path under any
/// prefix; `None` for the provider-state and admin endpoints and unknown
/// paths. Also for test doubles in front of the emulator that misbehave on
/// one operation.
pub fn classify(method: &Method, path: &str) -> Option<FaultRoute> {
    let at = path
        .find("/api/User")
        .map(|i| &path[i + "/api/User".len()..]);
    if path.ends_with("/connect/token") {
        return (method == Method::POST).then_some(FaultRoute::Token);
    }
    let rest = at?;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match (method.clone(), segments.as_slice()) {
        (Method::POST, []) => Some(FaultRoute::CreateUser),
        (Method::DELETE, []) => Some(FaultRoute::DeleteUsers),
        (Method::GET, ["users", _]) => Some(FaultRoute::ListUsers),
        (Method::GET, [_]) => Some(FaultRoute::GetUser),
        (Method::PUT, [_]) => Some(FaultRoute::UpdateUser),
        (Method::DELETE, [_]) => Some(FaultRoute::DeleteUser),
        (Method::POST, [_, "changepassword"]) => Some(FaultRoute::ChangePassword),
        _ => None,
    }
}

/// Middleware: applies the fault rules in force before the handler runs.
pub(crate) async fn apply(
    State(emulator): State<std::sync::Arc<Emulator>>,
    request: Request,
    next: Next,
) -> Response {
    // With no rule in force (the usual case) the request is not even
    // classified: this runs on every request.
    if emulator.faults.is_empty() {
        return next.run(request).await;
    }
    let route = classify(request.method(), request.uri().path());
    let fault = route.and_then(|r| emulator.faults.pick(r));
    match fault.map(|f| (f.kind, f)) {
        None => next.run(request).await,
        Some((FaultKind::Delay, rule)) => {
            tokio::time::sleep(Duration::from_millis(rule.delay_ms.unwrap_or(0))).await;
            next.run(request).await
        }
        Some((FaultKind::TooManyRequests, rule)) => {
            let mut response = answers::problem(
                StatusCode::TOO_MANY_REQUESTS,
                Some("fault rule: too many requests".into()),
            );
            let seconds = rule.retry_after.unwrap_or(1).to_string();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&seconds).expect("digits are a header value"),
            );
            response
        }
        Some((FaultKind::Unavailable, _)) => answers::problem(
            StatusCode::SERVICE_UNAVAILABLE,
            Some("fault rule: service unavailable".into()),
        ),
        Some((FaultKind::Drop, _)) => {
            // A body that fails at once: hyper closes the connection with the
            // answer incomplete, as a crashed or cut-off server would.
            let body = Body::from_stream(futures_util::stream::once(async {
                Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "fault rule: drop",
                ))
            }));
            let mut response = Response::new(body);
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from_static("1024"));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_from_the_command_line() {
        let rule: FaultRule = "route=delete-user,kind=503,next=1".parse().unwrap();
        assert_eq!(rule.route, FaultRoute::DeleteUser);
        assert_eq!(rule.kind, FaultKind::Unavailable);
        assert_eq!(rule.next, Some(1));
        assert!("route=nowhere,kind=503".parse::<FaultRule>().is_err());
        assert!(
            "route=any,kind=delay"
                .parse::<FaultRule>()
                .unwrap_err()
                .contains("delay-ms")
        );
        assert!("route=any,kind=503,share=2".parse::<FaultRule>().is_err());
    }

    #[test]
    fn next_k_rules_run_out() {
        let faults = Faults::new(&["route=create-user,kind=429,next=2".parse().unwrap()]);
        assert!(faults.pick(FaultRoute::GetUser).is_none());
        assert!(faults.pick(FaultRoute::CreateUser).is_some());
        assert!(faults.pick(FaultRoute::CreateUser).is_some());
        assert!(faults.pick(FaultRoute::CreateUser).is_none());
    }

    #[test]
    fn classifies_routes() {
        let p = "/org/tenant/identity_/api/User";
        assert_eq!(classify(&Method::POST, p), Some(FaultRoute::CreateUser));
        assert_eq!(
            classify(&Method::GET, &format!("{p}/users/x")),
            Some(FaultRoute::ListUsers)
        );
        assert_eq!(
            classify(&Method::POST, &format!("{p}/x/changepassword")),
            Some(FaultRoute::ChangePassword)
        );
        assert_eq!(
            classify(&Method::POST, "/identity/connect/token"),
            Some(FaultRoute::Token)
        );
        assert_eq!(classify(&Method::POST, "/_pact/provider-states"), None);
    }
}

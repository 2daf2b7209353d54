//! Where the verifier's bearer token comes from: a static token (or
//! Personal Access Token), or client credentials exchanged at
//! `{identity}/connect/token` and renewed before they expire.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use reqwest::header::ACCEPT;
use serde::Deserialize;
use uipath_identity_client::{BearerToken, ClientError, SecretString};
use url::Url;

use super::admin::{Answer, read};
use super::{RetryPolicy, TenantError};
use crate::redact::Redactor;

/// The credentials a run was given.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// None: only the embedded emulator or a state URL can do without.
    None,
    /// A static bearer token or Personal Access Token.
    Token(BearerToken),
    /// An External Application's client credentials.
    Client {
        /// The App ID.
        id: String,
        /// The App secret.
        secret: SecretString,
        /// The scopes to ask for, space-separated.
        scopes: String,
        /// `{identity}/connect/token`.
        token_url: Url,
    },
}

/// A token issued by `connect/token`.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct IssuedToken {
    /// The access token.
    pub access_token: BearerToken,
    /// Seconds until it expires, as the server wrote it (a number, or
    /// sometimes a string): read it with [`IssuedToken::expires_in_seconds`].
    #[serde(default)]
    pub expires_in: Option<serde_json::Value>,
}

impl IssuedToken {
    /// Reads a token answer: the token, or what is wrong with the answer
    /// (not JSON, no `access_token`, an `access_token` that is no string).
    pub(crate) fn parse(body: &[u8]) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_owned())?;
        match value.get("access_token") {
            None | Some(serde_json::Value::Null) => {
                return Err("the answer has no access_token".into());
            }
            Some(serde_json::Value::String(s)) if !s.is_empty() => {}
            Some(_) => return Err("the answer's access_token is not a non-empty string".into()),
        }
        serde_json::from_value(value).map_err(|e| format!("the answer is not a token: {e}"))
    }

    /// The lifetime `expires_in` gives, in whole seconds: `Ok(None)` when
    /// absent; a whole number, a number with a fraction (rounded down) or
    /// the text of one; saturated at `u64::MAX`. Anything else, zero or
    /// negative is an error naming the value.
    pub(crate) fn expires_in_seconds(&self) -> Result<Option<u64>, String> {
        let value = match &self.expires_in {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let number = match value {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        let shown: String = value.to_string().chars().take(40).collect();
        match number {
            Some(n) if n.is_finite() && n >= 1.0 => {
                // An exact integer is taken as is; `as` saturates the rest.
                Ok(Some(match value.as_u64() {
                    Some(exact) => exact,
                    None => n as u64,
                }))
            }
            Some(_) => Err(format!(
                "`expires_in` is {shown}, not a positive number of seconds"
            )),
            None => Err(format!("`expires_in` is {shown}, not a number of seconds")),
        }
    }
}

/// Asks `token_url` for a token by client credentials; the answer's body
/// is read up to `max_body` bytes. Build `http` without redirects: the form
/// carries the secret.
pub(crate) async fn request_token(
    http: &reqwest::Client,
    token_url: &Url,
    client_id: &str,
    client_secret: &SecretString,
    scopes: &str,
    max_body: usize,
) -> Result<Answer, ClientError> {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", client_secret.expose()),
        ("scope", scopes),
    ];
    let response = http
        .post(token_url.clone())
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await;
    read(token_url, response, max_body).await
}

/// Renew a token when less than this share of its lifetime is left.
const RENEW_WHEN_LEFT: f64 = 0.2;

/// The lifetime of a token whose answer gives none (UiPath's is an hour).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// The longest lifetime believed: a token is renewed at least this often,
/// whatever `expires_in` says (and an absurd one cannot overflow a clock).
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A lifetime of `seconds`, within 1 s and [`MAX_LIFETIME`].
pub(crate) fn clamp_lifetime(seconds: u64) -> Duration {
    Duration::from_secs(seconds.clamp(1, MAX_LIFETIME.as_secs()))
}

/// Gives the current token, renewing client-credentials tokens in time.
#[derive(Debug)]
pub(crate) struct TokenSource {
    credentials: Credentials,
    http: reqwest::Client,
    retry: RetryPolicy,
    redactor: Redactor,
    max_body: usize,
    current: RwLock<Option<(BearerToken, Option<Instant>, Duration)>>,
}

impl TokenSource {
    /// A source for `credentials`; a static token is current at once.
    pub(crate) fn new(
        credentials: Credentials,
        http: reqwest::Client,
        retry: RetryPolicy,
        redactor: Redactor,
    ) -> Self {
        let current = match &credentials {
            Credentials::Token(t) => {
                redactor.add(t.secret());
                Some((t.clone(), None, Duration::ZERO))
            }
            Credentials::Client { secret, .. } => {
                redactor.add(secret);
                None
            }
            Credentials::None => None,
        };
        Self {
            credentials,
            http,
            retry,
            redactor,
            max_body: crate::http::DEFAULT_MAX_BODY,
            current: RwLock::new(current),
        }
    }

    /// The same source reading token answers of at most `max_body` bytes.
    pub(crate) fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// The token to send now, if there is one.
    pub(crate) fn current(&self) -> Option<BearerToken> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(t, _, _)| t.clone())
    }

    fn needs_renewal(&self) -> bool {
        match &*self.current.read().unwrap_or_else(|p| p.into_inner()) {
            None => true,
            Some((_, None, _)) => false,
            Some((_, Some(expires), lifetime)) => {
                let left = expires.saturating_duration_since(Instant::now());
                left.as_secs_f64() < lifetime.as_secs_f64() * RENEW_WHEN_LEFT
            }
        }
    }

    /// Gets a token by client credentials if there is none, or the current
    /// one is close to expiring; nothing for a static token.
    pub(crate) async fn refresh_if_needed(&self) -> Result<(), TenantError> {
        let Credentials::Client {
            id,
            secret,
            scopes,
            token_url,
        } = &self.credentials
        else {
            return Ok(());
        };
        if !self.needs_renewal() {
            return Ok(());
        }
        let answer = super::retry::run(&self.retry, || {
                request_token(
                    &self.http,
                    token_url,
                    id,
                    secret,
                    scopes,
                    self.max_body,
                )
            })
            .await
            .map_err(|e| {
                let reason = e.to_string();
                TenantError::Unreachable {
                    what: "getting a token by client credentials".into(),
                    hint: super::edge_hint(&reason)
                        .unwrap_or(". Check the host, or `--identity-url` if the token endpoint lives elsewhere")
                        .into(),
                    reason: self.redactor.scrub(&reason),
                }
            })?;
        if !answer.is_success() {
            let error = answer
                .json::<serde_json::Value>()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| self.redactor.scrub(&answer.body_text(200)));
            let hint = match error.as_str() {
                "invalid_client" => format!(
                    ". The client id `{id}` or its secret was refused: check `--client-id`/`--client-secret` (UIPATH_CLIENT_ID, UIPATH_CLIENT_SECRET) against the External Application"
                ),
                "invalid_scope" => format!(
                    ". A scope of `{scopes}` is not granted to `{id}`: add it to the External Application's scopes, or change `--scopes`"
                ),
                _ => String::new(),
            };
            return Err(TenantError::Refused {
                what: format!("getting a token for `{id}` from {token_url}"),
                status: answer.status,
                detail: format!(": {error}"),
                hint,
            });
        }
        let refused = |problem: String| {
            TenantError::Refused {
            what: format!("getting a token from {token_url}"),
            status: answer.status,
            detail: format!(": {problem}"),
            hint: ". The answer is not an OAuth 2.0 token (RFC 6749 section 5.1): check `--identity-url`, or the token endpoint in front of it".into(),
        }
        };
        let issued = IssuedToken::parse(&answer.body).map_err(refused)?;
        self.redactor.add(issued.access_token.secret());
        let seconds = issued
            .expires_in_seconds()
            .map_err(refused)?
            .unwrap_or(DEFAULT_LIFETIME.as_secs());
        let lifetime = clamp_lifetime(seconds);
        if lifetime.as_secs() != seconds {
            tracing::warn!(
                expires_in = seconds,
                used_s = lifetime.as_secs(),
                "the token's lifetime is out of bounds; renewing as if it were the bound"
            );
        }
        // Clamped, so this cannot overflow; if a clock could, renew at once.
        let expires = Some(
            Instant::now()
                .checked_add(lifetime)
                .unwrap_or_else(Instant::now),
        );
        *self.current.write().unwrap_or_else(|p| p.into_inner()) =
            Some((issued.access_token, expires, lifetime));
        tracing::info!(client = %id, lifetime_s = lifetime.as_secs(), "got a token by client credentials");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::IssuedToken;

    fn lifetime(body: &str) -> Result<Option<u64>, String> {
        IssuedToken::parse(body.as_bytes())?.expires_in_seconds()
    }

    #[test]
    fn reads_expires_in_in_every_form_servers_write_it() {
        let token = |e: &str| format!(r#"{{"access_token":"t","expires_in":{e}}}"#);
        assert_eq!(lifetime(&token("3600")), Ok(Some(3600)));
        assert_eq!(lifetime(&token("\"3600\"")), Ok(Some(3600)));
        assert_eq!(lifetime(&token("3600.5")), Ok(Some(3600)));
        assert_eq!(lifetime(&token("1e30")), Ok(Some(u64::MAX)));
        assert_eq!(lifetime(&token("18446744073709551615")), Ok(Some(u64::MAX)));
        assert_eq!(lifetime(&token("null")), Ok(None));
        assert_eq!(lifetime(r#"{"access_token":"t"}"#), Ok(None));
        for bad in ["-1", "0", "\"soon\"", "true"] {
            let problem = lifetime(&token(bad)).unwrap_err();
            assert!(problem.contains("`expires_in` is"), "{bad}: {problem}");
        }
    }

    #[test]
    fn names_what_is_wrong_with_a_token_answer() {
        assert_eq!(
            IssuedToken::parse(b"<html>").unwrap_err(),
            "the answer is not JSON"
        );
        assert_eq!(
            IssuedToken::parse(b"{}").unwrap_err(),
            "the answer has no access_token"
        );
        assert!(
            IssuedToken::parse(br#"{"access_token":7}"#)
                .unwrap_err()
                .contains("not a non-empty string")
        );
    }
}

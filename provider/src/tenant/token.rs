//! Where the verifier's bearer token comes from: a static token (or
//! Personal Access Token), or client credentials exchanged at
//! `{identity}/connect/token` and renewed before they expire.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use consumer::{BearerToken, IssuedToken, SecretString};
use url::Url;

use super::{RetryPolicy, TenantError};
use crate::verify::redact::Redactor;

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

/// Renew a token when less than this share of its lifetime is left.
const RENEW_WHEN_LEFT: f64 = 0.2;

/// Gives the current token, renewing client-credentials tokens in time.
#[derive(Debug)]
pub struct TokenSource {
    credentials: Credentials,
    http: reqwest::Client,
    retry: RetryPolicy,
    redactor: Redactor,
    max_body: usize,
    current: RwLock<Option<(BearerToken, Option<Instant>, Duration)>>,
}

impl TokenSource {
    /// A source for `credentials`; a static token is current at once.
    pub fn new(
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
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// The token to send now, if there is one.
    pub fn current(&self) -> Option<BearerToken> {
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
    pub async fn refresh_if_needed(&self) -> Result<(), TenantError> {
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
        let answer = self
            .retry
            .run(|| {
                consumer::admin::request_token(
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
        let issued: IssuedToken = answer.json().ok_or_else(|| TenantError::Refused {
            what: format!("getting a token from {token_url}"),
            status: answer.status,
            detail: ": the answer has no access_token".into(),
            hint: ". Check `--identity-url`".into(),
        })?;
        self.redactor.add(issued.access_token.secret());
        let lifetime = Duration::from_secs(issued.expires_in.unwrap_or(3600).max(1));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some((
            issued.access_token,
            Some(Instant::now() + lifetime),
            lifetime,
        ));
        tracing::info!(client = %id, lifetime_s = lifetime.as_secs(), "got a token by client credentials");
        Ok(())
    }
}

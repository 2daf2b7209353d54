//! Bearer tokens: static ones (Personal Access Tokens) and those issued by
//! `connect/token` to client-credentials applications, with their scopes
//! and expiry.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::Rng;
use rand::distr::Alphanumeric;

use super::clock::Clock;
use super::config::{ClientSpec, EmulatorConfig, all_scopes};

/// What a presented token is worth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    /// Accepted, with these scopes.
    Valid(Vec<String>),
    /// Unknown to this tenant.
    Invalid,
    /// Issued here, but expired.
    Expired,
}

/// A token issued by `connect/token`.
#[derive(Clone, Debug)]
pub(crate) struct Issued {
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// Why `connect/token` refused, as IdentityServer names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenRefusal {
    /// Unknown client or wrong secret.
    InvalidClient,
    /// A scope the client may not have, or an unknown one.
    InvalidScope,
}

impl TokenRefusal {
    /// The OAuth `error` code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            TokenRefusal::InvalidClient => "invalid_client",
            TokenRefusal::InvalidScope => "invalid_scope",
        }
    }
}

struct Grant {
    scopes: Vec<String>,
    expires: Instant,
}

/// Static tokens, client applications, and the tokens issued to them.
pub(crate) struct Tokens {
    open: bool,
    statics: HashMap<String, Vec<String>>,
    clients: Vec<ClientSpec>,
    lifetime: Duration,
    clock: Clock,
    issued: Mutex<HashMap<String, Grant>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("open", &self.open)
            .field("static_tokens", &self.statics.len())
            .field(
                "clients",
                &self.clients.iter().map(|c| &c.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Tokens {
    pub(crate) fn new(config: &EmulatorConfig) -> Self {
        Self {
            open: config.is_open(),
            statics: config
                .tokens
                .iter()
                .map(|t| (t.token.expose().to_owned(), t.scopes.clone()))
                .collect(),
            clients: config.clients.clone(),
            lifetime: config.token_lifetime,
            clock: config.clock.clone(),
            issued: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn check(&self, token: &str) -> TokenCheck {
        if let Some(scopes) = self.statics.get(token) {
            return TokenCheck::Valid(scopes.clone());
        }
        if let Some(grant) = self.issued.lock().get(token) {
            return if grant.expires > self.clock.now() {
                TokenCheck::Valid(grant.scopes.clone())
            } else {
                TokenCheck::Expired
            };
        }
        if self.open {
            TokenCheck::Valid(all_scopes())
        } else {
            TokenCheck::Invalid
        }
    }

    /// Issues a token for client credentials, as `connect/token` does: the
    /// requested scopes (all the client's when none are asked for).
    pub(crate) fn issue(
        &self,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
    ) -> Result<Issued, TokenRefusal> {
        let client = self
            .clients
            .iter()
            .find(|c| c.id == client_id && c.secret.expose() == secret)
            .ok_or(TokenRefusal::InvalidClient)?;
        let requested: Vec<String> = scope
            .map(|s| {
                s.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let granted = if requested.is_empty() {
            client.scopes.clone()
        } else if requested.iter().all(|s| client.scopes.contains(s)) {
            requested
        } else {
            return Err(TokenRefusal::InvalidScope);
        };
        let access_token: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(43)
            .map(char::from)
            .collect();
        let now = self.clock.now();
        let mut issued = self.issued.lock();
        issued.retain(|_, g| g.expires > now);
        issued.insert(
            access_token.clone(),
            Grant {
                scopes: granted.clone(),
                expires: now + self.lifetime,
            },
        );
        Ok(Issued {
            access_token,
            expires_in: self.lifetime.as_secs(),
            scope: granted.join(" "),
        })
    }
}

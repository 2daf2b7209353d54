//! The HTTP client of the Identity API.

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use serde::ser::SerializeStruct;
use url::Url;

use crate::base_url::BaseUrl;
use crate::outcome::ChangePasswordOutcome;
use crate::secret::{BearerToken, Password};
use crate::tls;
use crate::user_id::UserId;
use crate::wire;

/// The command body: `{"oldPassword", "newPassword"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangePassword {
    /// The user's current password.
    pub old_password: Password,
    /// The password to set.
    pub new_password: Password,
}

impl ChangePassword {
    /// A command from the two passwords.
    pub fn new(old_password: impl Into<Password>, new_password: impl Into<Password>) -> Self {
        Self {
            old_password: old_password.into(),
            new_password: new_password.into(),
        }
    }
}

impl serde::Serialize for ChangePassword {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ChangeUserPasswordCommand", 2)?;
        s.serialize_field("oldPassword", self.old_password.expose())?;
        s.serialize_field("newPassword", self.new_password.expose())?;
        s.end()
    }
}

/// A call that got no answer from the API.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The HTTP client could not be built (TLS set-up).
    #[error("could not build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
    /// No answer: connection refused, DNS, TLS, time-out, dropped connection.
    #[error("no answer from {url}: {reason}")]
    Transport {
        /// The URL called (it carries no secret).
        url: String,
        /// What failed, with reqwest's chain.
        reason: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a redirect, which is not followed: the
    /// request may carry a password or a secret, and the answer must come
    /// from the server asked.
    #[error("{url} answered with a redirect to {target}, which is not followed")]
    Redirected {
        /// The URL called.
        url: String,
        /// Where the redirect pointed (`scheme://host:port`), or what the
        /// `Location` header lacked.
        target: String,
    },
    /// The answer's body is larger than the cap, and was not read.
    #[error(
        "the answer from {url} is larger than the cap of {limit} bytes{announced}; it was not read"
    )]
    TooLarge {
        /// The URL called.
        url: String,
        /// The cap, in bytes.
        limit: usize,
        /// What the server announced, as words (may be empty).
        announced: String,
    },
}

/// An error and its causes on one line, each cause once: reqwest's own
/// message hides the reason (refused, certificate, DNS) in its sources.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

impl ClientError {
    pub(crate) fn transport(url: &Url, source: reqwest::Error) -> Self {
        if let Some(refused) = find_source::<wire::CrossOriginRedirect>(&source) {
            return ClientError::Redirected {
                url: url.to_string(),
                target: refused.target.clone(),
            };
        }
        // reqwest says "error decoding response body" when the time-out
        // strikes while the body is read: say what happened.
        let reason = if source.is_timeout() {
            "timed out: no complete answer within the time-out".to_owned()
        } else {
            error_chain(&source)
        };
        ClientError::Transport {
            url: url.to_string(),
            reason,
            source,
        }
    }

    pub(crate) fn body(url: &Url, error: wire::BodyError) -> Self {
        match error {
            wire::BodyError::TooLarge { limit, announced } => ClientError::TooLarge {
                url: url.to_string(),
                limit,
                announced: announced
                    .map(|n| format!(" (it announced {n})"))
                    .unwrap_or_default(),
            },
            wire::BodyError::Transport(e) => ClientError::transport(url, e),
        }
    }
}

/// The first error of type `T` in `e`'s chain of causes.
fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(found) = c.downcast_ref::<T>() {
            return Some(found);
        }
        cause = c.source();
    }
    None
}

/// An answer as read off the wire: its status, headers and body (at most
/// the cap). The typed calls make sense of it; other callers of the same
/// API (a verifier's user administration) bring their own reading.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

/// The answer to a request sent to `url` (its body at most `max_body`
/// bytes), or the error that kept it. A redirect is an error naming its
/// target: the clients of this crate follow none to another origin, and a
/// redirect that reaches here was not followed.
pub async fn read_reply(
    url: &Url,
    response: Result<reqwest::Response, reqwest::Error>,
    max_body: usize,
) -> Result<Reply, ClientError> {
    let response = response.map_err(|e| ClientError::transport(url, e))?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return Err(ClientError::Redirected {
            url: url.to_string(),
            target: wire::redirect_target(url, response.headers())
                .unwrap_or_else(|| "nowhere (no usable Location header)".into()),
        });
    }
    let headers = response.headers().clone();
    let body = wire::read_body(response, max_body)
        .await
        .map_err(|e| ClientError::body(url, e))?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// A client of one tenant's Identity API, with or without a bearer token.
#[derive(Clone)]
pub struct IdentityClient {
    http: reqwest::Client,
    base: BaseUrl,
    token: Option<BearerToken>,
    max_body: usize,
}

impl fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityClient")
            .field("base", &self.base.to_string())
            .field("token", &self.token)
            .finish()
    }
}

impl IdentityClient {
    /// A client of the tenant at `base`, sending `token` as
    /// `Authorization: Bearer …` when there is one.
    pub fn new(base: BaseUrl, token: Option<BearerToken>) -> Result<Self, ClientError> {
        tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("orchestrator-pact/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .redirect(wire::same_origin_redirects())
            .build()
            .map_err(ClientError::Build)?;
        Ok(Self::with_http(http, base, token))
    }

    /// A client over an HTTP client built elsewhere (proxies, TLS settings).
    /// Build it with a redirect policy that never leaves the origin, such
    /// as [`wire::same_origin_redirects`] or none at all.
    pub fn with_http(http: reqwest::Client, base: BaseUrl, token: Option<BearerToken>) -> Self {
        Self {
            http,
            base,
            token,
            max_body: wire::DEFAULT_MAX_BODY,
        }
    }

    /// The same client reading answer bodies of at most `max_body` bytes
    /// (default [`wire::DEFAULT_MAX_BODY`]); a larger answer is
    /// [`ClientError::TooLarge`].
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// The largest answer body read, in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// The tenant this client talks to.
    pub fn base(&self) -> &BaseUrl {
        &self.base
    }

    /// The same client with another token (a renewed one).
    pub fn with_token(&self, token: Option<BearerToken>) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            token,
            max_body: self.max_body,
        }
    }

    /// The token sent, if any.
    pub fn token(&self) -> Option<&BearerToken> {
        self.token.as_ref()
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Changes `user`'s password.
    pub async fn change_password(
        &self,
        user: &UserId,
        command: &ChangePassword,
    ) -> Result<ChangePasswordOutcome, ClientError> {
        let body = serde_json::to_vec(command).expect("two strings serialise");
        self.post_change_password(user, body).await
    }

    /// Sends any JSON body to the change-password call. The typed call never
    /// sends a malformed command; this is how a client pins down what the API
    /// answers to one.
    pub async fn send_change_password_body(
        &self,
        user: &UserId,
        body: &serde_json::Value,
    ) -> Result<ChangePasswordOutcome, ClientError> {
        self.post_change_password(user, body.to_string().into_bytes())
            .await
    }

    /// `request` with `Authorization: Bearer …` when the client has a token.
    pub fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.header(AUTHORIZATION, format!("Bearer {}", token.expose())),
            None => request,
        }
    }

    /// An authorized `POST url` of a JSON `body` that asks for JSON back.
    pub fn post_json(&self, url: Url, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.authorized(
            self.http
                .post(url)
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json")
                .body(body),
        )
    }

    async fn post_change_password(
        &self,
        user: &UserId,
        body: Vec<u8>,
    ) -> Result<ChangePasswordOutcome, ClientError> {
        let url = self.base.change_password(user);
        let request = self.post_json(url.clone(), body);
        let answer = read_reply(&url, request.send().await, self.max_body).await?;
        Ok(ChangePasswordOutcome::from_answer(
            answer.status,
            &answer.body,
        ))
    }
}
